"""Training cost: an editable price table of common ``ml.*`` instance types and per-job cost arithmetic.

cost = billable seconds / 3600 × instance count × hourly price. For managed spot training,
SageMaker bills ``BillableTimeInSeconds`` (less than ``TrainingTimeInSeconds``); the on-demand
cost of the same run is training seconds × count × price, and the difference is the spot saving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from lib.errors import InputError

PRICES_SOURCE: Final = (
    "AWS SageMaker pricing page (aws.amazon.com/sagemaker/pricing), Training, us-east-1, on-demand "
    "list prices as known in mid-2024 (written from memory, not fetched live); prices change and "
    "differ by region: check the pricing page and edit the table in the app."
)

# (instance type, USD per instance-hour), SageMaker *training* on-demand, us-east-1.
_PRICE_ROWS: Final[tuple[tuple[str, float], ...]] = (
    ("ml.m5.large", 0.115),
    ("ml.m5.xlarge", 0.23),
    ("ml.m5.2xlarge", 0.461),
    ("ml.m5.4xlarge", 0.922),
    ("ml.m5.12xlarge", 2.765),
    ("ml.m5.24xlarge", 5.53),
    ("ml.m4.xlarge", 0.24),
    ("ml.c5.xlarge", 0.204),
    ("ml.c5.2xlarge", 0.408),
    ("ml.c5.4xlarge", 0.816),
    ("ml.c5.9xlarge", 1.836),
    ("ml.c5.18xlarge", 3.672),
    ("ml.p2.xlarge", 1.125),
    ("ml.p3.2xlarge", 3.825),
    ("ml.p3.8xlarge", 14.688),
    ("ml.p3.16xlarge", 28.152),
    ("ml.p3dn.24xlarge", 35.894),
    ("ml.p4d.24xlarge", 37.688),
    ("ml.g4dn.xlarge", 0.736),
    ("ml.g4dn.2xlarge", 0.94),
    ("ml.g4dn.4xlarge", 1.505),
    ("ml.g4dn.8xlarge", 2.72),
    ("ml.g4dn.12xlarge", 4.89),
    ("ml.g5.xlarge", 1.408),
    ("ml.g5.2xlarge", 1.515),
    ("ml.g5.4xlarge", 2.03),
    ("ml.g5.12xlarge", 7.09),
    ("ml.g5.48xlarge", 20.36),
)

PRICE_COLUMNS: Final = ("instance_type", "usd_per_hour", "region", "source")

#: The default price table (one row per instance type); copy it before editing.
DEFAULT_PRICES: Final[pd.DataFrame] = pd.DataFrame(
    {
        "instance_type": pd.Series([r[0] for r in _PRICE_ROWS], dtype="str"),
        "usd_per_hour": pd.Series([r[1] for r in _PRICE_ROWS], dtype="float64"),
        "region": pd.Series(["us-east-1"] * len(_PRICE_ROWS), dtype="str"),
        "source": pd.Series(
            ["SageMaker training on-demand list price, mid-2024"] * len(_PRICE_ROWS), dtype="str"
        ),
    }
)

COST_COLUMNS: Final = (
    "job",
    "instance_type",
    "instance_count",
    "spot",
    "training_s",
    "billable_s",
    "usd_per_hour",
    "cost_usd",
    "on_demand_cost_usd",
    "spot_savings_usd",
    "spot_savings_pct",
    "note",
)


def price_lookup(prices: pd.DataFrame | Mapping[str, float] | None = None) -> dict[str, float]:
    """Return ``{instance_type: usd_per_hour}`` from a price table (default: ``DEFAULT_PRICES``).

    Raises
    ------
    InputError
        If a table lacks the ``instance_type`` / ``usd_per_hour`` columns or a price is not a
        non-negative number.
    """
    if prices is None:
        prices = DEFAULT_PRICES
    if isinstance(prices, Mapping):
        table = pd.DataFrame({"instance_type": list(prices), "usd_per_hour": list(prices.values())})
    else:
        table = prices
    missing = [c for c in ("instance_type", "usd_per_hour") if c not in table.columns]
    if missing:
        raise InputError(
            f"The price table lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, table.columns))}.",
            hint="Expected columns: instance_type, usd_per_hour.",
        )
    rows = table.dropna(subset=["instance_type"])
    values = pd.to_numeric(rows["usd_per_hour"], errors="coerce")
    bad = rows.loc[(values.isna() & rows["usd_per_hour"].notna()) | (values < 0)]
    if len(bad):
        first = bad.iloc[0]
        raise InputError(
            f"The price for {first['instance_type']} is {first['usd_per_hour']!r}, "
            "not a non-negative number.",
            hint="Enter USD per instance-hour, e.g. 0.23.",
        )
    keys = rows["instance_type"].astype("str").str.strip()
    return {k: float(v) for k, v in zip(keys, values, strict=True) if k and not np.isnan(v)}


def _seconds(jobs: pd.DataFrame, column: str) -> pd.Series:
    if column in jobs.columns:
        return pd.to_numeric(jobs[column], errors="coerce").astype("float64")
    return pd.Series(np.nan, index=jobs.index, dtype="float64")


def _elapsed_s(jobs: pd.DataFrame) -> pd.Series:
    if "start" in jobs.columns and "end" in jobs.columns:
        start = pd.to_datetime(jobs["start"], utc=True, errors="coerce", format="mixed")
        end = pd.to_datetime(jobs["end"], utc=True, errors="coerce", format="mixed")
        return (end - start).dt.total_seconds().astype("float64")
    return pd.Series(np.nan, index=jobs.index, dtype="float64")


def job_seconds(jobs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Training and billable seconds per job with SageMaker's fallbacks.

    Training seconds: ``training_seconds``, else ``end - start``. Billable seconds:
    ``billable_seconds``, else the training seconds (on-demand jobs bill the whole run).
    """
    training = _seconds(jobs, "training_seconds").fillna(_elapsed_s(jobs))
    billable = _seconds(jobs, "billable_seconds").fillna(training)
    return training, billable


