"""Exact KS D from summaries: the candidate-bin bound, the refinement pass, its merges and its notes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import DriftSummaries, compare
from lib.drift.engine import plan_tests
from lib.drift.registry import Samples
from lib.drift.summary import dataset, refine, summaries_of, summarise_frames
from lib.drift.summary.dataset import refine_summaries
from lib.drift.summary.refine import (
    below_counts,
    bin_intervals,
    bin_of,
    exact_ks,
    ks_bounds,
    merge_pairs,
    pairs_in,
    zoom_counts,
    zoom_edges,
    zoomed_bins,
)
from lib.drift.summary.sketch import DISTINCT_MAX_VALUES, EXACT_MAX_VALUES, NumericPart, numeric_part

# Few distinct values (ties), a wide range and values outside any edge set.
VALUES = st.lists(
    st.one_of(
        st.integers(-20, 20).map(float),
        st.floats(-30, 30, allow_nan=False, allow_infinity=False, width=64),
    ),
    min_size=1,
    max_size=80,
)
EDGES = st.lists(st.floats(-25, 25, allow_nan=False, width=64), min_size=1, max_size=12).map(
    lambda v: np.unique(np.asarray(v, dtype=np.float64) + 0.0)
)


def _bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(bin_of(values, edges), minlength=edges.size + 1).astype(np.int64)


def _engine_gaps(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pooled distinct value and the engine's float gap there (Samples.ecdf_gaps at tie ends)."""
    s = Samples(ref, cur, "numeric", presorted=True)
    merged, gaps, ends = s.ecdf_gaps
    return (merged, gaps) if ends is None else (merged[ends], gaps[ends])


@settings(max_examples=300, deadline=None)
@given(VALUES, VALUES, EDGES)
def test_the_candidate_bins_always_hold_the_true_sup_and_give_the_engines_d(
    ref_list: list[float], cur_list: list[float], edges: np.ndarray
) -> None:
    ref, cur = np.sort(np.asarray(ref_list) + 0.0), np.sort(np.asarray(cur_list) + 0.0)
    rb, cb = _bins(ref, edges), _bins(cur, edges)
    bounds = ks_bounds(rb, cb)
    nr, nc = ref.size, cur.size
    points, gaps = _engine_gaps(ref, cur)
    d_engine = float(np.max(np.abs(gaps)))
    # The in-bin bound is never wrong: no gap inside a bin exceeds it.
    up = np.maximum(
        np.abs(np.concatenate([[0.0], np.cumsum(rb)[:-1] / nr - np.cumsum(cb)[:-1] / nc]) + rb / nr),
        np.abs(np.concatenate([[0.0], np.cumsum(rb)[:-1] / nr - np.cumsum(cb)[:-1] / nc]) - cb / nc),
    )
    where = bin_of(points, edges)
    assert np.all(np.abs(gaps) <= up[where] + 1e-12)
    # The true sup sits in a candidate bin (or is already read at an edge).
    at = int(np.argmax(np.abs(gaps)))
    assert where[at] in set(bounds.candidates.tolist()) or d_engine == bounds.d_lo
    assert bounds.d_lo <= d_engine <= bounds.d_hi + 1e-12
    # With the candidate bins' raw values, D is the engine's, bit for bit ...
    lo, hi = float(np.nextafter(min(ref[0], cur[0]), -np.inf)), float(max(ref[-1], cur[-1]))
    assert _exact(edges, rb, cb, bounds, ref, cur, lo, hi) == d_engine
    # ... and after a zoom into the candidate bins (equal-width sub-bins; their counts from a pass).
    grid = zoom_edges(edges, bounds.candidates, lo, hi)
    zr = zoomed_bins(rb, edges, bounds.candidates, grid, zoom_counts(ref, edges, bounds.candidates, grid))
    zc = zoomed_bins(cb, edges, bounds.candidates, grid, zoom_counts(cur, edges, bounds.candidates, grid))
    assert np.array_equal(zr, _bins(ref, grid))
    assert np.array_equal(zc, _bins(cur, grid))
    assert _exact(grid, zr, zc, ks_bounds(zr, zc), ref, cur, lo, hi) == d_engine


