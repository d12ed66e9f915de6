"""The Input drift and Prediction drift pages: data, roles, rule, columns, cached computations."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Final, TypedDict

import pandas as pd
import streamlit as st

from lib import drift
from lib.analysis import monitor_checks
from lib.demo import drift as demo_drift
from lib.demo.story import DEMO_ENDPOINT
from lib.drift.summary import DriftSummaries
from lib.drift.windows import DEFAULT_WINDOWS, MIN_WINDOW_ROWS
from lib.errors import AppError
from lib.sources.tables import SUFFIXES
from lib.ui import gate
from lib.ui.downloads import Download, download_row
from lib.ui.frame import (
    kept_widget,
    md_code,
    md_escape,
    remember_session,
    show_error,
    sidebar_data,
    upload_key,
)

DRIFT_SIDES: Final = ("reference", "current")


DRIFT_DEMO_LABELS: Final = {
    "reference": f"demo reference (synthetic, {DEMO_ENDPOINT} traffic, April 2024)",
    "current": f"demo current (synthetic, {DEMO_ENDPOINT} traffic, 1-14 May 2024)",
}


# Text only: the table is drawn on a canvas, where emoji need a font the machine may not have.
DRIFT_STATUS_BADGES: Final = {
    "drift": "DRIFT",
    "negligible": "negligible",
    "no drift": "no drift",
    "could not tell": "could not tell",
    "not detected": "not detected",
    "too small to judge": "too small to judge",
    "not tested": "not tested",
}


DRIFT_AUTO: Final = "auto"


DRIFT_NONE: Final = "(none)"


@dataclass(frozen=True)
class DriftData:
    """The two tables the drift pages compare, with where they came from."""

    reference: pd.DataFrame
    current: pd.DataFrame
    reference_label: str
    current_label: str
    reference_demo: bool
    current_demo: bool
    reference_digest: str = ""
    current_digest: str = ""

    @property
    def digests(self) -> tuple[str, str]:
        """Content digests of (reference, current), computed once when each table came in: the
        cached computations are keyed on these, never on the frames themselves."""
        return self.reference_digest, self.current_digest

    @property
    def notes(self) -> list[str]:
        """What the readers noted about the tables in use (see :func:`drift_frame_notes`)."""
        return drift_frame_notes(self.reference, "reference", self.reference_label) + drift_frame_notes(
            self.current, "current", self.current_label
        )

    @property
    def is_demo(self) -> bool:
        """Both sides are the built-in demo."""
        return self.reference_demo and self.current_demo

    @functools.cached_property
    def shared(self) -> list[str]:
        """Columns present on both sides, in reference order (computed once: the page asks often)."""
        current = set(self.current.columns)
        return [c for c in self.reference.columns if c in current]

    @functools.cached_property
    def signature(self) -> str:
        """Short digest of the labels and shared columns: widget keys that depend on the columns
        carry it, so new data gets fresh widgets instead of stale choices."""
        text = "\x1f".join([self.reference_label, self.current_label, *map(str, self.shared)])
        return hashlib.sha1(text.encode()).hexdigest()[:8]


@st.cache_data(show_spinner=False)
def drift_demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The drift demo (reference, current); built once per server process."""

    return demo_drift.demo_reference(), demo_drift.demo_current()


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's columns, dtypes, index and every value (for frames built in the app;
    an upload is keyed on its bytes instead, see :func:`content_digest`)."""
    h = hashlib.sha256()
    h.update("\x1f".join(f"{c}\x1e{t}" for c, t in frame.dtypes.items()).encode())
    try:
        values = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): hash their text
        values = pd.util.hash_pandas_object(frame.astype("str"), index=True).to_numpy()
    h.update(values.tobytes())
    return h.hexdigest()


def content_digest(name: str, content: bytes) -> str:
    """SHA-256 of an uploaded file's name and bytes (the name picks the reader)."""
    return hashlib.sha256(name.encode() + b"\x00" + content).hexdigest()


