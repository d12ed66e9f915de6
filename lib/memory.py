"""Handing freed memory back to the operating system after large, short-lived work.

Reading a 1M-row Parquet file frees as much memory again as the frame it leaves (Arrow buffers, the
file's bytes); glibc keeps such freed blocks in the process for reuse, so the resident size stays up
and the next step (the drift tests) adds its own peak on top. Used after every table read and by the
app's housekeeping after sessions end.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import platform
from collections.abc import Callable

import pyarrow as pa


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (Linux), else ``None``."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    with contextlib.suppress(OSError, AttributeError):
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
        return trim
    return None


def return_freed_memory() -> None:
    """Give memory already freed by Arrow and by malloc back to the operating system (best effort,
    well under a millisecond; live objects are untouched)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
