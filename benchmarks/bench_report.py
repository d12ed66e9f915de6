"""Size and render time of the HTML drift report for the 25-column benchmark tables (``bench_drift.make``).

Everything the page holds: per-column table with sparklines, 25 overlay charts, the multivariate result and
a 10-window heat map. Prints the size (raw and gzipped: what an e-mail attachment costs) and the render
time next to the ``compare()`` time in the same process.

Run: ``.venv/bin/python benchmarks/bench_report.py [rows]``
"""

from __future__ import annotations

import gzip
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_drift import make

from lib import drift


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    ref, cur = make(n, 1, 0.0), make(n, 2, 0.05)
    t0 = time.perf_counter()
    report = drift.compare(ref, cur, multivariate=True)
    t_compare = time.perf_counter() - t0
    windows = drift.compare_windows(ref, cur, size=n // 10)
    bare = report.to_html()
    t0 = time.perf_counter()
    page = report.to_html(ref, cur, windows=windows)
    t_render = time.perf_counter() - t0
    raw, packed = len(page.encode()), len(gzip.compress(page.encode()))
    print(f"rows per side: {n:,}; columns: 20 numeric + 5 categorical; load average {os.getloadavg()[0]:.1f}")
    print(f"compare(multivariate=True)      {t_compare:6.2f} s")
    print(f"to_html with charts + heat map  {t_render:6.2f} s  ({t_render / t_compare:.2f}x compare)")
    print(
        f"HTML size: {raw / 1024:,.0f} KiB ({packed / 1024:,.0f} KiB gzipped); "
        f"without charts {len(bare.encode()) / 1024:,.0f} KiB"
    )


if __name__ == "__main__":
    main()
