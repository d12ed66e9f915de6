"""One set of caps for every reader: bombs are generated here (a few MB compressed at most) and refused
with an InputError that states the cap, before they can grow the server."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.errors import InputError
from lib.sources import capture, files, latency, load_export, monitor_files
from lib.sources.tables import read_table

OVER = files.MAX_BYTES + (8 << 20)  # unpacked size of the bombs: just over the cap


def _gzip_bomb(size: int = OVER, unit: bytes = b"0,0,0,0\n") -> bytes:
    """gzip of ``size`` bytes of ``unit`` repeated, compressed in 1 MiB steps (never held whole)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = unit * ((1 << 20) // len(unit))
    out = [comp.compress(chunk) for _ in range(size // len(chunk) + 1)]
    out.append(comp.flush())
    return b"".join(out)


def _zip(members: dict[str, bytes | None], *, bomb: str | None = None) -> bytes:
    """A zip of ``members``; the one named ``bomb`` is written as ``OVER`` bytes of zeros, streamed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data or b"")
        if bomb is not None:
            with archive.open(bomb, "w", force_zip64=True) as fh:
                block = b"\x00" * (1 << 20)
                for _ in range(OVER >> 20):
                    fh.write(block)
    return buf.getvalue()


def _record(i: int = 0) -> bytes:
    return json.dumps(
        {
            "captureData": {"endpointInput": {"data": "1,2", "encoding": "CSV"}},
            "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2024-05-01T10:00:00Z"},
        }
    ).encode()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    data = _gzip_bomb()
    assert len(data) < 2 << 20  # a small upload…
    return data


def test_the_caps_are_stated() -> None:
    assert files.MAX_BYTES == 256 << 20
    assert f"{files.MAX_BYTES >> 20} MiB" in files.LIMITS_TEXT
    assert f"{files.MAX_CELLS:,}" in files.LIMITS_TEXT


def test_gunzip_stops_at_the_cap(gzip_bomb: bytes) -> None:
    with pytest.raises(InputError, match="larger than 256 MiB, the limit"):
        files.gunzip(gzip_bomb, "bomb.gz")
    assert files.gunzip(gzip.compress(b"a") + gzip.compress(b"b"), "two.gz") == b"ab"  # every member


def test_metrics_upload_gzip_bomb_is_refused(gzip_bomb: bytes) -> None:
    with pytest.raises(InputError, match="256 MiB"):
        load_export(gzip_bomb, "metrics.csv.gz")


def test_table_csv_gz_bomb_is_refused(gzip_bomb: bytes) -> None:
    with pytest.raises(InputError, match="256 MiB"):
        read_table(gzip_bomb, name="reference.csv.gz")


def test_capture_gzip_bomb_is_refused(gzip_bomb: bytes) -> None:
    with pytest.raises(InputError, match="256 MiB"):
        capture.read_capture(gzip_bomb, name="capture.jsonl.gz")


def test_capture_zip_bomb_member_is_stopped_while_inflating() -> None:
    data = _zip({"a.jsonl": _record()}, bomb="b.jsonl")
    assert len(data) < 2 << 20
    with pytest.raises(InputError, match="larger than 256 MiB, the limit"):
        capture.read_capture(data, name="capture.zip")


def test_capture_zip_with_too_many_members_is_refused() -> None:
    data = _zip({f"m{i}.jsonl": b"" for i in range(files.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(InputError, match="10,001 entries; the limit is 10,000"):
        capture.read_capture(data, name="capture.zip")


def test_capture_archives_nested_too_deep_are_refused() -> None:
    inner = _zip({"h.jsonl.gz": gzip.compress(_record())})  # zip of .gz: depth 2, accepted
    assert len(capture.read_capture(inner, name="ok.zip")) == 1
    outer = _zip({"inner.zip": inner})  # zip of zip of .gz: depth 3
    with pytest.raises(InputError, match="nested 3 deep; the limit is 2"):
        capture.read_capture(outer, name="deep.zip")


def test_metrics_gzip_of_gzip_is_refused() -> None:
    with pytest.raises(InputError, match="gzip file inside a gzip"):
        load_export(gzip.compress(gzip.compress(b"job,metric,value\na,b,1\n")), "x.gz")


def test_table_wider_than_the_column_cap_is_refused() -> None:
    header = ",".join(f"c{i}" for i in range(files.MAX_COLUMNS + 1))
    data = (header + "\n" + ",".join("1" * (files.MAX_COLUMNS + 1)) + "\n").encode()
    with pytest.raises(InputError, match="20,001 columns; the limit is 20,000"):
        read_table(data, name="wide.csv")
    with pytest.raises(InputError, match="20,001 columns"):
        latency.read_latency_export(data, "latency.csv")


def test_csv_over_the_cell_cap_is_refused_before_parsing() -> None:
    width = 2_000
    rows = files.MAX_CELLS // width + 10
    line = b"," * (width - 1) + b"\n"
    data = gzip.compress(line * rows, compresslevel=1)
    assert len(data) < 4 << 20
    with pytest.raises(InputError, match=r"rows × 2,000 columns is over 50,000,000 cells"):
        read_table(data, name="cells.csv.gz")


def test_parquet_over_the_cell_cap_is_refused_from_its_footer() -> None:
    table = pa.table({"x": pa.nulls(files.MAX_CELLS + 1, pa.int8())})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    assert len(buf.getvalue()) < 2 << 20
    with pytest.raises(InputError, match="50,000,001 rows × 1 columns is over 50,000,000 cells"):
        read_table(buf.getvalue(), name="bomb.parquet")


def test_parquet_dictionary_bomb_is_refused_before_decoding() -> None:
    """One 1 MiB string repeated 300 times: tiny on disk, 300 MiB once decoded."""
    strings = pa.DictionaryArray.from_arrays(pa.array([0] * 300, pa.int32()), pa.array(["x" * (1 << 20)]))
    buf = io.BytesIO()
    pq.write_table(pa.table({"s": strings}), buf, compression="gzip")
    assert len(buf.getvalue()) < 2 << 20
    with pytest.raises(InputError, match="over 256 MiB once read"):
        read_table(buf.getvalue(), name="strings.parquet")


def test_monitor_json_gzip_bomb_is_refused(gzip_bomb: bytes) -> None:
    with pytest.raises(InputError, match="256 MiB"):
        monitor_files.read_statistics(gzip_bomb)


def test_source_bytes_refuses_a_file_over_the_cap(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "big.csv"  # type: ignore[operator]
    with open(path, "wb") as fh:
        fh.truncate(files.MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(InputError, match="the limit is 256 MiB"):
        files.source_bytes(path)
