"""A local moto server that behaves like SageMaker/CloudWatch for our tests, plus realistic seed data.

``ThreadedMotoServer`` runs in this process on 127.0.0.1 (free port), so moto's backends can be
patched where moto differs from AWS (formats README §8):

* training jobs are created through the API, then their backend objects get real training times,
  ``TrainingTimeInSeconds``/``BillableTimeInSeconds``, secondary-status transitions, the job's own
  ``MetricDefinitions`` and ``FinalMetricDataList`` (moto hard-codes or drops all of these);
* ``Search(Resource="TrainingJob")`` is replaced by an implementation of the documented semantics
  (operators incl. ``In``/``GreaterThan…``, ``Operator`` And/Or, ``SubExpressions``, ``SortBy``/
  ``SortOrder``, ``MaxResults``/``NextToken``) — moto treats every operator as Equals and ignores
  paging and sorting.

Everything else (CloudWatch metrics, Logs, STS) is moto as is. Use :func:`seed_training_jobs` after
:func:`reset`; :func:`aws_env` gives a function-scoped, credential-isolated environment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
NAMESPACE = "/aws/sagemaker/TrainingJobs"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
FLOAT = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
#: Image-classification style definitions, as DescribeTrainingJob returns them for built-in IC jobs.
IC_DEFINITIONS = (
    {"Name": "train:accuracy", "Regex": r"Epoch\[[0-9]+\] Train-accuracy=" + FLOAT},
    {"Name": "validation:accuracy", "Regex": r"Epoch\[[0-9]+\] Validation-accuracy=" + FLOAT},
)
FAKE_KEY_ID = "AKIAFAKEFAKEFAKE0001"
FAKE_SECRET = "fakeSecretKeyValue0123456789abcdefghijKLMN"
FAKE_TOKEN = "FakeSessionToken0123456789abcdefghijklmnopqrstuvwxyzFAKEFAKE"


@dataclass
class SeededJob:
    """What was seeded for one job: the values tests check the loader against."""

    name: str
    status: str
    created: dt.datetime
    start: dt.datetime
    end: dt.datetime
    hyperparameters: dict[str, str]
    instance_count: int
    spot: bool
    epoch_times: list[dt.datetime] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)  # metric → one value per epoch
    phases: dict[str, float] = field(default_factory=dict)  # secondary status → seconds
    log_streams: list[str] = field(default_factory=list)

    @property
    def final(self) -> dict[str, float]:
        return {m: v[-1] for m, v in self.values.items()}


# ---------------------------------------------------------------- server + environment


def app_env(endpoint: str, folder: Path) -> dict[str, str]:
    """Environment for a ``streamlit run`` subprocess that must reach this moto server and nothing else:
    fake credentials, no instance metadata, and empty AWS config files of its own in ``folder``."""
    config, creds = folder / "config", folder / "credentials"
    config.write_text("")
    creds.write_text("")
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_SESSION_TOKEN": FAKE_TOKEN,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(creds),
    }


def client(endpoint: str, service: str) -> Any:
    """A client for the moto server (fake keys, no retries)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def reset(endpoint: str) -> None:
    """Wipe every moto backend (jobs, metrics, logs)."""
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server on 127.0.0.1 (free port) with the faithful Search patch installed."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        with faithful_search():
            yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fresh moto state + an environment that can only reach the moto server; returns its URL.

    Fake credentials come from the environment; ``~/.aws`` is replaced by empty temp files; IMDS
    and container credential providers are disabled.
    """
    reset(moto_endpoint)
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_REGION",
    ):
        monkeypatch.delenv(var, raising=False)
    config, creds = tmp_path / "aws_config", tmp_path / "aws_credentials"
    config.write_text("")
    creds.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


# ---------------------------------------------------------------- seeding


def seed_training_jobs(
    endpoint: str,
    *,
    n_jobs: int = 3,
    metrics: Sequence[str] = ("train:accuracy", "validation:accuracy"),
    epochs: int = 8,
    prefix: str = "ic-run",
    first_created: dt.datetime | None = None,
    spacing: dt.timedelta = dt.timedelta(minutes=20),
    instance_counts: Sequence[int] = (1,),
    statuses: Sequence[str] = ("Completed",),
    logs: bool = True,
    instance_metrics: bool = True,
    definitions: Sequence[dict[str, str]] | None = IC_DEFINITIONS,
) -> list[SeededJob]:
    """Create ``n_jobs`` realistic image-classification jobs with metrics and logs; return them.

    Job ``j`` is created at ``first_created + j·spacing``, starts training 3 min later and runs one
    epoch per minute; metric values are logged once per epoch at mid-minute, so every 60-s
    CloudWatch bucket holds exactly one value (Average = the value). Values:
    ``train = 0.5 + 0.04·epoch + 0.001·j``, ``validation = train − 0.05``, other metrics ``0.01·epoch``.
    Times must stay within the last 14 days (CloudWatch Logs rejects older events, like AWS).
    """
    from moto.sagemaker.models import sagemaker_backends

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if first_created is None:
        first_created = (now - spacing * n_jobs - dt.timedelta(hours=1)).replace(second=0)
    sm, cw, lg = client(endpoint, "sagemaker"), client(endpoint, "cloudwatch"), client(endpoint, "logs")
    backend = sagemaker_backends[ACCOUNT][REGION]
    if logs:
        with suppress(lg.exceptions.ResourceAlreadyExistsException):
            lg.create_log_group(logGroupName=LOG_GROUP)
    seeded: list[SeededJob] = []
    datums: list[dict[str, Any]] = []
    for j in range(n_jobs):
        name = f"{prefix}-{j:03d}"
        created = first_created + spacing * j
        start = created + dt.timedelta(minutes=3)
        epoch_times = [start + dt.timedelta(minutes=e, seconds=30) for e in range(epochs)]
        end = start + dt.timedelta(minutes=epochs + 1)
        count = instance_counts[j % len(instance_counts)]
        status = statuses[j % len(statuses)]
        hp = {"epochs": str(epochs), "learning_rate": f"{0.001 * (j + 1):g}", "mini_batch_size": "32"}
        job = SeededJob(
            name, status, created, start, end, hp, count, spot=j % 2 == 1, epoch_times=epoch_times
        )
        for metric in metrics:
            if metric == "train:accuracy":
                job.values[metric] = [round(0.5 + 0.04 * e + 0.001 * j, 6) for e in range(epochs)]
            elif metric == "validation:accuracy":
                job.values[metric] = [round(0.45 + 0.04 * e + 0.001 * j, 6) for e in range(epochs)]
            else:
                job.values[metric] = [round(0.01 * e, 6) for e in range(epochs)]
        sm.create_training_job(
            TrainingJobName=name,
            HyperParameters=hp,
            AlgorithmSpecification={"TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/ic:1",
                                    "TrainingInputMode": "File"},
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole",
            OutputDataConfig={"S3OutputPath": "s3://bucket/output"},
            ResourceConfig={"InstanceType": "ml.p3.2xlarge", "InstanceCount": count, "VolumeSizeInGB": 50},
            StoppingCondition={"MaxRuntimeInSeconds": 86400},
            EnableManagedSpotTraining=job.spot,
        )  # fmt: skip
        fake = backend.training_jobs[name]
        transitions = [
            ("Starting", created, created + dt.timedelta(minutes=2)),
            ("Downloading", created + dt.timedelta(minutes=2), start),
            ("Training", start, end - dt.timedelta(seconds=40)),
            ("Uploading", end - dt.timedelta(seconds=40), end),
            (status, end, end),
        ]
        job.phases = {s: (b - a).total_seconds() for s, a, b in transitions[:-1]}
        training_s = int((end - start).total_seconds())
        billable_s = training_s // 2 if job.spot else training_s
        fake.creation_time = created
        fake.last_modified_time = end
        fake.training_start_time = start
        fake.training_end_time = end
        fake.training_job_status = status
        fake.secondary_status = status
        # moto never sets these two; its response builder emits every attribute it finds
        setattr(fake, "training_time_in_seconds", training_s)  # noqa: B010
        setattr(fake, "billable_time_in_seconds", billable_s)  # noqa: B010
        fake.secondary_status_transitions = [
            {"Status": s, "StartTime": a, "EndTime": b, "StatusMessage": f"{s} phase"}
            for s, a, b in transitions
        ]
        fake.algorithm_specification["MetricDefinitions"] = [dict(d) for d in (definitions or [])]
        fake.final_metric_data_list = [
            {"MetricName": m, "Value": v[-1], "Timestamp": end} for m, v in job.values.items()
        ]
        dims = [{"Name": "TrainingJobName", "Value": name}]
        for metric, values in job.values.items():
            datums.extend(
                {"MetricName": metric, "Timestamp": t, "Value": v, "Dimensions": dims}
                for t, v in zip(epoch_times, values, strict=True)
            )
        if instance_metrics:
            for host in range(1, count + 1):
                hdims = [{"Name": "Host", "Value": f"{name}/algo-{host}"}]
                for e, t in enumerate(epoch_times):
                    datums.append({"MetricName": "CPUUtilization", "Timestamp": t, "Unit": "Percent",
                                   "Value": 100.0 * host + e, "Dimensions": hdims})  # fmt: skip
                    datums.append({"MetricName": "MemoryUtilization", "Timestamp": t, "Unit": "Percent",
                                   "Value": 40.0 + host, "Dimensions": hdims})  # fmt: skip
        if logs:
            for host in range(1, count + 1):
                stream = f"{name}/algo-{host}-{int(start.timestamp())}"
                lg.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
                lg.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=_ic_log(job))
                job.log_streams.append(stream)
        seeded.append(job)
    for i in range(0, len(datums), 1000):  # PutMetricData: ≤1000 datums a call
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=datums[i : i + 1000])
    return seeded


def _ic_log(job: SeededJob) -> list[dict[str, Any]]:
    """Image-classification log lines (MXNet shapes, tabs as #011) for the job's epochs."""
    events = [{"timestamp": _ms(job.start), "message": "[INFO] Starting training with hyperparameters "
               + json.dumps(job.hyperparameters)}]  # fmt: skip
    train = job.values.get("train:accuracy", [])
    val = job.values.get("validation:accuracy", [])
    for e, t in enumerate(job.epoch_times):
        stamp = t.strftime("%m/%d/%Y %H:%M:%S")
        prefix = f"[{stamp} INFO 140213345234752] Epoch[{e}]"
        lines = [f"{prefix} Batch [20]#011Speed: 202.910 samples/sec#011accuracy=0.279118"]
        if e < len(train):
            lines.append(f"{prefix} Train-accuracy={train[e]:.6f}")
        lines.append(f"{prefix} Time cost=59.000")
        if e < len(val):
            lines.append(f"{prefix} Validation-accuracy={val[e]:.6f}")
        events.extend({"timestamp": _ms(t) + k, "message": line} for k, line in enumerate(lines))
    return events


def _ms(t: dt.datetime) -> int:
    return math.floor(t.timestamp() * 1000)


# ---------------------------------------------------------------- faithful Search


@contextmanager
def faithful_search() -> Iterator[None]:
    """Replace moto's SageMaker Search (TrainingJob) with the documented semantics while active."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    original = SageMakerResponse.search

    def search(self: Any) -> Any:
        if self._get_param("Resource") != "TrainingJob":
            return original(self)
        expression = self._get_param("SearchExpression")
        records = [j.gen_response_object() for j in self.sagemaker_backend.training_jobs.values()]
        for rec in records:  # what DescribeTrainingJob calls it
            if "Arn" in rec:
                rec["TrainingJobArn"] = rec.pop("Arn")
        found = [r for r in records if expression is None or _expression_matches(r, expression)]
        sort_by = self._get_param("SortBy") or "LastModifiedTime"
        descending = (self._get_param("SortOrder") or "Descending") == "Descending"
        found.sort(key=lambda r: (_sort_key(_resolve(r, sort_by)), r["TrainingJobName"]), reverse=descending)
        size = int(self._get_param("MaxResults") or 10)  # AWS default page size is 10
        offset = int(self._get_param("NextToken") or 0)
        page = found[offset : offset + size]
        result: dict[str, Any] = {"Results": [{"TrainingJob": r} for r in page]}
        if offset + size < len(found):
            result["NextToken"] = str(offset + size)
        return ActionResult(result)

    SageMakerResponse.search = search  # type: ignore[method-assign]
    try:
        yield
    finally:
        SageMakerResponse.search = original  # type: ignore[method-assign]


def _expression_matches(rec: dict[str, Any], expr: dict[str, Any]) -> bool:
    checks = [_filter_matches(rec, f) for f in expr.get("Filters", [])]
    checks += [_expression_matches(rec, sub) for sub in expr.get("SubExpressions", [])]
    if expr.get("NestedFilters"):
        raise NotImplementedError("NestedFilters are not emulated")
    return any(checks) if expr.get("Operator") == "Or" else all(checks)


def _resolve(rec: dict[str, Any], name: str) -> Any:
    if name.startswith("Metrics."):
        metric = name.split(".", 1)[1]
        return next(
            (m["Value"] for m in rec.get("FinalMetricDataList") or [] if m["MetricName"] == metric), None
        )
    if name.startswith("HyperParameters."):
        return (rec.get("HyperParameters") or {}).get(name.split(".", 1)[1])
    value: Any = rec
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _sort_key(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _as_utc(value).timestamp()
    return value if value is not None else ""


def _filter_matches(rec: dict[str, Any], flt: dict[str, str]) -> bool:
    actual = _resolve(rec, flt["Name"])
    op = flt.get("Operator", "Equals")
    expected = flt.get("Value", "")
    if op == "Exists":
        return actual is not None
    if op == "NotExists":
        return actual is None
    if actual is None:
        return False
    if op == "In":
        return str(actual) in expected.split(",")
    if op == "Contains":
        return expected.lower() in str(actual).lower()
    if isinstance(actual, dt.datetime):
        other: Any = dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC)
        actual = _as_utc(actual)
    elif isinstance(actual, int | float) or op not in ("Equals", "NotEquals"):
        actual, other = float(actual), float(expected)
    else:
        actual, other = str(actual), expected
    return {
        "Equals": actual == other,
        "NotEquals": actual != other,
        "GreaterThan": actual > other,
        "GreaterThanOrEqualTo": actual >= other,
        "LessThan": actual < other,
        "LessThanOrEqualTo": actual <= other,
    }[op]


# ---------------------------------------------------------------- data capture in S3 + an endpoint

CAPTURE_BUCKET = "capture-bucket"
CAPTURE_PREFIX = "datacapture"
CAPTURE_FEATURES = ("label", "age", "income")  # Model Monitor order: the label first, then the inputs


@dataclass
class SeededCapture:
    """What :func:`seed_capture` wrote: the destination and every record (time, inputs, prediction)."""

    endpoint: str
    destination: str
    variants: tuple[str, ...]
    start: dt.datetime
    hours: int
    records: list[dict[str, Any]] = field(default_factory=list)  # variant, key, time, age, income, prediction
    keys: list[str] = field(default_factory=list)

    def rows(self, start: dt.datetime, end: dt.datetime, variant: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.records if start <= r["time"] < end and variant in (None, r["variant"])]


def capture_line(event_id: str, when: dt.datetime, inputs: Sequence[float], prediction: float) -> str:
    """One SageMaker data capture JSON line (CSV input and output, as real endpoints write them)."""
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": ",".join(f"{v:g}" for v in inputs), "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                   "data": f"{prediction:g}", "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": event_id,
                              "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
            "eventVersion": "0",
        }
    )  # fmt: skip


def seed_capture(
    endpoint: str,
    *,
    name: str = "churn-prod",
    variants: Sequence[str] = ("AllTraffic",),
    start: dt.datetime | None = None,
    hours: int = 24,
    files_per_hour: int = 2,
    records_per_file: int = 5,
    shift_from_hour: int | None = None,
    create_endpoint: bool = True,
    seed: int = 11,
) -> SeededCapture:
    """Write hourly capture objects under ``s3://capture-bucket/datacapture/<name>/<variant>/yyyy/mm/dd/hh/``
    and (``create_endpoint``) a SageMaker endpoint whose config has that ``DataCaptureConfig``.

    Record ``i`` of a file lies inside the file's hour (minute ``10 * file + i``); inputs are
    ``age ~ N(40, 5)`` and ``income ~ N(50, 10)`` (shifted by +15 and +30 from hour
    ``shift_from_hour`` on), prediction ``age / 100``.
    """
    start = start or dt.datetime(2024, 5, 6, 0, 0, tzinfo=dt.UTC)
    destination = f"s3://{CAPTURE_BUCKET}/{CAPTURE_PREFIX}"
    s3 = client(endpoint, "s3")
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=CAPTURE_BUCKET)
    rng = np.random.default_rng(seed)
    seeded = SeededCapture(name, destination, tuple(variants), start, hours)
    for variant in variants:
        for h in range(hours):
            hour = start + dt.timedelta(hours=h)
            shift = shift_from_hour is not None and h >= shift_from_hour
            for f in range(files_per_hour):
                lines = []
                for i in range(records_per_file):
                    when = hour + dt.timedelta(minutes=10 * f + i, seconds=7)
                    age = round(float(rng.normal(55 if shift else 40, 5)), 2)
                    income = round(float(rng.normal(80 if shift else 50, 10)), 2)
                    event = f"{variant}-{h:03d}-{f}-{i}"
                    lines.append(capture_line(event, when, (age, income), age / 100))
                    seeded.records.append(
                        {"variant": variant, "time": when, "event_id": event, "age": age, "income": income,
                         "prediction": age / 100}
                    )  # fmt: skip
                folder = f"{CAPTURE_PREFIX}/{name}/{variant}/{hour:%Y/%m/%d/%H}"
                key = f"{folder}/{10 * f:02d}-07-000-{variant}-{f}.jsonl"
                s3.put_object(Bucket=CAPTURE_BUCKET, Key=key, Body=("\n".join(lines) + "\n").encode())
                seeded.keys.append(key)
    if create_endpoint:
        sm = client(endpoint, "sagemaker")
        sm.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole",
            PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"},
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"{name}-config",
            ProductionVariants=[
                {"VariantName": v, "ModelName": f"{name}-model", "InitialInstanceCount": 1,
                 "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}
                for v in variants
            ],
            DataCaptureConfig={
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": destination,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            },
        )  # fmt: skip
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    return seeded


def put_json(endpoint: str, uri: str, doc: Any) -> None:
    """Write ``doc`` as JSON to ``s3://bucket/key`` on the moto server (creating the bucket)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = client(endpoint, "s3")
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(doc).encode())


