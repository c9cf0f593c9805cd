"""The core subcommands: parse, render/fmt, convert, detect, step, apply, size.

Prompts come from PROMPT arguments, from ``--in FILE`` (repeatable; folders and
glob patterns too) or from standard input (``-`` or nothing given); input from
stdin or a file is one prompt per line unless ``--whole`` says the whole input
is one prompt (see :mod:`naiprompt.cli._common`). ``--json`` prints one JSON
document per prompt (one per line). Exit status: 0 success, 1 an input error
(message with a caret on stderr; the other prompts are still processed), 2 usage.

Example:
    >>> from naiprompt.cli import main
    >>> main(["convert", "--from", "nai", "--to", "webui", "{{smile}}"])  # doctest: +SKIP
    (smile:1.1025)
    0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import attrs

from naiprompt import defaults
from naiprompt._plugins import PluginError
from naiprompt.ast import Node, Prompt
from naiprompt.cli._common import UsageError, add_input_options, dialect_arg, read_prompts, usage_error
from naiprompt.errors import ErrorLevel, PromptError, PromptWarning, warn

__all__ = ["register", "tree_json", "tree_text"]


class _IntermixedParser(argparse.ArgumentParser):
    """Options may come between positionals: ``step 2 -d nai "bad, comic"``."""

    _inner = False

    def parse_known_args(
        self, args: Any = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


# --------------------------------------------------------------------------------------------
# Input and output helpers


def _add_input(parser: argparse.ArgumentParser, *, positional: bool = True) -> None:
    add_input_options(parser, positional="*" if positional else None)
    if not positional:
        parser.add_argument("-p", "--prompt", metavar="PROMPT", help="the prompt; omitted: --in or stdin")


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (one document per prompt)")


def _emit(args: argparse.Namespace, value: Any, text: str | None = None) -> None:
    if getattr(args, "json", False):
        print(json.dumps(value, ensure_ascii=False))
    else:
        print(value if text is None else text)


def _report(label: str, exc: BaseException) -> None:
    where = "" if label == "argument" else f"{label}: "
    print(f"naiprompt: {where}{exc}", file=sys.stderr)


def _each(
    args: argparse.Namespace,
    work: Callable[[str], None],
    *,
    default: list[str] | None = None,
) -> int:
    """Run ``work`` on every prompt; input errors are reported and give status 1."""
    status = 0
    for label, text in read_prompts(args, default=default):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PromptWarning)
            try:
                work(text)
            except (PromptError, ValueError) as exc:
                _report(label, exc)
                status = 1
        for warning in caught:
            if isinstance(warning.message, PromptWarning):
                where = "" if label == "argument" else f"{label}: "
                print(f"naiprompt: {where}warning: {warning_text(warning.message)}", file=sys.stderr)
            else:  # pragma: no cover - not ours, pass it on
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
    return status


def warning_text(warning: PromptWarning) -> str:
    """A warning as the command line prints it: ``line:column: message [code]``.

    Example:
        >>> import naiprompt
        >>> print(warning_text(naiprompt.parse("a\\n(b").warnings[0]))
        2:1: unclosed bracket [unclosed-bracket]
    """
    return f"{warning} [{warning.code}]"


def warning_json(warning: PromptWarning) -> dict[str, Any]:
    """A warning as JSON-ready data (its code, message, position and count).

    Example:
        >>> import naiprompt
        >>> warning_json(naiprompt.parse("(a").warnings[0])["code"]
        'unclosed-bracket'
    """
    return {
        "code": warning.code,
        "message": warning.message,
        "offset": warning.offset,
        "line": warning.line,
        "column": warning.column,
        "count": warning.count,
    }


def _dialect_name(name: str | None, text: str) -> str:
    from naiprompt.api import detect

    if name is None or name == "auto":
        return detect(text)
    return name  # canonical and registered: argparse checked it (dialect_arg)


# --------------------------------------------------------------------------------------------
# Trees as text and JSON


def _field_json(value: Any) -> Any:
    if attrs.has(type(value)):
        return tree_json(value)
    if isinstance(value, tuple):
        return [_field_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def tree_json(node: Node | Prompt) -> dict[str, Any]:
    """A node (or a whole prompt) as JSON-ready data: ``{"type": ..., fields...}``.

    Spans become ``[start, end]``; spelling hints are included; a prompt's
    warnings are listed under ``"warnings"`` (see :func:`warning_json`).

    Example:
        >>> import naiprompt
        >>> tree_json(naiprompt.parse("(a:1.2)"))["body"][0]["weight"]
        1.2
    """
    data: dict[str, Any] = {"type": type(node).__name__}
    for field in attrs.fields(type(node)):
        if field.name in ("source", "warnings"):
            continue
        value = getattr(node, field.name)
        if field.name == "span":
            data["span"] = None if value is None else [value.start, value.end]
        else:
            data[field.name] = _field_json(value)
    if isinstance(node, Prompt):
        data["warnings"] = [warning_json(warning) for warning in node.warnings]
    return data


_OUTLINE_SKIP = frozenset(
    {"type", "span", "body", "before", "after", "options", "raw", "raw_weight", "raw_when"}
)


def tree_text(prompt: Prompt) -> str:
    """An indented outline of a prompt tree.

    Example:
        >>> import naiprompt
        >>> print(tree_text(naiprompt.parse("(a:1.2), b")))
        Prompt (webui)
          Emphasis weight=1.2 notation=explicit
            Text 'a'
          Text ', b'
    """
    lines = [f"Prompt ({prompt.dialect})"]

    def seq(nodes: tuple[Node, ...], depth: int) -> None:
        for node in nodes:
            one(node, depth)

    def one(node: Node, depth: int) -> None:
        pad = "  " * depth
        name = type(node).__name__
        data = tree_json(node)
        if name == "Text":
            lines.append(f"{pad}Text {data['value']!r}")
            return
        scalars = [
            f"{key}={value}"
            for key, value in data.items()
            if key not in _OUTLINE_SKIP
            and value is not None
            and not (key in ("opened", "closed") and value is True)
        ]
        lines.append(" ".join([f"{pad}{name}", *scalars]).rstrip())
        children = getattr(node, "body", None)
        if children is not None:
            seq(children, depth + 1)
        for part in ("before", "after"):
            branch = getattr(node, part, None)
            if branch is not None:
                lines.append(f"{pad}  {part}:")
                seq(branch, depth + 2)
        for index, option in enumerate(getattr(node, "options", ()) or ()):
            lines.append(f"{pad}  option {index + 1}:")
            seq(option, depth + 2)

    seq(prompt.body, 1)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Subcommands


def _cmd_parse(args: argparse.Namespace) -> int:
    from naiprompt.dialects import get_dialect


    def work(text: str) -> None:
        tree = get_dialect(_dialect_name(args.dialect, text)).parse(text, strict=args.strict)
        for note in tree.warnings:  # what the lenient reading guessed, on stderr
            warn(note)
        if args.json:
            _emit(args, tree_json(tree))
        else:
            print(tree_text(tree))

    return _each(args, work)


def _cmd_render(args: argparse.Namespace) -> int:
    from naiprompt.dialects import get_dialect
    from naiprompt.transforms import canonical

    canonical_form = args.canonical or args.command == "fmt"

    def work(text: str) -> None:
        tree = get_dialect(_dialect_name(args.dialect, text)).parse(text, strict=args.strict)
        if canonical_form:
            tree = canonical()(tree)
        out = get_dialect(args.to or tree.dialect).render(tree, errors=ErrorLevel(args.errors))
        _emit(args, out)

    return _each(args, work)


def _cmd_convert(args: argparse.Namespace) -> int:
    from naiprompt.api import convert


    def work(text: str) -> None:
        source = _dialect_name(args.source, text)
        preset = {"nai_preset": args.nai_preset, "negative": args.negative}  # NovelAI's server-side text
        out = convert(text, source, args.to, errors=args.errors, decimals=args.decimals, **preset)
        _emit(args, out)

    return _each(args, work)


def _cmd_detect(args: argparse.Namespace) -> int:
    from naiprompt.api import detect

    return _each(args, lambda text: _emit(args, detect(text)))


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"RATIO must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"RATIO must be a finite number, not {text!r}")
    return value


def _cmd_step(args: argparse.Namespace) -> int:
    from naiprompt.dialects import get_dialect
    from naiprompt.research.step import seed_step, step

    if args.seed_compat:
        try:
            seed_step(args.ratio, tags="x")  # validate the ratio once, as a usage error
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

        def compat(text: str) -> None:
            _emit(args, seed_step(args.ratio, args.full, tags=text))

        # Like the note's script, which reads nothing: its own tag list by default.
        from naiprompt.research.step import SEED_TAGS

        return _each(args, compat, default=[", ".join(SEED_TAGS)])

    value = _ratio(args.ratio)
    try:
        transform = step(value, full=args.full, dialect=None, errors=args.errors)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc

    def work(text: str) -> None:
        dialect = get_dialect(args.dialect or defaults.DIALECT)
        tree = transform(dialect.parse(text))
        _emit(args, dialect.render(tree, errors=ErrorLevel(args.errors)))

    return _each(args, work)


def _cmd_apply(args: argparse.Namespace) -> int:
    from naiprompt.dialects import get_dialect
    from naiprompt.transforms import TRANSFORMS, apply, resolve

    if args.list:
        for name in TRANSFORMS.names():
            print(name)
        return 0
    if not args.transforms:
        raise UsageError("name at least one TRANSFORM (see --list)")
    try:
        pipeline = [resolve(spec) for spec in args.transforms]
    except ValueError as exc:
        raise UsageError(str(exc)) from exc

    def work(text: str) -> None:
        name = _dialect_name(args.dialect, text)
        tree = apply(text, *pipeline, dialect=name)
        _emit(args, get_dialect(args.to or name).render(tree, errors=ErrorLevel(args.errors)))

    return _each(args, work)


def _size_number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{name} must be a positive finite number, not {text!r}")
    return value


def _size_pair(values: list[str]) -> tuple[float, float, bool]:
    """``(w, h, is_size)`` from ``W H``, ``W:H``, ``WxH`` or ``W`` (``W:1``); ``W:H`` is always a ratio."""
    if len(values) > 2:
        raise UsageError(f"give W H, W:H or WxH, not {' '.join(values)!r}")
    if len(values) == 1:
        text = values[0].strip().lower()
        for sep, is_size in ((":", False), ("x", True), ("/", False)):
            if sep in text:
                left, _, right = text.partition(sep)
                return _size_number("W", left), _size_number("H", right), is_size
        return _size_number("W", text), 1.0, False
    if not values:
        return 1.0, 1.0, False
    return _size_number("W", values[0]), _size_number("H", values[1]), True


def _cfg_json(hint: Any) -> dict[str, Any]:
    return {
        "low": hint.low,
        "high": hint.high,
        "recommended": hint.recommended,
        "row": list(hint.row),
        "exact": hint.exact,
    }


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _cfg_table(args: argparse.Namespace) -> int:
    from naiprompt.research import sizes

    rows = [
        {"width": w, "height": h, "low": low, "high": high, "recommended": rec, "area_fixed": fixed}
        for (w, h), (low, high, rec, fixed) in sizes.CFG_TABLE.items()
    ]
    if args.json:
        _emit(args, rows)
        return 0
    for fixed, title in ((False, "Dimension"), (True, "Dimension (area fixed)")):
        print(f"{title:<24}CFG range  recommended")
        for row in rows:
            if row["area_fixed"] is fixed:
                size = f"{row['width']}x{row['height']}"
                span = f"{_number_text(row['low'])}~{_number_text(row['high'])}"
                print(f"{size:<24}{span:<11}{_number_text(row['recommended'])}")
        if not fixed:
            print()
    return 0


def _cmd_size(args: argparse.Namespace) -> int:
    from naiprompt.research import sizes

    if args.table:
        if args.size:
            raise UsageError("--table takes no size")
        return _cfg_table(args)
    w, h, is_size = _size_pair(args.size)
    note: str | None = None
    if args.cfg and is_size and args.area is None and w == int(w) >= 64 and h == int(h) >= 64:
        # A size the user already chose (`size 768 512 --cfg`): its row, no fitting.
        width, height = int(w), int(h)
    else:
        area = args.area if args.area is not None else sizes.DEFAULT_AREA
        try:
            width, height = sizes.fit(w, h, area=area, multiple=args.multiple)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        note = sizes.ratio_note(w, h, (width, height), area=area, multiple=args.multiple)
        if note is not None and args.quiet:
            note = None
    if not args.cfg:
        _emit(args, [width, height], f"{width}x{height}")
    else:
        hint = sizes.cfg_hint(width, height)
        if args.json:
            _emit(args, {"width": width, "height": height, "cfg": _cfg_json(hint)})
        else:
            print(f"{width}x{height}")
            print(hint)
    if note is not None:  # after the answer, on stderr: stdout stays one clean answer per line
        sys.stdout.flush()
        print(f"naiprompt size: note: {note}", file=sys.stderr)
    return 0


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Usage errors (bad option values, unknown names) exit with status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (UsageError, PluginError) as exc:
            return usage_error(args.parser, args.command, exc)

    return run


# --------------------------------------------------------------------------------------------
# Registration

_EXAMPLES = {
    "parse": """examples:
  naiprompt parse "(red eyes:1.2), smile"
  naiprompt parse --json -d nai "{{masterpiece}}"
  naiprompt parse --strict "(unclosed"          # exit 1, caret on stderr""",
    "render": """examples:
  naiprompt render "(a:1.2), b"                   # same text back (lossless)
  naiprompt render -d nai --to webui "{a}"       # print in another dialect
  naiprompt fmt "( a :1.20), (b"                 # canonical: ( a :1.2), (b)""",
    "convert": """examples:
  naiprompt convert --from nai --to webui "{{smile}}, [blurry]"
  naiprompt convert --to nai4 --in prompts.txt  # one prompt per line, dialect detected
  echo "[a:b:5]" | naiprompt convert --to nai --errors raise""",
    "detect": """examples:
  naiprompt detect "{{masterpiece}}, 1girl"     # nai
  naiprompt detect --in prompts.txt --json""",
    "step": """examples:
  naiprompt step 0.9 "bad, comic"                # (bad, comic:0.9)
  naiprompt step -2 --full "bad, comic"          # [[bad]], [[comic]]
  naiprompt step 2 -d nai "bad, comic"           # {{bad, comic}}
  naiprompt step 0 --full --seed-compat          # the note's step.js output, byte for byte""",
    "apply": """examples:
  naiprompt apply underscores:to=space dedupe -p "long_hair, long_hair, red_eyes"
  naiprompt apply flatten round_weights:2 -p "((a)), [b]"
  naiprompt apply --list""",
    "size": """examples:
  naiprompt size 4:3                             # 576x384 (and a note: that is 3:2)
  naiprompt size 16 9 --multiple 1 --json        # [682, 384] (the aspect512 script's raw output)
  naiprompt size 768x512 --cfg                   # the CFG row of a size you chose
  naiprompt size --table                         # the research note's CFG tables""",
}


