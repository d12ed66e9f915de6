"""AppTest of the Model Monitor page: demo, uploads of the shared samples, bad uploads, drift hand-off."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
from streamlit.testing.v1 import AppTest

from lib.analysis import monitor_checks
from lib.sources import monitor_files
from tests.support.paths import DATA, ROOT

MM = DATA / "model_monitor"
PAGE = "pages/5_Model_Monitor.py"
NAMES = ["age", "tenure_months", "monthly_charges", "plan"]
CAPTURE, STATISTICS, CONSTRAINTS = 0, 1, 2  # uploader order on the page


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE)
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def sample(name: str) -> tuple[str, bytes, str]:
    return (name, (MM / name).read_bytes(), "application/json")


def test_demo_shows_capture_problems_checks_and_baseline_on_first_open() -> None:
    at = open_page()
    assert not at.exception
    assert any("demo artifacts" in i.value for i in at.info)
    assert metrics(at) == {"Records read": "16", "Bad records": "3", "Rows (inferences)": "16"}
    assert any("capture_mixed.jsonl:7" in m.value.replace("\\", "") for m in at.markdown)
    frames = [df.value for df in at.dataframe]
    captured = frames[0]
    assert list(captured.columns[2:6]) == NAMES
    checks = next(f for f in frames if "constraint_check_type" in f.columns)
    assert (checks["status"] == "violation").sum() == 8
    assert any("8 violation(s)" in w.value for w in at.warning)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download constraint_violations.json" in labels
    assert len(at.get("vega_lite_chart")) == 1  # baseline against current, first feature


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
    # one capture_mixed.jsonl response is {"score": 0.6, "predicted_label": 1}: the label is kept
    assert list(current.columns) == [*NAMES, "prediction", "prediction_label"]
    assert len(current) == 16
    assert at.session_state["drift_current_label"].startswith("Model Monitor capture")
    at.button(key="monitor_use_baseline").click().run()
    assert not at.exception
    reference = at.session_state["drift_reference"]
    pd.testing.assert_frame_equal(
        reference, monitor_checks.baseline_reference(monitor_files.read_statistics(MM / "statistics.json"))
    )
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
