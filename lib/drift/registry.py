"""The drift-test registry: every test is declared once, next to its code, with ``@register``.

A test function receives a :class:`Samples` (the cleaned reference and current values of one
column, plus the sorted arrays, ECDF gaps, bins and category counts that several tests share, each
computed at most once) and returns ``(statistic, p_value)``; ``p_value`` is ``None`` for pure
distances. :class:`DriftTest` wraps it: ``TESTS["ks"](reference, current)`` drops missing and
non-finite values, checks the input and returns a frozen :class:`TestResult`.

Where scipy has the test, the statistic and p-value are scipy's for the same data; the KS and
Wasserstein fast paths below compute the same quantities from sorted arrays (pinned against scipy
in ``tests/test_drift_reference_values.py``).

No p-value has a floor or cap (pinned per test in ``tests/unit/drift/test_drift_calibration.py``):

* distances (PSI, Jensen-Shannon, Hellinger, Wasserstein, energy) get a permutation p-value
  (:mod:`lib.drift.resample`), so they are judged on their own null distribution;
* Anderson-Darling: scipy's tabulated p-value is clipped to [0.001, 0.25]; outside that range the
  asymptotic distribution of the 2-sample statistic (the one-sample A² limit, Marsaglia &
  Marsaglia 2004) takes over;
* chi-square with expected counts below 5, and KS on heavily tied values (at most
  :data:`TIED_MAX_DISTINCT` distinct values), use exact-permutation Monte-Carlo p-values over the
  counts (the asymptotic ones are liberal or conservative there).

``TestResult.method`` says how each p-value was obtained.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.spatial import distance

from lib.drift import resample
from lib.errors import InputError

_T = TypeVar("_T")

if TYPE_CHECKING:  # the same typing as functools' descriptor
    from functools import cached_property
else:

    class cached_property(Generic[_T]):  # noqa: N801 (named after the functools descriptor it replaces)
        """``functools.cached_property`` without its lock.

        Python 3.11's version holds one lock per *class attribute*, shared by every instance: two
        threads computing ``ecdf_gaps`` of two different columns wait for each other, so the
        report's worker threads (and concurrent app sessions) ran the numeric work one at a time.
        Here the value is computed and stored in the instance's ``__dict__`` with no lock (Python
        3.12 did the same); two threads asking the same instance at once may both compute it, which
        is harmless for these pure, idempotent values.
        """

        def __init__(self, func: Callable[[Any], _T]) -> None:
            self.func = func
            self.attrname: str | None = None
            self.__doc__ = func.__doc__

        def __set_name__(self, owner: type, name: str) -> None:
            self.attrname = name

        def __get__(self, instance: Any, owner: type | None = None) -> Any:
            if instance is None:
                return self
            assert self.attrname is not None
            value = instance.__dict__[self.attrname] = self.func(instance)
            return value


Treatment = Literal["numeric", "categorical"]
TestKind = Literal["p_value", "distance"]

#: Number of reference-quantile bins used by the binned tests (PSI, JS, Hellinger) on numbers.
N_BINS: Final = 10
#: Shares are floored at this value inside PSI's logarithm (an empty bin would make PSI infinite).
PSI_EPSILON: Final = 1e-4
#: Fewest usable values per side a test accepts.
MIN_VALUES: Final = 2
#: Above this many values per side, KS uses the asymptotic p-value (scipy's ``method="auto"`` rule).
KS_EXACT_MAX_N: Final = 10_000
#: KS on at most this many distinct pooled values uses a Monte-Carlo permutation p-value (ties).
TIED_MAX_DISTINCT: Final = 100
#: Chi-square uses a Monte-Carlo permutation p-value when an expected count is below this.
CHI2_MIN_EXPECTED: Final = 5.0


class UnknownDriftTest(InputError):  # noqa: N818 (name fixed by the design card)
    """A drift-test name that is not in the registry."""


@dataclass(frozen=True)
class TestResult:
    """Outcome of one drift test on one pair of samples.

    Attributes
    ----------
    statistic : float
        The test statistic (scipy's where scipy has the test).
    p_value : float or None
        Two-sided p-value; ``None`` for pure distances.
    test : str
        Registry name of the test.
    n_reference, n_current : int
        Values used after dropping missing and non-finite ones.
    method : str
        How the p-value was obtained (``"exact"``, ``"asymptotic"``, ``"permutation, 999
        resamples"``…); empty when the test does not say.
    """

    __test__ = False  # not a pytest class, despite the name

    statistic: float
    p_value: float | None
    test: str
    n_reference: int
    n_current: int
    method: str = ""


class Samples:
    """Cleaned reference/current values of one column and the arrays tests share.

    Numeric samples are finite float64 arrays; categorical samples are described by their
    category counts. Everything derived (sorted arrays, ECDF gaps, bins) is computed lazily, once.

    Parameters
    ----------
    reference, current : numpy.ndarray or None
        The values. For numbers pass finite float64 arrays (sorted when ``presorted``).
    treatment : {"numeric", "categorical"}
        How the tests treat the values.
    presorted : bool
        The numeric arrays are already sorted ascending (saves a sort per side).
    counts : tuple of (categories, reference counts, current counts), optional
        Category counts, when the caller already has them (the report computes them with pandas).
    """

    def __init__(
        self,
        reference: np.ndarray | None,
        current: np.ndarray | None,
        treatment: Treatment,
        *,
        presorted: bool = False,
        counts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.treatment: Treatment = treatment
        self._reference = reference
        self._current = current
        self._presorted = presorted
        if counts is not None:
            self.__dict__["counts"] = counts
        if treatment == "numeric":
            if reference is None or current is None:
                raise ValueError("numeric samples need both arrays")
            self.n_reference = int(reference.size)
            self.n_current = int(current.size)
        else:
            _, ref_counts, cur_counts = self.counts
            self.n_reference = int(ref_counts.sum())
            self.n_current = int(cur_counts.sum())

    # --- numbers -------------------------------------------------------------------------------
    @cached_property
    def reference_sorted(self) -> np.ndarray:
        """Reference values, ascending."""
        assert self._reference is not None
        return self._reference if self._presorted else np.sort(self._reference)

    @cached_property
    def current_sorted(self) -> np.ndarray:
        """Current values, ascending."""
        assert self._current is not None
        return self._current if self._presorted else np.sort(self._current)

    @cached_property
    def ecdf_gaps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Pooled sorted values, ``F_reference - F_current`` after each, and tie-group ends.

        One merge of the two sorted runs (:attr:`_merge`) replaces scipy's per-test
        sort and searchsorted calls; KS and Wasserstein both read from it. The gap is computed
        from integer counts, as scipy does. The third item marks the last position of each run of
        tied values (``None`` when there are no ties): only there is the gap the right-continuous
        ECDF difference that KS needs; Wasserstein does not care (tied values have zero width).
        """
        merged, ref_count, _ = self._merge
        ref, cur = self.reference_sorted, self.current_sorted
        cur_count = np.arange(1, merged.size + 1)
        cur_count -= ref_count
        gaps = ref_count / ref.size
        gaps -= np.divide(cur_count, cur.size, out=cur_count.astype(np.float64, copy=False))
        ties = merged[1:] == merged[:-1]
        ends = np.append(~ties, True) if ties.any() else None
        return merged, gaps, ends

    @cached_property
    def _merge(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled sorted values, the count of reference values up to each position, and which
        positions hold reference values (a stable merge: reference first among equal values).

        One stable argsort of the two sorted runs laid end to end: numpy's stable sort is a timsort,
        which finds the two runs and merges them in one linear pass (about half the time of placing
        each current value with ``searchsorted``); no pooled sort of unsorted values.
        """
        ref, cur = self.reference_sorted, self.current_sorted
        pooled = np.concatenate([ref, cur])
        order = np.argsort(pooled, kind="stable")
        is_ref = order < ref.size
        return pooled[order], np.cumsum(is_ref), is_ref

    @cached_property
    def is_constant(self) -> bool:
        """Both samples hold one and the same value (nothing can differ)."""
        if self.treatment == "numeric":
            ref, cur = self.reference_sorted, self.current_sorted
            return bool(ref[0] == ref[-1] == cur[0] == cur[-1])
        return int(self.counts[0].size) < 2

    @cached_property
    def tied_counts(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Counts per distinct pooled value (reference, current) when there are few distinct values.

        ``None`` above :data:`TIED_MAX_DISTINCT` distinct values (ties are then too rare to matter).
        """
        merged, _, ends = self.ecdf_gaps
        if ends is None:
            return None
        last = np.flatnonzero(ends)
        if last.size > TIED_MAX_DISTINCT:
            return None
        ref_upto = np.searchsorted(self.reference_sorted, merged[last], side="right")
        cur_upto = np.searchsorted(self.current_sorted, merged[last], side="right")
        return np.diff(ref_upto, prepend=0), np.diff(cur_upto, prepend=0)

    @cached_property
    def ks_statistic(self) -> float:
        """Largest vertical gap between the two ECDFs (KS D)."""
        _, gaps, ends = self.ecdf_gaps
        return float(np.max(np.abs(gaps if ends is None else gaps[ends])))

    @cached_property
    def spread(self) -> float:
        """Scale for normalised distances: the reference std, else the current std, else 1."""
        for values in (self.reference_sorted, self.current_sorted):
            std = float(np.std(values))
            if std > 0 and math.isfinite(std):
                return std
        return 1.0

    @cached_property
    def wasserstein(self) -> float:
        """Earth mover's distance between the two samples (unnormalised), scipy's definition."""
        merged, gaps, _ = self.ecdf_gaps
        if merged.size < 2:
            return 0.0
        return dot(np.abs(gaps[:-1]), np.diff(merged))

    @cached_property
    def normal_scores(self) -> np.ndarray:
        """Pooled sorted values (``ecdf_gaps``'s) mapped to reference normal scores.

        ``Φ⁻¹`` of the reference's mid-rank ECDF, clipped to ``[1/(2n), 1 - 1/(2n)]``: monotone, so
        a value's score depends on the value only; the reference becomes standard normal whatever
        its shape (sentinel spikes and heavy tails included).
        """
        _, _, ends = self.ecdf_gaps
        _, ref_count, is_ref = self._merge
        n = self.reference_sorted.size
        if ends is None:  # no ties: below = up to this value minus the value itself
            twice = ref_count * 2
            twice -= is_ref
            mid = np.divide(twice, 2.0 * n, out=twice.astype(np.float64, copy=False))
        else:  # ties: one mid-rank per run of equal values
            last = np.flatnonzero(ends)
            first = np.concatenate([[0], last[:-1] + 1])
            group_mid = (ref_count[first] - is_ref[first] + ref_count[last]) / (2.0 * n)
            mid = np.repeat(group_mid, last - first + 1)
        mid = np.clip(mid, 0.5 / n, 1 - 0.5 / n, out=mid)
        if mid.size > _NDTRI_TABLE_ABOVE:  # ndtri costs 75 ns a value; the table, within 1e-6
            return np.interp(mid, *_ndtri_table())
        return special.ndtri(mid)

    @cached_property
    def wasserstein_scores(self) -> float:
        """Wasserstein distance between the two samples on the reference normal-score scale.

        For a normal column this is the Wasserstein distance in reference standard deviations; a
        value that holds 0.5 % of rows far from the bulk, or a heavy tail, no longer dominates it.
        """
        _, gaps, _ = self.ecdf_gaps
        scores = self.normal_scores
        if scores.size < 2:
            return 0.0
        return dot(np.abs(gaps[:-1]), np.diff(scores))

    @cached_property
    def bin_edges(self) -> np.ndarray:
        """Inner edges of :data:`N_BINS` reference-quantile bins (duplicates dropped)."""
        ref = self.reference_sorted
        probs = np.arange(1, N_BINS) / N_BINS
        # np.quantile's default "linear" rule, read straight from the sorted array.
        pos = probs * (ref.size - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, ref.size - 1)
        edges = ref[lo] + (ref[hi] - ref[lo]) * (pos - lo)
        return np.unique(edges)

    # --- categories (or binned numbers) --------------------------------------------------------
    @cached_property
    def counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(categories, reference counts, current counts)`` over the union of categories."""
        if self.treatment == "numeric":
            edges = self.bin_edges
            ref_idx = np.searchsorted(self.reference_sorted, edges, side="right")
            cur_idx = np.searchsorted(self.current_sorted, edges, side="right")
            ref_counts = np.diff(np.concatenate([[0], ref_idx, [self.n_reference]]))
            cur_counts = np.diff(np.concatenate([[0], cur_idx, [self.n_current]]))
            labels = np.array([f"bin {i}" for i in range(edges.size + 1)], dtype=object)
            return labels, ref_counts, cur_counts
        assert self._reference is not None
        assert self._current is not None
        ref = pd.Series(self._reference).value_counts()
        cur = pd.Series(self._current).value_counts()
        both = ref.index.union(cur.index)
        return (
            np.asarray(both, dtype=object),
            ref.reindex(both, fill_value=0).to_numpy(np.int64),
            cur.reindex(both, fill_value=0).to_numpy(np.int64),
        )

    @cached_property
    def shares(self) -> tuple[np.ndarray, np.ndarray]:
        """Reference and current shares per category (or per bin for numbers)."""
        _, ref_counts, cur_counts = self.counts
        return ref_counts / max(ref_counts.sum(), 1), cur_counts / max(cur_counts.sum(), 1)

    @cached_property
    def n_categories(self) -> int:
        """Number of categories (or bins, for numbers)."""
        return int(self.counts[0].size)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``Σ a·b`` of two 1-D arrays in numpy's own loop, not BLAS.

    ``np.dot`` hands long vectors to OpenBLAS, whose threads then spin on the other core for a while
    after every call: during a report that took a core's worth of CPU from the second worker thread
    (or from another app session). ``einsum`` sums in one thread; the values agree to rounding.
    """
    return float(np.einsum("i,i->", a, b))


#: Above this many pooled values, normal scores come from a table (within 1e-6 of ``ndtri``).
_NDTRI_TABLE_ABOVE: Final = 200_000


@functools.cache
def _ndtri_table() -> tuple[np.ndarray, np.ndarray]:
    u = special.expit(np.linspace(-16.0, 16.0, 8001))
    return u, special.ndtri(u)


TestFunction = Callable[[Samples], tuple[float, float | None] | tuple[float, float | None, str]]


@dataclass(frozen=True)
class DriftTest:
    """A registered drift test.

    Attributes
    ----------
    name : str
        Registry key (``"ks"``).
    label : str
        Human name for menus and tables.
    kind : {"p_value", "distance"}
        ``"distance"``: the statistic is a distance whose p-value comes from permutations (the
        distance has no fixed scale that means "drift"); ``"p_value"``: a classical test.
    accepts : tuple of {"numeric", "categorical"}
        Column treatments the test can run on.
    effect : str
        What the statistic measures, in plain words (shown as help text).
    max_categories : int or None
        Largest number of categories the test supports (Fisher's exact test: 2).
    function : callable
        ``Samples -> (statistic, p_value)``.
    """

    name: str
    label: str
    kind: TestKind
    accepts: tuple[Treatment, ...]
    effect: str
    max_categories: int | None
    function: TestFunction

    def __call__(self, reference: Any, current: Any) -> TestResult:
        """Run the test on two 1-D arrays (missing and non-finite values are dropped)."""
        numeric = _is_numeric(reference) and _is_numeric(current)
        treatment: Treatment = "numeric" if numeric and "numeric" in self.accepts else "categorical"
        if treatment not in self.accepts:
            raise InputError(
                f"The {self.label} test needs numbers, but the values are not numeric.",
                hint=f"Pick a test that accepts categories: {sorted(tests_for('categorical'))}.",
            )
        if treatment == "numeric":
            samples = Samples(_finite(reference, "reference"), _finite(current, "current"), "numeric")
        else:
            samples = Samples(_present(reference, "reference"), _present(current, "current"), "categorical")
        return self.run(samples)

    def run(self, samples: Samples) -> TestResult:
        """Run the test on prepared :class:`Samples` (the report's entry point)."""
        for side, n in (("reference", samples.n_reference), ("current", samples.n_current)):
            if n < MIN_VALUES:
                raise InputError(
                    f"The {side} sample has {n} usable value(s); the {self.label} test needs at least "
                    f"{MIN_VALUES}.",
                    hint="Missing and infinite values are dropped before testing.",
                )
        if samples.treatment not in self.accepts:
            raise InputError(f"The {self.label} test does not accept {samples.treatment} data.")
        if self.max_categories is not None and samples.treatment == "categorical":
            k = samples.n_categories
            if k > self.max_categories:
                raise InputError(
                    f"The {self.label} test needs at most {self.max_categories} categories; "
                    f"this column has {k}.",
                    hint="Use the chi-square test for more categories.",
                )
        p_value: float | None
        if samples.is_constant:
            # Both samples hold one and the same value: nothing can differ (scipy refuses several
            # tests on such data, e.g. anderson_ksamp).
            statistic, p_value, method = 0.0, 1.0, "identical constant samples"
        else:
            out = self.function(samples)
            statistic, p_value = out[0], out[1]
            method = str(out[2]) if len(out) > 2 else ""
        return TestResult(
            statistic=float(statistic),
            p_value=None if p_value is None else float(p_value),
            test=self.name,
            n_reference=samples.n_reference,
            n_current=samples.n_current,
            method=str(method),
        )


#: The registry: name → :class:`DriftTest`. Add a test with ``@register`` below; nothing else.
TESTS: dict[str, DriftTest] = {}


def register(
    name: str,
    *,
    label: str,
    kind: TestKind,
    accepts: tuple[Treatment, ...],
    effect: str,
    max_categories: int | None = None,
) -> Callable[[TestFunction], TestFunction]:
    """Declare a drift test: ``@register("ks", label=..., kind="p_value", accepts=("numeric",), effect=...)``.

    Raises
    ------
    ValueError
        If the name is already taken.
    """

    def decorate(function: TestFunction) -> TestFunction:
        if name in TESTS:
            raise ValueError(f"drift test {name!r} is registered twice")
        TESTS[name] = DriftTest(name, label, kind, accepts, effect, max_categories, function)
        return function

    return decorate


def get_test(name: str) -> DriftTest:
    """Look a test up by name.

    Raises
    ------
    UnknownDriftTest
        If ``name`` is not registered; the hint lists the valid names.
    """
    try:
        return TESTS[name]
    except KeyError:
        raise UnknownDriftTest(
            f"Unknown drift test {name!r}.", hint=f"Valid tests: {', '.join(sorted(TESTS))}."
        ) from None


def tests_for(treatment: Treatment) -> list[str]:
    """Names of the tests that accept a column treatment, sorted."""
    return sorted(name for name, test in TESTS.items() if treatment in test.accepts)


def tests_for_kind(kind: str) -> list[str]:
    """Names of the tests that fit a column kind (numbers → numeric tests, else category tests).

    Pages build their per-column test menus from this, so a newly registered test appears there.
    """
    return tests_for("numeric" if kind == "numeric" else "categorical")


def _is_numeric(values: Any) -> bool:
    arr = np.asarray(values)
    return arr.dtype.kind in "biuf"


def _finite(values: Any, side: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def _present(values: Any, side: str) -> np.ndarray:
    arr = np.asarray(values, dtype=object).ravel()
    return arr[~pd.isna(arr)]


#: Largest n for which scipy's ``smirnov(n, x)`` sums the exact series (above it, an asymptotic form).
_SMIRNOV_EXACT_MAX_N: Final = 1_000_000


def _smirnov_exact(n: int, x: float) -> float:
    """P(D+_n >= x) by the exact Birnbaum–Tingey sum, vectorised in log space.

    The same series scipy's ``special.smirnov`` sums term by term in C, holding the GIL (0.7 s at
    n = 500,000); here it is one numpy pass (about 40 ms). All terms are positive, so summing them in
    log space loses nothing; agreement with scipy is within 1e-9 relative (tested).
    """
    j = np.arange(math.floor(n * (1.0 - x)) + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):  # the last term can be exactly 0 (log 0 = -inf, exp -> 0)
        log_terms = (
            special.gammaln(n + 1.0)
            - special.gammaln(j + 1.0)
            - special.gammaln(n - j + 1.0)
            + (n - j) * np.log1p(-x - j / n)
            + (j - 1.0) * np.log(x + j / n)
        )
    top = float(log_terms.max())
    return float(x * math.exp(top) * np.exp(log_terms - top).sum())


def kstwo_sf(d: float, n: int) -> float:
    """``scipy.stats.kstwo.sf(d, n)``, with scipy's slow exact Smirnov branch computed faster.

    Follows scipy's own branch choice (``scipy.stats._ksstats._kolmogn``): only where scipy would
    return ``2 * smirnov(n, d)`` by the exact sum (n > 140, 2.2 <= n·d² < 370, d < 0.5) is the
    vectorised sum used; everywhere else scipy is called as is.
    """
    t, nxsq = n * d, n * d * d
    if 140 < n <= _SMIRNOV_EXACT_MAX_N and 1.0 < t < n - 1 and d < 0.5 and 2.2 <= nxsq < 370.0:
        return float(np.clip(2.0 * _smirnov_exact(n, d), 0.0, 1.0))
    return float(np.clip(stats.kstwo.sf(d, n), 0.0, 1.0))


# --------------------------------------------------------------------------------------------------
# The tests. Each one: a decorator and a few lines.
# --------------------------------------------------------------------------------------------------


#: scipy's exact KS results by ``(n_reference, n_current, h)`` (bounded; cleared when full).
_KS_EXACT: dict[tuple[int, int, int], tuple[float, float]] = {}
_KS_EXACT_SIZE: Final = 100_000
#: Held while a key is looked up and, if new, computed (at most 10,000 values a side: milliseconds).
_KS_EXACT_LOCK: Final = threading.Lock()


@register(
    "ks",
    label="Kolmogorov-Smirnov",
    kind="p_value",
    accepts=("numeric",),
    effect="largest gap between the two cumulative distributions (0-1)",
)
def _ks(s: Samples) -> tuple[float, float | None, str]:
    tied = s.tied_counts
    if tied is not None:
        # Few distinct values: scipy's KS p-value is conservative under ties (1.5 % at 5 %);
        # permute the rows' labels over the counts per value instead (exact null, Monte-Carlo).
        p = resample.count_permutation(tied[0], tied[1], resample.ks_from_counts, n_resamples=1999)
        return s.ks_statistic, p, "Monte-Carlo permutation, 1,999 resamples (tied values)"
    if max(s.n_reference, s.n_current) <= KS_EXACT_MAX_N:
        # scipy's exact result depends on (n, m, h) only, h = round(D · lcm(n, m)) (scipy rounds D to
        # h / lcm itself), and h takes few values at small n: a wide table (10,000 columns of 200
        # rows) asks scipy once per distinct h, not per column.
        sizes = (s.n_reference, s.n_current)
        key = (*sizes, round(s.ks_statistic * math.lcm(*sizes)))
        with _KS_EXACT_LOCK:  # one scipy call per key, even when two worker threads meet it at once
            found = _KS_EXACT.get(key)
            if found is None:
                res = stats.ks_2samp(s.reference_sorted, s.current_sorted)  # exact p-value path
                if len(_KS_EXACT) >= _KS_EXACT_SIZE:
                    _KS_EXACT.clear()
                found = _KS_EXACT[key] = (float(res.statistic), float(res.pvalue))
        return found[0], found[1], "scipy (exact)"
    # scipy's asymptotic branch (method="auto" above 10,000 values), from the shared ECDF gaps.
    d = s.ks_statistic
    m, n = sorted([float(s.n_reference), float(s.n_current)], reverse=True)
    en = np.round(m * n / (m + n))
    return d, kstwo_sf(d, int(en)), "asymptotic (Kolmogorov)"


@register(
    "cramervonmises",
    label="Cramér-von Mises",
    kind="p_value",
    accepts=("numeric",),
    effect="squared gap between the cumulative distributions, summed over all values",
)
def _cramervonmises(s: Samples) -> tuple[float, float | None, str]:
    res = stats.cramervonmises_2samp(s.reference_sorted, s.current_sorted)
    return float(res.statistic), float(res.pvalue), "scipy (exact for small samples, else asymptotic)"


#: Marsaglia & Marsaglia (2004) approximation to the limiting CDF of the Anderson-Darling A².
def ad_limit_sf(z: float) -> float:
    """Upper tail ``P(A² > z)`` of the limiting Anderson-Darling distribution (no floor)."""
    if z <= 0:
        return 1.0
    if z < 2:
        cdf = (
            math.exp(-1.2337141 / z)
            / math.sqrt(z)
            * (2.00012 + (0.247105 - (0.0649821 - (0.0347962 - (0.011672 - 0.00168691 * z) * z) * z) * z) * z)
        )
        return float(min(1.0, max(0.0, 1.0 - cdf)))
    exponent = 1.0776 - (2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.0003146 * z) * z) * z) * z) * z
    return float(-math.expm1(-math.exp(exponent)))


def _ad_unnormalised(statistic: float, n_ref: int, n_cur: int) -> float:
    """scipy's normalised 2-sample statistic back to A²kN (Scholz & Stephens 1987, k = 2)."""
    k, big_n = 2, n_ref + n_cur
    h_sum = 1.0 / n_ref + 1.0 / n_cur
    hs_cs = np.cumsum(1.0 / np.arange(big_n - 1, 1, -1))
    h = float(hs_cs[-1]) + 1
    g = float(np.sum(hs_cs / np.arange(2, big_n)))
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_sum
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_sum - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_sum + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * big_n**3 + b * big_n**2 + c * big_n + d) / ((big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0))
    return statistic * math.sqrt(sigmasq) + (k - 1)