def _parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    func: Callable[[argparse.Namespace], int],
    **kwargs: Any,
) -> argparse.ArgumentParser:
    # The subcommand's parser class is the top-level one's; swap in ours for this call.
    previous = getattr(subparsers, "_parser_class", argparse.ArgumentParser)
    setattr(subparsers, "_parser_class", _IntermixedParser)  # noqa: B010 - private attribute
    try:
        parser = subparsers.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,
        )
    finally:
        setattr(subparsers, "_parser_class", previous)  # noqa: B010
    parser.set_defaults(func=_guard(func), parser=parser)
    return parser


def _add_errors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--errors",
        choices=[level.value for level in ErrorLevel],
        default="warn",
        help="what the target cannot express: warn (default), raise (exit 1) or ignore",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the core subcommands to the ``naiprompt`` parser.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="naiprompt")
        >>> register(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["size", "4", "3"]).size
        ['4', '3']
    """
    dialect_help = (
        "dialect of the input: webui (a1111), nai (novelai, nai3), nai4, comfy (comfyui), mixed; any case; "
        "default auto: detected"
    )

    parser = _parser(subparsers, "parse", "Show the syntax tree of a prompt.", _cmd_parse)
    _add_input(parser)
    parser.add_argument("-d", "--dialect", type=dialect_arg, default="auto", help=dialect_help)
    parser.add_argument("--strict", action="store_true", help="reject unbalanced brackets and bad weights")
    _add_json(parser)

    parser = _parser(
        subparsers, "render", "Parse a prompt and print it again (fmt: in canonical form).", _cmd_render,
        aliases=["fmt"],
    )
    _add_input(parser)
    parser.add_argument("-d", "--dialect", type=dialect_arg, default="auto", help=dialect_help)
    parser.add_argument("--to", type=dialect_arg, help="print in this dialect (default: the input's)")
    parser.add_argument("--canonical", action="store_true", help="forget source spelling (fmt does this)")
    parser.add_argument("--strict", action="store_true", help="reject unbalanced brackets and bad weights")
    _add_errors(parser)
    _add_json(parser)

    parser = _parser(subparsers, "convert", "Convert a prompt between dialects.", _cmd_convert)
    _add_input(parser)
    parser.add_argument("--from", dest="source", type=dialect_arg, default="auto", help=dialect_help)
    parser.add_argument("--to", type=dialect_arg, required=True, help="target dialect (names as for --from)")
    parser.add_argument("--decimals", type=int, default=4, help="weight decimals (default 4)")
    parser.add_argument("--nai-preset", help="add NovelAI's quality tags of this model (v1..v4.5) to a nai prompt")
    parser.add_argument("--negative", action="store_true", help="with --nai-preset: add the UC preset instead")
    _add_errors(parser)
    _add_json(parser)

    parser = _parser(subparsers, "detect", "Guess the dialect of a prompt.", _cmd_detect)
    _add_input(parser)
    _add_json(parser)

    parser = _parser(
        subparsers,
        "step",
        "Weight stepping, the step tool of the research note \"NAI anime pure negative prompt\": "
        "brackets or a weight around the whole prompt (or each tag).",
        _cmd_step,
    )
    parser.add_argument(
        "ratio", metavar="RATIO", help="< 0: that many [ levels; integer > 1: emphasis levels; else a weight"
    )
    _add_input(parser)
    parser.add_argument("--full", action="store_true", help="apply it to each tag, not once around all")
    parser.add_argument(
        "--seed-compat",
        action="store_true",
        help="reproduce the note's step.js script byte for byte (mixed syntax, sorted de-duplicated tags; "
        "RATIO read like JavaScript's parseFloat; no PROMPT: the script's own tag list)",
    )
    parser.add_argument(
        "-d",
        "--dialect",
        type=dialect_arg,
        default=defaults.DIALECT,
        help=f"dialect of input and output (default: {defaults.DIALECT})",
    )
    _add_errors(parser)
    _add_json(parser)

    parser = _parser(subparsers, "apply", "Run transforms over prompts.", _cmd_apply)
    parser.add_argument(
        "transforms", nargs="*", metavar="TRANSFORM", help="a transform name with options: name:opt=value,..."
    )
    _add_input(parser, positional=False)
    parser.add_argument("-d", "--dialect", type=dialect_arg, default="auto", help=dialect_help)
    parser.add_argument("--to", type=dialect_arg, help="print in this dialect (default: the input's)")
    parser.add_argument("--list", action="store_true", help="list the available transforms")
    _add_errors(parser)
    _add_json(parser)

    parser = _parser(
        subparsers,
        "size",
        "Width and height for an aspect ratio within an area (the research note's aspect512), "
        "and the note's CFG range for a size.",
        _cmd_size,
    )
    parser.add_argument(
        "size",
        nargs="*",
        metavar="W H | W:H | WxH",
        help="the aspect ratio (default 1:1); with --cfg, W H or WxH of 64 or more is the size itself",
    )
    parser.add_argument(
        "--area", type=int, default=None, help="pixel budget (default 262144 = 512x512); always fits the ratio"
    )
    parser.add_argument(
        "--multiple", type=int, default=64, help="floor each side to this (default 64; 1 = raw)"
    )
    parser.add_argument("--cfg", action="store_true", help="also print the note's CFG range for the size")
    parser.add_argument("--table", action="store_true", help="print the note's CFG tables and exit")
    parser.add_argument("-q", "--quiet", action="store_true", help="no note when the ratio had to change")
    _add_json(parser)
