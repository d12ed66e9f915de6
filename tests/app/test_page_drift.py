"""AppTest: the Input drift and Prediction drift pages on the demo, with uploads and shared state."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import drift
from lib.demo import drift as demo_drift
from lib.ui import drift_page
from tests.support.paths import ROOT

INPUT = "pages/2_Input_drift.py"
PREDICTION = "pages/3_Prediction_drift.py"


def open_page(page: str, **state: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(page)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def uploader(at: AppTest, side: str):
    return next(u for u in at.file_uploader if u.label.lower().startswith(side))


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small reference/current pair in which only ``x`` shifts (by one sd)."""
    import numpy as np

    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 400), "colour": rng.choice(["red", "blue"], 400)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, 300), "colour": rng.choice(["red", "blue"], 300)})
    return ref, cur


def test_input_page_on_demo_shows_verdicts_sorted_by_effect_and_charts() -> None:
    at = open_page(INPUT)
    assert not at.exception, at.exception
    assert any("demo data" in i.value for i in at.info)
    assert metrics(at)["Columns drifted"] == "4 of 8"
    table = at.dataframe[0].value
    expected = drift.compare(
        demo_drift.demo_reference(), demo_drift.demo_current(), **demo_drift.DEMO_ROLES
    ).table
    assert list(table["column"]) == list(expected["column"])
    assert set(table["column"][:4]) == {"income", "basket_value", "plan", "is_mobile"}
    assert "churn_score" not in set(table["column"])  # the prediction is not an input
    assert "Benjamini-Hochberg" in at.caption[1].value or any("Benjamini" in c.value for c in at.caption)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1  # the overlay: the other tabs' charts are drawn when their tab is opened
    assert not at.error
    drawn = []
    for tab in ("Multivariate", "Over time"):
        at.session_state["drift_input_tab"] = tab
        drawn.append(len(at.run().get("vega_lite_chart")))
    assert drawn == [1, 1]  # classifier importance; heat map
    assert not at.exception, at.exception


