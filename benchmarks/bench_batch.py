"""Rows per second of the batch API against a per-call loop, on captions built from danbooru and e621 tags.

Run from the repository root (needs ../shared/data; pyarrow and dask[distributed] for the last parts)::

    python benchmarks/bench_batch.py [--rows 200000] [--repeat 3] [--parquet-mb 2048] [--skip-dask]
                                     [--ops convert,apply]

Corpus: ``--rows`` captions of 8 to 30 tags, drawn from the danbooru and e621 tag lists weighted by post
count (so popular tags repeat, as in real datasets), with NovelAI emphasis on some tags (``{tag}``,
``{{tag}}``, ``[tag]``) and underscores or spaces. Three operations:

* **convert**: NovelAI to WebUI (``naiprompt.convert(row, "nai", "webui")``);
* **count_tokens**: ``str(naiprompt.count_tokens(row))`` on the WebUI form of the captions;
* **apply**: ``underscores``, ``dedupe``, ``remove_tags``, rendered to WebUI.

Each runs as the per-call loop, one cold ``Batch`` in this process, ``Batch.map(jobs=2)`` (two worker
processes, chunks of 5,000 rows), and ``naiprompt.dask.map_prompts`` on a Dask ``LocalCluster`` with two worker
processes (cluster start and loading the rows onto the workers not timed; the cluster runs after the
other modes, so that its idle processes do not share the cores with ``-j 2``, and one Batch is timed
again beside it). Every mode's results are checked equal to the loop's. Each mode runs ``--repeat`` times
(cold caches and fresh workers each time); the table shows medians: of rows per second, and of each ratio
taken within one repeat (against the loop for Batch, against one Batch for processes and Dask). The load
average is printed before and after, and the hypervisor's steal during one Batch and ``-j 2``: on a busy
machine the ratios of processes mean little.

Memory: a Parquet file of about ``--parquet-mb`` MB (uncompressed text, row groups of 50,000 rows) is
written to a temporary folder and streamed through ``naiprompt batch convert`` in a child process; its peak
resident memory is reported (the target is under 300 MB whatever the file size).
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "src"))

import naiprompt  # noqa: E402
from naiprompt.batch import Batch  # noqa: E402

APPLY_SPECS = ["underscores", "dedupe", "remove_tags:tags=watermark|signature|artist name"]


def load_tags() -> tuple[list[str], list[int]]:
    names: list[str] = []
    weights: list[int] = []
    for name in ("danbooru.csv", "e621.csv"):
        with (SHARED / "data" / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if len(row) >= 3 and row[0] and row[2].isdigit():
                    names.append(row[0])
                    weights.append(int(row[2]))
    return names, weights


def make_captions(count: int, seed: int = 12) -> list[str]:
    names, weights = load_tags()
    cumulative = list(itertools.accumulate(weights))  # once: choices() would sum 240k weights per caption
    rng = random.Random(seed)
    captions: list[str] = []
    for _ in range(count):
        tags = rng.choices(names, cum_weights=cumulative, k=rng.randint(8, 30))
        out: list[str] = []
        for tag in tags:
            if rng.random() < 0.3:
                tag = tag.replace("_", " ")
            roll = rng.random()
            if roll < 0.08:
                tag = "{" + tag + "}"
            elif roll < 0.12:
                tag = "{{" + tag + "}}"
            elif roll < 0.15:
                tag = "[" + tag + "]"
            out.append(tag)
        captions.append(", ".join(out))
    return captions


def timed(function: Callable[[], Any], steal: list[float] | None = None) -> tuple[float, Any]:
    """Seconds and result of ``function()``; the share of the machine's CPU time the hypervisor took
    meanwhile (steal, from ``/proc/stat``) is appended to ``steal`` where the system tells it."""
    before = cpu_ticks()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    after = cpu_ticks()
    if steal is not None and before is not None and after is not None and after[1] > before[1]:
        steal.append((after[0] - before[0]) / (after[1] - before[1]))
    return seconds, result


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, all) CPU ticks since boot, summed over the cores; None where /proc/stat is missing.

    On a shared virtual machine the host may run other guests on "our" cores: that time is steal. Two
    processes need both cores, one needs one, so steal weighs on ``-j 2`` more than on one ``Batch``.
    """
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    ticks = [int(field) for field in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7] if len(ticks) == 8 else 0, sum(ticks)


def plain(results: list[Any]) -> list[Any]:
    return [str(r) if isinstance(r, str) else r for r in results]


