"""Loaded data that survives a page reload: a server-side store keyed by a random token in the URL.

A browser reload starts a new Streamlit session with an empty ``st.session_state``. The frame puts a
random token (128 bits) in the URL (``?session=…``) and keeps a snapshot of the session's *data* keys
here under it; a new session that arrives with that token gets its data back. Snapshots expire
``ttl_s`` after the session's last change, and the store holds at most ``max_bytes`` in all (oldest
snapshots dropped first); a snapshot larger than ``max_session_bytes`` is not kept at all. This module
holds no Streamlit code: :mod:`lib.ui.frame` owns the one process-wide instance (``st.cache_resource``).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

#: How long a session's data is kept after its last change.
SESSION_TTL_S: Final = 2 * 3600
#: Largest snapshot kept for one session (the upload cap) and for all sessions together.
MAX_SESSION_BYTES: Final = 256 * 2**20
MAX_STORE_BYTES: Final = 1024 * 2**20


def approx_size(value: Any, seen: dict[int, int] | None = None) -> int:
    """Approximate memory held by ``value`` (frames deep, containers recursively, shared objects once)."""
    seen = {} if seen is None else seen
    key = id(value)
    if key in seen:
        return 0
    if isinstance(value, pd.DataFrame | pd.Series):
        size = (
            int(value.memory_usage(deep=True).sum())
            if isinstance(value, pd.DataFrame)
            else int(value.memory_usage(deep=True))
        )
    elif isinstance(value, bytes | bytearray | str):
        size = sys.getsizeof(value)
    elif isinstance(value, Mapping):
        seen[key] = 0
        size = sum(approx_size(k, seen) + approx_size(v, seen) for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        seen[key] = 0
        size = sum(approx_size(v, seen) for v in value)
    else:
        size = sys.getsizeof(value)
    seen[key] = size
    return size


@dataclass
class _Entry:
    data: dict[str, Any]
    size: int
    saved: float


@dataclass
class SessionStore:
    """Snapshots of session data by token, with a time limit and a size cap (thread-safe)."""

    ttl_s: float = SESSION_TTL_S
    max_session_bytes: int = MAX_SESSION_BYTES
    max_bytes: int = MAX_STORE_BYTES
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def save(self, token: str, data: dict[str, Any]) -> bool:
        """Keep ``data`` (references, not copies) under ``token``; False when it is too large to keep.

        Saving an unchanged snapshot only renews its time limit (sizes are not measured again).
        """
        now = self.clock()
        with self._lock:
            self._expire(now)
            old = self._entries.get(token)
            if (
                old is not None
                and old.data.keys() == data.keys()
                and all(old.data[k] is v for k, v in data.items())
            ):
                old.saved = now
                return True
            size = approx_size(data)
            if size > self.max_session_bytes:
                self._entries.pop(token, None)
                return False
            self._entries[token] = _Entry(dict(data), size, now)
            total = sum(e.size for e in self._entries.values())
            for other in sorted(self._entries, key=lambda t: self._entries[t].saved):
                if total <= self.max_bytes:
                    break
                if other != token:
                    total -= self._entries.pop(other).size
            return True

    def load(self, token: str) -> dict[str, Any] | None:
        """The snapshot under ``token`` (a new dict of the same values), or None (unknown or expired)."""
        with self._lock:
            self._expire(self.clock())
            entry = self._entries.get(token)
            return None if entry is None else dict(entry.data)

    def forget(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token, None)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _expire(self, now: float) -> None:
        for token in [t for t, e in self._entries.items() if now - e.saved > self.ttl_s]:
            del self._entries[token]
