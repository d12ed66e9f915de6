"""Summaries of whole datasets, in two passes, and the summary file the app and the CLI open.

Pass 1 reads the reference once for what the fine edges need (exact min/max, distinct values, a
hash-thinned sample); :func:`edges_for` turns its merged result into fixed edges; pass 2 summarises
each side on those edges. The refinement passes (:func:`refine_summaries`) then read, for the numeric
columns whose KS D is not yet exact, both sides' values in the few fine bins that can hold the largest
ECDF gap (after counting them on sub-bins when they are many; :mod:`lib.drift.summary.refine`), so D
and its p-value are :func:`compare`'s. Each pass is a map over batches (or Spark partitions) and an
exact merge, so the streaming path (:mod:`lib.drift.summary.stream`) and the Spark job
(``lib/spark/job.py``) produce the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import pandas as pd

from lib.drift.engine import prepare_side
from lib.drift.report import DriftReport
from lib.drift.rule import DEFAULTS
from lib.drift.summary.evaluate import report_from_summaries
from lib.drift.summary.refine import (
    VALUES_DIRECT,
    below_counts,
    bin_intervals,
    ks_bounds,
    merge_kept,
    pairs_in,
    zoom_counts,
    zoom_edges,
    zoomed_bins,
)
from lib.drift.summary.sketch import ColumnSummary, NumericPart, fine_edges, summarise_column
from lib.drift.types import TESTABLE_KINDS
from lib.errors import InputError

#: ``"format"`` field of a summary file.
SUMMARY_FORMAT: Final = "driftwatch-drift-summaries"
SUMMARY_VERSION: Final = 2
#: Versions :meth:`DriftSummaries.from_json` opens (1: before the refinement pass; D stays binned).
SUMMARY_VERSIONS: Final = (1, 2)

Edges = Mapping[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class DatasetSummary:
    """Mergeable summaries of every testable column of one dataset (one side of a comparison).

    Attributes
    ----------
    n_rows : int
    columns : dict column → ColumnSummary
        Only testable columns (numeric, categorical, boolean) are summarised.
    """

    n_rows: int = 0
    columns: dict[str, ColumnSummary] = field(default_factory=dict)

    def merge(self, other: DatasetSummary) -> DatasetSummary:
        """Both datasets' rows together (exact, associative, commutative)."""
        names = list(dict.fromkeys([*self.columns, *other.columns]))
        merged = {}
        for name in names:
            a, b = self.columns.get(name), other.columns.get(name)
            merged[name] = a.merge(b) if a is not None and b is not None else (a or b)
        return DatasetSummary(self.n_rows + other.n_rows, {k: v for k, v in merged.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "columns": {k: v.to_dict() for k, v in sorted(self.columns.items())}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetSummary:
        return cls(
            int(data["n_rows"]), {str(k): ColumnSummary.from_dict(v) for k, v in data["columns"].items()}
        )

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): equal summaries give equal bytes."""
        return dumps(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatasetSummary) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())


def dumps(data: Any) -> str:
    """Canonical JSON: sorted keys, compact separators, strict (no NaN)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def summarise_frame(
    frame: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    edges: Edges | None = None,
    first_pass: bool = False,
) -> DatasetSummary:
    """Summarise one batch of rows: every testable column in ``kinds`` (absent ones count as missing).

    ``first_pass`` keeps the reference sample the edges are drawn from; otherwise numeric columns
    are counted on ``edges`` (which must then be given for each of them).
    """
    n = len(frame)
    columns = {}
    for name, kind in kinds.items():
        if kind not in TESTABLE_KINDS:
            continue
        series = frame[name] if name in frame.columns else pd.Series([None] * n, dtype="object")
        column_edges = None
        if kind == "numeric" and not first_pass:
            if edges is None or name not in edges:
                raise InputError(f"No bin edges for numeric column {name!r}: run the first pass first.")
            column_edges = edges[name]
        columns[name] = summarise_column(series, kind, edges=column_edges, sample=first_pass)
    return DatasetSummary(n, columns)


def merge_all(summaries: Iterable[DatasetSummary]) -> DatasetSummary:
    """Merge any number of summaries (empty input → the empty summary)."""
    out = DatasetSummary()
    for s in summaries:
        out = out.merge(s)
    return out


def edges_for(first_pass: DatasetSummary) -> dict[str, np.ndarray]:
    """Fixed fine edges per numeric column from the reference's merged first pass."""
    return {
        name: fine_edges(col.numeric) for name, col in first_pass.columns.items() if col.numeric is not None
    }


def edges_to_json(edges: Edges) -> str:
    return dumps({k: v.tolist() for k, v in sorted(edges.items())})


def edges_from_json(text: str) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in json.loads(text).items()}