def forget_batches() -> None:
    """Drop the batches a worker keeps between tasks, so each repeat starts cold."""
    import naiprompt.batch

    naiprompt.batch._LIVE.clear()


Op = tuple[str, Callable[[str], Any], Batch, list[str], dict[str, Any]]


def run_ops(captions: list[str], skip_dask: bool, only: set[str], repeat: int) -> list[list[str]]:
    webui = Batch("convert", read="nai", write="webui").map(captions, jobs=2)
    ops: list[Op] = [
        (
            "convert",
            lambda row: naiprompt.convert(row, "nai", "webui"),
            Batch("convert", read="nai", write="webui"),
            captions,
            {"read": "nai", "write": "webui"},
        ),
        ("count_tokens", lambda row: str(naiprompt.count_tokens(row)), Batch("count_tokens"), webui, {}),
        (
            "apply",
            lambda row: naiprompt.render(naiprompt.apply(row, *APPLY_SPECS, dialect="nai"), "webui"),
            Batch("apply", transforms=APPLY_SPECS, dialect="nai", write="webui"),
            captions,
            {"transforms": APPLY_SPECS, "dialect": "nai", "write": "webui"},
        ),
    ]
    ops = [op for op in ops if not only or op[0] in only]
    print(f"medians of {repeat} repeats (rows per second, and each ratio taken within one repeat)")
    print(f"{'op':<13}{'loop r/s':>10}{'Batch r/s':>11}{'x loop':>8}{'-j 2 r/s':>10}{'x Batch':>9}")
    # Two phases: the Dask cluster starts only after the processes have been measured (its idle worker
    # processes and the scheduler in this process would share the two cores with the -j 2 workers).
    table = {op[0]: processes(op, repeat) for op in ops}
    if not skip_dask:
        print(f"\n{'op':<13}{'Batch r/s':>11}{'Dask r/s':>10}{'x Batch':>9}   (a Dask LocalCluster of 2 workers)")
        for op, cells in zip(ops, dask_cluster(ops, repeat), strict=True):
            table[op[0]] += cells
    return list(table.values())


def processes(op: Op, repeat: int) -> list[str]:
    """The loop, one Batch and -j 2 for one operation: its printed line and its cells of the table."""
    name, per_call, batch, rows, _ = op
    seconds: dict[str, list[float]] = {"loop": [], "batch": [], "jobs": []}
    steal: dict[str, list[float]] = {"batch": [], "jobs": []}
    for _ in range(repeat):
        loop_s, expected = timed(lambda: [per_call(row) for row in rows])
        fresh = Batch(batch.op, **dict(batch.options))  # cold caches
        batch_s, got = timed(functools.partial(fresh, rows), steal["batch"])
        assert plain(got) == expected, name
        # Fresh workers each time (a new pool), so their caches are cold too; a new Batch all the same
        # (nothing of the one-process run's warm caches may reach the processes).
        again = Batch(batch.op, **dict(batch.options))
        jobs_s, got = timed(functools.partial(again.map, rows, jobs=2), steal["jobs"])
        assert plain(got) == expected, name
        seconds["loop"].append(loop_s)
        seconds["batch"].append(batch_s)
        seconds["jobs"].append(jobs_s)
    rate = {mode: len(rows) / statistics.median(times) for mode, times in seconds.items()}
    by_loop = statistics.median(a / b for a, b in zip(seconds["loop"], seconds["batch"], strict=True))
    by_jobs = statistics.median(a / b for a, b in zip(seconds["batch"], seconds["jobs"], strict=True))
    stolen = ""
    if steal["batch"] and steal["jobs"]:
        stolen = f"; steal {statistics.median(steal['batch']):.0%} and {statistics.median(steal['jobs']):.0%}"
    print(
        f"{name:<13}{rate['loop']:>10,.0f}{rate['batch']:>11,.0f}{by_loop:>8.2f}{rate['jobs']:>10,.0f}{by_jobs:>9.2f}",
        f"  (per repeat: Batch r/s {spread(rows, seconds['batch'])}; -j 2 r/s {spread(rows, seconds['jobs'])}{stolen})",
        flush=True,
    )
    rates = [f"{rate[mode]:,.0f}" for mode in ("loop", "batch", "jobs")]
    return [name, rates[0], rates[1], f"{by_loop:.2f}", rates[2], f"{by_jobs:.2f}"]


