r"""Training-log lines -> canonical metrics, the way SageMaker's metric regexes read them.

Built-in line shapes (see the formats README §2):

* image classification (MXNet): ``Epoch[N] Train-accuracy=F`` / ``Epoch[N] Validation-accuracy=F``
  -> ``train:accuracy`` / ``validation:accuracy``
* XGBoost: ``[N]#011train-auc:F#011validation-auc:F`` -> ``train:auc``, ``validation:auc``
* Linear Learner family: ``#quality_metric: host=algo-1, epoch=N, train <name> <loss>=F`` with the
  names SageMaker publishes (``*_objective`` -> ``objective_loss``, or ``objective_loss:final``
  without an epoch; ``binary_f_*`` -> ``binary_f_beta`` ...), plus ``#throughput_metric`` and
  ``#progress_metric``.

CloudWatch shows tabs as the literal text ``#011``; both forms are accepted. A
``[MM/DD/YYYY HH:MM:SS ...]`` (or XGBoost's ``[YYYY-MM-DD:HH:MM:SS:INFO]``) gives the UTC time; it
is usually the first thing on the line, but the first such stamp anywhere in the line counts (a
CloudWatch console copy ``16:12:54 [10/21/2018 16:12:53 INFO 1] ...``, an indented or quoted copy, a
container line glued to an SDK status line ``2021-06-17 23:30:01 Training - ...[06/17/2021 ...``).

Shapes the scan corrects for:

* ANSI colour codes (``ESC[34m ... ESC[0m``, as notebooks save container output) are removed
  once, before anything else: the lines keep their numbers, and built-in shapes, time stamps and
  the user's regexes all see the text without the codes.
* XGBoost early stopping echoes the best round after ``Stopping. Best iteration:``; that echoed
  ``[N]#011...`` line is not a new point and is skipped (for the user's regexes too).
* Factorization Machines (and other ``#quality_metric`` algorithms) repeat the last epoch's train
  or validation values at the end without ``epoch=``; such a line for a metric that also has
  per-epoch lines is kept as a separate summary metric ``<metric>:final`` (like SageMaker's own
  ``train:objective_loss:final``), never as an extra point of the per-epoch series.
* A value found by the user's regex (or the service's MetricDefinitions DescribeTrainingJob
  returns for built-in algorithms) takes its epoch from what its line carries: ``Epoch[3]``,
  ``epoch=4``, ``Epoch: 1,``, ``Epoch 1/3`` or XGBoost's round ``[12]#011``; failing that, from the
  last Keras header line ``Epoch N/M`` above it (Keras prints the metrics on the next line).

The scan runs each pattern once over the whole text (C-speed ``finditer`` with a literal prefix)
and maps match positions to line numbers with numpy, rather than looping over lines in Python.
Lines longer than :data:`MAX_LINE_CHARS` are blanked before any regex runs. The users' own
regexes run on RE2 (``google-re2``), a linear-time engine that cannot backtrack: no pattern,
``(a|a)*b=(\d)`` included, can make a search crawl and hold the interpreter from other sessions.
Patterns RE2 does not support (backreferences, look-around) are refused with an
:class:`InputError` that says so.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import numpy as np
import pandas as pd
import re2

from lib.errors import InputError
from lib.schema import to_utc, validate_metrics
from lib.sources.base import Context, Parsed, fail, finish, plural

#: Longer lines are not searched for metrics (real metric lines are well under 1 KiB).
MAX_LINE_CHARS: Final = 16_384

_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|NaN|inf|Inf|infinity|Infinity))"
_TAB = r"(?:#011|\t)"
_IC = re.compile(r"Epoch\[(\d+)\] (Train|Validation)-([A-Za-z0-9_]+)=" + _NUMBER)
_XGB = re.compile(r"\[(\d+)\]((?:" + _TAB + r"[A-Za-z0-9_]+-[^\s:#]+:[^\s#]+)+)")
_XGB_SETS: Final = ("train", "validation", "eval")
_XGB_PAIR = re.compile(_TAB + r"([A-Za-z0-9_]+)-([^\s:#]+):" + _NUMBER)
_QUALITY = re.compile(
    r"#quality_metric: host=([^,\s]+), (?:epoch=(\d+), )?(train|validation|test) ([^\s<]+) <(\w+)>=" + _NUMBER
)
_THROUGHPUT = re.compile(r"#throughput_metric: host=([^,\s]+), (train|validation|test) throughput=" + _NUMBER)
_PROGRESS = re.compile(r"#progress_metric: host=([^,\s]+), completed " + _NUMBER + " %")
_EPOCH_IN_LINE = re.compile(r"(?i)\bepoch\W{0,3}(\d+)")
_ROUND_IN_LINE = re.compile(r"\[(\d+)\]" + _TAB)
_KERAS_HEADER = re.compile(r"(?im)^[ \t]*epoch[ \t]+(\d+)[ \t]*/[ \t]*\d+[ \t]*$")
_XGB_ECHO = re.compile(r"Stopping\. Best iteration:[^\n]*\n(?:[ \t]*\n)*[ \t]*(?=\[\d+\])")
#: ANSI escape sequences (CSI: colours ``ESC[34m``, ``ESC[0m``, ``ESC[1;31m``, erase ``ESC[K`` ...).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_STAMP_ANYWHERE = re.compile(r"(\[\d\d/\d\d/\d{4} \d\d:\d\d:\d\d|\[\d{4}-\d\d-\d\d:\d\d:\d\d:\d\d)")


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the InputError says it; nothing on the server's stderr
    options.max_mem = 8 << 20  # a huge compiled program is refused, not built
    return options


#: What RE2 does not support, for the refusal message.
RE2_UNSUPPORTED: Final = (
    "backreferences (\\1, (?P=name)), look-ahead/look-behind ((?=…), (?!…), (?<=…), (?<!…)), "
    "possessive quantifiers and atomic groups (a*+, (?>…)), conditionals ((?(1)…))"
)


def _compile_user_regex(name: str, regex: str, *, multiline: bool = False) -> Any:
    """A user's regex compiled on RE2 (linear time); :class:`InputError` if RE2 cannot run it."""
    try:
        return re2.compile(("(?m)" if multiline else "") + regex, _re2_options())
    except re2.error as err:
        detail = (
            err.args[0].decode("utf-8", "replace") if err.args and isinstance(err.args[0], bytes) else err
        )
        try:
            re.compile(regex)
        except (re.error, RecursionError, OverflowError) as py_err:
            raise InputError(f"Metric definition '{name}': the regex does not compile ({py_err}).") from None
        raise InputError(
            f"Metric definition '{name}': the regex uses a construct the linear-time engine (RE2) "
            f"does not support ({detail}). Unsupported: {RE2_UNSUPPORTED}.",
            hint="Rewrite it without them; SageMaker's own metric regexes rarely need them.",
        ) from None


