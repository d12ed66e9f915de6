"""Endpoint latency percentiles and their drift."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from lib.analysis.series import SeriesDrift, series_drift
from lib.errors import InputError
from lib.schema import to_utc
from lib.sources.latency import PERCENTILES


def latency_percentiles(frame: pd.DataFrame, *, freq: str = "1h") -> pd.DataFrame:
    """p50/p90/p99 per time bucket, endpoint, variant and metric, in microseconds and milliseconds.

    Where the frame already holds CloudWatch percentile statistics (``stat`` ``p50``/``p90``/``p99``
    per period), each bucket's value is the mean of that statistic over the periods in the bucket
    (percentiles cannot be merged exactly; this is the usual approximation). Otherwise the
    percentiles are computed over the values in the bucket (e.g. per-minute ``Average`` values or
    per-request latencies).

    Returns
    -------
    pandas.DataFrame
        Long: ``timestamp`` (bucket start), ``endpoint, variant, metric, percentile`` (``p50`` …),
        ``value_us, value_ms, n_points``.
    """
    cols = ["timestamp", "endpoint", "variant", "metric", "percentile", "value_us", "value_ms", "n_points"]
    if frame.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in cols}).astype(
            {"timestamp": "datetime64[ns, UTC]", "endpoint": "str", "variant": "str", "metric": "str",
             "percentile": "str", "n_points": "int64"}
        )  # fmt: skip
    missing = [c for c in ("timestamp", "metric", "value_us") if c not in frame.columns]
    if missing:
        raise InputError(
            f"The latency frame lacks column(s) {', '.join(missing)}.", hint="Use read_latency_export."
        )
    data = frame.assign(
        timestamp=to_utc(frame["timestamp"]).dt.floor(freq),
        endpoint=frame["endpoint"] if "endpoint" in frame.columns else "",
        variant=frame["variant"] if "variant" in frame.columns else "",
        stat=frame["stat"] if "stat" in frame.columns else "Average",
    )
    keys = ["timestamp", "endpoint", "variant", "metric"]
    parts = []
    for key, grp in data.groupby(["endpoint", "variant", "metric"], sort=True):
        ep, var, metric = cast(tuple[str, str, str], key)  # text columns (LATENCY_COLUMNS)
        have = [p for p in PERCENTILES if (grp["stat"] == p).any()]
        if have:
            sub = grp.loc[grp["stat"].isin(have)]
            agg = (
                sub.groupby(["timestamp", "stat"], sort=True)["value_us"].agg(["mean", "size"]).reset_index()
            )
            part = agg.rename(columns={"stat": "percentile", "mean": "value_us", "size": "n_points"})
        else:
            base = (
                grp.loc[~grp["stat"].isin(("Minimum", "Maximum"))]
                if (grp["stat"] == "Average").any()
                else grp
            )
            rows = []
            for ts, bucket in base.groupby("timestamp", sort=True):
                v = bucket["value_us"].to_numpy(dtype="float64")
                for p in PERCENTILES:
                    rows.append(
                        {"timestamp": ts, "percentile": p, "value_us": float(np.percentile(v, float(p[1:]))),
                         "n_points": len(v)}
                    )  # fmt: skip
            part = pd.DataFrame(rows)
        part = part.assign(endpoint=ep, variant=var, metric=metric)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["value_ms"] = out["value_us"] / 1e3
    out["n_points"] = out["n_points"].astype("int64")
    out = out[[*keys, "percentile", "value_us", "value_ms", "n_points"]]
    return out.sort_values([*keys[1:], "percentile", "timestamp"], kind="stable").reset_index(drop=True)


def latency_drift(
    percentiles: pd.DataFrame,
    *,
    metric: str = "ModelLatency",
    percentile: str = "p90",
    endpoint: str | None = None,
    variant: str | None = None,
    recent: int | None = None,
    baseline: int | None = None,
    alpha: float = 0.05,
    what: str = "periods",
    autocorrelation: bool = True,
) -> SeriesDrift:
    """Timing drift of one latency percentile over time buckets (``latency_percentiles`` output), in ms.

    ``endpoint``/``variant`` default to the first ones in the frame. Neighbouring buckets are not
    independent (load and caches persist from hour to hour), so by default both the change points and
    the window comparison allow for the lag-1 autocorrelation (``series_drift(autocorrelation=True)``);
    on AR(1) noise (lag-1 autocorrelation 0.3-0.8) that keeps false alarms at 0-4.2 % of stationary
    series, where the independent-points tests raise them in 27-100 % (change points) and 13-51 %
    (window comparison); see ``benchmarks/bench_flags.py``.

    Raises
    ------
    InputError
        If the frame has no rows for the metric and percentile asked for.
    """
    sel = percentiles
    if endpoint is None and len(sel):
        endpoint = str(sel["endpoint"].iloc[0])
    if variant is None and len(sel):
        variant = str(sel.loc[sel["endpoint"] == endpoint, "variant"].iloc[0])
    sel = sel.loc[
        (sel["metric"] == metric)
        & (sel["percentile"] == percentile)
        & (sel["endpoint"] == endpoint)
        & (sel["variant"] == variant)
    ].sort_values("timestamp", kind="stable")
    if sel.empty:
        have = sorted(set(percentiles["metric"])) if "metric" in percentiles.columns else []
        raise InputError(
            f"No {metric} {percentile} values for {endpoint or '?'}/{variant or '?'}.",
            hint=f"Metrics in the data: {', '.join(have) or 'none'}.",
        )
    stamps = to_utc(sel["timestamp"])
    return series_drift(
        sel["value_ms"],
        labels=list(stamps.dt.strftime("%Y-%m-%d %H:%M UTC")),
        times=stamps,
        recent=recent,
        baseline=baseline,
        alpha=alpha,
        unit="ms",
        what=what,
        autocorrelation=autocorrelation,
    )