def drift_store(side: str, frame: pd.DataFrame, label: str, *, digest: str | None = None) -> None:
    """Put a table in the session as one side of the drift pages, with its content digest
    (``digest``, else :func:`frame_digest` of it): computed here, once, never on a rerun."""
    state = st.session_state
    state[f"drift_{side}"] = frame
    state[f"drift_{side}_label"] = label
    state[f"drift_{side}_digest"] = (frame, digest or frame_digest(frame))
    remember_session()


def _drift_digest(side: str, frame: pd.DataFrame) -> str:
    """The stored digest of ``frame``; computed (once) when the frame was put in the session by
    other means than :func:`drift_store`, or replaced since."""
    state = st.session_state
    keyed = state.get(f"drift_{side}_digest")
    if isinstance(keyed, tuple) and len(keyed) == 2 and keyed[0] is frame:
        return str(keyed[1])
    digest = frame_digest(frame)
    state[f"drift_{side}_digest"] = (frame, digest)
    return digest


def drift_frame_notes(frame: pd.DataFrame, side: str, label: str) -> list[str]:
    """What a reader noted about a table (``frame.attrs["notes"]``: a header-less CSV named
    ``_c0…``, how capture inputs were named) and the caveat of a reference drawn from baseline
    statistics whose string features have no distribution (``attrs["unknown_values"]``)."""
    notes = frame.attrs.get("notes") or ()
    out = [
        f"{side.capitalize()} ({label}): {note}"
        for note in (notes if isinstance(notes, list | tuple) else [notes])
    ]
    unknown = [str(c) for c in frame.attrs.get("unknown_values") or ()]
    if unknown:
        names = ", ".join(unknown)
        out.append(
            f"{side.capitalize()} ({label}): the baseline statistics give no distribution for the string "
            f"feature(s) {names}, so their values in this reference are a placeholder "
            f"({monitor_checks.UNKNOWN_VALUE!r}). Every real value differs from it: a drift verdict on "
            "these columns says nothing. Set their kind to id to leave them out, or upload a real "
            "reference table."
        )
    return out


def drift_data() -> DriftData:
    """The data in use: what a user (or the Model Monitor page) put in the session, else the demo."""
    state = st.session_state
    demo_ref, demo_cur = drift_demo()
    frames = {}
    for side, demo_frame in zip(DRIFT_SIDES, (demo_ref, demo_cur), strict=True):
        frame = state.get(f"drift_{side}")
        if isinstance(frame, pd.DataFrame):
            label = str(state.get(f"drift_{side}_label") or f"your {side}")
            frames[side] = (frame, label, False, _drift_digest(side, frame))
        else:
            frames[side] = (demo_frame, DRIFT_DEMO_LABELS[side], True, f"demo:{side}")
    (ref, ref_label, ref_demo, ref_digest) = frames["reference"]
    (cur, cur_label, cur_demo, cur_digest) = frames["current"]
    return DriftData(ref, cur, ref_label, cur_label, ref_demo, cur_demo, ref_digest, cur_digest)


def drift_read(name: str, content: bytes) -> pd.DataFrame:
    """An uploaded table, read and checked on its own. Not in ``st.cache_data``: each file is read once
    per session anyway (:func:`drift_ingest`), and a cache entry would hash the upload's bytes, pickle
    and unpickle the whole table (a quarter of a second for a 9 MB CSV) and keep a copy of it
    (12 MB) after the session ended."""

    return drift.check_table(drift.read_table(content, name=name), name=name)


def drift_uploader_key(side: str) -> str:
    """Key of a side's uploader; a new one after "back to demo" so old files are not read again."""
    return f"drift_{side}_upload_{st.session_state.get('drift_generation', 0)}"


