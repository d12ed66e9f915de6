"""AppTest: every page runs on the demo data and on uploaded data, without an exception."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.ui import runs_page
from tests.support.paths import DATA, ROOT

PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def charts(at: AppTest) -> list[dict[str, object]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def test_data_page_starts_on_demo_data() -> None:
    at = app().run()
    assert not at.exception
    assert at.session_state["is_demo"] is True
    assert at.session_state["metrics"]["job"].nunique() >= 10
    assert any("demo data" in info.value for info in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_demo_data(page: str) -> None:
    at = app().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_when_opened_first(page: str) -> None:
    """A page run without app.py first (as on a cold deep link) still sets up state and sidebar."""
    at = app()
    at.switch_page(page).run()  # the first run of this session is the page itself, not app.py
    assert not at.exception, at.exception
    assert at.session_state["is_demo"] is True


def test_training_runs_page_shows_both_charts_and_table() -> None:
    at = app().run()
    at.switch_page("pages/1_Training_runs.py").run()
    assert not at.exception
    drawn = []
    for tab in runs_page.TABS:  # one tab open at a time: only its chart or table is drawn
        at.session_state["runs_tab"] = tab
        at.run()
        assert not at.exception
        drawn.append(len(charts(at)))
    assert drawn == [1, 1, 0]
    table = at.dataframe[0].value  # Runs table (open), then the flags
    assert len(table) == at.session_state["metrics"]["job"].nunique()


def test_upload_replaces_demo_and_is_reported() -> None:
    at = app().run()
    content = (DATA / "training_log_xgboost.txt").read_bytes()
    at.file_uploader[0].set_value(("my-xgb-job.txt", content, "text/plain")).run()
    assert not at.exception
    assert at.session_state["is_demo"] is False
    assert set(at.session_state["metrics"]["job"]) == {"my-xgb-job"}
    assert any("read as" in s.value for s in at.success)


def test_broken_upload_shows_error_and_keeps_loaded_data() -> None:
    at = app().run()
    good = ("run-1.txt", (DATA / "training_log_xgboost.txt").read_bytes(), "text/plain")
    at.file_uploader[0].set_value(good).run()
    before = at.session_state["metrics"].copy()
    broken = ("broken.csv", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "text/csv")
    at.file_uploader[0].set_value([good, broken]).run()
    assert not at.exception
    assert any("broken.csv" in e.value for e in at.error)
    pd.testing.assert_frame_equal(at.session_state["metrics"], before)


def test_empty_state_when_no_metrics() -> None:
    from lib.schema import empty_jobs, empty_metrics

    at = app()
    at.switch_page("pages/1_Training_runs.py")
    at.session_state["metrics"] = empty_metrics()
    at.session_state["jobs"] = empty_jobs()
    at.session_state["is_demo"] = False
    at.run()
    assert not at.exception
    assert any("No metrics loaded" in i.value for i in at.info)


def test_friendly_errors_shows_message_not_traceback() -> None:
    def script() -> None:
        from lib import ui
        from lib.errors import InputError

        with ui.friendly_errors():
            raise InputError("bad.csv: nothing usable.", hint="Expected a metrics export.")

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert at.error[0].value == "bad.csv: nothing usable."
    assert at.caption[0].value == "Expected a metrics export."


def test_training_runs_choices_survive_a_visit_to_another_page() -> None:
    at = app().run()
    at.switch_page("pages/1_Training_runs.py").run()
    at.selectbox(key="runs_metric").select("train:cross_entropy").run()
    at.session_state["runs_tab"] = runs_page.TABS[1]  # the smoothing controls are on By epoch
    at.run()
    at.segmented_control(key="runs_smooth_method").set_value("Moving window").run()
    at.slider(key="runs_smoothing").set_value(7).run()
    at.switch_page("app.py").run()
    at.switch_page("pages/1_Training_runs.py").run()
    at.session_state["runs_tab"] = runs_page.TABS[1]
    at.run()
    assert not at.exception
    assert at.selectbox(key="runs_metric").value == "train:cross_entropy"
    assert at.slider(key="runs_smoothing").value == 7


def test_remembered_metric_missing_from_new_data_falls_back_to_the_default() -> None:
    at = app().run()
    at.switch_page("pages/1_Training_runs.py").run()
    at.selectbox(key="runs_metric").select("train:cross_entropy").run()
    at.switch_page("app.py").run()
    content = (DATA / "training_log_xgboost.txt").read_bytes()
    at.file_uploader[0].set_value(("xgb.txt", content, "text/plain")).run()
    at.switch_page("pages/1_Training_runs.py").run()
    assert not at.exception
    assert at.selectbox(key="runs_metric").value in set(at.session_state["metrics"]["metric"])
