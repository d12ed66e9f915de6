"""AppTest: how data flows into the drift pages: one side at a time, what the sidebar says, literal
names and format names, and loaded data surviving a page reload (a session key in the URL)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.schema import validate_metrics
from lib.sources import FORMATS
from lib.ui import data_page, frame
from lib.ui.session_store import SessionStore
from tests.support.paths import DATA, ROOT

INPUT = "pages/2_Input_drift.py"
PREDICTION = "pages/3_Prediction_drift.py"
SAMPLES = DATA / "model_monitor"


def csv_bytes(frame_: pd.DataFrame) -> bytes:
    return frame_.to_csv(index=False).encode()


def uploader(at: AppTest, side: str):  # type: ignore[no-untyped-def]
    return next(u for u in at.file_uploader if u.label.lower().startswith(side))


def page(path: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(path)
    at.query_params.update(query or {})
    return at.run()


def sidebar_texts(at: AppTest) -> list[str]:
    return [e.value for e in [*at.sidebar.info, *at.sidebar.success]]


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 300), "colour": rng.choice(["red", "blue"], 300)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, 200), "colour": rng.choice(["red", "blue"], 200)})
    return ref, cur


@pytest.mark.parametrize("path", [INPUT, PREDICTION])
def test_reference_first_waits_for_the_current_data_instead_of_using_the_demo(
    small: tuple[pd.DataFrame, pd.DataFrame], path: str
) -> None:
    ref, cur = small
    at = page(path)
    uploader(at, "reference").set_value(("train.csv", csv_bytes(ref), "text/csv")).run()
    assert not at.exception, at.exception
    waiting = [i.value for i in at.info if "now add the current data" in i.value]
    assert waiting, [i.value for i in at.info]
    assert waiting[0].startswith("**Reference loaded; now add the current data.**")
    assert "train\\.csv · 300 rows" in waiting[0]
    assert not at.metric  # nothing was tested
    assert not at.dataframe
    assert not at.get("vega_lite_chart")
    assert any("waiting for the current" in t for t in sidebar_texts(at))
    uploader(at, "current").set_value(("prod.csv", csv_bytes(cur), "text/csv")).run()
    assert not at.exception, at.exception
    assert not any("now add" in i.value for i in at.info)
    assert at.metric  # now it compares
    sidebar = sidebar_texts(at)
    assert any(
        "reference **train\\.csv** (300 rows)" in t and "current **prod\\.csv** (200 rows)" in t
        for t in sidebar
    )


def test_current_first_waits_for_the_reference(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    at = page(INPUT)
    uploader(at, "current").set_value(("prod.csv", csv_bytes(small[1]), "text/csv")).run()
    assert any(i.value.startswith("**Current loaded; now add the reference data.**") for i in at.info)
    assert not at.metric
    at.button(key="drift_back_to_demo").click().run()
    assert any("You are looking at demo data" in i.value for i in at.info)


def test_sidebar_says_which_data_this_page_uses() -> None:
    at = page(INPUT)
    texts = sidebar_texts(at)
    assert any("Drift: **demo data**" in t for t in texts)
    assert not any("Training metrics" in t for t in texts)  # this page does not use them
    at.switch_page("pages/1_Training_runs.py").run()
    texts = sidebar_texts(at)
    assert any(t.startswith("Training metrics") for t in texts)
    assert not any(t.startswith("Drift") for t in texts)
    assert "This page uses" in [c.value for c in at.sidebar.caption]
    at.switch_page("pages/5_Model_Monitor.py").run()  # shows what is loaded, but not as its own data
    captions = [c.value for c in at.sidebar.caption]
    assert "Loaded in this session" in captions
    assert "This page uses" not in captions


def test_format_names_and_error_messages_are_literal_markdown() -> None:
    assert frame.md_literal("Loggly grid CSV (json.* columns)") == "Loggly grid CSV (json.\\* columns)"
    assert frame.md_literal("SageMaker TrainingJobAnalytics CSV (export_csv)").endswith("(export_csv)")
    assert frame.md_literal("_x_ **b** $y$ [l](u) :material/bolt:") == (
        "\\_x\\_ \\*\\*b\\*\\* \\$y\\$ \\[l\\](u) \\:material/bolt:"
    )
    assert frame.md_literal("# 1. - x\n2) y") == "\\# 1. - x\n2\\) y"
    help_text = data_page.formats_help()
    assert "json\\.\\* columns" in help_text  # the Data page's help tooltip (Markdown)
    assert all(frame.md_escape(label) in help_text for label in FORMATS.values())

    def script() -> None:
        from lib import errors, ui

        with ui.friendly_errors():
            raise errors.InputError("**x**_y_.csv: nothing usable.", hint="Try `$HOME`.")

    at = AppTest.from_function(script).run()
    assert at.error[0].value == "\\*\\*x\\*\\*\\_y\\_.csv: nothing usable."
    assert at.caption[0].value == "Try \\`\\$HOME\\`."


# ---------------------------------------------------------------- reload


def test_store_keeps_by_token_expires_and_caps_size() -> None:
    now = [0.0]
    store = SessionStore(ttl_s=60, max_session_bytes=10_000, max_bytes=25_000, clock=lambda: now[0])
    small = pd.DataFrame({"x": np.arange(100, dtype=np.float64)})  # ~ 1 kB
    assert store.save("a" * 22, {"metrics": small})
    assert store.load("a" * 22)["metrics"].equals(small)  # type: ignore[index]
    assert store.load("b" * 22) is None
    now[0] = 61.0
    assert store.load("a" * 22) is None  # past the time limit
    big = pd.DataFrame({"x": np.arange(2_000, dtype=np.float64)})  # ~ 16 kB
    assert not store.save("c" * 22, {"metrics": big})  # over the per-session cap: not kept
    assert store.load("c" * 22) is None
    mid = pd.DataFrame({"x": np.arange(1_000, dtype=np.float64)})  # ~ 8 kB
    for i, token in enumerate(("d" * 22, "e" * 22, "f" * 22, "g" * 22)):
        now[0] = 100.0 + i
        assert store.save(token, {"metrics": mid.copy()})
    assert store.total_bytes <= 25_000  # the oldest were dropped to stay under the cap
    assert store.load("d" * 22) is None
    assert store.load("g" * 22) is not None


def test_loaded_drift_data_survives_a_reload_and_the_key_is_used_once(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    ref, cur = small
    at = page(INPUT)
    token = at.query_params[frame.SESSION_PARAM]
    assert isinstance(token, str)
    assert len(token) == 22
    uploader(at, "reference").set_value(("train.csv", csv_bytes(ref), "text/csv")).run()
    uploader(at, "current").set_value(("prod.csv", csv_bytes(cur), "text/csv")).run()
    assert at.session_state["drift_current_label"] == "prod.csv"
    # A reload: a new session (empty state) arriving with the same URL.
    again = page(INPUT, {frame.SESSION_PARAM: token})
    assert not again.exception, again.exception
    assert again.session_state["drift_reference_label"] == "train.csv"
    assert again.session_state["drift_current_label"] == "prod.csv"
    assert any("train\\.csv" in s.value and "prod\\.csv" in s.value for s in again.success)
    assert again.metric  # compared, not waiting
    new_token = again.query_params[frame.SESSION_PARAM]
    assert new_token != token  # the key was used once: a copied old link opens on the demo
    stale = page(INPUT, {frame.SESSION_PARAM: token})
    assert any("You are looking at demo data" in i.value for i in stale.info)
    assert "drift_current" not in stale.session_state


def test_training_metrics_survive_a_reload_and_a_bad_key_is_ignored() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    content = (ROOT / "tests" / "data" / "training_log_xgboost.txt").read_bytes()
    at.file_uploader[0].set_value(("my-xgb-job.txt", content, "text/plain")).run()
    assert at.session_state["is_demo"] is False
    token = at.query_params[frame.SESSION_PARAM]
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params[frame.SESSION_PARAM] = token
    again.run()
    assert again.session_state["is_demo"] is False
    assert set(again.session_state["metrics"]["job"]) == {"my-xgb-job"}
    forged = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    forged.query_params[frame.SESSION_PARAM] = "../../etc/passwd"
    forged.run()
    assert not forged.exception
    assert forged.session_state["is_demo"] is True
    assert forged.query_params[frame.SESSION_PARAM] != "../../etc/passwd"


def test_model_monitor_uploads_survive_a_reload() -> None:
    name = "data_capture_sample.jsonl"
    content = (SAMPLES / name).read_bytes()
    at = page("pages/5_Model_Monitor.py")
    at.file_uploader[0].set_value([(name, content, "application/json")]).run()
    assert not at.exception, at.exception
    assert at.session_state["monitor_files"]["capture"][0][0] == name
    again = page("pages/5_Model_Monitor.py", {frame.SESSION_PARAM: at.query_params[frame.SESSION_PARAM]})
    assert not again.exception, again.exception
    assert again.session_state["monitor_files"]["capture"][0][0] == name
    assert not any("demo artifacts" in i.value for i in again.info)


def test_run_flags_name_runs_and_metrics_literally() -> None:
    t0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")
    rows = [
        {"job": f"**run**_{j}", "metric": "*val*_acc", "timestamp": t0 + pd.Timedelta(hours=6 * j, minutes=e),
         "value": 0.5 + 0.05 * e, "epoch": e}
        for j in range(3) for e in range(4)
    ]  # fmt: skip
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/1_Training_runs.py")
    at.session_state["metrics"] = validate_metrics(pd.DataFrame(rows))
    at.session_state["is_demo"] = False
    at.run()
    assert not at.exception, at.exception
    summary = [b.value for b in [*at.success, *at.warning] if "val" in b.value]
    assert summary
    assert all("\\*val\\*\\_acc" in v for v in summary)
