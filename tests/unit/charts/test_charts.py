"""lib.charts: builders are pure and their Vega-Lite specs carry the interactions and encodings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lib import charts
from lib.analysis import runs
from lib.errors import InputError
from lib.schema import validate_metrics


def _views(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every unit view (vconcat/layer members) of a spec."""
    out: list[dict[str, Any]] = []
    for key in ("vconcat", "layer"):
        for sub in spec.get(key, []):
            out += _views(sub) if ("vconcat" in sub or "layer" in sub) else [sub]
    return out


def _rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    # The runs' rows (the sawtooth's between-run segments, if any, are a second dataset without "job").
    (rows,) = [d for d in spec["datasets"].values() if d and "job" in d[0]] or [[]]
    return rows


def test_accuracy_over_time_params_and_encodings(metrics: pd.DataFrame) -> None:
    spec = charts.accuracy_over_time(metrics).to_dict()
    assert {p["name"] for p in spec["params"]} == {"zoom", "pick_job"}
    params = {p["name"]: p for p in spec["params"]}
    assert params["zoom"]["select"] == {"type": "interval", "encodings": ["x"]}
    assert params["pick_job"]["bind"] == "legend"
    assert params["pick_job"]["select"]["fields"] == ["job"]

    top, overview = spec["vconcat"]
    hold, detail = top["layer"]
    enc = detail["encoding"]
    assert enc["x"]["field"] == "timestamp"
    assert enc["x"]["type"] == "temporal"
    assert enc["x"]["scale"]["domain"] == {"param": "zoom"}  # the strip drives the detail
    assert enc["y"]["field"] == "value"
    assert enc["color"]["field"] == "job"
    assert enc["strokeDash"]["field"] == "metric"
    assert enc["opacity"]["condition"][0]["param"] == "pick_job"
    assert enc["opacity"]["value"] < 0.5
    assert detail["mark"]["clip"] is True
    assert [t["field"] for t in enc["tooltip"]] == ["job", "metric", "time_utc", "value", "epoch"]
    assert params["pick_job"]["views"] == [detail["name"]]
    assert params["zoom"]["views"] == [overview["name"]]
    assert overview["height"] < top["height"]
    # Behind the runs, grey steps from each run's last point to the next run's first: the flat gaps.
    assert hold["mark"]["interpolate"] == "step-after"
    assert hold["encoding"]["detail"]["field"] == "segment"
    assert hold["encoding"]["x"]["scale"]["domain"] == {"param": "zoom"}
    gaps = spec["datasets"][hold["data"]["name"]]
    # 2 runs x 2 metrics: one segment per metric, from run-a's last point to run-b's first.
    assert len(gaps) == 4
    by_metric = {}
    for row in gaps:
        by_metric.setdefault(row["metric"], []).append(row)
    for metric, (end_a, start_b) in by_metric.items():
        a = metrics[(metrics["job"] == "run-a") & (metrics["metric"] == metric)]
        b = metrics[(metrics["job"] == "run-b") & (metrics["metric"] == metric)]
        assert end_a["value"] == pytest.approx(a["value"].iloc[-1])
        assert start_b["value"] == pytest.approx(b["value"].iloc[0])
        assert end_a["segment"] == start_b["segment"]
    assert spec["title"]["text"] == "Accuracy over time"


def test_accuracy_over_time_data_only_requested_metrics(metrics: pd.DataFrame) -> None:
    extra = pd.concat([metrics, metrics.assign(metric="train:cross_entropy")], ignore_index=True)
    spec = charts.accuracy_over_time(extra, metrics=["validation:accuracy"]).to_dict()
    rows = _rows(spec)
    assert {r["metric"] for r in rows} == {"validation:accuracy"}
    assert len(rows) == 6
    assert {r["split"] for r in rows} == {"validation"}
    assert rows[0]["time_utc"].endswith(" UTC")