@register(
    "anderson",
    label="Anderson-Darling (k-sample)",
    kind="p_value",
    accepts=("numeric",),
    effect="gap between the cumulative distributions, weighted towards the tails",
)
def _anderson(s: Samples) -> tuple[float, float | None, str]:
    with warnings.catch_warnings():
        # scipy clips its tabulated p-value to [0.001, 0.25]; outside, the limit law takes over.
        warnings.simplefilter("ignore", UserWarning)
        res = stats.anderson_ksamp([s.reference_sorted, s.current_sorted], variant="midrank")
    statistic, p = float(res.statistic), float(res.pvalue)
    if s.n_reference + s.n_current < 4:
        return statistic, p, "tabulated (Scholz & Stephens)"
    if 0.001 < p < 0.25:
        return statistic, p, "tabulated (Scholz & Stephens)"
    limit = ad_limit_sf(_ad_unnormalised(statistic, s.n_reference, s.n_current))
    p = min(limit, 0.001) if p <= 0.001 else max(limit, 0.25)
    return statistic, p, "asymptotic A² law (beyond scipy's table)"


@register(
    "mannwhitney",
    label="Mann-Whitney U",
    kind="p_value",
    accepts=("numeric",),
    effect="whether values in one sample tend to be larger than in the other",
)
def _mannwhitney(s: Samples) -> tuple[float, float | None, str]:
    res = stats.mannwhitneyu(s.reference_sorted, s.current_sorted, alternative="two-sided")
    return float(res.statistic), float(res.pvalue), "scipy (exact for small samples, else normal)"


