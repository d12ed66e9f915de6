"""Reading reference/current uploads (CSV, Parquet, JSON lines) and checking they can be compared.

Every failure the user can fix becomes :class:`lib.errors.InputError` naming the file, what was
found and what was expected; nothing here lets a parser traceback through.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import IO, Final, Literal

import pandas as pd

from lib.errors import InputError
from lib.sources.csv_table import sniff_separator

FileFormat = Literal["csv", "parquet", "jsonl"]
SUFFIXES: Final[dict[str, FileFormat]] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
#: Fewest rows a side needs before any column can be tested.
MIN_ROWS: Final = 2


def read_table(
    source: str | Path | bytes | IO[bytes],
    *,
    name: str | None = None,
    file_format: FileFormat | None = None,
) -> pd.DataFrame:
    """Read an uploaded table.

    Parameters
    ----------
    source : path, bytes or binary file-like
        A path, raw bytes, or an object with ``read()`` (a Streamlit ``UploadedFile``; its
        ``.name`` is used when ``name`` is not given).
    name : str, optional
        File name for messages and format detection.
    file_format : {"csv", "parquet", "jsonl"}, optional
        Overrides detection by suffix (``.json`` may hold JSON lines or one JSON array).

    Returns
    -------
    pandas.DataFrame
        A CSV whose first line is data rather than a header (numeric in every numeric column, as
        in the header-less CSVs Model Monitor baselines are often suggested from) keeps that row
        and gets the columns ``_c0``, ``_c1`` … (the names ``statistics.json`` then uses);
        ``frame.attrs["notes"]`` says so.

    Raises
    ------
    InputError
        Unknown format, unreadable or empty file.
    """
    if name is None:
        name = str(getattr(source, "name", None) or (source if isinstance(source, (str, Path)) else "upload"))
    label = Path(name).name
    fmt = file_format or SUFFIXES.get(Path(name).suffix.lower())
    if fmt is None:
        raise InputError(
            f"{label}: unknown file type {Path(name).suffix or '(no suffix)'!r}.",
            hint="Upload a .csv, .parquet or .jsonl (JSON lines) file.",
        )
    if isinstance(source, (str, Path)):
        try:
            raw = Path(source).read_bytes()
        except OSError as err:
            raise InputError(f"{label}: cannot open the file ({err.strerror}).") from err
    elif isinstance(source, bytes):
        raw = source
    else:
        raw = source.read()
        if isinstance(raw, str):
            raw = raw.encode()
    if not raw.strip():
        raise InputError(f"{label} is empty.", hint="Expected a header row and at least two data rows.")
    try:
        frame = _parse(raw, fmt, Path(name).suffix.lower())
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as err:
        # pandas' ParserError and EmptyDataError, pyarrow's ArrowInvalid and json errors are all
        # ValueErrors (or OSError for a broken Parquet footer).
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise InputError(
            f"{label}: could not read it as {fmt.upper()} ({first}).",
            hint=f"Expected a {_EXPECTED[fmt]}.",
        ) from err
    if frame.shape[1] == 0:
        raise InputError(f"{label} has no columns.", hint=f"Expected a {_EXPECTED[fmt]}.")
    frame.columns = [str(col) for col in frame.columns]
    return frame


_EXPECTED: Final = {
    "csv": "comma-separated file with a header row",
    "parquet": "Parquet file (as written by pandas.DataFrame.to_parquet)",
    "jsonl": "JSON-lines file: one JSON object per line, same keys on every line",
}


def _parse(raw: bytes, fmt: FileFormat, suffix: str) -> pd.DataFrame:
    if fmt == "csv":
        sep = _delimiter(raw, suffix)
        frame = pd.read_csv(io.BytesIO(raw), sep=sep)
        if _first_row_is_data(raw, sep, frame):
            frame = pd.read_csv(io.BytesIO(raw), sep=sep, header=None)
            frame.columns = [f"_c{i}" for i in range(frame.shape[1])]
            frame.attrs["notes"] = [
                "The first line is data, not a header (it is numeric where the columns are): "
                f"named the columns _c0.._c{frame.shape[1] - 1} as Model Monitor names the columns "
                "of a header-less CSV."
            ]
        return frame
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(raw))
    text = raw.decode("utf-8-sig")
    if text.lstrip().startswith("["):  # one JSON array of records
        records = json.loads(text)
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("expected a list of objects")
        return pd.DataFrame.from_records(records)
    return pd.read_json(io.StringIO(text), lines=True)


_NUMBER: Final = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


def _first_row_is_data(raw: bytes, sep: str, frame: pd.DataFrame) -> bool:
    """Whether the line read as the header looks like the rows under it: it has a number in every
    numeric column (and there is at least one). A header names at least one numeric column with a
    word; a header-less CSV (Model Monitor baselines are often suggested from one) does not."""
    numeric = [
        i
        for i, dtype in enumerate(frame.dtypes)
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    ]
    if frame.empty or not numeric:
        return False
    lines = raw[:65536].decode("utf-8-sig", errors="replace").splitlines()
    first = next((line for line in lines if line.strip()), "")
    cells = next(csv.reader([first], delimiter=sep), [])
    if len(cells) != frame.shape[1]:
        return False
    return all(_NUMBER.fullmatch(cells[i]) for i in numeric)


def _delimiter(raw: bytes, suffix: str) -> str:
    """The separator of a table file (the C parser needs it given): tab for ``.tsv``, else sniffed."""
    if suffix == ".tsv":
        return "\t"
    return sniff_separator(raw[:65536].split(b"\n", 1)[0].decode("utf-8", errors="replace"))


def check_pair(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    reference_name: str = "reference",
    current_name: str = "current",
) -> list[str]:
    """Check two frames can be compared and return their shared columns (reference order).

    Raises
    ------
    InputError
        No shared columns, fewer than :data:`MIN_ROWS` rows, or a side with every value missing.
    """
    for frame, label in ((reference, reference_name), (current, current_name)):
        if len(frame) < MIN_ROWS:
            raise InputError(
                f"{label} has {len(frame)} row(s); drift needs at least {MIN_ROWS} rows per side.",
                hint="Roughly 30+ rows per side are needed to detect anything but very large shifts.",
            )
    shared = [col for col in reference.columns if col in set(current.columns)]
    if not shared:
        raise InputError(
            f"{reference_name} and {current_name} share no columns.",
            hint=(
                f"{reference_name} has {_preview(reference.columns)}; "
                f"{current_name} has {_preview(current.columns)}. Column names must match exactly."
            ),
        )
    for frame, label in ((reference, reference_name), (current, current_name)):
        if frame[shared].isna().all().all():
            raise InputError(
                f"{label}: every value in the shared columns is missing.",
                hint="Check the file's delimiter and header row.",
            )
    return shared


def check_table(frame: pd.DataFrame, *, name: str = "upload") -> pd.DataFrame:
    """Check one uploaded table on its own (before it replaces the data in use) and return it.

    Raises
    ------
    InputError
        Fewer than :data:`MIN_ROWS` rows, or every value missing.
    """
    if len(frame) < MIN_ROWS:
        raise InputError(
            f"{name} has {len(frame)} data row(s); drift needs at least {MIN_ROWS} rows per side.",
            hint="Roughly 30+ rows per side are needed to detect anything but very large shifts.",
        )
    if frame.isna().all().all():
        raise InputError(
            f"{name}: every value is missing.", hint="Check the file's delimiter and header row."
        )
    return frame


def _preview(columns: pd.Index) -> str:
    names = [str(c) for c in columns[:6]]
    more = f" and {len(columns) - 6} more" if len(columns) > 6 else ""
    return ", ".join(repr(n) for n in names) + more