def test_upload_both_sides_replaces_the_demo_and_results_match_compare(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    ref, cur = small
    at = open_page(INPUT)
    uploader(at, "reference").set_value(("train.csv", csv_bytes(ref), "text/csv")).run()
    uploader(at, "current").set_value(("prod.csv", csv_bytes(cur), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.session_state["drift_reference_label"] == "train.csv"
    assert at.session_state["drift_current_label"] == "prod.csv"
    assert any("train\\.csv" in s.value and "prod\\.csv" in s.value for s in at.success)  # md-escaped
    table = at.dataframe[0].value.set_index("column")
    assert table.loc["x", "status"] == "DRIFT"
    assert table.loc["colour", "status"] != "DRIFT"
    expected = drift.compare(ref, cur).table.set_index("column")
    assert table.loc["x", "effect_size"] == pytest.approx(expected.loc["x", "effect_size"], rel=1e-6)


def test_bad_uploads_show_errors_and_keep_the_data_in_use(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ref, cur = small
    at = open_page(INPUT)
    uploader(at, "current").set_value(("prod.csv", csv_bytes(cur), "text/csv")).run()
    uploader(at, "reference").set_value(("train.csv", csv_bytes(ref), "text/csv")).run()
    before = at.session_state["drift_current"].copy()
    uploader(at, "current").set_value(("one-row.csv", b"x,colour\n1.0,red\n", "text/csv")).run()
    assert not at.exception, at.exception
    assert any("one-row.csv" in e.value and "at least 2 rows" in e.value for e in at.error)
    pd.testing.assert_frame_equal(at.session_state["drift_current"], before)
    assert at.session_state["drift_current_label"] == "prod.csv"
    uploader(at, "current").set_value(
        ("page.json", b"<html>502 Bad Gateway</html>", "application/json")
    ).run()
    assert not at.exception, at.exception
    assert any("page.json" in e.value for e in at.error)
    assert at.dataframe[0].value["column"].tolist()  # results still shown for the kept data


def test_garbage_in_numeric_column_and_no_shared_columns_are_clear_errors(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    ref, _ = small
    garbage = pd.DataFrame({"x": ["n/a", "oops", "1.0"] * 20, "colour": ["red"] * 60})
    at = open_page(INPUT, drift_reference=ref, drift_current=garbage, drift_current_label="garbage.csv")
    assert not at.exception, at.exception
    assert any("should hold numbers" in e.value for e in at.error)
    other = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
    at = open_page(INPUT, drift_reference=ref, drift_current=other, drift_current_label="other.csv")
    assert not at.exception, at.exception
    assert any("share no columns" in e.value for e in at.error)
    assert at.button(key="drift_back_to_demo")  # the way out is offered


def test_back_to_demo_forgets_model_monitor_data(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ref, cur = small
    at = open_page(
        INPUT,
        drift_reference=ref,
        drift_current=cur,
        drift_current_label="Model Monitor capture: endpoint-a",
    )
    assert any("Model Monitor capture\\: endpoint\\-a" in s.value for s in at.success)
    at.button(key="drift_back_to_demo").click().run()
    assert not at.exception, at.exception
    assert "drift_current" not in at.session_state
    assert metrics(at)["Columns drifted"] == "4 of 8"


def test_per_column_test_override_comes_from_the_registry() -> None:
    at = open_page(INPUT)
    choice = next(s for s in at.selectbox if s.label == "Test for income")
    assert set(choice.options) == {
        "auto",
        *(f"{drift.TESTS[n].label} ({n})" for n in drift.tests_for_kind("numeric")),
    }
    choice.set_value("psi").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("column")
    assert table.loc["income", "test_label"] == drift.TESTS["psi"].label
    plan = next(s for s in at.selectbox if s.label == "Test for plan")
    assert "Kolmogorov-Smirnov (ks)" not in plan.options  # category menus hold category tests only


def test_alpha_and_threshold_widgets_change_the_verdicts() -> None:
    at = open_page(INPUT, drift_input_numeric=0.5, drift_input_categorical=0.5)  # widget keys preset
    assert at.number_input(key="drift_input_numeric").value == 0.5
    assert not at.exception, at.exception
    assert metrics(at)["Columns drifted"] == "0 of 8"
    assert any("0\\.5" in c.value and "Verdict rule" in c.value for c in at.caption)  # md-escaped


def test_prediction_page_on_demo_shows_score_drift_and_accuracy_in_about_ten_windows() -> None:
    """Issue 11: windows are chosen from the data (about ten, equal row counts, in time order), not
    one per calendar day whatever the data; per day is still one click away."""
    at = open_page(PREDICTION)
    assert not at.exception, at.exception
    assert metrics(at)["Verdict"] == "DRIFT"
    assert len(at.get("vega_lite_chart")) == 1  # the score distribution: the tab open on arrival
    at.session_state["drift_pred_tab"] = "Realised performance"
    at.run()
    perf = at.dataframe[0].value
    assert perf["window"].iloc[0] == "reference"
    assert len(perf) == 1 + 10  # the default: ten windows of equal row counts over the two weeks
    current = demo_drift.demo_current()
    assert perf["n"].iloc[1:].sum() == current["churned"].notna().sum()
    expected = drift.prediction_drift(
        demo_drift.demo_reference(), current, prediction="churn_score", label="churned",
        timestamp="event_time", n_windows=10,
    ).performance  # fmt: skip
    assert perf["value"].tolist() == pytest.approx(expected["value"].tolist())
    assert len(at.get("vega_lite_chart")) == 1  # accuracy per window (only the open tab is drawn)
    at.session_state["drift_pred_windows_period_True"] = "day"  # the "per day" option
    at.run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 1 + 14  # two weeks, one window per day


def test_prediction_page_leads_with_realised_performance_when_labels_exist() -> None:
    """Issue 11: with labels, the first answer is accuracy now vs reference with its interval and verdict."""
    at = open_page(PREDICTION)
    assert not at.exception, at.exception
    first = at.error[0].value  # "worse" is shown as an error box, before the class-mix verdict
    assert first.startswith("Realised accuracy")
    assert "65\\.0% now vs 69\\.8% in the reference" in first
    assert "95% interval" in first
    assert "performance is worse" in first


def test_prediction_page_without_label_explains_how_to_get_performance() -> None:
    at = open_page(PREDICTION, drift_pred_tab="Realised performance")
    label = next(s for s in at.selectbox if s.label == "Label")
    label.set_value("(none)").run()
    assert not at.exception, at.exception
    assert any("label column" in i.value for i in at.info)
    assert metrics(at)["Verdict"] == "DRIFT"
    assert not any(e.value.startswith("Realised") for e in at.error)  # no labels, no performance headline


def test_prediction_page_upload_with_class_predictions(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ref, cur = small
    ref = ref.assign(prediction=ref["colour"], label=ref["colour"])
    cur = cur.assign(prediction=cur["colour"], label=["red"] * len(cur))
    at = open_page(PREDICTION, drift_pred_tab="Realised performance")
    buf = io.BytesIO()
    ref.to_parquet(buf)
    uploader(at, "reference").set_value(("ref.parquet", buf.getvalue(), "application/octet-stream")).run()
    uploader(at, "current").set_value(
        ("cur.jsonl", cur.to_json(orient="records", lines=True).encode(), "application/json")
    ).run()
    assert not at.exception, at.exception
    perf = at.dataframe[0].value.set_index("window")
    assert perf.loc["reference", "value"] == 1.0
    windows = perf.drop(index="reference")  # no timestamp: windows by row count (30 rows each)
    assert windows["n"].tolist() == [30] * 10
    overall = (windows["value"] * windows["n"]).sum() / windows["n"].sum()
    assert overall == pytest.approx((cur["colour"] == "red").mean())


def test_verdict_rule_settings_survive_a_visit_to_another_page() -> None:
    at = open_page(INPUT)
    at.number_input(key="drift_input_numeric").set_value(0.5).run()  # numbers now need a 0.5 sd shift
    assert metrics(at)["Columns drifted"] == "2 of 8"
    at.switch_page("pages/1_Training_runs.py").run()
    assert not at.exception, at.exception
    at.switch_page(INPUT).run()
    assert not at.exception, at.exception
    assert at.number_input(key="drift_input_numeric").value == 0.5
    assert metrics(at)["Columns drifted"] == "2 of 8"


def test_a_new_upload_with_the_same_name_and_row_count_gets_a_new_report() -> None:
    """Streamlit hashes a 10,000-row sample of a large frame: the cached computations must be keyed
    on the content digest instead, or the second upload is served the first one's report."""
    import numpy as np

    rng = np.random.default_rng(11)
    n = 200_000
    ref = pd.DataFrame({"x": rng.normal(0, 1, 5_000), "colour": rng.choice(["red", "blue"], 5_000)})
    first = pd.DataFrame({"x": rng.normal(0, 1, n), "colour": rng.choice(["red", "blue"], n)})
    # 10 % of the rows move by 3 sd, none of them in the rows Streamlit's hasher samples (seed 0).
    sampled = first.sample(n=10_000, random_state=0).index
    moved = rng.choice(first.index.difference(sampled), n // 10, replace=False)
    second = first.copy()
    second.loc[moved, "x"] += 3.0
    assert first.loc[sampled].equals(second.loc[sampled])
    at = open_page(INPUT)
    uploader(at, "reference").set_value(("train.csv", csv_bytes(ref), "text/csv")).run()
    uploader(at, "current").set_value(("prod.csv", csv_bytes(first), "text/csv")).run()
    assert not at.exception, at.exception
    before = at.dataframe[0].value.set_index("column")
    at.session_state["drift_input_tab"] = "Multivariate"
    auc_before = metrics(at.run())["Held-out AUC"]
    at.session_state["drift_input_tab"] = "Columns"
    at.run()
    assert before.loc["x", "status"] == "no drift"
    uploader(at, "current").set_value(("prod.csv", csv_bytes(second), "text/csv")).run()
    assert not at.exception, at.exception
    after = at.dataframe[0].value.set_index("column")
    assert metrics(at)["Rows"] == "5,000 → 200,000"
    assert after.loc["x", "status"] == "DRIFT"
    assert after.loc["x", "effect_size"] == pytest.approx(
        drift.compare(ref, second).table.set_index("column").loc["x", "effect_size"], rel=1e-6
    )
    at.session_state["drift_input_tab"] = "Multivariate"
    assert metrics(at.run())["Held-out AUC"] != auc_before  # the domain classifier ran again


def test_the_content_digest_is_computed_once_per_upload(
    small: tuple[pd.DataFrame, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    ref, cur = small
    calls = {"content": 0, "frame": 0}
    content_digest, frame_digest = drift_page.content_digest, drift_page.frame_digest

    def counted_content(name: str, content: bytes) -> str:
        calls["content"] += 1
        return content_digest(name, content)

    def counted_frame(frame: pd.DataFrame) -> str:
        calls["frame"] += 1
        return frame_digest(frame)

    monkeypatch.setattr(drift_page, "content_digest", counted_content)
    monkeypatch.setattr(drift_page, "frame_digest", counted_frame)
    at = open_page(INPUT)
    uploader(at, "reference").set_value(("train.csv", csv_bytes(ref), "text/csv")).run()
    uploader(at, "current").set_value(("prod.csv", csv_bytes(cur), "text/csv")).run()
    at.session_state["drift_input_tab"] = "Signals"
    at.run().toggle(key="drift_input_only_flagged").set_value(False).run()
    at.number_input(key="drift_input_numeric").set_value(0.5).run()
    at.run()
    assert not at.exception, at.exception
    assert calls == {"content": 2, "frame": 0}  # one per upload, none on the six reruns
    # A frame put in the session by other code is hashed once, on the first run that uses it.
    at = open_page(INPUT, drift_reference=ref, drift_current=cur, drift_current_label="handed over")
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert calls == {"content": 2, "frame": 2}


def test_header_less_csv_note_is_shown(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ref, _ = small
    numbers = pd.DataFrame({"a": ref["x"], "b": ref["x"] * 2})
    at = open_page(INPUT)
    raw = numbers.to_csv(index=False, header=False).encode()
    uploader(at, "reference").set_value(("baseline.csv", raw, "text/csv")).run()
    uploader(at, "current").set_value(("current.csv", raw, "text/csv")).run()
    assert not at.exception, at.exception
    notes = [i.value.replace("\\", "") for i in at.info if "not a header" in i.value]
    assert len(notes) == 2
    assert notes[0].startswith("Reference (baseline.csv)")
    assert "_c0.._c1" in notes[0]


def test_input_drift_over_time_and_multivariate_tabs_on_demo() -> None:
    """Issue 11: about ten windows chosen from the data, time across the heat map, small windows named;
    the multivariate tab shows both checks with their thresholds, which one fired, and the verdict."""
    at = open_page(INPUT, drift_input_tab="Over time")
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "windows ×" in c.value)
    assert caption.startswith("10 windows × 8 columns")
    heat = next(
        json.loads(c.proto.spec)
        for c in at.get("vega_lite_chart")
        if "Drift per column and window" in json.dumps(json.loads(c.proto.spec).get("title"))
    )
    assert heat["layer"][0]["encoding"]["x"]["field"] == "window"  # time runs along x
    at.session_state["drift_input_tab"] = "Multivariate"
    at.run()
    checks = next(d.value for d in at.dataframe if "check" in d.value.columns)
    assert len(checks) == 2
    assert checks["threshold"].iloc[1].startswith("ratio ≥ 1.1 and p < 0.025")
    mv = drift.domain_classifier(
        demo_drift.demo_reference(),
        demo_drift.demo_current(),
        columns=list(
            drift.compare(demo_drift.demo_reference(), demo_drift.demo_current(), **demo_drift.DEMO_ROLES)
            .table["column"]
            .unique()
        ),
    )
    assert checks["fired"].tolist() == [mv.classifier_drifted, mv.pca_drifted]
    verdict = next(b.value for b in [*at.warning, *at.success] if "ultivariate drift" in b.value)
    assert ("fired by" in verdict) == mv.drifted
    at.session_state["drift_input_tab"] = "Over time"
    at.run()
    assert not any("too small" in i.value for i in at.info)  # ten windows of 300 rows each
    at.session_state["drift_input_windows_period_True"] = "hour"  # about 9 rows an hour
    at.run()
    assert not at.exception, at.exception
    assert any("too small to judge" in i.value for i in at.info)


def test_input_drift_computes_only_the_open_tab() -> None:
    """Issue 16: nothing is computed for a tab that is not open. On arrival the Columns tab is drawn;
    the classifier, the window grid and the exports are not; opening a tab computes it."""
    at = open_page(INPUT)
    assert not at.exception, at.exception
    assert at.dataframe
    assert "column" in at.dataframe[0].value.columns
    assert not any("windows ×" in c.value for c in at.caption)
    assert not any("ultivariate drift" in b.value for b in [*at.warning, *at.success])
    assert not at.get("download_button") or all(b.label != "HTML report" for b in at.get("download_button"))
    at.session_state["drift_input_tab"] = "Multivariate"
    at.run()
    assert any("ultivariate drift" in b.value for b in [*at.warning, *at.success])
    assert not any("windows ×" in c.value for c in at.caption)
