"""Issue 11: Model Monitor's constraint checks and the Input drift page tell one story on the same data."""

from __future__ import annotations

import math

import numpy as np

from lib.analysis import monitor_checks
from lib.demo import monitor as demo_monitor
from lib.drift import compare
from lib.sources.capture import drift_frame


def test_checks_on_sixteen_records_carry_the_small_sample_caveat() -> None:
    art = demo_monitor.demo_artifacts()
    violations = art.check()
    assert violations is not None
    distance = violations.table.loc[violations.table["constraint_check_type"] == "baseline_drift_check"]
    assert len(distance) == 4
    assert distance["note"].str.startswith("Small sample: with 15 current records").all()
    assert (
        violations.table.loc[violations.table["constraint_check_type"] != "baseline_drift_check", "note"]
        == ""
    ).all()
    assert "note" not in violations.to_json()  # the JSON keeps Model Monitor's shape


def test_agreement_table_matches_the_drift_page_and_explains_each_difference() -> None:
    art = demo_monitor.demo_artifacts()
    agreement = monitor_checks.drift_agreement(art)
    assert art.capture is not None
    assert art.baseline is not None
    # What the Input drift page shows for the same capture (current) and baseline (reference).
    page = compare(monitor_checks.baseline_reference(art.baseline), drift_frame(art.capture.frame)).table
    page = page.drop_duplicates("column").set_index("column")
    for row in agreement.itertuples():
        assert row.drift_status == page.loc[row.feature_name, "status"]
    assert set(agreement["model_monitor"]) == {"violation"}  # Model Monitor flags all four ...
    assert set(agreement["drift_status"]) <= {"could not tell", "not detected"}  # ... the tests cannot
    assert not agreement["agree"].any()
    assert agreement["why"].str.startswith("Differ by design: with 15 records chance alone").all()
    assert (agreement["chance_distance"] > agreement["threshold"]).all()


def test_chance_distance_is_an_honest_95_percent_bound_for_numbers() -> None:
    # Current records drawn from the baseline itself: Model Monitor's distance should exceed the
    # stated chance level in at most 5 % of draws (it is a bound: the edges-only gap is smaller).
    art = demo_monitor.demo_artifacts()
    assert art.baseline is not None
    stat = next(f for f in art.baseline.features if f.kind == "numeric")
    replicates, above = 300, 0
    for seed in range(replicates):
        sample = monitor_checks.baseline_reference(art.baseline, n=16, seed=seed)[stat.name].dropna()
        d = monitor_checks.numeric_distance(stat, sample)
        above += d > monitor_checks.chance_distance(stat, len(sample))
    assert above / replicates <= 0.05 + 2.5 * math.sqrt(0.05 * 0.95 / replicates)
    big = monitor_checks.chance_distance(stat, 100_000)
    assert big < 0.07  # with many records the baseline's own size (1,000) bounds it
    assert np.isnan(monitor_checks.chance_distance(stat, 0))
