"""Loaded data that survives a page reload: a server-side store keyed by a random token in the URL.

A browser reload starts a new Streamlit session with an empty ``st.session_state``. The frame puts a
random token (128 bits) in the URL (``?session=…``) and keeps a snapshot of the session's *data* keys
here under it; a new session that arrives with that token gets its data back. Snapshots expire
``ttl_s`` after the session's last change, and the store holds at most ``max_bytes`` in all (oldest
snapshots dropped first); a snapshot larger than ``max_session_bytes`` is not kept at all.

Snapshots are pickled to files in a private temporary directory (mode 0700, removed when the store is
closed or the process exits), not held in memory: a team's ended sessions must not keep their frames in
the server's memory for the two hours a reload may still come. The store remembers only *marks* of what
it wrote (weak references to frames, hashes of long strings), so saving an unchanged snapshot at the
start of every page run costs no pickling. This module holds no Streamlit code: :mod:`lib.ui.frame`
owns the one process-wide instance (``st.cache_resource``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

#: How long a session's data is kept after its last change.
SESSION_TTL_S: Final = 2 * 3600
#: Largest snapshot kept for one session (the upload cap) and for all sessions together.
MAX_SESSION_BYTES: Final = 256 * 2**20
MAX_STORE_BYTES: Final = 1024 * 2**20
#: Strings and bytes up to this length are compared by value in a mark; longer ones by length and hash.
_SHORT: Final = 4096


def approx_size(value: Any, seen: dict[int, int] | None = None, *, deep: bool = True) -> int:
    """Approximate memory held by ``value`` (containers recursively, shared objects once); frames with
    their strings (``deep``) or only their arrays (``deep=False``: a lower bound, and much faster)."""
    seen = {} if seen is None else seen
    key = id(value)
    if key in seen:
        return 0
    if isinstance(value, pd.DataFrame | pd.Series):
        size = (
            int(value.memory_usage(deep=deep).sum())
            if isinstance(value, pd.DataFrame)
            else int(value.memory_usage(deep=deep))
        )
    elif isinstance(value, bytes | bytearray | str):
        size = sys.getsizeof(value)
    elif isinstance(value, Mapping):
        seen[key] = 0
        size = sum(
            approx_size(k, seen, deep=deep) + approx_size(v, seen, deep=deep) for k, v in value.items()
        )
    elif isinstance(value, list | tuple | set | frozenset):
        seen[key] = 0
        size = sum(approx_size(v, seen, deep=deep) for v in value)
    else:
        size = sys.getsizeof(value)
    seen[key] = size
    return size


class _Same:
    """Part of a mark: equal to another only when both refer to the same live object (never kept alive)."""

    __slots__ = ("ref",)

    def __init__(self, value: Any) -> None:
        self.ref = weakref.ref(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and (mine := self.ref()) is not None and mine is other.ref()

    __hash__ = None  # type: ignore[assignment]


class _Never:
    """Part of a mark for a value that can be neither referred to weakly nor compared: never equal."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def _mark(value: Any) -> Any:
    """What ``value`` was, cheaply comparable later without holding it: equal marks mean unchanged.

    Frames and other objects that accept weak references: their identity (frames in the session are
    replaced, never changed in place); containers: their items; long strings and bytes: length and hash
    (Python caches a string's hash); small immutable values: the value itself.
    """
    if isinstance(value, str | bytes):
        return value if len(value) <= _SHORT else (type(value), len(value), hash(value))
    if isinstance(value, Mapping):
        return ("map", tuple((_mark(k), _mark(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_mark(v) for v in value))
    try:
        return _Same(value)
    except TypeError:
        pass
    try:
        hash(value)
    except TypeError:
        return _Never()
    return value


@dataclass
class _Entry:
    path: Path
    size: int
    saved: float
    mark: Any


@dataclass
class SessionStore:
    """Snapshots of session data by token, on disk, with a time limit and a size cap (thread-safe)."""

    ttl_s: float = SESSION_TTL_S
    max_session_bytes: int = MAX_SESSION_BYTES
    max_bytes: int = MAX_STORE_BYTES
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _dir: Path | None = None

    def save(self, token: str, data: dict[str, Any]) -> bool:
        """Write ``data`` under ``token``; False when it is too large (or impossible) to keep.

        Saving an unchanged snapshot only renews its time limit (nothing is pickled again). The size
        limits apply to the pickled bytes.
        """
        now = self.clock()
        mark = _mark(data)
        with self._lock:
            self._expire(now)
            old = self._entries.get(token)
            if old is not None and old.mark == mark:
                old.saved = now
                return True
            folder = self._folder()
        path = folder / hashlib.sha256(token.encode()).hexdigest()
        try:
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as out:
                pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
                size = out.tell()
        except (pickle.PicklingError, TypeError, AttributeError, OSError):
            with contextlib.suppress(OSError, NameError):
                os.unlink(out.name)
            self.forget(token)
            return False
        if size > self.max_session_bytes:
            os.unlink(out.name)
            self.forget(token)
            return False
        with self._lock:
            os.replace(out.name, path)
            self._entries[token] = _Entry(path, size, now, mark)
            total = sum(e.size for e in self._entries.values())
            for other in sorted(self._entries, key=lambda t: self._entries[t].saved):
                if total <= self.max_bytes:
                    break
                if other != token:
                    total -= self._drop(other)
        return True

    def load(self, token: str) -> dict[str, Any] | None:
        """The snapshot under ``token`` (read back from its file), or None (unknown or expired)."""
        with self._lock:
            self._expire(self.clock())
            entry = self._entries.get(token)
            if entry is None:
                return None
            try:
                with entry.path.open("rb") as kept:
                    data = pickle.load(kept)  # our own file, in our private directory
            except (OSError, pickle.UnpicklingError, EOFError):
                self._drop(token)
                return None
        return data if isinstance(data, dict) else None

    def forget(self, token: str) -> None:
        with self._lock:
            self._drop(token)

    def close(self) -> None:
        """Delete every snapshot and the directory (also done when the process exits)."""
        with self._lock:
            self._entries.clear()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    @property
    def folder(self) -> Path | None:
        """The private directory holding the snapshots (None until the first save)."""
        return self._dir

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _folder(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="driftwatch-sessions-"))  # mode 0700
            weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        return self._dir

    def _drop(self, token: str) -> int:
        entry = self._entries.pop(token, None)
        if entry is None:
            return 0
        with contextlib.suppress(OSError):
            entry.path.unlink()
        return entry.size

    def _expire(self, now: float) -> None:
        for token in [t for t, e in self._entries.items() if now - e.saved > self.ttl_s]:
            self._drop(token)
