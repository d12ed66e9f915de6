"""DriftReport and compare(): reference vs current, column by column."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.drift.engine import (
    SIGNAL_COLUMNS,
    TestPlan,
    build_column,
    evaluate_column,
    finalise,
    plan_tests,
    rule_settings,
    sort_by_effect,
)
from lib.drift.multivariate import domain_classifier
from lib.drift.render import json_clean, report_html
from lib.drift.rule import DEFAULTS, rule_text
from lib.errors import InputError
from lib.export import to_csv_bytes


@dataclass(frozen=True)
class DriftReport:
    """Result of :func:`compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (column, test), sorted drifted-first then by effect size: columns
        :data:`TABLE_COLUMNS` (``effect_size`` corrected for chance with its 95 % interval
        ``effect_low``-``effect_high``; ``p_method`` says how the p-value was obtained;
        ``min_detectable_effect`` is at 80 % power for the Benjamini-Hochberg level of this report).
    signals : pandas.DataFrame
        Missing-rate, type-mix, unseen-category and out-of-range signals per column
        (:data:`SIGNAL_COLUMNS`); these are flags of their own, not part of the verdict.
    rule : str
        The verdict rule in plain words, with this report's alpha and thresholds.
    alpha : float
    thresholds : dict
        Effect thresholds by treatment (``"numeric"``, ``"categorical"``) and any per-column ones.
    kinds : dict
        Column → inferred (or overridden) kind, for every shared column.
    reference_name, current_name : str
    n_reference, n_current : int
        Row counts of the two frames.
    multivariate : MultivariateResult or None
        Domain-classifier and PCA results, when requested.
    """

    table: pd.DataFrame
    signals: pd.DataFrame
    rule: str
    alpha: float
    thresholds: dict[str, float]
    kinds: dict[str, str]
    reference_name: str
    current_name: str
    n_reference: int
    n_current: int
    multivariate: Any = None
    roles: dict[str, str | None] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        """Columns with at least one drifted row, in table order."""
        return list(dict.fromkeys(self.table.loc[self.table["drifted"], "column"]))

    @property
    def summary(self) -> str:
        """One sentence: how many columns drifted, how many could not be told."""
        columns = self.table["column"].nunique()
        unsure = self.table.loc[self.table["status"] == "could not tell", "column"].nunique()
        bounded = self.table.loc[self.table["status"] == "not detected", "column"].nunique()
        flagged = self.signals.loc[self.signals["flagged"], "column"].nunique() if len(self.signals) else 0
        text = f"{len(self.drifted_columns)} of {columns} columns drifted"
        if bounded:
            text += (
                f"; in {bounded} no drift was detected, but only changes larger than the threshold "
                "are ruled out (see each row)"
            )
        if unsure:
            text += f"; {unsure} could not be told at these sample sizes"
        if flagged:
            text += f"; {flagged} with data-quality signals"
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (NaN → ``None``)."""
        return json_clean(
            {
                "reference": self.reference_name,
                "current": self.current_name,
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "alpha": self.alpha,
                "thresholds": self.thresholds,
                "rule": self.rule,
                "summary": self.summary,
                "kinds": self.kinds,
                "roles": self.roles,
                "columns": self.table.to_dict("records"),
                "signals": self.signals.to_dict("records"),
                "multivariate": None if self.multivariate is None else self.multivariate.to_dict(),
            }
        )

    def to_json(self) -> str:
        """The report as JSON (strict: no NaN literals)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, ensure_ascii=False)

    def to_csv(self) -> bytes:
        """The table as UTF-8 CSV, with spreadsheet formulas neutralised (``'`` prefix)."""
        return to_csv_bytes(self.table)

    def to_html(
        self, reference: pd.DataFrame | None = None, current: pd.DataFrame | None = None, **extras: Any
    ) -> str:
        """A small self-contained HTML page (inline CSS and SVG, no scripts or external assets).

        With the compared ``reference`` and ``current`` frames, every column gets its distribution
        charts; ``extras`` (``windows``, ``multivariate``, ``generated_at``) go to
        :func:`lib.drift.render.report_html`.
        """
        return report_html(self, reference=reference, current=current, **extras)


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    alpha: float = DEFAULTS.alpha,
    thresholds: Mapping[str, float] | None = None,
    kinds: Mapping[str, str] | None = None,
    exclude: Iterable[str | None] = (),
    prediction: str | None = None,
    label: str | None = None,
    timestamp: str | None = None,
    multivariate: bool = False,
    reference_name: str = "reference",
    current_name: str = "current",
    workers: int = 2,
) -> DriftReport:
    """Test every shared column for drift and apply the verdict rule.

    Parameters
    ----------
    reference, current : pandas.DataFrame
        The baseline and the data to check.
    columns : sequence of str, optional
        Columns to test; default: every shared column that is not an id, a timestamp, the
        prediction, the label or in ``exclude``.
    tests : str, sequence of str, or mapping column → name(s), optional
        Test(s) to run. A name or list applies to every column that the test accepts; a mapping
        overrides per column. Default: the automatic choice (module docstring).
    alpha : float
        Level for the Benjamini-Hochberg-adjusted p-values.
    thresholds : mapping, optional
        Effect thresholds: keys ``"numeric"`` / ``"categorical"`` or a column name.
    kinds : mapping column → kind, optional
        Overrides type inference (``"numeric"``, ``"categorical"``, ``"boolean"``,
        ``"datetime"``, ``"id"``).
    exclude : iterable of str
        Columns never tested.
    prediction, label, timestamp : str, optional
        Role columns; excluded from the input-drift table.
    multivariate : bool
        Also run the domain classifier and PCA reconstruction check (:mod:`lib.drift.multivariate`).
    reference_name, current_name : str
        File names, used in messages and the report.
    workers : int
        Threads over columns (numpy and scipy release the GIL while sorting).

    Returns
    -------
    DriftReport

    Raises
    ------
    InputError
        Frames that cannot be compared, unknown test names, tests that do not fit an explicitly
        configured column, or garbage in a numeric column.
    """
    names = (reference_name, current_name)
    settings = rule_settings(alpha, thresholds, names)
    plans, inferred = plan_tests(
        reference,
        current,
        columns=columns,
        tests=tests,
        kinds=kinds,
        exclude=[*exclude, prediction, label, timestamp],
        names=names,
    )

    def job(plan: TestPlan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return evaluate_column(build_column(plan, reference[plan.column], current[plan.column], settings))

    if workers > 1 and len(plans) > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(job, plans))
    else:
        results = [job(plan) for plan in plans]
    rows = [row for r, _ in results for row in r]
    signals = [signal for _, column_signals in results for signal in column_signals]
    table = finalise(rows, alpha)
    if (table["status"] == "not tested").all():
        raise InputError(
            "No column could be tested.",
            hint=" ".join(f"{c}: {r}" for c, r in zip(table["column"], table["reason"], strict=True))[:500],
        )
    mv = None
    if multivariate:
        tested = list(dict.fromkeys(table.loc[table["status"] != "not tested", "column"]))
        mv = domain_classifier(
            reference, current, columns=tested, kinds={c: inferred[c] for c in tested}, alpha=alpha
        )
    return DriftReport(
        table=sort_by_effect(table),
        signals=pd.DataFrame(signals, columns=list(SIGNAL_COLUMNS)),
        rule=rule_text(alpha, settings.thresholds, n_tests=int(table["p_adjusted"].notna().sum())),
        alpha=alpha,
        thresholds=dict(settings.thresholds),
        kinds={k: str(v) for k, v in inferred.items()},
        reference_name=reference_name,
        current_name=current_name,
        n_reference=len(reference),
        n_current=len(current),
        multivariate=mv,
        roles={"prediction": prediction, "label": label, "timestamp": timestamp},
    )
