"""AppTest of the Training runs page: which tab opens, anchored runs, flag marks, readable durations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from lib.charts.runs import FLAG_ICON
from lib.ui import runs_page
from tests.support.paths import DATA, ROOT

RUNS = "pages/1_Training_runs.py"
JOB = "synthetic-ic-lr001-2024-05-01-10-00-00-000"  # the job in describe_training_job.json


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def default_tab(at: AppTest) -> int:
    """Index of the tab the page opens on (``st.tabs(default=...)``)."""
    (index,) = [
        n.proto.tab_container.default_tab_index
        for n in _walk(at._tree)
        if getattr(n, "proto", None) is not None
        and n.proto.DESCRIPTOR.name == "Block"
        and n.proto.WhichOneof("type") == "tab_container"
    ]
    return int(index)


def chart_text(at: AppTest, index: int) -> str:
    """All the data a chart carries (Streamlit ships it as Arrow datasets beside the spec), as text."""
    chart = at.get("vega_lite_chart")[index]
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    return " ".join(f.to_csv() for f in frames)


def specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def open_tab(at: AppTest, index: int) -> AppTest:
    """Open ``runs_page.TABS[index]`` as a click would: only the open tab is drawn."""
    at.session_state["runs_tab"] = runs_page.TABS[index]
    at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, *files: tuple[str, bytes]) -> None:
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    assert not at.exception, at.exception


def tja() -> tuple[str, bytes]:
    return f"{JOB}.csv", (DATA / "training_job_analytics.csv").read_bytes()


def test_demo_opens_on_over_time_and_draws_only_the_open_tab() -> None:
    at = app().run()
    at.switch_page(RUNS).run()
    assert not at.exception
    assert default_tab(at) == 0
    (time_chart,) = specs(at)  # not the By epoch chart nor the runs table: their tabs are closed
    assert time_chart["title"]["text"] == "Accuracy over time"
    assert len(at.dataframe) == 1  # the flags, below the tabs
    (overlay,) = specs(open_tab(at, 1))
    assert overlay["title"]["text"].endswith("runs overlaid")
    assert specs(open_tab(at, 2)) == []
    assert len(at.dataframe) == 2  # the runs table and the flags
    assert set(at.dataframe[0].value["job"]) == set(at.session_state["metrics"]["job"])


def test_runs_without_clock_times_open_on_by_epoch_and_say_why() -> None:
    at = app().run()
    upload(at, tja())
    at.switch_page(RUNS).run()
    assert not at.exception
    assert default_tab(at) == 1
    (overlay,) = specs(at)  # no time chart to draw: only By epoch
    assert overlay["layer"][0]["encoding"]["x"]["title"].startswith("Elapsed time")  # TJA rows have no epoch
    open_tab(at, 0)  # Over time says why it is empty
    assert any("has clock times" in i.value and "By epoch" in i.value for i in at.info)
    assert specs(at) == []


def test_tja_export_with_the_job_description_is_on_the_time_chart() -> None:
    at = app().run()
    upload(at, tja(), ("describe.json", (DATA / "describe_training_job.json").read_bytes()))
    metrics = at.session_state["metrics"]
    curves = metrics.loc[metrics["elapsed_s"].notna()]
    assert curves["timestamp"].notna().all()
    assert str(curves["timestamp"].min()) == "2024-05-01 10:03:12+00:00"  # TrainingStartTime + 0 s
    at.switch_page(RUNS).run()
    assert not at.exception
    assert default_tab(at) == 0
    (time_chart,) = specs(at)
    assert "vconcat" in time_chart or "layer" in time_chart
    assert JOB in chart_text(at, 0)
    assert not any("has clock times" in i.value for i in at.info)


def test_jobs_list_first_then_tja_is_anchored_too() -> None:
    at = app().run()
    upload(at, ("jobs.json", (DATA / "list_training_jobs.json").read_bytes()))
    assert at.session_state["is_demo"] is True  # a jobs list alone does not replace the demo with nothing
    upload(at, ("jobs.json", (DATA / "list_training_jobs.json").read_bytes()), tja())
    metrics = at.session_state["metrics"]
    assert at.session_state["is_demo"] is False
    assert set(metrics["job"]) == {JOB}
    assert metrics["timestamp"].notna().all()  # anchored at the listed creation time
    assert JOB in set(at.session_state["jobs"]["job"])


def test_flagged_run_is_marked_in_both_charts_and_the_table() -> None:
    at = app().run()
    at.switch_page(RUNS).run()
    open_tab(at, 2)
    table = at.dataframe[0].value
    flagged = table.loc[table["flag"] != "", ["job", "flag"]]
    assert len(flagged) >= 1
    assert flagged["flag"].str.startswith(FLAG_ICON).all()
    low = flagged.loc[flagged["flag"].str.contains("final value"), "job"].tolist()
    assert len(low) == 1
    for index in (0, 1):  # Over time, By epoch: a ring whose description names the run and its flag
        open_tab(at, index)
        assert f"Flagged run {low[0]}: unusually low final value" in chart_text(at, 0)


def test_durations_are_clock_text_not_seconds() -> None:
    at = app().run()
    at.switch_page(RUNS).run()
    open_tab(at, 2)
    table = at.dataframe[0].value
    assert "duration_s" not in table.columns
    assert table["duration"].str.fullmatch(r"\d+:\d\d:\d\d").all()
    assert table["gap"].iloc[1].endswith(("min", "h", "s", "d"))


def test_ema_is_the_default_smoothing_with_the_raw_curve_faint_behind() -> None:
    at = app().run()
    at.switch_page(RUNS).run()
    open_tab(at, 1)
    assert at.segmented_control(key="runs_smooth_method").value == "EMA"
    (overlay,) = specs(at)
    raw, smoothed = overlay["layer"][:2]
    assert raw["encoding"]["y"]["field"] == "value"
    assert smoothed["encoding"]["y"]["field"] == "smoothed"
    assert "EMA" in overlay["title"]["subtitle"][0]
    at.segmented_control(key="runs_smooth_method").set_value("None").run()
    assert len(specs(at)[0]["layer"]) != len(overlay["layer"])


def test_static_copies_for_downloads_are_built_only_when_asked() -> None:
    from lib import charts, export
    from lib.ui.chart_cache import LazyChart

    built: list[int] = []

    def build() -> Any:
        built.append(1)
        return charts.accuracy_over_time(demo_frame(), static=True)

    lazy = LazyChart(build)
    assert built == []
    svg = export.chart_svg(lazy)
    assert built == [1]
    assert "Drag here" not in svg


def demo_frame() -> Any:
    from lib.demo import demo_metrics

    return demo_metrics()


def test_jobs_from_an_aws_load_anchor_an_uploaded_tja_export_on_the_runs_page() -> None:
    """The runs page anchors whatever jobs table the session has (an AWS load merges one too)."""
    from lib.sources import load_export

    metrics = load_export(tja()[1], tja()[0]).metrics
    jobs = load_export(DATA / "describe_training_job.json").jobs  # the same rows the AWS loader builds
    at = app()
    at.switch_page(RUNS)
    at.session_state["metrics"] = metrics
    at.session_state["jobs"] = jobs
    at.session_state["is_demo"] = False
    at.run()
    assert not at.exception
    assert default_tab(at) == 0
    (time_chart,) = specs(at)  # on the time chart, not only By epoch
    assert time_chart["title"]["text"] == "Accuracy over time"
    table = open_tab(at, 2).dataframe[0].value
    assert str(table["start"].iloc[0]) == "2024-05-01 10:03:12+00:00"


def test_a_tja_export_named_after_nothing_is_placed_on_the_job_the_user_picks() -> None:
    at = app().run()
    upload(at, ("export.csv", (DATA / "training_job_analytics.csv").read_bytes()),
           ("describe.json", (DATA / "describe_training_job.json").read_bytes()))  # fmt: skip
    at.switch_page(RUNS).run()
    assert not at.exception
    (box,) = [s for s in at.selectbox if s.label == "export"]
    assert box.value == JOB  # the only job without metrics: preselected, and said
    assert any("Placed at the start" in c.value and JOB.replace("-", "\\-") in c.value for c in at.caption)
    assert default_tab(at) == 0  # on the time chart now
    assert JOB in chart_text(at, 0)
    box.set_value("(not placed)").run()
    assert not at.exception
    assert "export" not in chart_text(at, 0)  # off the time chart again
    assert any("1 run shown carries no clock times" in i.value for i in at.info)
