"""Packaging: `pip install .` gives the library `lib` alone, with every data file, and the locks pin it all.

The wheel is built (offline, without build isolation, so with the setuptools of the dev lock) from a
copy of the repository's tracked files, as a fresh clone would have them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import Parser

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tests.support.paths import ROOT

LOCKS = ("requirements.txt", "requirements-dev.txt")
INPUTS = {"requirements.in": "requirements.txt", "requirements-dev.in": "requirements-dev.txt"}
# What `lib` imports at run time (and jinja2, for the report templates).
RUNTIME = (
    "streamlit",
    "altair",
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "boto3",
    "botocore",
    "vl-convert-python",
    "jinja2",
)
NOT_IN_WHEEL = ("app.py", "pages/", "tests/", "benchmarks/", "assets/")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}(?=\s|$)")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tracked(*paths: str) -> list[str]:
    """Tracked files (as in a fresh clone) that exist in the work tree."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return sorted(p for p in out.split("\0") if p and (ROOT / p).is_file())


def _lock(name: str) -> dict[NormalizedName, tuple[Requirement, list[str]]]:
    """A lock's entries by package name: the requirement and its hashes."""
    text = (ROOT / name).read_text(encoding="utf-8").replace("\\\n", " ")
    entries: dict[NormalizedName, tuple[Requirement, list[str]]] = {}
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("--"):  # blank, comment, or a global option
            continue
        assert not line.startswith("-"), f"{name}: {line!r} is not an inline pinned package"
        req = Requirement(line.split(" --", 1)[0])
        key = canonicalize_name(req.name)
        assert key not in entries, f"{name}: {req.name} is listed twice"
        entries[key] = (req, HASH.findall(line))
    return entries


def _pinned(req: Requirement) -> Version:
    (spec,) = req.specifier
    return Version(spec.version)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    src = tmp_path_factory.mktemp("clone")
    for rel in _tracked():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    dist = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation"]
    cmd += ["--no-index", "--disable-pip-version-check", "-q", "-w", str(dist)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    (whl,) = dist.glob("driftwatch-*.whl")
    with zipfile.ZipFile(whl) as zf:
        yield zf


def _requires_dist(wheel: zipfile.ZipFile) -> list[str]:
    (name,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return Parser().parsestr(wheel.read(name).decode()).get_all("Requires-Dist") or []


def test_wheel_holds_the_library_alone(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    (dist_info,) = {n.split("/", 1)[0] + "/" for n in names if ".dist-info/" in n}
    outside = [n for n in names if not n.startswith(("lib/", dist_info))]
    assert outside == [], f"files outside lib/ in the wheel: {outside}"
    assert not [n for n in names if n.startswith(NOT_IN_WHEEL) or "__pycache__" in n]
    (top,) = (n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert wheel.read(top).decode().split() == ["lib"]


def test_wheel_has_every_module_and_data_file_of_lib(wheel: zipfile.ZipFile) -> None:
    files = _tracked("lib")
    data = [f for f in files if not f.endswith(".py")]
    assert data, "expected data files under lib/ (the Model Monitor demo artifacts at least)"
    assert "lib/__init__.py" in files
    missing = sorted(set(files) - set(wheel.namelist()))
    assert missing == [], (
        f"not in the wheel: {missing}; add the file's pattern to [tool.setuptools.package-data]"
    )


def test_wheel_requires_the_runtime_packages(wheel: zipfile.ZipFile) -> None:
    parsed = [Requirement(r) for r in _requires_dist(wheel)]
    required = {canonicalize_name(r.name) for r in parsed if r.marker is None}
    extras = {canonicalize_name(r.name) for r in parsed if r.marker is not None}
    assert {canonicalize_name(n) for n in RUNTIME} <= required
    assert extras == {"pyspark"}, "only the optional 'spark' extra is conditional"
    declared = {canonicalize_name(Requirement(r).name) for r in _pyproject()["project"]["dependencies"]}
    assert required == declared


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_pins_every_package_with_hashes(lock: str) -> None:
    entries = _lock(lock)
    assert len(entries) >= len(RUNTIME)
    for key, (req, hashes) in entries.items():
        specs = list(req.specifier)
        assert len(specs) == 1, f"{lock}: {req} is not name==version"
        assert specs[0].operator == "==", f"{lock}: {req} is not name==version"
        assert "*" not in specs[0].version, f"{lock}: {req} is not one version"
        assert hashes, f"{lock}: {key} has no --hash=sha256:"


def test_dev_lock_is_the_runtime_lock_plus_tools() -> None:
    runtime, dev = _lock("requirements.txt"), _lock("requirements-dev.txt")
    differ = {
        key: (str(req), str(dev[key][0]) if key in dev else None)
        for key, (req, _) in runtime.items()
        if key not in dev or _pinned(dev[key][0]) != _pinned(req)
    }
    assert differ == {}, f"runtime vs dev lock: {differ}"


def test_runtime_lock_satisfies_pyproject_dependencies() -> None:
    lock = _lock("requirements.txt")
    for dep in map(Requirement, _pyproject()["project"]["dependencies"]):
        key = canonicalize_name(dep.name)
        assert key in lock, f"{dep.name} is a dependency in pyproject.toml but not in requirements.txt"
        pinned = _pinned(lock[key][0])
        assert dep.specifier.contains(pinned, prereleases=True), f"requirements.txt has {pinned}; {dep}"


@pytest.mark.parametrize(("source", "lock"), INPUTS.items())
def test_lock_is_up_to_date_with_its_input(source: str, lock: str) -> None:
    """Every package named in the .in file is in its lock at a version the .in file allows."""
    entries = _lock(lock)
    for raw in (ROOT / source).read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        key = canonicalize_name(req.name)
        assert key in entries, f"{req.name} is in {source} but not in {lock}: run `make lock`"
        pinned = _pinned(entries[key][0])
        assert req.specifier.contains(pinned, prereleases=True), f"{lock} has {pinned}; {source}: {req}"


def test_dev_lock_setuptools_can_build_the_project() -> None:
    """The wheel above is built without isolation, with the dev lock's setuptools."""
    (backend,) = map(Requirement, _pyproject()["build-system"]["requires"])
    assert canonicalize_name(backend.name) == "setuptools"
    pinned = _pinned(_lock("requirements-dev.txt")["setuptools"][0])
    assert backend.specifier.contains(pinned), f"requirements-dev.txt has setuptools {pinned}; {backend}"