def drift_ingest(side: str, upload: Any) -> None:
    """Read a newly uploaded file once; a good one replaces that side, a bad one keeps the data.

    The file is marked seen (by uploader id and content digest) only after its result is stored:
    a rerun that interrupts the read leaves it unmarked, so the next run reads it again.
    """
    state = st.session_state
    seen = state.setdefault("drift_upload_seen", {})
    errors = state.setdefault("drift_upload_errors", {})
    if upload is None:
        return
    key = upload_key(upload)
    if seen.get(side) == key:
        return
    content = upload.getvalue()
    try:
        # In the server's queue for heavy work: sessions dropping files at once are served in turn.
        with gate.heavy_turn(), st.spinner(f"Reading {md_escape(upload.name)}…"):
            frame = drift_read(upload.name, content)
    except AppError as err:
        errors[side] = err
        seen[side] = key
        return
    errors.pop(side, None)
    drift_store(side, frame, upload.name, digest=content_digest(upload.name, content))
    seen[side] = key


def drift_back_to_demo() -> None:
    """Button callback: forget uploaded (or Model Monitor) data on both sides."""
    state = st.session_state
    for side in DRIFT_SIDES:
        state.pop(f"drift_{side}", None)
        state.pop(f"drift_{side}_label", None)
        state.pop(f"drift_{side}_digest", None)
    state.pop("drift_upload_seen", None)
    state.pop("drift_upload_errors", None)
    state.drift_generation = state.get("drift_generation", 0) + 1
    remember_session()


def drift_data_ui() -> DriftData:
    """Which data is compared (demo, file name or label), the two uploaders and "back to demo"."""

    status = st.container()
    left, right = st.columns(2)
    types = sorted({s.lstrip(".") for s in SUFFIXES})
    for column, side in zip((left, right), DRIFT_SIDES, strict=True):
        with column:
            upload = st.file_uploader(
                f"{side.capitalize()} data",
                type=types,
                key=drift_uploader_key(side),
                help=(
                    "CSV, Parquet or JSON lines, one row per prediction or training example. "
                    + (
                        "The baseline: typically the training or validation set."
                        if side == "reference"
                        else "The data to check: typically recent production inputs and predictions."
                    )
                ),
            )
            drift_ingest(side, upload)
            err = st.session_state.get("drift_upload_errors", {}).get(side)
            if err is not None:
                show_error(err)
                st.caption(f"Still using the {side} shown above.")
    data = drift_data()
    with status:
        lines = [
            f"**Reference:** {md_escape(data.reference_label)} · {len(data.reference):,} rows × "
            f"{data.reference.shape[1]} columns",
            f"**Current:** {md_escape(data.current_label)} · {len(data.current):,} rows × "
            f"{data.current.shape[1]} columns",
        ]
        sidebar_lines = [
            f"{side} **{md_escape(label)}** ({len(frame):,} rows)"  # no "Current:": that names the main box
            for side, label, frame in (
                ("reference", data.reference_label, data.reference),
                ("current", data.current_label, data.current),
            )
        ]
        if data.reference_demo != data.current_demo:  # one side loaded: never test it against the demo
            loaded, missing = ("current", "reference") if data.reference_demo else ("reference", "current")
            line = lines[DRIFT_SIDES.index(loaded)]
            st.info(
                f"**{loaded.capitalize()} loaded; now add the {missing} data.** It is not tested against "
                f"the demo {missing}: drop your {missing} table "
                f"{'to the left' if missing == 'reference' else 'to the right'} below"
                + (" (or use a baseline from the Model Monitor page)." if missing == "reference" else ".")
                + f"\n\n{line}  \n**{missing.capitalize()}:** not loaded yet",
                icon=":material/hourglass_top:",
            )
            st.button(
                "Back to demo",
                on_click=drift_back_to_demo,
                icon=":material/undo:",
                key="drift_back_to_demo",
                help=f"Forget the {loaded} data and compare the demo tables again.",
            )
            sidebar_data(
                f"Drift: your {loaded} data, waiting for the {missing}.  \n"
                + sidebar_lines[DRIFT_SIDES.index(loaded)],
                demo=False,
            )
            gate.release()  # nothing to compare yet: let the next session in
            st.stop()
        if data.is_demo:
            sidebar_data(
                f"Drift: **demo data** (synthetic churn model `{DEMO_ENDPOINT}`, April against May 2024).",
                demo=True,
            )
        else:
            sidebar_data("Drift, your data:  \n" + "  \n".join(sidebar_lines), demo=False)
        if data.is_demo:
            st.info(
                f"**You are looking at demo data**: the churn model served by `{DEMO_ENDPOINT}` (the same "
                "model in every demo, trained in March 2024), whose inputs drift in May. "
                "Drop your own reference and current tables below.\n\n" + "  \n".join(lines),
                icon=":material/science:",
            )
        else:
            # A row sized to the button's label (equal-ish columns cut it at narrow widths).
            with st.container(horizontal=True, vertical_alignment="center", key="drift_status_row"):
                st.success("  \n".join(lines), icon=":material/database:", width="stretch")
                st.button(
                    "Back to demo",
                    on_click=drift_back_to_demo,
                    icon=":material/undo:",
                    key="drift_back_to_demo",
                    help="Forget the uploaded (or Model Monitor) data and compare the demo tables again.",
                )
        for note in data.notes:
            st.info(md_escape(note), icon=":material/info:")
    return data


