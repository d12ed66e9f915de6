"""parse_log_lines and MetricDefinition: built-in line shapes, user regexes, guards."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.errors import InputError
from lib.sources import MetricDefinition, load_export, parse_log_lines, read_export
from lib.sources.logs import MAX_LINE_CHARS


def test_image_classification_lines_with_tab_or_011() -> None:
    lines = [
        "[05/01/2024 10:06:47 INFO 1] Epoch[0] Batch [20]#011Speed: 202.9 samples/sec#011accuracy=0.27",
        "[05/01/2024 10:06:47 INFO 1] Epoch[0] Train-accuracy=0.25",
        "Epoch[1] Validation-accuracy=0.5",
        "Epoch[2] Train-top_k_accuracy_5=0.875",
    ]
    frame = parse_log_lines(lines, job="j")
    got = {(m, e): v for m, e, v in zip(frame["metric"], frame["epoch"], frame["value"], strict=True)}
    assert got == {
        ("train:accuracy", 0): 0.25,
        ("validation:accuracy", 1): 0.5,
        ("train:top_k_accuracy_5", 2): 0.875,
    }
    assert frame.loc[frame["epoch"] == 0, "timestamp"].item() == pd.Timestamp("2024-05-01 10:06:47", tz="UTC")
    assert frame.loc[frame["epoch"] == 1, "timestamp"].isna().item()


@pytest.mark.parametrize("tab", ["#011", "\t"])
def test_xgboost_line_gives_one_row_per_metric(tab: str) -> None:
    frame = parse_log_lines(
        [f"[7]{tab}train-auc:0.5{tab}validation-auc:0.25{tab}validation-error@0.5:0.125"], job="j"
    )
    assert dict(zip(frame["metric"], frame["value"], strict=True)) == {
        "train:auc": 0.5,
        "validation:auc": 0.25,
        "validation:error@0.5": 0.125,
    }
    assert set(frame["epoch"]) == {7}


@pytest.mark.parametrize(
    ("line", "metric", "epoch"),
    [
        ("#quality_metric: host=algo-1, epoch=3, train mse_objective <loss>=0.5", "train:objective_loss", 3),
        (
            "#quality_metric: host=algo-1, validation mse_objective <loss>=0.5",
            "validation:objective_loss:final",
            None,
        ),
        ("#quality_metric: host=algo-2, test binary_f_beta <score>=0.5", "test:binary_f_beta", None),
        ("#quality_metric: host=algo-1, test macro_f_1.000 <score>=0.5", "test:macro_f_beta", None),
        (
            "#quality_metric: host=algo-1, test multiclass_top_k_accuracy_3 <score>=0.5",
            "test:multiclass_top_k_accuracy",
            None,
        ),
        ("#quality_metric: host=algo-1, epoch=1, validation rmse <loss>=0.5", "validation:rmse", 1),
        ("#throughput_metric: host=algo-1, train throughput=0.5 records/second", "train:throughput", None),
        ("#progress_metric: host=algo-1, completed 0.5 % of epochs", "train:progress", None),
    ],
)
def test_linear_learner_family_names(line: str, metric: str, epoch: int | None) -> None:
    frame = parse_log_lines([f"[05/04/2024 09:00:40 INFO 1] {line}"], job="j")
    assert frame["metric"].tolist() == [metric]
    assert frame["value"].tolist() == [0.5]
    assert (pd.isna(frame["epoch"].item()) and epoch is None) or frame["epoch"].item() == epoch
    assert frame["host"].item().startswith("algo-")


def test_batch_level_quality_metrics_are_not_epoch_values() -> None:
    line = "#quality_metric: host=algo-1, epoch=0, batch=0 train loss <loss>=10.618"
    assert parse_log_lines([line], job="j").empty


def test_given_timestamps_win_over_line_prefix_and_host_is_set() -> None:
    lines = ["[05/01/2024 10:06:47 INFO 1] Epoch[0] Train-accuracy=0.25", "Epoch[1] Train-accuracy=0.5"]
    stamps = [pd.Timestamp("2024-05-01 11:00", tz="UTC"), None]
    frame = parse_log_lines(lines, job="run-1", timestamps=stamps, host="algo-2")
    assert frame["timestamp"].tolist() == [pd.Timestamp("2024-05-01 11:00", tz="UTC"), pd.NaT]
    assert set(frame["host"]) == {"algo-2"}
    assert set(frame["job"]) == {"run-1"}


def test_timestamp_count_must_match_lines() -> None:
    with pytest.raises(InputError, match="2 timestamps for 1 lines"):
        parse_log_lines(["Epoch[0] Train-accuracy=0.5"], job="j", timestamps=[None, None])


def test_user_definition_reads_first_group_and_epoch() -> None:
    definition = MetricDefinition("train:loss", r"loss: ([0-9.]+)")
    lines = ["step 1 epoch 4 loss: 0.5", "nothing here", "epoch=5 loss: 0.25 and loss: 9"]
    frame = parse_log_lines(lines, job="j", metric_definitions=[definition], builtin=False)
    assert frame["value"].tolist() == [0.5, 0.25]  # one value per line, as SageMaker reads it
    assert frame["epoch"].tolist() == [4, 5]


def test_user_definition_replaces_builtin_metric_of_same_name() -> None:
    definition = MetricDefinition("train:accuracy", r"Train-accuracy=([0-9.]+)")
    frame = parse_log_lines(["Epoch[0] Train-accuracy=0.5"], job="j", metric_definitions=[definition])
    assert frame["metric"].tolist() == ["train:accuracy"]
    assert frame["value"].tolist() == [0.5]


def test_builtin_can_be_switched_off() -> None:
    assert parse_log_lines(["Epoch[0] Train-accuracy=0.5"], job="j", builtin=False).empty


def test_multiline_event_messages_stay_one_line_each() -> None:
    frame = parse_log_lines(
        ["Traceback\n  boom", "Epoch[2] Train-accuracy=0.5"], job="j", timestamps=[None, None]
    )
    assert frame["epoch"].tolist() == [2]


@pytest.mark.parametrize(
    ("d", "name", "regex"),
    [
        ({"Name": "train:acc", "Regex": "acc=(\\S+)"}, "train:acc", "acc=(\\S+)"),
        ({"name": "loss", "regex": "loss=(\\S+)"}, "loss", "loss=(\\S+)"),
    ],
)
def test_definition_from_dict_accepts_both_spellings(d: dict[str, str], name: str, regex: str) -> None:
    assert MetricDefinition.from_dict(d) == MetricDefinition(name, regex)


@pytest.mark.parametrize(
    ("name", "regex", "message"),
    [
        ("", "a=(\\d)", "non-empty name"),
        ("m", "a=\\d", "no capture group"),
        ("m", "a=(\\d", "does not compile"),
        ("m", "(a+)+b", "repeats a repeated group"),
        ("m", "(\\S*)*x", "repeats a repeated group"),
        ("m", "", "regex is empty"),
    ],
)
def test_bad_definitions_are_refused(name: str, regex: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        MetricDefinition(name, regex)


def test_definition_without_keys_is_refused() -> None:
    with pytest.raises(InputError, match="needs 'Name' and 'Regex'"):
        MetricDefinition.from_dict({"MetricName": "x"})


def test_overlong_lines_are_skipped_and_noted() -> None:
    text = "Epoch[0] Train-accuracy=0.5\n" + "Epoch[1] Train-accuracy=0.25 " + "x" * MAX_LINE_CHARS + "\n"
    loaded = load_export(text.encode(), "train.log")
    assert loaded.metrics["epoch"].tolist() == [0]
    assert any("longer than" in note for note in loaded.notes)


def test_user_definitions_apply_to_uploaded_logs() -> None:
    text = b"2024-05-01 my own loss 0.5 epoch 1\n2024-05-01 my own loss 0.25 epoch 2\n"
    frame = read_export(
        text, "run-x.log", metric_definitions=[MetricDefinition("train:loss", r"my own loss (\S+)")]
    )
    assert frame["value"].tolist() == [0.5, 0.25]
    assert frame["epoch"].tolist() == [1, 2]
    assert set(frame["job"]) == {"run-x"}


def test_log_without_metric_lines_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"train\.log"):
        read_export(b"starting\nEpoch[0] Time cost=90.1\ndone\n", "train.log")