def test_accuracy_over_time_thins_big_frames(rng: np.random.Generator) -> None:
    n = 30_000
    frame = validate_metrics(
        pd.DataFrame(
            {
                "job": "big",
                "metric": "validation:accuracy",
                "timestamp": pd.Timestamp("2026-11-02", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
                "value": rng.normal(size=n),
            }
        )
    )
    spec = charts.accuracy_over_time(frame, max_points=2000).to_dict()
    assert len(_rows(spec)) <= 2000


def test_accuracy_over_time_many_runs_get_distinct_colours(metrics: pd.DataFrame) -> None:
    many = pd.concat([metrics.assign(job=f"run-{i}") for i in range(12)], ignore_index=True)
    spec = charts.accuracy_over_time(many).to_dict()
    assert spec["vconcat"][0]["layer"][1]["encoding"]["color"]["scale"]["scheme"] == "tableau20"


def test_runs_overlay_smoothed_draws_faint_raw_under_smoothed(metrics: pd.DataFrame) -> None:
    frame = runs.smooth(runs.align_runs(metrics, metric="validation:accuracy"), window=2)
    spec = charts.runs_overlay(frame, metric="validation:accuracy", x_kind="epoch", smoothed=True).to_dict()
    raw, smooth = _views(spec)
    assert raw["encoding"]["y"]["field"] == "value"
    assert raw["encoding"]["opacity"]["condition"][0] == {"param": "pick_job", "value": 0.25}
    assert smooth["encoding"]["y"]["field"] == "smoothed"
    assert raw["encoding"]["x"]["title"] == "Epoch"
    assert [p["name"] for p in spec["params"]] == ["pick_job"]
    assert [t["field"] for t in raw["encoding"]["tooltip"]] == ["job", "x", "value", "smoothed"]


def test_runs_overlay_elapsed_axis_in_minutes(metrics: pd.DataFrame) -> None:
    frame = runs.align_runs(metrics, metric="validation:accuracy", x_kind="elapsed_s")
    spec = charts.runs_overlay(frame, metric="validation:accuracy").to_dict()
    (raw,) = _views(spec)
    assert raw["encoding"]["x"]["field"] == "x_min"
    assert "(min)" in raw["encoding"]["x"]["title"]
    assert sorted({r["x_min"] for r in _rows(spec)}) == [0.0, 2.0, 4.0]
    assert raw["encoding"]["opacity"]["condition"][0]["value"] == 1.0


def test_runs_overlay_needs_aligned_and_smoothed_frames(metrics: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="align_runs"):
        charts.runs_overlay(metrics, metric="validation:accuracy")
    aligned = runs.align_runs(metrics, metric="validation:accuracy")
    with pytest.raises(InputError, match="smooth"):
        charts.runs_overlay(aligned, metric="validation:accuracy", smoothed=True)


def test_final_values_marks_flagged_runs() -> None:
    t0 = pd.Timestamp("2026-11-02", tz="UTC")
    rows = [
        {"job": f"r{i}", "metric": "validation:accuracy", "timestamp": t0 + pd.Timedelta(hours=i), "value": v}
        for i, v in enumerate([0.90, 0.91, 0.92, 0.93, 0.60])
    ]
    table = runs.runs_table(validate_metrics(pd.DataFrame(rows)))
    spec = charts.final_values(table, runs.flag_runs(table)).to_dict()
    flagged = {r["job"]: r["flagged"] for r in _rows(spec)}
    assert flagged == {"r0": "typical", "r1": "typical", "r2": "typical", "r3": "typical", "r4": "flagged"}
    _, dots = _views(spec)
    assert dots["encoding"]["x"]["field"] == "last"
    assert dots["encoding"]["y"]["sort"] == ["r0", "r1", "r2", "r3", "r4"]


def test_builders_do_not_mutate_input_or_configure(metrics: pd.DataFrame) -> None:
    before = metrics.copy()
    spec = charts.accuracy_over_time(metrics).to_dict()
    pd.testing.assert_frame_equal(metrics, before)
    assert set(spec["config"]) <= {"view"}  # only Altair's default, no configure_* in builders


def test_empty_frame_still_builds_a_chart(metrics: pd.DataFrame) -> None:
    spec = charts.accuracy_over_time(metrics.iloc[0:0]).to_dict()
    assert _rows(spec) == []
