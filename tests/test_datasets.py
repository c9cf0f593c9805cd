"""Dataset readers and writers: caption folders, JSONL, CSV, Parquet, lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from naiprompt.batch import Batch, RowError
from naiprompt.datasets import (
    CaptionFolder,
    Chunk,
    CsvFile,
    JsonLines,
    Lines,
    ParquetFile,
    open_sink,
    open_source,
    process,
)

TO_WEBUI = Batch("convert", read="nai", write="webui")


def make_folder(root: Path) -> dict[str, str]:
    captions = {
        "a.txt": "{smile}, 1girl\n",
        "b.txt": "1girl, solo\n",  # nothing to convert
        "sub/c.txt": "[blurry]",  # no line end
        "sub/d.txt": "{{x}}\r\n",
    }
    for name, text in captions.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        path.with_suffix(".png").write_bytes(b"")
    (root / "notes.md").write_text("{not a caption}")
    return captions


def test_caption_folder_in_place_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    make_folder(tmp_path)
    old = (tmp_path / "b.txt").stat().st_mtime_ns
    os.utime(tmp_path / "b.txt", ns=(old - 10**9, old - 10**9))
    before = (tmp_path / "b.txt").stat().st_mtime_ns
    folder = CaptionFolder(tmp_path)
    summary = process(TO_WEBUI, folder, folder.sink(), jobs=1, chunk_rows=2)
    assert (summary.rows, summary.errors, summary.written) == (4, 0, 3)
    assert (tmp_path / "a.txt").read_bytes() == b"(smile:1.05), 1girl\n"
    assert (tmp_path / "sub/c.txt").read_bytes() == b"(blurry:0.9524)"
    assert (tmp_path / "sub/d.txt").read_bytes() == b"(x:1.1025)\r\n"
    assert (tmp_path / "b.txt").stat().st_mtime_ns == before  # not rewritten
    assert (tmp_path / "notes.md").read_text() == "{not a caption}"


def test_caption_folder_to_another_folder_keeps_names(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    captions = make_folder(src)
    folder = CaptionFolder(src)
    summary = process(TO_WEBUI, folder, open_sink(out, folder, TO_WEBUI), jobs=1)
    assert summary.written == 4
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == sorted(captions)
    assert (src / "a.txt").read_bytes() == captions["a.txt"].encode()  # the source is untouched
    again = process(TO_WEBUI, folder, open_sink(out, folder, TO_WEBUI), jobs=1)
    assert again.written == 0  # identical files are not rewritten


def test_caption_folder_round_trip_identity(tmp_path: Path) -> None:
    captions = make_folder(tmp_path)
    identity = Batch("apply", transforms=[], dialect="nai")
    folder = CaptionFolder(tmp_path)
    assert process(identity, folder, folder.sink()).written == 0
    assert {name: (tmp_path / name).read_bytes().decode() for name in captions} == captions


def test_images_only(tmp_path: Path) -> None:
    make_folder(tmp_path)
    (tmp_path / "orphan.txt").write_text("x")
    assert len(CaptionFolder(tmp_path).files()) == 5
    assert len(CaptionFolder(tmp_path, images_only=True).files()) == 4


def test_jsonl_field_in_and_out(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    records = [{"id": 1, "text": "{a}"}, {"id": 2}, {"id": 3, "text": 5}, {"id": 4, "text": "[b], c"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
    out = tmp_path / "out.jsonl"
    summary = process(TO_WEBUI, JsonLines(source, "text"), open_sink(out, JsonLines(source), TO_WEBUI, field="webui"))
    assert (summary.rows, summary.errors) == (5, 2)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("webui") for r in got] == ["(a:1.05)", None, None, "(b:0.9524), c", None]
    assert got[0] == {"id": 1, "text": "{a}", "webui": "(a:1.05)"}
    assert summary.failures[0][3] == RowError("expected a string, not int", "TypeError")
    assert summary.failures[1][3].kind == "JSONDecodeError" and "line 5" in summary.failures[1][3].message


def test_csv_column(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,prompt\n1,"{a}, b"\n2,\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    counts = Batch("count_tokens")
    process(counts, CsvFile(source, "prompt"), open_sink(out, CsvFile(source, "prompt"), counts, field="n"))
    assert out.read_text().splitlines() == ["id,prompt,n", '1,"{a}, b",5/75', "2,,0/75"]
    with pytest.raises(KeyError):
        list(CsvFile(source, "nope").chunks())


def test_lines(tmp_path: Path) -> None:
    source = tmp_path / "p.txt"
    source.write_text("{a}\r\n\n[b]")
    assert [c.rows for c in Lines(source).chunks(2)] == [["{a}", ""], ["[b]"]]
    assert Lines(source).total() == 3
    out = tmp_path / "o.txt"
    process(TO_WEBUI, Lines(source), open_sink(out, Lines(source), TO_WEBUI))
    assert out.read_text() == "(a:1.05)\n\n(b:0.9524)\n"


def test_parquet_streams_by_batches_and_appends_a_column(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source = tmp_path / "in.parquet"
    texts = [f"{{tag{i}}}, plain" if i % 7 else None for i in range(1000)]
    pq.write_table(pa.table({"id": list(range(1000)), "text": texts}), source, row_group_size=100)
    reader = ParquetFile(source, "text")
    assert reader.total() == 1000
    chunks = list(reader.chunks(64))
    assert max(len(c.rows) for c in chunks) <= 64 and sum(len(c.rows) for c in chunks) == 1000
    out = tmp_path / "out.parquet"
    summary = process(TO_WEBUI, reader, open_sink(out, reader, TO_WEBUI, field="webui"), chunk_rows=128)
    assert summary.rows == 1000 and summary.errors == 0
    table = pq.read_table(out)
    assert table.column_names == ["id", "text", "webui"]
    assert table.column("webui").to_pylist() == TO_WEBUI(texts)
    assert table.column("id").to_pylist() == list(range(1000))


def test_open_source_by_name(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("{}\n")
    assert isinstance(open_source(tmp_path), CaptionFolder)
    assert isinstance(open_source(tmp_path / "x.jsonl"), JsonLines)
    assert isinstance(open_source(tmp_path / "x.jsonl", format="lines"), Lines)
    with pytest.raises(FileNotFoundError):
        open_source(tmp_path / "missing.csv")


def test_chunk_keeps_rows() -> None:
    assert Chunk(["a"], [0]).payload is None
