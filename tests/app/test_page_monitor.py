"""AppTest of the Model Monitor page: demo, uploads of the shared samples, bad uploads, drift hand-off."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pandas as pd
from streamlit.testing.v1 import AppTest

from lib.analysis import monitor_checks
from lib.demo.drift import DEMO_FEATURES
from lib.demo.monitor import DEMO_DIR
from lib.demo.story import DEMO_ENDPOINT
from lib.sources import monitor_files
from lib.ui import monitor_page
from tests.support.paths import DATA, ROOT

MM = DATA / "model_monitor"
REAL = DATA / "real" / "model_monitor"
PAGE = "pages/5_Model_Monitor.py"
NAMES = ["age", "tenure_months", "monthly_charges", "plan"]  # the shared samples' features
DEMO_NAMES = list(DEMO_FEATURES)  # the demo's: the drift demo's churn model
CAPTURE, STATISTICS, CONSTRAINTS, VIOLATIONS = 0, 1, 2, 3  # uploader order on the page


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE)
    return at.run()


def open_tab(at: AppTest, index: int) -> AppTest:
    """Open one of the page's tabs (only the open tab runs), as a click on it does."""
    at.session_state["monitor_tab"] = monitor_page.TABS[index]
    return at.run()


TAB_CAPTURE, TAB_CHECKS, TAB_HISTORY, TAB_BASELINE = 0, 1, 2, 3


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def sample(name: str) -> tuple[str, bytes, str]:
    return (name, (MM / name).read_bytes(), "application/json")


def test_demo_shows_capture_problems_checks_and_baseline_each_in_its_tab() -> None:
    at = open_page()
    assert not at.exception
    assert any("demo artifacts" in i.value and DEMO_ENDPOINT in i.value for i in at.info)
    assert metrics(at) == {"Records read": "16", "Bad records": "3", "Rows (inferences)": "16"}
    assert any("capture_mixed.jsonl:7" in m.value.replace("\\", "") for m in at.markdown)
    captured = at.dataframe[0].value
    assert list(captured.columns[2:10]) == DEMO_NAMES
    # Issue 16: nothing is computed or drawn for a tab that is not open (the checks run a drift report).
    assert not any("constraint_check_type" in df.value.columns for df in at.dataframe)
    assert len(at.get("vega_lite_chart")) == 0
    open_tab(at, TAB_CHECKS)
    assert not at.exception
    frames = [df.value for df in at.dataframe]
    checks = next(f for f in frames if "constraint_check_type" in f.columns)
    # 8 completeness (the output-only record), 4 distances, 1 domain (May's new "trial" plan)
    assert (checks["status"] == "violation").sum() == 13
    assert any("13 violation(s)" in w.value for w in at.warning)
    domain = checks.loc[checks["constraint_check_type"] == "categorical_values_check"]
    assert domain.set_index("feature_name").loc["plan", "status"] == "violation"
    # Issue 11: the 16-record checks carry the small-sample caveat and meet the Input drift page's verdicts.
    assert (
        checks.loc[checks["constraint_check_type"] == "baseline_drift_check", "note"]
        .str.startswith("Small sample")
        .all()
    )
    assert any(w.value.startswith("Small sample\\: 8 of the 8 baseline distance checks") for w in at.warning)
    agreement = next(f for f in frames if "drift_status" in f.columns).set_index("feature_name")
    flagged = agreement.loc[agreement["model_monitor"] == "violation"].drop("plan")
    assert set(flagged["drift_status"]) <= {"could not tell", "not detected"}
    assert flagged["why"].str.startswith("Differ by design").all()
    assert agreement.loc["plan", "drift_status"] == "drift"  # both see the new plan
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download constraint_violations.json" in labels
    assert len(at.get("vega_lite_chart")) == 0
    # violations history (checks per hour of the demo capture), then baseline against current
    for tab in (TAB_HISTORY, TAB_BASELINE):
        open_tab(at, tab)
        assert not at.exception
        assert len(at.get("vega_lite_chart")) == 1
    assert not any("constraint_check_type" in df.value.columns for df in at.dataframe)


