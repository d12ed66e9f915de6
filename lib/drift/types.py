"""Column type inference for drift: numeric, categorical, boolean, datetime or id-like.

Rules (first match wins), applied to the non-missing values of a column:

1. ``bool`` dtype, or exactly two distinct values that spell a boolean (0/1, true/false, yes/no,
   t/f, y/n) → ``"boolean"``.
2. datetime dtype, or text where at least 95 % of a 1,000-value sample parses as a date and the
   text is not plain numbers → ``"datetime"``.
3. integer or text column whose name looks like an identifier (``id``, ``*_id``, ``*Id``, ``uuid``,
   ``key``) and whose values are (almost) all distinct → ``"id"``; so is text where more than 90 %
   of at least 20 values are distinct (free text, hashes, UUIDs).
4. numbers (or text where at least 95 % of values parse as numbers; the rest is reported as a
   type-mix signal) → ``"numeric"``.
5. anything else → ``"categorical"``.

``id`` and ``datetime`` columns are excluded from the drift tests; a user override
(``kinds={"col": "categorical"}``) always wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal, get_args

import numpy as np
import pandas as pd

from lib.errors import InputError

ColumnKind = Literal["numeric", "categorical", "boolean", "datetime", "id"]
KINDS: Final[tuple[str, ...]] = get_args(ColumnKind)
#: Kinds the drift tests run on.
TESTABLE_KINDS: Final = ("numeric", "categorical", "boolean")

#: Share of non-missing text values that must parse for a column to count as numbers / dates.
PARSE_SHARE: Final = 0.95
#: Share of distinct text values above which a text column is id-like (free text, hashes).
ID_DISTINCT_SHARE: Final = 0.9
_SAMPLE: Final = 1000
_ID_NAME = re.compile(r"(^|[_\-\s.])(id|uuid|guid|key)$|[a-z]Id$|^id$", re.IGNORECASE)
_BOOL_WORDS: Final = (
    {"true", "false"},
    {"yes", "no"},
    {"t", "f"},
    {"y", "n"},
    {"0", "1"},
    {"0.0", "1.0"},
)
_PREDICTION_NAMES: Final = ("prediction", "predicted", "pred", "y_pred", "score", "probability", "output")
_LABEL_NAMES: Final = (
    "label",
    "target",
    "y_true",
    "actual",
    "ground_truth",
    "truth",
    "outcome",
    "churned",
    "y",
    "class",
)
_TIME_NAMES: Final = ("timestamp", "event_time", "inference_time", "time", "datetime", "date", "ts")


def infer_kind(series: pd.Series) -> ColumnKind:
    """Infer the drift kind of one column (rules in the module docstring)."""
    if series.dtype == np.float64:
        return _float_kind(series.to_numpy())
    values = series.dropna()
    if values.empty:
        return "categorical" if not pd.api.types.is_numeric_dtype(series.dtype) else "numeric"
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        first = values.iloc[:_SAMPLE].unique()  # two values first: no text per value on wide tables
        if (
            len(first) == 2
            and {str(v) for v in first} <= {"0", "1", "0.0", "1.0"}
            and values.isin([0, 1]).all()
        ):
            return "boolean"
        id_name = _ID_NAME.search(str(series.name) or "") is not None
        if (
            pd.api.types.is_integer_dtype(dtype)
            and id_name
            and values.nunique() >= ID_DISTINCT_SHARE * len(values)
        ):
            return "id"
        return "numeric"
    text = values.astype("str")
    sample = text.iloc[:_SAMPLE]
    lowered = set(sample.str.strip().str.lower().unique())
    if (
        len(lowered) == 2
        and any(lowered == words for words in _BOOL_WORDS)
        and set(text.str.strip().str.lower().unique()) == lowered
    ):
        return "boolean"
    numeric_share = pd.to_numeric(sample, errors="coerce").notna().mean()
    if numeric_share >= PARSE_SHARE:
        return "numeric"
    if numeric_share < 0.5 and _date_share(sample) >= PARSE_SHARE:
        return "datetime"
    distinct = text.nunique()
    if _ID_NAME.search(str(series.name) or "") and distinct >= ID_DISTINCT_SHARE * len(text):
        return "id"
    if len(text) >= 20 and distinct > ID_DISTINCT_SHARE * len(text):
        return "id"
    return "categorical"


def _float_kind(values: np.ndarray) -> ColumnKind:
    """:func:`infer_kind`'s rules for a float64 column, in numpy: wide tables (10,000 columns) paid
    a dozen pandas calls per column here. Boolean when every present value is 0 or 1 and the first
    1,000 hold both (and the first zero prints as "0.0", as the text rule wants); else numeric."""
    head = values[: 2 * _SAMPLE]  # a value other than 0 or 1 up front settles it without a full pass
    if not np.all((head == 0) | (head == 1) | np.isnan(head)):
        return "numeric"
    present = values[~np.isnan(values)]
    if present.size == 0 or not np.all((present == 0) | (present == 1)):
        return "numeric"
    sample = present[:_SAMPLE]
    zeros = sample[sample == 0]
    two = 0 < zeros.size < sample.size and not np.signbit(zeros[0])
    return "boolean" if two else "numeric"


def infer_kinds(frame: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> dict[str, ColumnKind]:
    """Infer every column's kind; ``overrides`` (column → kind) win.

    Raises
    ------
    InputError
        If an override names an unknown kind or a missing column.
    """
    kinds: dict[str, ColumnKind] = {str(col): infer_kind(frame[col]) for col in frame.columns}
    for column, kind in (overrides or {}).items():
        if kind not in KINDS:
            raise InputError(
                f"Unknown column kind {kind!r} for column {column!r}.", hint=f"Use one of {list(KINDS)}."
            )
        if column not in kinds:
            raise InputError(f"Cannot set the kind of {column!r}: there is no such column.")
        kinds[column] = kind  # type: ignore[assignment]
    return kinds


def guess_prediction(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> str | None:
    """Best guess at the model-output column (by name), or ``None``."""
    return _by_name(frame, _PREDICTION_NAMES, kinds, allowed=("numeric", "categorical", "boolean"))


def guess_label(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> str | None:
    """Best guess at the ground-truth label column (by name), or ``None``."""
    return _by_name(frame, _LABEL_NAMES, kinds, allowed=("numeric", "categorical", "boolean"))


def guess_timestamp(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> str | None:
    """Best guess at the timestamp column: a datetime column, preferring usual names."""
    kinds = kinds if kinds is not None else infer_kinds(frame)
    named = _by_name(frame, _TIME_NAMES, kinds, allowed=("datetime",))
    if named is not None:
        return named
    return next((col for col, kind in kinds.items() if kind == "datetime"), None)


def _by_name(
    frame: pd.DataFrame,
    names: tuple[str, ...],
    kinds: Mapping[str, str] | None,
    allowed: tuple[str, ...],
) -> str | None:
    lookup = {str(col).lower(): str(col) for col in frame.columns}
    for name in names:
        column = lookup.get(name)
        if column is None:
            continue
        kind = kinds[column] if kinds is not None else infer_kind(frame[column])
        if kind in allowed:
            return column
    for name in names:  # then a suffix match: "model_score", "churn_label"
        for lowered, column in lookup.items():
            if lowered.endswith("_" + name) and (
                (kinds[column] if kinds is not None else infer_kind(frame[column])) in allowed
            ):
                return column
    return None


def _date_share(sample: pd.Series) -> float:
    # Cheap pre-check: dates have digit groups joined by - / : or T (dateutil is slow on words).
    if sample.str.contains(r"\d{1,4}[-/:.T]\d", regex=True).mean() < PARSE_SHARE:
        return 0.0
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed", utc=True)
    return float(parsed.notna().mean())


def to_numbers(series: pd.Series) -> tuple[np.ndarray, int]:
    """A column as float64 (missing → NaN) and the count of present values that are not numbers."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").to_numpy(), 0
    if series.dtype == np.float64:
        return series.to_numpy(), 0  # no copy: callers never write to it
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
    numbers = pd.to_numeric(series, errors="coerce")
    garbage = int((numbers.isna() & series.notna()).sum())
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), garbage
