"""Numbers in words for people: durations ("3 h 12 min", "1:05:09") and counts ("1 run", "3 runs").

Pure Python (no pandas), at the bottom of the house plan so every page and report can use it.
"""

from __future__ import annotations

import math
from typing import Final

#: Words whose plural is not "<word>s".
_IRREGULAR: Final = {"was": "were", "is": "are", "this": "these", "entry": "entries", "series": "series"}


def plural(n: float, word: str, plural_form: str | None = None) -> str:
    """``n`` and ``word``, the word in the plural unless ``n`` is exactly 1.

    Examples
    --------
    >>> plural(1, "run"), plural(3, "run"), plural(0, "flag"), plural(1200, "point")
    ('1 run', '3 runs', '0 flags', '1,200 points')
    >>> plural(2, "entry"), plural(2, "series")
    ('2 entries', '2 series')
    """
    return f"{n:,} {word if n == 1 else (plural_form or _IRREGULAR.get(word, word + 's'))}"


def _split(seconds: float) -> tuple[int, int, int, int]:
    total = round(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    return days, hours, minutes, secs


def clock_duration(seconds: float | None) -> str:
    """``h:mm:ss`` (hours may exceed 24), rounded to the second; ``""`` for a missing value.

    Examples
    --------
    >>> clock_duration(3909), clock_duration(59.6), clock_duration(93_784)
    ('1:05:09', '0:01:00', '26:03:04')
    """
    if seconds is None or not math.isfinite(seconds):
        return ""
    days, hours, minutes, secs = _split(seconds)
    sign = "-" if seconds < 0 and round(abs(seconds)) else ""
    return f"{sign}{days * 24 + hours}:{minutes:02d}:{secs:02d}"


def duration(seconds: float | None) -> str:
    """A duration in words with its two largest units: ``"3 h 12 min"``, ``"2 d 5 h"``, ``"45 s"``.

    Rounded to the nearest second first; ``""`` for a missing value.

    Examples
    --------
    >>> duration(11_520), duration(45), duration(90), duration(190_800), duration(7200)
    ('3 h 12 min', '45 s', '1 min 30 s', '2 d 5 h', '2 h')
    """
    if seconds is None or not math.isfinite(seconds):
        return ""
    days, hours, minutes, secs = _split(seconds)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    first = next((i for i, (v, _) in enumerate(parts) if v), len(parts) - 1)
    shown = [f"{v} {unit}" for v, unit in parts[first : first + 2] if v or unit == parts[first][1]]
    sign = "-" if seconds < 0 and round(abs(seconds)) else ""
    return sign + " ".join(shown)
