"""``driftwatch`` on the command line: drift between a reference and current data, for cron and CI.

    driftwatch drift --schedule churn-monitor --endpoint churn-prod --hours 24 \\
        --html report.html --json s3://reports/churn/latest.json --publish-metrics
    driftwatch datasets --reference s3://bucket/train/ --current s3://bucket/capture-parquet/ \\
        --summary s3://reports/churn/summaries.json --html report.html
    driftwatch report s3://reports/churn/summaries.json --html report.html   # e.g. the Spark job's
    driftwatch compact s3://bucket/datacapture/churn-prod/ s3://bucket/capture-parquet/

(or ``python -m lib.cli drift …``). Exit status: 0 no drift, 1 drift, 2 error (one line on stderr,
no traceback for expected errors). The CLI uses only the public ``lib`` API, as a script would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from lib import (
    AppError,
    DriftSummaries,
    InputError,
    baseline_reference,
    compact_capture,
    compare,
    list_endpoints,
    load_baseline,
    load_endpoint_capture,
    make_session,
    publish_drift_metrics,
    read_s3_object,
    read_statistics,
    read_table,
    summarise_datasets,
    write_s3_object,
)

if TYPE_CHECKING:
    import boto3
    import pandas as pd

    from lib.drift.report import DriftReport
    from lib.sources.monitor_files import Baseline

EXIT_OK: Final = 0
EXIT_DRIFT: Final = 1
EXIT_ERROR: Final = 2
#: Rows of the drift table printed (the report files hold them all).
SHOWN_ROWS: Final = 15
#: Rows drawn from a statistics.json baseline as the reference sample.


def build_parser() -> argparse.ArgumentParser:
    """The ``driftwatch`` parser: ``drift``, ``datasets``, ``report``, ``compact``, ``endpoints``."""
    parser = argparse.ArgumentParser(
        prog="driftwatch", description="Driftwatch: is my SageMaker model's input still like its baseline?"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    drift = sub.add_parser(
        "drift",
        help="compare current data with a reference or a Model Monitor baseline",
        description="Exit status: 0 no drift, 1 drift, 2 error.",
    )
    ref = drift.add_argument_group("reference (one of)")
    ref.add_argument("--reference", metavar="PATH|S3URI", help="CSV/Parquet/JSONL file (local or s3://)")
    ref.add_argument(
        "--baseline", metavar="PATH|S3URI", help="Model Monitor statistics.json (local or s3://)"
    )
    ref.add_argument(
        "--schedule",
        metavar="NAME",
        help="monitoring schedule: its baseline is the reference unless --reference/--baseline is given; "
        "also the MonitoringSchedule dimension of --publish-metrics",
    )
    cur = drift.add_argument_group("current (one of)")
    cur.add_argument("--current", metavar="PATH|S3URI", help="CSV/Parquet/JSONL file (local or s3://)")
    cur.add_argument("--endpoint", metavar="NAME", help="read the endpoint's data capture from S3")
    cur.add_argument("--hours", type=float, metavar="N", help="capture of the last N hours (before --end)")
    cur.add_argument("--start", metavar="TIME", help="capture from TIME (ISO, UTC), instead of --hours")
    cur.add_argument("--end", metavar="TIME", help="capture until TIME (ISO, UTC; default now)")
    cur.add_argument("--variant", metavar="NAME", help="one production variant (default: all)")
    cur.add_argument("--max-records", type=int, metavar="N", help="random sample of at most N rows")
    cur.add_argument(
        "--feature-names", metavar="A,B,…", help="names of positional capture inputs (default: baseline's)"
    )
    cur.add_argument("--deadline", type=float, default=600.0, metavar="S", help="overall seconds (600)")
    out = drift.add_argument_group("output")
    out.add_argument("--html", metavar="PATH|S3URI", help="write the HTML report here")
    out.add_argument("--json", metavar="PATH|S3URI", help="write the JSON report here")
    out.add_argument("--alpha", type=float, default=None, help="level of the adjusted p-values")
    pub = drift.add_argument_group("CloudWatch metrics")
    pub.add_argument(
        "--publish-metrics",
        action="store_true",
        help="PutMetricData feature_baseline_drift_<feature> per column (Model Monitor's names)",
    )
    pub.add_argument("--namespace", default=None, help="default aws/sagemaker/Endpoints/data-metrics")
    pub.add_argument(
        "--dimension",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="own dimensions (repeatable); default Endpoint and MonitoringSchedule",
    )
    pub.add_argument("--metric-prefix", default=None, help="default feature_baseline_drift_")
    datasets = sub.add_parser(
        "datasets",
        help="compare two datasets of any size (Parquet/CSV/JSON Lines/capture; folders, globs, s3://)",
        description="Streams both datasets in record batches (bounded memory). Exit status: 0 no drift, "
        "1 drift, 2 error.",
    )
    datasets.add_argument("--reference", required=True, nargs="+", metavar="PATH|S3URI")
    datasets.add_argument("--current", required=True, nargs="+", metavar="PATH|S3URI")
    datasets.add_argument("--format", choices=("parquet", "csv", "json", "capture"), help="default: by name")
    datasets.add_argument("--columns", metavar="A,B,…", help="columns to test (default: every shared one)")
    datasets.add_argument("--exclude", metavar="A,B,…", default="", help="columns never tested")
    datasets.add_argument("--feature-names", metavar="A,B,…", help="names of positional capture inputs")
    datasets.add_argument("--summary", metavar="PATH|S3URI", help="also write the summary file here")
    report = sub.add_parser(
        "report",
        help="open a drift-summary file (from `datasets --summary` or the Spark job) as a report",
        description="Exit status: 0 no drift, 1 drift, 2 error.",
    )
    report.add_argument("summary", metavar="PATH|S3URI", help="summaries.json")
    compact = sub.add_parser("compact", help="rewrite Model Monitor capture files as Parquet")
    compact.add_argument("source", metavar="PATH|S3URI", help="capture folder or prefix")
    compact.add_argument("destination", metavar="PATH|S3URI", help="folder or prefix for the Parquet files")
    compact.add_argument("--feature-names", metavar="A,B,…", help="names of positional capture inputs")
    for p in (datasets, report):
        p.add_argument("--html", metavar="PATH|S3URI", help="write the HTML report here")
        p.add_argument("--json", metavar="PATH|S3URI", help="write the JSON report here")
        p.add_argument("--alpha", type=float, default=None, help="level of the adjusted p-values")
    endpoints = sub.add_parser("endpoints", help="list SageMaker endpoints and their data capture")
    for p in (drift, datasets, report, compact, endpoints):
        aws = p.add_argument_group("AWS")
        aws.add_argument("--profile", help="AWS profile (default: the standard chain)")
        aws.add_argument("--region", help="AWS region (default: the profile's / AWS_DEFAULT_REGION)")
        aws.add_argument("--endpoint-url", help="one endpoint URL for every service (moto, LocalStack)")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``driftwatch`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    0: no drift; 1: drift; 2: an error (bad arguments, unreadable input, AWS refused), reported as
    one line on stderr.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed usage and the message
        return int(exit_.code or 0)
    try:
        if args.command == "endpoints":
            return _endpoints(args, out)
        if args.command == "datasets":
            return _datasets(args, out)
        if args.command == "report":
            return _report(args, out)
        if args.command == "compact":
            return _compact(args, out)
        return _drift(args, out)
    except AppError as error:
        print(f"driftwatch: error: {' '.join(str(error).split())}", file=err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("driftwatch: interrupted", file=err)
        return 130


class _Aws:
    """The session, made once and only when something needs AWS."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._session: boto3.Session | None = None
        self.endpoint_url: str | None = args.endpoint_url or None

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = make_session(self._args.profile, self._args.region)
        return self._session


