"""Reading reference/current uploads (CSV, Parquet, JSON lines) and checking they can be compared.

Every failure the user can fix becomes :class:`lib.errors.InputError` naming the file, what was
found and what was expected; nothing here lets a parser traceback through.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import IO, Final, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lib.errors import InputError
from lib.memory import return_freed_memory
from lib.sources.csv_table import sniff_separator
from lib.sources.files import MAX_BYTES, check_cells, csv_cells, gunzip, parse_json, source_bytes

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
#: Parquet tables with fewer columns are converted one block per column (lower peak memory).
_SPLIT_BELOW_COLUMNS: Final = 1000


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
    suffix = Path(name).suffix.lower()
    if suffix == ".gz":
        suffix = Path(Path(name).stem).suffix.lower()
    fmt = file_format or SUFFIXES.get(suffix)
    if fmt is None:
        raise InputError(
            f"{label}: unknown file type {Path(name).suffix or '(no suffix)'!r}.",
            hint="Upload a .csv, .parquet or .jsonl (JSON lines) file.",
        )
    raw, _ = source_bytes(source, label)
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw, label)
    if not raw.strip():
        raise InputError(f"{label} is empty.", hint="Expected a header row and at least two data rows.")
    try:
        frame = _parse(raw, fmt, suffix, label)
    except InputError:
        raise
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError, RecursionError) as err:
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
    del raw  # the file's bytes, before the memory the read freed is handed back
    return_freed_memory()
    return _plain_columns(frame)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns (Parquet files pandas wrote keep them, unused categories included) as
    their plain values, and nested (list, dict) cells as text: the drift tests see only the values."""
    for i, dtype in enumerate(frame.dtypes):
        if not (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)):
            continue  # numbers, text, times: nothing to do (and no per-column cost on wide tables)
        values = frame.iloc[:, i]
        if isinstance(values.dtype, pd.CategoricalDtype):
            plain = values.astype(values.cat.categories.dtype) if values.notna().all() else None
            if plain is None:
                plain = pd.Series(values.to_numpy(dtype=object), index=frame.index).infer_objects()
            frame.isetitem(i, plain.array)
        elif values.dtype == object and values.map(lambda v: isinstance(v, list | dict | tuple)).any():
            text = values.map(lambda v: v if not isinstance(v, list | dict | tuple) else str(v))
            frame.isetitem(i, text.array)
    return frame


_EXPECTED: Final = {
    "csv": "comma-separated file with a header row",
    "parquet": "Parquet file (as written by pandas.DataFrame.to_parquet)",
    "jsonl": "JSON-lines file: one JSON object per line, same keys on every line",
}


def _parse(raw: bytes, fmt: FileFormat, suffix: str, label: str) -> pd.DataFrame:
    if fmt == "csv":
        sep = _delimiter(raw, suffix)
        csv_cells(raw, label, sep)
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
        return _read_parquet(raw, label)
    text = raw.decode("utf-8-sig")
    if text.lstrip().startswith("["):  # one JSON array of records
        records = parse_json(text, label, hint=f"Expected a {_EXPECTED['jsonl']}.")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("expected a list of objects")
        check_cells(len(records), max((len(r) for r in records[:1000]), default=0), label)
        return pd.DataFrame.from_records(records)
    first = next((line for line in text.splitlines() if line.strip()), "")
    record = parse_json(first, label, hint=f"Expected a {_EXPECTED['jsonl']}.")
    check_cells(text.count("\n") + 1, len(record) if isinstance(record, dict) else 1, label)
    return pd.read_json(io.StringIO(text), lines=True)


def _read_parquet(raw: bytes, label: str) -> pd.DataFrame:
    """A Parquet file, its size checked from the footer before any data is read: rows × columns
    against :data:`MAX_CELLS`, uncompressed bytes against :data:`MAX_BYTES`; text columns are read
    dictionary-encoded and their decoded size checked too (a few distinct long strings repeated
    millions of times compress to nothing)."""
    footer = pq.ParquetFile(io.BytesIO(raw))
    meta = footer.metadata
    check_cells(meta.num_rows, meta.num_columns, label)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > MAX_BYTES:
        raise InputError(
            f"{label}: the Parquet data is {unpacked / 2**20:,.0f} MiB uncompressed; "
            f"the limit is {MAX_BYTES >> 20} MiB.",
            hint="Upload a sample of the rows.",
        )
    schema = footer.schema_arrow
    text_columns = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]
    table = pq.ParquetFile(io.BytesIO(raw), read_dictionary=text_columns).read()
    size = 0
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            for chunk in column.chunks:
                lengths = pc.binary_length(chunk.dictionary)
                size += int(pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0)
        else:
            size += column.nbytes
        if size > MAX_BYTES:
            raise InputError(
                f"{label}: the Parquet data is over {MAX_BYTES >> 20} MiB once read; the limit is "
                f"{MAX_BYTES >> 20} MiB.",
                hint="Upload a sample of the rows.",
            )
    # Text back to plain strings in Arrow (one pass, no Python objects): pandas would make the
    # dictionaries categoricals that _plain_columns then rebuilt value by value (1 s on 1M rows).
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    # Column by column, each Arrow column freed once converted (not the whole table held next to
    # the frame; read_table then hands the freed memory back): peak memory of a read drops by about
    # the data.
    # Wide tables keep pandas' consolidated blocks: 10,000 one-column blocks make every later
    # whole-frame operation (isna, arithmetic) 100× slower, and their rows are few anyway.
    frame = table.to_pandas(split_blocks=table.num_columns < _SPLIT_BELOW_COLUMNS, self_destruct=True)
    del table
    return frame


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
    current_columns = set(current.columns)  # once: a set per column made this quadratic in the width
    shared = [col for col in reference.columns if col in current_columns]
    if not shared:
        raise InputError(
            f"{reference_name} and {current_name} share no columns.",
            hint=(
                f"{reference_name} has {_preview(reference.columns)}; "
                f"{current_name} has {_preview(current.columns)}. Column names must match exactly."
            ),
        )
    for frame, label in ((reference, reference_name), (current, current_name)):
        # Stops at the first column holding a value (usually the first): no copy of the frame.
        if not any(frame[col].notna().any() for col in shared):
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
