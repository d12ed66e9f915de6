"""Calibration of the drift report (issue 11): false alarms and power per column shape, width and n.

For each column shape (normal, heavy-tailed t(1.5), normal with 0.5 % sentinels at -999, Poisson
counts, 12 long-tailed categories), report width (columns per report) and n (rows per side), it
runs seeded replicates of :func:`lib.drift.compare` and prints:

* false alarms: share of all-null reports with at least one drifted column (stated: ≤ alpha = 5 %,
  Benjamini-Hochberg controls it at alpha when every column is null);
* power: share of reports in which ONE column, shifted by its own reported smallest detectable
  effect (the MDE at 80 % power for the correction applied), comes out significant (stated: 80 %).

Plus the window grid (10 windows × 6 columns, all null) and the multivariate verdict (null, and a
correlation flip). Run: ``.venv/bin/python benchmarks/bench_calibration.py [replicates]``
(default 100; about 6 minutes on 2 busy cores).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.drift import compare, compare_windows, domain_classifier

ALPHA = 0.05
Draw = Callable[[np.random.Generator, int], np.ndarray]


def _sentinel(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.normal(size=n)
    x[rng.random(n) < 0.005] = -999.0
    return x


LEVELS = np.array([f"c{i}" for i in range(12)])
_P = 1 / np.arange(1, 13)
_P /= _P.sum()

SHAPES: dict[str, Draw] = {
    "normal": lambda rng, n: rng.normal(size=n),
    "t(1.5)": lambda rng, n: rng.standard_t(1.5, n),
    "normal + 0.5% sentinels": _sentinel,
    "Poisson(8) counts": lambda rng, n: rng.poisson(8, n).astype(float),
    "12 long-tailed categories": lambda rng, n: rng.choice(LEVELS, n, p=_P),
}


def _shift(values: np.ndarray, shape: str, mde: float, rng: np.random.Generator) -> np.ndarray:
    """Move a column by its stated MDE: normal-score shift for numbers, TV for categories."""
    if values.dtype.kind in "OUS":
        # move `mde` of the rows from the categories' mix into the first category
        moved = rng.random(values.size) < mde / (1 - _P[0])
        return np.where(moved, LEVELS[0], values)
    return values + mde


def rates(shape: str, width: int, n: int, replicates: int, seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    draw = SHAPES[shape]
    alarms = found = 0
    mde = math.nan
    for _ in range(replicates):
        ref = pd.DataFrame({f"x{i}": draw(rng, n) for i in range(width)})
        cur = pd.DataFrame({f"x{i}": draw(rng, n) for i in range(width)})
        table = compare(ref, cur, workers=1).table.set_index("column")
        alarms += bool(table["drifted"].any())
        mde = float(table.loc["x0", "min_detectable_effect"])
        cur["x0"] = _shift(cur["x0"].to_numpy(), shape, mde, rng)
        shifted = compare(ref, cur, workers=1).table.set_index("column")
        found += bool(shifted.loc["x0", "p_adjusted"] < ALPHA)
    return alarms / replicates, found / replicates, mde


def window_rate(replicates: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(replicates):
        data = {f"k{i}": rng.choice(LEVELS, 1000, p=_P) for i in range(3)}
        data |= {f"x{i}": rng.normal(size=1000) for i in range(3)}
        cur = {c: (rng.choice(LEVELS, 500, p=_P) if c[0] == "k" else rng.normal(size=500)) for c in data}
        report = compare_windows(pd.DataFrame(data), pd.DataFrame(cur), n_windows=10, min_rows=10, workers=1)
        alarms += bool(report.table["drifted"].any())
    return alarms / replicates


def multivariate_rates(replicates: int, seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)

    def frame(n: int, rho: float) -> pd.DataFrame:
        a = rng.normal(size=n)
        b = rho * a + math.sqrt(1 - rho**2) * rng.normal(size=n)
        return pd.DataFrame({"a": a, "b": b, "c": rng.normal(size=n)})

    alarms = covered = found = 0
    for _ in range(replicates):
        null = domain_classifier(frame(500, 0.5), frame(500, 0.5), seed=int(rng.integers(1 << 30)))
        alarms += null.drifted
        covered += null.auc_low <= 0.5 <= null.auc_high
        found += domain_classifier(frame(500, 0.5), frame(500, -0.5)).drifted
    return alarms / replicates, covered / replicates, found / replicates


def main() -> None:
    replicates = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    se = 2.5 * math.sqrt(ALPHA * (1 - ALPHA) / replicates)
    print(f"{replicates} seeded replicates per cell; false-alarm tolerance 5 % + 2.5 SE = {ALPHA + se:.1%}")
    print("| column shape | width | n per side | false alarms (any column) | power at stated MDE | MDE |")
    print("|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for s, shape in enumerate(SHAPES):
        for width, n in ((10, 100), (10, 1000), (50, 300)):
            fa, power, mde = rates(shape, width, n, replicates, seed=1000 * s + width + n)
            # The MDE is a normal shift (or a TV change): power is only stated for those shapes.
            shown = "—" if shape in ("t(1.5)", "Poisson(8) counts") else f"{power:.0%}"
            print(f"| {shape} | {width} | {n:,} | {fa:.1%} | {shown} | {mde:.3g} |", flush=True)
    print(f"\nwindow grid, 10 windows × 6 columns, all null: {window_rate(replicates, 7):.1%} of grids alarm")
    fa, cover, found = multivariate_rates(replicates, 8)
    print(
        f"multivariate (500 vs 500, 3 columns): false alarms {fa:.1%}, AUC interval covers 0.5 in "
        f"{cover:.1%} of nulls, correlation flip 0.5 → -0.5 found in {found:.0%}"
    )
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
