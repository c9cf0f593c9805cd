"""``naiprompt tokens``: WebUI's token counter, a per-chunk view and budget checks.

For each prompt it prints the counter as WebUI shows it ("63/75") and the chunks the prompt is cut into,
with tag boundaries visible (colours on a terminal, plain text when piped). Tags cut in two by a chunk
boundary are marked with ✂. --limit N exits with status 1 when a prompt is over N tokens and names
the tags past the limit, --json prints one JSON object per prompt and line, --brief only the counters.

Prompts come from the arguments, from --in FILE (one prompt per line, repeatable; '-' for stdin, folders
and patterns too) or from stdin when neither is given; large inputs get a progress bar on stderr (on a
terminal). The dialect is detected per prompt unless --dialect names it, so a NovelAI prompt is counted
the way NovelAI's brackets mean.

Example:
    >>> from naiprompt.cli import main
    >>> main(["tokens", "--brief", "masterpiece, best quality"])
    4/75
    0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from naiprompt.cli._common import (
    Progress,
    UsageError,
    add_input_options,
    dialect_arg,
    plain,
    read_prompts,
    usage_error,
)

if TYPE_CHECKING:
    from naiprompt.tokens.api import Budget, TagSpan

__all__ = ["register", "run"]

#: Inputs with at least this many prompts get a progress bar (when stderr is a terminal).
PROGRESS_THRESHOLD = 200

_RESET = "\x1b[0m"
_TAG_COLOURS = ("\x1b[36m", "\x1b[33m")  # cyan, yellow, alternating
_CUT = "\x1b[1;31m"  # bold red: a tag cut by a chunk boundary
_DIM = "\x1b[2m"
_BAD = "\x1b[1;31m"
_GOOD = "\x1b[32m"


def register(subparsers: Any) -> None:
    """Add the ``tokens`` subcommand to the ``naiprompt`` parser.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="naiprompt")
        >>> register(parser.add_subparsers())
        >>> parser.parse_args(["tokens", "--limit", "75", "a cat"]).limit
        75
    """
    parser = subparsers.add_parser(
        "tokens",
        help="count CLIP tokens as WebUI does; per-chunk view and budget checks",
        description=plain(__doc__.split("\n\nExample:")[0]) if __doc__ else None,
        epilog=(
            "examples:\n"
            '  naiprompt tokens "masterpiece, best quality, (1girl:1.2), BREAK, smile"\n'
            "  naiprompt tokens --limit 75 --json --in prompts.txt  # exit 1 when one is over\n"
            '  echo "{{smile}}, [blurry]" | naiprompt tokens -     # detected as NovelAI: 3/75'
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_options(parser, positional="*")
    # The flag of earlier releases, kept working: the same list as --in.
    parser.add_argument("-f", "--file", dest="infiles", action="append", help=argparse.SUPPRESS)
    parser.add_argument(
        "-d",
        "--dialect",
        type=dialect_arg,
        default="auto",
        help="prompt dialect: webui (a1111), nai (novelai), nai4, comfy (comfyui), mixed; any case; "
        "default auto: detected",
    )
    parser.add_argument(
        "-n", "--negative", action="store_true", help="count as a negative prompt (no AND split)"
    )
    parser.add_argument("--steps", type=int, default=20, help="sampling steps for prompt editing (20)")
    parser.add_argument(
        "--comma-backtrack",
        type=int,
        default=20,
        metavar="N",
        help="WebUI's comma padding backtrack, 0..74 (20)",
    )
    parser.add_argument(
        "--emphasis",
        default="original",
        type=_emphasis_name,
        choices=_EmphasisChoices(),
        help="WebUI emphasis mode: original (default), no_norm, ignore, none",
    )
    parser.add_argument(
        "--tokenizer",
        default=None,
        help="tokenizer: the dialect's (webui, WebUI's CLIP, for the built-ins), openai, or a plugin's name",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="exit with status 1 if a prompt is over N tokens (shown against the tokenizer's window, 75 for CLIP)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per prompt and line")
    output.add_argument("--brief", action="store_true", help="only the counter of each prompt")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the chunk view (auto: on a terminal, unless NO_COLOR is set)",
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help=f"progress bar on stderr (auto: {PROGRESS_THRESHOLD}+ prompts, output redirected, a terminal)",
    )
    parser.set_defaults(func=run, parser=parser)


class _EmphasisChoices:
    """The emphasis registry's names, read only when argparse checks or lists them (not at every start)."""

    def __iter__(self) -> Iterator[str]:
        from naiprompt.tokens.emphasis import emphasis_names

        return iter(emphasis_names())

    def __contains__(self, name: object) -> bool:
        return name in list(self)


