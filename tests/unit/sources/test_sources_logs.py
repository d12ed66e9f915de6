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
        ("m", "(a)=\\1", "construct the linear-time engine \\(RE2\\) does not support"),
        ("m", "(?<=loss)=(\\d)", "look-ahead/look-behind"),
        ("m", "(?>a+)=(\\d)", "atomic groups"),
        ("m", "", "regex is empty"),
    ],
)
def test_bad_definitions_are_refused(name: str, regex: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        MetricDefinition(name, regex)


@pytest.mark.parametrize("regex", [r"(?:a|a)*b=(\d)", r"(?:a+)+b=(\d)", r"(?:\S*)*x=(\d)"])
def test_catastrophic_regexes_run_on_the_linear_time_engine(regex: str) -> None:
    """Patterns that backtrack exponentially in Python's re (15 s on a 25-character line) are
    compiled by RE2, which never backtracks; the search still finds what they mean."""
    import re2

    definition = MetricDefinition("m", regex)
    assert isinstance(definition.compiled, re2._Regexp)
    lines = ["a" * 5_000] * 20 + ["aab=7 xx=7"]
    frame = parse_log_lines(lines, job="j", metric_definitions=[definition], builtin=False)
    assert len(frame) == 1


def test_the_regex_of_the_report_is_accepted_and_compiled_by_re2() -> None:
    import re2

    definition = MetricDefinition("m", r"(a|a)*b=(\d)")  # 15 s on one 25-character line in Python's re
    assert isinstance(definition.compiled, re2._Regexp)


def test_user_regex_positions_map_to_lines_with_non_ascii_text() -> None:
    definition = MetricDefinition("loss", r"loss=([0-9.]+)")
    lines = ["héllo wörld ✓"] * 3 + ["step loss=0.5 epoch 2", "ünïcode", "epoch 3 step loss=0.25"]
    frame = parse_log_lines(lines, job="j", metric_definitions=[definition], builtin=False)
    assert frame["value"].tolist() == [0.5, 0.25]
    assert frame["epoch"].tolist() == [2, 3]


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


# ---------------------------------------------------------------- issue 10: shapes of real logs

ESC = "\x1b"
XGB_SERVICE_DEFINITIONS = [  # what DescribeTrainingJob returns for the built-in XGBoost algorithm
    MetricDefinition(
        f"{split}:rmse",
        rf".*\[[0-9]+\].*#011{split}-rmse:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
    )
    for split in ("train", "validation")
]


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    epochs = [None if pd.isna(e) else int(e) for e in frame["epoch"]]
    return list(zip(frame["metric"], epochs, frame["value"], frame["timestamp"], strict=True))


@pytest.mark.parametrize("code", ["[34m", "[31m", "[1;31m", "[0m", "[K"])
def test_ansi_colour_codes_are_read_like_plain_lines(code: str) -> None:
    plain = [
        "[06/17/2021 23:35:18 INFO 1] Epoch[0] Train-accuracy=0.25",
        "[06/17/2021 23:35:19 INFO 1] #quality_metric: host=algo-1, epoch=2, train rmse <loss>=1.5",
        "[3]#011train-rmse:0.5#011validation-rmse:0.75",
    ]
    coloured = [f"{ESC}{code}{line}{ESC}[0m" for line in plain]
    want = parse_log_lines(plain, job="j")
    assert _rows(parse_log_lines(coloured, job="j")) == _rows(want)
    assert want["timestamp"].notna().sum() == 2


def test_user_regexes_see_the_text_without_colour_codes() -> None:
    definition = MetricDefinition("loss", r"^loss=([0-9.]+) epoch=(\d+)$")  # anchored on both ends
    frame = parse_log_lines([f"{ESC}[34mloss=0.5 epoch=3{ESC}[0m"], job="j", metric_definitions=[definition])
    assert _rows(frame) == [("loss", 3, 0.5, pd.NaT)]


def test_short_coloured_log_is_not_called_binary() -> None:
    text = f"{ESC}[34m[0]#011train-rmse:1.5{ESC}[0m\n{ESC}[34m[1]#011train-rmse:1.25{ESC}[0m\n"
    loaded = load_export(text.encode(), "xgb.log")
    assert loaded.format == "training_log"
    assert loaded.metrics["epoch"].tolist() == [0, 1]


@pytest.mark.parametrize(
    "line",
    [
        "16:12:54 [10/21/2018 16:12:53 INFO 1] Epoch[0] Train-accuracy=0.5",  # CloudWatch console copy
        "    [10/21/2018 16:12:53 INFO 1] Epoch[0] Train-accuracy=0.5",  # indented
        '"[10/21/2018 16:12:53 INFO 1] Epoch[0] Train-accuracy=0.5",',  # quoted
        "> [10/21/2018 16:12:53 INFO 1] Epoch[0] Train-accuracy=0.5",  # quoted (mail/markdown)
        "2018-10-21 16:12:40 Training - Training image download completed. Training in progress."
        f"{ESC}[34m[10/21/2018 16:12:53 INFO 1] Epoch[0] Train-accuracy=0.5{ESC}[0m",  # glued to SDK
    ],
)
def test_time_stamp_not_first_on_the_line_is_found(line: str) -> None:
    frame = parse_log_lines([line], job="j")
    assert _rows(frame) == [("train:accuracy", 0, 0.5, pd.Timestamp("2018-10-21 16:12:53", tz="UTC"))]


def test_xgboost_stamp_inside_the_line_and_no_stamp_stays_nat() -> None:
    frame = parse_log_lines(
        ["  [2020-07-15:03:28:26:INFO] Epoch[1] Train-accuracy=0.5", "[7]#011train-rmse:0.5"], job="j"
    )
    assert frame["timestamp"].tolist() == [pd.Timestamp("2020-07-15 03:28:26", tz="UTC"), pd.NaT]


XGB_EARLY_STOP = [
    "[39]#011train-rmse:1.1#011validation-rmse:4.7",
    "[40]#011train-rmse:1.0#011validation-rmse:4.6",
    "[41]#011train-rmse:0.9#011validation-rmse:4.8",
    "Stopping. Best iteration:",
    "[40]#011train-rmse:1.0#011validation-rmse:4.6",
    "",
]


@pytest.mark.parametrize("definitions", [[], XGB_SERVICE_DEFINITIONS], ids=["builtin", "service-regex"])
def test_xgboost_early_stopping_echo_is_not_a_point(definitions: list[MetricDefinition]) -> None:
    lines = [f"{ESC}[34m{line}{ESC}[0m" for line in XGB_EARLY_STOP]
    frame = parse_log_lines(lines, job="j", metric_definitions=definitions)
    for metric in ("train:rmse", "validation:rmse"):
        assert frame.loc[frame["metric"] == metric, "epoch"].tolist() == [39, 40, 41]


def test_xgboost_service_regexes_keep_the_rounds() -> None:
    lines = [f"[{n}]#011train-rmse:{1 / (n + 1)}#011validation-rmse:{2 / (n + 1)}" for n in range(3)]
    frame = parse_log_lines(lines, job="j", metric_definitions=XGB_SERVICE_DEFINITIONS, builtin=True)
    assert sorted(frame["metric"].unique()) == ["train:rmse", "validation:rmse"]
    for metric in ("train:rmse", "validation:rmse"):
        assert frame.loc[frame["metric"] == metric, "epoch"].tolist() == [0, 1, 2]


def test_factorization_machines_summary_is_a_separate_final_metric() -> None:
    lines = [
        "#quality_metric: host=algo-1, epoch=0, train rmse <loss>=2.0",
        "#quality_metric: host=algo-1, epoch=1, train rmse <loss>=1.5",
        "#quality_metric: host=algo-1, epoch=1, batch=0 train rmse <loss>=1.4",
        "#quality_metric: host=algo-1, train rmse <loss>=1.5",
        "#quality_metric: host=algo-1, train binary_classification_accuracy <score>=0.75",
        "#quality_metric: host=algo-1, test rmse <loss>=1.75",
    ]
    frame = parse_log_lines(lines, job="j").sort_values("value", kind="stable")
    assert [(m, e, v) for m, e, v, _ in _rows(frame)] == [
        ("train:binary_classification_accuracy", None, 0.75),  # only ever final: keeps its name
        ("train:rmse", 1, 1.5),
        ("train:rmse:final", None, 1.5),
        ("test:rmse", None, 1.75),
        ("train:rmse", 0, 2.0),
    ]


def test_keras_epoch_header_on_the_line_before_the_metrics() -> None:
    lines = [
        "Train on 3320 samples, validate on 850 samples",
        "Epoch 1/2",
        "2019-12-14 21:18:20.246146: I tensorflow/core/platform/cpu_feature_guard.cc:145] noise",
        "3320/3320 [==============================] - 2s 499us/step - loss: 82.8 - val_loss: 40.9",
        "Epoch 2/2",
        "3320/3320 [==============================] - 1s 199us/step - loss: 13.3 - val_loss: 8.2",
    ]
    definitions = [
        MetricDefinition("loss", r" - loss: ([0-9.]+)"),
        MetricDefinition("val_loss", r"val_loss: ([0-9.]+)"),
    ]
    frame = parse_log_lines(lines, job="j", metric_definitions=definitions)
    assert sorted((m, e, v) for m, e, v, _ in _rows(frame)) == [
        ("loss", 1, 82.8),
        ("loss", 2, 13.3),
        ("val_loss", 1, 40.9),
        ("val_loss", 2, 8.2),
    ]


@pytest.mark.parametrize(
    ("line", "epoch"),
    [
        ("[12]#011train-loss:0.5", 12),
        ("[12]\ttrain-loss:0.5", 12),
        ("Epoch[3] Batch [20]#011train-loss:0.5", 3),
        ("#quality_metric: host=algo-1, epoch=4, train-loss:0.5", 4),
        ("Epoch: 1, train-loss:0.5", 1),
        ("Epoch 1/3 train-loss:0.5", 1),
        ("step 7 train-loss:0.5", None),
    ],
)
def test_user_regex_takes_the_epoch_the_line_carries(line: str, epoch: int | None) -> None:
    definition = MetricDefinition("train:loss", r"train-loss:([0-9.]+)")
    frame = parse_log_lines([line], job="j", metric_definitions=[definition], builtin=False)
    assert _rows(frame) == [("train:loss", epoch, 0.5, pd.NaT)]


def test_epoch_too_large_for_int64_is_unknown_not_an_error() -> None:
    definition = MetricDefinition("loss", r"loss: (\d+)")
    lines = ["Epoch 99999999999999999999999/5", " - loss: 1", "epoch 3 - loss: 2"]
    frame = parse_log_lines(lines, job="j", metric_definitions=[definition]).sort_values("value")
    assert [None if pd.isna(e) else int(e) for e in frame["epoch"]] == [None, 3]