# The cached computations below take the frames as ``_reference``/``_current``: Streamlit does not
# hash those (it would hash a row sample of a large frame, so two different uploads could share a
# report); they are keyed on the content digests computed once at ingest (``DriftData.digests``).


@st.cache_data(show_spinner=False, max_entries=8)
def drift_kinds(_reference: pd.DataFrame, reference_digest: str, shared: tuple[str, ...]) -> dict[str, str]:
    """Inferred kind of each shared column (cached on the reference's digest)."""

    return {k: str(v) for k, v in drift.infer_kinds(_reference[list(shared)]).items()}


def drift_roles_ui(
    data: DriftData, kinds: dict[str, str], *, require_prediction: bool = False
) -> tuple[str | None, str | None, str | None]:
    """Prediction, label and timestamp columns; the library's guesses (or the demo's roles) first."""

    shared = data.shared
    if data.is_demo:
        guesses: dict[str, str | None] = dict(demo_drift.DEMO_ROLES)
    else:
        ref = data.reference[shared]
        guesses = {
            "prediction": drift.guess_prediction(ref, kinds),
            "label": drift.guess_label(ref, kinds),
            "timestamp": drift.guess_timestamp(ref, kinds),
        }
    testable = [c for c in shared if kinds.get(c) in ("numeric", "categorical", "boolean")]
    times = [c for c in shared if kinds.get(c) == "datetime"]
    # A label may exist only in the current data (labels arrive later); allow those columns too.
    label_options = testable + [c for c in data.current.columns if c not in shared and c not in testable]

    def pick(
        column: Any, name: str, options: list[str], guess: str | None, optional: bool, text: str
    ) -> str | None:
        choices = ([DRIFT_NONE] if optional else []) + options
        index = choices.index(guess) if guess in choices else 0
        key = f"drift_{name.lower()}_{data.signature}"
        with column:
            value = st.selectbox(name, choices, index=index, key=key, help=text)
        return None if value in (None, DRIFT_NONE) else str(value)

    a, b, c = st.columns(3)
    prediction = pick(
        a, "Prediction", testable, guesses["prediction"], not require_prediction,
        "The model's output (class or score). Excluded from the input-drift table; see Prediction drift.",
    )  # fmt: skip
    label = pick(
        b, "Label", [x for x in label_options if x != prediction], guesses["label"], True,
        "Ground truth, where it exists: excluded from input drift; used for realised accuracy.",
    )  # fmt: skip
    timestamp = pick(
        c, "Timestamp", times + [x for x in shared if x not in times], guesses["timestamp"], True,
        "When each row happened: excluded from the tests; splits the current data into windows.",
    )  # fmt: skip
    return prediction, label, timestamp


