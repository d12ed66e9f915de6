"""lib.ui.chart_cache: the cached spec is the one st.altair_chart would send, tables included."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.elements import vega_charts

from lib import charts, demo, drift
from lib.analysis import runs
from lib.demo.drift import demo_current, demo_reference
from lib.ui.chart_cache import LazyChart, chart_builder, chart_spec

_NAME = re.compile(r'"(data-[0-9a-f]{16}-[0-9-]+|[0-9a-f]{32})"')


def _demo_runs_charts() -> list[alt.TopLevelMixin]:
    metrics, jobs = demo.demo_metrics(), demo.demo_jobs()
    metric = runs.default_metric(metrics)
    view = runs.select_view(
        metrics,
        jobs,
        metric=metric,
        jobs=sorted(metrics["job"].unique()),
        time_range=None,
        with_counterpart=True,
    )
    overlay = runs.overlay_view(view.metrics, metric=metric, window=1, method="ema", weight=0.6)
    return [
        charts.accuracy_over_time(
            view.chart_metrics, metrics=view.metric_list, metric=metric, flags=view.flags, time_axis="clock"
        ),
        charts.runs_overlay(
            overlay.frame, metric=metric, x_kind=overlay.x_kind, smoothed=True, flags=view.flags
        ),
    ]


def _drift_chart() -> alt.TopLevelMixin:
    ref, cur = demo_reference(500), demo_current(500)
    return charts.drift_overlay(
        drift.binned_overlay(ref, cur, "income", "numeric"), "income", mode="histogram"
    )


def _rows(data: Any) -> pd.DataFrame:
    if isinstance(data, bytes):
        return pa.ipc.open_stream(io.BytesIO(data)).read_all().to_pandas()
    return pd.DataFrame(data)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_spec_and_tables_match_what_st_altair_chart_sends(index: int) -> None:
    chart = [*_demo_runs_charts(), _drift_chart()][index]
    theirs = vega_charts._convert_altair_to_vega_lite_spec(chart)
    ours = chart_spec(chart)
    their_data, our_data = theirs.pop("datasets"), ours.pop("datasets")
    assert _NAME.sub('"D"', json.dumps(ours, sort_keys=True)) == _NAME.sub(
        '"D"', json.dumps(theirs, sort_keys=True)
    )
    assert len(our_data) == len(their_data)
    mine = sorted((_rows(d) for d in our_data.values()), key=len)
    other = sorted((_rows(d) for d in their_data.values()), key=len)
    for a, b in zip(mine, other, strict=True):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_the_chart_given_is_not_changed() -> None:
    chart = _demo_runs_charts()[0]
    before = json.dumps(chart.to_dict(), sort_keys=True)
    chart_spec(chart)
    assert json.dumps(chart.to_dict(), sort_keys=True) == before


def test_builders_are_found_by_name_and_lazy_charts_build_on_demand() -> None:
    assert chart_builder("runs_overlay") is charts.runs_overlay
    assert chart_builder("timing.violations_history") is charts.timing.violations_history
    built: list[int] = []

    def build() -> alt.Chart:
        built.append(1)
        return alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x")

    lazy = LazyChart(build)
    assert built == []
    assert lazy.to_dict()["mark"] == {"type": "point"}
    assert built == [1]
