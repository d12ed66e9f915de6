"""Calibration of the drift report (issue 11): false alarms and power per column shape, width and n.

For each column shape (normal, heavy-tailed t(1.5), normal with 0.5 % sentinels at -999, Poisson
counts, 12 long-tailed categories), report width (columns per report) and n (rows per side), it
runs seeded replicates of :func:`lib.drift.compare` and prints:

* false alarms: share of all-null reports with at least one drifted column (stated: ≤ alpha = 5 %,
  Benjamini-Hochberg controls it at alpha when every column is null);
* power: share of reports in which ONE column, shifted by its own reported smallest detectable
  effect (the MDE at 80 % power for the correction applied), comes out significant (stated: 80 %).

Plus the window grid (10 windows × 10 columns of mixed shapes, 200-row windows, all null), the
multivariate verdict (null false alarms, AUC-interval coverage of 0.5, a correlation flip) and, per
registered test, the power at the report's stated MDE inside a 10-column Benjamini-Hochberg report.

Run: ``.venv/bin/python benchmarks/bench_calibration.py [replicates] [sections]`` (default 100
replicates, every section: ``shapes,grid,multivariate,tests``; about 40 minutes on 2 busy cores).
``--mde-factors [replicates]`` instead re-derives ``lib.drift.rule.MDE_FACTORS``: p-values of each
test on a grid of normal shifts (two categories for the category tests), 300 vs 300 rows (200 for
the permutation distances), a probit fit of power against shift at levels 0.05, 0.005 and 0.001
(1, 10 and 50 tests), and the factor each formula needs for 80 % power.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.drift import TESTS, compare, compare_windows, domain_classifier, min_detectable_effect
from lib.drift.rule import mde_factor

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


_L30 = np.array([f"v{i}" for i in range(30)])
_P30 = 1 / np.arange(1, 31) ** 1.2
_P30 /= _P30.sum()


def grid_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Ten columns: 4 normal, 3 Poisson counts (means 1, 3, 8), 3 long-tailed categories (12, 12, 30)."""
    data: dict[str, np.ndarray] = {f"x{i}": rng.normal(size=n) for i in range(4)}
    data |= {f"count{m}": rng.poisson(m, n) for m in (1, 3, 8)}
    data |= {f"cat12{s}": rng.choice(LEVELS, n, p=_P) for s in "ab"}
    data["cat30"] = rng.choice(_L30, n, p=_P30)
    return pd.DataFrame(data)


def window_rate(replicates: int, seed: int) -> float:
    """Share of all-null 10-window × 10-column grids (200-row windows) with any drifted cell."""
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(replicates):
        report = compare_windows(grid_frame(rng, 2000), grid_frame(rng, 2000), n_windows=10, workers=1)
        alarms += bool(report.table["drifted"].any())
    return alarms / replicates