def drift_rule_ui(key: str) -> dict[str, float]:
    """Alpha and the two practical thresholds of the verdict rule (defaults from ``lib.drift.DEFAULTS``)."""

    d = drift.DEFAULTS
    a, b, c = st.columns(3)
    with a:
        alpha = st.select_slider(
            "False-discovery rate α",
            options=[0.001, 0.005, 0.01, 0.05, 0.1, 0.2],
            **kept_widget(f"{key}_alpha", d.alpha),
            help="Benjamini-Hochberg-adjusted p-values must be below α. Lower: fewer false alarms.",
        )
    with b:
        numeric = st.number_input(
            "Threshold for numbers (sd)",
            min_value=0.0,
            max_value=5.0,
            step=0.05,
            **kept_widget(f"{key}_numeric", d.numeric_threshold),
            help="Smallest shift that matters: Wasserstein distance in reference standard deviations.",
        )
    with c:
        categorical = st.number_input(
            "Threshold for categories (share of rows)",
            min_value=0.0,
            max_value=1.0,
            step=0.01,
            **kept_widget(f"{key}_categorical", d.categorical_threshold),
            help="Smallest mix change that matters: total-variation distance (share of rows that moved).",
        )
    return {"alpha": float(alpha), "numeric": float(numeric), "categorical": float(categorical)}


