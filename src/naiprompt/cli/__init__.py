"""The ``naiprompt`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed ``argparse.Namespace`` and returning the exit status).

Exit status: 0 success, 1 input errors (message on stderr), 2 usage errors,
130 Ctrl-C, 141 a closed output pipe. What every subcommand shares (input flags,
dialect names and aliases) lives in :mod:`naiprompt.cli._common`.

Example:
    >>> from naiprompt.cli import main
    >>> main(["detect", "{masterpiece}, 1girl"])  # doctest: +SKIP
    nai
    0
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from naiprompt.cli._common import EXIT_USAGE, run_guarded, version_text

#: Modules (relative to this package) that contribute subcommands, in help order.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "core",
    "tokens",
    "info",
    "batch",
    "completion",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand.

    Example:
        >>> parser = build_parser()
        >>> parser.prog
        'naiprompt'
    """
    parser = argparse.ArgumentParser(
        prog="naiprompt",
        description="Parse, convert, rewrite and count Stable Diffusion / NovelAI prompts.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'naiprompt COMMAND --help' for a command's options and examples.\n"
        "Shell completion: see 'naiprompt completion --help'.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a subcommand module not written yet
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Example:
        >>> main(["--help"])  # doctest: +SKIP
    """

    def run() -> int:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        status: int = func(args)
        return status

    # A closed pipe (`naiprompt ... | head -c1`) or Ctrl-C ends the command quietly: 141 or 130.
    return run_guarded(run)
