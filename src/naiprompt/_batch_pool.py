"""``Batch.map`` and ``Batch.imap`` over worker processes.

Three things make ``N`` processes close to ``N`` times one:

* **Rows that need not travel.** Where the pool forks (Linux's default start method), the workers of
  :func:`map_rows` inherit the caller's list of rows: a task is two numbers, not a pickled chunk, and the
  parent spends no time pickling 50 MB of captions or pushing them through pipes. A stream
  (:func:`imap_chunks`, or any start method that does not fork) sends its chunks to the workers.
* **Results that need not travel whole.** A token counter whose text is its row goes back as one
  integer (the row function's ``packed`` form: the worker never builds the counter) and is built by
  :func:`unpack` in the parent, which holds the rows.
* **Lessons.** An operation whose row function keeps what it learns in a form another process can use
  (``row.lessons()`` / ``row.learn(blobs)``: ``count_tokens``'s piece sizes) sends it back with each
  result; the parent passes it on, unread, with the next tasks, so a tag one worker sized is not sized
  again by the others. What is learned is what the other worker would compute from the same batch and
  the same piece, so results do not depend on which worker got which lesson, or whether it got any.

Example:
    >>> from naiprompt.batch import Batch
    >>> list(imap_chunks(Batch("detect"), [["{a}"], ["(a:1.2)"]], workers=2))
    [['nai'], ['webui']]
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from naiprompt.batch import Batch

__all__ = ["chunked", "imap_chunks", "map_rows", "spans", "unpack"]

#: A lesson: the process that learned it, and what it learned (bytes only the row function reads).
Lesson = tuple[int, bytes]

#: A task's rows: the rows themselves, or a ``(start, stop)`` slice of the rows a forked worker holds.
Rows = list[Any] | tuple[int, int]

#: ``[the caller's rows]`` in a worker forked by :func:`map_rows` (set by :func:`_worker_init`).
_INHERITED: list[Sequence[Any]] = [()]


def map_rows(batch: Batch, rows: Sequence[Any], workers: int, chunk_size: int) -> Iterator[list[Any]]:
    """Results of ``rows`` chunk by chunk, in order, in ``workers`` processes.

    Where the pool forks, the workers read their chunks from ``rows`` itself (inherited, not sent).

    Example:
        >>> from naiprompt.batch import Batch
        >>> [r for chunk in map_rows(Batch("detect"), ["{a}", "a", "(a:2)"], 2, 2) for r in chunk]
        ['nai', 'webui', 'webui']
    """
    if not rows:
        return
    context = multiprocessing.get_context()  # the pool's: the default start method
    if context.get_start_method() != "fork":  # spawn, forkserver: the workers would not inherit the rows
        chunks = (list(rows[start:stop]) for start, stop in spans(len(rows), workers, chunk_size))
        yield from _run(batch, chunks, workers, (), context)
        return
    yield from _run(batch, spans(len(rows), workers, chunk_size), workers, rows, context)


def spans(total: int, workers: int, size: int) -> Iterator[tuple[int, int]]:
    """The ``(start, stop)`` of each task over ``total`` rows: at most ``size`` rows, fewer at both ends.

    The first tasks are an eighth of ``size``, doubling every ``workers`` tasks: the lessons of the first
    rows (the most common tags) reach the other workers before they have sized the same tags themselves.
    Near the end a task is at most a ``2 * workers``-th of what is left, so the workers finish together
    instead of one waiting for the other's last full chunk.

    Example:
        >>> [stop - start for start, stop in spans(100, 2, 16)]
        [2, 2, 4, 4, 8, 8, 16, 14, 11, 8, 6, 5, 3, 3, 2, 2, 2]
    """
    small = max(1, size // 8)
    start = 0
    for task in itertools.count():
        if start >= total:
            return
        step = min(size, small << min(task // workers, 3), max(small, -(-(total - start) // (2 * workers))))
        yield start, min(start + step, total)
        start += step


def imap_chunks(batch: Batch, chunks: Iterable[Sequence[Any]], workers: int) -> Iterator[list[Any]]:
    """Results of each chunk of a stream, in order, computed in ``workers`` processes.

    Example:
        >>> from naiprompt.batch import Batch
        >>> list(imap_chunks(Batch("tags"), [["a, b"]], workers=2))
        [[['a', 'b']]]
    """
    yield from _run(batch, (list(chunk) for chunk in chunks), workers, (), multiprocessing.get_context())


def _run(
    batch: Batch, tasks: Iterable[Rows], workers: int, rows: Sequence[Any], context: BaseContext
) -> Iterator[list[Any]]:
    """The pool loop: at most two tasks per process in flight, so a stream of any length runs in bounded
    memory; each lesson goes out with the next ``workers`` tasks (which process takes a task is the
    pool's choice: that many reach the others)."""
    packs = getattr(batch._row_function(), "packed", None) is not None  # the workers pack: unpack here
    lessons: deque[Lesson] = deque(maxlen=workers)
    with ProcessPoolExecutor(workers, context, initializer=_worker_init, initargs=(rows,)) as pool:
        pending: deque[tuple[Rows, Future[tuple[list[Any], Lesson | None]]]] = deque()
        try:
            for task in tasks:
                pending.append((task, pool.submit(_run_task, batch, task, tuple(lessons))))
                if len(pending) >= 2 * workers:
                    yield _receive(pending.popleft(), rows, packs, lessons)
            while pending:
                yield _receive(pending.popleft(), rows, packs, lessons)
        finally:
            for _, future in pending:
                future.cancel()


def _receive(
    done: tuple[Rows, Future[tuple[list[Any], Lesson | None]]],
    rows: Sequence[Any],
    packs: bool,
    lessons: deque[Lesson],
) -> list[Any]:
    task, future = done
    results, lesson = future.result()
    if lesson is not None:
        lessons.append(lesson)
    if not packs:
        return results
    return unpack(rows[task[0] : task[1]] if type(task) is tuple else task, results)


def _worker_init(rows: Sequence[Any]) -> None:
    """Keep the caller's rows (inherited through fork, never pickled); leave Ctrl-C to the parent, which
    stops the workers (no traceback from every process)."""
    import signal

    _INHERITED[0] = rows
    # What a forked worker inherited (the caller's rows, results, caches: millions of objects in a big
    # job) is left out of its cycle collections: a full collection would walk all of it, and writing
    # its marks would copy every page the parent shares with the worker.
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_task(batch: Batch, task: Rows, lessons: tuple[Lesson, ...]) -> tuple[list[Any], Lesson | None]:
    """A worker's results for a task (packed where the row function packs them) and what it learned."""
    rows = _INHERITED[0][task[0] : task[1]] if type(task) is tuple else task
    function = batch._row_function()
    learn = getattr(function, "learn", None)
    if learn is not None:
        me = os.getpid()
        learn(blob for pid, blob in lessons if pid != me)
    packed = getattr(function, "packed", None)
    results = batch(rows) if packed is None else _packed(batch, packed, rows)
    lesson = (os.getpid(), function.lessons()) if learn is not None else None  # type: ignore[attr-defined]
    return results, lesson


def _packed(batch: Batch, packed: Callable[[str], Any], rows: Sequence[Any]) -> list[Any]:
    """Each row's result in the row function's packed form: an integer stands for a token counter of the
    row (see :func:`unpack`), so none is built here only to be taken apart; a failing row, or one that is
    not a string, gets what :meth:`Batch.row` gives it."""
    seen: dict[str, Any] = {}  # rows repeated in this task
    out: list[Any] = []
    append = out.append
    for row in rows:
        if type(row) is str:
            value = seen.get(row)
            if value is None:
                try:
                    value = seen[row] = packed(row)
                except Exception:
                    value = batch.row(row)  # its RowError, as one process gives it
            append(value)
        else:
            append(batch.row(row))
    return out


#: count -> (its counter text, its target) in the packed counters' window, for :func:`unpack`.
_LABELS: dict[int, tuple[str, int]] = {}


def unpack(rows: Sequence[Any], packed: list[Any]) -> list[Any]:
    """``count_tokens`` results from a worker: an integer stands for a counter of its row (see :func:`_packed`).

    Example:
        >>> [str(counter) for counter in unpack(["a, b ", "c"], [7, 2])]
        ['3/75', '1/75']
    """
    from naiprompt._batch_count import PACKED_WINDOW, target
    from naiprompt.batch import TokenCounter

    # The parent shares the cores with its workers: this loop is kept lean (no call per row to
    # TokenCounter(), the counter texts made once per count).
    new, labels = str.__new__, _LABELS
    if len(labels) > 4096:
        labels.clear()
    out: list[Any] = []
    append = out.append
    collecting = gc.isenabled()
    gc.disable()  # a cycle collection per 700 counters, none of which can be in a cycle: a third of the time
    try:
        for row, value in zip(rows, packed, strict=True):
            if type(value) is int:
                count = value >> 1
                label = labels.get(count)
                if label is None:
                    goal = target(count, PACKED_WINDOW)
                    label = labels[count] = (f"{count}/{goal}", goal)
                counter = new(TokenCounter, label[0])
                counter.count, counter.target = count, label[1]
                counter.text = row.rstrip() if value & 1 else row
                append(counter)
            else:
                append(value)
    finally:
        if collecting:
            gc.enable()
    return out


def chunked(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last one shorter).

    Example:
        >>> list(chunked(range(5), 2))
        [[0, 1], [2, 3], [4]]
    """
    if size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {size}")
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):  # (not a loop per row: -j's parent is busy)
        yield chunk
