"""lib.charts: builders are pure and their Vega-Lite specs carry the interactions and encodings."""

from __future__ import annotations

import json
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
    assert enc["y"]["title"] == "accuracy (train, validation)"  # the metric, not "Value"
    assert enc["color"]["field"] == "job"
    assert enc["strokeDash"]["field"] == "metric"
    assert enc["opacity"]["condition"]["param"] == "pick_job"  # picked: by metric; others faded
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
    # 2 runs x 2 metrics: ONE segment (on the chosen metric, validation), from run-a's last point to
    # run-b's first.
    assert len(gaps) == 2
    assert {g["metric"] for g in gaps} == {"validation:accuracy"}
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


def _weeks_of_short_runs(n_runs: int = 15) -> pd.DataFrame:
    """One 40-minute run a day (or two) over about three weeks: slivers on a clock-time axis."""
    t0 = pd.Timestamp("2026-10-01 08:00", tz="UTC")
    rows = []
    for r in range(n_runs):
        start = t0 + pd.Timedelta(days=1.4 * r)
        for e in range(5):
            for metric in ("train:accuracy", "validation:accuracy"):
                value = 0.5 + 0.08 * e - (0.05 if metric.startswith("validation") else 0.0)
                rows.append(
                    {
                        "job": f"run-{r:02d}",
                        "metric": metric,
                        "timestamp": start + pd.Timedelta(minutes=10 * e),
                        "value": 0.3 if (r == 7 and e == 4 and metric.startswith("validation")) else value,
                        "epoch": e,
                    }
                )
    return validate_metrics(pd.DataFrame(rows))


def _x_scale(view: dict[str, Any]) -> dict[str, Any]:
    return dict(view["encoding"]["x"].get("scale", {}))


def test_over_time_train_and_validation_differ_in_more_than_dashes(metrics: pd.DataFrame) -> None:
    detail = charts.accuracy_over_time(metrics).to_dict()["vconcat"][0]["layer"][1]
    enc = detail["encoding"]
    assert enc["strokeDash"]["scale"]["range"] == [[5, 3], [1, 0]]  # train dashed, validation solid
    assert enc["strokeWidth"]["scale"]["domain"] == ["train:accuracy", "validation:accuracy"]
    thin, thick = enc["strokeWidth"]["scale"]["range"]
    assert thick >= 2 * thin
    lighter, full = enc["opacity"]["condition"]["scale"]["range"]
    assert lighter < full == 1.0


def test_over_time_runs_are_not_clipped_at_the_edges(metrics: pd.DataFrame) -> None:
    spec = charts.accuracy_over_time(metrics).to_dict()
    top, overview = spec["vconcat"]
    for view in [*top["layer"], overview]:
        assert _x_scale(view)["padding"] >= 8  # room at both ends for the first and last points


def test_over_time_single_metric_titles_the_y_axis_with_it(metrics: pd.DataFrame) -> None:
    spec = charts.accuracy_over_time(metrics, metrics=["validation:accuracy"], metric="validation:accuracy")
    assert spec.to_dict()["vconcat"][0]["layer"][1]["encoding"]["y"]["title"] == "validation:accuracy"


def test_run_axis_gives_each_run_visible_width_over_weeks() -> None:
    weeks = _weeks_of_short_runs()
    assert runs.default_time_axis(weeks) == "runs"
    spec = charts.accuracy_over_time(weeks, time_axis="runs").to_dict()
    top, overview = spec["vconcat"]
    detail = top["layer"][1]
    assert detail["encoding"]["x"]["field"] == "run_h"
    assert overview["encoding"]["x"]["field"] == "run_h"  # the zoom strip too
    rows = _rows(spec)
    x = pd.DataFrame(rows).groupby("job")["run_h"].agg(["min", "max"])
    span = x["max"].max() - x["min"].min()
    assert ((x["max"] - x["min"]) / span).min() > 0.02  # each run >= 2 % of the width
    # On clock time the same runs are slivers (that is why the run axis is the default here).
    clock = weeks.groupby("job")["timestamp"].agg(["min", "max"])
    clock_span = (clock["max"].max() - clock["min"].min()).total_seconds()
    assert ((clock["max"] - clock["min"]).dt.total_seconds() / clock_span).max() < 0.02
    # Tick labels are the runs' start dates.
    axis = detail["encoding"]["x"]["axis"]
    assert len(axis["values"]) == weeks["job"].nunique()
    assert "Oct 01 08:00" in axis["labelExpr"]