def dask_cluster(ops: list[Op], repeat: int) -> list[list[str]]:
    """One Batch and ``map_prompts`` on a two-worker LocalCluster, per operation: the Dask cells of each."""
    import dask.bag as db
    import distributed

    from naiprompt.dask import map_prompts

    cells: list[list[str]] = []
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as cluster, distributed.Client(cluster) as client:
        client.run(warnings.simplefilter, "ignore")  # lossy conversions warn in the workers too
        for name, per_call, batch, rows, options in ops:
            expected = [per_call(row) for row in rows]
            seconds: dict[str, list[float]] = {"batch": [], "dask": []}
            for _ in range(repeat):
                fresh = Batch(batch.op, **dict(batch.options))
                batch_s, got = timed(functools.partial(fresh, rows))
                assert plain(got) == expected, name
                client.run(forget_batches)  # cold caches: no batch kept from the last repeat
                # The rows are on the workers before the clock starts (persist() alone returns at once).
                bag = db.from_sequence(rows, partition_size=10_000).persist()
                distributed.wait(bag)
                dask_s, got = timed(
                    lambda bag=bag, name=name, options=options: map_prompts(bag, name, **options).compute()
                )
                assert plain(got) == expected, name
                seconds["batch"].append(batch_s)
                seconds["dask"].append(dask_s)
            rate = {mode: len(rows) / statistics.median(times) for mode, times in seconds.items()}
            ratio = statistics.median(a / b for a, b in zip(seconds["batch"], seconds["dask"], strict=True))
            print(f"{name:<13}{rate['batch']:>11,.0f}{rate['dask']:>10,.0f}{ratio:>9.2f}", flush=True)
            cells.append([f"{rate['dask']:,.0f}", f"{ratio:.2f}"])
    return cells


def spread(rows: list[str], seconds: list[float]) -> str:
    return ", ".join(f"{len(rows) / t:,.0f}" for t in seconds)


def markdown(table: list[list[str]]) -> str:
    """The rows per second and ratios as the Markdown table of docs/datasets.md."""
    head = ["op", "per-call loop", "one `Batch`", "× loop", "`-j 2`", "× Batch", "Dask, 2 workers", "× Batch"]
    width = max(len(cells) for cells in table) if table else 6
    lines = ["| " + " | ".join(head[:width]) + " |", "|---" + "|---:" * (width - 1) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in table]
    return "\n".join(lines)


def parquet_memory(megabytes: float, captions: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.parquet"
        target = int(megabytes * 1024 * 1024)
        group = (captions * (50_000 // max(len(captions), 1) + 1))[:50_000]
        table = pa.table({"text": group})
        rows = 0
        with pq.ParquetWriter(path, table.schema, compression="none", use_dictionary=False) as writer:
            while path.stat().st_size < target if path.exists() else True:
                writer.write_table(table)
                rows += len(group)
                if rows * 200 > target * 4:  # a guard against a filesystem that reports no size
                    break
        size = path.stat().st_size
        command = [sys.executable, "-m", "naiprompt", "batch", "convert", "--read", "nai", str(path)]
        command += ["-o", os.devnull, "--out-format", "lines", "-j", "1", "-q"]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        # A fresh parent whose only child is the command: RUSAGE_CHILDREN here would also count the
        # worker processes of the earlier modes.
        probe = (
            "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        seconds, done = timed(
            lambda: subprocess.run(
                [sys.executable, "-c", probe, *command], check=True, env=env, capture_output=True, text=True
            )
        )
        peak_kb = int(done.stdout.split()[-1])
        print(
            f"parquet stream: {size / 1e6:,.0f} MB, {rows:,} rows, {seconds:.1f} s, "
            f"peak resident {peak_kb / 1024:,.0f} MB (target < 300 MB)"
        )


def load() -> str:
    """The 1-minute load average: the ratios of processes mean little on a busy machine."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover - not on Unix
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--parquet-mb", type=float, default=2048.0, help="size of the streamed file (0: skip)")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--ops", default="", help="comma-separated subset of convert,count_tokens,apply")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per mode; medians are reported")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # lossy conversions warn; the modes are compared on their results
    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.platform()}")
    print(f"{os.cpu_count()} cores; {args.rows:,} captions; load average {load()} (busy when above 0.5)")
    captions = make_captions(args.rows)
    table = run_ops(captions, args.skip_dask, {op for op in args.ops.split(",") if op}, max(args.repeat, 1))
    print(f"load average after: {load()}\n\n{markdown(table)}\n", flush=True)
    if args.parquet_mb > 0:
        parquet_memory(args.parquet_mb, captions[:50_000])


if __name__ == "__main__":
    main()
