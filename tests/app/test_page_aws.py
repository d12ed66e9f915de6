"""AppTest of the "Load from AWS" page against the moto server, plus its lib helpers.

AppTest runs the script in this process, so ``aws_env`` (fake keys, temp AWS config files,
``AWS_ENDPOINT_URL`` = moto, IMDS off) is exactly what the page sees. Seeded values are
hand-computable (``tests.support.aws_server.seed_training_jobs``).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.errors import DataSourceError, InputError
from lib.sources.aws import load as live
from lib.sources.aws import session as aws
from lib.sources.aws import training_jobs
from lib.ui import aws_page, runs_page
from tests.support import aws_server
from tests.support.aws_server import ACCOUNT, FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN, seed_training_jobs
from tests.support.paths import ROOT

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env

PAGE = "pages/6_Load_from_AWS.py"


def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    return at.switch_page(PAGE).run()


def connect(at: AppTest) -> AppTest:
    at.button(key="aws_connect_button").click().run()
    assert not at.exception, at.exception
    return at


def connect_and_find(at: AppTest) -> AppTest:
    connect(at).button(key="aws_find_button").click().run()
    assert not at.exception, at.exception
    return at


def load(at: AppTest) -> AppTest:
    at.button(key="aws_load_button").click().run()
    assert not at.exception, at.exception
    return at


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


def dead_endpoint() -> str:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """AWS API calls made by the loaders' clients (botocore ``before-call`` on every client)."""
    calls: Counter[str] = Counter()
    real = aws.make_client

    def counting(session: Any, service: str, endpoint_url: str | None = None, **options: Any) -> Any:
        client = real(session, service, endpoint_url, **options)
        client.meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
        return client

    monkeypatch.setattr(aws, "make_client", counting)
    return calls


# ---------------------------------------------------------------- the main flow


def test_page_asks_to_connect_with_defaults_from_the_environment(aws_env: str) -> None:
    at = page()
    assert not at.exception
    assert at.selectbox(key="aws_profile").value == aws_page.AWS_DEFAULT_CHAIN  # the env keys
    assert at.selectbox(key="aws_region").value == "us-east-1"  # AWS_DEFAULT_REGION
    assert at.text_input(key="aws_endpoint").value == aws_env  # AWS_ENDPOINT_URL
    assert any("Connect" in i for i in texts(at.info))
    assert at.session_state["is_demo"] is True