def test_uploading_the_shared_samples_replaces_the_demo() -> None:
    at = open_page()
    at.file_uploader[STATISTICS].set_value(sample("statistics.json")).run()
    at.file_uploader[CONSTRAINTS].set_value(sample("constraints.json")).run()
    at.file_uploader[CAPTURE].set_value([sample("data_capture_sample.jsonl")]).run()
    assert not at.exception
    assert not any("demo artifacts" in i.value for i in at.info)
    assert metrics(at) == {"Records read": "6", "Bad records": "0", "Rows (inferences)": "6"}
    captured = at.dataframe[0].value
    assert list(captured.columns[2:6]) == NAMES  # named by the uploaded statistics.json
    open_tab(at, TAB_CHECKS)
    checks = next(df.value for df in at.dataframe if "constraint_check_type" in df.value.columns)
    expected = monitor_checks.check_constraints(
        captured,
        monitor_files.read_constraints(MM / "constraints.json"),
        monitor_files.read_statistics(MM / "statistics.json"),
    )
    pd.testing.assert_frame_equal(checks.reset_index(drop=True), expected.table)


def test_a_zip_of_capture_files_is_read() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "AllTraffic/2024/05/06/13/00-05-000-a.jsonl", (MM / "data_capture_sample.jsonl").read_bytes()
        )
        z.writestr("AllTraffic/2024/05/06/14/00-00-000-b.jsonl", (MM / "capture_mixed.jsonl").read_bytes())
    at = open_page()
    at.file_uploader[CAPTURE].set_value([("capture.zip", buf.getvalue(), "application/zip")]).run()
    assert not at.exception
    assert metrics(at)["Records read"] == "16"
    assert metrics(at)["Bad records"] == "3"


def test_bad_uploads_show_an_error_and_keep_what_was_loaded() -> None:
    at = open_page()
    at.file_uploader[CAPTURE].set_value([sample("data_capture_sample.jsonl")]).run()
    before = metrics(at)
    html = ("broken.jsonl", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "application/json")
    at.file_uploader[CAPTURE].set_value([html]).run()
    assert not at.exception
    assert any("broken.jsonl" in e.value and "no usable data capture record" in e.value for e in at.error)
    assert metrics(at) == before
    # A constraints.json dropped in the statistics slot is refused with a clear message.
    at.file_uploader[STATISTICS].set_value(sample("constraints.json")).run()
    assert not at.exception
    assert any("looks like a constraints.json" in e.value for e in at.error)
    assert metrics(at) == before
    assert "statistics" not in at.session_state["monitor_files"]


def test_buttons_hand_capture_and_baseline_to_the_drift_pages() -> None:
    at = open_page()
    at.button(key="monitor_use_capture").click().run()
    assert not at.exception
    current = at.session_state["drift_current"]
    # one capture_mixed.jsonl response is {"score": 0.1143, "predicted_label": 0}: the label is kept
    assert list(current.columns) == [*DEMO_NAMES, "prediction", "prediction_label"]
    assert len(current) == 16
    assert at.session_state["drift_current_label"].startswith("Model Monitor capture")
    open_tab(at, TAB_BASELINE)
    at.button(key="monitor_use_baseline").click().run()
    assert not at.exception
    reference = at.session_state["drift_reference"]
    baseline = monitor_files.read_statistics(DEMO_DIR / "statistics.json")
    pd.testing.assert_frame_equal(reference, monitor_checks.baseline_reference(baseline))
    assert "statistics.json" in at.session_state["drift_reference_label"]


def test_back_to_demo_forgets_uploads() -> None:
    at = open_page()
    at.file_uploader[CAPTURE].set_value([sample("data_capture_sample.jsonl")]).run()
    assert metrics(at)["Records read"] == "6"
    next(b for b in at.button if b.label.startswith("Forget the uploads")).click().run()
    assert not at.exception
    assert metrics(at)["Records read"] == "16"
    assert any("demo artifacts" in i.value for i in at.info)


def test_removing_a_rejected_file_clears_its_error_and_keeps_the_data() -> None:
    at = open_page()
    at.file_uploader[STATISTICS].set_value(sample("constraints.json")).run()
    assert at.error
    at.file_uploader[STATISTICS].clear().run()
    assert not at.exception
    assert not at.error
    assert metrics(at)["Records read"] == "16"


def history_totals(at: AppTest) -> pd.DataFrame:
    return next(
        df.value for df in at.dataframe if list(df.value.columns) == ["execution", "violations", "features"]
    )


