"""How fast are wide uploads read and compared? Capture records with 2,000 and 10,000 CSV features, a
10,000-column table through ``read_table``, and ``drift.compare`` on 2,000 and 10,000 numeric columns of
200 rows a side (alone, and with reading both CSVs).

Run: ``.venv/bin/python benchmarks/bench_wide.py [--quick]``. Data is generated deterministically in
memory; prints the best of 3 per step and the load average. ``--quick`` skips ``compare``.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import drift
from lib.sources import capture
from lib.sources.tables import read_table

RECORDS = 20


def capture_bytes(n_features: int, records: int = RECORDS) -> bytes:
    """``records`` capture records, each one CSV row of ``n_features`` values and a score."""
    rng = np.random.default_rng(7)
    lines = []
    for i in range(records):
        row = ",".join(f"{v:.4f}" for v in rng.normal(size=n_features))
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": row,
                                          "encoding": "CSV"},
                        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                           "data": "0.5", "encoding": "CSV"},
                    },
                    "eventMetadata": {"eventId": f"e{i}", "inferenceTime": f"2024-05-01T10:00:{i % 60:02d}Z"},
                    "eventVersion": "0",
                }
            )
        )  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def table_bytes(n_columns: int, n_rows: int, seed: int = 11, shift: float = 0.0) -> bytes:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(shift, 1.0, size=(n_rows, n_columns)), columns=[f"c{i}" for i in range(n_columns)]
    )
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.4f")
    return buf.getvalue().encode()


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    quick = "--quick" in sys.argv
    print("| step | time |\n|---|---|")
    for n in (2_000, 10_000):
        data = capture_bytes(n)
        names = [f"x{i}" for i in range(n)]
        t = best(
            lambda data=data, names=names: capture.read_capture(data, feature_names=names, name="c.jsonl")
        )
        print(f"| `read_capture`: {RECORDS} records × {n:,} CSV features | {t:.2f} s |", flush=True)
    wide = table_bytes(10_000, 200)
    t = best(lambda: read_table(wide, name="wide.csv"))
    print(
        f"| `read_table`: CSV, 200 rows × 10,000 columns ({len(wide) / 2**20:.1f} MiB) | {t:.2f} s |",
        flush=True,
    )
    frame = read_table(wide, name="wide.csv")
    buf = io.BytesIO()
    frame.to_parquet(buf)
    pq = buf.getvalue()
    t = best(lambda: read_table(pq, name="wide.parquet"))
    print(f"| `read_table`: Parquet, 200 rows × 10,000 columns | {t:.2f} s |", flush=True)
    if not quick:
        for n in (2_000, 10_000):
            ref_csv, cur_csv = table_bytes(n, 200), table_bytes(n, 200, seed=12, shift=0.1)

            def read_and_compare(ref_csv: bytes = ref_csv, cur_csv: bytes = cur_csv) -> None:
                drift.compare(read_table(ref_csv, name="ref.csv"), read_table(cur_csv, name="cur.csv"))

            ref, cur = read_table(ref_csv, name="ref.csv"), read_table(cur_csv, name="cur.csv")
            t_cmp = best(lambda ref=ref, cur=cur: drift.compare(ref, cur))
            t_all = best(read_and_compare)
            print(f"| `drift.compare`: {n:,} numeric columns, 200 rows a side | {t_cmp:.2f} s |", flush=True)
            print(f"| read both CSVs + `drift.compare`: {n:,} columns | {t_all:.2f} s |", flush=True)
    print(f"\nload average: {' / '.join(f'{v:.1f}' for v in os.getloadavg())} (1 / 5 / 15 min)")


if __name__ == "__main__":
    main()
