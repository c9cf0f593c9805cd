"""Batch.map over processes: task spans, rows inherited through fork or sent, lessons passed between workers."""

from __future__ import annotations

import marshal
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from conftest import FIXTURES
from naiprompt import _batch_pool
from naiprompt.batch import Batch, RowError
from naiprompt.tokens.registry import _REGISTRY, get_tokenizer, register_tokenizer

pytestmark = pytest.mark.filterwarnings("ignore::naiprompt.PromptWarning")

CAPTIONS = (FIXTURES / "batch" / "captions.txt").read_text(encoding="utf-8").splitlines()


@given(total=st.integers(0, 5000), workers=st.integers(1, 8), size=st.integers(1, 700))
def test_spans_cover_the_rows_once_in_order_within_the_chunk_size(total: int, workers: int, size: int) -> None:
    spans = list(_batch_pool.spans(total, workers, size))
    assert [start for start, _ in spans] == [0, *(stop for _, stop in spans[:-1])][: len(spans)]
    assert (spans[-1][1] if spans else 0) == total
    assert all(0 < stop - start <= size for start, stop in spans)


def test_spans_start_small_and_end_small_around_full_chunks() -> None:
    sizes = [stop - start for start, stop in _batch_pool.spans(200_000, 2, 5000)]
    assert sizes[:6] == [625, 625, 1250, 1250, 2500, 2500]  # lessons of the common tags go round early
    assert sizes.count(5000) > 20
    assert sizes[-4:] == [625, 625, 625, 200_000 - sum(sizes[:-1])] and sizes[-1] <= 625


@pytest.mark.parametrize("op", ["count_tokens", "convert", "tags"])
def test_forked_workers_read_the_callers_rows_and_give_the_one_process_results(op: str) -> None:
    options: dict[str, Any] = {"read": "nai"} if op == "convert" else {}
    rows: list[Any] = [*CAPTIONS[:150], None, 7, "", "a, b  "]
    batch = Batch(op, **options)
    assert batch.map(rows, jobs=2, chunk_size=8) == Batch(op, **options)(rows)
    assert batch.map(iter(rows), jobs=3, chunk_size=64) == Batch(op, **options)(rows)  # any iterable


