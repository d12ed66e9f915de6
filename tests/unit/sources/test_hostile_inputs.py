"""Hostile small inputs: an InputError or a valid frame, never another exception; plus hypothesis
fuzzing of every reader, structured by format (valid-looking documents with hostile leaves).

The fuzz tests are deterministic (derandomize) and bounded (150 examples each) so CI is stable."""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.errors import InputError
from lib.sources import capture, latency, load_export, monitor_files
from lib.sources.tables import read_table

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

HOSTILE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e300, -1e300, 1.7e308, -1.7e308, 5e-324, 0.0, -1, "-1", "1e300", "NaN", "inf"]),
    st.text(max_size=12),
    st.sampled_from(["2024-05-01T10:00:00Z", "99999-01-01T00:00:00Z", "0000-00-00", "", " "]),
)
LEAVES = st.recursive(
    HOSTILE_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _record(when: object, data: object, event: object = "e1") -> dict[str, Any]:
    return {
        "captureData": {"endpointInput": {"data": data, "encoding": "JSON"}},
        "eventMetadata": {"eventId": event, "inferenceTime": when},
    }


def _ok_or_input_error(fn: Any) -> Any:
    try:
        return fn()
    except InputError:
        return None


# ------------------------------------------------------------------ specific hostile inputs


def test_parquet_categoricals_with_unused_categories_read_as_plain_values() -> None:
    frame = pd.DataFrame(
        {
            "plan": pd.Categorical(["a", "b", "a"], categories=["a", "b", "never"]),
            "code": pd.Categorical([1, 2, 1], categories=[1, 2, 3]),
        }
    )
    buf = io.BytesIO()
    frame.to_parquet(buf)
    read = read_table(buf.getvalue(), name="cats.parquet")
    assert not any(isinstance(t, pd.CategoricalDtype) for t in read.dtypes)
    assert read["plan"].tolist() == ["a", "b", "a"]
    assert read["code"].tolist() == [1, 2, 1]


@pytest.mark.parametrize("when", ["-1", "1e300", 1e300, -1, "99999-01-01T00:00:00Z", "2024-13-45T99:00:00Z"])
def test_one_out_of_range_inference_time_skips_that_row_with_a_note(when: object) -> None:
    good = _record("2024-05-01T10:00:00Z", {"x": 1}, "e1")
    bad = _record(when, {"x": 2}, "e2")
    report = capture.read_capture_report((json.dumps(good) + "\n" + json.dumps(bad)).encode(), name="c.jsonl")
    assert report.frame["x"].tolist() == [1]
    assert report.n_bad == 1
    assert any("inferenceTime is not a time" in p for p in report.problems)


def test_capture_with_only_unreadable_times_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no record has an inferenceTime in range"):
        capture.read_capture(json.dumps(_record("-1", {"x": 1})).encode(), name="c.jsonl")


def test_capture_time_that_is_no_time_at_all_keeps_its_row_without_a_time() -> None:
    frame = capture.read_capture(json.dumps(_record("{%s}", {"x": 1})).encode(), name="c.jsonl")
    assert frame["x"].tolist() == [1]
    assert frame["inference_time"].isna().all()


def test_capture_inputs_named_like_metadata_columns_are_renamed_with_a_note() -> None:
    rec = _record("2024-05-01T10:00:00Z", {"inference_time": 5, "event_id": "mine", "x": 1}, "e1")
    report = capture.read_capture_report(json.dumps(rec).encode(), name="c.jsonl")
    frame = report.frame
    assert frame["event_id"].tolist() == ["e1"]
    assert frame["inference_time"].tolist() == [pd.Timestamp("2024-05-01T10:00:00Z")]
    assert frame["input.inference_time"].tolist() == [5]
    assert frame["input.event_id"].tolist() == ["mine"]
    assert any("renamed input.event_id, input.inference_time" in n for n in report.notes)
    assert set(capture.feature_columns(frame)) == {"input.inference_time", "input.event_id", "x"}


def test_capture_integers_of_thousands_of_digits_do_not_crash() -> None:
    big = "9" * 4_000
    line = '{"captureData": {"endpointInput": {"data": "{\\"x\\": ' + big + '}", "encoding": "JSON"}},'
    line += ' "eventMetadata": {"eventId": "e1", "inferenceTime": "2024-05-01T10:00:00Z"}}'
    frame = capture.read_capture(line.encode(), name="c.jsonl")
    assert len(frame) == 1


@pytest.mark.parametrize(
    "doc",
    [
        b'{"MetricDataResults": [{"Id": "m", "Values": [' + b"9" * 5000 + b"]}]}",
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
    ],
)
def test_json_metrics_uploads_with_hostile_numbers_or_depth_are_input_errors(doc: bytes) -> None:
    with pytest.raises(InputError):
        load_export(doc, "m.json")


STATS = {
    "version": 0,
    "dataset": {"item_count": 10},
    "features": [
        {
            "name": "x",
            "inferred_type": "Fractional",
            "numerical_statistics": {
                "common": {"num_present": 10, "num_missing": 0},
                "mean": 1,
                "std_dev": 1,
                "min": 0,
                "max": 2,
                "distribution": {
                    "kll": {
                        "buckets": [{"lower_bound": 0, "upper_bound": 1, "count": 5}],
                        "sketch": {"data": [[0.5]]},
                    }
                },
            },
        }
    ],
}


@pytest.mark.parametrize(
    "path",
    [
        ("dataset",),
        ("features", 0, "numerical_statistics", "common"),
        ("features", 0, "numerical_statistics", "distribution"),
        ("features", 0, "numerical_statistics", "distribution", "kll"),
        ("features", 0, "numerical_statistics", "distribution", "kll", "buckets", 0),
        ("features", 0, "numerical_statistics", "distribution", "kll", "sketch"),
    ],
)
def test_list_shaped_fields_in_statistics_json_are_read_or_refused(path: tuple[Any, ...]) -> None:
    doc = json.loads(json.dumps(STATS))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = [1, [2]]
    baseline = _ok_or_input_error(lambda: monitor_files.read_statistics(json.dumps(doc).encode()))
    assert baseline is None or baseline.features[0].name == "x"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("features", 0, "numerical_statistics", "distribution", "kll", "buckets", 0, "count"), -5),
        (("features", 0, "numerical_statistics", "common", "num_present"), -1),
        (("dataset", "item_count"), -10),
    ],
)
def test_negative_baseline_counts_are_refused(path: tuple[Any, ...], value: int) -> None:
    doc = json.loads(json.dumps(STATS))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InputError, match="negative"):
        monitor_files.read_statistics(json.dumps(doc).encode())


