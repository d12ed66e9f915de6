"""Cost of the Training runs page's new chart features (issue 12), as ratios in one process.

Flag markers, the compressed run axis, TensorBoard's debiased EMA and anchoring TrainingJobAnalytics
rows, each against the plain version of the same call. Prints figures; no assertions.

Run: .venv/bin/python benchmarks/bench_runs_view.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_charts import best_of, long_frame, row
from lib import charts, demo
from lib.analysis import runs


def main() -> None:
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    m, j = demo.demo_metrics(), demo.demo_jobs()
    view = runs.select_view(m, j, metric="validation:accuracy")
    data, names = view.chart_metrics, view.metric_list

    def over_time(**kw: object) -> dict[str, object]:
        return charts.accuracy_over_time(data, metrics=names, metric=view.metric, **kw).to_dict()  # type: ignore[arg-type]

    plain = best_of(lambda: over_time())
    flagged = best_of(lambda: over_time(flags=view.flags))
    run_axis = best_of(lambda: over_time(flags=view.flags, time_axis="runs"))
    row("accuracy_over_time demo, no flags", plain)
    row("  + flag markers", flagged, f"({flagged / plain:.2f}x)")
    row("  + run axis (idle time compressed)", run_axis, f"({run_axis / plain:.2f}x)")

    rolling = best_of(lambda: runs.overlay_view(view.metrics, metric=view.metric, window=5))
    ema = best_of(lambda: runs.overlay_view(view.metrics, metric=view.metric, method="ema_debiased"))
    row("overlay_view demo, moving window 5", rolling)
    row("overlay_view demo, debiased EMA 0.6", ema, f"({ema / rolling:.2f}x)")

    big = long_frame(20, 50_000)
    roll_big = best_of(lambda: runs.smooth(big, window=10), 3)
    ema_big = best_of(lambda: runs.smooth(big, method="ema_debiased", weight=0.6), 3)
    row(f"smooth rolling(10) {len(big):,} rows", roll_big)
    row(f"smooth ema_debiased {len(big):,} rows", ema_big, f"({ema_big / roll_big:.2f}x)")
    axis = best_of(lambda: runs.run_time_axis(big), 3)
    row(f"run_time_axis {len(big):,} rows", axis)


if __name__ == "__main__":
    main()
