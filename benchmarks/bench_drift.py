"""Time ``lib.drift.compare()`` on 1M rows × 25 columns against its floor, measured in the same process.

Columns (issue 16): 20 numeric — normal (5 of them shifted in the current file), log-normal (skewed),
Poisson counts (few values: tested as categories), integers 0-4,999 (many ties), values rounded to
0.1 (heavily tied: KS by permutation) and normal with 10 % missing — and 5 categorical (8 labels).

Floor = reading both Parquet files with ``read_table`` + one ``np.sort`` per numeric column + one
``value_counts`` per categorical column (both sides). End to end = reading both files + ``compare()``.
Floor and end to end alternate within each round, so machine load hits both alike; the ratio of each
round is reported (target ≤ 2×, aim 1.5×). Then: a per-stage profile (cProfile, 1 worker), the peak
resident memory of a fresh process doing read + ``compare()`` against the data's size, and the load
average.

Run: ``.venv/bin/python benchmarks/bench_drift.py [rows] [--rounds N]``
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import drift

ROOT = Path(__file__).resolve().parents[1]

#: Functions whose cumulative time makes up the per-stage profile, in pipeline order.
STAGES = (
    ("read both files", "tables.py", "read_table"),
    ("plan: shared columns, kinds", "engine.py", "plan_tests"),
    ("prepare: to numbers, sort, count", "engine.py", "prepare_side"),
    ("treatment (numbers or categories)", "engine.py", "treatment_default"),
    ("tests (statistic, p-value)", "registry.py", "run"),
    ("effect sizes", "engine.py", "effect"),
    ("signals", "engine.py", "signals"),
    ("finalise (BH, MDE, verdicts)", "engine.py", "finalise"),
)


def make(n: int, seed: int, shift: float) -> pd.DataFrame:
    """One side: 20 numeric columns of varied shapes and 5 categorical ones (module docstring)."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(20):
        if i < 8:
            col = rng.normal(shift if i < 5 else 0.0, 1.0, n)
        elif i < 11:
            col = rng.lognormal(0.0, 1.0, n)
        elif i < 13:
            col = rng.poisson(3.0, n).astype(np.float64)
        elif i < 15:
            col = rng.integers(0, 5000, n).astype(np.float64)
        elif i < 17:
            col = np.round(rng.normal(0.0, 1.0, n), 1)
        else:
            col = rng.normal(0.0, 1.0, n)
            col[rng.random(n) < 0.1] = np.nan
        data[f"num_{i:02d}"] = col
    cats = np.array(["a", "b", "c", "d", "e", "f", "g", "h"])
    for i in range(5):
        p = np.full(8, 1 / 8)
        if i == 0 and shift:
            p = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2])
        data[f"cat_{i}"] = pd.Series(cats[rng.choice(8, size=n, p=p)], dtype="str")
    return pd.DataFrame(data)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss(ref_path: Path, cur_path: Path) -> tuple[float, float]:
    """``(baseline, peak)`` resident MiB of a fresh process: after imports, and its high-water mark
    after read + compare (``/proc/self/status``: VmHWM is reset by exec, unlike ``ru_maxrss``)."""
    code = (
        "import re, sys; sys.path.insert(0, sys.argv[3]); from lib import drift; "
        "kib = lambda key: re.search(key + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "base = kib('VmRSS'); "
        "r, c = drift.read_table(sys.argv[1]), drift.read_table(sys.argv[2]); drift.compare(r, c); "
        "print(base, kib('VmHWM'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ref_path), str(cur_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    base, peak = (int(v) / 1024 for v in out.stdout.split())
    return base, peak


def stage_profile(ref_path: Path, cur_path: Path) -> list[tuple[str, float]]:
    profile = cProfile.Profile()
    profile.enable()
    r, c = drift.read_table(ref_path), drift.read_table(cur_path)
    drift.compare(r, c, workers=1)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = {(Path(f).name, name): v[3] for (f, _, name), v in stats.items()}
    out = [
        (label, sum(t for (f, n), t in total.items() if f == file and n == fn)) for label, file, fn in STAGES
    ]
    compare = sum(v[3] for k, v in stats.items() if k[2] == "compare")
    out.append(("total (under the profiler)", compare + out[0][1]))
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp, "reference.parquet"), Path(tmp, "current.parquet")
        make(n, 1, 0.0).to_parquet(ref_path)
        make(n, 2, 0.05).to_parquet(cur_path)
        ref, cur = drift.read_table(ref_path), drift.read_table(cur_path)
        numeric = [c for c in ref.columns if c.startswith("num_")]
        categorical = [c for c in ref.columns if c.startswith("cat_")]
        data_bytes = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())

        def read() -> tuple[pd.DataFrame, pd.DataFrame]:
            return drift.read_table(ref_path), drift.read_table(cur_path)

        def floor() -> None:
            for frame in read():
                for col in numeric:
                    np.sort(frame[col].to_numpy())
                for col in categorical:
                    frame[col].value_counts()

        def end_to_end(workers: int) -> None:
            r, c = read()
            drift.compare(r, c, workers=workers)

        end_to_end(2)  # warm-up: imports, caches
        rows = []
        for _ in range(rounds):
            t_floor = timed(floor)
            t_e2e = timed(lambda: end_to_end(2))
            t_e2e_1 = timed(lambda: end_to_end(1))
            t_read = timed(read)
            rows.append((t_read, t_floor, t_e2e, t_e2e_1))
        stages = stage_profile(ref_path, cur_path)
        base, peak = peak_rss(ref_path, cur_path)
        report = drift.compare(ref, cur)
    load = os.getloadavg()
    print(f"rows per side: {n:,}; columns: 20 numeric + 5 categorical; cores: {os.cpu_count()}")
    print(f"load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)\n")
    print("| round | read both | floor | end to end, 2 workers | ratio | end to end, 1 worker | ratio |")
    print("|---|---|---|---|---|---|---|")
    for i, (t_read, t_floor, t_e2e, t_e2e_1) in enumerate(rows, 1):
        print(
            f"| {i} | {t_read:.2f} s | {t_floor:.2f} s | {t_e2e:.2f} s | **{t_e2e / t_floor:.2f}×** | "
            f"{t_e2e_1:.2f} s | {t_e2e_1 / t_floor:.2f}× |"
        )
    print("\n| stage (1 worker, cProfile cumulative) | time |\n|---|---|")
    for label, seconds in stages:
        print(f"| {label} | {seconds:.2f} s |")
    data_mib = data_bytes / 2**20
    print(
        f"\ndata in memory (both frames) {data_mib:,.0f} MiB; fresh process: {base:,.0f} MiB after "
        f"imports, peak {peak:,.0f} MiB during read + compare: {peak - base:,.0f} MiB above the baseline; "
        f"working memory (peak - baseline - data) {peak - base - data_mib:,.0f} MiB = "
        f"**{(peak - base - data_mib) / data_mib:.2f}× the data**"
    )
    print(f"self peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(f"verdicts: {report.summary}")


if __name__ == "__main__":
    main()
