"""Real public SageMaker / CloudWatch / Model Monitor files against hand-derived expectations.

The files in ``tests/data/real`` were written by others (provenance in its README.md); the
expected results in ``expected.json`` were read off the raw text, not produced by our readers.
Cases our readers get wrong today are strict xfails naming the bug (issue 10), so this module stays
green and turns red as soon as a bug is fixed (then drop the mark).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lib.errors import InputError
from lib.sources import MetricDefinition, load_export
from lib.sources.capture import feature_columns, read_capture_report
from lib.sources.monitor_files import read_constraints, read_statistics
from lib.sources.tables import read_table
from tests.support.paths import DATA

REAL = DATA / "real"
_DOC = json.loads((REAL / "expected.json").read_text(encoding="utf-8"))
EXPECTED: dict[str, dict[str, Any]] = _DOC["files"]
NOT_DATA = {"README.md", "expected.json"}
SHA = re.compile(r"^[0-9a-f]{40}$")

#: file -> what our readers get wrong today (observed, issue 10).
XFAIL: dict[str, str] = {}


def _readme_rows() -> dict[str, list[str]]:
    """File path -> cells of its README table row (rows whose first cell is a back-quoted path)."""
    rows: dict[str, list[str]] = {}
    for line in (REAL / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = cells
    return rows


def _data_files() -> set[str]:
    return {p.relative_to(REAL).as_posix() for p in REAL.rglob("*") if p.is_file() and p.name not in NOT_DATA}


def test_readme_lists_every_file_with_a_commit() -> None:
    rows = _readme_rows()
    assert set(rows) == _data_files()
    for name, cells in rows.items():
        assert (REAL / name).is_file(), name
        assert SHA.match(cells[3].strip("`")), f"{name}: commit {cells[3]!r} is not 40 hex digits"
        assert len(cells) == 7, f"{name}: README row needs 7 cells"
        assert all(cells), f"{name}: README row has an empty cell"


def test_expected_covers_every_file() -> None:
    assert set(EXPECTED) == _data_files()


def test_files_are_small() -> None:
    for name in _data_files():
        assert (REAL / name).stat().st_size < 200_000, name


def _close(a: object, b: object) -> bool:
    if b is None:
        return a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a))
    if isinstance(b, float) or isinstance(a, float):
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            return False
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _point(row: pd.Series) -> list[object]:
    epoch = row["epoch"]
    return [None if pd.isna(epoch) else int(epoch), float(row["value"])]


def _utc(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text).tz_convert("UTC")


def check_metrics(path: Path, exp: dict[str, Any]) -> None:
    defs = [MetricDefinition.from_dict(d) for d in exp.get("metric_definitions", [])]
    frame = load_export(path, metric_definitions=defs).metrics
    if exp["job"] is not None:
        assert set(frame["job"]) == {exp["job"]}
    found = sorted(set(frame["metric"]))
    for name, want in exp["metrics"].items():
        rows = frame.loc[frame["metric"] == name]
        assert len(rows) == want["count"], (
            f"{name}: {len(rows)} points, expected {want['count']} (found {found})"
        )
        keys = ["epoch", "timestamp"] if want["epochs"] else ["timestamp", "epoch"]
        rows = rows.sort_values(keys, kind="stable")
        first, last = _point(rows.iloc[0]), _point(rows.iloc[-1])
        assert all(map(_close, first, want["first"])), f"{name}: first {first}, expected {want['first']}"
        assert all(map(_close, last, want["last"])), f"{name}: last {last}, expected {want['last']}"
        epochs = sorted(int(e) for e in rows["epoch"].dropna())
        if isinstance(want["epochs"], str):
            lo, hi = map(int, want["epochs"].split(".."))
            assert epochs == list(range(lo, hi + 1)), f"{name}: epochs {epochs[:5]}..., expected {lo}..{hi}"
        else:
            assert epochs == want["epochs"], f"{name}: epochs {epochs}, expected {want['epochs']}"
        for key, pos in (("first_time", 0), ("last_time", -1)):
            if key in want:
                assert rows["timestamp"].iloc[pos] == _utc(want[key]), f"{name}: {key}"
    wanted = frame.loc[frame["metric"].isin(list(exp["metrics"]))]
    if exp["timestamped"]:
        assert wanted["timestamp"].notna().all(), (
            f"{int(wanted['timestamp'].isna().sum())} points lost their time"
        )
        assert wanted["timestamp"].min() == _utc(exp["first_timestamp"])
    else:
        assert wanted["timestamp"].isna().all(), "the metric lines carry no time stamp"


def check_capture(path: Path, exp: dict[str, Any]) -> None:
    result = read_capture_report(path)
    frame = result.frame
    assert (result.n_records, result.n_bad) == (exp["records"], exp["bad_records"])
    assert len(frame) == exp["rows"], f"{len(frame)} rows, expected {exp['rows']}"
    features = feature_columns(frame)
    assert len(features) == exp["n_features"], (
        f"{len(features)} feature columns, expected {exp['n_features']}"
    )
    assert ("prediction" in frame.columns and frame["prediction"].notna().any()) == exp["prediction"]
    first = exp["first"]
    rows = frame.loc[frame["event_id"] == first["event_id"]]
    assert len(rows), f"no row with event id {first['event_id']}"
    row = rows.iloc[0]
    want_time = _utc(first["inference_time"])
    assert pd.isna(row["inference_time"]) if want_time is None else row["inference_time"] == want_time
    values = [row[c] for c in features[: len(first["features"])]]
    assert all(map(_close, [float(v) for v in values], [float(v) for v in first["features"]])), values
    assert _close(float(row["prediction"]), first["prediction"])


def check_statistics(path: Path, exp: dict[str, Any]) -> None:
    baseline = read_statistics(path)
    assert baseline.item_count == exp["item_count"]
    assert baseline.feature_names == list(exp["features"])
    for name, want in exp["features"].items():
        got = baseline.feature(name)
        assert got.inferred_type == want["inferred_type"]
        for key in ("num_present", "num_missing", "mean", "min", "max", "distinct_count"):
            if key in want:
                assert _close(getattr(got, key), float(want[key])), f"{name}.{key}"
        if "categories" in want:
            assert [list(c) for c in got.categorical_buckets] == want["categories"]


def check_constraints(path: Path, exp: dict[str, Any]) -> None:
    cons = read_constraints(path)
    assert {f.name: f.inferred_type for f in cons.features} == exp["features"]
    assert cons.feature_names == list(exp["features"])
    for name, domains in exp.get("domains", {}).items():
        assert next(f for f in cons.features if f.name == name).domains == tuple(domains)
    if "comparison_threshold" in exp:
        assert cons.comparison_threshold == exp["comparison_threshold"]
    if "comparison_method" in exp:
        assert cons.comparison_method == exp["comparison_method"]


def check_violations(path: Path, exp: dict[str, Any]) -> None:
    # Driftwatch writes constraint_violations.json but has no reader for it: check the file says
    # what the expectation says, and that the baseline slots refuse it with a clear error.
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert [[v["feature_name"], v["constraint_check_type"]] for v in doc["violations"]] == exp["violations"]
    for reader in (read_statistics, read_constraints):
        with pytest.raises(InputError):
            reader(path)


def check_dataset(path: Path, exp: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        load_export(path)
    table = read_table(path)
    assert table.shape == (exp["rows"], exp["columns"]), f"shape {table.shape}"
    assert [float(v) for v in table.iloc[0]] == exp["first_row"]


READERS: dict[str, Callable[[Path], object]] = {
    "load_export": load_export,
    "read_capture": read_capture_report,
    "read_statistics": read_statistics,
    "read_constraints": read_constraints,
}


def check_unsupported(path: Path, exp: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        READERS[exp["reader"]](path)


CHECKS: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "metrics": check_metrics,
    "capture": check_capture,
    "statistics": check_statistics,
    "constraints": check_constraints,
    "violations": check_violations,
    "dataset": check_dataset,
    "unsupported": check_unsupported,
}


def _cases() -> list[Any]:
    cases = []
    for name in sorted(EXPECTED):
        marks = [pytest.mark.xfail(strict=True, reason=f"issue 10: {XFAIL[name]}")] if name in XFAIL else []
        cases.append(pytest.param(name, id=name, marks=marks))
    return cases


@pytest.mark.parametrize("name", _cases())
def test_real_file(name: str) -> None:
    exp = EXPECTED[name]
    CHECKS[exp["kind"]](REAL / name, exp)