def _exact(
    grid: np.ndarray,
    rb: np.ndarray,
    cb: np.ndarray,
    bounds: object,
    ref: np.ndarray,
    cur: np.ndarray,
    lo: float,
    hi: float,
) -> float | None:
    candidates = bounds.candidates  # type: ignore[attr-defined]
    intervals = bin_intervals(grid, candidates, lo, hi)
    ref_pairs, cur_pairs = pairs_in(ref, intervals), pairs_in(cur, intervals)
    return exact_ks(
        ks_bounds(rb, cb).d_lo,
        int(rb.sum()),
        int(cb.sum()),
        intervals,
        (below_counts(rb, candidates), below_counts(cb, candidates)),
        (ref_pairs[0], ref_pairs[1]),
        (cur_pairs[0], cur_pairs[1]),
    )


def _refined_part(values: list[float], edges: np.ndarray, candidates: np.ndarray) -> NumericPart:
    sorted_values = np.sort(np.asarray(values, dtype=np.float64)) + 0.0
    part = numeric_part(sorted_values, edges=edges)
    intervals = bin_intervals(edges, candidates, -20.0, 20.0)
    pairs = pairs_in(sorted_values, intervals)
    return replace(
        part,
        refine_intervals=intervals,
        refine_below=below_counts(part.bins, candidates),  # type: ignore[arg-type]
        refine_values=pairs[0],
        refine_counts=pairs[1].astype(np.int64),
    )


def _split(values: list[float], cuts: list[int]) -> list[list[float]]:
    points = sorted({min(c, len(values)) for c in cuts})
    return [values[a:b] for a, b in zip([0, *points], [*points, len(values)], strict=True)]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(-10, 10, allow_nan=False, width=64), max_size=60),
    st.lists(st.integers(0, 60), max_size=4),
    st.lists(st.integers(0, 5), max_size=4),
)
def test_refined_values_merge_exactly_in_any_split_and_order_and_round_trip(
    values: list[float], cuts: list[int], picked: list[int]
) -> None:
    edges = np.array([-5.0, -1.0, 0.0, 1.0, 5.0])
    candidates = np.unique(np.asarray(picked, dtype=np.int64))
    whole = _refined_part(values, edges, candidates)
    parts = [_refined_part(p, edges, candidates) for p in _split(values, cuts)]
    left, right = parts[0], parts[-1]
    for p in parts[1:]:
        left = left.merge(p)
    for p in parts[-2::-1]:
        right = right.merge(p)
    assert left.to_dict() == whole.to_dict() == right.to_dict()
    if len(parts) >= 3:
        a, b, c = parts[0], parts[1], parts[2]
        assert a.merge(b).merge(c).to_dict() == a.merge(b.merge(c)).to_dict()
    again = NumericPart.from_dict(json.loads(json.dumps(whole.to_dict())))
    assert again.to_dict() == whole.to_dict()
    assert whole.refine_values is not None
    assert np.array_equal(whole.refine_pairs, merge_pairs([p.refine_pairs for p in parts]))  # type: ignore[misc]


def test_refinement_merges_past_the_cap_or_across_bins_stay_associative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edges = np.array([0.0, 1.0])
    bins = np.array([1], dtype=np.int64)  # (0, 1]
    a, b, c = (_refined_part([0.5, 0.25 * k], edges, bins) for k in (1, 2, 3))
    monkeypatch.setattr(refine, "REFINE_MAX_VALUES", 2)
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    assert left.to_dict() == right.to_dict()
    assert left.refine_values is None  # 3 distinct values > 2: capped, the intervals stay
    assert left.refine_intervals is not None
    other = _refined_part([0.5, 0.75], edges, np.array([0, 1], dtype=np.int64))
    assert a.merge(b).merge(other).refine_intervals is None
    assert a.merge(b.merge(other)).to_dict() == a.merge(b).merge(other).to_dict()


