"""Load the browser code for charts and tables while a page computes, not after.

Streamlit fetches the code that draws an Altair chart (Vega-Lite: about 1.5 MB of JavaScript) and a
data frame (about 1.2 MB) only when the first such element arrives, i.e. after the page's work is
done; in a fresh browser that costs most of a second between "the run ended" and "the chart is
drawn" (``benchmarks/bench_pages.py``). A small script sent with the sidebar imports those modules
at once, so they are parsed while the server computes. The module file names carry content hashes,
so they are read from the installed Streamlit at start-up; if a Streamlit release renames them, the
script imports nothing and pages draw as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import streamlit as st

#: Entry modules of the renderers every page uses, in the order they are needed.
RENDERERS: Final = ("ArrowVegaLiteChart", "embed", "DataFrame")
_JS_DIR: Final = Path(st.__file__).resolve().parent / "static" / "static" / "js"


def renderer_modules(js_dir: Path = _JS_DIR) -> list[str]:
    """File names of the renderer entry modules in Streamlit's static bundle (``Name.<hash>.js``)."""
    found = []
    for name in RENDERERS:
        matches = sorted(p.name for p in js_dir.glob(f"{name}.*.js") if p.name.count(".") == 2)
        if len(matches) == 1:  # ambiguous or missing: leave it to Streamlit
            found.append(matches[0])
    return found


def prefetch_script(modules: list[str]) -> str:
    """A ``<script>`` that imports ``modules`` (relative to Streamlit's own ``index.*.js``) once per page."""
    if not modules:
        return ""
    return (
        "<script>(() => {"
        "if (window.__driftwatchPrefetched) return; window.__driftwatchPrefetched = true;"
        "const index = document.querySelector('script[type=module][src*=\"static/js/index.\"]');"
        "if (!index) return;"
        f"for (const m of {json.dumps(modules)}) import(new URL(m, index.src).href).catch(() => {{}});"
        "})();</script>"
    )


PREFETCH_JS: Final = prefetch_script(renderer_modules())
