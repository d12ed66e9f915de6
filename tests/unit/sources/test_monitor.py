"""Model Monitor baselines: statistics/constraints import, synthetic reference, constraint checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.analysis.monitor_checks import (
    baseline_distributions,
    baseline_reference,
    categorical_distance,
    check_constraints,
    load_artifacts,
    numeric_distance,
)
from lib.demo.drift import DEMO_FEATURES
from lib.demo.monitor import DEMO_DIR, demo_artifacts, demo_monitor_files
from lib.errors import InputError
from lib.sources.capture import read_capture
from lib.sources.monitor_files import read_constraints, read_statistics
from tests.support import paths

DATA = paths.DATA / "model_monitor"
STATS = DATA / "statistics.json"
CONSTRAINTS = DATA / "constraints.json"


@pytest.fixture
def baseline() -> Any:
    return read_statistics(STATS)


@pytest.fixture
def constraints() -> Any:
    return read_constraints(CONSTRAINTS)


def good_frame(n: int = 200) -> pd.DataFrame:
    """Current data that satisfies every constraint of the sample (drift not considered)."""
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "age": rng.integers(21, 71, n),
            "tenure_months": rng.integers(1, 73, n),
            "monthly_charges": rng.uniform(18.25, 118.75, n).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )


def test_statistics_are_read_per_feature(baseline: Any) -> None:
    assert baseline.feature_names == ["age", "tenure_months", "monthly_charges", "plan"]
    assert baseline.item_count == 1000
    age = baseline.feature("age")
    assert (age.inferred_type, age.mean, age.std, age.min, age.max) == ("Integral", 44.3, 13.9, 21, 70)
    assert len(age.numeric_buckets) == 10
    assert age.numeric_buckets[0] == (21.0, 25.9, 110.0)
    assert baseline.feature("monthly_charges").completeness == pytest.approx(0.998)
    plan = baseline.feature("plan")
    assert plan.kind == "categorical"
    assert plan.categorical_buckets == (("basic", 512.0), ("plus", 331.0), ("pro", 157.0))
    assert baseline.table["n_buckets"].tolist() == [10, 10, 10, 3]


def test_unknown_feature_lists_the_names(baseline: Any) -> None:
    with pytest.raises(InputError) as info:
        baseline.feature("salary")
    assert "age, tenure_months" in (info.value.hint or "")


def test_constraints_are_read_with_monitoring_config(constraints: Any) -> None:
    assert constraints.feature_names == ["age", "tenure_months", "monthly_charges", "plan"]
    plan = constraints.features[3]
    assert plan.domains == ("basic", "plus", "pro")
    assert constraints.features[0].is_non_negative is True
    assert constraints.comparison_threshold == 0.1
    assert constraints.categorical_drift_method == "LInfinity"
    assert constraints.datatype_check_threshold == 1.0


def test_constraints_file_given_as_statistics_is_refused_clearly() -> None:
    with pytest.raises(InputError, match=r"constraints\.json: .*looks like a constraints\.json"):
        read_statistics(CONSTRAINTS)


def test_not_json_names_the_file() -> None:
    with pytest.raises(InputError, match=r"stats\.json: is not valid JSON"):
        read_statistics(_Upload(b"age,plan\n1,basic", "stats.json"))


def test_json_without_features_says_what_was_found() -> None:
    with pytest.raises(InputError) as info:
        read_constraints({"schedule": []})
    assert "schedule" in str(info.value)
    assert "'features' list" in str(info.value)
    with pytest.raises(InputError, match=r"looks like a constraint_violations\.json"):
        read_constraints({"violations": []})  # a known Model Monitor file is named as such


class _Upload:
    """Minimal stand-in for a Streamlit UploadedFile."""

    def __init__(self, data: bytes, name: str) -> None:
        self._data, self.name = data, name

    def getvalue(self) -> bytes:
        return self._data


def test_reference_sample_follows_the_buckets(baseline: Any) -> None:
    ref = baseline_reference(baseline, n=20_000, seed=1)
    assert list(ref.columns) == baseline.feature_names
    # Bucket shares: counts 110/1000 in [21, 25.9] for age (uniform inside, then rounded).
    age = ref["age"].to_numpy()
    assert np.all((age >= 21) & (age <= 70))
    assert np.all(age == np.round(age))
    charges = ref["monthly_charges"].dropna().to_numpy()
    share_first = np.mean(charges < 28.3)
    assert share_first == pytest.approx(90 / 1000, abs=0.01)
    assert ref["monthly_charges"].isna().sum() == 40  # 0.2 % missing, as in the baseline
    shares = ref["plan"].value_counts(normalize=True)
    assert shares["basic"] == pytest.approx(0.512, abs=0.015)
    assert shares["pro"] == pytest.approx(0.157, abs=0.015)


def test_reference_sample_is_deterministic(baseline: Any) -> None:
    pd.testing.assert_frame_equal(
        baseline_reference(baseline, n=500, seed=4), baseline_reference(baseline, n=500, seed=4)
    )


def test_reference_drawn_from_the_baseline_passes_its_own_constraints(
    baseline: Any, constraints: Any
) -> None:
    ref = baseline_reference(baseline, n=5000, seed=2)
    result = check_constraints(ref, constraints, baseline)
    assert result.to_dict() == {"violations": []}
    assert set(result.table["status"]) == {"ok"}


def test_numeric_distance_is_the_max_cdf_gap_at_bucket_edges(baseline: Any) -> None:
    age = baseline.feature("age")
    # All current values in the first bucket: F_current = 1 from its upper edge on; the sample's
    # age buckets hold 1100 counts, 110 in the first, so F_baseline(25.9) = 0.1 and the gap is 0.9.
    assert numeric_distance(age, [22, 23, 24]) == pytest.approx(1 - 110 / 1100)
    # Half below the baseline minimum counts as a gap of 0.5 at the lower edge.
    assert numeric_distance(age, [10, 10, 68, 69]) >= 0.5


def test_numeric_distance_matches_ks_on_a_fine_grid() -> None:
    from lib.sources.monitor_files import FeatureStatistics

    rng = np.random.default_rng(0)
    ref = rng.normal(size=100_000)
    edges = np.linspace(-4, 4, 401)
    counts, _ = np.histogram(np.clip(ref, -4, 4), edges)
    feature = FeatureStatistics(
        "x", "Fractional", 1e5, 0, numeric_buckets=tuple(zip(edges[:-1], edges[1:], counts, strict=True))
    )
    cur = rng.normal(0.5, 1, 5000)
    ks = stats.ks_2samp(ref, cur).statistic
    assert numeric_distance(feature, cur) == pytest.approx(ks, abs=0.01)


def test_categorical_distance_is_l_infinity(baseline: Any) -> None:
    plan = baseline.feature("plan")
    # Current shares basic 0.25, plus 0.25, pro 0.25, gold 0.25 → max gap |0.512 - 0.25| = 0.262.
    assert categorical_distance(plan, ["basic", "plus", "pro", "gold"]) == pytest.approx(0.262)


def test_violations_json_has_the_shape_and_wording_of_constraint_violations_json(
    baseline: Any, constraints: Any
) -> None:
    current = good_frame()
    current["age"] = current["age"].astype("float64")
    current.loc[:4, "age"] = 40.5  # 5 of 200 not integral → 97.5 %
    result = check_constraints(current, constraints)
    sample = json.loads((DATA / "constraint_violations.json").read_text())
    expected = next(v for v in sample["violations"] if v["constraint_check_type"] == "data_type_check")
    assert result.to_dict()["violations"] == [expected]
    assert json.loads(result.to_json()) == {"violations": [expected]}
    assert set(json.loads(result.to_json())["violations"][0]) == {
        "feature_name",
        "constraint_check_type",
        "description",
    }


def test_baseline_drift_check_flags_a_shifted_feature(baseline: Any, constraints: Any) -> None:
    current = good_frame(1000)
    current["monthly_charges"] = np.random.default_rng(5).uniform(80, 118.75, 1000).round(2)
    result = check_constraints(current, constraints, baseline)
    drift = [v for v in result.violations if v.constraint_check_type == "baseline_drift_check"]
    assert "monthly_charges" in [v.feature_name for v in drift]
    text = next(v.description for v in drift if v.feature_name == "monthly_charges")
    assert text.startswith("Numerical distance: 0.")
    assert text.endswith("exceeds numerical threshold: 0.1")


def test_completeness_categorical_missing_and_extra_columns(constraints: Any) -> None:
    current = good_frame(100).drop(columns=["tenure_months"])
    current.loc[:9, "plan"] = "gold"  # 90 % in domain
    current.loc[:4, "age"] = np.nan  # 95 % complete
    current["zip"] = "12345"
    current["prediction"] = 0.5  # capture output: not an extra column
    result = check_constraints(current, constraints)
    got = {(v.feature_name, v.constraint_check_type): v.description for v in result.violations}
    assert set(got) == {
        ("tenure_months", "missing_column_check"),
        ("zip", "extra_column_check"),
        ("age", "completeness_check"),
        ("plan", "categorical_values_check"),
    }
    assert got[("age", "completeness_check")] == (
        "Data completeness requirement is not met. Expected completeness: 100.0%. "
        "Observed: Only 95.0% of data is complete."
    )
    assert (
        "Observed: Only 90.0% of data is within the baseline domain"
        in got[("plan", "categorical_values_check")]
    )
    assert "Number of columns in current dataset: 4" in got[("zip", "extra_column_check")]


def test_drift_is_skipped_without_baseline_and_listed_in_the_table(constraints: Any) -> None:
    result = check_constraints(good_frame(), constraints)
    skipped = result.table.loc[result.table["constraint_check_type"] == "baseline_drift_check"]
    assert set(skipped["status"]) == {"skipped"}
    assert len(result) == 0


def test_thresholds_and_overrides_are_honoured(constraints: Any) -> None:
    doc = json.loads(CONSTRAINTS.read_text())
    doc["monitoring_config"]["datatype_check_threshold"] = 0.9
    doc["features"][0]["monitoringConfigOverrides"] = {"datatype_check_threshold": 1.0}
    relaxed = read_constraints(doc)
    current = good_frame()
    current["age"] = current["age"].astype("float64")
    current["tenure_months"] = current["tenure_months"].astype("float64")
    current.loc[:4, ["age", "tenure_months"]] = 10.5
    result = check_constraints(current, relaxed)
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == [
        ("age", "data_type_check")
    ]


def test_fractional_accepts_whole_numbers_and_string_columns_are_typed_per_value(constraints: Any) -> None:
    current = good_frame()
    current["monthly_charges"] = current["monthly_charges"].round(0)
    current["age"] = current["age"].astype("str")  # "42" strings are still Integral
    current.loc[0, "plan"] = "7"  # a number where a String is expected
    result = check_constraints(current, constraints)
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == [
        ("plan", "data_type_check"),
        ("plan", "categorical_values_check"),
    ]


def test_chi_squared_method_uses_a_p_value(baseline: Any) -> None:
    doc = json.loads(CONSTRAINTS.read_text())
    doc["monitoring_config"]["distribution_constraints"]["categorical_drift_method"] = "ChiSquared"
    doc["monitoring_config"]["distribution_constraints"]["categorical_comparison_threshold"] = 0.05
    chi = read_constraints(doc)
    same = pd.DataFrame({"plan": ["basic"] * 512 + ["plus"] * 331 + ["pro"] * 157})
    shifted = pd.DataFrame({"plan": ["basic"] * 300 + ["plus"] * 300 + ["pro"] * 400})
    ignore = ("age", "tenure_months", "monthly_charges")

    def plan_drift(frame: pd.DataFrame) -> bool:
        result = check_constraints(frame.assign(**dict.fromkeys(ignore, 30)), chi, baseline)
        return any(
            v.feature_name == "plan" and v.constraint_check_type == "baseline_drift_check"
            for v in result.violations
        )

    assert not plan_drift(same)
    assert plan_drift(shifted)


def test_capture_sample_checked_against_the_sample_baseline(baseline: Any, constraints: Any) -> None:
    current = read_capture(DATA / "data_capture_sample.jsonl", feature_names=baseline.feature_names)
    result = check_constraints(current, constraints, baseline)
    types = {v.constraint_check_type for v in result.violations}
    assert types <= {"baseline_drift_check"}  # 6 rows: types, domain and completeness are fine
    assert "inference_time" not in set(result.table["feature_name"])


def test_distributions_put_current_values_in_baseline_buckets(baseline: Any) -> None:
    current = pd.DataFrame({"age": [22, 23, 69, 90], "plan": ["basic", "basic", "gold", None]})
    table = baseline_distributions(baseline, current)
    age = table.loc[table["feature"] == "age"]
    assert age["baseline_share"].iloc[:10].sum() == pytest.approx(1.0)
    assert age["current_count"].iloc[0] == 2
    assert age.loc[age["bucket"] == "above range", "current_count"].tolist() == [1.0]
    plan = table.loc[table["feature"] == "plan"].set_index("bucket")
    assert plan.loc["gold", "baseline_share"] == 0
    assert plan.loc["basic", "current_share"] == pytest.approx(2 / 3)
    assert table.loc[table["feature"] == "tenure_months", "current_count"].isna().all()


def test_demo_artifacts_ship_inside_lib_and_are_the_generated_files() -> None:
    # The demo has its own files (generated from the drift demo), not the reader tests' samples.
    for name, data in demo_monitor_files().items():
        assert (DEMO_DIR / name).read_bytes() == data, name
        assert (DEMO_DIR / name).read_bytes() != (DATA / name).read_bytes(), name
    assert "tests" not in DEMO_DIR.parts
    art = demo_artifacts()
    assert art.is_demo
    assert art.capture is not None
    assert (art.capture.n_records, art.capture.n_bad) == (16, 3)
    assert list(art.capture.frame.columns[2:10]) == list(DEMO_FEATURES)
    violations = art.check()
    assert violations is not None
    assert {v.constraint_check_type for v in violations.violations} == {
        "completeness_check",
        "baseline_drift_check",
        "categorical_values_check",  # May's new "trial" plan, outside the April baseline's domain
    }


def test_load_artifacts_names_capture_columns_from_constraints_without_statistics() -> None:
    art = load_artifacts([DATA / "data_capture_sample.jsonl"], constraints=CONSTRAINTS)
    assert art.baseline is None
    assert art.capture is not None
    assert {"age", "plan"} <= set(art.capture.frame.columns)
    assert not art.is_demo
    only_capture = load_artifacts([DATA / "data_capture_sample.jsonl"])
    assert only_capture.capture is not None
    assert "f0" in only_capture.capture.frame.columns
    assert only_capture.check() is None  # no constraints, nothing to check
    with pytest.raises(InputError, match=r"constraints\.json"):
        load_artifacts(statistics=CONSTRAINTS)  # a constraints file in the statistics slot


def test_headerless_baseline_names_capture_columns_label_first(tmp_path: Path) -> None:
    """statistics.json of a header-less baseline names _c0.._c5 (_c0 = label); the capture holds
    the 5 inputs: they become _c1.._c5 and the prediction is checked as _c0."""
    line = {
        "captureData": {
            "endpointInput": {"data": "0.0,2.0,0.0,0.0,0.0", "encoding": "CSV"},
            "endpointOutput": {"data": "2.0", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e1", "inferenceTime": "2024-05-06T13:00:05Z"},
    }
    capture = tmp_path / "capture.jsonl"
    capture.write_text(json.dumps(line) + "\n")
    real = DATA.parent / "real" / "model_monitor"
    art = load_artifacts(
        [capture],
        statistics=real / "statistics_data_quality.json",
        constraints=real / "constraints_data_quality_good.json",
    )
    assert art.capture is not None
    frame = art.capture.frame
    assert [c for c in frame.columns if c.startswith("_c")] == ["_c1", "_c2", "_c3", "_c4", "_c5"]
    assert frame["_c2"].tolist() == [2.0]
    assert art.capture.notes
    violations = art.check()
    assert violations is not None
    checked = violations.table
    assert "missing_column_check" not in set(checked["constraint_check_type"])
    assert "_c0" in set(checked["feature_name"])


# ------------------------------------------------ reference drawn from statistics.json (issue 10)

REAL_MM = DATA.parent / "real" / "model_monitor"
REAL_STATS = REAL_MM / "statistics_data_quality.json"


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(cdf, q)])


@pytest.mark.parametrize("path", [REAL_STATS, DEMO_DIR / "statistics.json"], ids=["real", "demo"])
def test_reference_mean_and_quantiles_agree_with_the_file(path: Path) -> None:
    from lib.analysis.monitor_checks import sketch_sample

    baseline = read_statistics(path)
    reference = baseline_reference(baseline, n=10_000)  # fidelity of the sampler, not sampling noise
    for f in baseline.features:
        if f.kind != "numeric":
            continue
        x = reference[f.name].dropna().to_numpy(dtype="float64")
        assert abs(x.mean() - f.mean) <= 0.1 * f.std, f.name
        assert numeric_distance(f, x) <= 0.02, f.name  # bucket CDF within 2 points everywhere
        items, weights = sketch_sample(f)
        if weights.sum() == f.num_present:  # a complete sketch: quantiles of the data itself
            for q in (0.1, 0.25, 0.5, 0.75, 0.9):
                # Integral data has steps: a quantile near one may land on either side of it by
                # sampling noise (10,000 draws: the CDF's standard error is at most 0.005), so the
                # drawn quantile must lie between the data's quantiles at q ± 0.02.
                low = _weighted_quantile(items, weights, q - 0.02) - 0.03 * f.std
                high = _weighted_quantile(items, weights, q + 0.02) + 0.03 * f.std
                assert low <= np.quantile(x, q, method="inverted_cdf") <= high, (f.name, q)


def test_reference_from_a_complete_sketch_keeps_discrete_values() -> None:
    reference = baseline_reference(read_statistics(REAL_STATS))
    assert set(reference["_c0"].unique()) == {1.0, 2.0, 3.0}


def test_sketch_levels_weigh_two_to_the_level() -> None:
    from lib.analysis.monitor_checks import sketch_sample

    f = read_statistics(DEMO_DIR / "statistics.json").feature("age")
    items, weights = sketch_sample(f)
    assert len(items) == 2048 + 476  # 3,000 rows: the oldest 952 compacted once into 476
    assert weights.tolist() == [1.0] * 2048 + [2.0] * 476
    assert weights.sum() == f.num_present


def test_string_feature_without_distribution_keeps_its_completeness() -> None:
    doc = {
        "version": 0.0,
        "dataset": {"item_count": 10},
        "features": [
            {
                "name": "comment",
                "inferred_type": "String",
                "string_statistics": {"common": {"num_present": 8, "num_missing": 2}, "distinct_count": 7.0},
            }
        ],
    }
    reference = baseline_reference(read_statistics(doc), n=1000)
    assert reference["comment"].isna().mean() == pytest.approx(0.2)
    assert reference.attrs["unknown_values"] == ["comment"]


def test_raw_data_against_its_own_baseline_is_no_drift_and_no_violation() -> None:
    from lib.drift import compare
    from lib.sources.tables import read_table

    data = read_table(REAL_MM / "baseline_dataset_no_header.csv")
    baseline = read_statistics(REAL_STATS)
    for f in baseline.features:  # a value on a bucket edge counts in the bucket above it
        assert numeric_distance(f, data[f.name]) == 0.0, f.name
    report = compare(baseline_reference(baseline), data)
    assert report.drifted_columns == [], report.table[["column", "test", "p_adjusted", "effect"]]
    violations = check_constraints(
        data, read_constraints(REAL_MM / "constraints_data_quality_good.json"), baseline
    )
    assert len(violations) == 0, violations.to_dict()


# ------------------------------------------------ refusing the wrong Model Monitor file; violations


@pytest.mark.parametrize(
    ("reader", "path", "message", "hint"),
    [
        (read_constraints, REAL_STATS, "looks like a statistics.json", "statistics slot"),
        (read_statistics, CONSTRAINTS, "looks like a constraints.json", "constraints slot"),
        (
            read_statistics,
            DATA / "constraint_violations.json",
            "constraint_violations.json",
            "read_violations",
        ),
        (
            read_constraints,
            DATA / "constraint_violations.json",
            "constraint_violations.json",
            "read_violations",
        ),
        (read_statistics, REAL_MM / "statistics_model_quality.json", "model-quality", "data-quality"),
    ],
)
def test_readers_name_the_model_monitor_file_they_were_given(
    reader: Any, path: Path, message: str, hint: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        reader(path)
    assert path.name in info.value.message
    assert hint in (info.value.hint or "")


def test_read_violations_gives_a_table() -> None:
    from lib.sources.monitor_files import read_violations

    table = read_violations(DATA / "constraint_violations.json")
    assert list(table.columns) == ["feature_name", "constraint_check_type", "description"]
    assert table["feature_name"].tolist() == ["monthly_charges", "age"]
    assert table["description"].iloc[0].startswith("Numerical distance: 0.2136")


def test_read_violations_keeps_extra_keys_and_missing_descriptions() -> None:
    from lib.sources.monitor_files import read_violations

    table = read_violations(REAL_MM / "constraint_violations_nlp.json")
    assert len(table) == 8
    assert set(table["description"]) == {""}
    assert "sentence" in table.columns


def test_several_violation_files_are_a_history_over_executions(tmp_path: Path) -> None:
    from lib.sources.monitor_files import read_violations

    runs = []
    for hour, doc in (("13", {"violations": [{"feature_name": "a", "constraint_check_type": "x"}]}),
                      ("14", {"violations": []}),
                      ("15", json.loads((DATA / "constraint_violations.json").read_text()))):  # fmt: skip
        path = tmp_path / "sched" / "2024" / "05" / "06" / hour / "constraint_violations.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(doc))
        runs.append(path)
    history = read_violations(runs)
    assert list(history.columns[:4]) == ["execution", "feature_name", "constraint_check_type", "description"]
    assert history["execution"].tolist() == ["13", "15", "15"]
    taxi = read_violations([REAL_MM / "constraint_violations_taxi.json", DATA / "constraint_violations.json"])
    assert taxi["execution"].unique().tolist() == [
        "constraint_violations_taxi.json",
        "constraint_violations.json",
    ]
    uploads = read_violations([(DATA / "constraint_violations.json").read_bytes()] * 2)
    # lib.sources.files.source_bytes names bytes "upload"
    assert uploads["execution"].unique().tolist() == ["#1 upload", "#2 upload"]


def test_read_violations_refuses_a_baseline_file() -> None:
    from lib.sources.monitor_files import read_violations

    with pytest.raises(InputError, match=r"is a statistics\.json"):
        read_violations(STATS)


def test_baseline_reference_is_as_large_as_the_baseline_data_at_most() -> None:
    """A reference larger than the baseline's own data would overstate the evidence (false drift)."""
    baseline = read_statistics(STATS)
    expected = int(min(baseline.item_count, 10_000))
    assert len(baseline_reference(baseline)) == expected
    assert len(baseline_reference(baseline, n=123)) == 123