def _emphasis_name(text: str) -> str:
    """A registered name or alias ("No norm", "A1111") as its canonical name; anything else as typed."""
    from naiprompt.tokens.emphasis import get_emphasis

    try:
        return get_emphasis(text).name
    except ValueError:
        return text.lower()  # argparse's choices check reports it


def _inputs(args: argparse.Namespace) -> list[str]:
    # Blank lines of a file are not prompts (WebUI would count them as 0/75).
    return [text for _label, text in read_prompts(args, skip_blank=not args.whole)]


def _use_colour(choice: str, stream: IO[str]) -> bool:
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _paint(text: str, colour: str, on: bool) -> str:
    return f"{colour}{text}{_RESET}" if on else text


def _tags_in_chunk(report: Budget, index: int) -> list[TagSpan]:
    return [tag for tag in report.tags if tag.first_chunk <= index <= tag.last_chunk]


def _short(text: str, width: int = 48) -> str:
    """Shorten long tags in the middle so that chunk lines stay readable."""
    if len(text) <= width:
        return text
    half = (width - 3) // 2
    return f"{text[:half].rstrip()} … {text[-half:].lstrip()}"


def _tag_label(tag: TagSpan, index: int) -> str:
    label = _short(tag.text) if tag.text else "∅"
    if not tag.straddles:
        return f"{label} ({len(tag.tokens)})"
    # A cut tag's tokens sit at contiguous positions (a hard cut leaves no padding between them).
    window = tag.window
    here = min(tag.end, (index + 1) * window) - max(tag.start, index * window)
    before = "✂ " if index > tag.first_chunk else ""
    after = " ✂" if index < tag.last_chunk else ""
    return f"{before}{label} ({here} of {len(tag.tokens)}){after}"


def _chunk_view(report: Budget, colour: bool) -> Iterator[str]:
    order = {id(tag): number for number, tag in enumerate(report.tags)}
    for index, length in enumerate(report.chunk_lengths):
        padding = report.window - length
        head = f"chunk {index + 1}: {length} token{'s' if length != 1 else ''}"
        if padding and index < len(report.chunks) - 1:
            head += _paint(f" + {padding} padding", _DIM, colour)
        yield head
        labels = []
        for tag in _tags_in_chunk(report, index):
            text = _tag_label(tag, index)
            tint = _CUT if tag.straddles else _TAG_COLOURS[order[id(tag)] % 2]
            labels.append(_paint(text, tint, colour))
        if labels:
            yield "  " + (" | " if not colour else "  ").join(labels)


def _render(report: Budget, prompt: str, args: argparse.Namespace, colour: bool, many: bool) -> str:
    counter = f"{report.count}/{report.target}"
    if args.brief:
        return f"{counter}\t{prompt}" if many else counter
    lines = []
    status = ""
    if args.limit is not None:
        status = (
            _paint(f"  over the limit of {args.limit} by {report.over}{_past(report)}", _BAD, colour)
            if not report.ok
            else _paint(f"  within the limit of {args.limit}", _GOOD, colour)
        )
    lines.append(counter + status)
    if many:
        lines.append(_paint(prompt, _DIM, colour))
    lines.extend(_chunk_view(report, colour))
    if report.straddling:
        cut = ", ".join(tag.text for tag in report.straddling)
        lines.append(_paint(f"cut by a chunk boundary: {cut}", _CUT, colour))
    return "\n".join(lines)


