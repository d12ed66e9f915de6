"""lib.format: durations and counts as people write them."""

from __future__ import annotations

import math

import pytest

from lib.format import clock_duration, duration, plural


@pytest.mark.parametrize(
    ("n", "word", "expected"),
    [(1, "run", "1 run"), (0, "run", "0 runs"), (2, "run", "2 runs"), (1200, "point", "1,200 points"),
     (1, "entry", "1 entry"), (3, "entry", "3 entries"), (2, "was", "2 were"), (2, "series", "2 series")],
)  # fmt: skip
def test_plural(n: int, word: str, expected: str) -> None:
    assert plural(n, word) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0:00:00"), (59.6, "0:01:00"), (3909, "1:05:09"), (93_784, "26:03:04"), (-61, "-0:01:01")],
)
def test_clock_duration(seconds: float, expected: str) -> None:
    assert clock_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0 s"), (45, "45 s"), (90, "1 min 30 s"), (3600, "1 h"), (11_520, "3 h 12 min"),
     (11_545, "3 h 12 min"), (190_800, "2 d 5 h"), (86_400, "1 d")],
)  # fmt: skip
def test_duration_in_words(seconds: float, expected: str) -> None:
    assert duration(seconds) == expected


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
def test_missing_durations_are_blank(missing: float | None) -> None:
    assert duration(missing) == clock_duration(missing) == ""
