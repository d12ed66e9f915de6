"""AppTest: names from the data are shown literally: no Markdown/LaTeX from column or file names in
labels, and no escape backslashes where Markdown escapes are not undone (code spans)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from lib.ui.frame import md_code
from tests.support.paths import ROOT

NAMES = ["tenure_months", "$x^2$", "**bold**", "a`b"]


def test_md_code_is_literal() -> None:
    assert md_code("tenure_months") == "`tenure_months`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x") == "`` `x ``"


def test_drift_column_names_shown_without_escapes_and_labels_without_markup() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({name: rng.normal(size=60) for name in NAMES})
    data = frame.to_csv(index=False).encode()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/2_Input_drift.py")
    at.run()
    for u in at.file_uploader:
        u.set_value(("$pwn$ **x**.csv", data, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    shown = {m.value for m in at.markdown}
    assert "`tenure_months`" in shown
    assert "`$x^2$`" in shown
    assert "``a`b``" in shown
    assert not any("\\_" in v for v in shown if v.startswith("`"))
    labels = {s.label for s in at.selectbox}
    assert "Kind of \\$x^2\\$" in labels
    assert "Kind of \\*\\*bold\\*\\*" in labels
    status = next(s.value for s in at.success if "Reference:" in s.value)
    assert "\\$pwn\\$ \\*\\*x\\*\\*\\.csv" in status