def drift_columns_ui(
    data: DriftData, kinds: dict[str, str], roles: tuple[str | None, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """Per-column kind and test overrides; test menus come from ``lib.drift.TESTS`` by kind.

    Returns ``(kind overrides, test overrides)``, only the columns the user changed.
    """

    kind_overrides: dict[str, str] = {}
    test_overrides: dict[str, str] = {}
    columns = [c for c in data.shared if c not in roles]
    head = st.columns([2, 2, 3])
    head[0].caption("Column")
    head[1].caption("Kind (inferred first)")
    head[2].caption("Test (auto: KS for numbers, chi-square or Fisher for categories)")
    for column in columns:
        name, kind_col, test_col = st.columns([2, 2, 3], vertical_alignment="center")
        name.markdown(md_code(column))  # a code span: literal, never `tenure\\_months`
        inferred = kinds.get(column, "categorical")
        options = [inferred, *[k for k in drift.KINDS if k != inferred]]
        kind = str(
            kind_col.selectbox(
                f"Kind of {md_escape(column)}",
                options,
                key=f"drift_kind_{data.signature}_{column}",
                label_visibility="collapsed",
                format_func=functools.partial(_drift_kind_label, inferred=inferred),
            )
        )
        if kind != inferred:
            kind_overrides[column] = kind
        if kind in ("id", "datetime"):
            test_col.caption("not tested")
            continue
        test = test_col.selectbox(
            f"Test for {md_escape(column)}",
            [DRIFT_AUTO, *drift.tests_for_kind(kind)],
            key=f"drift_test_{data.signature}_{column}_{kind}",
            label_visibility="collapsed",
            format_func=lambda n: n if n == DRIFT_AUTO else f"{drift.TESTS[n].label} ({n})",
        )
        if test != DRIFT_AUTO:
            test_overrides[column] = str(test)
    return kind_overrides, test_overrides


def _drift_kind_label(kind: str, *, inferred: str) -> str:
    return f"{kind} (inferred)" if kind == inferred else kind


class DriftOptions(TypedDict):
    """The keyword arguments :func:`drift_compare` and :func:`drift_windows` share (hashable: cache keys)."""

    rule: tuple[float, float, float]
    kinds: tuple[tuple[str, str], ...]
    tests: tuple[tuple[str, str], ...]
    roles: tuple[str | None, str | None, str | None]
    names: tuple[str, str]


@st.cache_data(show_spinner=False, max_entries=16)
def drift_compare(
    _reference: pd.DataFrame,
    _current: pd.DataFrame,
    *,
    digests: tuple[str, str],
    rule: tuple[float, float, float],
    kinds: tuple[tuple[str, str], ...],
    tests: tuple[tuple[str, str], ...],
    roles: tuple[str | None, str | None, str | None],
    names: tuple[str, str],
) -> Any:
    """:func:`lib.drift.compare`, cached on the digests and every option (widget reruns are instant)."""

    return drift.compare(_reference, _current, **_drift_options(rule, kinds, tests, roles, names))


def drift_report(data: DriftData, options: DriftOptions, *, page: str) -> Any:
    """:func:`drift_compare` of the data in use. When the data or the options are new to this session
    (likely not cached yet) it runs in the session's turn for heavy work (:mod:`lib.ui.gate`), which
    is then released; a widget rerun on the same data and options never queues."""
    state = st.session_state
    key = (data.digests, tuple(sorted(options.items())))
    fresh = state.get(f"{page}_compared") != key
    try:
        with gate.heavy_turn() if fresh else contextlib.nullcontext():
            report = drift_compare(data.reference, data.current, digests=data.digests, **options)
    finally:
        gate.release()
    state[f"{page}_compared"] = key
    return report


def _drift_options(
    rule: tuple[float, float, float],
    kinds: tuple[tuple[str, str], ...],
    tests: tuple[tuple[str, str], ...],
    roles: tuple[str | None, str | None, str | None],
    names: tuple[str, str],
) -> dict[str, Any]:
    """The hashable widget choices, as the keyword arguments ``compare``/``compare_windows`` take."""
    alpha, numeric, categorical = rule
    prediction, label, timestamp = roles
    return {
        "alpha": alpha,
        "thresholds": {"numeric": numeric, "categorical": categorical},
        "kinds": dict(kinds),
        "tests": dict(tests) or None,
        "prediction": prediction,
        "label": label,
        "timestamp": timestamp,
        "reference_name": names[0],
        "current_name": names[1],
    }


@st.cache_data(show_spinner=False, max_entries=8)
def drift_multivariate(
    _reference: pd.DataFrame,
    _current: pd.DataFrame,
    *,
    digests: tuple[str, str],
    columns: tuple[str, ...],
    kinds: tuple[tuple[str, str], ...],
    alpha: float,
) -> Any:
    """:func:`lib.drift.domain_classifier` on the tested columns, cached."""

    return drift.domain_classifier(
        _reference, _current, columns=list(columns), kinds=dict(kinds), alpha=alpha
    )


@st.cache_data(show_spinner=False, max_entries=8)
def drift_windows(
    _reference: pd.DataFrame,
    _current: pd.DataFrame,
    *,
    digests: tuple[str, str],
    split: Split,
    rule: tuple[float, float, float],
    kinds: tuple[tuple[str, str], ...],
    tests: tuple[tuple[str, str], ...],
    roles: tuple[str | None, str | None, str | None],
    names: tuple[str, str],
) -> Any:
    """:func:`lib.drift.compare_windows`, cached (``split`` is ``(freq, size, count)``)."""

    freq, size, count = split
    options = _drift_options(rule, kinds, tests, roles, names)
    return drift.compare_windows(_reference, _current, freq=freq, size=size, n_windows=count, **options)


@st.cache_data(show_spinner=False, max_entries=8)
def drift_prediction(
    _reference: pd.DataFrame,
    _current: pd.DataFrame,
    *,
    digests: tuple[str, str],
    prediction: str,
    label: str | None,
    timestamp: str | None,
    split: Split,
    rule: tuple[float, float, float],
    kind: str | None,
    test: str | None,
    score_threshold: float,
    names: tuple[str, str],
) -> Any:
    """:func:`lib.drift.prediction_drift`, cached."""

    alpha, numeric, categorical = rule
    freq, size, count = split
    return drift.prediction_drift(
        _reference,
        _current,
        prediction=prediction,
        label=label,
        timestamp=timestamp,
        freq=freq,
        size=size,
        n_windows=count,
        kind=kind,
        tests=test,
        alpha=alpha,
        thresholds={"numeric": numeric, "categorical": categorical},
        score_threshold=score_threshold,
        reference_name=names[0],
        current_name=names[1],
    )


DRIFT_PERIODS: Final = {"auto": None, "day": "D", "week": "W", "month": "M", "hour": "h", "rows": None}
#: ``(freq, size, count)``: a calendar period, rows per window, or a number of equal windows.
Split = tuple[str | None, int | None, int | None]


def drift_split_ui(key: str, timestamp: str | None, n_current: int) -> Split:
    """How to cut the current data into windows; by default about ten chosen from the data.

    Returns ``(freq, size, count)``: ``count`` windows of equal row counts (the library default,
    :data:`lib.drift.windows.DEFAULT_WINDOWS`, in time order when there is a timestamp), a calendar
    period of the timestamp (day, week, month, hour), or ``size`` rows per window.
    """
    options = ["auto"] + (["day", "week", "month", "hour"] if timestamp else []) + ["rows"]
    labels = {"auto": f"about {DEFAULT_WINDOWS} (from the data)", "rows": "by row count"}
    a, b = st.columns([3, 1])
    with a:
        choice = st.segmented_control(
            "Windows of the current data",
            options,
            default="auto",
            key=f"{key}_period_{bool(timestamp)}",
            format_func=lambda o: labels.get(o, f"per {o}"),
            help=(
                f"Default: {DEFAULT_WINDOWS} windows with equal row counts"
                + (", in time order" if timestamp else "")
                + ", so each has enough rows to judge. Or calendar periods (UTC) of the timestamp "
                "column, or blocks of a chosen number of rows. Windows with fewer than "
                f"{MIN_WINDOW_ROWS} rows are shown as too small to judge."
            ),
        )
    if choice is None or choice == "auto":
        return None, None, DEFAULT_WINDOWS
    if choice != "rows":
        return DRIFT_PERIODS[str(choice)], None, None
    with b:
        size = st.number_input(
            "Rows per window",
            min_value=20,
            max_value=max(20, n_current),
            value=min(max(20, n_current // 10), max(20, n_current)),
            step=50,
            key=f"{key}_size",
            help="The last window may be smaller.",
        )
    return None, int(size), None


def drift_windows_summary(windows: Any) -> tuple[str, str | None]:
    """The Over-time caption, and a note on windows too small to judge (``None`` when there are none).

    ``windows`` is a :class:`lib.drift.WindowReport`.
    """
    frame = windows.windows
    small = frame.loc[frame["rows"] < MIN_WINDOW_ROWS]
    rows = frame["rows"]
    caption = (
        f"{len(frame)} windows × {windows.table['column'].nunique()} columns, "
        f"{int(rows.min()):,}-{int(rows.max()):,} rows each; p-values adjusted across the whole grid."
    )
    if small.empty:
        return caption, None
    if len(small) == len(frame):
        return caption, (
            f"Every window is too small to judge (fewer than {MIN_WINDOW_ROWS} rows): choose fewer, "
            "longer windows, or the default of about ten windows chosen from the data."
        )
    names = ", ".join(small["window"].head(5)) + (", …" if len(small) > 5 else "")
    return caption, (
        f"{len(small)} of {len(frame)} windows have fewer than {MIN_WINDOW_ROWS} rows and are too small "
        f"to judge (grey in the heat map; left out of the correction): {names}."
    )


def drift_multivariate_checks(mv: Any) -> tuple[str, pd.DataFrame]:
    """The combined verdict (naming the check that fired) and one row per check, with its threshold.

    ``mv`` is a :class:`lib.drift.MultivariateResult`.
    """
    fired = [
        name
        for name, hit in (
            ("classifier AUC", mv.classifier_drifted),
            ("PCA reconstruction error", mv.pca_drifted),
        )
        if hit
    ]
    level = mv.check_level
    verdict = (
        f"Multivariate drift: fired by {' and '.join(fired)}."
        if fired
        else "No multivariate drift: neither the classifier AUC nor the PCA reconstruction error fired."
    ) + f" Either check fires at α/2 = {level:g}, so the pair holds α."
    pca_run = mv.pca_ratio is not None
    checks = pd.DataFrame(
        [
            {
                "check": "Domain classifier (held-out AUC)",
                "value": f"{mv.auc:.3f} (95% {mv.auc_low:.3f}-{mv.auc_high:.3f})",
                "threshold": f"AUC ≥ {mv.auc_threshold:g} and p < {level:g}",
                "p_value": mv.p_value,
                "fired": bool(mv.classifier_drifted),
            },
            {
                "check": f"PCA reconstruction error ({mv.pca_components} components)"
                if pca_run
                else "PCA reconstruction error (not run)",
                "value": f"{mv.pca_ratio:.2f}× the reference's" if pca_run else "—",
                "threshold": f"ratio ≥ {mv.pca_ratio_threshold:g} and p < {level:g}",
                "p_value": mv.pca_p_value if pca_run else float("nan"),
                "fired": bool(mv.pca_drifted),
            },
        ]
    )
    return verdict, checks


def drift_table_columns() -> dict[str, Any]:
    """Column labels, formats and tooltips of the drift summary table."""
    col = st.column_config
    return {
        "column": col.TextColumn("Column", pinned=True),
        "status": col.TextColumn("Verdict", help="By the rule shown above"),
        "kind": col.TextColumn("Kind"),
        "test_label": col.TextColumn("Test"),
        "effect_size": col.NumberColumn(
            "Effect",
            format="%.3f",
            help=(
                "Numbers: Wasserstein distance on the reference's normal scores (sds for a normal column); "
                "categories: total-variation distance. Corrected for what chance alone gives at these sizes."
            ),
        ),
        "effect_low": col.NumberColumn(
            "Effect from", format="%.3f", help="95 % interval of the effect: low end"
        ),
        "effect_high": col.NumberColumn(
            "Effect to", format="%.3f", help="95 % interval of the effect: high end"
        ),
        "effect_threshold": col.NumberColumn("Threshold", format="%.3f"),
        "min_detectable_effect": col.NumberColumn(
            "Smallest detectable", format="%.3f", help="Smallest effect these sample sizes could reveal"
        ),
        "p_adjusted": col.NumberColumn("Adjusted p", format="%.2e", help="Benjamini-Hochberg"),
        "p_method": col.TextColumn(
            "p from", help="How the p-value was computed (exact, asymptotic, permutation…)"
        ),
        "statistic": col.NumberColumn("Statistic", format="%.4g"),
        "n_reference": col.NumberColumn("Reference n", format="%d"),
        "n_current": col.NumberColumn("Current n", format="%d"),
        "reason": col.TextColumn("Why", width="large"),
    }


def drift_summary_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The summary table as shown: a badge per verdict, the columns of :func:`drift_table_columns`."""
    shown = table.assign(status=table["status"].map(DRIFT_STATUS_BADGES).fillna(table["status"]))
    return shown[[c for c in drift_table_columns() if c in shown.columns]]


def drift_exports(
    report: Any,
    *,
    key: str,
    base_name: str = "drift-report",
    data: DriftData | None = None,
    windows: Any = None,
    multivariate: Any = None,
) -> None:
    """HTML, JSON and CSV download buttons for a :class:`lib.drift.DriftReport`, built when clicked.

    With ``data`` the HTML report draws every column's distributions; ``windows`` (a
    ``WindowReport``) and ``multivariate`` (a ``MultivariateResult``) add the heat map and the
    classifier result when the page computed them.
    """
    frames = {} if data is None else {"reference": data.reference, "current": data.current}
    extras = {"windows": windows, "multivariate": multivariate, **frames}
    items = [
        Download(
            "HTML report", lambda: report.to_html(**extras).encode("utf-8"), "html", "text/html",
            ":material/description:",
            "A self-contained page to share (inline charts, no scripts, opens offline): verdicts, "
            "distributions, multivariate and window results, data-quality signals.",
        ),
        Download(
            "JSON", lambda: report.to_json().encode("utf-8"), "json", "application/json",
            ":material/data_object:", "Everything in the report, machine-readable.",
        ),
        Download(
            "CSV", report.to_csv, "csv", "text/csv", ":material/download:",
            "The per-column table; spreadsheet formulas are neutralised.",
        ),
    ]  # fmt: skip
    download_row(items, base_name=base_name, key=key)


@st.cache_data(show_spinner="Testing every column of the summaries…", max_entries=4)
def summary_file_report(content: bytes) -> drift.DriftReport:
    """The report of an uploaded drift-summary file (``InputError`` when it is not one)."""
    return DriftSummaries.from_json(content).report()
