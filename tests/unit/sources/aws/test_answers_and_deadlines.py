"""AWS answers you can trust: bad 200 bodies are errors, and every user action has one deadline.

Real HTTP servers on 127.0.0.1 (tests/support/fault_servers.py) stand in for AWS, so botocore's own
parsers, timeouts and retries run as they do against AWS. Nothing here asserts on wall time except
one generous bound (< 3x the deadline); the attempts that reached the server are counted instead.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator

import pytest

from lib.errors import DataSourceError, InputError
from lib.sources.aws import capture_s3, endpoints, load, logs, metrics, s3files, training_jobs
from lib.sources.aws import session as aws
from lib.sources.aws.common import LoadWarning
from tests.support.fault_servers import answer, answering_server, hanging_server, only_fake_credentials

START = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
RECORD = {
    "TrainingJobName": "job-a",
    "CreationTime": START,
    "TrainingStartTime": START,
    "TrainingEndTime": START + dt.timedelta(minutes=10),
    "TrainingJobStatus": "Completed",
}

#: Bodies a proxy, captive portal or broken server answers with status 200.
JSON_BAD = {
    "empty": (b"", "an empty body"),
    "html": (b"<!DOCTYPE html><html><body>Sign in</body></html>", "an HTML page"),
    "truncated": (b'{"Results": [{"TrainingJob": {"TrainingJobName": "jo', "cut off or not JSON"),
}
XML_BAD = {
    "empty": (b"", "an empty body"),
    "html": (b"<html><body>Sign in</body></html>", "an HTML page"),
    "truncated": (b"<ListBucketResult><Name>b</Name><Contents><Key>a", "cut off or not XML"),
}


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    only_fake_credentials(monkeypatch)


def session(deadline: aws.Deadline | None = None) -> aws.Session:
    made = aws.make_session(None, "us-east-1", deadline=deadline)
    assert isinstance(made, aws.Session)
    return made


# ---------------------------------------------------------------- bad bodies with status 200


@pytest.mark.parametrize("kind", sorted(JSON_BAD))
def test_search_bad_body_is_an_error_not_zero_jobs(kind: str) -> None:
    body, says = JSON_BAD[kind]
    with answering_server(answer(body)) as (url, seen), pytest.raises(DataSourceError) as caught:
        training_jobs.find_training_jobs(session(), endpoint_url=url)
    assert isinstance(caught.value, aws.AnswerError)
    assert "sagemaker Search" in caught.value.message
    assert says in caught.value.message
    assert seen.requests[0] == "Search"


@pytest.mark.parametrize("kind", sorted(JSON_BAD))
def test_list_training_jobs_bad_body_is_an_error(kind: str) -> None:
    """Search denied -> the ListTrainingJobs fallback; its bad body is named as ListTrainingJobs."""
    body, says = JSON_BAD[kind]
    denied = json.dumps({"__type": "AccessDeniedException", "message": "not allowed"}).encode()

    def responder(operation: str, request: bytes) -> tuple[int, dict[str, str], bytes, int | None]:
        if operation == "Search":
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, denied, None
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, body, None

    with answering_server(responder) as (url, seen), pytest.raises(aws.AnswerError) as caught:
        training_jobs.find_training_jobs(session(), endpoint_url=url)
    assert "sagemaker ListTrainingJobs" in caught.value.message
    assert says in caught.value.message
    assert seen.requests[:2] == ["Search", "ListTrainingJobs"]


@pytest.mark.parametrize("kind", sorted(JSON_BAD))
def test_get_metric_data_bad_body_is_a_failed_batch_not_a_missing_series(kind: str) -> None:
    body, says = JSON_BAD[kind]
    query = metrics.SeriesQuery("job-a", "train:loss", START, START + dt.timedelta(minutes=10))
    with answering_server(answer(body)) as (url, _):
        cloudwatch = aws.make_client(session(), "cloudwatch", url)
        frame, warnings, errors, ok = metrics.fetch_metric_data(cloudwatch, [query], now=START)
    assert not ok
    assert frame.empty
    assert "cloudwatch GetMetricData" in errors[0].message
    assert says in errors[0].message
    assert warnings[0].failed


def test_get_metric_data_without_a_requested_series_is_incomplete() -> None:
    """AWS returns a result for every query; an answer that lacks one is not 'no data'."""
    queries = [
        metrics.SeriesQuery("job-a", name, START, START + dt.timedelta(minutes=10)) for name in ("a", "b")
    ]
    one = {"MetricDataResults": [{"Id": "q0", "Timestamps": [], "Values": [], "StatusCode": "Complete"}]}
    with answering_server(answer(json.dumps(one).encode())) as (url, _):
        cloudwatch = aws.make_client(session(), "cloudwatch", url)
        _, warnings, errors, ok = metrics.fetch_metric_data(cloudwatch, queries, now=START)
    assert not ok
    assert "without 1 of the 2 requested series (first: job-a b)" in errors[0].message
    assert warnings[0].failed


@pytest.mark.parametrize("kind", sorted(JSON_BAD))
def test_logs_bad_body_is_an_error(kind: str) -> None:
    body, says = JSON_BAD[kind]
    with answering_server(answer(body)) as (url, _):
        client = aws.make_client(session(), "logs", url)
        frame, warnings, errors, ok = logs.fetch_log_metrics(client, [RECORD])
    assert not ok
    assert frame.empty
    assert "logs DescribeLogStreams" in errors[0].message
    assert says in errors[0].message
    assert warnings[0].failed


@pytest.mark.parametrize("kind", sorted(XML_BAD))
def test_s3_listing_bad_body_is_an_error_not_no_capture(kind: str) -> None:
    body, says = XML_BAD[kind]
    with (
        answering_server(answer(body, content_type="application/xml")) as (url, _),
        pytest.raises(aws.AnswerError) as caught,
    ):
        capture_s3.load_endpoint_capture(
            session(),
            "ep",
            START,
            START + dt.timedelta(hours=1),
            variant="AllTraffic",
            destination="s3://bucket/capture",
            endpoint_url=url,
        )
    message = caught.value.message
    assert "ListObjectsV2" in message
    # botocore turns an unparseable S3 200 into a bare 500 before our check sees it (retried first)
    assert says in message or "without a readable S3 answer" in message


def test_s3_get_cut_off_body_is_an_error() -> None:
    def responder(operation: str, request: bytes) -> tuple[int, dict[str, str], bytes, int | None]:
        return 200, {"Content-Type": "application/octet-stream"}, b'{"half": ', 100

    with answering_server(responder) as (url, _), pytest.raises(DataSourceError) as caught:
        s3files.read_s3_object(session(), "s3://bucket/stats/statistics.json", endpoint_url=url)
    assert "s3://bucket/stats/statistics.json" in caught.value.message
    assert "cut off" in caught.value.message or "connection broke" in caught.value.message


@pytest.mark.parametrize("body", [b"", b"<html><body>hi</body></html>", b"<Other/>"])
def test_sts_bad_body_is_an_error_not_a_key_error(body: bytes) -> None:
    with (
        answering_server(answer(body, content_type="text/xml")) as (url, _),
        pytest.raises(aws.AnswerError) as caught,
    ):
        aws.whoami(session(), endpoint_url=url, quick=True)
    assert "sts GetCallerIdentity" in caught.value.message


def test_a_good_answer_still_passes() -> None:
    """The check refuses bad bodies only: a real (empty) Search answer is 0 jobs."""
    with answering_server(answer(b'{"Results": []}')) as (url, _):
        found = training_jobs.find_training_jobs(session(), endpoint_url=url)
    assert found.empty


# ---------------------------------------------------------------- one deadline per user action


@pytest.fixture
def hanging() -> Iterator[tuple[str, object]]:
    with hanging_server() as server:
        yield server


def test_find_against_a_hanging_endpoint_times_out_within_the_deadline(hanging: tuple) -> None:
    url, seen = hanging
    deadline = aws.Deadline(4, "Find jobs")
    began = time.monotonic()
    with pytest.raises(aws.ActionTimeoutError) as caught:
        training_jobs.find_training_jobs(session(deadline), endpoint_url=url)
    assert caught.value.message.startswith("Find jobs timed out after 4 s")
    # was 11 attempts of 60 s each; 0 when a very busy machine spends the budget making the client
    assert deadline.attempts <= 3
    assert seen.connections <= 3
    assert time.monotonic() - began < 3 * 4  # generous bound; no timing is measured


def test_load_against_a_hanging_endpoint_times_out(hanging: tuple) -> None:
    url, _seen = hanging
    deadline = aws.Deadline(2, "Load")
    with pytest.raises(aws.ActionTimeoutError, match=r"^Load timed out after 2 s"):
        load.load_jobs_for_charts(session(deadline), ["job-a"], endpoint_url=url)
    assert deadline.attempts <= 3


def test_connect_against_a_hanging_endpoint_times_out(hanging: tuple) -> None:
    url, _ = hanging
    deadline = aws.Deadline(2, "Connect")
    with pytest.raises(aws.ActionTimeoutError, match=r"^Connect timed out after 2 s"):
        aws.whoami(session(deadline), endpoint_url=url, quick=True)
    assert deadline.attempts <= 3


def test_list_endpoints_against_a_hanging_endpoint_times_out(hanging: tuple) -> None:
    url, _ = hanging
    deadline = aws.Deadline(2, "List endpoints")
    with pytest.raises(aws.ActionTimeoutError, match=r"^List endpoints timed out after 2 s"):
        endpoints.list_endpoints(session(deadline), endpoint_url=url)


def test_capture_against_a_hanging_s3_times_out(hanging: tuple) -> None:
    url, _ = hanging
    deadline = aws.Deadline(2, "Load capture")
    with pytest.raises(aws.ActionTimeoutError, match=r"^Load capture timed out after 2 s"):
        capture_s3.load_endpoint_capture(
            session(deadline),
            "ep",
            START,
            START + dt.timedelta(hours=3),
            variant="AllTraffic",
            destination="s3://bucket/capture",
            endpoint_url=url,
        )
    assert deadline.attempts <= 3 * 3  # three hour listings, each at most ~2 attempts


def test_deadline_is_checked_between_calls() -> None:
    """Once the time is up no further request is sent: the next call fails before connecting."""
    now = [0.0]
    deadline = aws.Deadline(10, "Find jobs", clock=lambda: now[0])
    with answering_server(answer(b'{"Results": []}')) as (url, seen):
        client = aws.make_client(session(deadline), "sagemaker", url)
        client.search(Resource="TrainingJob")
        now[0] = 11.0
        with pytest.raises(aws.ActionTimeoutError):
            client.search(Resource="TrainingJob")
    assert seen.requests == ["Search"]


def test_cancel_ends_the_action_at_the_next_call() -> None:
    deadline = aws.Deadline(30, "Find jobs")
    deadline.cancel()
    with (
        answering_server(answer(b'{"Results": []}')) as (url, seen),
        pytest.raises(aws.ActionCancelledError, match="Find jobs was cancelled"),
    ):
        training_jobs.find_training_jobs(session(deadline), endpoint_url=url)
    assert seen.requests == []


def test_on_check_runs_only_in_the_thread_that_made_the_deadline() -> None:
    calls: list[str] = []
    deadline = aws.Deadline(30, "Load", on_check=lambda d: calls.append(threading.current_thread().name))
    deadline.check()
    worker = threading.Thread(target=deadline.check, name="worker")
    worker.start()
    worker.join()
    assert calls == [threading.current_thread().name]


def test_client_config_fits_attempts_into_the_time_left() -> None:
    long = aws.Deadline(600, "Load capture").client_config()
    assert (long.connect_timeout, long.read_timeout) == (10.0, 60.0)
    assert long.retries == {"mode": "adaptive", "total_max_attempts": 10}
    short = aws.Deadline(2, "Find jobs").client_config()
    assert short.read_timeout <= 1.0 + 1e-9
    assert short.retries["total_max_attempts"] == 2


def test_deadline_must_be_positive() -> None:
    with pytest.raises(InputError):
        aws.Deadline(0, "Find jobs")


# ---------------------------------------------------------------- partial results say so


def test_live_load_is_partial_when_a_call_failed() -> None:
    empty = load.finish_metrics([])
    assert not load.LiveLoad(empty, empty, (LoadWarning("jobs", "Search denied; used List"),)).partial
    assert load.LiveLoad(empty, empty, (LoadWarning("metrics", "failed", failed=True),)).partial
