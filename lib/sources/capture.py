"""SageMaker Model Monitor data capture files → one row per inference.

A capture file (``<endpoint>/<variant>/yyyy/mm/dd/hh/<MM-SS-mmm-uuid>.jsonl``) holds one JSON object
per line::

    {"captureData": {
        "endpointInput": {"observedContentType": ..., "mode": "INPUT", "data": ..., "encoding": ...},
        "endpointOutput": {"observedContentType": ..., "mode": "OUTPUT", "data": ..., "encoding": ...}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2022-02-14T17:25:49Z"}, "eventVersion": "0"}

``encoding`` is ``CSV`` (raw CSV text), ``JSON`` (JSON text) or ``BASE64`` (content types not listed
in the capture config; decoded, then read as JSON or CSV by content type). Either side may be absent
(input-only or output-only capture). A payload with several CSV lines or JSON instances is a batch:
it gives several rows sharing one ``event_id``.

JSON request shapes: ``{"instances": [...]}`` (TF Serving / SageMaker TensorFlow row format),
``{"inputs": ...}``, ``{"data": ...}``, ``{"features": [...]}`` or a bare list. A list of lists or of
objects is one instance per element. A flat list of scalars is ambiguous: under ``instances`` TF
Serving reads it as one scalar instance per element (``{"instances": [1.0, 2.0, 5.0]}`` is three
instances of one feature), elsewhere it is usually one instance with several features. It is read
as one instance per element when the response holds exactly that many predictions (more than one),
or when it sits under ``instances`` and there is no response; otherwise as one instance.

JSON responses: an object with a score (``score``, ``prediction``, ``probability`` ...) and a
label (``predicted_label``, ``label``), as built-in algorithms and Clarify-style endpoints return,
keeps both: the score is ``prediction`` (a list of scores gives ``prediction_1`` ...) and the label
goes to ``prediction_label``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from lib.errors import InputError
from lib.sources.capture_envelope import Envelopes, read_envelopes, utf8_without_odd_breaks
from lib.sources.files import Budget, Source, check_depth, gunzip, source_bytes, source_list, unzip

#: What the readers accept: a path, raw bytes, or a binary file-like (e.g. a Streamlit upload).

META_COLUMNS: Final = ("inference_time", "event_id")
PREDICTION: Final = "prediction"
#: Column of the predicted label when a response object holds both a score and a label.
PREDICTION_LABEL: Final = "prediction_label"
_MAX_PROBLEMS: Final = 50
_PREDICTION_KEYS: Final = (
    "score",
    "prediction",
    "predicted_value",
    "predicted_label",
    "probability",
    "label",
)
_SCORE_KEYS: Final = ("score", "prediction", "predicted_value", "probability", "probabilities")
_LABEL_KEYS: Final = ("predicted_label", "label")
_INSTANCE_KEYS: Final = ("instances", "inputs", "data")


@dataclass(frozen=True)
class CaptureResult:
    """What ``read_capture_report`` read.

    Attributes
    ----------
    frame
        One row per inference (see ``read_capture``).
    n_records
        Capture records (JSON lines) seen, bad ones included.
    n_bad
        Records that gave no row (not JSON, no ``captureData``, undecodable payload, duplicates).
    problems
        Human-readable notes, ``"<file>:<line>: what"`` (at most 50, then a count).
    notes
        What the reader decided for the whole upload (e.g. how positional inputs were named).
    """

    frame: pd.DataFrame
    n_records: int
    n_bad: int
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()


class _RecordError(Exception):
    """A record that cannot be used; the message says why."""


def _files(data: bytes, label: str, budget: Budget, depth: int = 0) -> list[tuple[bytes, str]]:
    """Expand zips (every ``.jsonl``/``.json``/``.jsonl.gz`` member) and gzip into (content, name),
    under the shared caps: at most :data:`MAX_ARCHIVE_DEPTH` archives deep, :data:`MAX_ZIP_MEMBERS`
    files per zip, and :data:`MAX_BYTES` unpacked for the whole upload (counted while inflating)."""
    if data[:2] == b"\x1f\x8b":
        check_depth(depth + 1, label)
        return _files(gunzip(data, label, budget), label.removesuffix(".gz"), budget, depth + 1)
    if data[:4] != b"PK\x03\x04":
        return [(data, label)]
    check_depth(depth + 1, label)
    members = unzip(
        data, label, budget, keep=lambda name: name.lower().endswith((".jsonl", ".json", ".jsonl.gz", ".zip"))
    )
    out = []
    for content, member in members:
        out.extend(_files(content, f"{label}/{member}", budget, depth + 1))
    if not out:
        raise InputError(
            f"{label}: the zip holds no .jsonl files.",
            hint="Zip the hourly capture folders (…/yyyy/mm/dd/hh/*.jsonl) as they are in S3.",
        )
    return out


def _scalar(text: str) -> object:
    # Keep the text: the column decides later whether it is numeric (so "01" codes survive).
    t = text.strip()
    return np.nan if t == "" else t


def _csv_rows(text: str) -> list[list[object]]:
    # newline="": a bare carriage return ends a row, as in Arrow's CSV reader (the fast path);
    # without it the csv module raises on "1,2\r3,4".
    rows = csv.reader(io.StringIO(text, newline=""))
    return [[_scalar(v) for v in row] for row in rows if any(v.strip() for v in row)]


def _decode(part: dict[str, Any]) -> tuple[str, str]:
    """(kind "json"|"csv", text) of an endpointInput/endpointOutput block."""
    encoding = str(part.get("encoding", "")).upper()
    content_type = str(part.get("observedContentType", "")).lower()
    data = part.get("data")
    if data is None:
        raise _RecordError("no 'data' field")
    if not isinstance(data, str):
        # Some writers embed parsed JSON instead of a string.
        return "json", json.dumps(data)
    if encoding == "BASE64":
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise _RecordError(f"BASE64 payload does not decode to text ({err})") from err
        if "json" in content_type:
            return "json", text
        if "csv" in content_type:
            return "csv", text
        return ("json" if text.lstrip()[:1] in ("{", "[") else "csv"), text
    if encoding == "JSON" or (encoding not in ("CSV",) and "json" in content_type):
        return "json", data
    return "csv", data


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:  # JSON Lines payload (application/jsonlines)
            try:
                return [json.loads(line) for line in lines]
            except (json.JSONDecodeError, RecursionError, ValueError):
                pass
        raise _RecordError(f"JSON payload does not parse ({err.msg})") from err
    except RecursionError:
        raise _RecordError("JSON payload nested too deeply") from None
    except ValueError as err:  # an integer of thousands of digits
        raise _RecordError(f"JSON payload cannot be read ({str(err)[:80]})") from err


Row = list[object] | dict[str, object]


@dataclass(frozen=True)
class _Inputs:
    """Feature rows of a request; ``scalars`` marks a flat list of scalars (read as one row for
    now, ``under_instances`` if it sat under the ``instances`` key)."""

    rows: list[Row]
    scalars: bool = False
    under_instances: bool = False

    def resolved(self, n_predictions: int | None) -> list[Row]:
        """The rows, a flat scalar list split into one-value instances when the response (or the
        TF Serving ``instances`` key without a response) says so."""
        if not self.scalars:
            return self.rows
        values = self.rows[0]
        assert isinstance(values, list)
        n = len(values)
        if (n > 1 and n_predictions == n) or (self.under_instances and n_predictions is None):
            return [[v] for v in values]
        return self.rows


def _input_rows(doc: Any) -> _Inputs:
    """Feature rows from a JSON request body."""
    if isinstance(doc, dict):
        for key in _INSTANCE_KEYS:
            if key in doc:
                return _input_rows_list(doc[key], under_instances=key == "instances")
        if "features" in doc:
            return _Inputs([_row(doc["features"])])
        return _Inputs([{str(k): v for k, v in doc.items()}])
    if isinstance(doc, list):
        return _input_rows_list(doc)
    return _Inputs([[doc]])


def _input_rows_list(items: Any, *, under_instances: bool = False) -> _Inputs:
    if not isinstance(items, list):
        return _Inputs([_row(items)])
    if not items:
        return _Inputs([])
    if all(isinstance(v, list | dict) for v in items):
        return _Inputs([_row(v) for v in items])
    if any(isinstance(v, list | dict) for v in items):
        return _Inputs([_row(items)])
    return _Inputs([list(items)], scalars=True, under_instances=under_instances)


def _row(item: Any) -> Row:
    if isinstance(item, dict):
        if "features" in item:
            return _row(item["features"])
        return {str(k): v for k, v in item.items()}
    if isinstance(item, list):
        return list(item)
    return [item]


def _prediction_values(item: Any) -> list[object]:
    if isinstance(item, dict):
        for key in _PREDICTION_KEYS:
            if key in item:
                return _prediction_values(item[key])
        scalars = [v for v in item.values() if not isinstance(v, dict | list)]
        return scalars[:1] if scalars else [np.nan]
    if isinstance(item, list):
        return [v for sub in item for v in _prediction_values(sub)]
    return [item]


@dataclass(frozen=True)
class _Output:
    """One prediction row: score value(s) and, when the response names one, the predicted label."""

    values: list[object]
    label: object = None


def _output(item: Any) -> _Output:
    if isinstance(item, dict):
        score = next((k for k in _SCORE_KEYS if k in item), None)
        label = next((k for k in _LABEL_KEYS if k in item), None)
        if score is not None and label is not None and not isinstance(item[label], dict | list):
            return _Output(_prediction_values(item[score]), item[label])
    return _Output(_prediction_values(item))


def _output_rows(doc: Any) -> list[_Output]:
    """Prediction rows from a JSON response body."""
    if isinstance(doc, dict):
        for key in ("predictions", "outputs", "results", "probabilities"):
            if key in doc:
                return _output_rows(doc[key])
        return [_output(doc)]
    if isinstance(doc, list):
        if all(isinstance(v, list | dict) for v in doc):
            return [_output(v) for v in doc]
        return [_Output([v]) for v in doc]  # a flat list: one value per input row
    return [_Output([doc])]


def _input_side(block: Any) -> _Inputs | None:
    if block is None:
        return None
    if not isinstance(block, dict):
        raise _RecordError("'endpointInput' is not an object")
    kind, text = _decode(block)
    if kind == "json":
        return _input_rows(_loads(text))
    return _Inputs(list(_csv_rows(text)))


def _output_side(block: Any) -> list[_Output] | None:
    if block is None:
        return None
    if not isinstance(block, dict):
        raise _RecordError("'endpointOutput' is not an object")
    kind, text = _decode(block)
    if kind == "json":
        return _output_rows(_loads(text))
    return [_Output(row) for row in _csv_rows(text)]


def _parse_record(line: str) -> tuple[str | None, str | None, list[Row], list[_Output], str | None]:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        raise _RecordError(f"not JSON ({err.msg})") from err
    except RecursionError:
        raise _RecordError("JSON nested too deeply") from None
    except ValueError as err:  # an integer of thousands of digits
        raise _RecordError(f"JSON cannot be read ({str(err)[:80]})") from err
    if not isinstance(rec, dict) or not isinstance(rec.get("captureData"), dict):
        raise _RecordError("no 'captureData' object (expected a SageMaker data capture record)")
    meta_raw = rec.get("eventMetadata")
    meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
    cap = rec["captureData"]
    if "endpointInput" not in cap and "endpointOutput" not in cap:
        raise _RecordError("'captureData' has neither endpointInput nor endpointOutput")
    request = _input_side(cap.get("endpointInput"))
    response = _output_side(cap.get("endpointOutput"))
    outputs = response or []
    inputs = request.resolved(None if response is None else len(outputs)) if request else []
    note = None
    if inputs and outputs and len(inputs) != len(outputs):
        note = (
            f"{len(inputs)} input rows but {len(outputs)} predictions; rows kept, unmatched values left empty"
        )
    if not inputs and not outputs:
        raise _RecordError("empty payload")
    event = meta.get("eventId")
    when = meta.get("inferenceTime")
    return (str(event) if event is not None else None), (str(when) if when else None), inputs, outputs, note


def read_capture_report(
    source: Source | Sequence[Source],
    *,
    feature_names: Sequence[str] | None = None,
    name: str | None = None,
) -> CaptureResult:
    """Read data capture files and report what could not be used.

    Parameters
    ----------
    source
        A path, bytes or binary file-like (``.jsonl``, ``.jsonl.gz`` or a ``.zip`` of many hourly
        files), or a list of them.
    feature_names
        Names for positional (CSV, list) inputs, e.g. ``Baseline.feature_names`` from a
        ``statistics.json`` or a baseline dataset's header; extra values get ``f<i>``. Model
        Monitor's convention: the baseline dataset's first column is the label (compared with the
        prediction) and the capture holds only the inputs. So when the capture rows hold exactly
        one value fewer than there are names, the inputs are named from the second name on and
        the first name is recorded as the label column (``frame.attrs["label_column"]``; see
        :func:`drift_frame`), never shifting the features by one; a note says so. With as many
        values as names, the names apply in order.
    name
        Display name when ``source`` is raw bytes.

    Returns
    -------
    CaptureResult
        The frame (as ``read_capture``) and the record/bad counts and problems.

    Raises
    ------
    InputError
        If no record at all could be used (names the file, what was found, what was expected).

    Notes
    -----
    Plain CSV records (one row of printable ASCII per payload, the usual SageMaker capture) are
    read column-wise: the JSON envelopes by their layout (:mod:`lib.sources.capture_envelope`,
    or ``pyarrow.json`` for lines of other shapes), the payloads split by Arrow's CSV reader and
    typed as whole columns. Every other record (JSON or BASE64 payloads, batches, quoted fields, bad
    lines) goes through the record-by-record reader, so problems and counts are the same; the
    frame is identical either way (``tests/unit/sources/test_capture_fast.py``).
    """
    return _read_report(source, feature_names=feature_names, name=name, fast=True)


def _read_report(
    source: Source | Sequence[Source],
    *,
    feature_names: Sequence[str] | None,
    name: str | None,
    fast: bool,
) -> CaptureResult:
    """:func:`read_capture_report`; ``fast=False`` reads every record one by one (the reference)."""
    files: list[tuple[bytes, str]] = []
    budget = Budget()
    for src in source_list(source):
        data, label = source_bytes(src, name)
        files.extend(_files(data, label, budget))

    given = [str(n) for n in feature_names] if feature_names is not None else []
    parts = [part for data, label in files for part in _scan(data, label, fast=fast)]
    records = _Records(parts)
    n_records, n_bad, problems = records.n_records, records.n_bad, records.problems
    built = _fast_frame(records, given) if fast and not records.any_exact else None
    if built is None:
        rows, renamed, max_pred = records.rows()
        if not rows:
            found = records.first_bad or "no lines"
            raise InputError(
                f"{', '.join(label for _, label in files)}: no usable data capture record "
                f"({n_records} line(s) read; first problem: {found}).",
                hint='Expected SageMaker data capture JSON Lines: {"captureData": {"endpointInput": …, '
                '"endpointOutput": …}, "eventMetadata": {"eventId": …, "inferenceTime": …}} per line.',
            )
        widths = pd.Series([len(v) for r in rows if isinstance(v := r.get(_POSITIONAL), list)], dtype="int64")
        names, label_column, notes = _positional_names(widths, given)
        for row in rows:
            positional = row.pop(_POSITIONAL, None)
            if isinstance(positional, list):
                for j, v in enumerate(positional):
                    row[names[j] if j < len(names) else f"f{j}"] = v
        if renamed:
            shown = ", ".join(sorted(renamed))
            notes.append(
                f"Input fields named like the capture's own columns ({shown}) were renamed "
                f"{', '.join(f'input.{k}' for k in sorted(renamed))}: the record's metadata keeps its name."
            )
        frame = _frame(rows, names, max_pred)
    else:
        frame, label_column, notes = built
    bad_time = frame.attrs.pop("bad_times", 0)
    if bad_time:
        n_bad += bad_time
        problems.append(
            f"{bad_time} row(s) skipped: inferenceTime is not a time in range "
            "(1677-09-21 to 2262-04-11, ISO 8601 or epoch seconds)"
        )
        if frame.empty:
            raise InputError(
                f"{', '.join(label for _, label in files)}: no record has an inferenceTime in range.",
                hint='Expected eventMetadata.inferenceTime like "2024-05-06T13:00:05Z".',
            )
    if len(problems) > _MAX_PROBLEMS:
        problems = [*problems[:_MAX_PROBLEMS], f"… and {len(problems) - _MAX_PROBLEMS} more"]
    frame.attrs.update({"n_records": n_records, "n_bad": n_bad, "problems": tuple(problems)})
    if notes:
        frame.attrs["notes"] = tuple(notes)
    if label_column is not None:
        frame.attrs["label_column"] = label_column
    return CaptureResult(frame, n_records, n_bad, tuple(problems), tuple(notes))


#: What the record-by-record reader made of one good record: (inferenceTime, inputs, outputs, note).
_Parsed = tuple[str | None, list[Row], list[_Output], str | None]


@dataclass
class _Part:
    """The records of one file (or one stretch of lines of it), in line order.

    A record is bad (``errors``), read one by one (``exact``) or read column-wise (``fast``); the
    columns of the fast ones (inferenceTime, eventId, input and output data) are ``columns``.
    """

    label: str
    linenos: np.ndarray
    events: np.ndarray
    errors: dict[int, str]
    exact: dict[int, _Parsed]
    fast: np.ndarray
    columns: tuple[pa.Array, pa.Array, pa.Array, pa.Array] | None = None


def _record_part(lines: list[str], label: str, first_lineno: int) -> _Part:
    """Records of ``lines`` read one by one (the reference reader); blank lines are not records."""
    linenos: list[int] = []
    events: list[str | None] = []
    errors: dict[int, str] = {}
    exact: dict[int, _Parsed] = {}
    for lineno, line in enumerate(lines, start=first_lineno):
        if not line.strip():
            continue
        k = len(linenos)
        linenos.append(lineno)
        try:
            event, when, inputs, outputs, note = _parse_record(line)
        except _RecordError as why:
            errors[k] = str(why)
            events.append(None)
            continue
        events.append(event)
        exact[k] = (when, inputs, outputs, note)
    return _Part(
        label,
        np.asarray(linenos, dtype="int64"),
        np.asarray(events, dtype=object),
        errors,
        exact,
        np.zeros(len(linenos), dtype=bool),
    )


class _Records:
    """Every record of an upload in order: duplicates found, problems listed, rows built."""

    def __init__(self, parts: list[_Part]) -> None:
        self.parts = parts
        sizes = [len(p.linenos) for p in parts]
        self.starts = np.cumsum([0, *sizes])
        self.n_records = int(self.starts[-1])
        events = np.concatenate([p.events for p in parts]) if parts else np.empty(0, dtype=object)
        bad = np.zeros(self.n_records, dtype=bool)
        for start, part in zip(self.starts, parts, strict=False):
            bad[start + np.fromiter(part.errors, dtype="int64", count=len(part.errors))] = True
        # A duplicate eventId is bad; the first good record with the id keeps it.
        candidates = np.flatnonzero(~bad & pd.notna(events))
        ids = pd.Series(events[candidates], dtype=object)
        dup = ids.duplicated(keep="first").to_numpy()
        self.duplicate = np.zeros(self.n_records, dtype=bool)
        self.duplicate[candidates[dup]] = True
        messages: dict[int, str] = {}
        if dup.any():
            wanted = set(ids[dup])
            first: dict[object, int] = {}
            for i, v in zip(candidates[~dup], ids[~dup], strict=True):
                if v in wanted:
                    first[v] = int(i)
            for i, v in zip(candidates[dup], ids[dup], strict=True):
                messages[int(i)] = f"duplicate eventId {v} (already read from {self.where(first[v])})"
        for start, part in zip(self.starts, parts, strict=False):
            for k, why in part.errors.items():
                messages[int(start) + k] = why
        bad_at = sorted(messages)
        self.first_bad = f"{self.where(bad_at[0])}: {messages[bad_at[0]]}" if bad_at else None
        self.n_bad = len(messages)
        for start, part in zip(self.starts, parts, strict=False):
            for k, parsed in part.exact.items():
                note = parsed[3]
                if note and not self.duplicate[start + k]:
                    messages[int(start) + k] = note
        self.problems = [f"{self.where(i)}: {messages[i]}" for i in sorted(messages)]
        self.any_exact = any(
            not self.duplicate[start + k]
            for start, part in zip(self.starts, parts, strict=False)
            for k in part.exact
        )

    def where(self, i: int) -> str:
        """``"<file>:<line>"`` of record ``i``."""
        p = int(np.searchsorted(self.starts, i, side="right")) - 1
        return f"{self.parts[p].label}:{int(self.parts[p].linenos[i - self.starts[p]])}"

    def fast_columns(self) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
        """``(times, events, inputs, outputs)`` of the good fast records, in order."""
        cols: list[list[pa.Array]] = [[], [], [], []]
        for start, part in zip(self.starts, self.parts, strict=False):
            if part.columns is None:
                continue
            keep = ~self.duplicate[start + np.flatnonzero(part.fast)]
            take = pa.array(np.flatnonzero(keep))
            for out, col in zip(cols, part.columns, strict=True):
                out.append(col.take(take))
        times, events, inputs, outputs = (
            pa.concat_arrays(c) if c else pa.array([], pa.string()) for c in cols
        )
        return times, events, inputs, outputs

    def rows(self) -> tuple[list[dict[str, object]], set[str], int]:
        """Row dicts of every good record (fast ones too), the renamed input fields, and the most
        prediction values in a row."""
        rows: list[dict[str, object]] = []
        renamed: set[str] = set()
        max_pred = 1
        for start, part in zip(self.starts, self.parts, strict=False):
            fast_rows: dict[int, tuple[str | None, str | None, str | None, str | None]] = {}
            if part.columns is not None:
                cols = zip(*(col.to_pylist() for col in part.columns), strict=True)
                fast_rows = dict(zip(np.flatnonzero(part.fast).tolist(), cols, strict=True))
            for k in range(len(part.linenos)):
                if self.duplicate[start + k]:
                    continue
                if k in part.exact:
                    when, inputs, outputs, _ = part.exact[k]
                    event = part.events[k]
                elif k in fast_rows:
                    when, event, data_in, data_out = fast_rows[k]
                    # The record-by-record reading of a plain CSV record (kind "csv", as checked).
                    when = when or None
                    request = _input_side(None if data_in is None else {"data": data_in})
                    inputs = request.rows if request is not None else []
                    outputs = _output_side(None if data_out is None else {"data": data_out}) or []
                else:
                    continue
                max_pred = max(max_pred, _add_rows(rows, event, when, inputs, outputs, renamed))
        return rows, renamed, max_pred


def _add_rows(
    rows: list[dict[str, object]],
    event: str | None,
    when: str | None,
    inputs: list[Row],
    outputs: list[_Output],
    renamed: set[str],
) -> int:
    """Append the rows of one record (a batch gives several); the most prediction values seen."""
    max_pred = 1
    for i in range(max(len(inputs), len(outputs))):
        row: dict[str, object] = {"inference_time": when, "event_id": event}
        if i < len(inputs):
            values = inputs[i]
            if isinstance(values, dict):
                clash = [k for k in values if k in _RESERVED]
                if clash:
                    renamed.update(clash)
                    values = {(f"input.{k}" if k in _RESERVED else k): v for k, v in values.items()}
                row.update(values)
            else:
                row[_POSITIONAL] = values
        if i < len(outputs):
            preds = outputs[i].values
            max_pred = max(max_pred, len(preds))
            for j, v in enumerate(preds):
                row[PREDICTION if j == 0 else f"{PREDICTION}_{j}"] = v
            if outputs[i].label is not None:
                row[PREDICTION_LABEL] = outputs[i].label
        rows.append(row)
    return max_pred


#: Bytes of a file read column-wise at a time (cut at a line end).
_CHUNK_BYTES: Final = 8 << 20
_SIDE: Final = pa.struct([(key, pa.string()) for key in ("observedContentType", "mode", "data", "encoding")])
#: The capture envelope, every leaf a string: anything else (another key, a number, an embedded
#: JSON payload) fails the column-wise read of that stretch, which is then read record by record.
_ENVELOPE: Final = pa.schema(
    [
        ("captureData", pa.struct([("endpointInput", _SIDE), ("endpointOutput", _SIDE)])),
        (
            "eventMetadata",
            pa.struct([(key, pa.string()) for key in ("eventId", "inferenceId", "inferenceTime")]),
        ),
        ("eventVersion", pa.string()),
    ]
)
_ENVELOPE_OPTIONS: Final = pa_json.ParseOptions(explicit_schema=_ENVELOPE, unexpected_field_behavior="error")
#: A CSV payload read column-wise: one row of printable ASCII without quotes (so splitting at
#: commas and stripping spaces is what ``csv.reader`` and ``str.strip`` do), not blank.
_BLANK_CSV: Final = r"^[ ,]*$"
#: Numbers converted column-wise: plain decimals of at most 17 characters, no exponent (there
#: ``pandas.to_numeric``, which the record reader uses, is correctly rounded, as Arrow's cast is).
_PLAIN_NUMBER: Final = r"^[-+]?(?:\d+\.?\d*|\.\d+)$"
_PLAIN_NUMBER_CHARS: Final = 17
#: An integer this long may change how ``pandas.to_numeric`` reads the whole block (uint64 / int64).
_LONG_DIGITS: Final = r"\d{16}"
#: inferenceTime in strict ISO 8601 (UTC or an offset), parsed column-wise.
_ISO_TIME: Final = (
    r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_BLANK_LINE: Final = re.compile(rb"\n[ \t\r]*\n")
_BOM: Final = b"\xef\xbb\xbf"


def _scan(data: bytes, label: str, *, fast: bool) -> list[_Part]:
    """The records of one file: column-wise where they allow it, else one by one."""
    if not fast:
        return [_record_part(data.decode("utf-8-sig", errors="replace").splitlines(), label, 1)]
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    parts: list[_Part] = []
    start, lineno = 0, 1
    while start < len(body):
        end = body.find(b"\n", start + _CHUNK_BYTES)
        end = len(body) if end < 0 else end + 1
        lineno = _read_stretch(body[start:end], label, lineno, parts)
        start = end
    return parts


#: A stretch the column-wise read refuses is halved down to this size, so one bad line (a
#: truncated last record) costs the fast path only the lines around it.
_MIN_STRETCH: Final = 64 << 10


def _read_stretch(chunk: bytes, label: str, first_lineno: int, parts: list[_Part]) -> int:
    """Append the records of a stretch of whole lines to ``parts``; the next line number."""
    read = _chunk_part(chunk, label, first_lineno)
    if read is None and len(chunk) > _MIN_STRETCH:
        middle = chunk.find(b"\n", len(chunk) // 2)
        if 0 <= middle < len(chunk) - 1:
            lineno = _read_stretch(chunk[: middle + 1], label, first_lineno, parts)
            return _read_stretch(chunk[middle + 1 :], label, lineno, parts)
    if read is None:
        lines = chunk.decode("utf-8", errors="replace").splitlines()
        read = _record_part(lines, label, first_lineno), len(lines)
    parts.append(read[0])
    return first_lineno + read[1]


def _plain_lines(chunk: bytes) -> bool:
    """Whether the chunk's lines are what ``str.splitlines`` makes of it, one record per line:
    UTF-8, line breaks only ``\\n`` / ``\\r\\n``, no blank line."""
    if not utf8_without_odd_breaks(chunk):
        return False
    if b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n"):
        return False
    first = chunk.find(b"\n")
    return not (_BLANK_LINE.search(chunk) or not chunk[: first if first >= 0 else len(chunk)].strip(b" \t\r"))


def _chunk_part(chunk: bytes, label: str, first_lineno: int) -> tuple[_Part, int] | None:
    """The records of a stretch of whole lines and how many lines it holds; ``None`` if the
    column-wise read refuses it (a line that is not a plain envelope)."""
    if not _first_is_csv(chunk):  # JSON payloads: the column-wise read would take none of them
        lines = chunk.decode("utf-8", errors="replace").splitlines()
        return _record_part(lines, label, first_lineno), len(lines)
    envelopes = _envelopes(chunk)
    if envelopes is None:
        return None
    n_lines = len(envelopes.matched)
    escaped = b"\\" in chunk
    in_present, in_fast, in_data = _plain_side(envelopes.request, escaped=escaped)
    out_present, out_fast, out_data = _plain_side(envelopes.response, escaped=escaped)
    fast = (in_present | out_present) & (~in_present | in_fast) & (~out_present | out_fast)
    fast &= envelopes.matched
    event, when = envelopes.event, envelopes.when
    part = _Part(
        label,
        np.arange(first_lineno, first_lineno + n_lines, dtype="int64"),
        event.to_numpy(zero_copy_only=False).astype(object),
        {},
        {},
        fast,
    )
    if fast.any():
        take = pa.array(np.flatnonzero(fast))
        part.columns = (when.take(take), event.take(take), in_data.take(take), out_data.take(take))
    slow = np.flatnonzero(~fast)
    if len(slow) == n_lines:
        return _record_part(chunk.decode("utf-8").splitlines(), label, first_lineno), n_lines
    if len(slow):
        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
        begins = np.r_[0, ends + 1]
        ends = np.r_[ends, len(chunk)]
        for k in slow.tolist():
            line = chunk[begins[k] : ends[k]].decode("utf-8").removesuffix("\r")
            try:
                ev, when_k, inputs, outputs, note = _parse_record(line)
            except _RecordError as why:
                part.errors[k] = str(why)
                part.events[k] = None
                continue
            part.events[k] = ev
            part.exact[k] = (when_k, inputs, outputs, note)
    return part, n_lines


#: Lines of a stretch no template fits that are read record by record; beyond, the stretch goes
#: to ``pyarrow.json`` (a file of mixed layouts).
_MAX_UNMATCHED: Final = 16


def _envelopes(chunk: bytes) -> Envelopes | None:
    """The envelopes of a stretch, one per line: by layout (:func:`read_envelopes`), else by
    ``pyarrow.json`` with the all-string schema (every line then counts as matched); ``None``
    if neither reads it."""
    read = read_envelopes(chunk)
    if read is not None and (~read.matched).sum() <= max(_MAX_UNMATCHED, len(read.matched) // 8):
        return read
    n_lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    if not _plain_lines(chunk):
        return None
    try:
        table = pa_json.read_json(
            pa.BufferReader(chunk),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(chunk) + 1, 1 << 20)),
            parse_options=_ENVELOPE_OPTIONS,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != n_lines:
        return None
    request, response = table.column("captureData").combine_chunks().flatten()
    event, _, when = table.column("eventMetadata").combine_chunks().flatten()
    return Envelopes(np.ones(n_lines, dtype=bool), request, response, event, when)


def _first_is_csv(chunk: bytes) -> bool:
    """Whether the first record of a stretch holds CSV payloads (or cannot tell): only then is the
    column-wise read worth trying."""
    end = chunk.find(b"\n")
    try:
        capture = json.loads(chunk[: end if end >= 0 else len(chunk)])["captureData"]
        sides = [capture[key] for key in ("endpointInput", "endpointOutput") if key in capture]
        return all(_decode(side)[0] == "csv" for side in sides)
    except (ValueError, RecursionError, TypeError, KeyError, IndexError, AttributeError, _RecordError):
        return True


def _plain_side(side: pa.Array, *, escaped: bool) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """``(present, plain CSV, data)`` of an endpointInput/endpointOutput column: which records
    have the block and which of those hold one plain CSV row (kind "csv" as :func:`_decode`
    decides it, for ASCII encoding/content type values); BASE64 payloads that decode to CSV
    text are decoded in ``data``."""
    content_type, _, data, encoding = side.flatten()
    present = side.is_valid().to_numpy(zero_copy_only=False)
    enc = pc.ascii_upper(pc.fill_null(encoding, ""))
    ctype = pc.ascii_lower(pc.fill_null(content_type, ""))
    ascii_ok = pc.and_(pc.string_is_ascii(enc), pc.string_is_ascii(ctype))
    json_or_b64 = pc.or_(pc.equal(enc, "JSON"), pc.equal(enc, "BASE64"))
    csv = pc.or_(pc.equal(enc, "CSV"), pc.invert(pc.or_(json_or_b64, pc.match_substring(ctype, "json"))))
    csv = pc.fill_null(pc.and_(ascii_ok, csv), False).to_numpy(zero_copy_only=False)
    b64 = present & pc.fill_null(pc.and_(ascii_ok, pc.equal(enc, "BASE64")), False).to_numpy(
        zero_copy_only=False
    )
    if b64.any():
        at = np.flatnonzero(b64)
        take = pa.array(at)
        pairs = zip(data.take(take).to_pylist(), ctype.take(take).to_pylist(), strict=True)
        decoded = [_base64_csv(d, c) for d, c in pairs]
        got = np.array([d is not None for d in decoded], dtype=bool)
        if got.any():
            mask = np.zeros(len(data), dtype=bool)
            mask[at[got]] = True
            data = pc.replace_with_mask(data, pa.array(mask), pa.array([d for d in decoded if d is not None]))
            csv |= mask
    plain = pc.and_(pc.ascii_is_printable(data), pc.invert(pc.match_substring_regex(data, _BLANK_CSV)))
    if escaped:  # without a backslash in the JSON text, no string can hold a quote
        plain = pc.and_(plain, pc.invert(pc.match_substring(data, '"')))
    return present, present & csv & pc.fill_null(plain, False).to_numpy(zero_copy_only=False), data


def _base64_csv(data: str | None, content_type: str) -> str | None:
    """The CSV text of a BASE64 payload as :func:`_decode` reads it, or ``None`` (not CSV, or
    not decodable: then the record reader says why)."""
    if data is None or "json" in content_type:
        return None
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if "csv" not in content_type and text.lstrip()[:1] in ("{", "["):
        return None
    return text


def _fast_frame(records: _Records, given: list[str]) -> tuple[pd.DataFrame, str | None, list[str]] | None:
    """The frame of an upload whose good records are all plain CSV, built from whole columns;
    ``None`` when the record-by-record frame must be built instead (names that would clash, or
    cells whose numeric reading depends on the rest of the block)."""
    if not any(part.fast.any() for part in records.parts):
        return None
    times, events, inputs, outputs = records.fast_columns()
    if len(times) == 0:
        return None
    in_split = _split_payloads(inputs)
    has_input = inputs.is_valid().to_numpy(zero_copy_only=False)
    names, label_column, notes = _positional_names(pd.Series(in_split.width[has_input], dtype="int64"), given)
    n_features = int(in_split.width.max(initial=0))
    features = [names[j] if j < len(names) else f"f{j}" for j in range(n_features)]
    if len(set(features)) < n_features or any(c in _RESERVED or c.startswith(PREDICTION) for c in features):
        return None
    out_split = _split_payloads(outputs)
    n_preds = int(out_split.width.max(initial=0))
    preds = [PREDICTION, *(f"{PREDICTION}_{j}" for j in range(1, max(n_preds, 1)))]
    typed = in_split.typed(features)
    typed_preds = out_split.typed(preds[:n_preds])
    if typed is None or typed_preds is None:
        return None
    typed.update(typed_preds)
    n = len(times)
    empty = np.full(n, np.nan)
    parsed, unreadable = _fast_times(times)
    data: dict[str, Any] = {"inference_time": parsed, "event_id": pd.Series(events, dtype="str")}
    for col in [*features, *preds]:
        data[col] = typed.get(col, empty)
    return _finish(data, unreadable, n), label_column, notes


@dataclass(frozen=True)
class _Split:
    """CSV payloads (one row each) split into fields: one string array per column when every row
    has the same number of fields (``columns``), else a list array of each row's fields."""

    width: np.ndarray
    columns: list[pa.Array] | None = None
    fields: pa.Array | None = None

    def typed(self, cols: list[str]) -> dict[str, Any] | None:
        """The values of the first ``len(cols)`` fields as columns (see :func:`_typed_columns`)."""
        if self.columns is not None:
            return _typed_uniform(self.columns, cols)
        assert self.fields is not None
        return _typed_fields(self.fields, self.width, cols)


