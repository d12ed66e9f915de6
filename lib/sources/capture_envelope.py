"""The envelopes of SageMaker data capture lines, read by their layout instead of a JSON parser.

A capture writer puts every record of a file in the same layout: the same keys in the same order
with the same separators; only some string values differ (payloads, event id, inference time and
id). So a stretch of lines is read like this: one line is parsed with :func:`json.loads` and
becomes a *template*, its bytes with holes where those values are; every line whose bytes outside
the holes are exactly the template's, each hole ending at the first quote after its start, is
that record with other values. Such a value holds no quote (the hole ends at the first one), no
backslash and no control character (a line with a backslash is no layout line; a control
character other than a line end refuses the stretch), so the JSON string is its bytes and no
parser is needed: the values are cut out of the buffer with NumPy and Arrow, whole columns at a
time. Up to :data:`MAX_TEMPLATES` layouts per stretch (e.g. records with and without
``endpointOutput``); a line that fits none is left to the caller (``matched`` false), which reads
it record by record. ``tests/unit/sources/test_capture_fast.py`` checks every value against
:func:`json.loads` on fuzzed layouts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Layouts tried per stretch of lines.
MAX_TEMPLATES: Final = 4
#: Lines tried as a template before giving up on the rest of a stretch.
_TEMPLATE_TRIES: Final = 3
SIDE_KEYS: Final = ("observedContentType", "mode", "data", "encoding")
META_KEYS: Final = ("eventId", "inferenceId", "inferenceTime")
#: The keys a template may hold (``None``: a string value); any other key, or a value of another
#: type, makes the line no template (the caller's JSON reader handles it).
_SCHEMA: Final[dict[str, Any]] = {
    "captureData": {
        "endpointInput": dict.fromkeys(SIDE_KEYS),
        "endpointOutput": dict.fromkeys(SIDE_KEYS),
    },
    "eventMetadata": dict.fromkeys(META_KEYS),
    "eventVersion": None,
}
Path = tuple[str, ...]
_SIDES: Final = ("endpointInput", "endpointOutput")
_QUOTE: Final = 0x22
_BACKSLASH: Final = 0x5C


@dataclass(frozen=True)
class Envelopes:
    """The envelopes of a stretch of lines, one entry per line.

    Attributes
    ----------
    matched
        Lines read by a template; the others hold nulls and must be read record by record.
    request, response
        ``captureData.endpointInput`` / ``endpointOutput`` as struct arrays of the
        :data:`SIDE_KEYS` strings (null where the record has no such block).
    event, when
        ``eventMetadata.eventId`` and ``inferenceTime`` (null where absent).
    """

    matched: np.ndarray
    request: pa.StructArray
    response: pa.StructArray
    event: pa.Array
    when: pa.Array


@dataclass(frozen=True)
class _Template:
    """A line's layout: the values that differ from record to record (``holes``: payloads, event
    id, inference time and id, in document order) and the bytes around them (``segments[0]`` up to
    and with the first hole's opening quote, ``segments[j]`` from hole ``j-1``'s closing quote up to
    and with hole ``j``'s opening quote, the last to the end of the line). Other values (content
    types, encodings, ``mode``, ``eventVersion``) are part of the segments: ``constants``."""

    holes: tuple[Path, ...]
    segments: tuple[bytes, ...]
    constants: dict[Path, str]
    blocks: frozenset[Path]


def utf8_without_odd_breaks(chunk: bytes) -> bool:
    """Whether ``chunk`` is UTF-8 text with no line break ``str.splitlines`` knows but JSON Lines does
    not (``\\x85``, ``\\u2028``, ``\\u2029``): the lines a byte-level reader sees are then Python's."""
    if chunk.isascii():
        return True
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(c in text for c in "\x85\u2028\u2029")


