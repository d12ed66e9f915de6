"""The column-wise capture reader gives exactly what the record-by-record reader gives.

``read_capture_report`` reads plain CSV records column-wise (``pyarrow.json`` envelopes, payloads
split and typed as whole columns) and everything else record by record; ``_read_report(...,
fast=False)`` reads every record one by one and is the reference. Same frame (values, dtypes,
column order, attrs), same counts, problems and notes: on the real corpus and on structured fuzz
(issue 13; also issue 15's "fuzz every reader" for capture payloads).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.errors import InputError
from lib.sources import capture, capture_envelope
from tests.support import paths

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
NAMES = ["age", "tenure_months", "monthly_charges", "plan"]
CORPUS = sorted(
    [
        *(paths.DATA / "real" / "capture").iterdir(),
        *(paths.DATA / "model_monitor").glob("*.jsonl"),  # incl. ../shared's sample (a copy lives here)
    ]
)


def outcome(data: bytes, names: Sequence[str] | None, *, fast: bool) -> Any:
    """What the reader makes of ``data``: the result, or the InputError's message."""
    try:
        return capture._read_report(data, feature_names=names, name="up.jsonl", fast=fast)
    except InputError as err:
        return f"InputError: {err.message}"


def assert_same(data: bytes, names: Sequence[str] | None = None) -> capture.CaptureResult | None:
    fast = outcome(data, names, fast=True)
    exact = outcome(data, names, fast=False)
    if isinstance(exact, str) or isinstance(fast, str):
        assert fast == exact
        return None
    pd.testing.assert_frame_equal(fast.frame, exact.frame, check_exact=True)
    assert fast.frame.attrs == exact.frame.attrs
    assert (fast.n_records, fast.n_bad, fast.problems, fast.notes) == (
        exact.n_records,
        exact.n_bad,
        exact.problems,
        exact.notes,
    )
    return fast


def n_fast(data: bytes) -> int:
    """Records the column-wise path took."""
    return sum(int(part.fast.sum()) for part in capture._scan(data, "up.jsonl", fast=True))


def line(
    data_in: object = None,
    data_out: object = None,
    *,
    enc_in: str = "CSV",
    enc_out: str = "CSV",
    event: object = "e1",
    when: object = "2024-05-06T13:00:05Z",
) -> str:
    cap: dict[str, object] = {}
    if data_in is not None:
        cap["endpointInput"] = {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": data_in,
            "encoding": enc_in,
        }
    if data_out is not None:
        cap["endpointOutput"] = {
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": data_out,
            "encoding": enc_out,
        }
    return json.dumps(
        {"captureData": cap, "eventMetadata": {"eventId": event, "inferenceTime": when}, "eventVersion": "0"}
    )


