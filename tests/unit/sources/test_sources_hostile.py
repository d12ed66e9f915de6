"""Bad and odd uploads: a canonical frame or a clear InputError, never another exception or a hang."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.errors import InputError
from lib.schema import METRIC_COLUMNS
from lib.sources import capture, files, latency, load_export, monitor_files, read_export

LONG = (
    "job,metric,timestamp,value\n"
    "run-a,train:accuracy,2024-05-01T10:00:00Z,0.5\n"
    "run-a,train:accuracy,2024-05-01T10:01:00Z,0.75\n"
)


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metrics.csv", LONG)
    return buffer.getvalue()


ERRORS = {
    "empty": (b"", "empty"),
    "blank lines": (b"\n\n  \r\n", "empty"),
    "header only": (b"job,metric,timestamp,value\n", "no data rows"),
    "unknown header only": (b"alpha,beta,gamma\n", "only a header line"),
    "binary junk": (bytes(range(256)) * 8, "binary data"),
    "zip renamed csv": (_zip_bytes(), "ZIP archive"),
    "xlsx": (b"PK\x03\x04" + b"\x00" * 20 + b"[Content_Types].xml", "Excel workbook"),
    "pdf": (b"%PDF-1.7\n...", "PDF document"),
    "truncated json": (b'{"MetricDataResults": [{"Id": "m0", "Values": [0.5, ', "ends unexpectedly"),
    "invalid json": (b'{"MetricDataResults": oops}', "JSON is invalid"),
    "html page": (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>", "HTML page"),
    "xml": (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "XML"),
    "unknown json": (b'{"hello": "world", "n": 1}', "top-level keys hello, n"),
    "json list": (b"[1, 2, 3]", "JSON list of 3 items"),
    "json scalar": (b"42.5", "no known layout"),
    "deeply nested json": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "deeply nested json object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
    "metric data without data": (b'{"MetricDataResults": []}', "no MetricDataResults"),
    "gzip of nothing": (gzip.compress(b""), "empty"),
    "broken gzip": (b"\x1f\x8b\x08\x00garbage-garbage", "damaged"),
    "all values garbage": (
        b"job,metric,timestamp,value\na,m,2024-05-01T10:00:00Z,abc\n",
        "no row holds a usable value",
    ),
    "text without layout": (b"hello world\nthis is a letter\n", "no known layout"),
    "wide without numbers": (b"time,note\n2024-05-01T10:00:00Z,hello\n", "no known layout"),
    "too many columns": (
        (",".join(f"c{i}" for i in range(30_000)) + "\n").encode(),
        "more than 20,000 columns",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_upload_raises_input_error_naming_file_and_expectation(case: str) -> None:
    data, found = ERRORS[case]
    with pytest.raises(InputError) as info:
        read_export(data, "metrics.csv")
    message = str(info.value)
    assert message.startswith("metrics.csv: ")
    assert found in message
    assert "Expected one of:" in message or "gzip" in message


def test_html_error_names_how_it_starts() -> None:
    data = b"<!DOCTYPE html>\n<html><body>Sign in</body></html>"
    with pytest.raises(InputError, match=r"starts with <!DOCTYPE html>"):
        read_export(data, "metrics.csv")


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_export(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="folder"):
        read_export(tmp_path)


def _expect_long(frame: pd.DataFrame) -> None:
    assert frame["job"].tolist() == ["run-a", "run-a"]
    assert frame["value"].tolist() == [0.5, 0.75]
    assert frame["timestamp"].tolist() == [
        pd.Timestamp("2024-05-01 10:00", tz="UTC"),
        pd.Timestamp("2024-05-01 10:01", tz="UTC"),
    ]


@pytest.mark.parametrize(
    ("encoded", "note"),
    [
        (gzip.compress(LONG.encode()), "gzip"),
        (b"\xef\xbb\xbf" + LONG.encode(), None),
        ("\ufeff".encode("utf-16-le") + LONG.encode("utf-16-le"), "UTF-16"),
        ("\ufeff".encode("utf-16-be") + LONG.encode("utf-16-be"), "UTF-16"),
        (LONG.encode("utf-16-le"), "UTF-16"),
        ("\ufeff".encode("utf-32-le") + LONG.encode("utf-32-le"), "UTF-32"),
        (LONG.replace("\n", "\r\n").encode(), None),
    ],
    ids=["gzip", "utf8-bom", "utf16-le-bom", "utf16-be-bom", "utf16-le-no-bom", "utf32-bom", "crlf"],
)
def test_encodings_and_compression_are_decoded(encoded: bytes, note: str | None) -> None:
    loaded = load_export(encoded, "metrics.csv")
    _expect_long(loaded.metrics)
    if note:
        assert any(note in n for n in loaded.notes)


def test_latin1_text_keeps_accented_job_names() -> None:
    data = "job,metric,timestamp,value\nmodèle-1,train:accuracy,2024-05-01T10:00:00Z,0.5\n".encode("latin-1")
    loaded = load_export(data, "m.csv")
    assert loaded.metrics["job"].tolist() == ["modèle-1"]
    assert any("not UTF-8" in n for n in loaded.notes)


def test_semicolon_and_decimal_comma() -> None:
    data = b"TrainingJobName;MetricName;Timestamp;Value\nrun-a;train:accuracy;2024-05-01 10:00:00.000;0,5\n"
    data += b"run-a;train:accuracy;2024-05-01 10:01:00.000;0,75\n"
    _expect_long(read_export(data, "m.csv"))


def test_tab_separated_with_forgiving_headers() -> None:
    data = b"training_job_name\tmetric_name\ttime\taverage\nrun-a\ttrain:accuracy\t1714557600000\t0.5\n"
    data += b"run-a\ttrain:accuracy\t1714557660000\t0.75\n"
    _expect_long(read_export(data, "m.tsv"))


def test_epoch_seconds_timestamps() -> None:
    data = b"job,metric,timestamp,value\nrun-a,train:accuracy,1714557600,0.5\n"
    data += b"run-a,train:accuracy,1714557660,0.75\n"
    _expect_long(read_export(data, "m.csv"))


def test_bad_values_are_dropped_and_counted() -> None:
    rows = ["job,metric,timestamp,value"]
    rows += [
        f"run-a,m,2024-05-01T10:0{i}:00Z,{v}"
        for i, v in enumerate(["0.5", "NaN", "inf", "-inf", "abc", "", "0.25"])
    ]
    loaded = load_export("\n".join(rows).encode(), "m.csv")
    assert loaded.metrics["value"].tolist() == [0.5, 0.25]
    assert any(n.startswith("5 rows with a missing, non-numeric or infinite value") for n in loaded.notes)


def test_mixed_timestamp_formats_in_one_column() -> None:
    data = (
        b"job,metric,timestamp,value\n"
        b"a,m,2024-05-01T10:00:00Z,1\n"
        b"a,m,2024-05-01 10:01:00.000,2\n"
        b"a,m,1714557720000,3\n"
        b"a,m,2024-05-01T12:03:00+02:00,4\n"
        b"a,m,not a time,5\n"
    )
    loaded = load_export(data, "m.csv")
    assert loaded.metrics["timestamp"].dt.strftime("%H:%M").tolist() == ["10:00", "10:01", "10:02", "10:03"]
    assert loaded.metrics["value"].tolist() == [1, 2, 3, 4]
    assert any("unreadable timestamp" in n for n in loaded.notes)


def test_duplicate_headers_use_the_first_column() -> None:
    data = b"job,metric,timestamp,value,value\na,m,2024-05-01T10:00:00Z,1,9\n"
    loaded = load_export(data, "m.csv")
    assert loaded.metrics["value"].tolist() == [1.0]
    assert any("more than once" in n for n in loaded.notes)


@pytest.mark.parametrize(
    "job",
    [
        "<img src=x onerror=alert(1)>",
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
    ],
)
def test_hostile_job_names_are_kept_verbatim(job: str) -> None:
    quoted = '"' + job.replace('"', '""') + '"'
    data = f"job,metric,timestamp,value\n{quoted},m,2024-05-01T10:00:00Z,1\n".encode()
    assert read_export(data, "m.csv")["job"].tolist() == [job]


def test_huge_single_line_finishes_with_input_error() -> None:
    line = b"Epoch[1] Train-accuracy=0.5 " * (30 * 2**20 // 28)
    assert len(line) > 29 * 2**20
    with pytest.raises(InputError, match="too long"):
        read_export(line, "big.log")


def test_huge_single_line_of_commas_finishes() -> None:
    with pytest.raises(InputError):
        read_export(b"a," * (15 * 2**20), "big.csv")


def test_hundred_thousand_rows_parse() -> None:
    n = 100_000
    frame = pd.DataFrame(
        {
            "job": np.repeat(["run-a", "run-b"], n // 2),
            "metric": "validation:accuracy",
            "timestamp": np.tile(pd.date_range("2024-05-01", periods=n // 2, freq="s", tz="UTC"), 2),
            "value": np.linspace(0, 1, n),
        }
    )
    out = read_export(frame.to_csv(index=False).encode(), "big.csv")
    assert len(out) == n
    assert out["value"].sum() == pytest.approx(n / 2)


def test_wide_csv_with_many_columns() -> None:
    metrics = [f"m{i}" for i in range(2_000)]
    header = "epoch," + ",".join(metrics)
    rows = [f"{e}," + ",".join(str(e + i / 10_000) for i in range(len(metrics))) for e in range(3)]
    loaded = load_export(("\n".join([header, *rows]) + "\n").encode(), "wide.csv")
    assert loaded.format == "wide_csv"
    assert len(loaded.metrics) == 3 * len(metrics)
    assert set(loaded.metrics["job"]) == {"wide"}
    assert loaded.metrics.loc[loaded.metrics["metric"] == "m7", "value"].tolist() == [0.0007, 1.0007, 2.0007]


def test_wide_csv_with_time_and_job_columns() -> None:
    data = (
        b"Timestamp,TrainingJobName,train:accuracy,validation:accuracy,comment\n"
        b"2024-05-01T10:00:00Z,run-a,0.5,0.25,ok\n"
        b"2024-05-01T10:01:00Z,run-a,0.75,0.5,ok\n"
    )
    loaded = load_export(data, "w.csv")
    assert loaded.format == "wide_csv"
    frame = loaded.metrics
    assert frame.loc[frame["metric"] == "validation:accuracy", "value"].tolist() == [0.25, 0.5]
    assert set(frame["job"]) == {"run-a"}
    assert any("comment" in n for n in loaded.notes)


def test_metric_data_with_partial_series_and_stat_label() -> None:
    doc = {
        "MetricDataResults": [
            {
                "Id": "q0",
                "Label": "train:accuracy Average",
                "Timestamps": ["2024-05-01T10:01:00Z", "2024-05-01T10:00:00Z"],
                "Values": [0.75, 0.5],
                "StatusCode": "PartialData",
            }
        ]
    }
    loaded = load_export(json.dumps(doc).encode(), "run-a.json")
    _expect_long(loaded.metrics.assign(job=loaded.metrics["job"].str.replace("run-a", "run-a")))
    assert loaded.metrics["partial"].all()
    assert set(loaded.metrics["stat"]) == {"Average"}
    assert any("PartialData" in n for n in loaded.notes)


def test_loggly_json_lines_with_a_broken_line() -> None:
    good = {
        "timestamp": "2024-05-01T10:00:00Z",
        "average": 0.5,
        "metricName": "m",
        "trainingJobName": "run-a",
    }
    data = (json.dumps(good) + "\n{broken\n").encode()
    loaded = load_export(data, "l.jsonl")
    assert loaded.metrics["value"].tolist() == [0.5]
    assert any("not JSON" in n for n in loaded.notes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_frame_or_input_error(data: bytes) -> None:
    try:
        frame = read_export(data, "fuzz.csv")
    except InputError as err:
        message = str(err)
    else:
        assert list(frame.columns[:5]) == list(METRIC_COLUMNS)
        return
    assert message.startswith("fuzz.csv: ")


_CSV_CELLS = st.text(alphabet=st.sampled_from(list("0123456789.,;-:eE TZabc\"'\n=<>")), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CSV_CELLS, min_size=4, max_size=4), max_size=6), st.sampled_from([",", ";", "\t"]))
def test_csv_like_text_gives_frame_or_input_error(rows: list[list[str]], sep: str) -> None:
    header = sep.join(["job", "metric", "timestamp", "value"])
    text = "\n".join([header, *(sep.join(r) for r in rows)])
    try:
        frame = read_export(text.encode(), "fuzz.csv")
    except InputError:
        return
    assert np.isfinite(frame["value"]).all()
    # small numbers in the time column are seconds since the start (relative time): NaT + elapsed_s
    assert frame["timestamp"].notna().all() or frame["elapsed_s"].notna().all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=8) | st.integers(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "MetricDataResults",
                        "Label",
                        "Timestamps",
                        "Values",
                        "Datapoints",
                        "events",
                        "message",
                        "timestamp",
                        "average",
                        "metricName",
                        "TrainingJobName",
                        "TrainingJobStatus",
                        "Results",
                        "event",
                        "json",
                        "StatusCode",
                        "Average",
                        "logStreamName",
                        "x",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_json_of_known_keys_gives_frame_or_input_error(doc: object) -> None:
    try:
        data = json.dumps(doc).encode()
    except ValueError:
        return
    try:
        frame = read_export(data, "fuzz.json")
    except InputError:
        return
    assert list(frame.columns[:5]) == list(METRIC_COLUMNS)


@pytest.mark.parametrize("reader", ["read_export", "read_capture", "read_statistics", "read_latency_export"])
def test_every_reader_shares_one_size_cap(
    reader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``source_bytes`` (lib.sources.files) with one cap serves every reader, paths and uploads alike."""
    readers = {
        "read_export": read_export,
        "read_capture": capture.read_capture,
        "read_statistics": monitor_files.read_statistics,
        "read_latency_export": latency.read_latency_export,
    }
    monkeypatch.setattr(files, "MAX_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_bytes(b"{" + b" " * 200 + b"}")
    with pytest.raises(InputError, match="limit"):
        readers[reader](path)
    with pytest.raises(InputError, match="limit"):
        readers[reader](io.BytesIO(path.read_bytes()))
