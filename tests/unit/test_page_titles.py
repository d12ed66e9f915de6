"""Every page's title is the words of its sidebar link (issue 12: "the page title matches its label")."""

from __future__ import annotations

import ast

import pytest

from lib.ui.frame import PAGES
from tests.support.paths import ROOT


def _calls(path: str) -> dict[str, str]:
    """The first string argument of ``ui.setup_page(...)`` and ``st.title(...)`` in a page script."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(node.func.attr, arg.value)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.label)
def test_page_title_is_its_sidebar_label(page: object) -> None:
    calls = _calls(page.path)  # type: ignore[attr-defined]
    assert calls["setup_page"] == page.label  # type: ignore[attr-defined]
    assert calls["title"] == page.label  # type: ignore[attr-defined]
