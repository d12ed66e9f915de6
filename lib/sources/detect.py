"""Bytes -> text -> format: the sniffing that decides which parser reads an upload.

Order: compressed or binary containers (gzip is opened; zip, Excel, PDF, images are named and
refused), then the text encoding (BOMs for UTF-8/16/32, BOM-less UTF-16, UTF-8, else
Windows-1252/Latin-1), then the content: HTML/XML pages are refused, JSON and JSON lines go by
their keys, CSVs by their header, and text with SageMaker metric lines is a training log.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any, Final

from lib.sources import cloudwatch_json, csv_formats, csv_table, loggly, logs, monitor_files, sagemaker_json
from lib.sources.base import Context, Parsed, fail, plural
from lib.sources.files import gunzip

#: Magic numbers of binary files, to say what a refused upload is.
_BINARY_MAGIC: Final = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel/Office file"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"),
)


def _gunzip(data: bytes, ctx: Context) -> bytes:
    """The gzip upload unpacked in chunks, stopped at the one byte cap (:data:`MAX_BYTES`)."""
    out = gunzip(data, ctx.name)
    if out[:2] == b"\x1f\x8b":
        raise fail(
            ctx, "this is a gzip file inside a gzip file.", hint="Unpack the outer one and upload again."
        )
    return out


def _describe_binary(data: bytes) -> str | None:
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            if magic == b"PK\x03\x04" and b"[Content_Types].xml" in data[:4096]:
                return "an Excel workbook (.xlsx)"
            return what
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` if NUL bytes sit in every other position (ASCII in UTF-16)."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.6 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode(data: bytes, ctx: Context, notes: list[str]) -> tuple[str, bytes]:
    """Text of the upload plus its UTF-8 bytes (for the CSV reader); binary content is refused."""
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
        (codecs.BOM_UTF8, "utf-8", None),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    )
    for bom, encoding, label in boms:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            if label:
                notes.append(f"Read as {label} text.")
            return _checked(text, ctx), text.encode("utf-8")
    if b"\x00" in data[:65536]:
        encoding16 = _utf16_without_bom(data)
        if encoding16 is None:
            raise fail(ctx, f"this is binary data ({_excerpt(data)}), not a text export.")
        text = data.decode(encoding16, errors="replace")
        notes.append("Read as UTF-16 text.")
        return _checked(text, ctx), text.encode("utf-8")
    try:
        return _checked(data.decode("utf-8"), ctx), data
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        notes.append("The file is not UTF-8; read it as Windows-1252 (Western European) text.")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.append("The file is not UTF-8; read it as Latin-1 text.")
    return _checked(text, ctx), text.encode("utf-8")


def _checked(text: str, ctx: Context) -> str:
    """Refuse text that is mostly control characters (binary junk that happened to decode).

    The ESC of an ANSI escape sequence (``ESC[34m``: colour codes in notebook-saved logs) is text,
    not a control character here: a short coloured log is still a log.
    """
    sample = text[:65536]
    if not sample.strip():
        raise fail(ctx, "the file is empty (or only blank lines).")
    control = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ch == "\ufffd")
    control -= sample.count("\x1b[")
    if control > 0.05 * len(sample):
        raise fail(
            ctx, f"this is binary data ({_excerpt(sample.encode('utf-8', 'replace'))}), not a text export."
        )
    return text


def _excerpt(data: bytes) -> str:
    shown = data[:16].hex(" ")
    return f"starts with bytes {shown}"


def _text_excerpt(text: str, limit: int = 40) -> str:
    head = " ".join(text.strip()[:limit].split())
    return head + ("..." if len(text.strip()) > limit else "")


def _load_json(text: str, ctx: Context) -> tuple[Any, bool]:
    """``(document, ok)``; a document that does not parse comes back as ``(error text, False)``."""
    try:
        return json.loads(text), True
    except RecursionError:
        raise fail(ctx, "this JSON is nested too deeply to be an export.") from None
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}"
        if err.pos >= len(text.rstrip()) - 1:
            return f"the JSON ends unexpectedly at {where} (is the file cut short?)", False
        return f"the JSON is invalid at {where} ({err.msg})", False
    except ValueError as err:  # an integer of thousands of digits
        raise fail(ctx, f"this JSON holds a number that cannot be read ({str(err)[:60]}).") from None


def _json_lines(text: str, ctx: Context) -> list[Any] | None:
    """JSON lines (one object per line), or ``None`` if the first line is not a JSON object."""
    items, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            if not items:
                return None
            bad += 1
    if bad:
        ctx_notes = f"{plural(bad, 'line')} that are not JSON"
        items.append({"__bad_lines__": ctx_notes})
    return items


def parse_json_document(doc: Any, ctx: Context) -> Parsed:
    """Route a parsed JSON document by its keys (Model Monitor files are sent to their page)."""
    monitor_file = monitor_files.metrics_upload_error(doc, ctx.name)
    if monitor_file is not None:
        raise monitor_file
    first = doc[0] if isinstance(doc, list) and doc else None
    if (isinstance(doc, Mapping) and "MetricDataResults" in doc) or (
        isinstance(first, Mapping) and "MetricDataResults" in first
    ):
        return cloudwatch_json.parse_metric_data(doc, ctx)
    if isinstance(doc, Mapping) and "Datapoints" in doc:
        return cloudwatch_json.parse_metric_statistics(doc, ctx)
    if loggly.looks_like_events_api(doc):
        return loggly.parse_events_api(doc, ctx)
    if (isinstance(doc, Mapping) and isinstance(doc.get("events"), list)) or (
        isinstance(first, Mapping) and isinstance(first.get("events"), list)
    ):
        return cloudwatch_json.parse_log_events(doc, ctx)
    if sagemaker_json.is_describe(doc):
        return sagemaker_json.parse_describe(doc, ctx)
    records = sagemaker_json.job_records(doc)
    if records is not None:
        return sagemaker_json.parse_job_list(records, ctx)
    if isinstance(doc, list) and any(loggly.is_loggly_event(item) for item in doc[:100]):
        return loggly.parse_events(doc, ctx, "loggly_bulk")
    if isinstance(doc, Mapping) and loggly.is_loggly_event(doc):
        return loggly.parse_events([doc], ctx, "loggly_bulk")
    if isinstance(doc, Mapping):
        keys = ", ".join(list(map(str, doc))[:8]) or "none"
        found = f"this is JSON with top-level keys {keys}, which is not a known export shape."
    elif isinstance(doc, list):
        found = f"this is a JSON list of {plural(len(doc), 'item')}, which is not a known export shape."
    else:
        found = f"this is a bare JSON {type(doc).__name__}, not an export."
    raise fail(ctx, found)


def parse_text(text: str, raw: bytes, ctx: Context) -> Parsed:
    """Route decoded text to the parser its content matches."""
    stripped = text.lstrip()
    head = stripped[:200].lower()
    if stripped.startswith("<"):
        if head.startswith("<!doctype html") or "<html" in head or "<head" in head or "<body" in head:
            raise fail(
                ctx,
                f"this looks like an HTML page (starts with {_text_excerpt(stripped)}), "
                "not a metrics export.",
                hint="If you saved it from a browser, download the file itself (or the CLI output) instead.",
            )
        raise fail(
            ctx, f"this looks like XML/markup (starts with {_text_excerpt(stripped)}), not a metrics export."
        )
    if stripped[:1] in "{[":
        doc, ok = _load_json(text, ctx)
        if ok:
            return parse_json_document(doc, ctx)
        if stripped[:1] == "{":
            items = _json_lines(text, ctx)
            if items is not None and len(items) > 1:
                bad = [i for i in items if isinstance(i, Mapping) and "__bad_lines__" in i]
                parsed = parse_json_document([i for i in items if i not in bad], ctx)
                parsed.notes.extend(f"{b['__bad_lines__']} were skipped." for b in bad)
                return parsed
            raise fail(ctx, f"this looks like JSON, but {doc}.")
        if not logs.looks_like_log(text, ctx.metric_definitions):
            raise fail(ctx, f"this looks like JSON, but {doc}.")
    from_csv = csv_formats.parse_csv(text, raw, ctx)
    if from_csv is not None:
        return from_csv
    if logs.looks_like_log(text, ctx.metric_definitions):
        return logs.parse_training_log(text, ctx)
    header_line = csv_formats.first_line(text)
    columns = csv_formats.read_header(header_line, csv_formats.sniff_separator(header_line))
    dataset = monitor_files.dataset_upload_error(columns or [], ctx.name)
    if dataset is not None:
        raise dataset
    from_wide = csv_formats.parse_wide(text, raw, ctx)
    if from_wide is not None:
        return from_wide
    header = csv_table.first_line(text)
    lines = text.count("\n") + 1
    if lines <= 2 and "," in header:
        found = f"only a header line ({_text_excerpt(header, 60)}) and no known columns or data."
    else:
        excerpt = _text_excerpt(header, 60)
        found = f"{plural(lines, 'line')} of text starting with {excerpt!r}, in no known layout."
    if len(text) > logs.MAX_LINE_CHARS:
        n_long = sum(len(line) > logs.MAX_LINE_CHARS for line in text.split("\n"))
        if n_long:
            found += (
                f" ({plural(n_long, 'line')} too long to search for metrics: "
                f"over {logs.MAX_LINE_CHARS:,} characters.)"
            )
    raise fail(
        ctx,
        f"found {found}",
        hint="A CSV needs metric + value columns (long) or a time/epoch column plus numeric columns (wide).",
    )


def parse_bytes(data: bytes, ctx: Context) -> Parsed:
    """Route raw upload bytes: unpack gzip, refuse binaries, decode, then sniff the text."""
    notes: list[str] = []
    if not data.strip():
        raise fail(ctx, "the file is empty.")
    if data.startswith(b"\x1f\x8b"):
        data = _gunzip(data, ctx)
        notes.append("Unpacked a gzip file.")
        if not data.strip():
            raise fail(ctx, "the gzip file holds an empty file.")
    binary = _describe_binary(data)
    if binary:
        raise fail(
            ctx,
            f"this is {binary}, not a text export.",
            hint="Unpack it or save the sheet as CSV, then upload the file itself."
            if "ZIP" in binary or "Excel" in binary
            else None,
        )
    text, raw = decode(data, ctx, notes)
    if text.startswith("\ufeff"):  # a second BOM after decoding
        text = text[1:]
    parsed = parse_text(text, raw, ctx)
    parsed.notes[:0] = notes
    return parsed
