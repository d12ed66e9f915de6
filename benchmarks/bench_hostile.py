"""How long do hostile inputs hold the server? A catastrophic user regex on RE2 vs Python's re, and
the time to refuse each generated bomb (gzip, zip, Parquet) at the caps of ``lib.sources.files``.

Run: ``.venv/bin/python benchmarks/bench_hostile.py``. Python's ``re`` is given a 22-character line
(it doubles with every extra character); RE2 gets that line and 1,000 lines of 16,000 characters
(just under the log reader's line cap), 16 MB.
"""

from __future__ import annotations

import io
import re
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.errors import InputError
from lib.sources import capture, files, load_export
from lib.sources.logs import MetricDefinition, parse_log_lines
from lib.sources.tables import read_table

PATTERN = r"(a|a)*b=(\d)"
SHOWN = PATTERN.replace("|", "\\|")  # inside a Markdown table


def timed(fn: Callable[[], object]) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        fn()
        outcome = "read"
    except InputError as err:
        outcome = "refused: " + err.message.split(": ", 1)[-1][:70]
    return time.perf_counter() - start, outcome


def gzip_bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"0,0,0,0\n" * (1 << 17)
    return b"".join([*(comp.compress(chunk) for _ in range(size // len(chunk) + 1)), comp.flush()])


def main() -> None:
    print("| input | time | outcome |\n|---|---|---|")
    line = "a" * 22
    start = time.perf_counter()
    re.search(PATTERN, line)
    print(f"| `{SHOWN}` on a {len(line)}-char line, Python `re` | {time.perf_counter() - start:.2f} s | |")
    definition = MetricDefinition("m", PATTERN)
    for lines in ([line], ["a" * 16_000] * 1_000):
        t, _ = timed(lambda lines=lines: parse_log_lines(lines, job="j", metric_definitions=[definition]))
        what = f"{len(lines):,} line(s) of {len(lines[0]):,} chars"
        print(f"| `{SHOWN}` on {what}, RE2 (the app) | {t:.3f} s | |")
    bomb = gzip_bomb(files.MAX_BYTES + (64 << 20))
    size = f"{len(bomb) / 2**20:.1f} MB → {(files.MAX_BYTES >> 20) + 64} MiB"
    for label, fn in (
        (f"metrics .csv.gz bomb ({size})", lambda: load_export(bomb, "m.csv.gz")),
        (f"table .csv.gz bomb ({size})", lambda: read_table(bomb, name="t.csv.gz")),
        (f"capture .jsonl.gz bomb ({size})", lambda: capture.read_capture(bomb, name="c.jsonl.gz")),
    ):
        t, outcome = timed(fn)
        print(f"| {label} | {t:.2f} s | {outcome} |", flush=True)
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": pa.nulls(200_000_000, pa.int8())}), buf)
    raw = buf.getvalue()
    t, outcome = timed(lambda: read_table(raw, name="p.parquet"))
    print(f"| Parquet, 200M rows of nulls ({len(raw) / 2**20:.1f} MB) | {t:.3f} s | {outcome} |")


if __name__ == "__main__":
    main()
