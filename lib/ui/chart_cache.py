"""Draw a chart from a spec cached on its inputs, so a page revisited (or opened by another session
on the same data) does not rebuild it.

Building an Altair chart and turning it into Vega-Lite costs 0.3-1 s of server time for the runs
charts (Altair validates every channel against the schema as it is set); a rerun on the same data
draws the same spec. ``show_chart`` keys Streamlit's data cache on the builder's name and its
arguments (frames are hashed by content), keeps the spec with its tables apart, and hands both to
``st.vega_lite_chart``, which ships the tables as Arrow exactly as ``st.altair_chart`` does.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

import altair as alt
import pandas as pd
import streamlit as st

from lib import charts

#: The default Altair theme's view size, which ``st.altair_chart`` leaves out (it switches the
#: theme off while converting); removed here for the same spec.
_THEME_VIEW: Final = {"continuousWidth": 300, "continuousHeight": 300}


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with its tables as named ``datasets`` (frames, not inlined rows).

    Thread-safe: no Altair global (theme, data transformer) is touched; each chart's or layer's
    frame is swapped for a named reference on a copy.
    """
    datasets: dict[str, pd.DataFrame] = {}

    def named(node: Any) -> Any:
        if isinstance(node, alt.SchemaBase):
            node = node.copy(deep=False)
            data = getattr(node, "data", alt.Undefined)
            if isinstance(data, pd.DataFrame):
                digest = hashlib.sha1(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
                name = f"data-{digest.hexdigest()[:16]}-{'-'.join(map(str, data.shape))}"
                datasets[name] = data
                node.data = alt.NamedData(name=name)
            for attr in ("layer", "hconcat", "vconcat", "concat"):
                parts = getattr(node, attr, alt.Undefined)
                if isinstance(parts, list):
                    setattr(node, attr, [named(p) for p in parts])
            spec = getattr(node, "spec", alt.Undefined)
            if isinstance(spec, alt.SchemaBase):
                node.spec = named(spec)
        return node

    spec = dict(named(chart).to_dict(validate=False))
    view = spec.get("config", {}).get("view", {})
    for key, value in _THEME_VIEW.items():
        if view.get(key) == value:
            del view[key]
    if "view" in spec.get("config", {}) and not view:
        del spec["config"]["view"]
    if "config" in spec and not spec["config"]:
        del spec["config"]
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


def chart_builder(builder: str) -> Callable[..., alt.TopLevelMixin]:
    """``lib.charts``' function named ``builder`` (``"runs_overlay"``, ``"timing.violations_history"``)."""
    found: Any = functools.reduce(getattr, builder.split("."), charts)
    return cast("Callable[..., alt.TopLevelMixin]", found)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _cached_spec(builder: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return chart_spec(chart_builder(builder)(*args, **kwargs))


def show_chart(builder: str, *args: Any, **kwargs: Any) -> LazyChart:
    """Draw ``lib.charts.<builder>(*args, **kwargs)`` at full width, from the cache when the inputs
    are unchanged. Returns the chart for download buttons, built only if one is clicked."""
    st.vega_lite_chart(_cached_spec(builder, args, dict(kwargs)), width="stretch")
    return LazyChart(lambda: chart_builder(builder)(*args, **kwargs))


@dataclass(frozen=True)
class LazyChart:
    """A chart built only when a download button asks for its spec (building one costs ~0.5 s).

    ``lib.export`` needs only ``to_dict()``; static copies (no zoom strip, no hints) and PNG/SVG
    files are made on the first click instead of on every rerun.
    """

    build: Callable[[], alt.TopLevelMixin]

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """The built chart's Vega-Lite spec."""
        return dict(self.build().to_dict(**kwargs))
