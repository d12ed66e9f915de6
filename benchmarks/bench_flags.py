"""False-alarm and power table of the Training-runs flags and the latency drift tests (issue 11).

Seeded simulations; prints Markdown tables for ``benchmarks/README.md``:

* final-value flag on tables of n i.i.d. normal final values (n = 4..20): the old fixed 3.5 threshold
  against ``runs.calibrated_threshold``;
* spacing flag on runs started at random (Poisson) times (n = 4..20 runs, durations 5-50 % of the mean
  gap, so some runs overlap): the old ratio-of-medians rule against ``runs.spacing_change``; power on a
  tenfold rate change halfway;
* change points and the window comparison on AR(1) noise (phi = 0, 0.3, 0.5, 0.8; n = 72 and 168
  hourly values), independent-points tests against ``autocorrelation=True``, without and with a 2-sd
  step (marginal sd; in the middle for change points, over the recent third for the windows).

Usage: ``.venv/bin/python benchmarks/bench_flags.py [--reps 400] [--quick]`` (about 4 minutes with the
defaults on 2 busy cores; ``--quick`` uses 100 series per cell).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.analysis import runs  # noqa: E402
from lib.analysis.series import change_points, compare_windows, series_drift  # noqa: E402

RUN_COUNTS = range(4, 21)
PHIS = (0.0, 0.3, 0.5, 0.8)
LENGTHS = (72, 168)


def poisson_gaps(rng: np.random.Generator, n_runs: int) -> np.ndarray:
    """``gap_s`` as ``runs_table`` computes it, for runs started at Poisson times (mean gap 1 hour)."""
    starts = np.cumsum(rng.exponential(3600.0, n_runs))
    ends = starts + rng.uniform(0.05, 0.5, n_runs) * 3600.0
    previous_end = np.maximum.accumulate(ends)[:-1]
    return np.clip(starts[1:] - previous_end, 0.0, None)


def old_spacing_flag(gaps: np.ndarray, ratio: float = 3.0) -> bool:
    """The rule before issue 11: best split of the log-gap means, then a ratio of medians ≥ 3×."""
    g = np.maximum(gaps, runs.MIN_GAP_S)
    if len(g) < 4:
        return False
    logs = np.log(g)
    split = max(range(2, len(g) - 1), key=lambda s: abs(logs[s:].mean() - logs[:s].mean()))
    r = float(np.median(g[split:]) / np.median(g[:split]))
    return r >= ratio or r <= 1 / ratio


def new_spacing_flag(gaps: np.ndarray, ratio: float = 3.0) -> bool:
    change = runs.spacing_change(gaps)
    if change is None or change.p_value > runs.FLAG_ALPHA:
        return False
    r = change.mean_after / change.mean_before
    return r >= ratio or r <= 1 / ratio


def ar1(rng: np.random.Generator, n: int, phi: float, reps: int) -> np.ndarray:
    """``reps`` stationary AR(1) series of length ``n`` with marginal standard deviation 1."""
    e = rng.standard_normal((reps, n))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0] / math.sqrt(1 - phi * phi)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x * math.sqrt(1 - phi * phi)


def pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--sections", default="final,spacing,ar1", help="comma-separated subset of final, spacing, ar1"
    )
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    reps = 100 if args.quick else args.reps
    t0 = time.perf_counter()

    if "final" in sections:
        final_values()
    if "spacing" in sections:
        spacing(reps)
    if "ar1" in sections:
        autocorrelated(reps)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


def final_values() -> None:
    print("### Final value: share of tables of n i.i.d. normal runs with a flag (2,000 tables per n)\n")
    print("| n | " + " | ".join(str(n) for n in RUN_COUNTS) + " |")
    print("|---|" + "---|" * len(RUN_COUNTS))
    old, new, cuts = [], [], []
    for n in RUN_COUNTS:
        rng = np.random.default_rng([11, n])
        m = runs._max_abs_modified_z(rng.standard_normal((2000, n)))
        cut = runs.calibrated_threshold(n)
        old.append(float(np.mean(m > 3.5)))
        new.append(float(np.mean(m > cut)))
        cuts.append(cut)
    print("| fixed 3.5 (before) | " + " | ".join(pct(v) for v in old) + " |")
    print("| calibrated (now) | " + " | ".join(pct(v) for v in new) + " |")
    print("| calibrated threshold | " + " | ".join(f"{c:.2f}" for c in cuts) + " |")


def spacing(reps: int) -> None:
    print(
        f"\n### Spacing: share of tables of runs started at Poisson times with a flag ({reps} tables per n)\n"
    )
    print("| runs | " + " | ".join(str(n) for n in RUN_COUNTS) + " |")
    print("|---|" + "---|" * len(RUN_COUNTS))
    old, new = [], []
    for n in RUN_COUNTS:
        rng = np.random.default_rng([12, n])
        tables = [poisson_gaps(rng, n) for _ in range(reps)]
        old.append(float(np.mean([old_spacing_flag(g) for g in tables])))
        new.append(float(np.mean([new_spacing_flag(g) for g in tables])))
    print("| ratio of medians (before) | " + " | ".join(pct(v) for v in old) + " |")
    print("| permutation LR (now) | " + " | ".join(pct(v) for v in new) + " |")
    power = []
    for n in (8, 12, 16, 20):
        rng = np.random.default_rng([13, n])
        hits = 0
        for _ in range(reps):
            g = poisson_gaps(rng, n)
            g[len(g) // 2 :] *= 10.0  # runs ten times further apart from halfway on
            hits += new_spacing_flag(g)
        power.append(f"{n} runs: {pct(hits / reps)}")
    print(
        "\nPower, gaps ten times longer from halfway on (runs overlapping as above): "
        + ", ".join(power)
        + "."
    )
    power = []
    for n in (8, 12, 16, 20):
        rng = np.random.default_rng([15, n])
        hits = 0
        for _ in range(reps):
            g = rng.exponential(3600.0, n - 1)  # back-to-back-free runs: gaps exactly exponential
            g[len(g) // 2 :] *= 10.0
            hits += new_spacing_flag(g)
        power.append(f"{n} runs: {pct(hits / reps)}")
    print("Power, the same with exponential gaps (no overlaps): " + ", ".join(power) + ".")


def autocorrelated(reps: int) -> None:
    print(f"\n### AR(1) noise: change points and window comparison ({reps} series per cell)\n")
    print(
        "| n | phi | change points, independent (before) | change points, AR-aware (now) | "
        "2-sd step found ±3 (now) | windows, independent (before) | windows, AR-aware (now) | "
        "2-sd step in recent third significant (now) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in LENGTHS:
        for phi in PHIS:
            rng = np.random.default_rng([14, n, int(10 * phi)])
            null = ar1(rng, n, phi, reps)
            cp_step = null + np.where(np.arange(n) >= n // 2, 2.0, 0.0)
            k = n // 3
            win_step = null + np.where(np.arange(n) >= n - k, 2.0, 0.0)
            cp_plain = np.mean([bool(change_points(x)) for x in null])
            win_plain = np.mean([compare_windows(x).significant for x in null])
            drifts = [series_drift(x, log_scale=False, autocorrelation=True) for x in null]
            cp_ar = np.mean([bool(d.change_points) for d in drifts])
            win_ar = np.mean([d.comparison.significant for d in drifts])
            found = np.mean(
                [any(abs(c - n // 2) <= 3 for c in change_points(x, autocorrelation=True)) for x in cp_step]
            )
            win_pow = np.mean(
                [
                    series_drift(x, log_scale=False, autocorrelation=True).comparison.significant
                    for x in win_step
                ]
            )
            print(
                f"| {n} | {phi:g} | {pct(cp_plain)} | {pct(cp_ar)} | {pct(found)} | {pct(win_plain)} | "
                f"{pct(win_ar)} | {pct(win_pow)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