def _split_payloads(payloads: pa.Array) -> _Split:
    """The fields of plain CSV payloads (printable ASCII, no quote, not blank; null: no payload).

    When every record has a payload with as many commas as the first, Arrow's CSV reader (no
    quoting, one thread) splits them straight into columns: one pass, no per-cell list; any other
    shape is split at commas in a list array.
    """
    n = len(payloads)
    if n and payloads.null_count == 0 and payloads.type == pa.string():
        k = str(payloads[0].as_py()).count(",") + 1
        joined = pc.binary_join_element_wise(payloads, "", "\n")
        ends = np.frombuffer(joined.buffers()[1], dtype=np.int32)
        body = joined.buffers()[2].slice(
            int(ends[joined.offset]), int(ends[joined.offset + n]) - int(ends[joined.offset])
        )
        try:
            table = pa_csv.read_csv(
                pa.BufferReader(body),
                read_options=pa_csv.ReadOptions(
                    column_names=[str(j) for j in range(k)],
                    use_threads=False,
                    block_size=min(body.size + 1, 1 << 30),
                ),
                parse_options=_PAYLOAD_CSV,
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys([str(j) for j in range(k)], pa.string()),
                    strings_can_be_null=False,
                    check_utf8=False,
                ),
            )
        except pa.ArrowInvalid:  # rows of other widths
            table = None
        if table is not None and table.num_rows == n:
            return _Split(np.full(n, k, dtype="int64"), columns=[c.combine_chunks() for c in table.columns])
    fields = pc.split_pattern(payloads, ",")
    return _Split(pc.fill_null(pc.list_value_length(fields), 0).to_numpy(zero_copy_only=False), fields=fields)