def power_at_mde(test: str, kind: str, replicates: int, seed: int, n: int = 200) -> tuple[float, float]:
    """Power of one column moved by the stated MDE inside a 10-column report tested by ``test``."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(10)]
    mde = min_detectable_effect(kind, n, n, alpha=ALPHA, n_tests=10, test=test)  # type: ignore[arg-type]
    found = 0
    for _ in range(replicates):
        if kind == "numeric":
            ref = pd.DataFrame(rng.normal(size=(n, 10)), columns=names)
            cur = pd.DataFrame(rng.normal(size=(n, 10)), columns=names)
            cur["x0"] += mde
        else:
            ref = pd.DataFrame({c: rng.choice(["a", "b"], n) for c in names})
            cur = pd.DataFrame({c: rng.choice(["a", "b"], n) for c in names})
            cur["x0"] = rng.choice(["a", "b"], n, p=[0.5 + mde, 0.5 - mde])
        table = compare(ref, cur, tests={c: test for c in names}, workers=1).table.set_index("column")
        found += bool(table.loc["x0", "p_adjusted"] < ALPHA)
    return found / replicates, mde


def mde_factors(replicates: int) -> None:
    """Re-derive MDE_FACTORS: the factor on each formula that gives 80 % power (see the docstring)."""
    z80 = float(stats.norm.ppf(0.8))
    print("| test | kind | factor needed at 1 / 10 / 50 tests | factor used at 1 / 10 / 50 |")
    print("|---|---|---|---|")
    cases = [(n, "numeric") for n, t in sorted(TESTS.items()) if "numeric" in t.accepts]
    cases += [(n, "categorical") for n in ("chi2", "fisher_exact")]
    for name, kind in cases:
        rng = np.random.default_rng(len(name))
        n = 200 if name in ("energy", "wasserstein") else 300
        base = min_detectable_effect(kind, n, n, alpha=ALPHA, test=name)  # type: ignore[arg-type]
        shifts = np.linspace(0.5, 1.6, 9) * base
        p = np.empty((shifts.size, replicates))
        for i, d in enumerate(shifts):
            for r in range(replicates):
                if kind == "numeric":
                    a, b = rng.normal(size=n), rng.normal(size=n) + d
                else:
                    a, b = rng.choice(["a", "b"], n), rng.choice(["a", "b"], n, p=[0.5 + d, 0.5 - d])
                p[i, r] = TESTS[name](a, b).p_value
        needed, used = [], []
        for m in (1, 10, 50):
            level = ALPHA / m
            hits = (p < level).sum(axis=1)

            def nll(ab: np.ndarray, hits: np.ndarray = hits, shifts: np.ndarray = shifts) -> float:
                pr = np.clip(stats.norm.cdf(ab[0] + ab[1] * shifts), 1e-9, 1 - 1e-9)
                return float(-np.sum(hits * np.log(pr) + (replicates - hits) * np.log(1 - pr)))

            a0, b0 = optimize.minimize(nll, np.array([-3.0, 3.0 / base]), method="Nelder-Mead").x
            stated = min_detectable_effect(kind, n, n, alpha=ALPHA, n_tests=m, test=name)  # type: ignore[arg-type]
            factor = mde_factor(name, level, kind)  # type: ignore[arg-type]
            needed.append((z80 - a0) / b0 / (stated / factor))
            used.append(factor)
        print(
            f"| {name} | {kind} | {' / '.join(f'{f:.3f}' for f in needed)} | "
            f"{' / '.join(f'{f:.3f}' for f in used)} |",
            flush=True,
        )


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
    if len(sys.argv) > 1 and sys.argv[1] == "--mde-factors":
        mde_factors(int(sys.argv[2]) if len(sys.argv) > 2 else 300)
        return
    replicates = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    every = "shapes,grid,multivariate,tests"
    sections = set((sys.argv[2] if len(sys.argv) > 2 else every).split(","))
    se = 2.5 * math.sqrt(ALPHA * (1 - ALPHA) / replicates)
    print(f"{replicates} seeded replicates per cell; false-alarm tolerance 5 % + 2.5 SE = {ALPHA + se:.1%}")
    t0 = time.perf_counter()
    if "shapes" in sections:
        print("| column shape | width | n per side | false alarms (any column) | power at stated MDE | MDE |")
        print("|---|---|---|---|---|---|")
        for s, shape in enumerate(SHAPES):
            for width, n in ((10, 100), (10, 1000), (50, 300)):
                fa, power, mde = rates(shape, width, n, replicates, seed=1000 * s + width + n)
                # The MDE is a normal shift (or a TV change): power is only stated for those shapes.
                shown = "—" if shape in ("t(1.5)", "Poisson(8) counts") else f"{power:.0%}"
                print(f"| {shape} | {width} | {n:,} | {fa:.1%} | {shown} | {mde:.3g} |", flush=True)
    if "grid" in sections:
        rate = window_rate(replicates, 7)
        print(
            f"\nwindow grid, 10 windows × 10 columns (200-row windows), all null: {rate:.1%} of grids alarm"
        )
    if "multivariate" in sections:
        fa, cover, found = multivariate_rates(2 * replicates, 8)
        print(
            f"multivariate (500 vs 500, 3 columns, {2 * replicates} nulls): false alarms {fa:.1%}, AUC "
            f"interval covers 0.5 in {cover:.1%} of nulls, correlation flip 0.5 → -0.5 found in {found:.0%}"
        )
    if "tests" in sections:
        print("\n| test | treatment | MDE (200 vs 200, 10 columns) | power at the MDE (stated 80 %) |")
        print("|---|---|---|---|")
        cases = [(n, "numeric") for n, t in sorted(TESTS.items()) if "numeric" in t.accepts]
        cases += [(n, "categorical") for n, t in sorted(TESTS.items()) if "categorical" in t.accepts]
        for i, (name, kind) in enumerate(cases):
            reps = replicates // 2 if name in ("energy", "wasserstein") else replicates
            power, mde = power_at_mde(name, kind, reps, seed=9000 + i)
            print(f"| {name} | {kind} | {mde:.3f} | {power:.0%} ({reps} reports) |", flush=True)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