def cost_table(jobs: pd.DataFrame, prices: pd.DataFrame | Mapping[str, float] | None = None) -> pd.DataFrame:
    """Cost per training job from billable seconds, instance count and the hourly price.

    Parameters
    ----------
    jobs
        A jobs frame (``lib.schema.JOB_COLUMNS``): ``job``, ``instance_type``, ``instance_count``,
        ``training_seconds``, ``billable_seconds``, ``spot``; ``start``/``end`` are used when the
        seconds are missing.
    prices
        Price table with ``instance_type`` and ``usd_per_hour`` (default ``DEFAULT_PRICES``), or
        a mapping ``{instance_type: usd_per_hour}``.

    Returns
    -------
    pandas.DataFrame
        One row per job, columns ``COST_COLUMNS``. ``cost_usd = billable_s / 3600 × instance_count
        × usd_per_hour``; ``on_demand_cost_usd`` uses training seconds instead; spot savings are
        their difference (0 for on-demand jobs). An instance type missing from the table gives
        NaN costs and a ``note``, not an error.

    Raises
    ------
    InputError
        If ``jobs`` has no ``job`` column or the price table is malformed.

    Examples
    --------
    >>> jobs = pd.DataFrame({"job": ["a"], "instance_type": ["ml.m5.xlarge"], "instance_count": [2],
    ...                      "training_seconds": [3600], "billable_seconds": [3600], "spot": [False]})
    >>> float(cost_table(jobs)["cost_usd"].iloc[0])
    0.46
    """
    if "job" not in jobs.columns:
        raise InputError("The jobs table has no 'job' column.", hint="Load training jobs first.")
    lookup = price_lookup(prices)
    training, billable = job_seconds(jobs)
    count = (
        pd.to_numeric(jobs["instance_count"], errors="coerce")
        if "instance_count" in jobs.columns
        else pd.Series(np.nan, index=jobs.index)
    ).astype("float64")
    itype = (
        jobs["instance_type"].astype("string").str.strip()
        if "instance_type" in jobs.columns
        else pd.Series(pd.NA, index=jobs.index, dtype="string")
    )
    spot = (
        jobs["spot"].astype("boolean").fillna(False)
        if "spot" in jobs.columns
        else pd.Series(False, index=jobs.index, dtype="boolean")
    )
    price = itype.map(lambda t: lookup.get(t, np.nan) if isinstance(t, str) else np.nan).astype("float64")
    cost = billable / 3600.0 * count * price
    on_demand = training / 3600.0 * count * price
    on_demand = on_demand.where(spot.to_numpy(dtype=bool), cost)
    savings = on_demand - cost
    savings_pct = (100.0 * savings / on_demand).where(on_demand > 0)

    notes: list[str] = []
    for t, n, p, b in zip(itype, count, price, billable, strict=True):
        if not isinstance(t, str) or not t:
            notes.append("instance type unknown")
        elif np.isnan(p):
            notes.append(f"no price for {t}: add it to the price table")
        elif np.isnan(n):
            notes.append("instance count unknown")
        elif np.isnan(b):
            notes.append("run time unknown")
        else:
            notes.append("")
    out = pd.DataFrame(
        {
            "job": jobs["job"].astype("str"),
            "instance_type": itype,
            "instance_count": count.astype("Int64"),
            "spot": spot,
            "training_s": training,
            "billable_s": billable,
            "usd_per_hour": price,
            "cost_usd": cost,
            "on_demand_cost_usd": on_demand,
            "spot_savings_usd": savings,
            "spot_savings_pct": savings_pct,
            "note": pd.Series(notes, index=jobs.index, dtype="str"),
        }
    )
    return out.reset_index(drop=True)


