"""What every reader takes: a path, bytes or a binary file object, read once under one set of caps.

The caps (stated in the README's "Limits" section and in every refusal) hold for every reader:

* :data:`MAX_BYTES`: the largest file, and the most bytes one upload may unpack to (gzip and zip
  contents together, counted while decompressing: a bomb is stopped at the cap, never inflated);
* :data:`MAX_ARCHIVE_DEPTH`: archives inside archives (a zip of ``.jsonl.gz`` is depth 2);
* :data:`MAX_ZIP_MEMBERS`: files in one zip;
* :data:`MAX_CELLS` and :data:`MAX_COLUMNS`: the size of a table (rows × columns), checked before
  the table is built (from the Parquet footer, the CSV header and line count).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeAlias, cast

from lib.errors import InputError

#: The largest file any reader accepts, and the most one upload may unpack to, in bytes (256 MiB).
MAX_BYTES: Final = 256 << 20
#: Archives inside archives: 1 = a .gz or a .zip, 2 = a zip holding .gz files; deeper is refused.
MAX_ARCHIVE_DEPTH: Final = 2
#: The most files one zip may hold.
MAX_ZIP_MEMBERS: Final = 10_000
#: The most cells (rows × columns) one table may have.
MAX_CELLS: Final = 50_000_000
#: The most columns one table may have.
MAX_COLUMNS: Final = 20_000

_CHUNK: Final = 1 << 20

LIMITS_TEXT: Final = (
    f"Limits per upload: {MAX_BYTES >> 20} MiB (unpacked), archives {MAX_ARCHIVE_DEPTH} deep, "
    f"{MAX_ZIP_MEMBERS:,} files per zip, {MAX_COLUMNS:,} columns, {MAX_CELLS:,} cells (rows × columns)."
)


class Budget:
    """How many more bytes one upload may unpack to (shared by every archive member in it)."""

    def __init__(self, limit: int | None = None) -> None:
        self.left = MAX_BYTES if limit is None else limit

    def take(self, n: int, label: str) -> None:
        """Spend ``n`` bytes; :class:`InputError` once the upload has unpacked past the cap."""
        self.left -= n
        if self.left < 0:
            raise InputError(
                f"{label}: unpacked, this upload is larger than {MAX_BYTES >> 20} MiB, the limit "
                "(a compression bomb, or too much data for one upload).",
                hint="Upload less data at once, or a sample of it.",
            )


def gunzip(data: bytes, label: str, budget: Budget | None = None) -> bytes:
    """The content of gzip ``data`` (every member), decompressed in chunks under the byte cap.

    Raises
    ------
    InputError
        Damaged or cut-short gzip data, or content over :data:`MAX_BYTES` (stopped at the cap).
    """
    budget = budget or Budget()
    out = io.BytesIO()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while True:
                chunk = inflater.decompress(pending, _CHUNK)
                budget.take(len(chunk), label)
                out.write(chunk)
                pending = inflater.unconsumed_tail
                if inflater.eof or (not pending and not chunk):
                    break
        except zlib.error as err:
            raise InputError(f"{label}: this looks like a gzip file but it is damaged ({err}).") from err
        if not inflater.eof:
            raise InputError(f"{label}: this gzip file is cut short (incomplete download?).")
        rest = inflater.unused_data.lstrip(b"\x00")
        if rest and rest[:2] != b"\x1f\x8b":
            break  # trailing junk after the last member: ignored, as gzip(1) does
    return out.getvalue()


def unzip(
    data: bytes,
    label: str,
    budget: Budget | None = None,
    *,
    keep: Callable[[str], bool] = lambda name: True,
) -> list[tuple[bytes, str]]:
    """``(content, name)`` of the zip's files that ``keep`` accepts, in name order, under the caps.

    Members are read in chunks and counted against the budget as they inflate (the sizes a zip
    declares are not trusted).

    Raises
    ------
    InputError
        A damaged or encrypted zip, more than :data:`MAX_ZIP_MEMBERS` files, or content over
        :data:`MAX_BYTES`.
    """
    budget = budget or Budget()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise InputError(
                    f"{label}: the zip holds {len(infos):,} entries; the limit is {MAX_ZIP_MEMBERS:,}.",
                    hint="Zip fewer files, or upload them in several goes.",
                )
            members = sorted(
                (m for m in infos if not m.is_dir() and not m.filename.startswith("__MACOSX/")),
                key=lambda m: m.filename,
            )
            out = []
            for m in members:
                if not keep(m.filename):
                    continue
                buf = io.BytesIO()
                with archive.open(m) as fh:
                    while chunk := fh.read(_CHUNK):
                        budget.take(len(chunk), f"{label}/{m.filename}")
                        buf.write(chunk)
                out.append((buf.getvalue(), m.filename))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as err:
        raise InputError(f"{label}: looks like a zip file but cannot be opened ({err}).") from err
    except RuntimeError as err:  # encrypted member
        raise InputError(
            f"{label}: the zip cannot be read ({err}).", hint="Upload an unencrypted zip."
        ) from err
    return out


def check_depth(depth: int, label: str) -> None:
    """Refuse archives nested deeper than :data:`MAX_ARCHIVE_DEPTH`."""
    if depth > MAX_ARCHIVE_DEPTH:
        raise InputError(
            f"{label}: archives nested {depth} deep; the limit is {MAX_ARCHIVE_DEPTH} "
            "(e.g. a .zip of .jsonl.gz files).",
            hint="Unpack the inner archives and upload the files (or one zip of them).",
        )


def check_cells(n_rows: int, n_columns: int, label: str) -> None:
    """Refuse a table over :data:`MAX_COLUMNS` columns or :data:`MAX_CELLS` cells, before building it."""
    if n_columns > MAX_COLUMNS:
        raise InputError(
            f"{label}: {n_columns:,} columns; the limit is {MAX_COLUMNS:,}.",
            hint="Upload the columns you need.",
        )
    if n_rows * max(n_columns, 1) > MAX_CELLS:
        raise InputError(
            f"{label}: {n_rows:,} rows × {n_columns:,} columns is over {MAX_CELLS:,} cells, the limit.",
            hint="Upload a sample of the rows (a few hundred thousand rows are plenty for drift tests).",
        )


#: A readable source: a path, the file's bytes, or a binary file object (e.g. Streamlit's UploadedFile).
Source: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]


def source_bytes(source: Source | object, name: str | None = None) -> tuple[bytes, str]:
    """The content of ``source`` and the name to report (``name``, else the path's / object's name).

    Raises
    ------
    InputError
        If the path is missing, a folder, unreadable or larger than :data:`MAX_BYTES`, or the object
        is not something that can be read.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "upload"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        shown = name or path.name
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise InputError(
                    f"{shown}: the file is {size / 2**20:,.0f} MiB; the limit is {MAX_BYTES >> 20} MiB."
                )
            return path.read_bytes(), shown
        except IsADirectoryError as err:
            raise InputError(f"{shown}: this is a folder, not a file.") from err
        except FileNotFoundError as err:
            raise InputError(f"{shown}: no such file ({path}).") from err
        except PermissionError as err:
            raise InputError(f"{shown}: the file cannot be read (permission denied).") from err
        except OSError as err:
            raise InputError(f"{shown}: the file cannot be read ({err.strerror or err}).") from err
    upload: Any = source
    shown = name or Path(str(getattr(upload, "name", "") or "upload")).name or "upload"
    if hasattr(upload, "getvalue"):
        data = upload.getvalue()
    elif hasattr(upload, "read"):
        if hasattr(upload, "seek"):
            upload.seek(0)
        data = upload.read(MAX_BYTES + 1)
    else:
        raise InputError(
            f"Cannot read a {type(source).__name__}.", hint="Pass a file path, bytes or a binary file object."
        )
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise InputError(f"{shown}: the file is larger than {MAX_BYTES >> 20} MiB, the limit.")
    return bytes(data), shown