def _endpoints(args: argparse.Namespace, out: TextIO) -> int:
    aws = _Aws(args)
    frame = list_endpoints(aws.session, endpoint_url=aws.endpoint_url)
    if frame.empty:
        print("No endpoints.", file=out)
    else:
        shown = frame[["endpoint", "status", "capture_enabled", "capture_destination", "capture_options"]]
        print(shown.to_string(index=False), file=out)
    for warning in frame.attrs.get("warnings", []):
        print(f"warning: {warning}", file=out)
    return EXIT_OK


def _names(text: str | None) -> list[str] | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def _uses_s3(*uris: str) -> bool:
    return any(u.lower().startswith("s3://") for u in uris)


def _datasets(args: argparse.Namespace, out: TextIO) -> int:
    aws = _Aws(args)
    uris = [*args.reference, *args.current]
    summaries = summarise_datasets(
        args.reference if len(args.reference) > 1 else args.reference[0],
        args.current if len(args.current) > 1 else args.current[0],
        columns=_names(args.columns),
        exclude=_names(args.exclude) or (),
        format=args.format,
        session=aws.session if _uses_s3(*uris) else None,
        endpoint_url=aws.endpoint_url,
        feature_names=_names(args.feature_names),
    )
    if args.summary:
        _write(aws, args.summary, summaries.to_json().encode(), "application/json")
    return _report_out(args, aws, summaries, out, [args.summary] if args.summary else [])


