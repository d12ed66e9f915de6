"""Capture reading speed (issue 13): records/s of ``read_capture_report``, old and new, against
``json.loads`` of the same lines (the floor), all in one process.

"Old" is ``lib/sources/capture.py`` as it was before the column-wise reader (commit ``f4eaf23``),
loaded from git; both readers must give the same frame (checked here too).

Run: .venv/bin/python benchmarks/bench_capture.py [records] [--quick]  (200,000 by default;
--quick: only the 20-feature CSV set). Wall-clock and CPU seconds are both printed: the reader
runs on one thread (Arrow's readers with ``use_threads=False``), so CPU seconds are its per-core
cost.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.sources import capture  # noqa: E402

OLD_COMMIT = "f4eaf23"


def old_module() -> ModuleType:
    """The capture reader before this change, from git (same process, same load)."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:lib/sources/capture.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "capture_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("capture_old", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["capture_old"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def capture_lines(n: int, width: int, *, encoding: str = "CSV", seed: int = 0) -> bytes:
    """``n`` SageMaker capture records, one inference each: ``width - 2`` decimals, an integer
    and a category (CSV), or the same as a JSON ``instances`` body, or CSV in BASE64."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, size=(n, width)).round(3)
    plans = np.array(["basic", "plus", "pro"])
    start = np.datetime64("2024-05-06T13:00:00")
    lines = []
    for i in range(n):
        values = [f"{v:g}" for v in x[i, : width - 2]] + [str(int(x[i, -2])), str(plans[i % 3])]
        if encoding == "JSON":
            body = {"observedContentType": "application/json", "mode": "INPUT", "encoding": "JSON"}
            body["data"] = json.dumps({"instances": [[*map(float, values[:-1]), values[-1]]]})
        else:
            text = ",".join(values)
            if encoding == "BASE64":
                text = base64.b64encode(text.encode()).decode()
            body = {"observedContentType": "text/csv", "mode": "INPUT", "data": text, "encoding": encoding}
        record = {
            "captureData": {
                "endpointInput": body,
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": f"{rng.random():.6f}",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": f"00000000-0000-4000-8000-{i:012d}",
                "inferenceTime": f"{start + np.timedelta64(i // 3, 's')}Z",
            },
            "eventVersion": "0",
        }
        lines.append(json.dumps(record, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def best(f: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The best wall-clock and the best CPU seconds (this process, all threads) of ``repeat``
    runs. CPU time is the per-core figure: it barely moves with the machine's load, while the
    wall clock grows with every other process sharing the cores."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        f()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def measure(label: str, data: bytes, n: int, old: ModuleType, *, repeat: int, old_repeat: int = 1) -> None:
    """Print records/s of the floor, the old reader and the new one on ``data`` (same frames)."""
    lines = data.decode().splitlines()
    floor = best(lambda: [json.loads(line) for line in lines], repeat)
    was = best(lambda: old.read_capture_report(data, name="bench.jsonl"), old_repeat)
    new = best(lambda: capture.read_capture_report(data, name="bench.jsonl"), repeat)
    pd.testing.assert_frame_equal(
        capture.read_capture_report(data, name="bench.jsonl").frame,
        old.read_capture_report(data, name="bench.jsonl").frame,
    )
    print(f"{label}: {n:,} records, {len(data) / 1e6:.1f} MB (best of {repeat}; old: best of {old_repeat})")
    head = f"{'records/s':>11s} {'x floor':>8s}"
    print(f"  {'':18s} {'wall s':>8s} {head}   {'CPU s':>8s} {head}")
    for name, (wall, cpu) in (("json.loads floor", floor), (f"old ({OLD_COMMIT})", was), ("new", new)):
        print(
            f"  {name:18s} {wall:8.3f} {n / wall:>11,.0f} {wall / floor[0]:8.2f}   "
            f"{cpu:8.3f} {n / cpu:>11,.0f} {cpu / floor[1]:8.2f}"
        )
    print(f"  new / old: {was[0] / new[0]:.1f}x faster (wall), {was[1] / new[1]:.1f}x (CPU)")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    n = int(args[0]) if args else 200_000
    old = old_module()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    measure("CSV, 20 features", capture_lines(n, 20), n, old, repeat=5, old_repeat=2)
    if not quick:
        # bench_timing.py's shape, 4 features: the "~20,000 CSV records/s"
        measure("CSV, 4 features", capture_lines(n, 4), n, old, repeat=5, old_repeat=2)
        small = max(n // 10, 1)
        for encoding in ("JSON", "BASE64"):
            data = capture_lines(small, 20, encoding=encoding)
            measure(f"{encoding} payloads, 20 features", data, small, old, repeat=1)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
