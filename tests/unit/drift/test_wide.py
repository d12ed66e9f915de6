"""compare() on wide tables: work per column does not grow with the number of columns.

Counted, never timed: the Python function calls of a whole compare() (cProfile's count) at 1,000
and 2,000 columns. Per-column work that scans all columns (a set of the other frame's columns built
per column, a DataFrame insert per column) doubles the per-column count when the width doubles, so
the total grows about 4× instead of 2×.
"""

from __future__ import annotations

import cProfile
import pstats

import numpy as np
import pandas as pd
import pytest

from lib.drift import compare
from lib.drift import engine as engine_module
from lib.drift import registry as registry_module


def _wide(n_columns: int, rows: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(n_columns)
    columns = [f"feature_{i}" for i in range(n_columns)]
    ref = pd.DataFrame(rng.normal(size=(rows, n_columns)), columns=columns)
    cur = pd.DataFrame(rng.normal(0.1, 1, size=(rows + 5, n_columns)), columns=columns)
    return ref, cur


def _calls(n_columns: int) -> int:
    ref, cur = _wide(n_columns)
    registry_module._KS_EXACT.clear()
    profile = cProfile.Profile()
    profile.enable()
    report = compare(ref, cur, workers=1)
    profile.disable()
    assert len(report.table) == n_columns
    return sum(stat[1] for stat in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]


@pytest.mark.slow
def test_calls_grow_linearly_with_the_number_of_columns() -> None:
    small, large = _calls(1_000), _calls(2_000)
    assert large / small < 2.2, (small, large)


def test_scipy_and_the_detectable_effect_are_not_called_per_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 columns of the same sizes: scipy's exact KS once per distinct D, one detectable effect."""
    calls = {"ks_2samp": 0, "mde": 0}
    real_ks, real_mde = registry_module.stats.ks_2samp, engine_module.min_detectable_effect

    def counted_ks(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["ks_2samp"] += 1
        return real_ks(*args, **kwargs)

    def counted_mde(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["mde"] += 1
        return real_mde(*args, **kwargs)

    monkeypatch.setattr(registry_module.stats, "ks_2samp", counted_ks)
    monkeypatch.setattr(engine_module, "min_detectable_effect", counted_mde)
    ref, cur = _wide(2_000)
    registry_module._KS_EXACT.clear()
    table = compare(ref, cur).table
    assert (table["p_method"] == "scipy (exact)").all()
    distinct_d = table["statistic"].nunique()
    assert calls["ks_2samp"] == distinct_d  # once per D, even when both worker threads meet it at once
    assert distinct_d < 100  # D is a multiple of 1/lcm(30, 35): few values over 2,000 columns
    assert calls["mde"] == 1
