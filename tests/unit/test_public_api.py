"""lib/__init__.py is the public API: every documented entry point, imported lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import lib
from tests.support.paths import ROOT

HEAVY = ("pandas", "numpy", "scipy", "boto3", "botocore", "streamlit", "altair", "pyarrow")


def test_import_lib_loads_nothing_heavy() -> None:
    code = f"import sys, lib; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_all_lists_exactly_the_exports() -> None:
    assert sorted(lib.__all__) == sorted(lib._EXPORTS)
    assert len(set(lib.__all__)) == len(lib.__all__)


@pytest.mark.parametrize("name", lib.__all__)
def test_every_public_name_is_the_defining_modules_object(name: str) -> None:
    module = importlib.import_module(lib._EXPORTS[name])
    assert getattr(lib, name) is getattr(module, lib._RENAMED.get(name, name))


def test_the_readme_entry_points_are_public() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("read_export", "read_capture", "compare", "runs_table", "flag_runs", "change_points"):
        assert name in lib.__all__
        assert f"{name}(" in readme, f"README's library section should show {name}()"
    assert "load_training_jobs" in lib.__all__


def test_unknown_names_fail_like_any_module_and_submodules_still_import() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = lib.nope  # type: ignore[attr-defined]
    assert set(lib.__all__) <= set(dir(lib))
    from lib import charts, drift

    assert hasattr(charts, "accuracy_over_time")
    assert hasattr(drift, "compare")