def test_without_fork_the_rows_are_sent_and_the_results_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the pool would spawn, nothing is inherited: the chunks travel (and the pool still forks here)."""
    context = multiprocessing.get_context()
    sent: list[int] = []
    real = _batch_pool._run

    class Spawning:
        def get_start_method(self) -> str:
            return "spawn"

    def run(batch: Batch, tasks: Any, workers: int, rows: Any, _context: Any) -> Iterator[list[Any]]:
        assert rows == ()  # nothing for the workers to inherit

        def counted() -> Iterator[Any]:
            for task in tasks:
                assert isinstance(task, list)
                sent.append(len(task))
                yield task

        return real(batch, counted(), workers, rows, context)

    monkeypatch.setattr(multiprocessing, "get_context", Spawning)
    monkeypatch.setattr(_batch_pool, "_run", run)
    rows = CAPTIONS[:40]
    assert Batch("count_tokens").map(rows, jobs=2, chunk_size=8) == [naiprompt.count_tokens(row) for row in rows]
    assert sum(sent) == len(rows)


def test_map_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        Batch("tags").map(["a"], jobs=0)
    with pytest.raises(ValueError, match="chunk_size must be at least 1"):
        Batch("tags").map(["a"], jobs=2, chunk_size=0)
    assert Batch("tags").map([], jobs=2) == []


class CountingTokenizer:
    """WebUI's tokenizer, counting what it is asked to encode."""

    def __init__(self) -> None:
        self.inner = get_tokenizer("webui")
        self.calls: list[str] = []

    def encode(self, text: str) -> list[int]:
        self.calls.append(text)
        return self.inner.encode(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def counting() -> Iterator[CountingTokenizer]:
    tokenizer = CountingTokenizer()
    register_tokenizer("counting-webui", tokenizer, replace=True)
    yield tokenizer
    _REGISTRY.unregister("counting-webui")


def test_a_counter_taught_another_ones_lessons_sizes_none_of_those_pieces_again(counting: CountingTokenizer) -> None:
    rows = [
        "1girl, long hair, (smile:1.2), hatsune miku \\(cosplay\\), blue eyes",
        "solo, long hair, blue eyes, t-shirt",
        "1girl, solo, looking at viewer!, (smile:1.2), :d",
    ]
    teacher = Batch("count_tokens", tokenizer="counting-webui")._row_function()
    teacher.learn(())  # type: ignore[attr-defined]  # from now on it keeps its lessons
    expected = [teacher(row) for row in rows]
    lesson = teacher.lessons()  # type: ignore[attr-defined]
    assert marshal.loads(teacher.lessons()) == {}  # type: ignore[attr-defined]  # given once, then forgotten

    learner = Batch("count_tokens", tokenizer="counting-webui", steps=21)._row_function()  # another batch
    learner.learn([lesson])  # type: ignore[attr-defined]
    counting.calls.clear()
    assert [learner(row) for row in rows] == expected
    # Every piece came from the lesson; only punctuation fused with a comma ("),") is encoded, once per process.
    assert counting.calls and all(not any(char.isalnum() for char in call) for call in counting.calls)
    assert [str(learner(row)) for row in rows] == [str(naiprompt.count_tokens(row)) for row in rows]


def test_a_counter_keeps_no_lessons_until_it_is_told_to() -> None:
    """One process (no learn() call): nothing is kept for others, so memory stays with the caches."""
    counter = Batch("count_tokens")._row_function()
    counter("a, b, c, d")
    assert marshal.loads(counter.lessons()) == {}  # type: ignore[attr-defined]


class RecordingPool(ProcessPoolExecutor):
    """The pool, noting the lessons each task carries (in the parent: nothing of it is pickled)."""

    carried: ClassVar[list[tuple[tuple[int, bytes], ...]]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        RecordingPool.carried.append(args[2])
        return super().submit(fn, *args, **kwargs)


def test_workers_pass_their_lessons_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's lesson goes out with the next tasks; the results stay the one-process results."""
    monkeypatch.setattr(_batch_pool, "ProcessPoolExecutor", RecordingPool)
    RecordingPool.carried.clear()
    rows = [f"tag{n % 97}, other{n % 89}, x{n % 13} y" for n in range(2000)]  # (no digit at the end)
    assert Batch("count_tokens").map(rows, jobs=2, chunk_size=80) == [naiprompt.count_tokens(row) for row in rows]
    carried = RecordingPool.carried
    assert carried[:4] == [(), (), (), ()]  # nothing learned yet when the first tasks go out
    assert all(len(lessons) == 2 for lessons in carried[5:])  # then the last two workers' lessons
    taught = {piece for lessons in carried for _, blob in lessons for piece in marshal.loads(blob)}
    assert {"tag5", " other7", " x12 y"} <= taught
    assert len({pid for lessons in carried for pid, _ in lessons}) == 2  # from both workers


def test_a_lesson_does_not_change_a_result_where_pieces_are_sized_their_own_way() -> None:
    """Lessons carry ints and edge triples only; a piece read by its runs (-1) is not taught."""
    teacher = Batch("count_tokens")._row_function()
    teacher.learn(())  # type: ignore[attr-defined]
    rows = ["a&b, c", "(x:1.2) y!, z", "[a:b:3], c", "café, a", "smile!, long hair"]
    expected = [str(teacher(row)) for row in rows]
    learner = Batch("count_tokens")._row_function()
    learner.learn([teacher.lessons()])  # type: ignore[attr-defined]
    assert [str(learner(row)) for row in rows] == expected == [str(naiprompt.count_tokens(row)) for row in rows]


def test_row_errors_survive_the_fork_path() -> None:
    got = Batch("convert", read="nai", errors="raise").map(["{a}", "a::b::c::", 5], jobs=2, chunk_size=1)
    assert got[0] == "(a:1.05)"
    assert isinstance(got[2], RowError) and got[2].kind == "TypeError"


@pytest.mark.parametrize("negative", [False, True])
def test_a_packed_count_unpacks_to_the_counter_the_row_function_gives(negative: bool) -> None:
    counter = Batch("count_tokens", negative=negative)._row_function()
    rows = [*CAPTIONS[:150], "a, b  ", "a, b\t", " x, y ", "a BREAK b, c", "x AND y, z", "a, b:1.5", "a,"]
    packed = [counter.packed(row) for row in rows]  # type: ignore[attr-defined]
    assert sum(type(value) is int for value in packed) > 50  # many rows go back as one integer
    for want, got in zip(map(counter, rows), _batch_pool.unpack(rows, packed), strict=True):
        assert (str(got), got.count, got.target, got.text) == (str(want), want.count, want.target, want.text)
