"""Readers and writers for prompt datasets: caption folders, JSONL, CSV, Parquet and plain lines.

A *source* yields :class:`Chunk` objects (a list of prompts plus what is needed to write each row back);
a *sink* takes a chunk with its results. Both stream: a Parquet file is read one row group batch at a
time, so memory stays flat on files larger than RAM; a caption folder is read file by file.

* caption folders (kohya-ss sd-scripts style: ``image.png`` beside ``image.txt``): written in place or
  to another folder with the same relative names; a file whose text does not change is not rewritten;
* JSONL: one object per line, the prompt in a field; the result goes into a field of the same object;
* CSV: the prompt in a column; the result in a column;
* Parquet (``pyarrow``): the prompt in a column; the result in a column, batch by batch;
* lines: one prompt per line, ``-`` for stdin/stdout.

Example:
    >>> import tempfile, pathlib
    >>> from naiprompt.batch import Batch
    >>> from naiprompt.datasets import CaptionFolder, process
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "a.txt").write_text("{smile}, 1girl\\n")
    >>> _ = (root / "b.txt").write_text("1girl, solo\\n")
    >>> summary = process(Batch("convert", read="nai"), CaptionFolder(root), CaptionFolder(root).sink())
    >>> (root / "a.txt").read_text(), summary.rows, summary.written
    ('(smile:1.05), 1girl\\n', 2, 1)
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from naiprompt.batch import Batch, RowError

__all__ = [
    "CaptionFolder",
    "CaptionFolderSink",
    "Chunk",
    "CsvFile",
    "CsvSink",
    "JsonLines",
    "JsonLinesSink",
    "Lines",
    "LinesSink",
    "ParquetFile",
    "ParquetSink",
    "Sink",
    "Source",
    "Summary",
    "open_sink",
    "open_source",
    "process",
    "text_of",
]

#: Rows per chunk by default: large enough that one chunk is one message to a worker process.
CHUNK_ROWS = 5_000

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".avif", ".jxl"})


@dataclass
class Chunk:
    """Prompts of consecutive rows and, per row, what its sink needs to write the result back.

    Example:
        >>> Chunk(["a", None], [1, 2]).rows
        ['a', None]
    """

    rows: list[Any]
    keys: list[Any]
    #: The source's own piece (a pyarrow RecordBatch for Parquet), when a sink writes whole batches.
    payload: Any = None


class Source(Protocol):
    """Something that yields chunks of prompts; ``total`` is the row count when known cheaply."""

    name: str

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]: ...

    def total(self) -> int | None: ...


class Sink(Protocol):
    """Something that writes results chunk by chunk; ``written`` counts what it wrote."""

    written: int

    def write(self, chunk: Chunk, results: list[Any]) -> None: ...

    def close(self) -> None: ...


def text_of(result: Any) -> str | None:
    """A result as text for line and caption outputs: tags joined with ", ", others as JSON.

    Example:
        >>> text_of(["a", "(b:1.2)"]), text_of(3), text_of(None), text_of([("a", 1.1)])
        ('a, (b:1.2)', '3', None, '[["a", 1.1]]')
    """
    if result is None or isinstance(result, RowError):
        return None
    if isinstance(result, str):
        return str(result)
    if isinstance(result, list) and all(isinstance(item, str) for item in result):
        return ", ".join(result)
    return json.dumps(result, ensure_ascii=False)


def plain(result: Any) -> Any:
    """A result as JSON-friendly data (``RowError`` becomes ``None``).

    Example:
        >>> plain([("a", 1.1)]), plain(RowError("x"))
        ([['a', 1.1]], None)
    """
    if result is None or isinstance(result, RowError):
        return None
    if isinstance(result, str):
        return str(result)
    if isinstance(result, list):
        return [list(item) if isinstance(item, tuple) else item for item in result]
    return result


def _count_lines(path: Path) -> int:
    count = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _open_text(path: str) -> tuple[IO[str], Callable[[], None]]:
    """A text handle on ``path`` (stdin for ``-``, left open) and the function that releases it."""
    if path == "-":
        wrapper = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")

        def release() -> None:
            wrapper.detach()  # leave sys.stdin open

        return wrapper, release
    handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed by the returned function
    return handle, handle.close


# --------------------------------------------------------------------------------------------------
# Plain lines


class Lines:
    """One prompt per line of a text file, or of stdin for ``"-"`` (line ends removed).

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "p.txt")
        >>> _ = open(path, "w").write("a\\nb\\n")
        >>> [chunk.rows for chunk in Lines(path).chunks()]
        [['a', 'b']]
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.name = "<stdin>" if self.path == "-" else self.path

    def total(self) -> int | None:
        return None if self.path == "-" else _count_lines(Path(self.path))

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        handle, done = _open_text(self.path)
        try:
            rows: list[Any] = []
            keys: list[Any] = []
            for number, line in enumerate(handle, start=1):
                rows.append(line.rstrip("\r\n"))
                keys.append(number)
                if len(rows) >= size:
                    yield Chunk(rows, keys)
                    rows, keys = [], []
            if rows:
                yield Chunk(rows, keys)
        finally:
            done()