def _tokens(
    node: dict[str, Any],
    schema: dict[str, Any],
    path: Path,
    out: list[tuple[str, Path | None]],
    blocks: set[Path],
) -> bool:
    """The strings of a parsed record in document order, ``(key, None)`` or ``(value, path)``, and
    the paths of its objects (``blocks``); false if the record holds anything the envelope schema
    does not."""
    for key, value in node.items():
        if key not in schema:
            return False
        out.append((key, None))
        sub = schema[key]
        if sub is None:
            if not isinstance(value, str):
                return False
            out.append((value, (*path, key)))
        else:
            blocks.add((*path, key))
            if not isinstance(value, dict) or not _tokens(value, sub, (*path, key), out, blocks):
                return False
    return True


def _template(line: bytes) -> _Template | None:
    """The layout of one line (no backslash in it), or ``None`` if it is no envelope of string
    values with a payload, or its strings are not the keys and values :func:`json.loads` reads, in
    order (e.g. a duplicate key)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    expected: list[tuple[str, Path | None]] = []
    blocks: set[Path] = set()
    if not isinstance(record, dict) or not _tokens(record, _SCHEMA, (), expected, blocks):
        return None
    quotes = np.flatnonzero(np.frombuffer(line, dtype=np.uint8) == _QUOTE).tolist()
    if len(quotes) != 2 * len(expected):
        return None
    cuts: list[int] = []
    holes: list[Path] = []
    constants: dict[Path, str] = {}
    for t, (text, path) in enumerate(expected):
        if line[quotes[2 * t] + 1 : quotes[2 * t + 1]] != text.encode():
            return None
        if path in _HOLES:
            holes.append(path)
            cuts += [quotes[2 * t], quotes[2 * t + 1]]
        elif path is not None:
            constants[path] = text
    if not any(path[-1] == "data" for path in holes):
        return None
    segments = [line[: cuts[0] + 1]]
    segments += [line[cuts[k] : cuts[k + 1] + 1] for k in range(1, len(cuts) - 1, 2)]
    segments.append(line[cuts[-1] :])
    return _Template(tuple(holes), tuple(segments), constants, frozenset(blocks))


def _equal_at(buffer: bytes, starts: np.ndarray, segment: bytes) -> np.ndarray:
    """Whether ``buffer[s : s + len(segment)] == segment`` for each ``s`` (compared as fixed-width
    byte strings of a strided view; starts too close to the end compare false)."""
    width = len(segment)
    if width > len(buffer):
        return np.zeros(len(starts), dtype=bool)
    view = np.ndarray((len(buffer) - width + 1,), dtype=f"S{width}", buffer=buffer, strides=(1,))
    inside = starts <= len(buffer) - width
    return inside & (view[np.minimum(starts, len(buffer) - width)] == np.bytes_(segment))


def read_envelopes(chunk: bytes) -> Envelopes | None:
    """The envelopes of a stretch of whole lines (UTF-8, ``\\n`` or ``\\r\\n`` line ends).

    ``None`` when the stretch must be read another way: a control character other than a line
    end, a line break ``str.splitlines`` sees but this does not (``\\x85``, ``\\u2028``,
    ``\\u2029``), text that is not UTF-8, or a blank line (not a record to the record reader).
    """
    if len(chunk) >= 2**31 - 1:
        return None
    raw = np.frombuffer(chunk, dtype=np.uint8)
    control = np.flatnonzero(raw < 0x20)
    kinds = raw[control]
    newline = kinds == 0x0A
    if not newline.all():
        cr = control[~newline]
        if (kinds[~newline] != 0x0D).any() or (cr + 1 >= len(raw)).any() or (raw[cr + 1] != 0x0A).any():
            return None
    if not utf8_without_odd_breaks(chunk):
        return None
    ends = control[newline]
    if len(chunk) and chunk[-1] != 0x0A:
        ends = np.append(ends, len(chunk))
    n = len(ends)
    if n == 0:
        return None
    begins = np.r_[0, ends[:-1] + 1]
    data = pa.py_buffer(chunk)
    pending = np.ones(n, dtype=bool)
    pending[np.searchsorted(begins, np.flatnonzero(raw == _BACKSLASH), side="right") - 1] = False
    matched = np.zeros(n, dtype=bool)
    which = np.full(n, -1, dtype="int64")
    holes: dict[Path, tuple[np.ndarray, np.ndarray]] = {
        path: (begins.copy(), begins.copy()) for path in _HOLES
    }
    templates: list[_Template] = []
    while pending.any() and len(templates) < MAX_TEMPLATES:
        template = None
        for i in np.flatnonzero(pending)[:_TEMPLATE_TRIES].tolist():
            template = _template(chunk[begins[i] : ends[i]])
            if template is not None:
                break
        if template is None:
            break
        lines = np.flatnonzero(pending)
        line_end = ends[lines]
        ok = _equal_at(chunk, begins[lines], template.segments[0])
        at = begins[lines] + len(template.segments[0])
        cut: list[tuple[np.ndarray, np.ndarray]] = []
        for segment in template.segments[1:]:
            # The hole runs to the next quote in the line; then the next segment must follow.
            length = _find_quote(data, np.minimum(at, line_end), line_end)
            stop = at + length
            ok &= (length >= 0) & _equal_at(chunk, stop, segment)
            cut.append((at, stop))
            at = stop + len(segment)
        ok &= at == line_end
        lines = lines[ok]
        for path, (start, stop) in zip(template.holes, cut, strict=True):
            holes[path][0][lines] = start[ok]
            holes[path][1][lines] = stop[ok]
        which[lines] = len(templates)
        templates.append(template)
        pending[lines] = False
        matched[lines] = True
    if not matched.any():
        return None
    unmatched = np.flatnonzero(~matched)
    if any(not chunk[begins[i] : ends[i]].decode("utf-8").strip() for i in unmatched.tolist()):
        return None
    which[unmatched] = len(templates)  # the null slot after the templates' values

    def column(path: Path) -> pa.Array:
        if path in holes:
            has = np.array([path in t.holes for t in templates] + [False])[which]
            return _strings(data, *holes[path], has)
        return pa.array([t.constants.get(path) for t in templates] + [None], pa.string()).take(which)

    def side(key: str) -> pa.StructArray:
        fields = [column(("captureData", key, field)) for field in SIDE_KEYS]
        present = np.array([("captureData", key) in t.blocks for t in templates] + [False])[which]
        return pa.StructArray.from_arrays(fields, names=list(SIDE_KEYS), mask=pa.array(~present))

    return Envelopes(
        matched,
        side("endpointInput"),
        side("endpointOutput"),
        column(("eventMetadata", "eventId")),
        column(("eventMetadata", "inferenceTime")),
    )


#: Values read from each line; the others are part of a template's fixed bytes.
_HOLES: Final[frozenset[Path]] = frozenset(
    [
        ("captureData", "endpointInput", "data"),
        ("captureData", "endpointOutput", "data"),
        ("eventMetadata", "eventId"),
        ("eventMetadata", "inferenceId"),
        ("eventMetadata", "inferenceTime"),
    ]
)


def _spans(data: pa.Buffer, starts: np.ndarray, stops: np.ndarray) -> pa.StringArray:
    """A string array over the whole buffer whose even slots are ``data[starts[i]:stops[i]]``
    (the odd ones are the bytes in between); spans must be in order and not overlap."""
    n = len(starts)
    offsets = np.empty(2 * n + 1, dtype=np.int32)
    offsets[0 : 2 * n : 2] = starts
    offsets[1 : 2 * n : 2] = stops
    offsets[2 * n] = stops[-1] if n else 0
    return pa.StringArray.from_buffers(2 * n, pa.py_buffer(offsets), data)


def _find_quote(data: pa.Buffer, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Where the first double quote of each ``data[starts[i]:stops[i]]`` is, from its start (-1:
    none)."""
    found = pc.find_substring(_spans(data, starts, stops), '"').to_numpy(zero_copy_only=False)
    return found[0::2].astype("int64")


def _strings(data: pa.Buffer, starts: np.ndarray, stops: np.ndarray, valid: np.ndarray) -> pa.Array:
    """The strings ``data[starts[i]:stops[i]]`` (null where not ``valid``), copied out of the
    buffer in one ``take`` of the even slots of :func:`_spans`."""
    return _spans(data, starts, stops).take(pa.array(np.arange(0, 2 * len(starts), 2), mask=~valid))