def test_list_shaped_fields_in_constraints_json_are_ignored() -> None:
    doc = {
        "version": 0,
        "features": [
            {"name": "x", "completeness": 1.0, "num_constraints": [1], "monitoringConfigOverrides": [2]}
        ],
        "monitoring_config": {"distribution_constraints": [3]},
    }
    cons = monitor_files.read_constraints(json.dumps(doc).encode())
    assert cons.feature_names == ["x"]
    assert cons.comparison_threshold == 0.1


def test_values_near_the_float_limits_are_kept() -> None:
    frame = read_table(b"a,b\n1e308,x\n-1.7e308,y\n", name="big.csv")
    assert frame["a"].tolist() == [1e308, -1.7e308]


# ------------------------------------------------------------------ fuzzing, by format


@FUZZ
@given(when=HOSTILE_SCALARS, data=LEAVES, event=HOSTILE_SCALARS)
def test_fuzz_capture_records(when: object, data: object, event: object) -> None:
    lines = [
        json.dumps(_record("2024-05-01T10:00:00Z", {"x": 1}, "ok")),
        json.dumps(_record(when, data, event)),
    ]
    frame = _ok_or_input_error(lambda: capture.read_capture("\n".join(lines).encode(), name="c.jsonl"))
    assert frame is None or {"inference_time", "event_id"} <= set(frame.columns)


@FUZZ
@given(leaf=LEAVES, key=st.sampled_from(["mean", "std_dev", "min", "max", "distribution", "common", "name"]))
def test_fuzz_statistics_json(leaf: object, key: str) -> None:
    doc = json.loads(json.dumps(STATS))
    doc["features"][0]["numerical_statistics"][key] = leaf
    if key == "name":
        doc["features"][0]["name"] = leaf
    _ok_or_input_error(lambda: monitor_files.read_statistics(json.dumps(doc).encode()))


@FUZZ
@given(leaf=LEAVES, key=st.sampled_from(["completeness", "num_constraints", "string_constraints", "name"]))
def test_fuzz_constraints_json(leaf: object, key: str) -> None:
    doc = {
        "version": 0,
        "features": [{"name": "x", "completeness": 1.0, key: leaf}],
        "monitoring_config": leaf,
    }
    _ok_or_input_error(lambda: monitor_files.read_constraints(json.dumps(doc).encode()))


@FUZZ
@given(stamp=HOSTILE_SCALARS, value=HOSTILE_SCALARS)
def test_fuzz_latency_json(stamp: object, value: object) -> None:
    doc = {"Datapoints": [{"Timestamp": stamp, "Average": value, "Unit": "Microseconds"}]}
    frame = _ok_or_input_error(lambda: latency.read_latency_export(json.dumps(doc).encode(), "l.json"))
    assert frame is None or "value_us" in frame.columns


@FUZZ
@given(stamps=st.lists(HOSTILE_SCALARS, min_size=1, max_size=3), values=st.lists(HOSTILE_SCALARS, max_size=3))
def test_fuzz_cloudwatch_metric_data_json(stamps: list[object], values: list[object]) -> None:
    doc = {
        "MetricDataResults": [
            {"Id": "m0", "Label": "job-a train:loss", "Timestamps": stamps, "Values": values}
        ]
    }
    _ok_or_input_error(lambda: load_export(json.dumps(doc).encode(), "m.json"))


CELL = st.one_of(
    st.sampled_from(["", "1e308", "-1.7e308", "1e400", "nan", "9" * 400, "2024-05-01", "-1", '"', "a,b"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
)


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=4, max_size=4), min_size=1, max_size=4))
def test_fuzz_long_metrics_csv(rows: list[list[str]]) -> None:
    text = "job,metric,timestamp,value\n" + "\n".join(",".join(r) for r in rows) + "\n"
    _ok_or_input_error(lambda: load_export(text.encode(), "m.csv"))


@FUZZ
@given(
    rows=st.lists(st.lists(CELL, min_size=2, max_size=2), min_size=1, max_size=4),
    fmt=st.sampled_from(["csv", "jsonl", "json", "parquet"]),
)
def test_fuzz_tables(rows: list[list[str]], fmt: str) -> None:
    frame = pd.DataFrame(rows, columns=["a", "b"])
    if fmt == "csv":
        raw = frame.to_csv(index=False).encode()
    elif fmt == "jsonl":
        raw = "\n".join(json.dumps(r) for r in frame.to_dict("records")).encode()
    elif fmt == "json":
        raw = json.dumps([{"a": _maybe_number(a), "b": b} for a, b in rows]).encode()
    else:
        buf = io.BytesIO()
        frame.astype({"a": "category"}).to_parquet(buf)
        raw = buf.getvalue()
    read = _ok_or_input_error(lambda: read_table(raw, name=f"t.{fmt}"))
    assert read is None or list(read.columns) == ["a", "b"]


def _maybe_number(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text