#: Payload rows as Arrow's CSV reader reads them: split at every comma, nothing quoted.
_PAYLOAD_CSV: Final = pa_csv.ParseOptions(
    delimiter=",", quote_char=False, double_quote=False, escape_char=False, ignore_empty_lines=False
)


def _cell_bytes(cells: pa.Array) -> np.ndarray | None:
    """The bytes of a string array's cells, back to back (a view); ``None`` with nulls."""
    if cells.null_count or cells.type != pa.string():
        return None
    offsets, data = cells.buffers()[1:3]
    ends = np.frombuffer(offsets, dtype=np.int32)[cells.offset : cells.offset + len(cells) + 1]
    if data is None or len(ends) == 0 or ends[-1] == ends[0]:
        return np.empty(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[int(ends[0]) : int(ends[-1])]


def _trimmed(cells: pa.Array) -> pa.Array:
    """The cells without leading and trailing spaces (as ``str.strip`` on printable ASCII)."""
    raw = _cell_bytes(cells)
    return cells if raw is not None and not (raw == 0x20).any() else pc.ascii_trim(cells, " ")


def _numbers(cells: pa.Array, size: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(floats, others)`` of trimmed cells: the plain decimals read by Arrow (NaN elsewhere),
    and the present cells Arrow did not read (for ``pandas.to_numeric`` or text).

    ``None`` if a cell holds 16 or more digits in a row: ``pandas.to_numeric`` then reads the
    block as a whole (int64 / uint64), so only the record reader gives the same frame.
    """
    present = size > 0
    long = size >= 16
    if long.any() and pc.any(pc.match_substring_regex(cells.filter(pa.array(long)), _LONG_DIGITS)).as_py():
        return None
    raw = _cell_bytes(cells)
    # Every cell of digits, dots and signs ("+" 43 … "9" 57, but no "," or "/"): one cast.
    if (
        raw is not None
        and present.all()
        and size.max(initial=0) <= _PLAIN_NUMBER_CHARS
        and not ((raw - np.uint8(43)) > 14).any()
        and not ((raw == 0x2C) | (raw == 0x2F)).any()
    ):
        try:
            floats = pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False, writable=True)
        except pa.ArrowInvalid:  # e.g. "1-2"
            pass
        else:
            return _minus_zero(floats, np.zeros(len(size), dtype=bool))
    # Digits, dots and signs only, short enough: Arrow reads them as pandas does.
    simple = present & (size <= _PLAIN_NUMBER_CHARS)
    simple &= pc.equal(pc.binary_length(pc.ascii_trim(cells, "0123456789.+-")), 0).to_numpy(
        zero_copy_only=False
    )
    others = present & ~simple
    floats = np.full(len(size), np.nan)
    if simple.any():
        short = cells.filter(pa.array(simple))
        try:
            floats[simple] = pc.cast(short, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:  # e.g. "1-2": only the plain decimals go Arrow's way
            where = np.flatnonzero(simple)
            plain = pc.match_substring_regex(short, _PLAIN_NUMBER).to_numpy(zero_copy_only=False)
            cast = pc.cast(short.filter(pa.array(plain)), pa.float64())
            floats[where[plain]] = cast.to_numpy(zero_copy_only=False)
            others[where[~plain]] = True
    return _minus_zero(floats, others)


def _minus_zero(floats: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ "-0" is the integer 0 to pandas, -0.0 to Arrow: such cells go the pandas way."""
    others |= (floats == 0) & np.signbit(floats)
    floats[others] = np.nan
    return floats, others


def _words(cells: pa.Array, others: np.ndarray) -> np.ndarray:
    """Which of the ``others`` cells (positions) hold no digit and no inf/nan spelling: no
    number, so their column is text."""
    found = pc.match_substring_regex(cells.filter(pa.array(others)), r"[0-9]|(?i:inf|nan)")
    return ~found.to_numpy(zero_copy_only=False)


def _typed_uniform(columns: list[pa.Array], cols: list[str]) -> dict[str, Any] | None:
    """:func:`_typed_fields` for rows that all have every field, one column at a time (a column
    of plain decimals is one Arrow cast)."""
    if not cols:
        return {}
    n, k = len(columns[0]), len(cols)
    grid = np.empty((n, k), order="F")
    seen = np.empty((n, k), dtype=bool, order="F")
    kept: list[pa.Array] = []
    for j, column in enumerate(columns[:k]):
        cells = _trimmed(column)
        size = pc.binary_length(cells).to_numpy(zero_copy_only=False)
        read = _numbers(cells, size)
        if read is None:
            return None
        floats, others = read
        if others.any():
            where = np.flatnonzero(others)
            if _words(cells, others).any():
                floats[:] = np.nan  # a text column
            else:
                floats[where] = _as_floats(
                    cells.take(pa.array(where)).to_numpy(zero_copy_only=False).astype(object)
                )
        grid[:, j] = floats
        seen[:, j] = size > 0
        kept.append(cells)

    def strings(j: int) -> pd.Series:
        present = seen[:, j]
        cells = kept[j] if present.all() else kept[j].take(pa.array(np.arange(n), mask=~present))
        return pd.Series(cells, dtype="str")

    return _column_values(grid, seen, cols, strings)


def _typed_fields(fields: pa.Array, width: np.ndarray, cols: list[str]) -> dict[str, Any] | None:
    """:func:`_typed_columns` for split CSV rows (``fields``, a list array; column ``j`` of a row
    is its ``j``-th field), converted all cells at once: plain decimals by Arrow, other text by
    ``pandas.to_numeric`` as the record reader does.

    ``None`` if a cell holds 16 or more digits in a row: ``pandas.to_numeric`` then reads the
    block as a whole (int64 / uint64), so only the record reader gives the same frame.
    """
    if not cols:
        return {}
    n, k = len(width), len(cols)
    cells = _trimmed(fields.values)
    size = pc.binary_length(cells).to_numpy(zero_copy_only=False)
    # Every row has every column (the usual case): the cells are the grid, row by row.
    uniform = len(size) == n * k
    if uniform:
        rows = at = np.empty(0, dtype="int64")
    else:
        rows = np.repeat(np.arange(n), width)
        at = np.arange(len(rows)) - np.repeat(np.asarray(fields.offsets)[:-1], width)

    def column_of(cell: np.ndarray) -> np.ndarray:
        return cell % k if uniform else at[cell]

    read = _numbers(cells, size)
    if read is None:
        return None
    floats, others = read
    present = size > 0
    text_cols = np.zeros(k, dtype=bool)
    if others.any():
        where = np.flatnonzero(others)
        # A value with no digit that is no inf/nan spelling is no number: the column is text.
        text_cols[np.unique(column_of(where[_words(cells, others)]))] = True
        slow = where[~text_cols[column_of(where)]]
        if len(slow):
            floats[slow] = _as_floats(
                cells.take(pa.array(slow)).to_numpy(zero_copy_only=False).astype(object)
            )
    if uniform:
        grid, seen = floats.reshape(n, k), present.reshape(n, k)
        position = np.arange(n * k).reshape(n, k)
    else:
        grid = np.full((n, k), np.nan)
        grid[rows, at] = floats
        seen = np.zeros((n, k), dtype=bool)
        seen[rows, at] = present
        position = np.full((n, k), -1, dtype="int64")
        position[rows, at] = np.arange(len(rows))
    grid[:, text_cols] = np.nan

    def strings(j: int) -> pd.Series:
        index = pa.array(position[:, j], mask=~seen[:, j])
        return pd.Series(cells.take(index), dtype="str")

    return _column_values(grid, seen, cols, strings)


def _fast_times(times: pa.Array) -> tuple[pd.Series, np.ndarray]:
    """:func:`_parse_times` for a column of inferenceTime text: strict ISO 8601 column-wise (by
    Arrow, or by pandas if one is no real date), the rest (and missing values) value by value as
    the record reader does."""
    n = len(times)
    iso = pc.fill_null(pc.match_substring_regex(times, _ISO_TIME), False).to_numpy(zero_copy_only=False)
    utc = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    unreadable = np.zeros(n, dtype=bool)
    if iso.any():
        text = times.filter(pa.array(iso))
        try:
            utc[iso] = pc.cast(text, pa.timestamp("ns", "UTC")).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:  # 2023-02-29, or out of the nanosecond range: NaT, as pandas says
            stamps = pd.to_datetime(
                pd.Series(text.to_numpy(zero_copy_only=False)), utc=True, errors="coerce", format="ISO8601"
            )
            utc[iso] = _as_ns(stamps).to_numpy(dtype="datetime64[ns]")
        unreadable[iso] = np.isnat(utc[iso])  # a year first: out of range when it gives no time
    if not iso.all():
        rest = pd.Series([v or None for v in times.filter(pa.array(~iso)).to_pylist()], dtype=object)
        rest_parsed, rest_unreadable = _parse_times(rest)
        utc[~iso] = rest_parsed.to_numpy(dtype="datetime64[ns]")
        unreadable[~iso] = rest_unreadable
    return pd.Series(utc, index=pd.RangeIndex(n)).dt.tz_localize("UTC"), unreadable


_POSITIONAL: Final = "\x00positional"
#: Input fields that would overwrite a metadata column; they are renamed ``input.<name>``.
_RESERVED: Final = frozenset(META_COLUMNS)
#: inferenceTime is ISO 8601 text; a bare number ("-1", "1e300") is not taken as a time.
_NUMERIC_TIME: Final = re.compile(r"\s*[-+]?[\d.]+(?:[eE][-+]?\d+)?\s*")
#: An inferenceTime that means a time but cannot be one: a bare number, or a date-like text.
_OUT_OF_RANGE: Final = re.compile(r"\s*(?:[-+]?[\d.]+(?:[eE][-+]?\d+)?\s*$|[-+]?\d{4,}-)")


def _positional_names(widths: pd.Series, given: list[str]) -> tuple[list[str], str | None, list[str]]:
    """``(names, label_column, notes)`` for positional inputs of these row ``widths``, following
    Model Monitor's convention (baseline first column = label; the capture holds only the inputs)."""
    if not given or widths.empty:
        return given, None, []
    width = int(widths.mode().iloc[0])
    shown = ", ".join(given[:3]) + (", …" if len(given) > 3 else "")
    if width == len(given):
        return given, None, []
    if len(given) >= 2 and width == len(given) - 1:
        return (
            given[1:],
            given[0],
            [
                f"The capture rows hold {width} input values and the baseline names {len(given)} "
                f"columns ({shown}): as in Model Monitor, the baseline's first column "
                f"{given[0]!r} is the label/prediction (compared with the capture's prediction), "
                f"and the inputs are named from {given[1]!r} on."
            ],
        )
    return (
        given,
        None,
        [
            f"The capture rows hold {width} input values but the baseline names {len(given)} columns "
            f"({shown}): named the first {min(width, len(given))} in order"
            + (f", the rest f{len(given)}…" if width > len(given) else "")
            + "; check that the capture and the baseline describe the same model inputs."
        ],
    )


def _frame(rows: list[dict[str, object]], names: list[str], max_pred: int) -> pd.DataFrame:
    """The frame of the rows: metadata, features (``names`` order first), predictions.

    Built in one go from whole columns (never column by column, nor with list look-ups per
    column): 10,000 features read in about the time 10 do, times the row count.
    """
    position: dict[str, int] = {}
    for row in rows:
        for key in row:
            if key not in position:
                position[key] = len(position)
    block = np.full((len(rows), len(position)), None, dtype=object)
    for i, row in enumerate(rows):
        block[i, [position[k] for k in row]] = list(row.values())
    index = pd.RangeIndex(len(rows))

    def raw(col: str) -> pd.Series:
        return pd.Series(block[:, position[col]], index=index, dtype=object)

    preds = [PREDICTION, *(f"{PREDICTION}_{j}" for j in range(1, max_pred))]
    if PREDICTION_LABEL in position:
        preds.append(PREDICTION_LABEL)
    skip = {*META_COLUMNS, *preds}
    features = [c for c in position if c not in skip]
    named = set(names)
    ordered = [n for n in names if n in position and n not in skip] + [c for c in features if c not in named]
    events = raw("event_id")
    parsed, unreadable = _parse_times(raw("inference_time"))
    data: dict[str, Any] = {
        "inference_time": parsed,
        "event_id": events.astype("str").where(events.notna(), pd.NA),
    }
    wanted = [*ordered, *preds]
    present = [c for c in wanted if c in position]
    typed = _typed_columns(block[:, [position[c] for c in present]], present, index)
    empty = np.full(len(rows), np.nan)
    for col in wanted:
        data[col] = typed.get(col, empty)
    return _finish(data, unreadable, len(rows))


def _finish(data: dict[str, Any], unreadable: np.ndarray, n: int) -> pd.DataFrame:
    """The frame of the columns, rows without a time in range dropped (counted in
    ``attrs["bad_times"]``), sorted by time then event id."""
    out = pd.DataFrame(data, index=pd.RangeIndex(n))
    if unreadable.any():
        out = out.loc[~unreadable]
    out.attrs["bad_times"] = int(unreadable.sum())
    if not _in_order(out["inference_time"], out["event_id"]):
        out = out.sort_values(["inference_time", "event_id"], kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _in_order(times: pd.Series, events: pd.Series) -> bool:
    """Whether the rows are already sorted by time, then event id (no missing value in either):
    sorting them would change nothing."""
    if times.isna().any() or events.isna().any():
        return False
    ns = times.to_numpy(dtype="datetime64[ns]").view("int64")
    step = np.diff(ns)
    if (step < 0).any():
        return False
    tie = np.flatnonzero(step == 0)
    if not len(tie):
        return True
    # Compared as UTF-8 bytes by Arrow: the order of code points, as Python compares str.
    ids = pa.array(events, type=pa.large_string())
    return bool(pc.all(pc.less_equal(ids.take(pa.array(tie)), ids.take(pa.array(tie + 1)))).as_py())


def _parse_times(times: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``(UTC times, unreadable)`` of inferenceTime values (object Series).

    Out of range (``unreadable``): a number ("-1", "1e300") or a date-like text (a year first)
    that gives no time. Text that is no time at all (an unfilled template "{%s}") keeps its
    row, without a time.
    """
    parsed = _as_ns(
        pd.to_datetime(
            times.map(lambda v: v if not isinstance(v, str) or not _NUMERIC_TIME.fullmatch(v) else None),
            utc=True,
            errors="coerce",
            format="mixed",
        )
    )
    out_of_range = times.map(lambda v: isinstance(v, str) and bool(_OUT_OF_RANGE.match(v)))
    return parsed, out_of_range.to_numpy(dtype=bool) & parsed.isna().to_numpy()


#: The times a nanosecond time stamp holds.
_NS_RANGE: Final = (pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC"))


def _as_ns(stamps: pd.Series) -> pd.Series:
    """UTC time stamps as nanoseconds; those outside 1677-09-21 … 2262-04-11 become NaT (a
    year-3000 text is parsed at a coarser unit and would not convert)."""
    if stamps.dtype != "datetime64[ns, UTC]":
        stamps = stamps.where(stamps.isna() | stamps.between(*_NS_RANGE))
    return stamps.astype("datetime64[ns, UTC]")


#: Whole numbers up to this size become int64 (beyond, float64 would not hold them exactly).
_INT_LIMIT: Final = 2.0**53


def _as_floats(values: np.ndarray) -> np.ndarray:
    """Object cells → float64 (NaN where not a number), vectorised; huge integers become inf/NaN
    instead of raising."""
    converted: Any = pd.Series(values, dtype=object)
    try:
        converted = pd.to_numeric(converted, errors="coerce")
        return np.asarray(converted, dtype="float64")
    except (OverflowError, TypeError, ValueError):

        def one(v: object) -> float:
            try:
                return float(v)  # type: ignore[arg-type]
            except (OverflowError, TypeError, ValueError):
                return np.nan

        return np.fromiter((one(v) for v in converted), dtype="float64", count=len(converted))


def _typed_columns(block: np.ndarray, cols: list[str], index: pd.Index) -> dict[str, Any]:
    """Numbers where every present value of a column is a number (int64 when all whole, present
    and exactly representable), otherwise strings (categorical features).

    One vectorised conversion of the whole block, then per-column decisions from column sums: the
    cost does not grow with the width beyond the cell count.
    """
    if not cols:
        return {}
    floats = _as_floats(block.reshape(-1)).reshape(block.shape)

    def strings(j: int) -> pd.Series:
        return pd.Series(
            [v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in block[:, j]],
            index=index,
            dtype="str",
        )

    return _column_values(floats, ~pd.isna(block), cols, strings)


def _column_values(
    floats: np.ndarray, present: np.ndarray, cols: list[str], strings: Callable[[int], pd.Series]
) -> dict[str, Any]:
    """Each column's values from its cells read as numbers (``floats``, NaN where not a number)
    and where a value is present: int64, float64, or ``strings(j)`` (the cells as text)."""
    n_rows = floats.shape[0]
    numeric_ok = ~np.isnan(floats)
    all_numeric = numeric_ok.sum(axis=0) == present.sum(axis=0)
    with np.errstate(invalid="ignore"):
        whole = np.where(numeric_ok, (floats == np.round(floats)) & (np.abs(floats) < _INT_LIMIT), True)
    as_int = all_numeric & whole.all(axis=0) & numeric_ok.all(axis=0) & (n_rows > 0)
    out: dict[str, Any] = {}
    for j, col in enumerate(cols):
        if as_int[j]:
            out[col] = floats[:, j].astype("int64")
        elif all_numeric[j]:
            out[col] = floats[:, j]
        else:
            out[col] = strings(j)
    return out


def read_capture(
    source: Source | Sequence[Source],
    *,
    feature_names: Sequence[str] | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """One row per inference from SageMaker data capture files.

    Columns: ``inference_time`` (UTC), ``event_id``, the input features (named from
    ``feature_names`` when given, else ``f0``, ``f1`` … for positional inputs; keys of JSON objects
    are used as names), ``prediction`` (NaN for input-only records; extra output values of a row
    go to ``prediction_1`` …; a predicted label next to a score goes to ``prediction_label``).
    Numeric columns are float64 (int64 when all whole and present); others are strings. Bad
    records are skipped and counted: ``frame.attrs`` holds ``n_records``, ``n_bad`` and
    ``problems`` (see ``read_capture_report``).

    Examples
    --------
    >>> line = (b'{"captureData": {"endpointInput": {"data": "1,2\\\\n3,4", "encoding": "CSV"},'
    ...         b' "endpointOutput": {"data": "0.1\\\\n0.9", "encoding": "CSV"}},'
    ...         b' "eventMetadata": {"eventId": "e1", "inferenceTime": "2024-05-06T13:00:05Z"}}')
    >>> read_capture(line, feature_names=["a", "b"])[["a", "b", "prediction"]].to_numpy().tolist()
    [[1.0, 2.0, 0.1], [3.0, 4.0, 0.9]]
    """
    return read_capture_report(source, feature_names=feature_names, name=name).frame


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The input-feature columns of a capture frame (everything but metadata and predictions)."""
    return [c for c in frame.columns if c not in META_COLUMNS and not str(c).startswith(PREDICTION)]


def capture_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per feature/prediction column: type, present and missing counts, range or top values.

    Returns
    -------
    pandas.DataFrame
        ``column, role`` (``feature``/``prediction``), ``kind`` (``numeric``/``categorical``),
        ``present, missing, mean, min, max, distinct, top`` (up to three most frequent values with
        their counts, for categorical columns).
    """
    rows = []
    for col in frame.columns:
        if col in META_COLUMNS:
            continue
        values = frame[col]
        present = values.loc[values.notna()]
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
        x = present.astype("float64") if numeric else None
        top = (
            ""
            if numeric
            else ", ".join(f"{k} ({v})" for k, v in present.astype("str").value_counts().head(3).items())
        )
        rows.append(
            {
                "column": str(col),
                "role": "prediction" if str(col).startswith(PREDICTION) else "feature",
                "kind": "numeric" if numeric else "categorical",
                "present": len(present),
                "missing": len(values) - len(present),
                "mean": float(x.mean()) if x is not None and len(x) else np.nan,
                "min": float(x.min()) if x is not None and len(x) else np.nan,
                "max": float(x.max()) if x is not None and len(x) else np.nan,
                "distinct": int(present.astype("str").nunique()),
                "top": top,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["column", "role", "kind", "present", "missing", "mean", "min", "max", "distinct", "top"],
    )


def drift_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A capture frame as data for the drift pages: features and predictions, metadata dropped.

    When the capture was named after a baseline whose first column is the label
    (``frame.attrs["label_column"]``, see :func:`read_capture_report`), the prediction is also
    given under that name, first, so it meets the baseline's label column.
    """
    out = frame.drop(columns=[c for c in META_COLUMNS if c in frame.columns]).reset_index(drop=True)
    label = frame.attrs.get("label_column")
    if isinstance(label, str) and label not in out.columns and PREDICTION in out.columns:
        out.insert(0, label, out[PREDICTION])
    return out
