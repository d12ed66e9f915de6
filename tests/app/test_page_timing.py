"""AppTest of the Timing & cost page: demo, cost arithmetic, price edits, latency uploads and live loads."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import demo
from lib.analysis import pricing
from lib.errors import DataSourceError
from lib.sources import latency as latency_files
from lib.sources.aws import endpoint_latency
from lib.ui import aws_page, timing_page
from tests.support.paths import DATA, ROOT

PAGE = "pages/4_Timing_and_cost.py"
LATENCY_SAMPLE = DATA / "endpoint_latency_get_metric_data.json"


def open_page(**state: Any) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def titles(at: AppTest) -> list[str]:
    return [s.get("title", {}).get("text", "") for s in specs(at)]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def unescape(text: str) -> str:
    return text.replace("\\", "")


def open_tab(at: AppTest, index: int) -> AppTest:
    """Open ``timing_page.TABS[index]`` as a click would: only the open tab is drawn."""
    at.session_state["timing_tab"] = timing_page.TABS[index]
    at.run()
    assert not at.exception, at.exception
    return at


def test_demo_shows_costs_phases_drift_and_latency_without_exception() -> None:
    at = open_page()
    assert not at.exception
    assert titles(at) == ["Cost per run", "Phases per run"]  # the other tabs are drawn when opened
    assert titles(open_tab(at, 1)) == ["Training time (s) per run"]
    # The run whose epochs take about three times as long is named in one line.
    jobs = demo.demo_jobs()
    slow_job = jobs.loc[jobs["instance_type"] == "ml.g5.xlarge", "job"].iloc[0]
    assert any(
        unescape(w.value).startswith(f"Run {slow_job} took")
        and "the median seconds per epoch" in unescape(w.value)
        for w in at.warning
    )
    assert titles(open_tab(at, 2)) == ["ModelLatency percentiles"]
    # The latency demo's step is found and said in words.
    assert any("1 change point" in unescape(w.value) for w in at.warning)
    open_tab(at, 0)
    expected = pricing.cost_summary(pricing.cost_table(demo.demo_jobs()))
    shown = metrics(at)
    assert shown["Total cost"] == f"${expected.total_usd:,.2f}"
    assert shown["Spot savings"] == f"${expected.spot_savings_usd:,.2f}"
    assert expected.spot_savings_usd > 0  # the demo has one managed-spot run


def test_price_editor_is_sent_only_while_its_box_is_open() -> None:
    at = open_page()
    reset = "Reset to the built-in prices"
    assert [b for b in at.button if b.label == reset] == []  # closed: no data grid for the browser to load
    at.session_state["timing_prices_box"] = True
    at.run()
    assert not at.exception
    assert [b.label for b in at.button if b.label == reset] == [reset]
    assert titles(at) == ["Cost per run", "Phases per run"]


def test_cost_arithmetic_is_visible_per_run() -> None:
    at = open_page()
    assert any(
        "cost = billable seconds ÷ 3600 × instance count × USD per hour" in c.value for c in at.caption
    )
    table = next(df.value for df in at.dataframe if "arithmetic" in df.value.columns)
    jobs = demo.demo_jobs().set_index("job")
    spot_job = jobs.index[jobs["spot"].astype(bool)][0]
    row = table.set_index("job").loc[spot_job]
    billable, price = jobs.loc[spot_job, "billable_seconds"], 3.825  # ml.p3.2xlarge in the built-in table
    assert row["cost_usd"] == pytest.approx(billable / 3600 * 1 * price)
    assert row["arithmetic"].startswith(
        f"{billable:,.0f} s ÷ 3600 × 1 × $3.825/h = ${billable / 3600 * price:,.2f}"
    )
    assert "spot saves" in row["arithmetic"]


def test_edited_prices_are_used_and_survive_as_plain_state() -> None:
    prices = pricing.price_table_for(demo.demo_jobs())
    prices.loc[prices["instance_type"] == "ml.p3.2xlarge", "usd_per_hour"] = 1.0
    at = open_page(timing_prices=prices)
    assert not at.exception
    costs = pricing.cost_table(demo.demo_jobs(), {"ml.p3.2xlarge": 1.0, "ml.g5.xlarge": 1.408})
    assert metrics(at)["Total cost"] == f"${costs['cost_usd'].sum():,.2f}"


def test_negative_price_shows_an_error_and_falls_back_to_built_in_prices() -> None:
    prices = pricing.price_table_for(demo.demo_jobs())
    prices.loc[prices["instance_type"] == "ml.p3.2xlarge", "usd_per_hour"] = -1.0
    at = open_page(timing_prices=prices)
    assert not at.exception
    assert any("ml.p3.2xlarge" in e.value and "not a non-negative number" in e.value for e in at.error)
    expected = pricing.cost_summary(pricing.cost_table(demo.demo_jobs()))
    assert metrics(at)["Total cost"] == f"${expected.total_usd:,.2f}"


def test_apply_editor_changes_edits_adds_and_deletes_rows() -> None:
    base = pricing.price_table_for(demo.demo_jobs()).head(3)
    changes = {
        "edited_rows": {0: {"usd_per_hour": 0.5}},
        "added_rows": [
            {"instance_type": "ml.trn1.2xlarge", "usd_per_hour": 1.5, "region": "", "source": "me"},
            {},
        ],
        "deleted_rows": [1],
    }
    out = timing_page.apply_editor_changes(base, changes)
    assert list(out["instance_type"]) == [
        base["instance_type"][0],
        base["instance_type"][2],
        "ml.trn1.2xlarge",
    ]
    assert out["usd_per_hour"].tolist() == [0.5, base["usd_per_hour"][2], 1.5]
    pd.testing.assert_frame_equal(base, pricing.price_table_for(demo.demo_jobs()).head(3))  # input untouched


def test_latency_export_upload_replaces_demo_and_its_step_is_found() -> None:
    at = open_page(timing_tab=timing_page.TABS[2])
    at.file_uploader(key="timing_latency_upload").set_value(
        (LATENCY_SAMPLE.name, LATENCY_SAMPLE.read_bytes(), "application/json")
    ).run()
    assert not at.exception
    assert at.session_state["timing_latency_label"] == LATENCY_SAMPLE.name
    assert set(at.session_state["timing_latency"]["endpoint"]) == {"churn-ep"}
    summary = next(unescape(w.value) for w in at.warning if "ModelLatency p90" in unescape(w.value))
    assert "×1.50, 50% higher" in summary
    assert "starting at 2024-05-06 16:00 UTC" in summary


def test_bad_latency_upload_shows_error_and_keeps_the_loaded_latency() -> None:
    at = open_page(timing_tab=timing_page.TABS[2])
    uploader = at.file_uploader(key="timing_latency_upload")
    uploader.set_value((LATENCY_SAMPLE.name, LATENCY_SAMPLE.read_bytes(), "application/json")).run()
    before = at.session_state["timing_latency"].copy()
    bad = json.dumps({"Items": [1, 2]}).encode()
    at.file_uploader(key="timing_latency_upload").set_value(("broken.json", bad, "application/json")).run()
    assert not at.exception
    assert any("broken.json" in e.value for e in at.error)
    pd.testing.assert_frame_equal(at.session_state["timing_latency"], before)
    assert at.session_state["timing_latency_label"] == LATENCY_SAMPLE.name
    at.run()  # the error stays visible while the bad file is in the uploader, and nothing is re-read
    assert any("broken.json" in e.value for e in at.error)


def test_live_latency_uses_the_aws_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake(session: Any, endpoint: str, variant: str, start: Any, end: Any, **kw: Any) -> pd.DataFrame:
        calls.append((endpoint, variant, (end - start).total_seconds() / 3600, kw.get("endpoint_url")))
        return latency_files.read_latency_export(LATENCY_SAMPLE)

    monkeypatch.setattr(endpoint_latency, "load_endpoint_latency", fake)
    monkeypatch.setattr(aws_page, "aws_session", lambda profile, region, deadline=None: object())
    connection = {
        "profile": None,
        "region": "us-east-1",
        "endpoint": "http://127.0.0.1:9",
        "account": "1",
        "arn": "a",
    }
    at = open_page(aws_connection=connection, timing_tab=timing_page.TABS[2])
    at.text_input(key="timing_endpoint").input("churn-ep")
    at.number_input(key="timing_hours").set_value(12)
    next(b for b in at.button if b.label == "Load from CloudWatch").click().run()
    assert not at.exception
    assert calls == [("churn-ep", "AllTraffic", 12.0, "http://127.0.0.1:9")]
    assert at.session_state["timing_latency_label"] == "CloudWatch: churn-ep/AllTraffic, last 12 h"


def test_live_latency_error_is_shown_and_data_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kw: Any) -> pd.DataFrame:
        raise DataSourceError("Access denied: cloudwatch:GetMetricData.", hint="Ask your admin.")

    monkeypatch.setattr(endpoint_latency, "load_endpoint_latency", refuse)
    monkeypatch.setattr(aws_page, "aws_session", lambda profile, region, deadline=None: object())
    connection = {"profile": None, "region": "us-east-1", "endpoint": None, "account": "1", "arn": "a"}
    at = open_page(aws_connection=connection, timing_tab=timing_page.TABS[2])
    before = at.session_state["timing_latency"].copy()
    at.text_input(key="timing_endpoint").input("ep")
    next(b for b in at.button if b.label == "Load from CloudWatch").click().run()
    assert not at.exception
    assert any("Access denied" in e.value for e in at.error)
    pd.testing.assert_frame_equal(at.session_state["timing_latency"], before)


def test_no_jobs_gives_an_empty_state() -> None:
    from lib.schema import empty_jobs, empty_metrics

    at = open_page(jobs=empty_jobs(), metrics=empty_metrics(), is_demo=False)
    assert not at.exception
    assert any("No training jobs loaded" in i.value for i in at.info)


def test_uploaded_runs_without_phases_show_the_phase_note_and_still_cost() -> None:
    jobs = demo.demo_jobs()
    jobs = jobs.drop(columns=[c for c in jobs.columns if c.startswith("phase.")])
    jobs.loc[0, "instance_type"] = "ml.unknown.large"
    at = open_page(jobs=jobs)
    assert not at.exception
    assert any("No phase durations" in i.value for i in at.info)
    assert "Phases per run" not in titles(at)
    assert any("1 run(s) have no cost" in w.value for w in at.warning)
    assert np.isfinite(float(metrics(at)["Total cost"].strip("$").replace(",", "")))
