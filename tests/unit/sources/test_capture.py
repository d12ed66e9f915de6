"""Data capture files → one row per inference; bad records counted, never fatal."""

from __future__ import annotations

import base64
import gzip
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.errors import InputError
from lib.sources.capture import (
    capture_summary,
    drift_frame,
    feature_columns,
    read_capture,
    read_capture_report,
)
from lib.sources.monitor_files import read_statistics
from tests.support import paths

DATA = paths.DATA / "model_monitor"
SAMPLE = DATA / "data_capture_sample.jsonl"
MIXED = DATA / "capture_mixed.jsonl"
NAMED = DATA / "capture_named_json.jsonl"
NAMES = ["age", "tenure_months", "monthly_charges", "plan"]


def record(data_in: object = None, data_out: object = None, *, event: str = "e1") -> bytes:
    capture: dict[str, object] = {}
    if data_in is not None:
        capture["endpointInput"] = data_in
    if data_out is not None:
        capture["endpointOutput"] = data_out
    rec = {
        "captureData": capture,
        "eventMetadata": {"eventId": event, "inferenceTime": "2024-05-06T13:00:05Z"},
    }
    return json.dumps(rec).encode()


def test_shared_sample_gives_one_row_per_record_with_baseline_names() -> None:
    names = read_statistics(DATA / "statistics.json").feature_names
    frame = read_capture(SAMPLE, feature_names=names)
    assert list(frame.columns) == ["inference_time", "event_id", *NAMES, "prediction"]
    assert len(frame) == 6
    assert str(frame["inference_time"].dtype) == "datetime64[ns, UTC]"
    assert frame["inference_time"].iloc[0] == pd.Timestamp("2024-05-06 13:00:05", tz="UTC")
    assert frame["age"].tolist() == [56, 67, 28, 29, 30, 32]  # CSV, CSV, CSV, JSON, JSON, BASE64
    assert frame["plan"].tolist() == ["plus", "pro", "pro", "basic", "basic", "basic"]
    assert frame["monthly_charges"].iloc[5] == pytest.approx(30.97)
    assert frame["prediction"].tolist() == pytest.approx(
        [0.337429, 0.477207, 0.086945, 0.256247, 0.260688, 0.386196]
    )
    assert frame.attrs["n_bad"] == 0


def test_without_names_positional_features_are_f0_f1() -> None:
    frame = read_capture(SAMPLE)
    assert feature_columns(frame) == ["f0", "f1", "f2", "f3"]


def test_fewer_names_than_values_names_the_rest_positionally() -> None:
    frame = read_capture(SAMPLE, feature_names=["age"])
    assert feature_columns(frame) == ["age", "f1", "f2", "f3"]


def test_mix_of_encodings_batches_and_bad_lines_is_counted_not_fatal() -> None:
    result = read_capture_report(MIXED, feature_names=NAMES)
    frame = result.frame
    assert result.n_records == 10
    assert result.n_bad == 3  # truncated JSON, not a capture record, undecodable BASE64
    assert len(result.problems) == 3
    assert any("capture_mixed.jsonl:7: not JSON" in p for p in result.problems)
    assert any("capture_mixed.jsonl:8: no 'captureData'" in p for p in result.problems)
    assert any("capture_mixed.jsonl:9: BASE64" in p for p in result.problems)
    # 2 (CSV batch) + 3 (JSON instances) + 1 + 1 + 1 (input only) + 1 (output only) + 1
    assert len(frame) == 10
    assert frame.attrs == {"n_records": 10, "n_bad": 3, "problems": result.problems}


def test_multi_row_payload_gives_several_rows_with_one_event_id() -> None:
    frame = read_capture(MIXED, feature_names=NAMES)
    batch = frame.loc[frame["event_id"] == "10000000-0000-4000-8000-000000000000"]
    assert batch["age"].tolist() == [41, 52]
    assert batch["prediction"].tolist() == [0.11, 0.82]
    instances = frame.loc[frame["event_id"] == "10000000-0000-4000-8000-000000000001"]
    assert instances["plan"].tolist() == ["plus", "pro", "basic"]
    assert instances["prediction"].tolist() == [0.2, 0.7, 0.05]