def statistics_doc(
    features: dict[str, tuple[float, float]], *, n: int = 1000, seed: int = 3
) -> dict[str, Any]:
    """A Model Monitor ``statistics.json`` for normal features ``name → (mean, std)``.

    10 KLL buckets and the sketch items of a seeded sample of ``n`` (so the drawn reference resamples
    it); a feature named ``label`` is Integral 0/1 (Model Monitor puts the label first).
    """
    rng = np.random.default_rng(seed)
    out = []
    for name, (mean, std) in features.items():
        values = rng.integers(0, 2, n).astype(float) if name == "label" else rng.normal(mean, std, n)
        counts, edges = np.histogram(values, bins=10)
        buckets = [{"lower_bound": float(lo), "upper_bound": float(hi), "count": float(c)}
                   for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)]  # fmt: skip
        out.append(
            {
                "name": name,
                "inferred_type": "Integral" if name == "label" else "Fractional",
                "numerical_statistics": {
                    "common": {"num_present": n, "num_missing": 0},
                    "mean": float(values.mean()), "sum": float(values.sum()), "std_dev": float(values.std()),
                    "min": float(values.min()), "max": float(values.max()),
                    "distribution": {"kll": {"buckets": buckets,
                                             "sketch": {"parameters": {"c": 0.64, "k": 2048},
                                                        "data": [[round(float(v), 2) for v in values]]}}},
                },
            }
        )  # fmt: skip
    return {"version": 0.0, "dataset": {"item_count": n}, "features": out}