def _report(args: argparse.Namespace, out: TextIO) -> int:
    aws = _Aws(args)
    data, _ = _read_bytes(aws, args.summary)
    return _report_out(args, aws, DriftSummaries.from_json(data), out, [])


def _compact(args: argparse.Namespace, out: TextIO) -> int:
    aws = _Aws(args)
    written = compact_capture(
        args.source,
        args.destination,
        session=aws.session if _uses_s3(args.source, args.destination) else None,
        endpoint_url=aws.endpoint_url,
        feature_names=_names(args.feature_names),
    )
    print(f"Wrote {len(written)} Parquet file(s) under {args.destination}.", file=out)
    return EXIT_OK


def _report_out(
    args: argparse.Namespace, aws: _Aws, summaries: DriftSummaries, out: TextIO, written: list[str]
) -> int:
    report = summaries.report(**({"alpha": args.alpha} if args.alpha is not None else {}))
    if args.html:
        _write(aws, args.html, report.to_html().encode(), "text/html; charset=utf-8")
        written.append(args.html)
    if args.json:
        _write(aws, args.json, report.to_json().encode(), "application/json")
        written.append(args.json)
    _summary(out, report, None, written, None)
    return EXIT_DRIFT if report.drifted_columns else EXIT_OK


def _check(args: argparse.Namespace) -> None:
    if args.reference and args.baseline:
        raise InputError("Give one reference: --reference or --baseline (or --schedule alone).")
    if not (args.reference or args.baseline or args.schedule):
        raise InputError(
            "No reference: give --reference FILE, --baseline statistics.json or --schedule NAME."
        )
    if args.current and args.endpoint:
        raise InputError("Give one current: --current FILE or --endpoint NAME with --hours/--start.")
    if not (args.current or args.endpoint):
        raise InputError("No current data: give --current FILE or --endpoint NAME --hours N.")
    if args.endpoint and args.hours is None and args.start is None:
        raise InputError("--endpoint needs a time range: --hours N (or --start TIME).")
    if args.hours is not None and args.hours <= 0:
        raise InputError("--hours must be positive.")
    if args.publish_metrics and not args.dimension and not (args.endpoint and args.schedule):
        raise InputError(
            "--publish-metrics with Model Monitor's dimensions needs --endpoint and --schedule.",
            hint="Or choose your own with --dimension NAME=VALUE.",
        )
    for d in args.dimension:
        if "=" not in d or not d.split("=", 1)[0] or not d.split("=", 1)[1]:
            raise InputError(f"--dimension {d!r}: expected NAME=VALUE.")


def _drift(args: argparse.Namespace, out: TextIO) -> int:
    _check(args)
    aws = _Aws(args)
    reference, ref_name, baseline = _reference(args, aws)
    current, cur_name = _current(args, aws, baseline, reference if baseline is None else None)
    kwargs: dict[str, Any] = {"reference_name": ref_name, "current_name": cur_name}
    if args.alpha is not None:
        kwargs["alpha"] = args.alpha
    roles = {"prediction": "prediction", "timestamp": "inference_time"}
    kwargs.update({k: v for k, v in roles.items() if v in current.columns and v in reference.columns})
    report = compare(reference, current, **kwargs)
    written = []
    if args.html:
        _write(aws, args.html, report.to_html(reference, current).encode(), "text/html; charset=utf-8")
        written.append(args.html)
    if args.json:
        _write(aws, args.json, report.to_json().encode(), "application/json")
        written.append(args.json)
    published = None
    if args.publish_metrics:
        dims = dict(d.split("=", 1) for d in args.dimension) or None
        options: dict[str, Any] = {"endpoint": args.endpoint, "schedule": args.schedule, "dimensions": dims}
        if args.namespace:
            options["namespace"] = args.namespace
        if args.metric_prefix:
            options["metric_prefix"] = args.metric_prefix
        n = publish_drift_metrics(aws.session, report, endpoint_url=aws.endpoint_url, **options)
        where = args.namespace or "aws/sagemaker/Endpoints/data-metrics"
        used = dims or {"Endpoint": args.endpoint, "MonitoringSchedule": args.schedule}
        shown = ", ".join(f"{k}={v}" for k, v in used.items())
        published = f"Published {n} metric(s) to {where} ({shown})."
    _summary(out, report, current, written, published)
    return EXIT_DRIFT if report.drifted_columns else EXIT_OK


def _read_bytes(aws: _Aws, source: str) -> tuple[bytes, str]:
    if source.lower().startswith("s3://"):
        return read_s3_object(aws.session, source, endpoint_url=aws.endpoint_url), source
    path = Path(source)
    try:
        return path.read_bytes(), source
    except OSError as error:
        raise InputError(f"{source}: cannot read the file ({error.strerror or error}).") from error


