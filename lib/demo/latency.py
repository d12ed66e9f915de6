"""Synthetic latency of the demo's churn-endpoint, 6-8 May 2024, with one planted step (Timing page)."""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import pandas as pd

from lib.demo.story import DEMO_ENDPOINT, DEMO_VARIANT
from lib.sources.latency import latency_frame

#: Where ``demo_latency`` puts its step change (ModelLatency +35 % from here on).
DEMO_LATENCY_CHANGE: Final = pd.Timestamp("2024-05-07 14:00", tz="UTC")


def demo_latency(*, days: int = 3, period_min: int = 5) -> pd.DataFrame:
    """Deterministic synthetic endpoint latency for a first look at the page.

    Endpoint ``churn-endpoint`` (``DEMO_ENDPOINT``, the churn model of every demo), variant
    ``AllTraffic``, from 6 May 2024 00:00 UTC for ``days`` days; ``ModelLatency`` around 12 ms (p50)
    with a daily cycle and a +35 % step at ``DEMO_LATENCY_CHANGE``; ``OverheadLatency`` around 1.5 ms with a
    slow creep. One row per period and statistic (``Average``, ``p50``, ``p90``, ``p99``), as a
    get-metric-statistics export with ``ExtendedStatistics`` would give.
    """
    rng = np.random.default_rng(20240506)
    start = pd.Timestamp("2024-05-06 00:00", tz="UTC")
    times = pd.date_range(start, periods=days * 24 * 60 // period_min, freq=f"{period_min}min", tz="UTC")
    hours = np.asarray((times - start).total_seconds() / 3600.0)
    z = {"p50": 0.0, "p90": 1.2816, "p99": 2.3263}
    rows: list[dict[str, Any]] = []
    for metric, median_us, sigma in (("ModelLatency", 12_000.0, 0.35), ("OverheadLatency", 1_500.0, 0.25)):
        level = median_us * (1 + 0.02 * np.sin(2 * np.pi * hours / 24.0))
        if metric == "ModelLatency":
            level = level * np.where(times >= DEMO_LATENCY_CHANGE, 1.35, 1.0)
        else:
            level = level * (1 + 0.001 * hours)
        noise = np.exp(rng.normal(0.0, 0.08, size=len(times)))
        for i, ts in enumerate(times):
            m = level[i] * noise[i]
            key = {"timestamp": ts, "endpoint": DEMO_ENDPOINT, "variant": DEMO_VARIANT, "metric": metric}
            rows.append({**key, "stat": "Average", "value_us": m * math.exp(sigma**2 / 2)})
            for p, zq in z.items():
                rows.append({**key, "stat": p, "value_us": m * math.exp(sigma * zq)})
    return latency_frame(rows)