@dataclass(frozen=True, eq=False)
class DriftSummaries:
    """What a drift run over datasets keeps: both sides' summaries and the column kinds.

    ``to_json()`` is the summary file the Spark job writes and ``driftwatch report`` / the app open;
    :meth:`report` applies :func:`lib.drift.compare`'s rule to it.
    """

    reference: DatasetSummary
    current: DatasetSummary
    kinds: dict[str, str]
    reference_name: str = "reference"
    current_name: str = "current"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SUMMARY_FORMAT,
            "version": SUMMARY_VERSION,
            "kinds": [[k, v] for k, v in self.kinds.items()],  # a list: column order matters
            "reference_name": self.reference_name,
            "current_name": self.current_name,
            "reference": self.reference.to_dict(),
            "current": self.current.to_dict(),
        }

    def to_json(self) -> str:
        """Canonical JSON: the same summaries always give the same bytes."""
        return dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> DriftSummaries:
        """Read a summary file.

        Raises
        ------
        InputError
            If the text is not a Driftwatch summary file (or a newer version of one).
        """
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as err:
            raise InputError(f"Not a summary file: the JSON does not parse ({err}).") from err
        if not isinstance(data, dict) or data.get("format") != SUMMARY_FORMAT:
            raise InputError(
                "Not a Driftwatch drift-summary file.",
                hint=f'Expected a JSON object with "format": "{SUMMARY_FORMAT}" (written by the Spark job '
                "or `driftwatch summarise`).",
            )
        if data.get("version") not in SUMMARY_VERSIONS:
            raise InputError(
                f"Summary file version {data.get('version')!r} is not supported "
                f"(this Driftwatch opens versions {', '.join(map(str, SUMMARY_VERSIONS))})."
            )
        try:
            return cls(
                reference=DatasetSummary.from_dict(data["reference"]),
                current=DatasetSummary.from_dict(data["current"]),
                kinds={str(k): str(v) for k, v in data["kinds"]},
                reference_name=str(data.get("reference_name", "reference")),
                current_name=str(data.get("current_name", "current")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(f"The summary file is damaged: {err!r}.") from err

    def report(
        self,
        *,
        columns: Sequence[str] | None = None,
        tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
        alpha: float = DEFAULTS.alpha,
        thresholds: Mapping[str, float] | None = None,
        exclude: Iterable[str | None] = (),
    ) -> DriftReport:
        """The drift report (:class:`~lib.drift.report.DriftReport`, as :func:`lib.drift.compare` returns)."""
        return report_from_summaries(
            self.reference.columns,
            self.current.columns,
            kinds=self.kinds,
            n_reference=self.reference.n_rows,
            n_current=self.current.n_rows,
            columns=columns,
            tests=tests,
            alpha=alpha,
            thresholds=thresholds,
            exclude=exclude,
            reference_name=self.reference_name,
            current_name=self.current_name,
        )


@dataclass(frozen=True)
class RefinePlan:
    """What the refinement passes read (:func:`plan_refinement`, then :meth:`after_zoom`).

    Attributes
    ----------
    edges : dict column → numpy.ndarray
        Fine edges of every numeric column whose KS D the counts leave inexact.
    zoom : dict column → (candidate fine bins, zoomed grid)
        Columns whose candidate fine bins hold many values: the zoom pass counts them on the grid.
    intervals : dict column → numpy.ndarray
        Final candidate ``(left, right]`` intervals per column (``(k, 2)``).
    below : dict column → (reference counts, current counts)
        Each side's count of values at or below each interval's left end.
    read : tuple of str
        Columns with intervals: the values pass reads these (one whose intervals hold more than
        ``REFINE_MAX_VALUES`` distinct values a side keeps the binned D, and its report says so).
    """

    edges: dict[str, np.ndarray] = field(default_factory=dict)
    zoom: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    intervals: dict[str, np.ndarray] = field(default_factory=dict)
    below: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    read: tuple[str, ...] = ()

    def after_zoom(
        self, reference: DatasetSummary, current: DatasetSummary, counts: tuple[ColumnArrays, ColumnArrays]
    ) -> RefinePlan:
        """The plan once the zoom pass's counts are in: candidates on the zoomed grids."""
        intervals, below, read = dict(self.intervals), dict(self.below), list(self.read)
        for name, (bins, grid) in self.zoom.items():
            ref, cur = _parts(reference, current, name)
            grid_bins = []
            for part, side in ((ref, counts[0]), (cur, counts[1])):
                found = side.get(name)
                assert part.bins is not None
                counted = _zeros(grid) if found is None else found
                grid_bins.append(zoomed_bins(part.bins, self.edges[name], bins, grid, counted))
            _choose(name, ref, cur, grid, grid_bins[0], grid_bins[1], intervals, below, read)
        return replace(self, zoom={}, intervals=intervals, below=below, read=tuple(sorted(read)))


ColumnArrays = Mapping[str, np.ndarray | None]


def _zeros(grid: np.ndarray) -> np.ndarray:
    return np.zeros(grid.size + 1, dtype=np.int64)


def _parts(reference: DatasetSummary, current: DatasetSummary, name: str) -> tuple[NumericPart, NumericPart]:
    ref, cur = reference.columns[name].numeric, current.columns[name].numeric
    assert ref is not None
    assert cur is not None
    return ref, cur


def _range(ref: NumericPart, cur: NumericPart) -> tuple[float, float]:
    """Finite ends closing the outer bins: just below the smallest value, and the largest."""
    lows = [v for v in (ref.min, cur.min) if v is not None]
    highs = [v for v in (ref.max, cur.max) if v is not None]
    return float(np.nextafter(min(lows), -np.inf)), float(max(highs))


def _choose(
    name: str,
    ref: NumericPart,
    cur: NumericPart,
    grid: np.ndarray,
    ref_bins: np.ndarray,
    cur_bins: np.ndarray,
    intervals: dict[str, np.ndarray],
    below: dict[str, tuple[np.ndarray, np.ndarray]],
    read: list[str],
) -> None:
    """Final intervals of one column on a grid, and whether the values pass reads them (the cap)."""
    bins = ks_bounds(ref_bins, cur_bins).candidates
    lo, hi = _range(ref, cur)
    intervals[name] = bin_intervals(grid, bins, lo, hi)
    below[name] = (below_counts(ref_bins, bins), below_counts(cur_bins, bins))
    if bins.size:  # the cap (REFINE_MAX_VALUES distinct values a side) applies as the pass merges
        read.append(name)


def _needs_refinement(ref: NumericPart, cur: NumericPart) -> bool:
    exact = (ref.values is not None or ref.distinct is not None) and (
        cur.values is not None or cur.distinct is not None
    )
    return (
        not exact
        and ref.n > 0
        and cur.n > 0
        and ref.bins is not None
        and cur.bins is not None
        and ref.edges is not None
        and cur.edges is not None
        and ref.edges.size > 0
        and np.array_equal(ref.edges, cur.edges)
    )


def plan_refinement(reference: DatasetSummary, current: DatasetSummary) -> RefinePlan:
    """Candidate fine bins of every numeric column whose KS D the counts alone leave inexact: read
    directly when they hold few values, else zoomed into first."""
    edges: dict[str, np.ndarray] = {}
    zoom: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    intervals: dict[str, np.ndarray] = {}
    below: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    read: list[str] = []
    for name, ref_col in reference.columns.items():
        cur_col = current.columns.get(name)
        if ref_col.numeric is None or cur_col is None or cur_col.numeric is None:
            continue
        ref, cur = ref_col.numeric, cur_col.numeric
        if not _needs_refinement(ref, cur):
            continue
        assert ref.bins is not None
        assert cur.bins is not None
        assert ref.edges is not None
        edges[name] = ref.edges
        bins = ks_bounds(ref.bins, cur.bins).candidates
        if max(int(ref.bins[bins].sum()), int(cur.bins[bins].sum())) <= VALUES_DIRECT:
            _choose(name, ref, cur, ref.edges, ref.bins, cur.bins, intervals, below, read)
        else:
            zoom[name] = (bins, zoom_edges(ref.edges, bins, *_range(ref, cur)))
    return RefinePlan(edges, zoom, intervals, below, tuple(sorted(read)))


def refine_frame(frame: pd.DataFrame, plan: RefinePlan, stage: str) -> dict[str, np.ndarray]:
    """One batch's share of a refinement pass (cleaned as pass 2): ``stage="zoom"``: counts on the
    zoomed grids; ``stage="values"``: the distinct values in the final intervals with their counts."""
    columns = tuple(plan.zoom) if stage == "zoom" else plan.read
    out = {}
    for name in columns:
        if name not in frame.columns:
            continue
        side = prepare_side(frame[name], "numeric")
        assert side.sorted is not None
        values = side.sorted + 0.0
        if stage == "zoom":
            bins, grid = plan.zoom[name]
            out[name] = zoom_counts(values, plan.edges[name], bins, grid)
        else:
            out[name] = pairs_in(values, plan.intervals[name])
    return out


Refined = dict[str, np.ndarray | None]


def merge_refined(parts: Iterable[Mapping[str, np.ndarray | None]], stage: str) -> Refined:
    """Batches' shares of a pass together, per column, as they come (memory: one merged share per
    column): counts added (zoom); value/count pairs united, None past ``REFINE_MAX_VALUES`` distinct
    values (values). Exact in any split and order."""
    merged: Refined = {}
    for part in parts:
        for name, share in part.items():
            if stage == "zoom":
                before = merged.get(name)
                assert share is not None
                merged[name] = share.astype(np.int64) if before is None else before + share
            else:
                merged[name] = merge_kept([merged[name], share] if name in merged else [share])
    return merged


def attach_refinement(
    summary: DatasetSummary, plan: RefinePlan, values: Mapping[str, np.ndarray | None], side: int
) -> DatasetSummary:
    """One side's summary (``side`` 0: reference, 1: current) with the refinement: intervals, counts
    below them and the value/count pairs in them (None past the cap)."""
    columns = dict(summary.columns)
    for name, intervals in plan.intervals.items():
        column = columns[name]
        assert column.numeric is not None
        pairs = values.get(name, np.empty((2, 0))) if intervals.size else np.empty((2, 0))
        numeric = replace(
            column.numeric,
            refine_intervals=intervals,
            refine_below=plan.below[name][side],
            refine_values=None if pairs is None else pairs[0],
            refine_counts=None if pairs is None else pairs[1].astype(np.int64),
        )
        columns[name] = replace(column, numeric=numeric)
    return DatasetSummary(summary.n_rows, columns)


FrameReader = Callable[[Sequence[str]], Iterable[pd.DataFrame]]


def refine_summaries(
    summaries: DriftSummaries, reference: FrameReader, current: FrameReader
) -> DriftSummaries:
    """The refinement passes (zoom when needed, then values): both sides read once or twice more,
    only the columns that need it, for an exact KS D.

    ``reference``/``current`` return a fresh iterable of frames holding at least the given columns.
    """
    ref, cur = summaries.reference, summaries.current
    plan = plan_refinement(ref, cur)

    def run(stage: str, columns: Sequence[str]) -> tuple[Refined, Refined]:
        return (
            merge_refined((refine_frame(f, plan, stage) for f in reference(columns)), stage),
            merge_refined((refine_frame(f, plan, stage) for f in current(columns)), stage),
        )

    if plan.zoom:
        plan = plan.after_zoom(ref, cur, run("zoom", tuple(plan.zoom)))
    if not plan.intervals:
        return summaries
    ref_values, cur_values = run("values", plan.read) if plan.read else ({}, {})
    return replace(
        summaries,
        reference=attach_refinement(ref, plan, ref_values, 0),
        current=attach_refinement(cur, plan, cur_values, 1),
    )


def summarise_frames(
    reference: Iterable[pd.DataFrame] | Any,
    current: Iterable[pd.DataFrame] | Any,
    kinds: Mapping[str, str],
    *,
    reference_name: str = "reference",
    current_name: str = "current",
    refine: bool = True,
) -> DriftSummaries:
    """Summaries from batches of rows: two passes, then the refinement pass for an exact KS D.

    ``reference`` is read at least twice, so it must be a zero-argument callable returning a fresh
    iterable of frames (or a list). ``current`` is read twice when it is one too; a one-shot
    iterator is read once and its numeric columns keep the binned D (a lower bound; the report
    says so). ``refine=False`` skips the refinement pass.
    """

    def frames(source: Any) -> Iterable[pd.DataFrame]:
        return source() if callable(source) else source

    def again(source: Any) -> bool:
        return callable(source) or isinstance(source, Sequence)

    first = merge_all(summarise_frame(f, kinds, first_pass=True) for f in frames(reference))
    edges = edges_for(first)
    ref = merge_all(summarise_frame(f, kinds, edges=edges) for f in frames(reference))
    cur = merge_all(summarise_frame(f, kinds, edges=edges) for f in frames(current))
    summaries = DriftSummaries(ref, cur, dict(kinds), reference_name, current_name)
    if not (refine and again(reference) and again(current)):
        return summaries
    return refine_summaries(summaries, lambda _: frames(reference), lambda _: frames(current))


def summaries_of(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    batch_rows: int | None = None,
) -> DriftSummaries:
    """:func:`summarise_frames` of two in-memory frames, optionally cut into batches of ``batch_rows``."""

    def cut(frame: pd.DataFrame) -> list[pd.DataFrame]:
        if not batch_rows:
            return [frame]
        return [frame.iloc[i : i + batch_rows] for i in range(0, max(len(frame), 1), batch_rows)]

    return summarise_frames(cut(reference), cut(current), kinds)