@pytest.fixture
def small_stretches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read a few hundred bytes at a time and halve refused stretches down to one line, so small
    inputs go through the chunking and the halving too."""
    monkeypatch.setattr(capture, "_CHUNK_BYTES", 300)
    monkeypatch.setattr(capture, "_MIN_STRETCH", 0)


# ------------------------------------------------------------------ real files


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
@pytest.mark.parametrize("names", [None, NAMES, NAMES[:1], ["label", *NAMES]])
@pytest.mark.parametrize("stretch", ["default", "small"])
def test_real_files_read_the_same_both_ways(
    path: Path, names: list[str] | None, stretch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if stretch == "small":
        monkeypatch.setattr(capture, "_CHUNK_BYTES", 300)
        monkeypatch.setattr(capture, "_MIN_STRETCH", 0)
    assert_same(path.read_bytes(), names)


def test_plain_csv_capture_takes_the_column_wise_path() -> None:
    data = (paths.DATA / "real" / "capture" / "csv_template_times.jsonl").read_bytes()
    records = len(data.splitlines())
    assert n_fast(data) == records
    result = assert_same(data)
    assert result is not None
    assert len(result.frame) == records


@pytest.mark.usefixtures("small_stretches")
def test_mixed_upload_reads_fast_and_exact_records_into_one_frame() -> None:
    lines = [line(f"{i},{i * 0.5},x{i % 2}", "0.5", event=f"e{i}") for i in range(30)]
    lines[7] = line('1,"2,5",x', "0.1", event="q")  # quoted comma: record by record
    lines[9] = line(json.dumps({"instances": [[1, 2, "x"]]}), "0.2", enc_in="JSON", event="j")
    lines[11] = "not json"
    lines[12] = lines[3]  # duplicate eventId
    data = "\n".join(lines).encode()
    assert 0 < n_fast(data) < len(lines)
    result = assert_same(data, ["a", "b", "c"])
    assert result is not None
    assert result.n_bad == 2
    assert len(result.frame) == 28


def test_year_3000_is_a_skipped_row_not_a_crash() -> None:
    # Before: pandas parsed it at microseconds and the cast to nanoseconds raised OutOfBoundsDatetime.
    data = "\n".join(
        [line("1,2", "0.5", event="a", when="3000-01-01T00:00:00Z"), line("3,4", "0.6", event="b")]
    )
    result = assert_same(data.encode())
    assert result is not None
    assert result.n_bad == 1
    assert result.frame["event_id"].tolist() == ["b"]


def test_big_integers_and_odd_numbers_read_as_the_record_reader_does() -> None:
    values = ["18446744073709551617,-1,1e5,-0,inf", "1,2,+3.,.5,nan", "0x10,1_000, 7 ,,-0.0"]
    data = "\n".join(line(v, "1", event=f"e{i}") for i, v in enumerate(values)).encode()
    assert_same(data)
    assert_same(data.replace(b"18446744073709551617", b"12"))


# ------------------------------------------------------------------ structured fuzz

NUMBER_TEXT = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:g}"),
    st.decimals(places=4, allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(str),
    st.sampled_from(
        ["-0", "-0.0", "+1", "1.", ".5", "1e5", "1E-3", "inf", "-Infinity", "nan", "NaN", "1-2", "1.2.3"]
    ),
)
CELL = st.one_of(
    NUMBER_TEXT,
    NUMBER_TEXT.map(lambda s: f" {s} "),
    st.sampled_from(["", " ", "basic", "pro", "NULL", "None", "01", "0x1F", "1_0", "é", "a b"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=4),
)


def csv_row(cells: list[str]) -> str:
    return ",".join(c.replace("\n", " ").replace("\r", " ") for c in cells)


CSV_PAYLOAD = st.one_of(
    st.lists(CELL, min_size=1, max_size=5).map(csv_row),  # ragged across records
    st.lists(st.lists(CELL, min_size=1, max_size=3).map(csv_row), min_size=2, max_size=3).map("\n".join),
    st.lists(CELL, min_size=1, max_size=3).map(lambda c: '"' + ",".join(c) + '",1'),  # quoted comma
    st.sampled_from(["", " , ", ",,", "\n"]),
)
JSON_SCALAR = st.one_of(st.integers(-5, 5), st.floats(-9, 9), st.text(max_size=3))
JSON_PAYLOAD = st.one_of(
    st.lists(
        st.lists(st.one_of(st.integers(-5, 5), st.floats(-9, 9), st.text(max_size=3)), max_size=3), max_size=3
    ).map(lambda rows: json.dumps({"instances": rows})),
    st.lists(st.floats(-9, 9), max_size=3).map(lambda xs: json.dumps({"predictions": xs})),
    st.sampled_from(['{"instances": [1.0, 2.0]}', "[1, 2", '{"a": 1, "event_id": 2}', "null"]),
)
TIME = st.one_of(
    st.sampled_from(
        [
            "2024-05-06T13:00:05Z",
            "2024-05-06T13:00:05Z",
            "2024-05-06T13:00:04.5Z",
            "2024-05-06T15:00:05+02:00",
            "2023-02-29T00:00:00Z",
            "3000-01-01T00:00:00Z",
            "1677-09-21T00:12:43.145224191Z",
            "2024-05-06 13:00:05",
            "{%s}",
            "",
            "1700000000",
            "-1",
        ]
    ),
    st.none(),
    st.integers(0, 2_000_000_000),
)


BAD_LINES = [
    "not json",
    "{}",
    '{"captureData": {}}',
    '{"captureData": {"endpointInput": null}}',
    "[1]",
    " ",
    "",
]


@st.composite
def records(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["csv", "csv", "csv", "csv_only_in", "csv_only_out", "json", "base64", "bad"])
    )
    event = draw(st.one_of(st.sampled_from(["e1", "e2", "e3"]), st.uuids().map(str), st.none(), st.just(7)))
    when = draw(TIME)
    if kind == "bad":
        return draw(
            st.sampled_from(
                [
                    "not json",
                    "{}",
                    '{"captureData": {}}',
                    '{"captureData": {"endpointInput": null}}',
                    "[1]",
                    "   ",
                    "",
                ]
            )
        )
    if kind == "json":
        return line(
            draw(JSON_PAYLOAD), draw(JSON_PAYLOAD), enc_in="JSON", enc_out="JSON", event=event, when=when
        )
    if kind == "base64":
        payload = draw(CSV_PAYLOAD)
        encoded = base64.b64encode(payload.encode()).decode() + draw(st.sampled_from(["", "", "!"]))
        return line(encoded, draw(CSV_PAYLOAD), enc_in="BASE64", event=event, when=when)
    data_in = None if kind == "csv_only_out" else draw(CSV_PAYLOAD)
    data_out = None if kind == "csv_only_in" else draw(st.one_of(NUMBER_TEXT, CSV_PAYLOAD))
    return line(data_in, data_out, event=event, when=when)


@st.composite
def plain_records(draw: st.DrawFn) -> str:
    """Mostly records the column-wise path takes: one row of numbers or words."""
    cells = draw(
        st.lists(st.one_of(NUMBER_TEXT, st.sampled_from(["basic", "pro", ""])), min_size=1, max_size=4)
    )
    return line(
        ",".join(cells),
        draw(NUMBER_TEXT),
        event=draw(st.one_of(st.uuids().map(str), st.sampled_from(["e1", "e2"]))),
        when=draw(TIME),
    )


@pytest.mark.usefixtures("small_stretches")
@FUZZ
@given(
    st.lists(records(), min_size=1, max_size=12),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from([None, ["a", "b"], ["y", "a", "b", "c"], ["f1", "a"], ["event_id"]]),
)
def test_fuzzed_capture_lines_read_the_same_both_ways(
    lines: list[str], end: str, names: list[str] | None
) -> None:
    assert_same(end.join(lines).encode(), names)


@pytest.mark.usefixtures("small_stretches")
@FUZZ
@given(
    st.lists(plain_records(), min_size=1, max_size=15),
    st.sampled_from([None, ["a", "b"], ["y", "a", "b", "c"]]),
)
def test_fuzzed_plain_csv_captures_read_the_same_both_ways(lines: list[str], names: list[str] | None) -> None:
    data = "\n".join(lines).encode()
    assert_same(data, names)


def test_plain_fuzz_records_do_take_the_column_wise_path() -> None:
    # The plain fuzz above must exercise the fast path, not only the fallback.
    data = "\n".join(line(f"{i},{i}.5,pro", "0.5", event=f"e{i}") for i in range(5)).encode()
    assert n_fast(data) == 5
    assert np.all([part.columns is not None for part in capture._scan(data, "x", fast=True)])


def test_base64_csv_payloads_are_decoded_and_read_column_wise() -> None:
    payloads = [base64.b64encode(f"{i},{i}.5,pro".encode()).decode() for i in range(4)]
    lines = [line(p, "0.5", enc_in="BASE64", event=f"e{i}") for i, p in enumerate(payloads)]
    lines.append(line("bm90IGJhc2U2NA!", "0.5", enc_in="BASE64", event="bad"))  # not BASE64: counted
    data = "\n".join(lines).encode()
    assert n_fast(data) == 4
    result = assert_same(data)
    assert result is not None
    assert result.n_bad == 1
    assert result.frame["f1"].tolist() == [0.5, 1.5, 2.5, 3.5]


# ------------------------------------------------------------------ envelopes read by layout

SIDE_FIELDS = ("observedContentType", "mode", "data", "encoding")


def envelope_values(raw: bytes) -> list[dict[str, object]]:
    """What ``json.loads`` reads from each line: the fields the layout reader gives."""
    out = []
    for text in raw.decode("utf-8").splitlines():
        rec = json.loads(text)
        cap, meta = rec.get("captureData", {}), rec.get("eventMetadata", {})
        row: dict[str, object] = {"eventId": meta.get("eventId"), "inferenceTime": meta.get("inferenceTime")}
        for side in ("endpointInput", "endpointOutput"):
            block = cap.get(side)
            row[side] = None if block is None else {k: block.get(k) for k in SIDE_FIELDS}
        out.append(row)
    return out


def layout_values(raw: bytes) -> tuple[list[dict[str, object]], list[bool]]:
    read = capture_envelope.read_envelopes(raw)
    assert read is not None
    rows = []
    request, response = read.request.to_pylist(), read.response.to_pylist()
    for i, (event, when) in enumerate(zip(read.event.to_pylist(), read.when.to_pylist(), strict=True)):
        rows.append(
            {
                "eventId": event,
                "inferenceTime": when,
                "endpointInput": request[i],
                "endpointOutput": response[i],
            }
        )
    return rows, read.matched.tolist()


def sagemaker_line(i: int, *, output: bool = True, inference_id: bool = False, order: str = "cap") -> str:
    """A record as SageMaker writes it: compact separators, keys in its order."""
    side_in = {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": f"{i},{i}.5,pro",
        "encoding": "CSV",
    }
    side_out = {
        "observedContentType": "text/csv; charset=utf-8",
        "mode": "OUTPUT",
        "data": "0.25",
        "encoding": "CSV",
    }
    meta = {
        "eventId": f"00000000-0000-4000-8000-{i:012d}",
        "inferenceTime": f"2024-05-06T13:00:{i % 60:02d}Z",
    }
    if inference_id:
        meta["inferenceId"] = f"req-{i}"
    cap = {"endpointInput": side_in, **({"endpointOutput": side_out} if output else {})}
    rec = (
        {"captureData": cap, "eventMetadata": meta, "eventVersion": "0"}
        if order == "cap"
        else {"eventMetadata": meta, "eventVersion": "0", "captureData": cap}
    )
    return json.dumps(rec, separators=(",", ":"))


def test_sagemaker_lines_are_read_by_their_layout() -> None:
    data = "\n".join(sagemaker_line(i) for i in range(50)).encode()
    rows, matched = layout_values(data)
    assert all(matched)
    assert rows == envelope_values(data)
    assert n_fast(data) == 50
    assert_same(data)


@pytest.mark.parametrize(
    "lines",
    [
        # input-only and full records, inferenceId on some, metadata first: one layout each
        [sagemaker_line(i, output=i % 3 != 0, inference_id=i % 4 == 0) for i in range(40)],
        [sagemaker_line(i, order="meta") for i in range(10)] + [sagemaker_line(i + 10) for i in range(10)],
        # json.dumps' default separators, and a record with spaces only on some lines
        [json.dumps(json.loads(sagemaker_line(i))) for i in range(10)],
        [sagemaker_line(i) if i % 2 else json.dumps(json.loads(sagemaker_line(i))) for i in range(10)],
    ],
    ids=["sides-and-inference-id", "key-orders", "spaced", "mixed-spacing"],
)
def test_layouts_read_what_json_loads_reads(lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    rows, matched = layout_values(data)
    assert all(matched)
    assert rows == envelope_values(data)
    assert_same(data, ["a", "b", "c"])


@pytest.mark.parametrize(
    "odd",
    [
        sagemaker_line(3).replace("3,3.5,pro", '3,\\"3.5\\",pro'),  # escaped quotes in the payload
        sagemaker_line(3).replace("3,3.5,pro", "3,3.5,pr\\u00f6"),  # an escape for a plain letter
        sagemaker_line(3).replace('"eventVersion":"0"', '"eventVersion":"0","extra":"x"'),  # another key
        sagemaker_line(3).replace('"eventVersion":"0"', '"eventVersion":0'),  # a number
        sagemaker_line(3).replace('"mode":"INPUT"', '"mode":"INPUT","mode":"INPUT"'),  # a duplicate key
        sagemaker_line(3).replace("-000000000003", "-00000000000é"),  # another id length, unicode
        sagemaker_line(3).replace("3,3.5,pro", "3,3.5,pró"),  # unicode in the payload
        sagemaker_line(3) + " ",  # trailing space
        sagemaker_line(3)[:-40],  # truncated
        "not json",
    ],
)
def test_lines_off_the_layout_are_left_to_the_record_reader(odd: str) -> None:
    lines = [sagemaker_line(i) for i in range(20)]
    lines[3] = odd
    data = "\n".join(lines).encode()
    read = capture_envelope.read_envelopes(data)
    assert read is not None
    rows, matched = layout_values(data)
    good = [r for r, m in zip(rows, matched, strict=True) if m]
    expected = envelope_values("\n".join(line for i, line in enumerate(lines) if matched[i]).encode())
    assert good == expected
    assert_same(data, ["a", "b", "c"])


@pytest.mark.parametrize(
    "text",
    [
        b"\n".join([sagemaker_line(1).encode(), b"", sagemaker_line(2).encode()]),  # a blank line
        sagemaker_line(1).encode().replace(b'"mode"', b'\t"mode"'),  # a tab
        sagemaker_line(1).encode() + b"\r" + sagemaker_line(2).encode(),  # a lone carriage return
        sagemaker_line(1).encode().replace(b"pro", b"pro\xe2\x80\xa8"),  # U+2028: a line break to str
        sagemaker_line(1).encode().replace(b"pro", b"pro\xff"),  # not UTF-8
    ],
    ids=["blank", "tab", "cr", "u2028", "not-utf8"],
)
def test_stretches_the_layout_reader_refuses(text: bytes) -> None:
    assert capture_envelope.read_envelopes(text) is None
    assert_same(text)


def test_crlf_lines_are_read_by_layout() -> None:
    data = "\r\n".join(sagemaker_line(i) for i in range(10)).encode() + b"\r\n"
    rows, matched = layout_values(data)
    assert all(matched)
    assert rows == envelope_values(data)
    assert_same(data)


PLAIN_TEXT = st.one_of(
    st.sampled_from(["", "CSV", "text/csv", "0.5", "1,2,x", "é", "{}", "2024-05-06T13:00:05Z"]),
    st.text(alphabet="abc,. 0é", max_size=6),
)
#: Values that make a line no layout line (escapes) or the stretch no layout stretch (line breaks).
ODD_TEXT = st.one_of(st.sampled_from(["a\\b", 'q"q', "\u2028", "\t", "\x85"]), st.text(max_size=6))
ENVELOPE_TEXT = st.one_of(*[PLAIN_TEXT] * 8, ODD_TEXT)


@st.composite
def envelope_layouts(draw: st.DrawFn) -> Any:
    """A capture writer's layout (key order, blocks, fields, separators): a function of the values
    drawn for one record, giving its line."""

    def keys(all_keys: Sequence[str], required: str | None) -> list[str]:
        chosen = draw(st.permutations(all_keys))
        kept = draw(st.sets(st.sampled_from(chosen)))
        return [k for k in chosen if k in kept or k == required]

    sides = [
        s
        for s in draw(st.permutations(["endpointInput", "endpointOutput"]))
        if s == "endpointInput" or draw(st.booleans())
    ]
    fields = {side: keys(SIDE_FIELDS, "data") for side in sides}
    meta = keys(["eventId", "inferenceTime", "inferenceId"], None)
    top = [
        k
        for k in draw(st.permutations(["captureData", "eventMetadata", "eventVersion"]))
        if k != "eventVersion" or draw(st.booleans())
    ]
    version = draw(st.sampled_from(["0", 0]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]))
    ascii_only = draw(st.booleans())

    def write(d: st.DrawFn) -> str:
        rec: dict[str, object] = {}
        for key in top:
            if key == "captureData":
                rec[key] = {side: {k: d(ENVELOPE_TEXT) for k in fields[side]} for side in sides}
            elif key == "eventMetadata":
                rec[key] = {k: d(ENVELOPE_TEXT) for k in meta}
            else:
                rec[key] = version
        return json.dumps(rec, separators=separators, ensure_ascii=ascii_only)

    return write


@st.composite
def envelope_files(draw: st.DrawFn) -> list[str]:
    """Lines of one or two layouts, mostly plain values."""
    layouts = draw(st.lists(envelope_layouts(), min_size=1, max_size=2))
    return [draw(st.sampled_from(layouts))(draw) for _ in range(draw(st.integers(1, 10)))]


@FUZZ
@given(envelope_files(), st.sampled_from(["\n", "\r\n"]))
def test_fuzzed_layouts_read_what_json_loads_reads(lines: list[str], end: str) -> None:
    data = end.join(lines).encode()
    assert_same(data)
    read = capture_envelope.read_envelopes(data)
    if read is None:
        return
    rows, matched = layout_values(data)
    expected = envelope_values(data)
    for row, want, ok in zip(rows, expected, matched, strict=True):
        if ok:
            assert row == want


def test_a_carriage_return_inside_a_csv_payload_ends_a_row_in_both_readers() -> None:
    """``"1,2\\r3,4"`` made the record-by-record reader's ``csv.reader`` raise (a traceback, found by
    the layout fuzz under load); a bare carriage return now ends a row there as in Arrow's reader."""
    data = (line("1,2\r3,4", "0.5\r0.6") + "\n" + line("5,6", "0.7", event="e2") + "\n").encode()
    read = assert_same(data)
    assert read is not None
    assert read.frame[["f0", "f1"]].astype(int).values.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert read.frame["prediction"].tolist() == [0.5, 0.6, 0.7]