def _data(seed: int, n: int, case: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    m = n + 311
    if case == "tiny shift":
        ref, cur = rng.normal(0, 1, n), rng.normal(0.003, 1, m)
    elif case == "same distribution":
        ref, cur = rng.normal(0, 1, n), rng.normal(0, 1, m)
    elif case == "ties":
        ref, cur = np.round(rng.normal(0, 1, n), 3), np.round(rng.normal(0.01, 1, m), 3)
    elif case == "skew":
        ref, cur = rng.lognormal(0, 1.5, n), rng.lognormal(0.01, 1.5, m)
    elif case == "outside the reference range":
        ref, cur = rng.uniform(0, 1, n), rng.uniform(-0.05, 1.1, m)
    else:  # "heavy tails with NaN"
        ref, cur = rng.standard_t(2, n), rng.standard_t(2, m) * 1.01
        cur[rng.integers(0, m, 500)] = np.nan
        ref[rng.integers(0, n, 50)] = np.inf
    return pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur})


CASES = ["tiny shift", "same distribution", "ties", "skew", "outside the reference range", "heavy tails"]


@pytest.mark.parametrize("case", CASES)
def test_refined_summaries_give_compares_d_and_p_bit_for_bit(case: str) -> None:
    ref, cur = _data(CASES.index(case), 25_000, case)
    assert ref["x"].nunique() > DISTINCT_MAX_VALUES
    assert len(ref) > EXACT_MAX_VALUES
    summaries = summaries_of(ref, cur, {"x": "numeric"}, batch_rows=4_000)
    part = summaries.reference.columns["x"].numeric
    assert part is not None
    assert part.values is None  # binned, not verbatim: the refinement is what makes D exact
    assert part.refine_values is not None
    exact = compare(ref, cur).table.iloc[0]
    got = summaries.report().table.iloc[0]
    assert got["p_method"] == exact["p_method"] == "asymptotic (Kolmogorov)"
    assert got["statistic"] == exact["statistic"]
    assert got["p_value"] == exact["p_value"]
    assert got["status"] == exact["status"]
    reopened = DriftSummaries.from_json(summaries.to_json()).report().table.iloc[0]
    assert (reopened["statistic"], reopened["p_value"]) == (exact["statistic"], exact["p_value"])


