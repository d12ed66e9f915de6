"""What every reader takes: a path, bytes or a binary file object, read once under one size cap."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeAlias, cast

from lib.errors import InputError

#: The largest file (or unpacked archive member) any reader accepts, in bytes.
MAX_BYTES: Final = 1 << 30

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