def test_flagged_runs_are_marked_with_their_words() -> None:
    weeks = _weeks_of_short_runs()
    table = runs.runs_table(weeks, metric="validation:accuracy")
    flags = runs.flag_runs(table)
    assert flags["job"].tolist() == ["run-07"]
    over_time = charts.accuracy_over_time(weeks, flags=flags).to_dict()
    aligned = runs.align_runs(weeks, metric="validation:accuracy")
    overlay = charts.runs_overlay(aligned, metric="validation:accuracy", flags=flags).to_dict()
    for spec, layers in ((over_time, over_time["vconcat"][0]["layer"]), (overlay, overlay["layer"])):
        ring, icon = layers[-2:]
        assert ring["mark"]["type"] == "point"
        assert icon["mark"]["text"] == charts.runs.FLAG_ICON
        (marker,) = spec["datasets"][ring["data"]["name"]]
        assert marker["job"] == "run-07"
        assert marker["flag"] == "unusually low final value"
        assert [t["field"] for t in ring["encoding"]["tooltip"]] == ["job", "flag"]
        assert marker["aria"] == "Flagged run run-07: unusually low final value"
    legend = over_time["vconcat"][0]["layer"][1]["encoding"]["color"]["legend"]
    assert '["run-07"]' in legend["labelExpr"]
    # No flags, no marker layers.
    assert len(charts.accuracy_over_time(weeks).to_dict()["vconcat"][0]["layer"]) == 2


def test_only_the_flag_markers_carry_aria_labels_not_every_point() -> None:
    """Vega built an ARIA text per point on every draw (a third of the over-time chart's time in the
    browser); the run lines and points go without, the flagged runs' markers keep theirs, and the
    points keep their tooltips."""
    weeks = _weeks_of_short_runs()
    flags = runs.flag_runs(runs.runs_table(weeks, metric="validation:accuracy"))
    over_time = charts.accuracy_over_time(weeks, flags=flags).to_dict()
    aligned = runs.align_runs(weeks, metric="validation:accuracy")
    overlay = charts.runs_overlay(aligned, metric="validation:accuracy", flags=flags).to_dict()
    for spec in (over_time, overlay):
        views = _views(spec)
        lines = [v for v in views if v["mark"]["type"] == "line"]
        assert lines
        assert all(v["mark"]["aria"] is False for v in lines)
        points = [v["mark"]["point"] for v in lines if isinstance(v["mark"].get("point"), dict)]
        assert points
        assert all(p["aria"] is False for p in points)
        assert all(v["encoding"].get("tooltip") for v in lines if v["mark"].get("point"))
        (ring,) = [v for v in views if v["mark"]["type"] == "point"]
        assert ring["mark"].get("aria", True) is not False
        assert ring["encoding"]["description"]["field"] == "aria"


@pytest.mark.parametrize("n_runs", [3, 12, 40])
def test_overlay_keeps_its_plot_height_and_lists_every_run(metrics: pd.DataFrame, n_runs: int) -> None:
    many = pd.concat([metrics.assign(job=f"run-{i:02d}") for i in range(n_runs)], ignore_index=True)
    frame = runs.align_runs(many, metric="validation:accuracy")
    spec = charts.runs_overlay(frame, metric="validation:accuracy").to_dict()
    # Streamlit's default for a layer chart is autosize "fit": the legend's height is taken from the
    # plot, which collapsed to a strip with a dozen runs. fit-x fits the width only.
    assert spec["autosize"]["type"] == "fit-x"
    assert spec["height"] == charts.DETAIL_HEIGHT
    legend = spec["layer"][0]["encoding"]["color"]["legend"]
    assert legend["orient"] == "bottom"  # outside the plot
    assert legend["symbolLimit"] == 0  # no "…and 10 more": every run listed
    # Two or three columns on a wide page, one on a narrow one (labels cut to the container's width).
    assert legend["columns"]["expr"].endswith(f"? 1 : {2 if n_runs <= 16 else 3}")
    assert "containerSize()[0]" in legend["labelLimit"]["expr"]


def test_static_exports_drop_interaction_hints(metrics: pd.DataFrame) -> None:
    live = json.dumps(charts.accuracy_over_time(metrics).to_dict())
    static = charts.accuracy_over_time(metrics, static=True).to_dict()
    assert "Drag here to zoom" in live
    text = json.dumps(static)
    assert "Drag" not in text
    assert "zoom" not in text.lower().replace('"zoom"', "")
    assert len(static["vconcat"]) == 1  # no zoom strip in a file
    frame = runs.align_runs(metrics, metric="validation:accuracy")
    live_overlay = charts.runs_overlay(frame, metric="validation:accuracy").to_dict()
    static_overlay = charts.runs_overlay(frame, metric="validation:accuracy", static=True).to_dict()
    assert "click" in json.dumps(live_overlay["title"]["subtitle"]).lower()
    assert "click" not in json.dumps(static_overlay["title"]).lower()


def test_static_exports_render_to_png(metrics: pd.DataFrame) -> None:
    from lib import export

    weeks = _weeks_of_short_runs(6)
    flags = runs.flag_runs(runs.runs_table(weeks))
    for chart in (
        charts.accuracy_over_time(weeks, flags=flags, time_axis="runs", static=True),
        charts.runs_overlay(
            runs.smooth(runs.align_runs(weeks, metric="validation:accuracy"), method="ema_debiased"),
            metric="validation:accuracy",
            smoothed=True,
            flags=flags,
            static=True,
        ),
    ):
        assert export.chart_png(chart, scale=1).startswith(b"\x89PNG")