def _past(report: Budget) -> str:
    """``": past it: tag, tag"``: the tags with a token beyond the limit."""
    past = [tag.text or "∅" for tag in report.tags if tag.end > report.limit]
    return f": past it: {', '.join(past)}" if past else ""


def _record(report: Budget, prompt: str) -> dict[str, Any]:
    record: dict[str, Any] = {"prompt": prompt}
    record.update(report.to_dict())
    record["past_limit"] = [tag.text for tag in report.tags if tag.end > report.limit]
    record["chunk_lengths"] = list(report.chunk_lengths)
    return record


def run(args: argparse.Namespace) -> int:
    """Run ``naiprompt tokens``; 0 ok, 1 input error or over the limit, 2 usage error.

    Example:
        >>> from naiprompt.cli import main
        >>> main(["tokens", "--brief", "--limit", "3", "a b c d"])
        4/75
        1
    """
    from naiprompt import defaults
    from naiprompt.api import detect
    from naiprompt.dialects import get_dialect
    from naiprompt.tokens.api import budget
    from naiprompt.tokens.chunking import backtrack_limit
    from naiprompt.tokens.registry import get_tokenizer

    parser = getattr(args, "parser", None) or argparse.ArgumentParser(prog="naiprompt tokens")
    try:
        name = args.tokenizer
        if name is None:  # the dialect's own (Dialect.tokenizer); detected dialects: the default one
            explicit = args.dialect not in (None, "auto")
            name = get_dialect(args.dialect).tokenizer if explicit else defaults.TOKENIZER
        tokenizer = get_tokenizer(name)
    except LookupError as exc:  # unknown tokenizer, or a plugin that fails to load: a usage error
        print(f"naiprompt tokens: {exc}", file=sys.stderr)
        return 2
    try:
        # The limits are the tokenizer's: its window (75 for CLIP) bounds the comma backtrack.
        if not 0 <= args.comma_backtrack <= backtrack_limit(tokenizer.window):
            raise UsageError(f"--comma-backtrack must be in 0..{backtrack_limit(tokenizer.window)}")
        if args.limit is not None and args.limit < 0:
            raise UsageError("--limit must not be negative")
        if args.steps < 1:
            raise UsageError("--steps must be at least 1")
        prompts = _inputs(args)
    except UsageError as exc:
        return usage_error(parser, "tokens", exc)
    colour = _use_colour(args.color, sys.stdout)
    many = len(prompts) > 1
    # On "auto" the bar only appears when stdout is redirected, so that it never mixes with the output.
    show_progress = args.progress == "always" or (
        args.progress == "auto"
        and len(prompts) >= PROGRESS_THRESHOLD
        and sys.stderr.isatty()
        and not sys.stdout.isatty()
    )
    progress = Progress(len(prompts), show_progress, unit="prompts")
    status = 0
    out: Sequence[str]
    try:
        for number, prompt in enumerate(prompts, start=1):
            try:
                report = budget(
                    prompt,
                    limit=args.limit,
                    dialect=detect(prompt) if args.dialect in (None, "auto") else args.dialect,
                    steps=args.steps,
                    negative=args.negative,
                    comma_backtrack=args.comma_backtrack,
                    emphasis=args.emphasis,
                    tokenizer=tokenizer,
                )
            except LookupError as exc:  # unknown dialect: a usage error
                progress.close()
                print(f"naiprompt tokens: {exc}", file=sys.stderr)
                return 2
            except (ValueError, ImportError) as exc:
                where = f"prompt {number}: " if many else ""
                progress.close()
                print(f"naiprompt tokens: {where}{exc}", file=sys.stderr)
                status = 1
                continue
            if args.json:
                out = [json.dumps(_record(report, prompt), ensure_ascii=False)]
            else:
                out = [_render(report, prompt, args, colour, many)]
                if many and not args.brief:
                    out.append("")
            for line in out:
                print(line)
            if args.limit is not None and not report.ok:
                status = 1
            progress.update(number)
    finally:
        progress.close()
    return status