def price_table_for(jobs: pd.DataFrame, prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """The price table to edit: ``prices`` (default ``DEFAULT_PRICES``) plus an empty-priced row for
    each instance type the jobs use that the table lacks. Rows are ordered: missing types first (so
    the gap is visible), then the types the jobs use, then the rest in table order.

    Returns
    -------
    pandas.DataFrame
        Columns ``PRICE_COLUMNS``; added rows have ``usd_per_hour`` NaN and source
        ``"not in the table: enter a price"``.
    """
    table = (DEFAULT_PRICES if prices is None else prices).copy()
    for col in PRICE_COLUMNS:
        if col not in table.columns:
            table[col] = pd.NA
    known = set(table["instance_type"].dropna().astype("str").str.strip())
    used = (
        sorted({str(t).strip() for t in jobs["instance_type"].dropna() if str(t).strip()})
        if "instance_type" in jobs.columns
        else []
    )
    missing = [t for t in used if t not in known]
    extra = pd.DataFrame(
        {
            "instance_type": pd.Series(missing, dtype="str"),
            "usd_per_hour": pd.Series([np.nan] * len(missing), dtype="float64"),
            "region": pd.Series([""] * len(missing), dtype="str"),
            "source": pd.Series(["not in the table: enter a price"] * len(missing), dtype="str"),
        }
    )
    # Types the runs use come first (those without a price on top), so the prices that matter are in view.
    types = table["instance_type"].astype("str").str.strip()
    used_set = set(used)
    table = pd.concat([table.loc[types.isin(used_set)], table.loc[~types.isin(used_set)]])
    out = pd.concat([extra, table[list(PRICE_COLUMNS)]], ignore_index=True) if missing else table
    out = out[list(PRICE_COLUMNS)].reset_index(drop=True)
    out["usd_per_hour"] = pd.to_numeric(out["usd_per_hour"], errors="coerce").astype("float64")
    for col in ("instance_type", "region", "source"):
        out[col] = out[col].astype("str").where(out[col].notna(), "")
    return out


def cost_arithmetic(costs: pd.DataFrame) -> pd.Series:
    """The cost of each row of ``cost_table`` written out, e.g. ``"3,600 s ÷ 3600 × 2 × $0.23/h = $0.46"``.

    Spot rows add the on-demand cost they would have had. Rows without a cost say why (the note).
    """
    out = []
    row: Any  # one cost_table row; pandas-stubs types every itertuples field as a Scalar union
    for row in costs.itertuples(index=False):
        cost = float(row.cost_usd)
        if not np.isfinite(cost):
            out.append(str(row.note) or "not computable")
            continue
        text = (
            f"{float(row.billable_s):,.0f} s ÷ 3600 × {int(row.instance_count)} × "
            f"${float(row.usd_per_hour):,.4g}/h = ${cost:,.2f}"
        )
        if bool(row.spot):
            text += (
                f" (on demand: {float(row.training_s):,.0f} s → ${float(row.on_demand_cost_usd):,.2f}; "
                f"spot saves ${float(row.spot_savings_usd):,.2f})"
            )
        out.append(text)
    return pd.Series(out, index=costs.index, dtype="str", name="arithmetic")


@dataclass(frozen=True)
class CostSummary:
    """Totals over a ``cost_table`` (priced runs only).

    Attributes
    ----------
    total_usd, on_demand_usd, spot_savings_usd
        Sum of ``cost_usd``, of ``on_demand_cost_usd`` and of ``spot_savings_usd``.
    n_priced, n_unpriced
        Runs with and without a computable cost.
    billable_hours
        Sum of billable instance-hours (billable seconds × instance count / 3600) of priced runs.
    """

    total_usd: float
    on_demand_usd: float
    spot_savings_usd: float
    n_priced: int
    n_unpriced: int
    billable_hours: float

    @property
    def savings_pct(self) -> float:
        """Spot savings as a share of the on-demand cost, in percent (NaN without any cost)."""
        return 100.0 * self.spot_savings_usd / self.on_demand_usd if self.on_demand_usd > 0 else float("nan")


def cost_summary(costs: pd.DataFrame) -> CostSummary:
    """Totals of a ``cost_table``: what the runs cost, what spot saved, how many runs have no price."""
    priced = costs.loc[np.isfinite(costs["cost_usd"].to_numpy(dtype="float64"))]
    hours = priced["billable_s"].astype("float64") * priced["instance_count"].astype("float64") / 3600.0
    return CostSummary(
        total_usd=float(priced["cost_usd"].sum()),
        on_demand_usd=float(priced["on_demand_cost_usd"].sum()),
        spot_savings_usd=float(priced["spot_savings_usd"].sum()),
        n_priced=len(priced),
        n_unpriced=len(costs) - len(priced),
        billable_hours=float(hours.sum()),
    )
