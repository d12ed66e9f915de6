"""CSV basics every CSV reader shares: the header line, the one separator sniffer, column names, reading."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Final

import pandas as pd

from lib.sources.base import (
    plural,
)

#: Refuse tables wider than this before pandas tries to build them.
MAX_COLUMNS: Final = 20_000


_SEPARATORS: Final = (",", ";", "\t", "|")


def first_line(text: str) -> str:
    """The first non-blank line (the header of a CSV)."""
    for line in io.StringIO(text[:2_000_000]):
        if line.strip():
            return line.rstrip("\r\n")
    return ""


def sniff_separator(header: str) -> str:
    """The most frequent of ``, ; <tab> |`` in the header line (``,`` when none occurs)."""
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_header(header: str, sep: str) -> list[str] | None:
    """Column names of the header line, or ``None`` if it is not one CSV record."""
    if header.count(sep) + 1 > MAX_COLUMNS:
        return None
    try:
        rows = list(csv.reader([header], delimiter=sep))
    except csv.Error:
        return None
    return [c.strip() for c in rows[0]] if rows else None


def unique_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Make duplicate column names unique (``value``, ``value.1``) and list the duplicated ones."""
    seen: dict[str, int] = {}
    out, dupes = [], []
    for name in names:
        base = name or "unnamed"
        if base in seen:
            seen[base] += 1
            out.append(f"{base}.{seen[base]}")
            if base not in dupes:
                dupes.append(base)
        else:
            seen[base] = 0
            out.append(base)
    return out, dupes


def read_table(
    raw: bytes, sep: str, names: list[str], notes: list[str], *, as_text: bool = False
) -> pd.DataFrame:
    """Read the whole CSV; fast pyarrow path first, forgiving Python engine if that fails."""
    if not as_text:
        try:
            return pd.read_csv(io.BytesIO(raw), sep=sep, engine="pyarrow", names=names, header=0).reset_index(
                drop=True
            )
        except (pd.errors.ParserError, ValueError, pd.errors.EmptyDataError):
            pass
    bad: list[int] = []

    def skip(line: list[str]) -> None:
        bad.append(len(line))
        return None

    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=sep,
            engine="python",
            names=names,
            header=0,
            index_col=False,
            dtype="str",
            on_bad_lines=skip,
            skip_blank_lines=True,
            encoding="utf-8",
            encoding_errors="replace",
        )
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame({name: pd.Series([], dtype="str") for name in names})
    if bad:
        notes.append(f"{plural(len(bad), 'line')} with the wrong number of fields were skipped.")
    return frame.reset_index(drop=True)
