"""The reload store keeps snapshots on disk, not in memory: what it writes, when it rewrites, what it
deletes (the contract "a session's data survives a reload" is held by test_page_drift_flow)."""

from __future__ import annotations

import gc
import stat
import weakref

import numpy as np
import pandas as pd

from lib.ui.session_store import SessionStore

A, B = "a" * 22, "b" * 22


def frame(n: int = 100) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=np.float64), "s": [f"v{i % 7}" for i in range(n)]})


def test_a_snapshot_is_a_file_in_a_private_folder_and_holds_no_reference() -> None:
    store = SessionStore()
    data = frame()
    assert store.save(A, {"drift_current": data, "drift_current_digest": (data, "abc"), "label": "x.csv"})
    folder = store.folder
    assert folder is not None
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.iterdir())) == 1
    alive = weakref.ref(data)
    del data
    gc.collect()
    assert alive() is None  # the store does not keep the session's frame in memory
    back = store.load(A)
    assert back is not None
    assert back["drift_current"].equals(frame())
    assert back["drift_current_digest"][0] is back["drift_current"]  # shared references stay shared
    store.close()
    assert not folder.exists()


def test_unchanged_data_is_not_written_again_and_a_change_is() -> None:
    store = SessionStore()
    data = frame()
    widgets = {"alpha": 0.05}
    long_text = "x" * 10_000
    snapshot = {"drift_current": data, "kept_widgets": widgets, "note": long_text}
    assert store.save(A, snapshot)
    folder = store.folder
    assert folder is not None
    (path,) = folder.iterdir()
    first = path.stat().st_mtime_ns, path.stat().st_ino
    assert store.save(A, dict(snapshot))  # same objects: only the time limit is renewed
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == first
    widgets["alpha"] = 0.01  # changed in place: the mark compares values, so it is written again
    assert store.save(A, snapshot)
    assert store.load(A)["kept_widgets"] == {"alpha": 0.01}  # type: ignore[index]
    assert store.save(A, {**snapshot, "drift_current": frame(50)})  # a new frame: written again
    assert len(store.load(A)["drift_current"]) == 50  # type: ignore[index]
    store.close()


def test_files_are_deleted_on_expiry_forget_and_eviction() -> None:
    now = [0.0]
    store = SessionStore(ttl_s=60, max_bytes=10**9, clock=lambda: now[0])
    assert store.save(A, {"m": frame()})
    assert store.save(B, {"m": frame()})
    folder = store.folder
    assert folder is not None
    store.forget(B)
    assert len(list(folder.iterdir())) == 1
    now[0] = 61.0
    assert store.load(A) is None
    assert list(folder.iterdir()) == []
    assert store.save(A, {"m": frame(5_000)})
    size = store.total_bytes
    small = SessionStore(max_bytes=int(size * 1.5), clock=lambda: now[0])
    assert small.save(A, {"m": frame(5_000)})
    now[0] = 62.0
    assert small.save(B, {"m": frame(5_000)})
    assert small.load(A) is None  # the oldest was dropped to stay under the cap, and its file too
    assert small.folder is not None
    assert len(list(small.folder.iterdir())) == 1
    store.close()
    small.close()


def test_what_cannot_be_pickled_is_not_kept() -> None:
    store = SessionStore()
    assert not store.save(A, {"m": frame(), "f": lambda: 1})
    assert store.load(A) is None
    assert store.folder is not None
    assert list(store.folder.iterdir()) == []  # no half-written file left behind
    store.close()