def _table(aws: _Aws, source: str) -> pd.DataFrame:
    data, name = _read_bytes(aws, source)
    return read_table(data, name=name.rsplit("/", 1)[-1])


def _reference(args: argparse.Namespace, aws: _Aws) -> tuple[pd.DataFrame, str, Baseline | None]:
    if args.reference:
        return _table(aws, args.reference), args.reference, None
    baseline: Baseline | None
    if args.baseline and not args.baseline.lower().startswith("s3://"):
        data, name = _read_bytes(aws, args.baseline)
        baseline = read_statistics(io.BytesIO(data))
    else:
        source = args.baseline or args.schedule
        baseline, _ = load_baseline(aws.session, source, endpoint_url=aws.endpoint_url)
        name = args.baseline or f"baseline of schedule {args.schedule}"
    if baseline is None:
        raise InputError(f"{name}: the baseline has no statistics.json to draw a reference from.")
    frame = baseline_reference(baseline)  # as many rows as the baseline saw, at most 10,000
    return frame, f"{name} ({len(frame):,} rows drawn from the statistics)", baseline


def _current(
    args: argparse.Namespace, aws: _Aws, baseline: Baseline | None, reference: pd.DataFrame | None
) -> tuple[pd.DataFrame, str]:
    if args.current:
        return _table(aws, args.current), args.current
    end = _time(args.end, "--end") if args.end else dt.datetime.now(dt.UTC)
    start = _time(args.start, "--start") if args.start else end - dt.timedelta(hours=args.hours)
    names: Any
    if args.feature_names:
        names = [n.strip() for n in args.feature_names.split(",") if n.strip()]
    elif baseline is not None:
        names = baseline
    else:  # a baseline dataset's header: Model Monitor's convention, label first
        names = list(reference.columns) if reference is not None else None
    frame = load_endpoint_capture(
        aws.session,
        args.endpoint,
        start,
        end,
        variant=args.variant,
        max_records=args.max_records,
        feature_names=names,
        deadline=args.deadline,
        endpoint_url=aws.endpoint_url,
    )
    name = f"capture of {args.endpoint} {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC"
    return frame, name


def _time(text: str, flag: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InputError(
            f"{flag}: cannot read {text!r} as a time.", hint="Use e.g. 2024-05-06T13:00."
        ) from error
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _write(aws: _Aws, target: str, data: bytes, content_type: str) -> None:
    if target.lower().startswith("s3://"):
        write_s3_object(aws.session, target, data, content_type=content_type, endpoint_url=aws.endpoint_url)
        return
    try:
        Path(target).write_bytes(data)
    except OSError as error:
        raise InputError(f"{target}: cannot write the report ({error.strerror or error}).") from error


def _fmt(value: Any, spec: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    return "–" if number != number else format(number, spec)


def _summary(
    out: TextIO, report: DriftReport, current: pd.DataFrame | None, written: list[str], published: str | None
) -> None:
    verdict = "DRIFT" if report.drifted_columns else "no drift"
    print(f"{verdict}: {report.summary}", file=out)
    print(f"  reference: {report.reference_name} ({report.n_reference:,} rows)", file=out)
    print(f"  current:   {report.current_name} ({report.n_current:,} rows)", file=out)
    table = report.table.drop_duplicates("column")
    lines = [f"  {'column':<24} {'status':<16} {'p_adjusted':>10} {'effect':>8}"]
    for row in table.head(SHOWN_ROWS).to_dict("records"):
        lines.append(
            f"  {str(row['column'])[:24]:<24} {str(row['status'])[:16]:<16} "
            f"{_fmt(row['p_adjusted'], '.2g'):>10} {_fmt(row['effect_size'], '.3f'):>8}"
        )
    if len(table) > SHOWN_ROWS:
        lines.append(f"  … and {len(table) - SHOWN_ROWS} more column(s) in the report")
    print("\n".join(lines), file=out)
    attrs = current.attrs if current is not None else {}
    for note in attrs.get("notes", ()):
        print(f"  note: {note}", file=out)
    if attrs.get("n_bad"):
        print(f"  note: {attrs['n_bad']} of {attrs['n_records']} capture record(s) were unusable.", file=out)
    for warning in attrs.get("warnings", ()):
        print(f"  warning: {warning}", file=out)
    for path in written:
        print(f"  report: {path}", file=out)
    if published:
        print(f"  {published}", file=out)


if __name__ == "__main__":
    sys.exit(main())