def test_base64_json_and_base64_csv_are_decoded_by_content_type() -> None:
    frame = read_capture(MIXED, feature_names=NAMES).set_index("event_id")
    assert frame.loc["10000000-0000-4000-8000-000000000002", "monthly_charges"] == 55.5
    assert frame.loc["10000000-0000-4000-8000-000000000002", "prediction"] == 0.44
    assert frame.loc["10000000-0000-4000-8000-000000000003", "plan"] == "basic"
    assert frame.loc["10000000-0000-4000-8000-000000000003", "prediction"] == 0.31


def test_input_only_and_output_only_records_leave_the_other_side_missing() -> None:
    frame = read_capture(MIXED, feature_names=NAMES).set_index("event_id")
    input_only = frame.loc["10000000-0000-4000-8000-000000000004"]
    assert input_only["age"] == 29
    assert np.isnan(input_only["prediction"])
    output_only = frame.loc["10000000-0000-4000-8000-000000000005"]
    assert output_only["prediction"] == 0.93
    assert np.isnan(output_only["age"])
    assert pd.isna(output_only["plan"])


def test_prediction_objects_take_the_score() -> None:
    frame = read_capture(MIXED, feature_names=NAMES).set_index("event_id")
    assert frame.loc["10000000-0000-4000-8000-000000000009", "prediction"] == 0.6


def test_named_json_features_and_multi_value_predictions() -> None:
    frame = read_capture(NAMED)
    assert feature_columns(frame) == NAMES
    assert frame["age"].tolist() == [50, 51, 22]
    assert frame["prediction"].tolist() == [0.1, 0.8, 0.5]
    assert frame["prediction_1"].iloc[:2].tolist() == [0.9, 0.2]
    assert np.isnan(frame["prediction_1"].iloc[2])


def test_many_files_in_one_zip_and_a_list_of_uploads_agree(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(SAMPLE, "ep/AllTraffic/2024/05/06/13/00-05-000-a.jsonl")
        archive.write(MIXED, "ep/AllTraffic/2024/05/06/14/00-00-000-b.jsonl")
        archive.writestr("ep/readme.txt", "not capture data")
    from_zip = read_capture_report(buffer.getvalue(), feature_names=NAMES, name="capture.zip")
    uploads = [io.BytesIO(SAMPLE.read_bytes()), io.BytesIO(MIXED.read_bytes())]
    from_list = read_capture_report(uploads, feature_names=NAMES)
    assert len(from_zip.frame) == 16
    assert from_zip.n_bad == from_list.n_bad == 3
    assert any("capture.zip/ep/AllTraffic/2024/05/06/14" in p for p in from_zip.problems)
    pd.testing.assert_frame_equal(from_zip.frame, from_list.frame)


def test_gzip_file_is_read() -> None:
    frame = read_capture(gzip.compress(SAMPLE.read_bytes()), name="x.jsonl.gz")
    assert len(frame) == 6


def test_duplicate_event_ids_across_uploads_are_counted_once() -> None:
    result = read_capture_report([SAMPLE, SAMPLE])
    assert len(result.frame) == 6
    assert result.n_bad == 6
    assert "duplicate eventId" in result.problems[0]


def test_frame_is_sorted_by_inference_time() -> None:
    frame = read_capture([MIXED, SAMPLE], feature_names=NAMES)
    assert frame["inference_time"].is_monotonic_increasing


def test_mismatched_input_and_output_rows_keep_everything_and_say_so() -> None:
    line = record({"data": "1,2\n3,4\n5,6", "encoding": "CSV"}, {"data": "0.1\n0.2", "encoding": "CSV"})
    result = read_capture_report(line)
    assert len(result.frame) == 3
    assert np.isnan(result.frame["prediction"].iloc[2])
    assert result.n_bad == 0
    assert "3 input rows but 2 predictions" in result.problems[0]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([1, 2, 3], [[1, 2, 3]]),
        ([[1, 2], [3, 4]], [[1, 2], [3, 4]]),
        ({"instances": [[1, 2]]}, [[1, 2]]),
        ({"features": [7, 8]}, [[7, 8]]),
        ({"instances": [{"features": [5, 6]}, {"features": [7, 8]}]}, [[5, 6], [7, 8]]),
    ],
)
def test_json_input_shapes(payload: object, expected: list[list[int]]) -> None:
    line = record(
        {"observedContentType": "application/json", "data": json.dumps(payload), "encoding": "JSON"}
    )
    frame = read_capture(line)
    assert frame[["f0", "f1", *(["f2"] if len(expected[0]) == 3 else [])]].to_numpy().tolist() == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("0.7", 0.7),
        (json.dumps(0.7), 0.7),
        (json.dumps({"predictions": [0.7]}), 0.7),
        (json.dumps({"score": 0.7}), 0.7),
        (json.dumps({"predictions": [{"score": 0.7}]}), 0.7),
    ],
)
def test_prediction_shapes(payload: str, expected: float) -> None:
    encoding = "CSV" if payload == "0.7" else "JSON"
    line = record({"data": "1,2", "encoding": "CSV"}, {"data": payload, "encoding": encoding})
    assert read_capture(line)["prediction"].tolist() == [expected]


