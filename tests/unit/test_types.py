"""mypy over what `make lint` checks, so a type regression fails the suite even when only pytest runs.

The arguments are read from the Makefile's ``lint`` recipe: the two can never check different code.
mypy runs from the repository root with its usual cache (``.mypy_cache``): a few seconds when warm,
well under a minute cold.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.paths import ROOT


def makefile_mypy_args() -> list[str]:
    """What follows ``-m mypy`` in the Makefile's ``lint`` recipe (exactly one such line)."""
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert recipe, "the Makefile has no lint target"
    calls = [
        line.split("-m mypy", 1)[1].split() for line in recipe.group(1).splitlines() if "-m mypy" in line
    ]
    assert len(calls) == 1, f"expected one mypy call in `make lint`, found {len(calls)}"
    return calls[0]


def test_make_lint_type_checks_the_library_the_pages_and_the_app() -> None:
    assert makefile_mypy_args() == ["lib", "pages", "app.py"]


def test_mypy_is_clean() -> None:
    args = makefile_mypy_args()
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"`mypy {' '.join(args)}` failed:\n{report}"
    assert "Success: no issues found" in done.stdout, report
