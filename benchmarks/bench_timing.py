"""Change-point calibration and speed, capture-reading throughput.

Run: .venv/bin/python benchmarks/bench_timing.py  (about a minute on 2 cores)
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.analysis.series import change_points
from lib.sources.capture import read_capture_report


def false_alarm_rates(rng: np.random.Generator) -> None:
    print("False-alarm rate (share of stationary N(0,1) series with >= 1 change point), default penalty")
    for n in (20, 25, 35, 50, 100, 200, 500):
        reps = 1000 if n <= 200 else 200
        rate = np.mean([bool(change_points(rng.normal(size=n))) for _ in range(reps)])
        print(f"  n={n:4d}  {rate:6.3f}  ({reps} series)")
    reps = 1000
    rate = np.mean([bool(change_points(rng.normal(size=int(rng.integers(20, 201))))) for _ in range(reps)])
    print(f"  n~U[20,200]  {rate:6.3f}  ({reps} series)")


def detection(rng: np.random.Generator) -> None:
    print("Detection: mean shift at position 30 of 60, found within +-3")
    for shift in (1.0, 1.5, 2.0, 3.0):
        hits = 0
        for _ in range(500):
            x = rng.normal(size=60)
            x[30:] += shift
            hits += any(abs(c - 30) <= 3 for c in change_points(x))
        print(f"  shift {shift:.1f} sd  {hits / 500:6.3f}")
    quiet = np.mean(
        [not change_points(np.r_[rng.normal(size=30), 10.0, rng.normal(size=29)]) for _ in range(500)]
    )
    print(f"  single 10-sd outlier, no change point reported: {quiet:6.3f}")


def speed(rng: np.random.Generator) -> None:
    print("Speed of change_points (stationary / 5 steps)")
    for n in (100, 1000, 5000, 10000):
        flat = rng.normal(size=n)
        steps = flat + np.repeat(np.arange(5) * 3.0, n // 5 + 1)[:n]
        for label, x in (("flat", flat), ("steps", steps)):
            t0 = time.perf_counter()
            cps = change_points(x)
            dt = time.perf_counter() - t0
            print(f"  n={n:6d} {label:5s} {dt * 1000:8.1f} ms  ({len(cps)} change points)")


def capture_throughput() -> None:
    n = 20_000
    lines = []
    for i in range(n):
        row = f"{i % 90},{i % 70},{i * 0.01:.2f},basic"
        rec = {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "data": row, "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "data": "0.5", "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2024-05-06T13:00:05Z"},
        }
        lines.append(json.dumps(rec))
    data = ("\n".join(lines)).encode()
    t0 = time.perf_counter()
    result = read_capture_report(io.BytesIO(data))
    dt = time.perf_counter() - t0
    print(f"read_capture: {n} CSV records ({len(data) / 1e6:.1f} MB) in {dt:.2f} s = {n / dt:,.0f} records/s")
    assert len(result.frame) == n


if __name__ == "__main__":
    generator = np.random.default_rng(20240506)
    false_alarm_rates(generator)
    detection(generator)
    speed(generator)
    capture_throughput()