def _one_shot(frame: pd.DataFrame) -> Iterable[pd.DataFrame]:
    return iter([frame.iloc[: len(frame) // 2], frame.iloc[len(frame) // 2 :]])


def test_separately_made_summaries_keep_the_binned_d_and_say_so() -> None:
    ref, cur = _data(11, 20_000, "tiny shift")
    exact = compare(ref, cur).table.iloc[0]
    # A one-shot current stream: no second read, so no refinement.
    summaries = summarise_frames([ref], _one_shot(cur), {"x": "numeric"})
    assert summaries.current.columns["x"].numeric.refine_intervals is None  # type: ignore[union-attr]
    row = summaries.report().table.iloc[0]
    assert row["statistic"] <= exact["statistic"]
    assert "lower bound" in row["p_method"]
    assert "not refined together" in row["p_method"]
    assert "lower bound" in row["reason"]
    # A version-1 file (before the refinement pass) still opens, with the same honest note.
    refined = summaries_of(ref, cur, {"x": "numeric"})
    data = json.loads(refined.to_json())
    data["version"] = 1
    for side in ("reference", "current"):
        for key in ("refine_intervals", "refine_below", "refine_values"):
            del data[side]["columns"]["x"]["numeric"][key]
    old = DriftSummaries.from_json(json.dumps(data)).report().table.iloc[0]
    assert "lower bound" in old["p_method"]
    assert old["statistic"] == row["statistic"]


def test_past_the_cap_the_report_says_d_is_binned(monkeypatch: pytest.MonkeyPatch) -> None:
    ref, cur = _data(12, 20_000, "same distribution")
    monkeypatch.setattr(refine, "REFINE_MAX_VALUES", 10)
    summaries = summaries_of(ref, cur, {"x": "numeric"})
    part = summaries.reference.columns["x"].numeric
    assert part is not None
    assert part.refine_intervals is not None
    assert part.refine_values is None
    row = summaries.report().table.iloc[0]
    assert "refinement cap" in row["p_method"]
    assert row["statistic"] <= compare(ref, cur).table.iloc[0]["statistic"]


def test_a_refinement_that_does_not_fit_the_summaries_is_not_trusted() -> None:
    ref, cur = _data(13, 15_000, "tiny shift")
    summaries = summaries_of(ref, cur, {"x": "numeric"})
    col = summaries.current.columns["x"]
    assert col.numeric is not None
    assert col.numeric.refine_values is not None
    assert col.numeric.refine_counts is not None
    outside = np.append(col.numeric.refine_values, 1e6)  # a value in no interval
    counts = np.append(col.numeric.refine_counts, 1)
    forged = replace(col, numeric=replace(col.numeric, refine_values=outside, refine_counts=counts))
    cur_summary = replace(summaries.current, columns={"x": forged})
    row = replace(summaries, current=cur_summary).report().table.iloc[0]
    assert "does not match" in row["p_method"]


@pytest.mark.parametrize("case", ["tiny shift", "same distribution", "ties", "outside the reference range"])
def test_the_zoom_pass_keeps_d_and_p_bit_for_bit(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many values in the candidate fine bins: a zoom pass (counts on sub-bins) narrows them first."""
    ref, cur = _data(20 + CASES.index(case), 30_000, case)
    direct = summarise_frames([ref], [cur], {"x": "numeric"})
    monkeypatch.setattr(dataset, "VALUES_DIRECT", 10)
    asked: list[tuple[str, ...]] = []

    def reader(frame: pd.DataFrame) -> object:
        def read(columns: Sequence[str]) -> list[pd.DataFrame]:
            asked.append(tuple(columns))
            return [frame.iloc[:7_000], frame.iloc[7_000:]]

        return read

    plain = summarise_frames([ref], [cur], {"x": "numeric"}, refine=False)
    zoomed = refine_summaries(plain, reader(ref), reader(cur))  # type: ignore[arg-type]
    assert asked == [("x",)] * 4  # zoom pass, then values pass, each side
    z, d = zoomed.reference.columns["x"].numeric, direct.reference.columns["x"].numeric
    assert z is not None
    assert d is not None
    assert z.refine_values is not None
    assert d.refine_values is not None
    assert z.refine_values.size <= d.refine_values.size  # the zoom keeps no more values
    exact = compare(ref, cur).table.iloc[0]
    got = zoomed.report().table.iloc[0]
    assert (got["statistic"], got["p_value"], got["p_method"]) == (
        exact["statistic"],
        exact["p_value"],
        exact["p_method"],
    )


def test_the_refinement_pass_reads_only_the_columns_that_need_it() -> None:
    rng = np.random.default_rng(4)
    n = 12_000
    ref = pd.DataFrame({"x": rng.normal(0, 1, n), "k": rng.poisson(3, n), "c": rng.choice(["a", "b"], n)})
    cur = pd.DataFrame({"x": rng.normal(0.01, 1, n), "k": rng.poisson(3, n), "c": rng.choice(["a", "b"], n)})
    _, kinds = plan_tests(ref, cur, columns=None, tests=None, kinds=None, exclude=[], names=("r", "c"))
    plain = summarise_frames([ref], [cur], kinds, refine=False)
    asked: list[tuple[str, ...]] = []

    def reader(frame: pd.DataFrame) -> object:
        def read(columns: Sequence[str]) -> list[pd.DataFrame]:
            asked.append(tuple(columns))
            return [frame[list(columns)]]

        return read

    refined = refine_summaries(plain, reader(ref), reader(cur))  # type: ignore[arg-type]
    assert asked == [("x",), ("x",)]  # counts (distinct values) and categories are exact already
    assert refined.to_json() == summarise_frames([ref], [cur], kinds).to_json()
    assert (
        compare(ref, cur).table.set_index("column").loc["x", "p_value"]
        == (refined.report().table.set_index("column").loc["x", "p_value"])
    )