def test_demo_violations_history_is_computed_per_hour_of_the_capture() -> None:
    at = open_tab(open_page(), TAB_HISTORY)
    assert any("computed here on each hour" in c.value.replace("\\", "") for c in at.caption)
    totals = history_totals(at)
    assert totals["execution"].tolist() == ["2024-05-06 13:00 UTC", "2024-05-06 14:00 UTC"]
    assert totals["violations"].tolist() == [7, 17]


def test_violations_files_give_a_history_and_a_wrong_file_is_refused() -> None:
    # As S3 writes them: every execution's file is called constraint_violations.json.
    first = (
        "constraint_violations.json",
        (MM / "constraint_violations.json").read_bytes(),
        "application/json",
    )
    taxi = (REAL / "constraint_violations_taxi.json").read_bytes()
    second = ("constraint_violations.json", taxi, "application/json")
    at = open_tab(open_page(), TAB_HISTORY)
    at.file_uploader[VIOLATIONS].set_value([first, second]).run()
    assert not at.exception
    assert not at.error
    assert not any("demo artifacts" in i.value for i in at.info)
    assert any("2 monitoring execution(s) read" in c.value.replace("\\", "") for c in at.caption)
    totals = history_totals(at)
    executions = ["#1 constraint_violations.json", "#2 constraint_violations.json"]
    assert totals["execution"].tolist() == executions
    assert totals["violations"].tolist() == [2, len(json.loads(taxi)["violations"])]
    table = next(df.value for df in at.dataframe if "constraint_check_type" in df.value.columns)
    assert table["execution"].drop_duplicates().tolist() == executions
    assert set(table.loc[table["execution"] == executions[0], "feature_name"]) == {"monthly_charges", "age"}
    assert len(at.get("vega_lite_chart")) == 1  # the history; no capture, no baseline
    # A statistics.json in the violations slot: a clear error, the history kept.
    at.file_uploader[VIOLATIONS].set_value([sample("statistics.json")]).run()
    assert not at.exception
    assert any(
        "statistics.json" in e.value and "not a constraint_violations.json" in e.value for e in at.error
    )
    assert any("violations file was not used" in c.value for c in at.caption)
    pd.testing.assert_frame_equal(history_totals(at), totals)
    assert len(at.session_state["monitor_files"]["violations"]) == 2


def test_one_violations_file_without_violations_shows_an_empty_execution() -> None:
    empty = ("constraint_violations.json", b'{"violations": []}', "application/json")
    at = open_tab(open_page(), TAB_HISTORY)
    at.file_uploader[VIOLATIONS].set_value([empty]).run()
    assert not at.exception
    assert history_totals(at)["violations"].tolist() == [0]
    assert any("No violations in any execution" in s.value for s in at.success)


def _statistics_with_label_and_unknown_plan() -> bytes:
    """The sample statistics.json with a label column first (the capture then holds one value fewer)
    and no distribution for the string feature ``plan``."""
    doc = json.loads((MM / "statistics.json").read_bytes())
    label = copy.deepcopy(doc["features"][0])
    label["name"] = "churned"
    doc["features"].insert(0, label)
    plan = next(f for f in doc["features"] if f["name"] == "plan")
    del plan["string_statistics"]["distribution"]
    return json.dumps(doc).encode()


def test_reader_notes_are_shown_here_and_on_the_drift_page() -> None:
    at = open_page()
    at.file_uploader[STATISTICS].set_value(
        ("statistics.json", _statistics_with_label_and_unknown_plan(), "application/json")
    ).run()
    at.file_uploader[CAPTURE].set_value([sample("data_capture_sample.jsonl")]).run()
    assert not at.exception
    note = "the baseline's first column 'churned' is the label"
    assert any(note in i.value.replace("\\", "") for i in at.info)
    at.button(key="monitor_use_capture").click().run()
    open_tab(at, TAB_BASELINE)
    at.button(key="monitor_use_baseline").click().run()
    assert not at.exception
    at.switch_page("pages/2_Input_drift.py").run()
    assert not at.exception, at.exception
    shown = [i.value.replace("\\", "") for i in at.info]
    assert any(note in v and v.startswith("Current (Model Monitor capture") for v in shown)
    assert any("no distribution for the string feature(s) plan" in v for v in shown)
