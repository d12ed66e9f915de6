"""compare_datasets at 1M, 5M and 20M rows x 25 columns: rows/s, peak memory, agreement; Spark vs streaming.

Generates the data once into ``$DRIFTWATCH_BENCH_DIR`` (default ``/tmp/driftwatch-bench``): two
datasets of 20 Parquet files of 1M rows each (about 2.5 GB on disk per side); the 1M and 5M runs
read the first 1 and 5 files. Each run is a fresh subprocess, so its peak RSS is its own.

    python benchmarks/bench_datasets.py            # 1M, 5M, 20M + agreement + Spark (1M)
    python benchmarks/bench_datasets.py 1 5        # only those sizes (millions of rows)
    python benchmarks/bench_datasets.py --spark 1  # only Spark local[2] vs streaming on 1M rows
    python benchmarks/bench_datasets.py --agreement  # only compare() vs compare_datasets() on 1M rows
    python benchmarks/bench_datasets.py 5 --sizes-only  # only the timed run(s), no agreement or Spark
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib import compare, compare_datasets  # noqa: E402
from lib.drift.summary import stream, summarise_datasets  # noqa: E402

DATA = Path(os.environ.get("DRIFTWATCH_BENCH_DIR", "/tmp/driftwatch-bench"))
PART_ROWS = 1_000_000
N_PARTS = 20


def generate(side: str, shift: float, parts: int = N_PARTS) -> Path:
    """20 files x 1M rows x 25 columns: 10 normal, 5 lognormal, 4 Poisson, 4 categories, a flag, a price.

    ``parts``: only the first files (each file's rows depend on its number only)."""
    folder = DATA / side
    folder.mkdir(parents=True, exist_ok=True)
    for part in range(parts):
        path = folder / f"part-{part:05d}.parquet"
        if path.exists():
            continue
        rng = np.random.default_rng([part, int(shift * 100)])
        m = PART_ROWS
        cols: dict[str, object] = {}
        for j in range(10):
            cols[f"num{j}"] = rng.normal(shift * (j % 3), 1 + j / 10, m)
        for j in range(5):
            cols[f"skew{j}"] = rng.lognormal(shift * (j % 2), 1, m)
        for j in range(4):
            cols[f"count{j}"] = rng.poisson(3 + j + shift, m)
        for j in range(4):
            labels = np.array([f"c{k}" for k in range(6 + j)])
            cols[f"cat{j}"] = labels[rng.integers(0, 6 + j, m)]
        cols["flag"] = rng.random(m) < 0.2 + shift / 10
        cols["price"] = np.round(rng.gamma(2, 10 + shift, m), 2)
        pq.write_table(pa.table(cols), path)
    return folder


def files(side: str, millions: int) -> list[str]:
    return [str(DATA / side / f"part-{p:05d}.parquet") for p in range(millions)]


def _timed_refinement() -> dict[str, float]:
    """Wrap the streaming path's refinement pass to time it and count what it kept."""
    found: dict[str, float] = {}
    original = stream.refine_summaries

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        out = original(*args, **kwargs)
        found["refine_seconds"] = time.perf_counter() - t
        parts = [c.numeric for side in (out.reference, out.current) for c in side.columns.values()]
        refined = [p for p in parts if p is not None and p.refine_intervals is not None]
        found["refined_columns"] = len(refined) / 2
        found["candidate_bins"] = sum(p.refine_intervals.shape[0] for p in refined) / 2
        found["json_mb"] = len(out.to_json()) / 1e6
        found["values_kept"] = sum(0 if p.refine_values is None else p.refine_values.size for p in refined)
        found["capped"] = sum(p.refine_values is None for p in refined) / 2
        return out

    stream.refine_summaries = timed  # type: ignore[assignment]
    return found


def child(millions: int) -> None:
    """One measured run (in its own process): prints a JSON line."""
    refinement = _timed_refinement()
    start = time.perf_counter()
    report = compare_datasets(files("ref", millions), files("cur", millions))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "millions": millions,
                "seconds": seconds,
                "peak_mb": peak,
                "drifted": report.drifted_columns,
                **refinement,
            }
        )
    )


