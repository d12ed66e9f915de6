"""Reading uploads, type inference and role guesses, and the demo data."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.demo.drift import demo_current, demo_reference
from lib.drift import (
    guess_label,
    guess_prediction,
    guess_timestamp,
    infer_kinds,
    read_table,
)
from lib.errors import InputError

FRAME = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": ["x", "y", "x"]})


def test_reads_csv_parquet_and_json_lines(tmp_path: Path) -> None:
    FRAME.to_csv(tmp_path / "t.csv", index=False)
    FRAME.to_parquet(tmp_path / "t.parquet")
    FRAME.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    for name in ("t.csv", "t.parquet", "t.jsonl"):
        got = read_table(tmp_path / name)
        pd.testing.assert_frame_equal(got, FRAME, check_dtype=False)


def test_reads_semicolon_csv_from_an_upload_like_object() -> None:
    upload = io.BytesIO(b"a;b\n1;x\n2;y\n")
    upload.name = "export.csv"
    assert read_table(upload).columns.tolist() == ["a", "b"]


def test_reads_a_json_array_of_records() -> None:
    assert read_table(b'[{"a": 1}, {"a": 2}]', name="x.json")["a"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"a,b\n1,2\n", "data.xlsx", "data.xlsx: unknown file type '.xlsx'"),
        (b"   \n", "empty.csv", "empty.csv is empty"),
        (b"not parquet at all", "broken.parquet", "broken.parquet: could not read it as PARQUET"),
        (b'{"a": 1}\n{"a": ', "cut.jsonl", "cut.jsonl: could not read it as JSONL"),
        (b'a,b\n1,2,3,4\n"unterminated', "bad.csv", "bad.csv: could not read it as CSV"),
    ],
)
def test_bad_files_are_input_errors_naming_the_file(payload: bytes, name: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        read_table(payload, name=name)
    assert str(err.value).startswith(message)
    assert err.value.hint


def test_column_kinds_are_inferred() -> None:
    n = 50
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "row_id": np.arange(n),
            "when": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC").astype(str),
            "price": np.linspace(1, 2, n),
            "price_text": [f"{v:.2f}" for v in np.linspace(1, 2, n)],
            "plan": ["basic", "pro"] * (n // 2),
            "active": ["yes", "no"] * (n // 2),
            "clicked": [0, 1] * (n // 2),
            "note": [f"free text {i}" for i in range(n)],
        }
    )
    assert infer_kinds(frame) == {
        "customer_id": "id",
        "row_id": "id",
        "when": "datetime",
        "price": "numeric",
        "price_text": "numeric",
        "plan": "categorical",
        "active": "boolean",
        "clicked": "boolean",
        "note": "id",
    }
    assert infer_kinds(frame, {"row_id": "numeric"})["row_id"] == "numeric"
    with pytest.raises(InputError, match="Unknown column kind"):
        infer_kinds(frame, {"plan": "text"})


def test_role_guesses() -> None:
    ref = demo_reference(200)
    kinds = infer_kinds(ref)
    assert guess_prediction(ref, kinds) == "churn_score"
    assert guess_label(ref, kinds) == "churned"
    assert guess_timestamp(ref, kinds) == "event_time"
    plain = pd.DataFrame({"x": [1.0, 2.0]})
    assert guess_prediction(plain) is None
    assert guess_timestamp(plain) is None


def test_demo_data_is_deterministic_and_has_the_promised_shape() -> None:
    ref, cur = demo_reference(), demo_current()
    pd.testing.assert_frame_equal(ref, demo_reference())
    assert {"churn_score", "churned", "event_time", "customer_id", "plan"} <= set(ref.columns)
    assert "trial" in set(cur["plan"])
    assert "trial" not in set(ref["plan"])
    assert infer_kinds(ref)["event_time"] == "datetime"


# ---------------------------------------------------------------- header-less CSV (issue 10)


def test_headerless_numeric_csv_keeps_its_first_row_and_gets_model_monitor_names() -> None:
    table = read_table(b"3.0,0.0,2\n1.0,1.0,4\n2.0,0.0,2\n", name="baseline.csv")
    assert list(table.columns) == ["_c0", "_c1", "_c2"]
    assert table.shape == (3, 3)
    assert table.iloc[0].tolist() == [3.0, 0.0, 2.0]
    assert "first line is data" in table.attrs["notes"][0]


def test_headerless_csv_with_a_text_column_is_still_data() -> None:
    table = read_table(b"3.0,pro,2\n1.0,basic,4\n", name="baseline.csv")
    assert list(table.columns) == ["_c0", "_c1", "_c2"]
    assert table["_c1"].tolist() == ["pro", "basic"]


@pytest.mark.parametrize(
    "text",
    [
        b"age,plan\n3,pro\n4,basic\n",  # a word over a numeric column: a header
        b"a,b\nx,y\nz,w\n",  # no numeric column: cannot tell, keep the header
        b"x,2\n3,4\n5,6\n",  # one word over a numeric column is enough
    ],
)
def test_csv_with_a_header_is_read_as_before(text: bytes) -> None:
    table = read_table(text, name="t.csv")
    assert len(table) == 2
    assert "notes" not in table.attrs


def test_headerless_detection_skips_leading_blank_lines() -> None:
    table = read_table(b"\n\n1,2\n3,4\n", name="t.csv")
    assert list(table.columns) == ["_c0", "_c1"]
    assert len(table) == 2
