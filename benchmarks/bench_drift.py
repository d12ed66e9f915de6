"""Time ``lib.drift.compare()`` on 1M rows × 25 columns against the floor in the same process.

Floor = reading both Parquet files + sorting each numeric column once (both sides).
End to end = reading both files + ``compare()``. Target: end to end within 3× the floor;
peak memory of ``compare()`` (tracemalloc, separate run) within 2× the data.

Run: ``.venv/bin/python benchmarks/bench_drift.py [rows]``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import drift


def make(n: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(20):
        data[f"num_{i:02d}"] = rng.normal(shift if i < 5 else 0.0, 1.0, n)
    cats = np.array(["a", "b", "c", "d", "e", "f", "g", "h"])
    for i in range(5):
        p = np.full(8, 1 / 8)
        if i == 0 and shift:
            p = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2])
        data[f"cat_{i}"] = pd.Series(cats[rng.choice(8, size=n, p=p)], dtype="str")
    return pd.DataFrame(data)


def best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp, "reference.parquet"), Path(tmp, "current.parquet")
        make(n, 1, 0.0).to_parquet(ref_path)
        make(n, 2, 0.05).to_parquet(cur_path)

        def read() -> tuple[pd.DataFrame, pd.DataFrame]:
            return drift.read_table(ref_path), drift.read_table(cur_path)

        ref, cur = read()
        numeric = [c for c in ref.columns if c.startswith("num_")]

        def floor() -> None:
            r, c = read()
            for col in numeric:
                np.sort(r[col].to_numpy())
                np.sort(c[col].to_numpy())

        def end_to_end(workers: int) -> None:
            r, c = read()
            drift.compare(r, c, workers=workers)

        t_read = best_of(lambda: read())
        t_floor = best_of(floor)
        t_e2e_1 = best_of(lambda: end_to_end(1))
        t_e2e_2 = best_of(lambda: end_to_end(2))
        t_cmp_2 = best_of(lambda: drift.compare(ref, cur, workers=2))
        t_mv = best_of(lambda: drift.compare(ref, cur, workers=2, multivariate=True), repeat=1)
        data_bytes = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())
        tracemalloc.start()
        drift.compare(ref, cur, workers=2)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        report = drift.compare(ref, cur)
    print(f"rows per side: {n:,}; columns: 20 numeric + 5 categorical; cores: {os.cpu_count()}")
    print(f"read both files          {t_read:7.2f} s")
    print(f"floor (read + sort each) {t_floor:7.2f} s")
    print(f"end to end, 1 worker     {t_e2e_1:7.2f} s  ratio {t_e2e_1 / t_floor:.2f}x")
    print(f"end to end, 2 workers    {t_e2e_2:7.2f} s  ratio {t_e2e_2 / t_floor:.2f}x  (target ≤ 3x)")
    print(f"compare() only, 2 workers {t_cmp_2:6.2f} s")
    print(f"compare(multivariate=True) {t_mv:5.2f} s")
    print(
        f"data in memory {data_bytes / 2**20:,.0f} MiB; compare() peak traced {peak / 2**20:,.0f} MiB "
        f"({peak / data_bytes:.2f}x the data, target ≤ 2x)"
    )
    print(f"verdicts: {report.summary}")


if __name__ == "__main__":
    main()
