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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from lib.errors import InputError
from lib.schema import to_utc
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
    return [[_scalar(v) for v in row] for row in csv.reader(io.StringIO(text)) if any(v.strip() for v in row)]


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
    """
    files: list[tuple[bytes, str]] = []
    budget = Budget()
    for src in source_list(source):
        data, label = source_bytes(src, name)
        files.extend(_files(data, label, budget))

    given = [str(n) for n in feature_names] if feature_names is not None else []
    problems: list[str] = []
    n_records = n_bad = 0
    seen: dict[str, str] = {}
    rows: list[dict[str, object]] = []
    renamed: set[str] = set()
    max_pred = 1
    first_bad: str | None = None
    for data, label in files:
        text = data.decode("utf-8-sig", errors="replace")
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            n_records += 1
            try:
                event, when, inputs, outputs, note = _parse_record(line)
                if event is not None and event in seen:
                    raise _RecordError(f"duplicate eventId {event} (already read from {seen[event]})")
            except _RecordError as why:
                n_bad += 1
                first_bad = first_bad or f"{label}:{lineno}: {why}"
                problems.append(f"{label}:{lineno}: {why}")
                continue
            if event is not None:
                seen[event] = f"{label}:{lineno}"
            if note:
                problems.append(f"{label}:{lineno}: {note}")
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
    if not rows:
        found = first_bad or "no lines"
        raise InputError(
            f"{', '.join(label for _, label in files)}: no usable data capture record "
            f"({n_records} line(s) read; first problem: {found}).",
            hint='Expected SageMaker data capture JSON Lines: {"captureData": {"endpointInput": …, '
            '"endpointOutput": …}, "eventMetadata": {"eventId": …, "inferenceTime": …}} per line.',
        )
    names, label_column, notes = _positional_names(rows, given)
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


_POSITIONAL: Final = "\x00positional"
#: Input fields that would overwrite a metadata column; they are renamed ``input.<name>``.
_RESERVED: Final = frozenset(META_COLUMNS)
#: inferenceTime is ISO 8601 text; a bare number ("-1", "1e300") is not taken as a time.
_NUMERIC_TIME: Final = re.compile(r"\s*[-+]?[\d.]+(?:[eE][-+]?\d+)?\s*")
#: An inferenceTime that means a time but cannot be one: a bare number, or a date-like text.
_OUT_OF_RANGE: Final = re.compile(r"\s*(?:[-+]?[\d.]+(?:[eE][-+]?\d+)?\s*$|[-+]?\d{4,}-)")


def _positional_names(
    rows: list[dict[str, object]], given: list[str]
) -> tuple[list[str], str | None, list[str]]:
    """``(names, label_column, notes)`` for positional inputs, following Model Monitor's
    convention (baseline first column = label; the capture holds only the inputs)."""
    widths = pd.Series([len(v) for r in rows if isinstance(v := r.get(_POSITIONAL), list)], dtype="int64")
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
    times = raw("inference_time")
    parsed = to_utc(
        times.map(lambda v: v if not isinstance(v, str) or not _NUMERIC_TIME.fullmatch(v) else None)
    )
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
    out = pd.DataFrame(data, index=index)
    # Out of range: a number ("-1", "1e300") or a date-like text (a year first) that gives no time.
    # Text that is no time at all (an unfilled template "{%s}") keeps its row, without a time.
    out_of_range = times.map(lambda v: isinstance(v, str) and bool(_OUT_OF_RANGE.match(v)))
    unreadable = out_of_range.to_numpy(dtype=bool) & parsed.isna().to_numpy()
    if unreadable.any():
        out = out.loc[~unreadable]
    out.attrs["bad_times"] = int(unreadable.sum())
    out = out.sort_values(["inference_time", "event_id"], kind="stable", na_position="last")
    return out.reset_index(drop=True)


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
    n_rows = block.shape[0]
    floats = _as_floats(block.reshape(-1)).reshape(block.shape)
    present = ~pd.isna(block)
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
            out[col] = pd.Series(
                [v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in block[:, j]],
                index=index,
                dtype="str",
            )
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
