"""Speed of the demo, the runs analysis and the chart builders (prints figures; no assertions).

Run: .venv/bin/python benchmarks/bench_charts.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import charts, demo, export
from lib.analysis import runs
from lib.schema import validate_metrics


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def long_frame(n_series: int, n_points: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t0 = pd.Timestamp("2026-11-02", tz="UTC")
    parts = [
        pd.DataFrame(
            {
                "job": f"job-{i:03d}",
                "metric": "validation:accuracy",
                "timestamp": t0 + pd.to_timedelta(np.arange(n_points), unit="s"),
                "value": rng.normal(0.8, 0.05, n_points),
                "epoch": np.arange(n_points) // 100,
            }
        )
        for i in range(n_series)
    ]
    return validate_metrics(pd.concat(parts, ignore_index=True))


def row(label: str, seconds: float, note: str = "") -> None:
    print(f"{label:<44} {seconds:8.3f} s  {note}")


def main() -> None:
    m, j = demo.demo_metrics(), demo.demo_jobs()
    table = runs.runs_table(m, j)
    row(
        "demo_metrics + demo_jobs",
        best_of(lambda: (demo.demo_metrics(), demo.demo_jobs())),
        f"({len(m)} rows; budget 0.2 s)",
    )
    row("runs_table (demo, with jobs)", best_of(lambda: runs.runs_table(m, j)))
    row("flag_runs (demo)", best_of(lambda: runs.flag_runs(table)))
    row(
        "select_view (demo: table, flags, chart data)",
        best_of(lambda: runs.select_view(m, j, metric="validation:accuracy")),
    )
    row("accuracy_over_time(demo).to_dict()", best_of(lambda: charts.accuracy_over_time(m).to_dict()))

    for n_series, n_points in ((1, 100_000), (20, 50_000)):
        big = long_frame(n_series, n_points)
        total = len(big)
        kept = len(runs.downsample(big, max_points=5000))
        row(f"downsample {total:,} rows -> {kept:,}", best_of(lambda big=big: runs.downsample(big), 3))
        row(f"smooth(window=10) {total:,} rows", best_of(lambda big=big: runs.smooth(big, window=10), 3))
        build = best_of(
            lambda big=big: charts.accuracy_over_time(big, metrics=["validation:accuracy"]).to_dict(), 3
        )
        row(f"accuracy_over_time {total:,} rows .to_dict()", build, "(thinned to <= 5000 inside)")

    chart = charts.accuracy_over_time(m)
    t0 = time.perf_counter()
    export.chart_png(chart)
    row("chart_png first call (starts the engine)", time.perf_counter() - t0)
    row("chart_png demo, scale 2", best_of(lambda: export.chart_png(chart), 3))
    row("chart_svg demo", best_of(lambda: export.chart_svg(chart), 3))
    row("to_csv_bytes demo", best_of(lambda: export.to_csv_bytes(m)))


if __name__ == "__main__":
    main()