_PREFIX_FORMATS: Final = ("[%m/%d/%Y %H:%M:%S", "[%Y-%m-%d:%H:%M:%S")


@dataclass(frozen=True)
class MetricDefinition:
    """A SageMaker metric definition: a name and a regex whose first group is the value.

    The regex runs on RE2, whose time grows linearly with the text whatever the pattern.

    Raises
    ------
    InputError
        If the name is empty, the regex does not compile, uses constructs RE2 does not support
        (backreferences ``\\1``, look-ahead/look-behind ``(?=…)``/``(?<=…)``, possessive or
        atomic groups, conditionals), or has no capture group.
    """

    name: str
    regex: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("A metric definition needs a non-empty name.")
        if not isinstance(self.regex, str) or not self.regex:
            raise InputError(f"Metric definition '{self.name}': the regex is empty.")
        if len(self.regex) > 500:
            raise InputError(f"Metric definition '{self.name}': the regex is longer than 500 characters.")
        compiled = _compile_user_regex(self.name, self.regex)
        if compiled.groups < 1:
            raise InputError(
                f"Metric definition '{self.name}': the regex has no capture group.",
                hint=r"Put parentheses around the value, e.g. loss=([0-9.]+).",
            )

    @cached_property
    def compiled(self) -> Any:
        """The compiled RE2 regex (multi-line mode, so ``^``/``$`` work per line); linear-time."""
        return _compile_user_regex(self.name, self.regex, multiline=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> MetricDefinition:
        """From SageMaker's ``{"Name", "Regex"}`` or ``{"name", "regex"}``."""
        name = d.get("Name", d.get("name"))
        regex = d.get("Regex", d.get("regex"))
        if name is None or regex is None:
            raise InputError(
                f"A metric definition needs 'Name' and 'Regex'; got keys {', '.join(map(str, d))}."
            )
        return cls(str(name), str(regex))


def _ll_metric(split: str, name: str, kind: str, has_epoch: bool) -> str:
    """Linear Learner ``#quality_metric`` names as SageMaker publishes them."""
    if name.endswith("_objective") and kind == "loss":
        return f"{split}:objective_loss" if has_epoch else f"{split}:objective_loss:final"
    for family in ("binary_f_", "macro_f_"):
        if name.startswith(family):
            return f"{split}:{family}beta"
    if name.startswith("multiclass_top_k_accuracy_"):
        return f"{split}:multiclass_top_k_accuracy"
    return f"{split}:{name}"


class _Hits:
    """Column lists of regex matches: position in the text, metric, value text, epoch, host."""

    def __init__(self) -> None:
        self.pos: list[int] = []
        self.metric: list[str] = []
        self.value: list[str] = []
        self.epoch: list[str | None] = []
        self.host: list[str | None] = []

    def add(self, pos: int, metric: str, value: str, epoch: str | None, host: str | None = None) -> None:
        self.pos.append(pos)
        self.metric.append(metric)
        self.value.append(value)
        self.epoch.append(epoch)
        self.host.append(host)

    def extend(self, pos: list[int], metric: list[str], value: list[str], epoch: list[str | None]) -> None:
        self.pos.extend(pos)
        self.metric.extend(metric)
        self.value.extend(value)
        self.epoch.extend(epoch)
        self.host.extend([None] * len(pos))


def _scan_builtin(text: str, hits: _Hits) -> bool:
    """Add the built-in shapes' hits; whether any XGBoost round line was among them."""
    rounds = False
    if "Epoch[" in text:
        matches = list(_IC.finditer(text))
        found: list[tuple[str, str, str, str]] = [m.groups() for m in matches]  # type: ignore[misc]
        hits.extend(
            [m.start() for m in matches],
            [f"{f[1].lower()}:{f[2]}" for f in found],
            [f[3] for f in found],
            [f[0] for f in found],
        )
    # XGBoost's channels are called train/validation in algorithm mode; checking for them first
    # avoids a regex pass over every "[" of logs from other algorithms.
    if any(f"{split}-" in text for split in _XGB_SETS):
        for m in _XGB.finditer(text):
            for split, name, value in _XGB_PAIR.findall(m.group(2)):
                hits.add(m.start(), f"{split}:{name}", value, m.group(1))
                rounds = True
    if "#quality_metric" in text:
        quality = []
        for m in _QUALITY.finditer(text):
            host, epoch, split, name, kind, value = m.groups()
            quality.append((m.start(), _ll_metric(split, name, kind, epoch is not None), value, epoch, host))
        per_epoch = {metric for _, metric, _, epoch, _ in quality if epoch is not None}
        for pos, metric, value, epoch, host in quality:
            # An end-of-training repeat of a per-epoch metric (no epoch=) is a summary, not a point.
            final = epoch is None and metric in per_epoch
            hits.add(pos, f"{metric}:final" if final else metric, value, epoch, host)
    if "#throughput_metric" in text:
        for m in _THROUGHPUT.finditer(text):
            host, split, value = m.groups()
            hits.add(m.start(), f"{split}:throughput", value, None, host)
    if "#progress_metric" in text:
        for m in _PROGRESS.finditer(text):
            host, value = m.groups()
            hits.add(m.start(), "train:progress", value, None, host)
    return rounds


def _line_starts(text: str) -> np.ndarray:
    """Offsets where each line starts (line ``i`` spans ``starts[i]`` .. ``starts[i+1] - 1``)."""
    if text.isascii():
        newlines = np.flatnonzero(np.frombuffer(text.encode("ascii"), dtype=np.uint8) == 10)
    else:
        newlines = np.fromiter((m.start() for m in re.finditer("\n", text)), dtype=np.int64)
    return np.concatenate([[0], newlines + 1]).astype(np.int64)


def scan_text(
    text: str, *, metric_definitions: Sequence[MetricDefinition] = (), builtin: bool = True
) -> tuple[pd.DataFrame, int]:
    """Find metric values in newline-separated log text.

    Returns
    -------
    (hits, long_lines)
        ``hits`` has columns ``line`` (0-based line number), ``metric``, ``value`` (float),
        ``epoch`` (Int64), ``host`` (str or NA) and ``line_time`` (UTC time from the line's own
        prefix, NaT if none); ``long_lines`` counts lines skipped for being too long.
    """
    text = strip_ansi(text)
    starts = _line_starts(text)
    lengths = np.diff(np.append(starts, len(text) + 1)) - 1
    long_mask = lengths > MAX_LINE_CHARS
    n_long = int(long_mask.sum())
    if n_long:
        # Blank the long lines (keeping the line count) so no regex ever runs over them.
        lines = text.split("\n")
        text = "\n".join("" if too_long else line for line, too_long in zip(lines, long_mask, strict=True))
        starts = _line_starts(text)

    hits = _Hits()
    rounds = False
    if builtin:
        rounds = _scan_builtin(text, hits)
        if metric_definitions:
            # A user definition with the same name replaces the built-in reading of that metric.
            own = {d.name for d in metric_definitions}
            kept = [i for i, metric in enumerate(hits.metric) if metric not in own]
            if len(kept) < len(hits.metric):
                old = hits
                hits = _Hits()
                for i in kept:
                    hits.add(old.pos[i], old.metric[i], old.value[i], old.epoch[i], old.host[i])
    n_builtin = len(hits.pos)
    for definition in metric_definitions:
        seen_lines: set[int] = set()
        for m in definition.compiled.finditer(text):
            if "\n" in m.group(0) or m.group(1) is None:
                continue
            line_no = int(np.searchsorted(starts, m.start(), side="right")) - 1
            if line_no in seen_lines:  # SageMaker reads one value per line and definition
                continue
            seen_lines.add(line_no)
            line_end = text.find("\n", m.start())
            line = text[starts[line_no] : line_end if line_end >= 0 else len(text)]
            hits.add(m.start(), definition.name, m.group(1), line_epoch(line))

    if not hits.pos:
        return _empty_hits(), n_long
    hit_lines = np.searchsorted(starts, np.asarray(hits.pos, dtype=np.int64), side="right") - 1
    if len(hits.pos) > n_builtin:
        _epochs_from_keras_headers(text, starts, hit_lines, hits.epoch, n_builtin)
    prefixes = pd.Series([text[s : s + 20] for s in starts[hit_lines]], dtype="str")
    frame = pd.DataFrame(
        {
            "line": hit_lines,
            "metric": pd.Series(hits.metric, dtype="str"),
            "value": _floats(hits.value),
            "epoch": _epochs(hits.epoch),
            "host": pd.Series(hits.host, dtype="str"),
            "line_time": _line_times(prefixes, text, starts, hit_lines),
        }
    )
    # Only XGBoost round lines (built-in or found by the job's own regexes) can be an echo.
    echoes = _xgboost_echo_lines(text, starts) if rounds or len(hits.pos) > n_builtin else None
    if echoes is not None and len(echoes):
        frame = frame.loc[~np.isin(hit_lines, echoes)].reset_index(drop=True)
    return frame, n_long


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (colour codes); lines keep their numbers.

    Notebooks save container output with colour codes around each line (``ESC[34m[06/17/2021
    23:35:18 INFO ...] ... ESC[0m``). The codes never hold a newline, so removing them changes no
    line count. Text without an ESC character is returned as is (one fast scan).
    """
    return _ANSI.sub("", text) if "\x1b" in text else text


def line_epoch(line: str) -> str | None:
    """The epoch a log line carries, whatever regex found its value (digits, or ``None``).

    ``Epoch[3]``, ``epoch=4``, ``Epoch: 1,``, ``Epoch 1/3`` (the word *epoch*, up to three
    non-word characters, digits), else XGBoost's round ``[12]#011`` (or a real tab).
    """
    found = _EPOCH_IN_LINE.search(line)
    if found is None:
        found = _ROUND_IN_LINE.search(line)
    return found.group(1) if found else None


def _epochs_from_keras_headers(
    text: str, starts: np.ndarray, hit_lines: np.ndarray, epochs: list[str | None], first: int
) -> None:
    """Fill missing epochs of user-regex hits (index >= ``first``) from Keras ``Epoch N/M`` lines.

    Keras prints ``Epoch 1/5`` on its own line and the metrics on a later line: a hit without an
    epoch of its own gets the last such header at or above its line.
    """
    todo = [i for i in range(first, len(epochs)) if epochs[i] is None]
    if not todo or "poch" not in text:
        return
    headers = list(_KERAS_HEADER.finditer(text))
    if not headers:
        return
    header_lines = np.searchsorted(starts, [m.start() for m in headers], side="right") - 1
    above = np.searchsorted(header_lines, hit_lines[todo], side="right") - 1
    for i, h in zip(todo, above.tolist(), strict=True):
        if h >= 0:
            epochs[i] = headers[h].group(1)


def _xgboost_echo_lines(text: str, starts: np.ndarray) -> np.ndarray:
    """Line numbers of XGBoost's best-round echo (the ``[N]...`` line after ``Stopping. Best
    iteration:``), which repeats an earlier round and is not a new point."""
    if "Stopping. Best iteration:" not in text:
        return np.empty(0, dtype=np.int64)
    ends = [m.end() for m in _XGB_ECHO.finditer(text)]
    return np.searchsorted(starts, np.asarray(ends, dtype=np.int64), side="right") - 1


def _floats(values: list[str]) -> np.ndarray:
    try:  # numpy's C conversion is several times faster than pandas' for clean numbers
        return np.array(values, dtype="U").astype("float64")
    except ValueError:
        return pd.to_numeric(pd.Series(values, dtype="str"), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )


def _epochs(values: list[str | None]) -> pd.Series:
    present = np.array([v is not None for v in values], dtype=bool)
    numbers = np.zeros(len(values), dtype="int64")
    if present.any():
        try:
            numbers[present] = np.array([v for v in values if v is not None], dtype="U").astype("int64")
        except (ValueError, OverflowError):
            numbers_or_nan = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
            # Epochs beyond int64 (a garbled line) are unknown, not an error.
            return numbers_or_nan.astype("float64").where(lambda x: x.abs() < 2**53).astype("Int64")
    return pd.Series(pd.arrays.IntegerArray(numbers, ~present))


def _prefix_times(prefixes: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=prefixes.index, dtype="datetime64[ns, UTC]")
    candidates = prefixes.str.startswith("[")
    if not candidates.any():
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fmt in _PREFIX_FORMATS:
            todo = candidates & out.isna()
            if not todo.any():
                break
            parsed = pd.to_datetime(prefixes[todo], format=fmt, errors="coerce", utc=True)
            out.loc[todo] = parsed.astype("datetime64[ns, UTC]")
    return out


def _line_times(prefixes: pd.Series, text: str, starts: np.ndarray, hit_lines: np.ndarray) -> pd.Series:
    """UTC time of each hit's line: the stamp at the line start (fast, vectorised), else the
    first ``[MM/DD/YYYY HH:MM:SS`` / ``[YYYY-MM-DD:HH:MM:SS`` anywhere in the line."""
    out = _prefix_times(prefixes)
    missing = np.flatnonzero(out.isna().to_numpy())
    if not len(missing):
        return out
    # One C-speed pass for all stamps, then the first stamp of each line.
    matches = list(_STAMP_ANYWHERE.finditer(text))
    if not matches:
        return out
    stamp_lines = np.searchsorted(starts, [m.start() for m in matches], side="right") - 1
    lines_with, first = np.unique(stamp_lines, return_index=True)
    where = np.searchsorted(lines_with, hit_lines[missing])
    where = np.minimum(where, len(lines_with) - 1)
    has = lines_with[where] == hit_lines[missing]
    if not has.any():
        return out
    texts = [matches[k].group(1) for k in first[where[has]].tolist()]
    more = _prefix_times(pd.Series(texts, dtype="str"))
    out.iloc[missing[has]] = more.array
    return out


def _empty_hits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line": pd.Series([], dtype="int64"),
            "metric": pd.Series([], dtype="str"),
            "value": pd.Series([], dtype="float64"),
            "epoch": pd.Series([], dtype="Int64"),
            "host": pd.Series([], dtype="str"),
            "line_time": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )


def join_lines(lines: Iterable[str]) -> tuple[str, int]:
    """Lines -> one text with exactly one ``\\n`` between them (embedded newlines become spaces)."""
    items = [str(line) for line in lines]
    text = "\n".join(items)
    if text.count("\n") != max(len(items) - 1, 0) or "\r" in text:
        items = [line.replace("\r\n", " ").replace("\n", " ").replace("\r", " ") for line in items]
        text = "\n".join(items)
    return text, len(items)


def hits_to_metrics(
    hits: pd.DataFrame,
    *,
    job: str | pd.Series,
    host: str | pd.Series | None,
    timestamps: pd.Series | None,
) -> pd.DataFrame:
    """Attach job, host and time to scan hits. ``job``/``host``/``timestamps`` are per input line
    (Series indexed by line number) or one value for all lines; given timestamps beat line prefixes.
    """
    line = hits["line"].to_numpy()
    time = hits["line_time"]
    if timestamps is not None:
        given = timestamps.reindex(line).reset_index(drop=True)
        time = given.where(given.notna(), time)
    frame = pd.DataFrame(
        {
            "job": job.reindex(line).to_numpy() if isinstance(job, pd.Series) else job,
            "metric": hits["metric"],
            "timestamp": time,
            "value": hits["value"],
            "epoch": hits["epoch"],
        }
    )
    host_values = hits["host"]
    if host is not None:
        chosen = host.reindex(line).reset_index(drop=True) if isinstance(host, pd.Series) else host
        host_values = pd.Series(chosen, index=hits.index, dtype="str").where(
            lambda s: s.notna(), hits["host"]
        )
    if host_values.notna().any():
        frame["host"] = host_values.astype("str")
    return frame


def parse_log_lines(
    lines: Iterable[str],
    *,
    job: str,
    timestamps: Iterable[pd.Timestamp | None] | None = None,
    host: str | None = None,
    metric_definitions: Sequence[MetricDefinition] = (),
    builtin: bool = True,
) -> pd.DataFrame:
    """Canonical metrics from training-log lines (one CloudWatch event or text line each).

    Parameters
    ----------
    lines
        Log messages; ``#011`` and real tabs both work.
    job
        Training-job name for every row.
    timestamps
        Optional event times, one per line (``None`` where unknown); they win over a time prefix
        inside the line. Naive times are taken as UTC.
    host
        Instance (``algo-1``) for every row; if ``None``, Linear Learner's ``host=`` is used.
    metric_definitions
        The job's own name + regex pairs (first group = value); one with the same name as a
        built-in metric replaces it.
    builtin
        Also read the built-in algorithm line shapes.

    Returns
    -------
    pandas.DataFrame
        Canonical metrics frame (``lib.schema``); lines without a metric produce no rows.
    """
    text, n_lines = join_lines(lines)
    hits, _ = scan_text(text, metric_definitions=metric_definitions, builtin=builtin)
    given = None
    if timestamps is not None:
        stamps = list(timestamps)
        if len(stamps) != n_lines:
            raise InputError(f"parse_log_lines: {len(stamps)} timestamps for {n_lines} lines.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            given = to_utc(stamps)
    frame = hits_to_metrics(hits, job=job, host=host, timestamps=given)
    return validate_metrics(frame, source=job)


def parse_training_log(text: str, ctx: Context) -> Parsed:
    """A plain-text training log -> canonical metrics (job = file name without extension)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    hits, n_long = scan_text(text, metric_definitions=ctx.metric_definitions)
    notes = [f"Job name taken from the file name: {ctx.stem}."]
    if n_long:
        notes.append(
            f"{plural(n_long, 'line')} longer than {MAX_LINE_CHARS:,} characters "
            "were not searched for metrics."
        )
    if hits.empty:
        raise fail(
            ctx,
            "this is text, but no line holds a metric SageMaker would read"
            + (f" ({plural(n_long, 'line')} were too long to search)." if n_long else "."),
            hint="For your own algorithm, add metric definitions (name + regex) and upload again.",
        )
    frame = hits_to_metrics(hits, job=ctx.stem, host=None, timestamps=None)
    if frame["timestamp"].isna().all():
        notes.append("The lines carry no time stamps; the runs are charted by epoch.")
    return Parsed("training_log", finish(frame, ctx, notes, require_time=False), notes=notes)


def looks_like_log(text: str, metric_definitions: Sequence[MetricDefinition] = ()) -> bool:
    """Whether the start of ``text`` holds a built-in (or the user's) metric line."""
    head = text[:200_000]
    hits, _ = scan_text(head, metric_definitions=metric_definitions)
    return not hits.empty
