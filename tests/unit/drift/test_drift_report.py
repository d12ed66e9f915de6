"""compare(): the verdict rule, test choice, signals, exports and the overlay data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.drift import DEFAULTS, UnknownDriftTest, binned_overlay, compare
from lib.drift.engine import TABLE_COLUMNS
from lib.drift.rule import verdict
from lib.errors import InputError
from lib.export import to_csv_bytes


def _frames(n: int = 500, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "moved": rng.normal(0, 1, n),
            "stable": rng.normal(0, 1, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "flag": rng.random(n) < 0.5,
            "count": rng.integers(0, 4, n),
        }
    )
    cur = pd.DataFrame(
        {
            "user_id": np.arange(n) + n,
            "moved": rng.normal(0.6, 1, n),
            "stable": rng.normal(0, 1, n),
            "colour": rng.choice(["red", "green", "blue", "pink"], n, p=[0.27, 0.27, 0.26, 0.2]),
            "flag": rng.random(n) < 0.5,
            "count": rng.integers(0, 4, n),
        }
    )
    return ref, cur


def test_table_has_one_row_per_column_with_the_documented_fields() -> None:
    ref, cur = _frames()
    report = compare(ref, cur)
    assert tuple(report.table.columns) == TABLE_COLUMNS
    assert sorted(report.table["column"]) == ["colour", "count", "flag", "moved", "stable"]  # id excluded
    assert report.kinds["user_id"] == "id"
    assert set(report.drifted_columns) == {"moved", "colour"}
    assert report.table["drifted"].iloc[0]  # drifted first, then by effect
    assert "Benjamini-Hochberg" in report.rule
    assert "0.05" in report.rule


def test_automatic_test_choice_by_type_cardinality_and_size() -> None:
    ref, cur = _frames()
    tests = compare(ref, cur).table.set_index("column")["test"]
    assert tests["moved"] == "ks"
    assert tests["colour"] == "chi2"
    assert tests["count"] == "chi2"  # 4 distinct integers: tested as categories
    assert tests["flag"] == "chi2"
    small = compare(ref.head(12), cur.head(12), columns=["flag"])
    assert small.table["test"].item() == "fisher_exact"  # expected counts below 5


def test_p_values_are_adjusted_by_benjamini_hochberg_across_the_report() -> None:
    ref, cur = _frames()
    table = compare(ref, cur, tests=["ks", "mannwhitney", "chi2"]).table
    # ks+mw on the 2 continuous columns; ks+mw+chi2 on the 4-value "count"; chi2 on colour and flag
    assert len(table) == 2 * 2 + 3 + 2
    expected = stats.false_discovery_control(table["p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(table["p_adjusted"].to_numpy(), expected, rtol=1e-12)


def test_per_column_override_and_thresholds() -> None:
    ref, cur = _frames()
    report = compare(ref, cur, tests={"moved": "psi"}, thresholds={"numeric": 5.0, "colour": 0.9})
    row = report.table.set_index("column").loc["moved"]
    assert row["test"] == "psi"
    assert row["p_value"] < 1e-3  # distances carry a permutation p-value now
    assert "permutation" in row["p_method"]
    assert not report.table["drifted"].any()  # both thresholds out of reach
    assert (report.table.set_index("column")["effect_threshold"][["moved", "colour"]] == [5.0, 0.9]).all()


def test_explicit_test_that_does_not_fit_is_an_input_error() -> None:
    ref, cur = _frames()
    with pytest.raises(InputError, match="'colour' is categorical"):
        compare(ref, cur, tests={"colour": "ks"})
    with pytest.raises(UnknownDriftTest):
        compare(ref, cur, tests="kolmogorov")


def test_global_test_list_skips_columns_it_does_not_fit() -> None:
    ref, cur = _frames()
    table = compare(ref, cur, tests="ks").table.set_index("column")["test"]
    assert table["moved"] == "ks"
    assert table["colour"] == "chi2"


def test_could_not_tell_is_distinct_from_no_drift() -> None:
    rng = np.random.default_rng(5)
    small = compare(pd.DataFrame({"x": rng.normal(size=40)}), pd.DataFrame({"x": rng.normal(size=40)}))
    row = small.table.iloc[0]
    assert row["status"] == "could not tell"
    assert row["min_detectable_effect"] == pytest.approx(0.78, abs=0.01)
    assert "with 40 vs 40 rows only shifts of 0.78 sd or more are detectable" in row["reason"]
    big = compare(pd.DataFrame({"x": rng.normal(size=5000)}), pd.DataFrame({"x": rng.normal(size=5000)}))
    assert big.table.iloc[0]["status"] == "no drift"
    assert "would have been detected" in big.table.iloc[0]["reason"]


def test_verdict_rule_cases() -> None:
    common = {"threshold": 0.1, "min_detectable": 0.05, "alpha": 0.05, "treatment": "numeric"}
    sizes = {"n_reference": 100, "n_current": 100}
    assert verdict(p_adjusted=0.01, effect=0.3, **common, **sizes)[:2] == (True, "drift")  # type: ignore[arg-type]
    assert verdict(p_adjusted=0.01, effect=0.05, **common, **sizes)[:2] == (False, "negligible")  # type: ignore[arg-type]
    assert verdict(p_adjusted=0.2, effect=0.3, **common, **sizes)[:2] == (False, "no drift")  # type: ignore[arg-type]
    # No p-value: not judged against a noise floor any more (that flagged 100 % of null 10-vs-10 pairs).
    assert verdict(p_adjusted=None, effect=0.3, **common, **sizes)[:2] == (False, "could not tell")  # type: ignore[arg-type]
    bounded = {**common, "min_detectable": 0.28}
    drifted, status, reason = verdict(p_adjusted=0.2, effect=0.3, **bounded, **sizes)  # type: ignore[arg-type]
    assert (drifted, status) == (False, "not detected")
    assert reason.startswith("no drift of 0.28 sd or more detected (n = 100 vs 100 rows; 80% power")
    unsure = {**common, "min_detectable": 0.51}  # beyond 5x the threshold: no useful bound
    assert verdict(p_adjusted=0.2, effect=0.3, **unsure, **sizes)[:2] == (False, "could not tell")  # type: ignore[arg-type]


def test_signals_missing_type_mix_unseen_and_out_of_range() -> None:
    rng = np.random.default_rng(11)
    n = 1000
    ref = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n), "m": rng.normal(size=n)})
    x = rng.normal(size=n)
    x[:100] = 50.0  # out of range
    text = pd.Series(rng.normal(size=n).round(3).astype(str), dtype="str")
    text.iloc[:30] = "n/a?"  # 3 % not numbers
    m = rng.normal(size=n)
    m[:200] = np.nan
    cur = pd.DataFrame({"x": x, "c": rng.choice(["a", "b", "zz"], n), "m": m})
    cur_typed = cur.assign(x=text)
    flagged = compare(ref, cur).signals.query("flagged").set_index(["column", "signal"])
    assert ("x", "out_of_range") in flagged.index
    assert ("c", "unseen_categories") in flagged.index
    assert "'zz'" in flagged.loc[("c", "unseen_categories"), "message"]
    assert ("m", "missing_rate") in flagged.index
    assert flagged.loc[("m", "missing_rate"), "current"] == pytest.approx(0.2)
    mix = compare(ref, cur_typed).signals.set_index(["column", "signal"])
    assert mix.loc[("x", "type_mix"), "current"] == pytest.approx(0.03)
    assert mix.loc[("x", "type_mix"), "flagged"]


def test_garbage_in_a_numeric_column_is_a_clear_input_error() -> None:
    ref = pd.DataFrame({"price": np.arange(10.0)})
    cur = pd.DataFrame({"price": ["cheap", "dear"] * 5})
    with pytest.raises(InputError, match=r"new\.csv: column 'price' should hold numbers, but 10 of 10"):
        compare(ref, cur, current_name="new.csv")


@pytest.mark.parametrize(
    ("ref", "cur", "message"),
    [
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]}), "share no columns"),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1]}), "has 1 row"),
        (pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"a": [np.nan, np.nan]}), "every value"),
        (pd.DataFrame({"id": [1, 2, 3]}), pd.DataFrame({"id": [4, 5, 6]}), "No testable columns"),
    ],
)
def test_bad_pairs_raise_input_errors(ref: pd.DataFrame, cur: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        compare(ref, cur)


def test_nan_inf_and_constant_columns() -> None:
    ref = pd.DataFrame({"k": [1.0] * 50, "gappy": [np.nan, np.inf, *range(48)], "allnan": [1.0] * 50})
    cur = pd.DataFrame({"k": [1.0] * 50, "gappy": [*range(49), -np.inf], "allnan": [np.nan] * 50})
    table = compare(ref, cur, kinds={"k": "numeric"}).table.set_index("column")
    assert table.loc["k", "effect_size"] == 0.0
    assert not table.loc["k", "drifted"]
    assert table.loc["gappy", "n_reference"] == 48
    assert table.loc["gappy", "n_current"] == 49
    assert table.loc["allnan", "status"] == "not tested"
    assert "0 usable" in table.loc["allnan", "reason"]


def test_json_export_is_strict_and_complete() -> None:
    ref, cur = _frames()
    report = compare(ref, cur, multivariate=True)
    data = json.loads(report.to_json())
    assert data["alpha"] == 0.05
    assert data["rule"] == report.rule
    assert len(data["columns"]) == len(report.table)
    assert data["multivariate"]["auc"] == pytest.approx(report.multivariate.auc)
    assert "NaN" not in report.to_json()


def test_csv_export_neutralises_formulas() -> None:
    table = pd.DataFrame({"column": ["=cmd|' /C calc'!A0", "+1", "-x", "@sum", "\tx", "\rx", "ok"], "v": 1.5})
    text = to_csv_bytes(table).decode()
    lines = text.splitlines()
    assert lines[1].startswith("'=cmd")
    for prefix in ("'+1", "'-x", "'@sum"):
        assert any(line.startswith(prefix) for line in lines)
    assert "'\tx" in text
    assert "'\rx" in text
    assert "\nok,1.5" in text
    ref, cur = _frames()
    evil = ref.rename(columns={"moved": "=HYPERLINK(1)"}), cur.rename(columns={"moved": "=HYPERLINK(1)"})
    assert b"\n'=HYPERLINK(1)," in compare(*evil).to_csv()


def test_html_export_is_self_contained_and_escaped() -> None:
    ref, cur = _frames()
    name = "<script>alert(1)</script>"
    page = compare(ref.rename(columns={"moved": name}), cur.rename(columns={"moved": name})).to_html()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page
    assert "https://" not in page
    assert "src=" not in page
    assert page.startswith("<!doctype html>")


def test_binned_overlay_numeric_and_categorical() -> None:
    ref, cur = _frames()
    numbers = binned_overlay(ref, cur, "moved", "numeric", bins=12)
    assert set(numbers.columns) >= {"bin", "side", "share"}
    assert len(numbers) == 24
    shares = numbers.groupby("side")["share"].sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0)
    assert numbers.groupby("side")["cumulative_share"].last().tolist() == pytest.approx([1.0, 1.0])
    cats = binned_overlay(ref, cur, "colour").set_index(["side", "bin"])["share"]
    assert cats[("reference", "pink")] == 0.0
    assert cats[("current", "pink")] == pytest.approx((cur["colour"] == "pink").mean())
    capped = binned_overlay(ref["colour"], cur["colour"], max_categories=2)
    assert "(other)" in set(capped["bin"])


def test_defaults_are_documented_in_one_place() -> None:
    assert DEFAULTS.alpha == 0.05
    assert DEFAULTS.numeric_threshold == 0.1
    assert DEFAULTS.categorical_threshold == 0.1
