"""Cost arithmetic: billable seconds × instances × hourly price; spot savings; unknown types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.analysis.pricing import (
    COST_COLUMNS,
    DEFAULT_PRICES,
    PRICES_SOURCE,
    cost_arithmetic,
    cost_summary,
    cost_table,
    price_lookup,
    price_table_for,
)
from lib.errors import InputError
from lib.schema import validate_jobs


def jobs_frame() -> pd.DataFrame:
    return validate_jobs(
        pd.DataFrame(
            {
                "job": ["on-demand", "spot", "unknown-type", "from-times"],
                "instance_type": ["ml.p3.2xlarge", "ml.m5.xlarge", "ml.x9.mega", "ml.c5.xlarge"],
                "instance_count": [1, 4, 1, 2],
                "training_seconds": [1294, 3600, 600, np.nan],
                "billable_seconds": [1294, 1080, 600, np.nan],
                "spot": [False, True, False, False],
                "start": [None, None, None, "2024-05-01T10:00:00Z"],
                "end": [None, None, None, "2024-05-01T10:30:00Z"],
            }
        )
    )


def test_default_price_table_is_complete_and_sourced() -> None:
    assert len(DEFAULT_PRICES) >= 25
    assert list(DEFAULT_PRICES.columns) == ["instance_type", "usd_per_hour", "region", "source"]
    assert DEFAULT_PRICES["instance_type"].is_unique
    assert DEFAULT_PRICES["instance_type"].str.startswith("ml.").all()
    assert (DEFAULT_PRICES["usd_per_hour"] > 0).all()
    assert "us-east-1" in PRICES_SOURCE
    assert "2024" in PRICES_SOURCE


def test_cost_is_billable_hours_times_instances_times_price() -> None:
    table = cost_table(jobs_frame()).set_index("job")
    assert list(table.reset_index().columns) == list(COST_COLUMNS)
    # 1294 s on one ml.p3.2xlarge at $3.825/h
    assert table.loc["on-demand", "cost_usd"] == pytest.approx(1294 / 3600 * 3.825)
    assert table.loc["on-demand", "spot_savings_usd"] == 0
    # spot: 1080 billable s × 4 × $0.23/h = $0.276; on demand would be 3600 s → $0.92
    assert table.loc["spot", "cost_usd"] == pytest.approx(0.276)
    assert table.loc["spot", "on_demand_cost_usd"] == pytest.approx(0.92)
    assert table.loc["spot", "spot_savings_usd"] == pytest.approx(0.644)
    assert table.loc["spot", "spot_savings_pct"] == pytest.approx(70.0)


def test_missing_seconds_fall_back_to_start_and_end() -> None:
    row = cost_table(jobs_frame()).set_index("job").loc["from-times"]
    assert row["billable_s"] == 1800
    assert row["cost_usd"] == pytest.approx(0.5 * 2 * 0.204)


def test_unknown_instance_type_gives_nan_and_a_note() -> None:
    row = cost_table(jobs_frame()).set_index("job").loc["unknown-type"]
    assert np.isnan(row["cost_usd"])
    assert row["note"] == "no price for ml.x9.mega: add it to the price table"


def test_edited_price_table_and_mapping_are_used() -> None:
    edited = pd.concat(
        [DEFAULT_PRICES, pd.DataFrame({"instance_type": ["ml.x9.mega"], "usd_per_hour": [10.0]})],
        ignore_index=True,
    )
    table = cost_table(jobs_frame(), edited).set_index("job")
    assert table.loc["unknown-type", "cost_usd"] == pytest.approx(600 / 3600 * 10.0)
    mapping = cost_table(jobs_frame(), {"ml.p3.2xlarge": 1.0}).set_index("job")
    assert mapping.loc["on-demand", "cost_usd"] == pytest.approx(1294 / 3600)
    assert np.isnan(mapping.loc["spot", "cost_usd"])


def test_bad_price_table_raises_input_error() -> None:
    with pytest.raises(InputError, match="lacks column"):
        price_lookup(pd.DataFrame({"type": ["ml.m5.large"], "price": [1.0]}))
    with pytest.raises(InputError, match=r"ml\.m5\.large is 'cheap'"):
        price_lookup(pd.DataFrame({"instance_type": ["ml.m5.large"], "usd_per_hour": ["cheap"]}))


def test_input_is_not_mutated() -> None:
    jobs = jobs_frame()
    before = jobs.copy()
    cost_table(jobs)
    pd.testing.assert_frame_equal(jobs, before)


def test_price_table_for_lists_missing_instance_types_first_with_empty_price() -> None:
    table = price_table_for(jobs_frame())
    assert list(table.columns) == ["instance_type", "usd_per_hour", "region", "source"]
    assert table["instance_type"].iloc[0] == "ml.x9.mega"
    # then the priced types the runs use, in table order, then everything else
    assert list(table["instance_type"].iloc[1:4]) == ["ml.m5.xlarge", "ml.c5.xlarge", "ml.p3.2xlarge"]
    assert table["instance_type"].iloc[4] == "ml.m5.large"
    assert np.isnan(table["usd_per_hour"].iloc[0])
    assert len(table) == len(DEFAULT_PRICES) + 1
    # An edited table is kept as given (a user's price wins) and nothing is added twice.
    edited = table.assign(usd_per_hour=table["usd_per_hour"].fillna(9.0))
    again = price_table_for(jobs_frame(), edited)
    assert len(again) == len(edited)
    assert price_lookup(again)["ml.x9.mega"] == 9.0


def test_cost_arithmetic_writes_each_cost_out() -> None:
    costs = cost_table(jobs_frame())
    text = cost_arithmetic(costs)
    assert text.iloc[0] == "1,294 s ÷ 3600 × 1 × $3.825/h = $1.37"  # 1294/3600*3.825 = 1.3749
    assert text.iloc[1] == (
        "1,080 s ÷ 3600 × 4 × $0.23/h = $0.28 (on demand: 3,600 s → $0.92; spot saves $0.64)"
    )
    assert text.iloc[2] == "no price for ml.x9.mega: add it to the price table"


def test_cost_summary_totals_priced_runs_only() -> None:
    costs = cost_table(jobs_frame())
    total = cost_summary(costs)
    priced = costs.loc[costs["cost_usd"].notna()]
    assert total.n_priced == 3
    assert total.n_unpriced == 1
    assert total.total_usd == pytest.approx(priced["cost_usd"].sum())
    assert total.spot_savings_usd == pytest.approx(0.92 - 0.276)
    assert total.on_demand_usd == pytest.approx(1294 / 3600 * 3.825 + 0.92 + 1800 / 3600 * 2 * 0.204)
    assert total.billable_hours == pytest.approx((1294 + 1080 * 4 + 1800 * 2) / 3600)
    assert total.savings_pct == pytest.approx(100 * total.spot_savings_usd / total.on_demand_usd)
