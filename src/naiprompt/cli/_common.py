"""What every ``naiprompt`` subcommand shares: input flags, dialect names, exit statuses.

One grammar for the whole command line:

* Input: PROMPT arguments, ``--in FILE`` (repeatable; ``-`` is standard input; a folder means its
  ``*.txt`` files; a glob pattern its matches), or standard input when neither is given. A file holds
  one prompt per line unless ``--whole`` says it is one prompt.
* Dialect names are case-insensitive and accept the aliases users type (``WebUI``, ``a1111``,
  ``novelai``, ``ComfyUI``, ...); ``auto`` (the default wherever a dialect is read) detects it.
* Exit status: 0 success, 1 an input error or a failed check, 2 a usage error, 130 Ctrl-C,
  141 a closed output pipe (``naiprompt ... | head``), as a shell reports a process ended by SIGPIPE.

Example:
    >>> canonical_dialect("WebUI"), canonical_dialect("novelai"), canonical_dialect("ComfyUI")
    ('webui', 'nai', 'comfy')
    >>> canonical_dialect("Auto") is None
    True
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "Progress",
    "UsageError",
    "add_input_options",
    "canonical_dialect",
    "dialect_aliases",
    "dialect_arg",
    "dialect_names",
    "plain",
    "read_prompts",
    "run_guarded",
    "usage_error",
    "version_text",
]

#: A usage error (bad option value, unknown name): the status argparse uses too.
EXIT_USAGE = 2
#: Ctrl-C: 128 + SIGINT, what a shell reports.
EXIT_INTERRUPTED = 130
#: The reader of standard output went away: 128 + SIGPIPE, what a shell reports.
EXIT_PIPE = 141

class UsageError(Exception):
    """A bad argument value: the command exits with status 2.

    Example:
        >>> str(UsageError("--limit must not be negative"))
        '--limit must not be negative'
    """


def dialect_names() -> list[str]:
    """The registered dialect names (plugins included), sorted.

    Example:
        >>> {"webui", "nai", "nai4"} <= set(dialect_names())
        True
    """
    from naiprompt.dialects import DIALECTS

    return sorted(DIALECTS.names())


def dialect_aliases() -> dict[str, str]:
    """The aliases users may type for the registered dialects (each dialect's ``aliases``), ``{alias: name}``.

    Example:
        >>> dialect_aliases()["forge"], dialect_aliases()["comfyui"]
        ('webui', 'comfy')
    """
    from naiprompt.dialects import dialect_aliases as declared

    return declared()


def canonical_dialect(name: str) -> str | None:
    """The registered dialect a user's NAME means, or None for ``auto`` (detect it).

    A name is any registered dialect or an alias one declares (``Dialect.aliases``), compared
    lower-case with ``_`` and ``.`` read as ``-``. Raises :class:`UsageError` naming the choices
    for an unknown name.

    Example:
        >>> canonical_dialect("A1111"), canonical_dialect("nai_v4")
        ('webui', 'nai4')
        >>> canonical_dialect("sdxl")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        naiprompt.cli._common.UsageError: unknown dialect 'sdxl' (choose from auto, comfy, ...)
    """
    from naiprompt.dialects import dialect_name

    key = name.strip().lower().replace("_", "-").replace(".", "-")
    if key in ("auto", "detect", ""):
        return None
    try:
        return dialect_name(name)
    except LookupError:
        examples: dict[str, str] = {}  # the first alias of each dialect
        for alias, owner in dialect_aliases().items():
            examples.setdefault(owner, alias)
        raise UsageError(
            f"unknown dialect {name!r} (choose from auto, {', '.join(dialect_names())}, "
            f"or an alias such as {', '.join(examples.values())})"
        ) from None


def dialect_arg(name: str) -> str:
    """argparse ``type=`` for dialect options: the canonical name, ``auto``, or exit status 2.

    Example:
        >>> dialect_arg("NovelAI"), dialect_arg("auto")
        ('nai', 'auto')
    """
    try:
        return canonical_dialect(name) or "auto"
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_input_options(
    parser: argparse.ArgumentParser, *, positional: str | None = "?", whole: bool = True
) -> None:
    """Add the shared input flags: PROMPT (``positional`` is its nargs, None for none), ``--in``, ``--whole``.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_input_options(parser, positional="*")
        >>> parser.parse_args(["--in", "a.txt", "--in", "b.txt", "x"]).infiles
        ['a.txt', 'b.txt']
    """
    if positional is not None:
        parser.add_argument(
            "prompts" if positional == "*" else "prompt",
            nargs=positional,
            metavar="PROMPT",
            help="the prompt ('-': standard input); none and no --in: standard input",
        )
    parser.add_argument(
        "--in",
        dest="infiles",
        action="append",
        default=[],
        metavar="FILE",
        help="read prompts from FILE, one per line; repeatable; '-' is standard input, "
        "a folder means its *.txt files, a pattern such as 'prompts/*.txt' its matches",
    )
    if whole:
        parser.add_argument(
            "--whole", action="store_true", help="each file (or standard input) is one prompt, not one per line"
        )


def _expand(source: str) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        return sorted(child for child in path.iterdir() if child.suffix == ".txt" and child.is_file())
    if not path.exists() and glob.has_magic(source):
        matches = sorted(Path(match) for match in glob.glob(source, recursive=True))
        files = [match for match in matches if match.is_file()]
        if not files:
            raise UsageError(f"--in {source}: no file matches")
        return files
    return [path]


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text: {exc}") from exc


def _read_stdin(command: str) -> str:
    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():  # say why nothing happens instead of waiting silently
        end = "Ctrl-Z then Enter" if os.name == "nt" else "Ctrl-D"
        print(
            f"naiprompt {command}: reading prompts from the terminal, one per line; end with {end} "
            "(or give a PROMPT argument or --in FILE)",
            file=sys.stderr,
        )
    return sys.stdin.read()


def _split(label: str, data: str, whole: bool, skip_blank: bool) -> Iterable[tuple[str, str]]:
    if whole:
        yield label, data[:-1] if data.endswith("\n") else data
        return
    for number, line in enumerate(data.splitlines(), 1):
        if skip_blank and not line.strip():
            continue
        yield f"{label}:{number}", line


def read_prompts(
    args: argparse.Namespace,
    *,
    default: list[str] | None = None,
    skip_blank: bool = False,
) -> list[tuple[str, str]]:
    """``[(label, text)]`` for every prompt the shared input flags name, in order.

    The label says where a prompt came from (``argument``, ``<stdin>:3``, ``file.txt:2``) for messages.
    Arguments come first, then each ``--in`` in order; with neither, standard input (or ``default``).

    Example:
        >>> args = argparse.Namespace(prompts=["a, b", "c"], infiles=[], whole=False, command="tokens")
        >>> read_prompts(args)
        [('argument', 'a, b'), ('argument', 'c')]
    """
    command = getattr(args, "command", None) or "naiprompt"
    whole = bool(getattr(args, "whole", False))
    arguments: list[str] = list(getattr(args, "prompts", None) or [])
    single = getattr(args, "prompt", None)
    if single is not None:
        arguments.append(single)
    infiles: list[str] = list(getattr(args, "infiles", None) or [])
    if not arguments and not infiles:
        if default is not None:
            return [("argument", text) for text in default]
        arguments = ["-"]
    out: list[tuple[str, str]] = []
    stdin_used = False
    for text in arguments:
        if text == "-":
            if not stdin_used:
                stdin_used = True
                out.extend(_split("<stdin>", _read_stdin(command), whole, skip_blank))
        else:
            out.append(("argument", text))
    for source in infiles:
        if source == "-":
            if not stdin_used:
                stdin_used = True
                out.extend(_split("<stdin>", _read_stdin(command), whole, skip_blank))
            continue
        for path in _expand(source):
            out.extend(_split(str(path), _read_file(path), whole, skip_blank))
    return out


def _silence_stdout() -> None:
    """Point stdout at the null device so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (captured output in tests)
        pass


def run_guarded(func: Callable[[], int], *, flush: bool = True) -> int:
    """Run ``func``; a closed output pipe gives 141 and Ctrl-C 130, quietly (no traceback).

    Example:
        >>> run_guarded(lambda: 0)
        0
    """
    try:
        status = func()
        if flush:
            sys.stdout.flush()
    except BrokenPipeError:  # `naiprompt ... | head -1`
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end the line the ^C was echoed on; no traceback
        return EXIT_INTERRUPTED
    return status


def usage_error(parser: argparse.ArgumentParser, command: str, exc: BaseException) -> int:
    """Print the usage line and ``naiprompt COMMAND: error: ...``; return 2.

    Example:
        >>> import contextlib, io
        >>> with contextlib.redirect_stderr(io.StringIO()) as err:
        ...     usage_error(argparse.ArgumentParser(prog="naiprompt x"), "x", UsageError("bad"))
        2
        >>> err.getvalue().splitlines()[-1]
        'naiprompt x: error: bad'
    """
    parser.print_usage(sys.stderr)
    print(f"naiprompt {command}: error: {exc}", file=sys.stderr)
    return EXIT_USAGE


def version_text() -> str:
    """``naiprompt X.Y.Z`` for ``--version``.

    Example:
        >>> version_text().startswith("naiprompt ")
        True
    """
    import naiprompt

    return f"naiprompt {getattr(naiprompt, '__version__', 'unknown')}"


def plain(text: str) -> str:
    """Help text without reStructuredText markup: ``x`` for ````x````, no ``:func:`` roles.

    Example:
        >>> plain("``--limit N`` exits with :func:`budget`")
        '--limit N exits with budget'
    """
    import re

    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


class Progress:
    """``[#####.....]  45% 12,345/27,000 rows  3,456 rows/s  ETA 0:04`` on one line of ``stream``.

    Shared by every subcommand that works through many inputs; silent when ``enabled`` is false
    (``--progress auto`` enables it only when stderr is a terminal). Redraws at most ten times a second.

    Example:
        >>> import io
        >>> stream = io.StringIO()
        >>> bar = Progress(4, True, unit="prompts", stream=stream)
        >>> bar.update(4)
        >>> "4/4 prompts" in stream.getvalue()
        True
    """

    def __init__(self, total: int | None, enabled: bool, *, unit: str = "rows", stream: IO[str] | None = None) -> None:
        self.total = total
        self.enabled = enabled and total != 0
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.started = time.perf_counter()
        self._last = float("-inf")

    def add(self, count: int) -> None:
        """Count ``count`` more items done."""
        self.update(self.done + count)

    def update(self, done: int) -> None:
        """Set the number of items done and redraw (throttled; the last item always shows)."""
        self.done = done
        if not self.enabled:
            return
        now = time.perf_counter()
        finished = self.total is not None and done >= self.total
        if now - self._last < 0.1 and not finished:
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        if self.total:
            fraction = min(done / self.total, 1.0)
            filled = int(fraction * 30)
            eta = (self.total - done) / rate if rate > 0 else 0.0
            line = (
                f"[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {done:,}/{self.total:,} {self.unit}"
                f"  {rate:,.0f} {self.unit}/s  ETA {clock(eta)}"
            )
        else:
            line = f"{done:,} {self.unit}  {rate:,.0f} {self.unit}/s"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line."""
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def clock(seconds: float) -> str:
    """``seconds`` as ``M:SS`` or ``H:MM:SS``.

    Example:
        >>> clock(75), clock(3725)
        ('1:15', '1:02:05')
    """
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
