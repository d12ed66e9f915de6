"""The Drift summary file page opens a summary file (CLI's or Spark's) as the drift report."""

from __future__ import annotations

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from lib.drift.engine import plan_tests
from lib.drift.summary import summaries_of
from tests.support.paths import ROOT

PAGE = "pages/7_Drift_summary_file.py"


def _summary_bytes() -> bytes:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 3_000), "k": rng.choice(["a", "b"], 3_000)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, 3_000), "k": rng.choice(["a", "b"], 3_000)})
    _, kinds = plan_tests(ref, cur, columns=None, tests=None, kinds=None, exclude=[], names=("r", "c"))
    return summaries_of(ref, cur, kinds).to_json().encode()


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).switch_page(PAGE).run()


def test_a_summary_file_becomes_the_report() -> None:
    at = page()
    assert not at.exception
    assert at.info[0].value.startswith("Upload a `summaries.json`")
    at.file_uploader(key="summary_file_upload").set_value(
        ("summaries.json", _summary_bytes(), "application/json")
    )
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Columns drifted"] == "1 of 2"
    table = at.dataframe[0].value
    assert table.loc[table["column"] == "x", "status"].item() == "DRIFT"


def test_a_file_that_is_not_a_summary_is_an_error_box() -> None:
    at = page()
    at.file_uploader(key="summary_file_upload").set_value(("summaries.json", b'{"a": 1}', "application/json"))
    at.run()
    assert not at.exception
    assert "Not a Driftwatch drift-summary file" in at.error[0].value