def test_base64_without_content_type_hint_is_sniffed() -> None:
    data = base64.b64encode(b'{"instances": [[1, 2]]}').decode()
    line = record({"observedContentType": "application/octet-stream", "data": data, "encoding": "BASE64"})
    assert read_capture(line)[["f0", "f1"]].to_numpy().tolist() == [[1, 2]]


def test_file_with_no_usable_record_raises_input_error_naming_it() -> None:
    with pytest.raises(InputError) as info:
        read_capture(b"age,plan\n41,basic\n", name="reference.csv")
    message = str(info.value)
    assert "reference.csv" in message
    assert "no usable data capture record" in message
    assert "captureData" in message  # what was expected


def test_missing_path_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.jsonl"):
        read_capture(tmp_path / "nope.jsonl")


def test_zip_without_jsonl_raises_input_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(InputError, match=r"up\.zip: the zip holds no \.jsonl"):
        read_capture(buffer.getvalue(), name="up.zip")


def test_capture_summary_counts_and_ranges_per_column() -> None:
    frame = read_capture([SAMPLE, MIXED], feature_names=NAMES)
    summary = capture_summary(frame).set_index("column")
    # capture_mixed.jsonl has one {"score": 0.6, "predicted_label": 1} response: the label is kept
    assert list(summary.index) == [*NAMES, "prediction", "prediction_label"]
    assert summary.loc["prediction_label", "role"] == "prediction"
    assert summary.loc["age", "kind"] == "numeric"
    assert summary.loc["age", "present"] + summary.loc["age", "missing"] == len(frame)
    assert summary.loc["age", "min"] == frame["age"].min()
    assert summary.loc["monthly_charges", "mean"] == pytest.approx(frame["monthly_charges"].mean())
    assert summary.loc["plan", "kind"] == "categorical"
    counts = frame["plan"].dropna().value_counts()
    assert summary.loc["plan", "top"].startswith(f"{counts.index[0]} ({counts.iloc[0]})")
    assert summary.loc["prediction", "role"] == "prediction"
    assert summary.loc["prediction", "missing"] == 1  # the input-only record


def test_drift_frame_drops_capture_metadata_only() -> None:
    frame = read_capture(SAMPLE, feature_names=NAMES)
    out = drift_frame(frame)
    assert list(out.columns) == [*NAMES, "prediction"]
    pd.testing.assert_frame_equal(out, frame[[*NAMES, "prediction"]])


def _json_record(request: object, response: object | None, event: str = "e1") -> bytes:
    out = None if response is None else {"data": json.dumps(response), "encoding": "JSON"}
    return record({"data": json.dumps(request), "encoding": "JSON"}, out, event=event)


