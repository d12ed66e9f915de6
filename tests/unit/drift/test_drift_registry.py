"""Shared tests over the whole registry: a new ``@register`` test is covered here for free."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lib.drift import TESTS, TestResult, UnknownDriftTest, get_test, register
from lib.errors import InputError

NAMES = sorted(TESTS)


def _samples(name: str, shift: bool, n: int = 400, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Data the test accepts: numbers, or categories (two of them for 2-category tests)."""
    rng = np.random.default_rng(seed)
    test = TESTS[name]
    if "numeric" in test.accepts:
        return rng.normal(0, 1, n), rng.normal(0.8 if shift else 0.0, 1, n)
    cats = np.array(["a", "b"] if test.max_categories == 2 else ["a", "b", "c", "d"])
    p_ref = np.full(cats.size, 1 / cats.size)
    p_cur = np.linspace(1, 3, cats.size) / np.linspace(1, 3, cats.size).sum() if shift else p_ref
    return rng.choice(cats, n, p=p_ref), rng.choice(cats, n, p=p_cur)


@pytest.mark.parametrize("name", NAMES)
def test_same_distribution_is_not_flagged_and_a_shift_is(name: str) -> None:
    test = TESTS[name]
    same = test(*_samples(name, shift=False))
    shifted = test(*_samples(name, shift=True))
    assert same.p_value is not None
    assert same.p_value > 0.01
    assert shifted.p_value is not None
    assert shifted.p_value <= 1e-3
    if test.kind == "distance":
        assert shifted.statistic > 3 * same.statistic


@pytest.mark.parametrize("name", NAMES)
def test_every_test_has_a_p_value_and_says_how_it_was_obtained(name: str) -> None:
    # Distances used to return no p-value and were judged against a noise floor: same-distribution
    # 10-vs-10 samples were then "drift" 100 % of the time. They now carry a permutation p-value.
    result = TESTS[name](*_samples(name, shift=True))
    assert result.p_value is not None
    assert result.method
    if TESTS[name].kind == "distance":
        assert "permutation" in result.method
    assert isinstance(result, TestResult)
    assert result.test == name


@pytest.mark.parametrize("name", NAMES)
def test_results_are_frozen_and_report_usable_counts(name: str) -> None:
    ref, cur = _samples(name, shift=True, n=100)
    if ref.dtype.kind == "f":
        ref = np.concatenate([ref, [np.nan, np.inf, -np.inf]])
    else:
        ref = np.concatenate([ref.astype(object), [None, np.nan]])
    result = TESTS[name](ref, cur)
    assert (result.n_reference, result.n_current) == (100, 100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.statistic = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("name", NAMES)
def test_constant_identical_samples_show_no_difference(name: str) -> None:
    value = 3.0 if "numeric" in TESTS[name].accepts else "a"
    result = TESTS[name](np.full(20, value, dtype=object if value == "a" else float), np.full(30, value))
    assert result.statistic == 0.0
    assert result.p_value == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_all_missing_or_one_value_is_an_input_error(name: str) -> None:
    good = _samples(name, shift=False)[0]
    with pytest.raises(InputError, match="current sample has 0 usable"):
        TESTS[name](good, np.array([np.nan, np.nan]))
    with pytest.raises(InputError, match="reference sample has 1 usable"):
        TESTS[name](good[:1], good)


@pytest.mark.parametrize("name", NAMES)
def test_declaration_has_label_effect_and_accepts(name: str) -> None:
    test = TESTS[name]
    assert test.label
    assert test.effect
    assert set(test.accepts) <= {"numeric", "categorical"}
    assert test.accepts


def test_registry_has_the_required_tests() -> None:
    required = {"ks", "cramervonmises", "anderson", "mannwhitney", "energy", "wasserstein", "psi"}
    required |= {"jensenshannon", "hellinger", "chi2", "fisher_exact"}
    assert required <= set(TESTS)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownDriftTest) as err:
        get_test("kolmogorov")
    assert err.value.hint == f"Valid tests: {', '.join(sorted(TESTS))}."
    assert isinstance(err.value, InputError)


def test_numeric_only_test_refuses_categories() -> None:
    with pytest.raises(InputError, match="needs numbers"):
        TESTS["ks"](np.array(["a", "b", "a"]), np.array(["b", "b", "a"]))


def test_fisher_refuses_more_than_two_categories() -> None:
    with pytest.raises(InputError, match="at most 2 categories"):
        TESTS["fisher_exact"](np.array(list("abcabc")), np.array(list("aabbcc")))


def test_registering_twice_fails_and_a_new_test_joins_the_registry() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register("ks", label="x", kind="p_value", accepts=("numeric",), effect="x")(lambda s: (0.0, 1.0))
    try:
        register("mean_gap", label="Mean gap", kind="distance", accepts=("numeric",), effect="gap")(
            lambda s: (abs(float(s.reference_sorted.mean() - s.current_sorted.mean())), None)
        )
        result = TESTS["mean_gap"](np.array([0.0, 1.0]), np.array([2.0, 3.0]))
        assert result.statistic == pytest.approx(2.0)
    finally:
        TESTS.pop("mean_gap", None)
