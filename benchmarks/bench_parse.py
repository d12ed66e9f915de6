"""How fast do uploads parse? A 200k-row long CSV and a 1M-line training log, best of 3.

Run: ``.venv/bin/python benchmarks/bench_parse.py``. Files are generated deterministically into a
temporary folder; prints MB/s and rows/s per file (target: >= 50 MB/s for the CSV).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.sources import load_export

CSV_ROWS = 200_000
LOG_LINES = 1_000_000


def write_long_csv(path: Path) -> None:
    """``job,metric,timestamp,value``: 20 jobs x 2 metrics x 5,000 minutes, ISO timestamps."""
    rng = np.random.default_rng(12345)
    per_series = CSV_ROWS // 40
    minutes = np.arange(per_series)
    stamps = (np.datetime64("2024-05-01T10:00:00") + minutes.astype("timedelta64[m]")).astype(str)
    lines = ["job,metric,timestamp,value"]
    for j in range(20):
        for metric in ("train:accuracy", "validation:accuracy"):
            values = np.clip(0.5 + minutes / per_series * 0.4 + rng.normal(0, 0.01, per_series), 0, 1)
            job = f"synthetic-ic-{j:02d}-2024-05-01-10-00-00-000"
            lines.extend(f"{job},{metric},{s}Z,{v:.6f}" for s, v in zip(stamps, values, strict=True))
    path.write_text("\n".join(lines) + "\n")


def write_training_log(path: Path) -> None:
    """Image-classification log: per epoch 6 batch lines, Train, Time cost, Validation, 1 noise line."""
    rng = np.random.default_rng(12345)
    lines = []
    epoch = 0
    while len(lines) < LOG_LINES:
        day, hour, minute = 1 + epoch // 1440 % 28, epoch // 60 % 24, epoch % 60
        stamp = f"[05/{day:02d}/2024 {hour:02d}:{minute:02d}:17 INFO 140213345234752]"
        for b in range(6):
            batch = f"Batch [{20 * (b + 1)}]#011Speed: 202.910 samples/sec#011accuracy={rng.random():.6f}"
            lines.append(f"{stamp} Epoch[{epoch}] {batch}")
        lines.append(f"{stamp} Epoch[{epoch}] Train-accuracy={rng.random():.6f}")
        lines.append(f"{stamp} Epoch[{epoch}] Time cost=90.491")
        lines.append(f"{stamp} Epoch[{epoch}] Validation-accuracy={rng.random():.6f}")
        lines.append(f'{stamp} Saved checkpoint to "/opt/ml/model/image-classification-{epoch:04d}.params"')
        epoch += 1
    path.write_text("\n".join(lines[:LOG_LINES]) + "\n")


def best_of_3(path: Path) -> tuple[float, int, str]:
    best, rows, fmt = float("inf"), 0, ""
    for _ in range(3):
        start = time.perf_counter()
        loaded = load_export(path)
        best = min(best, time.perf_counter() - start)
        rows, fmt = len(loaded.metrics), loaded.format
    return best, rows, fmt


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "long CSV (200k rows)": Path(tmp, "long.csv"),
            "training log (1M lines)": Path(tmp, "train.log"),
        }
        write_long_csv(files["long CSV (200k rows)"])
        write_training_log(files["training log (1M lines)"])
        for label, path in files.items():
            size_mb = path.stat().st_size / 1e6
            seconds, rows, fmt = best_of_3(path)
            print(
                f"{label:26s} {size_mb:7.1f} MB  format={fmt:22s} best of 3: {seconds:6.3f} s  "
                f"{size_mb / seconds:7.1f} MB/s  {rows / seconds:12,.0f} rows/s  ({rows:,} rows)"
            )


if __name__ == "__main__":
    main()