def _energy_rows(merged: np.ndarray, masks: np.ndarray) -> np.ndarray:
    gaps = resample.ecdf_gaps(masks)
    return np.sqrt(2.0 * (gaps[:, :-1] ** 2) @ np.diff(merged))


def _wasserstein_rows(merged: np.ndarray, masks: np.ndarray) -> np.ndarray:
    gaps = resample.ecdf_gaps(masks)
    return np.abs(gaps[:, :-1]) @ np.diff(merged)


def _value_permutation(s: Samples, rows: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> tuple[float, str]:
    p, used_ref, used_cur = resample.value_permutation(s.reference_sorted, s.current_sorted, rows)
    total = (s.n_reference, s.n_current)
    return p, resample.describe(resample.N_RESAMPLES, (used_ref, used_cur), total)


@register(
    "energy",
    label="Energy distance",
    kind="distance",
    accepts=("numeric",),
    effect="energy distance (scipy: √2 × the L2 distance between the two CDFs; in square-root "
    "data units, so compare it only within one column); p-value by permutation",
)
def _energy(s: Samples) -> tuple[float, float | None, str]:
    statistic = float(stats.energy_distance(s.reference_sorted, s.current_sorted))
    p, method = _value_permutation(s, _energy_rows)
    return statistic, p, method


@register(
    "wasserstein",
    label="Wasserstein (reference-std units)",
    kind="distance",
    accepts=("numeric",),
    effect="how far values moved, in reference standard deviations (a single far-away value or a "
    "heavy tail inflates the std; the report's effect size uses normal scores instead); p-value by "
    "permutation",
)
def _wasserstein(s: Samples) -> tuple[float, float | None, str]:
    p, method = _value_permutation(s, _wasserstein_rows)
    return s.wasserstein / s.spread, p, method


def _psi_rows(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    ref = np.maximum(resample.shares(ref_counts), PSI_EPSILON)
    cur = np.maximum(resample.shares(cur_counts), PSI_EPSILON)
    return np.sum((cur - ref) * np.log(cur / ref), axis=1)


def _js_rows(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    ref, cur = resample.shares(ref_counts), resample.shares(cur_counts)
    mid = (ref + cur) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(ref > 0, ref * np.log2(ref / mid), 0.0)
        right = np.where(cur > 0, cur * np.log2(cur / mid), 0.0)
    return np.sqrt(np.maximum(0.5 * (left.sum(axis=1) + right.sum(axis=1)), 0.0))


def _hellinger_rows(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    ref, cur = resample.shares(ref_counts), resample.shares(cur_counts)
    return np.sqrt(np.maximum(0.5 * np.sum((np.sqrt(ref) - np.sqrt(cur)) ** 2, axis=1), 0.0))


def _count_permutation(s: Samples, rows: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> tuple[float, str]:
    _, ref_counts, cur_counts = s.counts
    p = resample.count_permutation(ref_counts, cur_counts, rows)
    return p, resample.describe(resample.N_RESAMPLES)


@register(
    "psi",
    label="Population stability index",
    kind="distance",
    accepts=("numeric", "categorical"),
    effect="PSI over categories or reference-decile bins; the 0.1 (moderate) / 0.25 (large) rule "
    "of thumb is for large samples only: two samples from one distribution average about "
    "(bins - 1)·(1/n_reference + 1/n_current); p-value by permutation",
)
def _psi(s: Samples) -> tuple[float, float | None, str]:
    ref, cur = (np.maximum(p, PSI_EPSILON) for p in s.shares)
    p, method = _count_permutation(s, _psi_rows)
    return float(np.sum((cur - ref) * np.log(cur / ref))), p, method


@register(
    "jensenshannon",
    label="Jensen-Shannon distance",
    kind="distance",
    accepts=("numeric", "categorical"),
    effect="Jensen-Shannon distance (base 2) over categories or reference-decile bins; 1 only for "
    "categories that never overlap: on the 10 decile bins a shift past the whole reference "
    "reaches about 0.87; p-value by permutation",
)
def _jensenshannon(s: Samples) -> tuple[float, float | None, str]:
    ref, cur = s.shares
    p, method = _count_permutation(s, _js_rows)
    return float(distance.jensenshannon(ref, cur, base=2)), p, method


@register(
    "hellinger",
    label="Hellinger distance",
    kind="distance",
    accepts=("numeric", "categorical"),
    effect="Hellinger distance over categories or reference-decile bins; 1 only for categories "
    "that never overlap: on the 10 decile bins a shift past the whole reference reaches about "
    "0.83; p-value by permutation",
)
def _hellinger(s: Samples) -> tuple[float, float | None, str]:
    ref, cur = s.shares
    p, method = _count_permutation(s, _hellinger_rows)
    return float(np.sqrt(0.5 * np.sum((np.sqrt(ref) - np.sqrt(cur)) ** 2))), p, method


@register(
    "chi2",
    label="Chi-square",
    kind="p_value",
    accepts=("categorical",),
    effect="how far the category counts are from one shared mix",
)
def _chi2(s: Samples) -> tuple[float, float | None, str]:
    _, ref_counts, cur_counts = s.counts
    table = np.vstack([ref_counts, cur_counts])
    res = stats.chi2_contingency(table)
    if float(np.min(res.expected_freq)) >= CHI2_MIN_EXPECTED:
        return float(res.statistic), float(res.pvalue), "asymptotic χ²"
    # Sparse cells: the χ² approximation is liberal; permute the rows' labels instead.
    statistic = float(resample.chi2_statistic(ref_counts[None, :], cur_counts[None, :])[0])
    p = resample.count_permutation(ref_counts, cur_counts, resample.chi2_statistic, n_resamples=1999)
    return statistic, p, "Monte-Carlo permutation, 1,999 resamples (expected counts below 5)"


@register(
    "fisher_exact",
    label="Fisher's exact",
    kind="p_value",
    accepts=("categorical",),
    effect="odds ratio of a two-category mix (exact; for small samples)",
    max_categories=2,
)
def _fisher_exact(s: Samples) -> tuple[float, float | None, str]:
    _, ref_counts, cur_counts = s.counts
    res = stats.fisher_exact(np.vstack([ref_counts, cur_counts]))
    return float(res.statistic), float(res.pvalue), "exact"
