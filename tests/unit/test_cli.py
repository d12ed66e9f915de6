"""``driftwatch drift`` end to end: exit codes 0/1/2, report files (local and S3), CloudWatch metrics.

AWS is moto's server on 127.0.0.1 (``aws_env``); one run goes through a real subprocess with
``AWS_ENDPOINT_URL`` pointing at it, as cron would run it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.cli import main
from tests.support import aws_server
from tests.support.aws_server import put_json, seed_capture, statistics_doc
from tests.support.paths import ROOT

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env

STATS = "s3://baselines/churn/statistics.json"
DAY = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def seeded(aws_env: str) -> str:
    """A day of capture (inputs shift from hour 12 on) and a baseline statistics.json in S3."""
    seed_capture(aws_env, hours=24, files_per_hour=2, records_per_file=10, shift_from_hour=12)
    put_json(aws_env, STATS, statistics_doc({"label": (0, 1), "age": (40, 5), "income": (50, 10)}))
    aws_server.client(aws_env, "s3").create_bucket(Bucket="reports")
    return aws_env


def capture_args(start_hour: int, end_hour: int) -> list[str]:
    return [
        "--endpoint", "churn-prod",
        "--start", f"2024-05-06T{start_hour:02d}:00", "--end", f"2024-05-06T{end_hour:02d}:00",
    ]  # fmt: skip


def test_drifted_capture_exits_1_writes_reports_and_publishes_metrics(seeded: str, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    code, out, err = run(
        "drift", "--baseline", STATS, *capture_args(12, 18),
        "--html", str(html), "--json", "s3://reports/churn/latest.json",
        "--publish-metrics", "--schedule", "churn-monitor",
    )  # fmt: skip
    assert (code, err) == (1, "")
    assert out.startswith("DRIFT: 2 of 2 columns drifted")
    assert "age" in out
    assert "income" in out
    assert f"report: {html}" in out
    assert "Published 2 metric(s) to aws/sagemaker/Endpoints/data-metrics" in out
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    s3 = aws_server.client(seeded, "s3")
    doc = json.loads(s3.get_object(Bucket="reports", Key="churn/latest.json")["Body"].read())
    assert doc["n_current"] == 120
    assert {c["column"] for c in doc["columns"] if c["drifted"]} == {"age", "income"}
    cw = aws_server.client(seeded, "cloudwatch")
    metrics = cw.list_metrics(Namespace="aws/sagemaker/Endpoints/data-metrics")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {
        "feature_baseline_drift_age",
        "feature_baseline_drift_income",
    }
    assert {(d["Name"], d["Value"]) for d in metrics[0]["Dimensions"]} == {
        ("Endpoint", "churn-prod"),
        ("MonitoringSchedule", "churn-monitor"),
    }


def test_unshifted_capture_exits_0(seeded: str) -> None:
    code, out, err = run("drift", "--baseline", STATS, *capture_args(0, 12))
    assert (code, err) == (0, "")
    assert out.startswith("no drift: 0 of 2 columns drifted")


def test_local_files_need_no_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # would fail fast if anything called AWS
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 500), "c": rng.choice(["a", "b"], 500)})
    same = pd.DataFrame({"x": rng.normal(0, 1, 500), "c": rng.choice(["a", "b"], 500)})
    moved = pd.DataFrame({"x": rng.normal(2, 1, 500), "c": rng.choice(["a", "b"], 500)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    same.to_parquet(tmp_path / "same.parquet")
    moved.to_json(tmp_path / "moved.jsonl", orient="records", lines=True)
    assert (
        run("drift", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "same.parquet"))[0]
        == 0
    )
    code, _, _ = run(
        "drift", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "moved.jsonl"),
        "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert code == 1
    assert json.loads((tmp_path / "r.json").read_text())["columns"][0]["column"] == "x"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["drift", "--current", "x.csv"], "No reference"),
        (
            ["drift", "--reference", "a.csv", "--baseline", "b.json", "--current", "x.csv"],
            "Give one reference",
        ),
        (["drift", "--reference", "missing.csv", "--current", "x.csv"], "missing.csv: cannot read the file"),
        (["drift", "--reference", "a.csv", "--endpoint", "e"], "needs a time range"),
        (["drift", "--reference", "a.csv", "--current", "x.csv", "--publish-metrics"], "--schedule"),
    ],
)
def test_expected_errors_exit_2_with_one_line(argv: list[str], message: str) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("driftwatch: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_aws_errors_exit_2_naming_what_is_missing(seeded: str) -> None:
    code, _, err = run("drift", "--baseline", STATS, "--endpoint", "churn-prod",
                       "--start", "2024-05-09T00:00", "--end", "2024-05-09T02:00")  # fmt: skip
    assert code == 2
    assert (
        "tried 2 hour prefix(es): s3://capture-bucket/datacapture/churn-prod/AllTraffic/2024/05/09/00/" in err
    )
    code, _, err = run("drift", "--baseline", "s3://baselines/nope/statistics.json", *capture_args(0, 1))
    assert code == 2
    assert "s3://baselines/nope/statistics.json does not exist" in err


def test_bad_arguments_exit_2_from_argparse() -> None:
    assert run("drift", "--hours", "many")[0] == 2
    assert run("nonsense")[0] == 2


def test_endpoints_subcommand_lists_capture(seeded: str) -> None:
    code, out, _ = run("endpoints")
    assert code == 0
    assert "churn-prod" in out
    assert "s3://capture-bucket/datacapture" in out


def test_subprocess_with_aws_endpoint_url(seeded: str, tmp_path: Path) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": seeded, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "lib.cli", "drift", "--baseline", STATS, *capture_args(12, 14),
         "--json", str(tmp_path / "r.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("DRIFT")
    assert json.loads((tmp_path / "r.json").read_text())["n_current"] == 40
    bad = subprocess.run(
        [sys.executable, "-m", "lib.cli", "drift", "--reference", "nope.csv", "--current", "nope.csv"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("driftwatch: error: nope.csv")
    assert "Traceback" not in bad.stderr