def test_choosing_a_profile_presets_its_region_and_connects_with_its_keys(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would override the profile's region
    Path(aws.os.environ["AWS_CONFIG_FILE"]).write_text(
        "[default]\nregion = us-east-1\n[profile eu]\nregion = eu-west-1\n"
    )
    Path(aws.os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[eu]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = profileSecret\n"
    )
    at = page()
    assert at.selectbox(key="aws_profile").options == [aws_page.AWS_DEFAULT_CHAIN, "default", "eu"]
    at.selectbox(key="aws_profile").select("eu").run()
    assert at.selectbox(key="aws_region").value == "eu-west-1"
    connect(at)
    assert at.session_state["aws_connection"]["profile"] == "eu"
    assert at.session_state["aws_connection"]["region"] == "eu-west-1"
    assert any(f"account **{ACCOUNT}**" in s for s in texts(at.success))


def test_connect_find_load_then_training_runs_shows_the_seeded_jobs(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=3, epochs=4, instance_metrics=False)
    at = connect(page())
    assert any(f"account **{ACCOUNT}**" in s for s in texts(at.success))  # identity shown
    at.button(key="aws_find_button").click().run()
    listed = at.dataframe[0].value
    assert list(listed.columns) == list(live.JOB_LIST_COLUMNS)
    assert list(listed["job"]) == [j.name for j in reversed(seeded)]  # newest first
    assert listed["training_seconds"].tolist() == [300.0] * 3  # (4 epochs + 1 min) each
    assert at.multiselect(key="aws_jobs_chosen").value == list(listed["job"])  # all chosen
    assert at.multiselect(key="aws_metric_names").value == ["train:accuracy", "validation:accuracy"]

    load(at)
    state = at.session_state
    assert state["is_demo"] is False
    metrics = state["metrics"]
    assert set(metrics["job"]) == {j.name for j in seeded}
    job = seeded[2]
    got = metrics.loc[(metrics["job"] == job.name) & (metrics["metric"] == "validation:accuracy")]
    assert got["value"].tolist() == pytest.approx(job.values["validation:accuracy"])
    assert set(state["jobs"]["job"]) == {j.name for j in seeded}
    assert len(state["sources"]) == 1
    assert state["sources"][0]["runs"] == 3
    assert any("Loaded 24 points from 3 training jobs" in s for s in texts(at.success))
    assert any("from 1 source" in s and "3 runs" in s for s in texts(at.sidebar.success))

    shown = [e.value for kind in ("markdown", "caption", "success", "info", "warning") for e in at.get(kind)]
    kept = [repr(state[k]) for k in ("aws_connection", "aws_form", "aws_last_load", "aws_found", "sources")]
    assert not [s for s in (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN) for t in shown + kept if s in t]

    at.switch_page("pages/1_Training_runs.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="runs_metric").value == "validation:accuracy"
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 1  # the time chart: the other tabs are drawn when opened
    at.session_state["runs_tab"] = runs_page.TABS[2]
    at.run()
    assert len(at.dataframe[0].value) == 3  # the runs table: one row per loaded job


def test_second_load_of_the_same_jobs_makes_no_aws_calls(aws_env: str, api_calls: Counter[str]) -> None:
    seed_training_jobs(aws_env, n_jobs=2, epochs=3, instance_metrics=False)
    at = load(connect_and_find(page()))
    first = at.session_state["metrics"].copy()
    assert api_calls["GetMetricData"] == 1
    assert api_calls["Search"] == 2
    before = Counter(api_calls)
    load(at)  # same jobs, same options: served from st.cache_data
    assert api_calls == before
    pd.testing.assert_frame_equal(at.session_state["metrics"], first)  # replaced, not duplicated
    assert len(at.session_state["sources"]) == 1
    at.checkbox(key="aws_include_logs").check().run()
    load(at)  # other options: a new load
    assert api_calls["FilterLogEvents"] == 1
    assert api_calls["GetMetricData"] == 2


def test_with_logs_the_per_epoch_series_replace_cloudwatch_and_the_page_says_so(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=2, epochs=5, instance_metrics=False)
    at = connect_and_find(page())
    at.checkbox(key="aws_include_logs").check().run()
    load(at)
    metrics = at.session_state["metrics"]
    val = metrics.loc[(metrics["job"] == seeded[0].name) & (metrics["metric"] == "validation:accuracy")]
    assert set(val["source"]) == {"logs"}  # drawn once, from the logs
    assert val["epoch"].tolist() == [0, 1, 2, 3, 4]
    assert val["value"].tolist() == pytest.approx(seeded[0].values["validation:accuracy"])
    assert any("4 series use the per-epoch values from the training logs" in c for c in texts(at.caption))


def test_instance_metrics_are_averaged_across_hosts(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=1, epochs=3, instance_counts=(2,), logs=False)
    at = connect_and_find(page())
    at.checkbox(key="aws_instance_metrics").check().run()
    load(at)
    metrics = at.session_state["metrics"]
    cpu = metrics.loc[(metrics["job"] == seeded[0].name) & (metrics["metric"] == "CPUUtilization")]
    # hosts seeded 100·host + epoch → mean of algo-1 and algo-2 is 150 + epoch
    assert cpu["value"].tolist() == [150.0, 151.0, 152.0]
    assert set(cpu["host"]) == {"all"}
    assert any("mean over each job's hosts" in c for c in texts(at.caption))


def test_filters_and_chosen_metrics_are_passed_on(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=4, epochs=2, statuses=("Completed", "Failed"), instance_metrics=False)
    at = connect(page())
    at.text_input(key="aws_name_contains").input("IC-RUN-00").run()
    at.selectbox(key="aws_status").select("Failed").run()
    at.button(key="aws_find_button").click().run()
    assert list(at.dataframe[0].value["job"]) == ["ic-run-003", "ic-run-001"]
    at.multiselect(key="aws_jobs_chosen").set_value(["ic-run-001"]).run()
    at.multiselect(key="aws_metric_names").set_value(["train:accuracy"]).run()
    load(at)
    metrics = at.session_state["metrics"]
    assert set(metrics["job"]) == {"ic-run-001"}
    assert set(metrics["metric"]) == {"train:accuracy"}


def test_no_matching_jobs_is_an_empty_state_not_an_error(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_metrics=False)
    at = connect(page())
    at.text_input(key="aws_name_contains").input("no-such-job").run()
    at.button(key="aws_find_button").click().run()
    assert not at.exception
    assert any("No training jobs match" in i for i in texts(at.info))
    assert not at.error


def test_form_values_and_connection_survive_a_visit_to_another_page(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=2, epochs=2, instance_metrics=False)
    at = connect_and_find(page())
    at.checkbox(key="aws_include_logs").check().run()
    at.switch_page("pages/1_Training_runs.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.checkbox(key="aws_include_logs").value is True
    assert at.multiselect(key="aws_jobs_chosen").value == ["ic-run-001", "ic-run-000"]
    assert any(ACCOUNT in s for s in texts(at.success))


# ---------------------------------------------------------------- faults: clear message, data kept


def test_no_credentials_shows_an_error_and_keeps_the_demo(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    at = connect(page())
    assert texts(at.error) == ["No AWS credentials were found."]
    assert any("Keys are never typed into the app" in c for c in texts(at.caption))
    assert at.session_state["is_demo"] is True
    assert at.session_state["aws_connection"] is None


def test_unreachable_endpoint_shows_an_error_and_keeps_loaded_data(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_metrics=False)
    at = load(connect_and_find(page()))
    before = at.session_state["metrics"].copy()
    dead = dead_endpoint()
    at.text_input(key="aws_endpoint").input(dead).run()
    assert any("settings above changed" in w for w in texts(at.warning))
    connect(at)
    assert texts(at.error) == [f"Could not reach {dead}/."]
    pd.testing.assert_frame_equal(at.session_state["metrics"], before)
    assert at.session_state["is_demo"] is False


def test_malformed_endpoint_url_is_rejected_before_any_call(aws_env: str) -> None:
    at = page()
    at.text_input(key="aws_endpoint").input("localhost:4566").run()
    connect(at)
    assert texts(at.error) == ["The endpoint URL 'localhost:4566' is not a valid http(s) URL."]


def test_a_failed_load_keeps_previous_data(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_metrics=False)
    at = connect_and_find(page())

    def refuse(*args: object, **kwargs: object) -> None:
        raise DataSourceError("AWS is throttling requests to cloudwatch.", hint="Wait a minute and retry.")

    monkeypatch.setattr(live, "load_jobs_for_charts", refuse)
    load(at)
    assert texts(at.error) == ["AWS is throttling requests to cloudwatch."]
    assert at.session_state["is_demo"] is True
    assert at.session_state["sources"] == []


def test_partial_results_are_kept_and_the_warnings_shown(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=2, epochs=3, logs=False, instance_metrics=False)
    at = connect_and_find(page())
    at.checkbox(key="aws_include_logs").check().run()
    load(at)
    assert set(at.session_state["metrics"]["job"]) == {j.name for j in seeded}  # CloudWatch curves kept
    assert any("log group" in w and "does not exist" in w for w in texts(at.warning))
    assert any("partly" in s for s in texts(at.success))


def test_warnings_name_the_jobs_they_concern() -> None:
    def script() -> None:
        from lib.sources.aws.common import LoadWarning
        from lib.ui import aws_page

        aws_page.aws_show_warnings(
            [LoadWarning("logs", "Access denied to logs:FilterLogEvents.", "Ask for it.", ("job_a", "b"))]
        )

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert "Jobs: job\\_a, b" in at.warning[0].value  # names shown literally (markdown escaped)
    assert at.caption[0].value == "Ask for it\\."  # escaped too (hints may quote AWS messages)


# ---------------------------------------------------------------- boto3 Sessions are never shared


def test_aws_session_is_a_new_session_in_every_thread_and_call(aws_env: str) -> None:
    """boto3 Sessions are not thread-safe: two script threads must never get the same one."""
    barrier = threading.Barrier(2, timeout=30)

    def in_a_thread(_: int) -> tuple[int, boto3.Session]:
        barrier.wait()  # both threads are alive at once, so the pool cannot run both on one thread
        return threading.get_ident(), aws_page.aws_session(None, "us-east-1")

    with ThreadPoolExecutor(2) as pool:
        (thread_a, a), (thread_b, b) = pool.map(in_a_thread, range(2))
    again = aws_page.aws_session(None, "us-east-1")
    assert thread_a != thread_b
    assert all(isinstance(s, boto3.Session) for s in (a, b, again))
    assert a is not b
    assert again is not a
    assert again is not b
    assert a.region_name == b.region_name == again.region_name == "us-east-1"


def test_two_browser_sessions_never_share_a_boto3_session(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Session that reaches the library (whoami, make_client) belongs to one browser session."""
    seed_training_jobs(aws_env, n_jobs=2, epochs=2, instance_metrics=False)
    used: dict[str, list[boto3.Session]] = {"a": [], "b": []}
    current = ["a"]
    real_whoami, real_make_client = aws.whoami, aws.make_client

    def whoami(session: boto3.Session, **kwargs: Any) -> aws.Identity:
        used[current[0]].append(session)
        return real_whoami(session, **kwargs)

    def make_client(session: boto3.Session, service: Any, endpoint_url: str | None = None, **kw: Any) -> Any:
        used[current[0]].append(session)
        return real_make_client(session, service, endpoint_url, **kw)

    monkeypatch.setattr(aws, "whoami", whoami)
    monkeypatch.setattr(aws, "make_client", make_client)
    first = connect_and_find(page())
    current[0] = "b"
    second = connect_and_find(page())
    load(second)
    current[0] = "a"
    first.checkbox(key="aws_include_logs").check().run()
    load(first)  # other options than b's load: not served from st.cache_data
    for at in (first, second):
        assert at.session_state["aws_connection"]["account"] == ACCOUNT
        assert not at.session_state["metrics"].empty
    assert not [s for s in used["a"] if any(s is t for t in used["b"])]
    # and within one browser session each action (connect, find, load) had a Session of its own
    for sessions in used.values():
        assert len({id(s) for s in sessions}) == 3  # the lists keep them alive: ids are not reused


# ---------------------------------------------------------------- lib helpers behind the page


def _frame(rows: list[tuple[str, str, str, float, int | None]]) -> pd.DataFrame:
    t0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")
    return pd.DataFrame(
        {
            "job": [r[0] for r in rows],
            "metric": [r[1] for r in rows],
            "source": [r[2] for r in rows],
            "value": [r[3] for r in rows],
            "epoch": pd.array([r[4] for r in rows], dtype="Int64"),
            "timestamp": [t0 + pd.Timedelta(minutes=i) for i in range(len(rows))],
        }
    )


def test_prefer_log_series_drops_only_the_cloudwatch_twins() -> None:
    metrics = _frame(
        [
            ("a", "acc", "cloudwatch", 0.1, None),
            ("a", "acc", "logs", 0.1, 0),
            ("a", "loss", "cloudwatch", 2.0, None),  # no log twin: kept
            ("b", "acc", "cloudwatch", 0.3, None),  # other job: kept
        ]
    )
    out = live.prefer_log_series(metrics)
    assert list(zip(out["job"], out["metric"], out["source"], strict=True)) == [
        ("a", "acc", "logs"),
        ("a", "loss", "cloudwatch"),
        ("b", "acc", "cloudwatch"),
    ]
    assert len(metrics) == 4  # input untouched


def test_without_live_rows_keeps_uploads_and_other_jobs() -> None:
    metrics = _frame([("a", "acc", "cloudwatch", 0.1, None), ("b", "acc", "logs", 0.2, 1)])
    metrics.loc[len(metrics)] = {**metrics.iloc[0].to_dict(), "source": None}  # from an upload
    out = live.without_live_rows(metrics, ["a"])
    assert out["source"].fillna("upload").tolist() == ["logs", "upload"]


def test_defined_metric_names_in_order_without_duplicates() -> None:
    jobs = pd.DataFrame(
        {
            "job": ["a", "b", "c"],
            "metric_definitions": [
                json.dumps([{"Name": "train:acc", "Regex": "x"}, {"Name": "val:acc", "Regex": "y"}]),
                json.dumps([{"Name": "val:acc", "Regex": "y"}, {"Name": "loss", "Regex": "z"}]),
                "not json",
            ],
        }
    )
    assert training_jobs.defined_metric_names(jobs) == ["train:acc", "val:acc", "loss"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", None),
        ("  ", None),
        (" http://localhost:4566 ", "http://localhost:4566"),
        ("https://x.io", "https://x.io"),
    ],
)
def test_check_endpoint_url_accepts_http_urls(url: str, expected: str | None) -> None:
    assert aws.check_endpoint_url(url) == expected


@pytest.mark.parametrize("url", ["localhost:4566", "ftp://host", "http://", "http://host:port"])
def test_check_endpoint_url_rejects_the_rest(url: str) -> None:
    with pytest.raises(InputError, match="not a valid http"):
        aws.check_endpoint_url(url)


def test_default_region_prefers_aws_region_then_default_region_then_profile(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path(aws.os.environ["AWS_CONFIG_FILE"]).write_text("[profile eu]\nregion = eu-west-1\n")
    assert aws.default_region("eu") == "us-east-1"  # AWS_DEFAULT_REGION (aws_env) beats the profile
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert aws.default_region("eu") == "ap-southeast-2"
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert aws.default_region("eu") == "eu-west-1"
    assert aws.default_region(None) is None
    assert aws.default_region("missing") is None


def test_load_jobs_for_charts_reports_progress_up_to_one(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_counts=(2,))
    steps: list[float] = []
    session = aws.make_session(None, "us-east-1")
    result = live.load_jobs_for_charts(
        session,
        ["ic-run-000"],
        include_logs=True,
        instance_metrics=True,
        progress=lambda f, _t: steps.append(f),
        now=dt.datetime.now(dt.UTC),
    )
    assert steps == sorted(steps)
    assert steps[-1] == 1.0
    assert result.warnings == ()
    assert set(result.metrics["metric"]) == {
        "train:accuracy",
        "validation:accuracy",
        "CPUUtilization",
        "MemoryUtilization",
    }


# ---------------------------------------------------------------- endpoint drift (issue 13)

DAY = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)


def list_endpoints(at: AppTest) -> AppTest:
    connect(at).button(key="aws_ep_list_button").click().run()
    assert not at.exception, at.exception
    return at


def load_capture(at: AppTest, start: str, end: str) -> AppTest:
    at.radio(key="aws_ep_range").set_value(aws_page.RANGE_BETWEEN).run()
    at.text_input(key="aws_ep_start").input(start)
    at.text_input(key="aws_ep_end").input(end)
    at.button(key="aws_ep_load_button").click().run()
    assert not at.exception, at.exception
    return at


def endpoint_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "capture_destination" in d.value.columns)


def test_endpoints_are_listed_with_their_capture(aws_env: str) -> None:
    aws_server.seed_capture(aws_env, hours=2)
    at = list_endpoints(page())
    table = endpoint_table(at)
    row = table.set_index("endpoint").loc["churn-prod"]
    assert row["status"] == "InService"
    assert row["variants"] == "AllTraffic"
    assert bool(row["capture_enabled"]) is True
    assert row["capture_destination"] == f"s3://{aws_server.CAPTURE_BUCKET}/{aws_server.CAPTURE_PREFIX}"
    assert at.selectbox(key="aws_ep_name").value == "churn-prod"
    assert at.selectbox(key="aws_ep_variant").options == [aws_page.ALL_VARIANTS, "AllTraffic"]


def test_load_capture_then_use_it_as_the_drift_current_data(aws_env: str) -> None:
    seeded = aws_server.seed_capture(aws_env, hours=24)
    at = load_capture(list_endpoints(page()), "2024-05-06 02:00", "2024-05-06 05:00")
    frame = at.session_state["aws_ep_capture"]
    assert len(frame) == len(seeded.rows(DAY + dt.timedelta(hours=2), DAY + dt.timedelta(hours=5))) == 30
    assert frame.attrs["n_bad"] == 0
    assert any("30 records" in s and "6 object(s)" in s and "0 bad records" in s for s in texts(at.success))
    assert not at.error

    at.button(key="aws_ep_use_capture").click().run()
    assert not at.exception, at.exception
    state = at.session_state
    label = state["drift_current_label"]
    assert label.startswith("Model Monitor capture: churn-prod")  # the Model Monitor page's hand-over
    assert "2024-05-06 02:00 to 2024-05-06 05:00 UTC" in label
    current = state["drift_current"]
    assert len(current) == 30
    assert "prediction" in current.columns
    assert not {"event_id", "inference_time"} & set(current.columns)  # capture.drift_frame
    assert any("In use on the drift pages" in i for i in texts(at.info))

    at.switch_page("pages/2_Input_drift.py").run()
    assert not at.exception, at.exception
    assert any("Model Monitor capture\\: churn\\-prod" in s for s in texts(at.success))


def test_an_empty_time_range_is_a_clear_error_and_keeps_the_loaded_capture(aws_env: str) -> None:
    aws_server.seed_capture(aws_env, hours=3)
    at = load_capture(list_endpoints(page()), "2024-05-06 00:00", "2024-05-06 03:00")
    assert len(at.session_state["aws_ep_capture"]) == 30
    load_capture(at, "2024-06-01 00:00", "2024-06-01 02:00")
    assert len(at.error) == 1
    assert "No data capture objects for churn-prod" in at.error[0].value
    assert len(at.session_state["aws_ep_capture"]) == 30  # kept
    assert any("30 records" in s for s in texts(at.success))
    load_capture(at, "2024-06-01 02:00", "2024-06-01 00:00")
    assert texts(at.error) == ["End (2024-06-01 00:00) must be after start (2024-06-01 02:00)."]
    assert len(at.session_state["aws_ep_capture"]) == 30


def test_a_second_capture_load_makes_no_aws_calls(aws_env: str, api_calls: Counter[str]) -> None:
    aws_server.seed_capture(aws_env, hours=2)
    at = load_capture(list_endpoints(page()), "2024-05-06 00:00", "2024-05-06 02:00")
    assert api_calls["GetObject"] == 4
    api_calls.clear()
    at.button(key="aws_ep_load_button").click().run()
    assert not at.exception, at.exception
    assert api_calls == Counter()
    assert len(at.session_state["aws_ep_capture"]) == 20


def test_a_partial_capture_is_shown_but_never_cached(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_server.seed_capture(aws_env, hours=1)
    real = aws_page.capture_s3.load_endpoint_capture
    calls: list[int] = []

    def partial(*args: Any, **kwargs: Any) -> pd.DataFrame:
        calls.append(1)
        frame = real(*args, **kwargs)
        frame.attrs["partial"] = True
        frame.attrs["warnings"] = ("s3://capture-bucket/x: throttled",)
        return frame

    monkeypatch.setattr(aws_page.capture_s3, "load_endpoint_capture", partial)
    at = load_capture(list_endpoints(page()), "2024-05-06 00:00", "2024-05-06 01:00")
    assert len(at.session_state["aws_ep_capture"]) == 10
    assert any("Partial result" in w for w in texts(at.warning))
    assert any("throttled" in w for w in texts(at.warning))
    at.button(key="aws_ep_load_button").click().run()
    assert len(calls) == 2  # loaded again: a partial result is not cached


def test_baseline_from_an_s3_uri_names_the_capture_and_becomes_the_reference(aws_env: str) -> None:
    aws_server.seed_capture(aws_env, hours=2)
    uri = "s3://baselines/churn/statistics.json"
    aws_server.put_json(
        aws_env, uri, aws_server.statistics_doc({"label": (0, 1), "age": (40, 5), "income": (50, 10)}, n=500)
    )
    at = list_endpoints(page())
    at.radio(key="aws_ep_baseline_from").set_value(aws_page.BASELINE_FROM_URI).run()
    at.text_input(key="aws_ep_baseline_uri").input(uri).run()
    at.button(key="aws_ep_baseline_button").click().run()
    assert not at.exception, at.exception
    assert at.session_state["aws_ep_baseline"].feature_names == ["label", "age", "income"]
    assert any("3 features" in s and "500 rows" in s for s in texts(at.success))

    load_capture(at, "2024-05-06 00:00", "2024-05-06 02:00")
    assert {"age", "income"} <= set(at.session_state["aws_ep_capture"].columns)  # named after the baseline
    at.button(key="aws_ep_use_baseline").click().run()
    at.button(key="aws_ep_use_capture").click().run()
    assert not at.exception, at.exception
    state = at.session_state
    assert state["drift_reference_label"].startswith("Model Monitor baseline")
    assert len(state["drift_reference"]) == 500
    assert {"label", "age", "income"} <= set(state["drift_current"].columns)


def test_a_missing_baseline_uri_is_an_error_and_keeps_the_capture(aws_env: str) -> None:
    aws_server.seed_capture(aws_env, hours=1)
    at = load_capture(list_endpoints(page()), "2024-05-06 00:00", "2024-05-06 01:00")
    at.radio(key="aws_ep_baseline_from").set_value(aws_page.BASELINE_FROM_URI).run()
    at.text_input(key="aws_ep_baseline_uri").input("s3://capture-bucket/nothing/statistics.json").run()
    at.button(key="aws_ep_baseline_button").click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    assert "aws_ep_baseline" not in at.session_state
    assert len(at.session_state["aws_ep_capture"]) == 10


def test_schedules_their_baseline_and_monitoring_history(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto has no Model Monitor API: the library calls are replaced by their results
    aws_server.seed_capture(aws_env, hours=1)
    uri = "s3://baselines/churn/statistics.json"
    aws_server.put_json(aws_env, uri, aws_server.statistics_doc({"age": (40, 5)}, n=200))
    schedules = pd.DataFrame(
        [{"schedule": "churn-hourly", "endpoint": "churn-prod", "status": "Scheduled",
          "monitoring_type": "DataQuality", "job_definition": None, "created": None, "last_modified": None}]
    )  # fmt: skip
    history = pd.DataFrame(
        {
            "execution_time": pd.to_datetime(
                ["2024-05-06 02:00", "2024-05-06 02:00", "2024-05-06 01:00"], utc=True
            ),
            "status": ["CompletedWithViolations", "CompletedWithViolations", "Completed"],
            "feature_name": ["age", "income", None],
            "constraint_check_type": ["baseline_drift_check", "data_type_check", None],
            "description": ["drifted", "type", ""],
            "processing_job": ["j2", "j2", "j1"],
            "report_uri": [None, None, None],
        }
    )
    history.attrs["warnings"] = []
    asked: list[Any] = []
    monkeypatch.setattr(
        aws_page.monitoring, "list_monitoring_schedules", lambda s, e, **k: asked.append(e) or schedules
    )
    real_baseline = aws_page.monitoring.load_baseline
    monkeypatch.setattr(
        aws_page.monitoring,
        "load_baseline",
        lambda s, target, **k: asked.append(target) or real_baseline(s, uri, **k),
    )
    monkeypatch.setattr(
        aws_page.monitoring, "monitoring_history", lambda s, name, **k: asked.append(name) or history
    )
    at = list_endpoints(page())
    at.button(key="aws_ep_schedules_button").click().run()
    assert at.selectbox(key="aws_ep_schedule").value == "churn-hourly"
    at.button(key="aws_ep_baseline_button").click().run()
    at.button(key="aws_ep_history_button").click().run()
    assert not at.exception, at.exception
    assert asked == ["churn-prod", "churn-hourly", "churn-hourly"]
    assert at.session_state["aws_ep_baseline"].feature_names == ["age"]
    shown = next(d.value for d in at.dataframe if "constraint_check_type" in d.value.columns)
    assert len(shown) == 3
    assert any("2 execution(s)" in c for c in texts(at.caption))


def test_capture_range_last_hours_ends_at_the_next_minute() -> None:
    now = pd.Timestamp("2024-05-06 10:20:30", tz="UTC")
    t0, t1 = aws_page.aws_capture_range(aws_page.RANGE_LAST, 24, "", "", now=now)
    assert (t0, t1) == (
        pd.Timestamp("2024-05-05 10:21", tz="UTC"),
        pd.Timestamp("2024-05-06 10:21", tz="UTC"),
    )
    t0, t1 = aws_page.aws_capture_range(aws_page.RANGE_BETWEEN, None, "2024-05-06", "2024-05-06T03:00+02:00")
    assert (t0, t1) == (
        pd.Timestamp("2024-05-06 00:00", tz="UTC"),
        pd.Timestamp("2024-05-06 01:00", tz="UTC"),
    )
    with pytest.raises(InputError, match="Start is empty"):
        aws_page.aws_capture_range(aws_page.RANGE_BETWEEN, None, " ", "2024-05-06")
    with pytest.raises(InputError, match="cannot read"):
        aws_page.aws_capture_range(aws_page.RANGE_BETWEEN, None, "yesterday-ish", "2024-05-06")


def test_the_default_range_is_the_last_24_hours_and_survives_a_page_visit(aws_env: str) -> None:
    hour = pd.Timestamp.now(tz="UTC").floor("h").to_pydatetime()
    aws_server.seed_capture(aws_env, start=hour - dt.timedelta(hours=30), hours=30)  # 6 hours too old
    at = list_endpoints(page())
    assert at.radio(key="aws_ep_range").value == aws_page.RANGE_LAST
    assert at.number_input(key="aws_ep_hours").value == 24
    at.number_input(key="aws_ep_max_records").set_value(50).run()
    at.button(key="aws_ep_load_button").click().run()
    assert not at.exception, at.exception
    frame = at.session_state["aws_ep_capture"]
    assert len(frame) == 50  # a sample of the ~230 records of the last 24 hours
    assert frame.attrs["n_records"] - frame.attrs["n_outside"] >= 220  # not the 6 hours before
    assert frame.attrs["n_records"] <= 240
    assert any("50 records" in s for s in texts(at.success))
    assert any("uniform random sample of 50" in c for c in texts(at.caption))

    at.switch_page("pages/2_Input_drift.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert at.number_input(key="aws_ep_max_records").value == 50
    assert at.selectbox(key="aws_ep_name").value == "churn-prod"
    assert any("50 records" in s for s in texts(at.success))


def test_a_capture_loaded_before_the_baseline_asks_to_be_loaded_again(aws_env: str) -> None:
    aws_server.seed_capture(aws_env, hours=1)
    uri = "s3://baselines/churn/statistics.json"
    aws_server.put_json(
        aws_env, uri, aws_server.statistics_doc({"label": (0, 1), "age": (40, 5), "income": (50, 10)})
    )
    at = load_capture(list_endpoints(page()), "2024-05-06 00:00", "2024-05-06 01:00")
    assert not {"age", "income"} & set(at.session_state["aws_ep_capture"].columns)  # positional names
    at.radio(key="aws_ep_baseline_from").set_value(aws_page.BASELINE_FROM_URI).run()
    at.text_input(key="aws_ep_baseline_uri").input(uri).run()
    at.button(key="aws_ep_baseline_button").click().run()
    assert any("Load capture** again" in w for w in texts(at.warning))
    at.button(key="aws_ep_load_button").click().run()
    assert not at.exception, at.exception
    assert {"age", "income"} <= set(at.session_state["aws_ep_capture"].columns)
    assert not any("Load capture** again" in w for w in texts(at.warning))
