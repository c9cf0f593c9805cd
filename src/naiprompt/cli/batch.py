"""``naiprompt batch``: one operation over a whole dataset, on every core.

``naiprompt batch OP [options] INPUT... [-o OUT] [-j N]`` runs OP (convert, apply, count_tokens, budget,
attention, tags, detect) over each INPUT: a caption folder (``*.txt`` beside the images), a ``.jsonl``,
``.csv`` or ``.parquet`` file (the prompt in ``--field``, default ``text``), or a text file with one
prompt per line (``-`` for stdin). Results go to OUT (a folder for caption folders, or a file whose
suffix picks the format), into the caption files themselves with ``--in-place``, or to stdout.

Work is spread over ``-j`` processes (default: every core) in large chunks; a progress bar with rate
and ETA shows on stderr when it is a terminal, and a summary (rows, errors, time) ends the run. A row that
fails does not stop the others: it is listed in ``--errors FILE`` (JSON lines) and makes the exit status
1, unless ``--keep-going``. Usage errors exit with 2.

Example:
    >>> from naiprompt.cli import main
    >>> main(["batch", "convert", "--read", "nai", "-", "-j", "1", "--quiet"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any

from naiprompt.cli._common import Progress

__all__ = ["register", "run"]


class _Intermixed(argparse.ArgumentParser):
    """Options may sit between the inputs (``batch convert a/ --read nai b/``)."""

    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[Any, list[str]]:
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


_OPS = ("convert", "apply", "count_tokens", "budget", "attention", "tags", "detect")


def register(subparsers: Any) -> None:
    """Add the ``batch`` subcommand to the ``naiprompt`` parser.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="naiprompt")
        >>> register(parser.add_subparsers())
        >>> args = parser.parse_args(["batch", "convert", "--read", "nai", "captions/", "-j", "2"])
        >>> args.op, args.inputs, args.jobs
        ('convert', ['captions/'], 2)
    """
    previous = getattr(subparsers, "_parser_class", argparse.ArgumentParser)
    subparsers._parser_class = _Intermixed
    try:
        parser = _add_parser(subparsers)
    finally:
        subparsers._parser_class = previous
    _add_arguments(parser)


def _add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "batch",
        help="run one operation over caption folders, JSONL, CSV, Parquet or lines, on every core",
        description=__doc__.split("\n\nExample:")[0] if __doc__ else None,
        epilog=(
            "examples:\n"
            "  naiprompt batch apply -t underscores -t dedupe -t remove_tags:file=bad.txt dataset/ --in-place\n"
            "  naiprompt batch convert --read nai --write webui prompts.parquet -o webui.parquet\n"
            "  naiprompt batch count_tokens captions.jsonl --field caption -o counts.jsonl\n"
            "  naiprompt batch budget --limit 75 dataset/ --errors over.jsonl"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("op", choices=_OPS, metavar="OP", help=f"the operation: {', '.join(_OPS)}")
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="folders or files ('-': stdin)")
    parser.add_argument("--in", dest="more_inputs", action="append", default=[], metavar="INPUT", help="an input")
    parser.add_argument("-o", "--out", metavar="OUT", help="output folder or file (default: stdout)")
    parser.add_argument("--in-place", action="store_true", help="write results into the caption files")
    parser.add_argument(
        "--format", choices=("folder", "lines", "jsonl", "csv", "parquet"), help="input format (default: by name)"
    )
    parser.add_argument(
        "--out-format", choices=("folder", "lines", "jsonl", "csv", "parquet"), help="output format (default: by name)"
    )
    parser.add_argument("--field", default="text", help="JSONL field / CSV or Parquet column of the prompt (text)")
    parser.add_argument(
        "--out-field", help="field/column for the results (default: --field for convert/apply, else OP)"
    )
    parser.add_argument("--extension", default=".txt", help="caption file extension in folders (.txt)")
    parser.add_argument("--images-only", action="store_true", help="only captions with an image beside them")
    parser.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: every core)")
    parser.add_argument("--chunk-size", type=int, default=5000, metavar="N", help="rows per chunk (5000)")
    parser.add_argument("--errors", metavar="FILE", help="write the failing rows to FILE (JSON lines)")
    parser.add_argument("--keep-going", action="store_true", help="exit 0 even when rows failed")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto", help="progress bar")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary")
    options = parser.add_argument_group("operation options")
    options.add_argument("--read", "--from", dest="read", help="convert: source dialect (webui)")
    options.add_argument("--write", "--to", dest="write", help="convert/apply: target dialect")
    options.add_argument(
        "--on-loss", choices=("warn", "raise", "ignore"), help="convert: what the target cannot express"
    )
    options.add_argument("--decimals", type=int, help="convert: weight decimals (4)")
    options.add_argument("-d", "--dialect", help="dialect of the prompts (webui)")
    options.add_argument("-t", "--transform", action="append", default=[], metavar="SPEC", help="apply: a transform")
    options.add_argument("--limit", type=int, help="budget: the token limit (75)")
    options.add_argument("--steps", type=int, help="count_tokens/budget: sampling steps (20)")
    options.add_argument("--negative", action="store_true", default=None, help="count as negative prompts")
    options.add_argument("--comma-backtrack", type=int, help="WebUI's comma padding backtrack (20)")
    options.add_argument("--emphasis", help="WebUI emphasis mode (original)")
    options.add_argument("--tokenizer", help="tokenizer (webui)")
    parser.set_defaults(func=run)


_OPTION_NAMES = {
    "read": "read",
    "write": "write",
    "on_loss": "errors",
    "decimals": "decimals",
    "dialect": "dialect",
    "limit": "limit",
    "steps": "steps",
    "negative": "negative",
    "comma_backtrack": "comma_backtrack",
    "emphasis": "emphasis",
    "tokenizer": "tokenizer",
}


def _batch_options(args: argparse.Namespace) -> dict[str, Any]:
    from naiprompt.batch import OPERATIONS

    declared = OPERATIONS[args.op]
    options: dict[str, Any] = {}
    for attribute, name in _OPTION_NAMES.items():
        value = getattr(args, attribute)
        if value is None:
            continue
        if name not in declared:
            raise ValueError(f"--{attribute.replace('_', '-')} does not apply to {args.op}")
        options[name] = value
    if args.transform:
        if args.op != "apply":
            raise ValueError(f"--transform does not apply to {args.op}")
        options["transforms"] = list(args.transform)
    return options


def _json_key(key: Any) -> Any:
    if isinstance(key, tuple) and key and hasattr(key[0], "as_posix"):
        return str(key[0])  # a caption file
    if isinstance(key, dict):
        return None  # a JSONL/CSV record: the row number says where
    return key


def run(args: argparse.Namespace) -> int:
    """Run ``naiprompt batch`` with parsed arguments; return the exit status.

    Example:
        >>> from naiprompt.cli import main
        >>> main(["batch", "frobnicate"])  # doctest: +SKIP
        2
    """
    from naiprompt.batch import Batch
    from naiprompt.datasets import open_sink, open_source, process

    inputs = [*args.inputs, *args.more_inputs]
    if not inputs:
        if sys.stdin.isatty():
            print("naiprompt batch: no INPUT given (use '-' for stdin)", file=sys.stderr)
            return 2
        inputs = ["-"]
    if args.in_place and args.out:
        print("naiprompt batch: --in-place and -o exclude each other", file=sys.stderr)
        return 2
    try:
        batch = Batch(args.op, **_batch_options(args))
        sources = [
            open_source(
                path, format=args.format, field=args.field, extension=args.extension, images_only=args.images_only
            )
            for path in inputs
        ]
    except (ValueError, TypeError, KeyError, LookupError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"naiprompt batch: {message}", file=sys.stderr)
        return 2
    except Exception as exc:  # a plugin or dialect error while building the batch
        print(f"naiprompt batch: {exc}", file=sys.stderr)
        return 2
    from naiprompt.datasets import CaptionFolder

    folder_inputs = [source for source in sources if isinstance(source, CaptionFolder)]
    if folder_inputs and not (args.in_place or args.out) and args.op in ("convert", "apply"):
        print("naiprompt batch: a caption folder needs -o OUT or --in-place", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("naiprompt batch: -j must be at least 1", file=sys.stderr)
        return 2
    if args.chunk_size < 1:
        print("naiprompt batch: --chunk-size must be at least 1", file=sys.stderr)
        return 2
    out_field = args.out_field or (args.field if args.op in ("convert", "apply") else args.op)
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    totals = [source.total() for source in sources] if show else [None]
    total = None if any(count is None for count in totals) else sum(count or 0 for count in totals)
    progress = Progress(total, show, unit="rows")
    errors_file = open(args.errors, "w", encoding="utf-8") if args.errors else None  # noqa: SIM115
    failed = 0
    rows = 0
    written = 0
    started = time.perf_counter()

    def on_error(name: str, key: Any, row: Any, error: Any) -> None:
        nonlocal failed
        failed += 1
        if errors_file is not None:
            record = {"input": name, "key": _json_key(key), "row": row if isinstance(row, str) else None}
            record.update({"error": error.message, "kind": error.kind})
            errors_file.write(json.dumps(record, ensure_ascii=False) + "\n")

    try:
        for source in sources:
            out = args.out
            if isinstance(source, CaptionFolder) and out and len(folder_inputs) > 1:
                out = os.path.join(out, os.path.basename(os.path.normpath(source.name)))
            if isinstance(source, CaptionFolder) and not (args.in_place or args.out):
                sink = open_sink("-", source, batch, format="lines", field=out_field)
            else:
                sink = open_sink(out, source, batch, format=args.out_format, field=out_field)
            summary = process(
                batch,
                source,
                sink,
                jobs=args.jobs,
                chunk_rows=args.chunk_size,
                on_chunk=progress.add,
                on_error=on_error,
            )
            rows += summary.rows
            written += summary.written
    except KeyboardInterrupt:
        progress.close()
        print("naiprompt batch: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (OSError, KeyError, ValueError) as exc:
        progress.close()
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"naiprompt batch: {message}", file=sys.stderr)
        return 1
    finally:
        if errors_file is not None:
            errors_file.close()
    progress.close()
    seconds = time.perf_counter() - started
    if not args.quiet:
        rate = rows / seconds if seconds > 0 else 0.0
        print(
            f"naiprompt batch {args.op}: {rows:,} rows, {failed:,} errors, {written:,} written, "
            f"{seconds:.1f} s ({rate:,.0f} rows/s)",
            file=sys.stderr,
        )
    return 1 if failed and not args.keep_going else 0