def agreement() -> None:
    """compare() and compare_datasets() on the same 1M-row files: KS D, p-values, verdicts."""
    ref = pd.read_parquet(files("ref", 1))
    cur = pd.read_parquet(files("cur", 1))
    t0 = time.perf_counter()
    exact = compare(ref, cur)
    t1 = time.perf_counter()
    refinement = _timed_refinement()
    streamed = compare_datasets(files("ref", 1), files("cur", 1))
    t2 = time.perf_counter()
    a = exact.table.set_index(["column", "test"])
    b = streamed.table.set_index(["column", "test"]).loc[a.index]
    ks = a.index.get_level_values("test") == "ks"
    continuous = ks & a["p_method"].str.startswith("asymptotic").to_numpy()
    same_p = int((a["p_value"] == b["p_value"]).sum())  # == on float64: bit-identical (no NaN p here)
    same_d = int((a.loc[ks, "statistic"] == b.loc[ks, "statistic"]).sum())
    print(
        f"agreement on 1M rows: compare {t1 - t0:.1f} s (all in memory), compare_datasets {t2 - t1:.1f} s "
        f"(refinement pass {refinement.get('refine_seconds', 0.0):.1f} s: "
        f"{refinement.get('refined_columns', 0):.0f} columns, {refinement.get('candidate_bins', 0):.0f} "
        f"final intervals, {refinement.get('values_kept', 0):,.0f} values kept, "
        f"{refinement.get('capped', 0):.0f} capped; summary file {refinement.get('json_mb', 0):.1f} MB); "
        f"KS D bit-identical {same_d}/{int(ks.sum())} (max |diff| "
        f"{np.abs(a.loc[ks, 'statistic'] - b.loc[ks, 'statistic']).max():.2e}); "
        f"max |effect diff| {np.abs(a['effect_size'] - b['effect_size']).max():.2e}; "
        f"statuses equal {int((a['status'] == b['status']).sum())}/{len(a)}; "
        f"p-values bit-identical {same_p}/{len(a)}, on the {int(continuous.sum())} continuous KS rows "
        f"{int((a.loc[continuous, 'p_value'] == b.loc[continuous, 'p_value']).sum())}; "
        f"p_method equal {int((a['p_method'] == b['p_method']).sum())}/{len(a)}"
    )


def spark_vs_streaming(millions: int) -> None:
    """The Spark job in local[2] against the streaming path on the same files (summaries only)."""
    from pyspark.sql import SparkSession

    from lib.spark.job import read_dataset, summarise_spark

    os.environ["PYTHONPATH"] = str(ROOT)
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers need this venv's pandas and pyarrow
    t0 = time.perf_counter()
    local = summarise_datasets(files("ref", millions), files("cur", millions))
    t1 = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    t2 = time.perf_counter()
    on_spark = summarise_spark(
        read_dataset(spark, files("ref", millions), "parquet"),
        read_dataset(spark, files("cur", millions), "parquet"),
    )
    t3 = time.perf_counter()
    spark.stop()
    same = (
        on_spark.reference.to_json() == local.reference.to_json()
        and on_spark.current.to_json() == local.current.to_json()
    )
    print(
        f"{millions}M rows: streaming summaries {t1 - t0:.1f} s; Spark local[2] {t3 - t2:.1f} s "
        f"(+ {t2 - t1:.1f} s session start); byte-identical summaries: {same}"
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(int(argv[1]))
        return
    if argv[:1] == ["--spark"]:  # only the Spark comparison, on the first N files
        print(f"load average before: {os.getloadavg()}")
        spark_vs_streaming(int(argv[1]) if len(argv) > 1 else 1)
        print(f"load average after: {os.getloadavg()}")
        return
    sizes = [int(a) for a in argv if a.isdigit()] or [1, 5, 20]
    t = time.perf_counter()
    parts = 1 if argv[:1] == ["--agreement"] else max(sizes)
    generate("ref", 0.0, parts)
    generate("cur", 0.02, parts)
    print(f"data ready in {time.perf_counter() - t:.0f} s under {DATA}")
    print(f"load average before: {os.getloadavg()}")
    if argv[:1] == ["--agreement"]:  # only the agreement check on the first file
        agreement()
        print(f"load average after: {os.getloadavg()}")
        return
    for millions in sizes:
        out = (
            subprocess.run(
                [sys.executable, __file__, "--child", str(millions)],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        r = json.loads(out)
        rows = 2 * millions * PART_ROWS
        print(
            f"{millions}M rows x 25 columns per side: {r['seconds']:.0f} s, "
            f"{rows / r['seconds']:,.0f} rows/s "
            f"(both sides), peak RSS {r['peak_mb']:,.0f} MB; "
            f"refinement pass {r.get('refine_seconds', 0):.1f} s "
            f"({r.get('values_kept', 0):,.0f} values kept, {r.get('capped', 0):.0f} columns capped, "
            f"summary file {r.get('json_mb', 0):.1f} MB); "
            f"load average {os.getloadavg()}"
        )
    if "--sizes-only" not in argv:
        agreement()
        spark_vs_streaming(1)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
