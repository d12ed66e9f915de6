"""AppTest of the Data page: its title, the link to the runs chart, repeated files, metadata-only files."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib import ui
from tests.support.paths import DATA, ROOT

LOG = (DATA / "training_log_xgboost.txt").read_bytes()


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def runs_links(at: AppTest) -> list[str]:
    """Labels of page links to the Training runs page in the main area (the sidebar has its own)."""
    return [p.proto.label for p in at.main.get("page_link") if p.proto.page == "Training_runs"]


def test_title_matches_the_navigation_label() -> None:
    at = app().run()
    assert at.title[0].value == ui.PAGES[0].label == "Data"


def test_successful_upload_links_straight_to_the_runs_chart() -> None:
    at = app().run()
    assert runs_links(at) == []
    at.file_uploader[0].set_value(("my-job.txt", LOG, "text/plain")).run()
    assert not at.exception
    assert runs_links(at) == ["See the runs chart"]


def test_same_bytes_under_another_name_name_the_new_file_and_the_original() -> None:
    at = app().run()
    first = ("first.txt", LOG, "text/plain")
    at.file_uploader[0].set_value(first).run()
    before = at.session_state["metrics"].copy()
    at.file_uploader[0].set_value([first, ("copy-of-first.txt", LOG, "text/plain")]).run()
    assert not at.exception
    (note,) = [i.value for i in at.info if "copy" in i.value]
    assert note.startswith("copy\\-of\\-first\\.txt") or note.startswith("copy-of-first.txt")
    assert "Same content as first" in note.replace("\\", "")
    assert len(at.session_state["metrics"]) == len(before)  # nothing merged twice
    names = [s["file"] for s in at.session_state["sources"]]
    assert names[0] == "first.txt"
    assert names[-1] == "copy-of-first.txt"  # the new name is listed, not the original's again


def test_dropped_twice_at_once_names_both() -> None:
    at = app().run()
    at.file_uploader[0].set_value([("a.txt", LOG, "text/plain"), ("b.txt", LOG, "text/plain")]).run()
    assert not at.exception
    assert [s["file"] for s in at.session_state["sources"]] == ["a.txt", "b.txt"]
    assert any("Same content as a" in i.value.replace("\\", "") for i in at.info)


def test_a_jobs_list_alone_keeps_the_demo() -> None:
    at = app().run()
    demo = at.session_state["metrics"].copy()
    jobs = ("jobs.json", (DATA / "list_training_jobs.json").read_bytes(), "application/json")
    at.file_uploader[0].set_value(jobs).run()
    assert not at.exception
    assert at.session_state["is_demo"] is True
    assert len(at.session_state["metrics"]) == len(demo)
    assert any("The demo stays until you add metrics" in s.value for s in at.success)
    assert len(at.session_state["data_pending_jobs"]) == 3
    # The first metrics then replace the demo and bring the waiting jobs along.
    at.file_uploader[0].set_value([jobs, ("my-job.txt", LOG, "text/plain")]).run()
    assert at.session_state["is_demo"] is False
    assert len(at.session_state["jobs"]) == 3
    assert "data_pending_jobs" not in at.session_state


def test_counts_are_in_correct_plurals() -> None:
    at = app().run()
    at.file_uploader[0].set_value(("one.txt", LOG, "text/plain")).run()
    (message,) = [s.value for s in at.success if "read as" in s.value]
    assert "from 1 run." in message
