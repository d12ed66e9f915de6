"""Speed of what the Timing & cost and Model Monitor pages compute on each rerun, at large sizes.

Run: .venv/bin/python benchmarks/bench_timing_page.py  (about 20 s on 2 cores)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import charts
from lib.analysis import latency, series, timing
from lib.demo import latency as demo_latency_data
from lib.demo import monitor as demo_monitor
from lib.schema import validate_jobs


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def many_jobs(n: int, rng: np.random.Generator) -> pd.DataFrame:
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    secs = rng.lognormal(8, 0.3, n)
    return validate_jobs(
        pd.DataFrame(
            {
                "job": [f"job-{i:05d}" for i in range(n)],
                "start": [t0 + pd.Timedelta(hours=3 * i) for i in range(n)],
                "instance_type": rng.choice(["ml.p3.2xlarge", "ml.g5.xlarge", "ml.m5.xlarge"], n),
                "instance_count": rng.integers(1, 4, n),
                "training_seconds": secs,
                "billable_seconds": secs * 0.8,
                "spot": rng.random(n) < 0.3,
                "phase.Starting_s": rng.uniform(60, 200, n),
                "phase.Training_s": secs * 0.95,
            }
        )
    )


def spec_of(drift: series.SeriesDrift) -> dict[str, object]:
    return charts.series_drift(drift.series, drift.change_points, title="t", y_title="s").to_dict()


def main() -> None:
    rng = np.random.default_rng(1)
    print("Runs & cost / timing drift (per page rerun)")
    for n in (100, 1000, 5000):
        jobs = many_jobs(n, rng)
        table = timing.runs_cost_table(jobs)
        t_table = best_of(partial(timing.runs_cost_table, jobs))
        t_drift = best_of(partial(timing.duration_drift, table, "training_s"))
        drift = timing.duration_drift(table, "training_s")
        t_chart = best_of(partial(spec_of, drift))
        print(
            f"  {n:5d} runs: runs_cost_table {t_table * 1e3:7.1f} ms   "
            f"duration_drift {t_drift * 1e3:7.1f} ms   drift chart spec {t_chart * 1e3:6.1f} ms"
        )
    print("Endpoint latency (1-minute periods, 4 statistics, 2 metrics)")
    for days in (3, 14, 63):
        lat = demo_latency_data.demo_latency(days=days, period_min=1)
        for freq in ("5min", "1h"):
            t_pct = best_of(partial(latency.latency_percentiles, lat, freq=freq), repeat=2)
            pcts = latency.latency_percentiles(lat, freq=freq)
            t_drift = best_of(partial(latency.latency_drift, pcts), repeat=2)
            print(
                f"  {days:3d} days ({len(lat):7,} rows), bucket {freq:>4}: pct {t_pct * 1e3:7.1f} ms   "
                f"drift ({len(pcts) // 6:5,} buckets) {t_drift * 1e3:7.1f} ms"
            )
    print("Model Monitor demo artifacts (read + check)")
    t_demo = best_of(demo_monitor.demo_artifacts)
    art = demo_monitor.demo_artifacts()
    t_check = best_of(art.check)
    print(f"  demo_artifacts {t_demo * 1e3:.1f} ms   check {t_check * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
