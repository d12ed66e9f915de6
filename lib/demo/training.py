"""Synthetic demo data: the churn classifier's twelve training runs over ten days of March 2024.

Everything here is SYNTHETIC (generated from a fixed seed, at fixed dates), so the app has something
realistic to show before anyone connects AWS or uploads a file. The output is identical on every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from lib.demo.story import DEMO_ENDPOINT
from lib.schema import validate_jobs, validate_metrics

DEMO_SEED: Final = 20261102  # the seed's value is only a seed: the draws are kept as they were first made
#: A Monday, like the first demo's 2 November 2026 (moved back by a whole number of weeks).
DEMO_START: Final = pd.Timestamp("2024-03-04 09:14:07.123", tz="UTC")
#: Job names are ``<DEMO_JOB_BASE>-YYYY-MM-DD-HH-MM-SS-mmm``, as SageMaker names them.
DEMO_JOB_BASE: Final = "churn-classifier"
DEMO_METRICS: Final = ("train:accuracy", "validation:accuracy", "train:cross_entropy")

DEMO_DESCRIPTION: Final = (
    "Synthetic demo data (generated, not from any AWS account): twelve SageMaker-style training runs of "
    "a churn classifier (a small neural network on the customer table with a yes/no churned label, "
    "20-40 epochs each) between 4 and 13 March 2024, with per-epoch train and validation accuracy and "
    "training cross-entropy. Each run climbs from about 0.7 to about 0.95, which draws a sawtooth over "
    "wall-clock time. Planted for you to find: one run whose validation accuracy falls away at the end "
    "(learning rate 0.1, final validation accuracy about 0.82), one run whose epochs take about three "
    "times as long (on ml.g5.xlarge), one managed-spot run billed for less time than it trained, one "
    "two-instance run, and runs that come every few hours at first but about two days apart near the "
    f"end. The last run's model is the one that {DEMO_ENDPOINT} serves in the drift, latency and Model "
    "Monitor demos (April and May 2024)."
)

# Hours between one run's end and the next one's creation: a few hours early on, then about two days
# for the last three runs, the spacing change flag_runs is meant to spot. (Early gaps of up to 19 hours
# made that change too weak to tell from chance: its permutation p was 0.05; now 0.013.)
_GAPS_H: Final = (2.2, 4.5, 3.1, 5.8, 1.6, 4.3, 3.9, 6.2, 40.0, 46.5, 41.2)
_DIP_RUN: Final = 6  # validation accuracy falls away at the end (overfitting with a high learning rate)
_SLOW_RUN: Final = 3  # epochs take about three times as long (different instance type)
_SPOT_RUN: Final = 8  # managed spot: billable seconds below training seconds
_MULTI_RUN: Final = 10  # two instances


@dataclass(frozen=True)
class _Run:
    """One synthetic run: its metadata and per-epoch series."""

    job: str
    created: pd.Timestamp
    start: pd.Timestamp
    end: pd.Timestamp
    epochs: int
    epoch_end_s: np.ndarray  # seconds after `start` at which each epoch's metrics are logged
    train_acc: np.ndarray
    val_acc: np.ndarray
    loss: np.ndarray
    learning_rate: str
    mini_batch_size: str
    instance_type: str
    instance_count: int
    spot: bool
    setup_s: float  # container start + data download before epoch 0 (the Downloading phase)
    upload_s: float  # model upload after the last epoch (the Uploading phase)


def _job_name(created: pd.Timestamp) -> str:
    """SageMaker-style name: ``<base>-YYYY-MM-DD-HH-MM-SS-mmm``."""
    return f"{DEMO_JOB_BASE}-{created.strftime('%Y-%m-%d-%H-%M-%S')}-{created.microsecond // 1000:03d}"


def _build_runs() -> list[_Run]:
    rng = np.random.default_rng(DEMO_SEED)
    runs: list[_Run] = []
    created = DEMO_START
    for i in range(len(_GAPS_H) + 1):
        epochs = int(rng.integers(20, 41))
        # Epochs over the full customer-history table: 7-12 minutes each (so a run lasts hours and its
        # climb is visible on a two-week chart); the slow run's take three times as long.
        epoch_s = float(rng.uniform(420.0, 720.0)) * (3.0 if i == _SLOW_RUN else 1.0)
        durations = epoch_s * rng.uniform(0.9, 1.1, size=epochs)
        setup_s = float(rng.uniform(60.0, 150.0))  # instance start + data download before epoch 0
        epoch_end_s = setup_s + np.cumsum(durations)
        upload_s = float(rng.uniform(20.0, 60.0))

        e = np.arange(epochs, dtype="float64")
        first, last = rng.uniform(0.30, 0.50), rng.uniform(0.89, 0.96)
        rate = 4.0 / epochs  # reaches ~98% of the climb by the last epoch
        train = last - (last - first) * np.exp(-rate * e) + rng.normal(0.0, 0.008, size=epochs)
        val = train - rng.uniform(0.015, 0.035) + rng.normal(0.0, 0.012, size=epochs)
        if i == _DIP_RUN:
            # Peaks around 60% of the run, then falls to ~0.65: clearly worse than the others.
            fall = 0.22 / (1.0 + np.exp(-(e - 0.72 * epochs) / 1.5))
            val = val - fall
        train, val = np.clip(train, 0.0, 1.0), np.clip(val, 0.0, 1.0)
        loss = np.clip(-1.25 * np.log(np.clip(train, 0.05, None)) + rng.normal(0.0, 0.01, epochs), 0.01, None)
        # A binary label: chance is 0.5, so the curves drawn above (0.3-0.5 up to 0.89-0.96) are
        # mapped onto 0.65-0.75 up to 0.945-0.98, and the cross-entropy starts near ln 2 = 0.69.
        train, val, loss = 0.5 + 0.5 * train, 0.5 + 0.5 * val, 0.55 * loss

        # SageMaker reports times to the millisecond.
        start = (created + pd.Timedelta(seconds=float(rng.uniform(120.0, 260.0)))).round("ms")
        end = (start + pd.Timedelta(seconds=float(epoch_end_s[-1] + upload_s))).round("ms")
        runs.append(
            _Run(
                job=_job_name(created),
                created=created,
                start=start,
                end=end,
                epochs=epochs,
                epoch_end_s=epoch_end_s,
                train_acc=train,
                val_acc=val,
                loss=loss,
                learning_rate="0.1" if i == _DIP_RUN else str(rng.choice(["0.001", "0.005", "0.01"])),
                mini_batch_size=str(rng.choice(["32", "64", "128"])),
                instance_type="ml.g5.xlarge" if i == _SLOW_RUN else "ml.p3.2xlarge",
                instance_count=2 if i == _MULTI_RUN else 1,
                spot=i == _SPOT_RUN,
                setup_s=setup_s,
                upload_s=upload_s,
            )
        )
        if i < len(_GAPS_H):
            jitter_ms = int(rng.integers(0, 1000))
            created = (end + pd.Timedelta(hours=_GAPS_H[i])).floor("s") + pd.Timedelta(milliseconds=jitter_ms)
    return runs


def demo_metrics() -> pd.DataFrame:
    """Per-epoch metrics of the synthetic runs as a canonical metrics frame.

    Returns
    -------
    pandas.DataFrame
        ``validate_metrics`` output with ``train:accuracy``, ``validation:accuracy`` and
        ``train:cross_entropy`` for every run; one timestamp per epoch (epochs numbered from 0,
        as SageMaker's built-in algorithms log ``Epoch[0]``). SYNTHETIC, see ``DEMO_DESCRIPTION``.
    """
    jobs, metrics, stamps, values, epochs = [], [], [], [], []
    for run in _build_runs():
        # Integer nanoseconds keep the concatenation cheap; rounded to the millisecond like CloudWatch.
        ts = run.start.as_unit("ns").value + np.round(run.epoch_end_s * 1000.0).astype("int64") * 1_000_000
        for name, series in zip(DEMO_METRICS, (run.train_acc, run.val_acc, run.loss), strict=True):
            jobs.append(np.full(run.epochs, run.job, dtype=object))
            metrics.append(np.full(run.epochs, name, dtype=object))
            stamps.append(ts)
            values.append(np.round(series, 6))
            epochs.append(np.arange(run.epochs))
    frame = pd.DataFrame(
        {
            "job": np.concatenate(jobs),
            "metric": np.concatenate(metrics),
            "timestamp": pd.to_datetime(np.concatenate(stamps), unit="ns", utc=True),
            "value": np.concatenate(values),
            "epoch": np.concatenate(epochs),
        }
    )
    return validate_metrics(frame, source="demo")


def demo_jobs() -> pd.DataFrame:
    """Metadata of the synthetic runs as a jobs frame (``validate_jobs`` output).

    All runs are ``Completed``; times are UTC; ``phase.<Status>_s`` hold the secondary-status durations
    (Starting, Downloading, Training, Uploading); hyperparameters are strings as SageMaker returns them
    (``hp.epochs``, ``hp.learning_rate``, ``hp.mini_batch_size``, ``hp.num_classes``); ``final.<metric>``
    holds each metric's last value. SYNTHETIC, see ``DEMO_DESCRIPTION``.
    """
    rows = []
    for run in _build_runs():
        training_s = float(round((run.end - run.start).total_seconds()))
        # Spot capacity was reclaimed for a while: billed for ~62% of the training time.
        billable_s = float(round(training_s * 0.62)) if run.spot else training_s
        rows.append(
            {
                "job": run.job,
                "status": "Completed",
                "created": run.created,
                "start": run.start,
                "end": run.end,
                "training_seconds": training_s,
                "billable_seconds": billable_s,
                "instance_type": run.instance_type,
                "instance_count": run.instance_count,
                "spot": run.spot,
                # Secondary-status phases (as lib.sources.sagemaker_json.jobs_frame derives them): Starting
                # runs from creation to the training start; Downloading + Training + Uploading make the
                # training time.
                "phase.Starting_s": round((run.start - run.created).total_seconds(), 3),
                "phase.Downloading_s": round(run.setup_s, 3),
                "phase.Training_s": round(float(run.epoch_end_s[-1]) - run.setup_s, 3),
                "phase.Uploading_s": round(run.upload_s, 3),
                "hp.epochs": str(run.epochs),
                "hp.learning_rate": run.learning_rate,
                "hp.mini_batch_size": run.mini_batch_size,
                "hp.num_classes": "2",
                "final.train:accuracy": round(float(run.train_acc[-1]), 6),
                "final.validation:accuracy": round(float(run.val_acc[-1]), 6),
                "final.train:cross_entropy": round(float(run.loss[-1]), 6),
            }
        )
    frame = pd.DataFrame(rows)
    for col in ("hp.epochs", "hp.learning_rate", "hp.mini_batch_size", "hp.num_classes"):
        frame[col] = frame[col].astype("str")
    return validate_jobs(frame, source="demo")