@pytest.mark.parametrize(
    ("request_body", "response", "rows"),
    [
        # TF Serving row format: a flat list of scalars is one scalar instance per element
        ({"instances": [1.0, 2.0, 5.0]}, {"predictions": [3.5, 4.0, 5.5]}, [[1.0], [2.0], [5.0]]),
        ({"instances": [1.0, 2.0, 5.0]}, None, [[1.0], [2.0], [5.0]]),  # input-only capture
        ({"inputs": [1.0, 2.0, 5.0]}, {"outputs": [3.5, 4.0, 5.5]}, [[1.0], [2.0], [5.0]]),
        ([1.0, 2.0, 5.0], [3.5, 4.0, 5.5], [[1.0], [2.0], [5.0]]),
        # ... unless the response says it was one instance with several features
        ({"instances": [1.0, 2.0, 5.0]}, {"predictions": [3.5]}, [[1.0, 2.0, 5.0]]),
        ([1.0, 2.0, 5.0], [0.5], [[1.0, 2.0, 5.0]]),
        ([1.0, 2.0, 5.0], None, [[1.0, 2.0, 5.0]]),  # bare list, no response: one instance
        # lists of lists / objects: one instance per element
        ({"instances": [[1.0, 2.0], [5.0, 6.0]]}, {"predictions": [3.5, 4.0]}, [[1.0, 2.0], [5.0, 6.0]]),
        ({"instances": [{"features": [1.0]}, {"features": [2.0]}]}, [0.1, 0.2], [[1.0], [2.0]]),
    ],
)
def test_flat_scalar_instances_follow_the_prediction_count(
    request_body: object, response: object, rows: list[list[float]]
) -> None:
    result = read_capture_report(_json_record(request_body, response))
    frame = result.frame
    assert frame[feature_columns(frame)].to_numpy().tolist() == rows
    assert not any("input rows but" in p for p in result.problems)


def test_score_and_predicted_label_are_both_kept() -> None:
    response = {"predictions": [{"score": 0.99, "predicted_label": 1}, {"score": 0.25, "predicted_label": 0}]}
    frame = read_capture(_json_record({"instances": [{"features": [1, 2]}, {"features": [3, 4]}]}, response))
    assert feature_columns(frame) == ["f0", "f1"]
    assert frame["prediction"].tolist() == [0.99, 0.25]
    assert frame["prediction_label"].tolist() == [1, 0]


def test_multiclass_scores_and_label() -> None:
    response = {"predictions": [{"score": [0.1, 0.2, 0.7], "predicted_label": 2}]}
    frame = read_capture(_json_record([[1, 2]], response))
    assert frame[["prediction", "prediction_1", "prediction_2", "prediction_label"]].iloc[0].tolist() == [
        0.1,
        0.2,
        0.7,
        2,
    ]


# ---------------------------------------------------------------- Model Monitor naming convention


def _csv_capture(rows: list[str], preds: list[str]) -> bytes:
    lines = [
        record({"data": r, "encoding": "CSV"}, {"data": p, "encoding": "CSV"}, event=f"e{i}")
        for i, (r, p) in enumerate(zip(rows, preds, strict=True))
    ]
    return b"\n".join(lines)


def test_baseline_label_column_first_is_not_shifted_onto_the_inputs() -> None:
    # The baseline dataset (label first) names 4 columns; the capture holds the 3 inputs.
    data = _csv_capture(["56,67,54.88", "67,70,115.48"], ["0.3", "0.4"])
    result = read_capture_report(data, feature_names=["churn", "age", "tenure", "charges"])
    frame = result.frame
    assert feature_columns(frame) == ["age", "tenure", "charges"]
    assert frame["age"].tolist() == [56, 67]
    assert frame.attrs["label_column"] == "churn"
    assert any("first column 'churn' is the label" in n for n in result.notes)
    out = drift_frame(frame)
    assert list(out.columns) == ["churn", "age", "tenure", "charges", "prediction"]
    assert out["churn"].tolist() == [0.3, 0.4]


def test_as_many_names_as_inputs_apply_in_order_without_a_note() -> None:
    result = read_capture_report(_csv_capture(["1,2,3"], ["0.5"]), feature_names=["a", "b", "c"])
    assert feature_columns(result.frame) == ["a", "b", "c"]
    assert result.notes == ()
    assert "label_column" not in result.frame.attrs


def test_names_that_fit_neither_way_are_applied_in_order_and_noted() -> None:
    result = read_capture_report(_csv_capture(["1,2,3"], ["0.5"]), feature_names=["a", "b", "c", "d", "e"])
    assert feature_columns(result.frame) == ["a", "b", "c"]
    assert any("check that the capture and the baseline" in n for n in result.notes)