def _file_of(key: Any) -> str | None:
    """The caption file of a row key (caption folders), else ``None``."""
    if isinstance(key, tuple) and key and isinstance(key[0], Path):
        return str(key[0])
    return None


class LinesSink:
    """One result per line (tags joined with ", ", other values as JSON, failed rows as empty lines).

    Rows from caption files are written as ``file<TAB>result``.

    Example:
        >>> sink = LinesSink("-")
        >>> sink.write(Chunk(["a"], [1]), ["(a:1.05)"]); sink.close()
        (a:1.05)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.written = 0
        self._handle: IO[str] = (
            sys.stdout if self.path == "-" else open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        )

    def write(self, chunk: Chunk, results: list[Any]) -> None:
        keys = [_file_of(key) for key in chunk.keys]
        self._handle.write(
            "".join(
                f"{key}\t{text_of(result) or ''}\n" if key is not None else f"{text_of(result) or ''}\n"
                for key, result in zip(keys, results, strict=True)
            )
        )
        self.written += len(results)

    def close(self) -> None:
        if self._handle is sys.stdout:
            self._handle.flush()
        else:
            self._handle.close()


# --------------------------------------------------------------------------------------------------
# Caption folders


class CaptionFolder:
    """The caption files (``*.txt`` by default) under a folder, in sorted order, recursively.

    ``images_only`` keeps only captions with an image of the same name beside them. One trailing line end
    is not part of the caption (and is written back as it was).

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (root / "x.txt").write_text("a, b\\n"); _ = (root / "x.png").write_bytes(b"")
        >>> [chunk.rows for chunk in CaptionFolder(root, images_only=True).chunks()]
        [['a, b']]
    """

    def __init__(self, root: str | Path, *, extension: str = ".txt", images_only: bool = False) -> None:
        self.root = Path(root)
        self.name = str(root)
        self.extension = extension if extension.startswith(".") else "." + extension
        self.images_only = images_only
        if not self.root.is_dir():
            raise FileNotFoundError(f"no such folder: {self.root}")

    def files(self) -> list[Path]:
        """The caption files, sorted.

        Example:
            >>> import tempfile
            >>> CaptionFolder(tempfile.mkdtemp()).files()
            []
        """
        found = sorted(path for path in self.root.rglob("*" + self.extension) if path.is_file())
        if self.images_only:
            found = [path for path in found if any(path.with_suffix(s).exists() for s in IMAGE_SUFFIXES)]
        return found

    def total(self) -> int | None:
        return len(self.files())

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        files = self.files()
        for start in range(0, len(files), size):
            rows: list[Any] = []
            keys: list[Any] = []
            for path in files[start : start + size]:
                with open(path, encoding="utf-8", newline="") as handle:
                    text = handle.read()
                ending = "\r\n" if text.endswith("\r\n") else "\n" if text.endswith("\n") else ""
                rows.append(text[: len(text) - len(ending)])
                keys.append((path, ending))
            yield Chunk(rows, keys)

    def sink(self, out: str | Path | None = None) -> CaptionFolderSink:
        """A sink writing back into this folder (``out=None``) or into ``out`` with the same names.

        Example:
            >>> import tempfile
            >>> CaptionFolder(tempfile.mkdtemp()).sink().written
            0
        """
        return CaptionFolderSink(self.root, out)


class CaptionFolderSink:
    """Writes each result to its caption file (in place, or under ``out`` with the same relative path).

    Files whose text would not change are not touched; rows that failed are not written.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp()); _ = (root / "a.txt").write_text("x")
        >>> sink = CaptionFolderSink(root, root / "out")
        >>> sink.write(Chunk(["x"], [(root / "a.txt", "")]), ["y"]); (root / "out" / "a.txt").read_text()
        'y'
    """

    def __init__(self, root: str | Path, out: str | Path | None = None) -> None:
        self.root = Path(root)
        self.out = None if out is None else Path(out)
        self.written = 0

    def write(self, chunk: Chunk, results: list[Any]) -> None:
        for (path, ending), row, result in zip(chunk.keys, chunk.rows, results, strict=True):
            text = text_of(result)
            if text is None:
                continue
            target = path if self.out is None else self.out / Path(path).relative_to(self.root)
            content = text + ending
            if self.out is None and text == row:
                continue
            if self.out is not None and target.is_file():
                with open(target, encoding="utf-8", newline="") as handle:
                    if handle.read() == content:
                        continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
            self.written += 1

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------------
# JSONL and CSV


class JsonLines:
    """JSON objects one per line; the prompt is ``field`` (a missing field reads as ``None``).

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "d.jsonl")
        >>> _ = open(path, "w").write('{"text": "a", "id": 1}\\n{"id": 2}\\n')
        >>> [chunk.rows for chunk in JsonLines(path, "text").chunks()]
        [['a', None]]
    """

    def __init__(self, path: str | Path, field: str = "text") -> None:
        self.path = str(path)
        self.name = "<stdin>" if self.path == "-" else self.path
        self.field = field

    def total(self) -> int | None:
        return None if self.path == "-" else _count_lines(Path(self.path))

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        for chunk in Lines(self.path).chunks(size):
            records: list[Any] = []
            rows: list[Any] = []
            for number, line in zip(chunk.keys, chunk.rows, strict=True):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    record = {"_line": number}
                    rows.append(RowError(f"line {number}: not JSON: {exc}", "JSONDecodeError"))
                    records.append(record)
                    continue
                records.append(record)
                rows.append(record.get(self.field) if isinstance(record, dict) else None)
            yield Chunk(rows, records)


class JsonLinesSink:
    """Each input object with the result in ``field`` (as JSON data; failed rows get ``null``).

    Example:
        >>> sink = JsonLinesSink("-", "webui")
        >>> sink.write(Chunk(["{a}"], [{"text": "{a}"}]), ["(a:1.05)"]); sink.close()
        {"text": "{a}", "webui": "(a:1.05)"}
    """

    def __init__(self, path: str | Path, field: str) -> None:
        self.lines = LinesSink(path)
        self.field = field
        self.written = 0

    def write(self, chunk: Chunk, results: list[Any]) -> None:
        out: list[str] = []
        for record, result in zip(chunk.keys, results, strict=True):
            path = _file_of(record)
            record = dict(record) if isinstance(record, dict) else {"file": path} if path else {"value": record}
            record[self.field] = plain(result)
            out.append(json.dumps(record, ensure_ascii=False) + "\n")
        self.lines._handle.write("".join(out))
        self.written += len(results)

    def close(self) -> None:
        self.lines.close()


class CsvFile:
    """A CSV file with a header; the prompt is ``column`` (empty cells read as empty strings).

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
        >>> _ = open(path, "w").write('id,text\\n1,"a, b"\\n')
        >>> [chunk.rows for chunk in CsvFile(path, "text").chunks()]
        [['a, b']]
    """

    def __init__(self, path: str | Path, column: str = "text") -> None:
        self.path = str(path)
        self.name = "<stdin>" if self.path == "-" else self.path
        self.column = column
        self.fieldnames: list[str] = []

    def total(self) -> int | None:
        return None

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        handle, done = _open_text(self.path)
        try:
            reader = csv.DictReader(handle)
            self.fieldnames = list(reader.fieldnames or [])
            if self.column not in self.fieldnames:
                raise KeyError(f"{self.name}: no column {self.column!r} (columns: {', '.join(self.fieldnames)})")
            rows: list[Any] = []
            keys: list[Any] = []
            for record in reader:
                rows.append(record.get(self.column))
                keys.append(record)
                if len(rows) >= size:
                    yield Chunk(rows, keys)
                    rows, keys = [], []
            if rows:
                yield Chunk(rows, keys)
        finally:
            done()


class CsvSink:
    """Each input record with the result in ``column`` (text as for lines; failed rows empty).

    Example:
        >>> sink = CsvSink("-", "n")
        >>> sink.write(Chunk(["a b"], [{"text": "a b"}]), ["2/75"]); sink.close()
        text,n
        a b,2/75
    """

    def __init__(self, path: str | Path, column: str) -> None:
        self.lines = LinesSink(path)
        self.column = column
        self.written = 0
        self._writer: Any = None

    def write(self, chunk: Chunk, results: list[Any]) -> None:
        for record, result in zip(chunk.keys, results, strict=True):
            path = _file_of(record)
            record = dict(record) if isinstance(record, dict) else {"file": path or record}
            record[self.column] = text_of(result) or ""
            if self._writer is None:
                self._writer = csv.DictWriter(self.lines._handle, fieldnames=list(record), lineterminator="\n")
                self._writer.writeheader()
            self._writer.writerow(record)
        self.written += len(results)

    def close(self) -> None:
        self.lines.close()


# --------------------------------------------------------------------------------------------------
# Parquet


class ParquetFile:
    """A Parquet file read in record batches (``pyarrow``): memory stays flat whatever the file size.

    Example:
        >>> import tempfile, os, pyarrow as pa, pyarrow.parquet as pq
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pq.write_table(pa.table({"text": ["a", None]}), path)
        >>> [chunk.rows for chunk in ParquetFile(path, "text").chunks()]
        [['a', None]]
    """

    def __init__(self, path: str | Path, column: str = "text") -> None:
        import pyarrow.parquet as pq

        self.path = str(path)
        self.name = self.path
        self.column = column
        # No pre-buffering of whole column chunks, a bounded read buffer: memory stays flat on any size.
        self._file = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=1 << 20)
        names = self._file.schema_arrow.names
        if column not in names:
            raise KeyError(f"{self.name}: no column {column!r} (columns: {', '.join(names)})")

    def total(self) -> int | None:
        return int(self._file.metadata.num_rows)

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        start = 0
        for batch in self._file.iter_batches(batch_size=size, use_threads=False):
            rows = batch.column(self.column).to_pylist()
            yield Chunk(rows, list(range(start, start + len(rows))), payload=batch)
            start += len(rows)


class ParquetSink:
    """Writes each input record batch with the results as ``column`` (added, or replacing one).

    Example:
        >>> import tempfile, os, pyarrow as pa, pyarrow.parquet as pq
        >>> path = os.path.join(tempfile.mkdtemp(), "o.parquet")
        >>> sink = ParquetSink(path, "n", Batch("count_tokens"))
        >>> batch = pa.record_batch({"text": ["a b"]})
        >>> sink.write(Chunk(["a b"], [0], batch), ["2/75"]); sink.close()
        >>> pq.read_table(path).to_pylist()
        [{'text': 'a b', 'n': '2/75'}]
    """

    def __init__(self, path: str | Path, column: str, batch: Batch) -> None:
        self.path = str(path)
        self.column = column
        self.batch = batch
        self.written = 0
        self._writer: Any = None

    def write(self, chunk: Chunk, results: list[Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        values = self.batch.to_arrow(results)
        source = chunk.payload
        if source is None:  # rows from another format: a one-column table
            table = pa.table({self.column: values})
        else:
            table = pa.Table.from_batches([source])
            if self.column in table.column_names:
                table = table.set_column(table.column_names.index(self.column), self.column, values)
            else:
                table = table.append_column(self.column, values)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)
        self.written += len(results)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


# --------------------------------------------------------------------------------------------------
# Choosing by name, and running


def _format_of(path: str, given: str | None) -> str:
    if given:
        return given
    if path != "-" and Path(path).is_dir():
        return "folder"
    suffix = Path(path).suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(
        suffix, "lines"
    )


def open_source(
    path: str | Path,
    *,
    format: str | None = None,
    field: str = "text",
    extension: str = ".txt",
    images_only: bool = False,
) -> Source:
    """A source for ``path``, its format from ``format`` or the path (folder, .jsonl, .csv, .parquet, lines).

    Example:
        >>> import tempfile
        >>> type(open_source(tempfile.mkdtemp())).__name__, type(open_source("-")).__name__
        ('CaptionFolder', 'Lines')
    """
    name = str(path)
    kind = _format_of(name, format)
    if kind == "folder":
        return CaptionFolder(name, extension=extension, images_only=images_only)
    if name != "-" and not Path(name).is_file():
        raise FileNotFoundError(f"no such file: {name}")
    if kind == "jsonl":
        return JsonLines(name, field)
    if kind == "csv":
        return CsvFile(name, field)
    if kind == "parquet":
        return ParquetFile(name, field)
    if kind == "lines":
        return Lines(name)
    raise ValueError(f"unknown format {kind!r}; choose folder, lines, jsonl, csv or parquet")


def open_sink(
    path: str | Path | None,
    source: Source,
    batch: Batch,
    *,
    format: str | None = None,
    field: str = "text",
) -> Sink:
    """A sink for results of ``source``: ``path`` (``None``: in place for a folder, else stdout).

    The format follows ``format``, else the path's suffix, else the source's.

    Example:
        >>> type(open_sink(None, Lines("-"), Batch("detect"))).__name__
        'LinesSink'
    """
    if isinstance(source, CaptionFolder) and (
        path is None or format == "folder" or (format is None and _format_of(str(path), None) in ("lines", "folder"))
    ):
        return source.sink(path)  # a folder (existing or not) unless a file format is asked for
    target = "-" if path is None else str(path)
    if format:
        kind = format
    elif target != "-" and Path(target).suffix:
        kind = _format_of(target, None)
    else:
        kind = {JsonLines: "jsonl", CsvFile: "csv", ParquetFile: "parquet"}.get(type(source), "lines")
    if kind == "folder":
        if isinstance(source, CaptionFolder):
            return source.sink(path)
        raise ValueError("a folder output needs a caption folder input")
    if kind == "jsonl":
        return JsonLinesSink(target, field)
    if kind == "csv":
        return CsvSink(target, field)
    if kind == "parquet":
        if target == "-":
            raise ValueError("Parquet output needs a file name (-o out.parquet)")
        return ParquetSink(target, field, batch)
    return LinesSink(target)


@dataclass
class Summary:
    """What a :func:`process` run did: rows read, rows failed, results written, seconds.

    Example:
        >>> Summary(rows=10, errors=1, written=9, seconds=2.0).rate
        5.0
    """

    rows: int = 0
    errors: int = 0
    written: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, Any, Any, RowError]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Rows per second."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def process(
    batch: Batch,
    source: Source,
    sink: Sink,
    *,
    jobs: int | None = 1,
    chunk_rows: int = CHUNK_ROWS,
    on_chunk: Callable[[int], None] | None = None,
    on_error: Callable[[str, Any, Any, RowError], None] | None = None,
) -> Summary:
    """Stream ``source`` through ``batch`` into ``sink`` with ``jobs`` processes; chunks stay in order.

    ``on_chunk(rows)`` is called after each chunk (progress); ``on_error(source, key, row, error)`` for
    each failed row (by default they are kept in ``Summary.failures``).

    Example:
        >>> summary = process(Batch("detect"), _Rows(["{a}", 3]), _Discard())
        >>> summary.rows, summary.errors
        (2, 1)
    """
    summary = Summary()
    started = time.perf_counter()
    waiting: deque[Chunk] = deque()

    def rows_of(chunks: Iterable[Chunk]) -> Iterator[list[Any]]:
        for chunk in chunks:
            waiting.append(chunk)
            yield chunk.rows

    try:
        for results in batch.imap(rows_of(source.chunks(chunk_rows)), jobs=jobs):
            chunk = waiting.popleft()
            sink.write(chunk, results)
            summary.rows += len(results)
            for key, row, result in zip(chunk.keys, chunk.rows, results, strict=True):
                if isinstance(result, RowError):
                    summary.errors += 1
                    if on_error is not None:
                        on_error(source.name, key, row, result)
                    else:
                        summary.failures.append((source.name, key, row, result))
            if on_chunk is not None:
                on_chunk(len(results))
    finally:
        sink.close()
        summary.written = sink.written
        summary.seconds = time.perf_counter() - started
    return summary


class _Rows:
    """A source over a list (for examples and tests)."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.name = "<list>"

    def total(self) -> int | None:
        return len(self.rows)

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        for start in range(0, len(self.rows), size):
            part = self.rows[start : start + size]
            yield Chunk(part, list(range(start, start + len(part))))


class _Discard:
    """A sink that keeps nothing."""

    written = 0

    def write(self, chunk: Chunk, results: list[Any]) -> None:
        pass

    def close(self) -> None:
        pass
