"""Simulations: the verdict rule's false-alarm rate, power, and large-sample behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.drift import compare

ALPHA = 0.05


def _null_pair(rng: np.random.Generator, n: int, columns: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref = pd.DataFrame(rng.normal(size=(n, columns)), columns=[f"x{i}" for i in range(columns)])
    cur = pd.DataFrame(rng.normal(size=(n, columns)), columns=ref.columns)
    return ref, cur


def test_share_of_null_replicates_with_any_false_alarm_stays_at_alpha() -> None:
    # Under the global null BH controls the family-wise rate at exactly alpha (independent tests),
    # so the observed share over 200 replicates scatters around alpha: allow 2.5 standard errors.
    rng = np.random.default_rng(2024)
    replicates = 200
    any_significant = any_drift = 0
    for _ in range(replicates):
        table = compare(*_null_pair(rng, 300, 10), workers=1).table
        significant = bool((table["p_adjusted"] < ALPHA).any())
        drifted = bool(table["drifted"].any())
        assert significant or not drifted  # the effect gate only ever removes alarms
        any_significant += significant
        any_drift += drifted
    margin = 2.5 * np.sqrt(ALPHA * (1 - ALPHA) / replicates)
    assert any_significant / replicates <= ALPHA + margin
    assert any_drift / replicates <= ALPHA + margin
    assert any_drift <= any_significant


def test_modest_shift_at_n_500_is_found_most_of_the_time() -> None:
    rng = np.random.default_rng(7)
    found = 0
    replicates = 100
    for _ in range(replicates):
        ref, cur = _null_pair(rng, 500, 5)
        cur = cur.assign(x0=cur["x0"] + 0.3)  # a 0.3 sd shift in one of five columns
        report = compare(ref, cur, workers=1)
        found += report.drifted_columns == ["x0"]
    assert found / replicates >= 0.8


def test_negligible_shift_at_a_million_rows_is_significant_but_not_drift() -> None:
    rng = np.random.default_rng(1)
    n = 1_000_000
    ref = pd.DataFrame({"x": rng.normal(0, 1, n)})
    cur = pd.DataFrame({"x": rng.normal(0.02, 1, n)})
    row = compare(ref, cur).table.iloc[0]
    assert row["p_adjusted"] < 1e-6
    assert row["effect_size"] < 0.1
    assert row["status"] == "negligible"
    assert not row["drifted"]
    assert row["reason"].startswith("real but negligible")
