"""``driftwatch datasets``, ``report`` and ``compact``: datasets streamed, summary files opened as reports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from lib.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _write(folder: Path, shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for i in range(2):
        pd.DataFrame({"x": rng.normal(shift, 1, 1_500), "k": rng.choice(["a", "b"], 1_500)}).to_parquet(
            folder / f"part-{i}.parquet"
        )
    return folder


def test_datasets_writes_a_summary_that_report_reopens_as_the_same_report(tmp_path: Path) -> None:
    ref, cur = _write(tmp_path / "ref", 0.0, 1), _write(tmp_path / "cur", 1.0, 2)
    summary, first, second = tmp_path / "s.json", tmp_path / "a.json", tmp_path / "b.json"
    code, out, err = run(
        "datasets",
        "--reference",
        str(ref),
        "--current",
        str(cur),
        "--summary",
        str(summary),
        "--json",
        str(first),
    )
    assert (code, err) == (1, "")
    assert out.startswith("DRIFT: 1 of 2 columns drifted")
    code, out, _ = run("report", str(summary), "--json", str(second), "--html", str(tmp_path / "r.html"))
    assert code == 1
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["columns"] == b["columns"]
    assert (tmp_path / "r.html").read_text().lower().startswith("<!doctype html>")


def test_bad_summary_files_and_datasets_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    code, _, err = run("report", str(tmp_path / "x.json"))
    assert code == 2
    assert err.count("\n") == 1
    assert "Not a Driftwatch drift-summary file" in err
    code, _, err = run("datasets", "--reference", str(tmp_path / "none"), "--current", str(tmp_path / "none"))
    assert code == 2
    assert "no such file" in err


def test_compact_writes_parquet(tmp_path: Path) -> None:
    folder = tmp_path / "capture" / "2024" / "05" / "06" / "00"
    folder.mkdir(parents=True)
    line = (
        '{"captureData": {"endpointInput": {"data": "1,2", "encoding": "CSV"}, "endpointOutput": '
        '{"data": "0.5", "encoding": "CSV"}}, "eventMetadata": {"eventId": "e%d", '
        '"inferenceTime": "2024-05-06T00:00:0%dZ"}}'
    )
    (folder / "a.jsonl").write_text("\n".join(line % (i, i) for i in range(5)) + "\n")
    code, out, err = run("compact", str(tmp_path / "capture"), str(tmp_path / "pq"), "--feature-names", "a,b")
    assert (code, err) == (0, "")
    assert "Wrote 1 Parquet file(s)" in out
    assert list(pd.read_parquet(tmp_path / "pq").columns)[:2] == ["a", "b"]