def source_list(source: Source | Sequence[Source]) -> list[Source]:
    """One source or a list/tuple of them → a list."""
    if isinstance(source, list | tuple):
        return list(source)
    return [cast(Source, source)]


def parse_json(text: str | bytes, label: str, *, hint: str | None = None) -> Any:
    """``json.loads`` whose every failure is an :class:`InputError` naming the file.

    Besides invalid JSON: nesting too deep for the parser (``RecursionError``) and integers of
    thousands of digits (Python refuses to convert them) are refused with a clear message.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{label}: the JSON is nested too deeply to be an export.", hint=hint) from None
    except json.JSONDecodeError as err:
        raise InputError(f"{label}: is not valid JSON ({err}).", hint=hint) from err
    except (ValueError, UnicodeDecodeError) as err:  # e.g. an integer over 4,300 digits
        first = str(err).splitlines()[0][:120]
        raise InputError(f"{label}: the JSON cannot be read ({first}).", hint=hint) from err


def csv_cells(data: bytes, label: str, sep: str | None = None) -> None:
    """Refuse a CSV over the table caps before parsing it: lines × fields of the header line."""
    head = data[:2_000_000].split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if sep is None:
        sep = max((",", ";", "\t", "|"), key=head.count)
    check_cells(data.count(b"\n") + 1, head.count(sep) + 1, label)
