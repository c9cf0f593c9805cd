"""The seed's ``step`` tool: one global ("static") emphasis over a whole prompt.

:func:`step` is the dialect-correct transform; :func:`seed_step` reproduces the
seed's ``step.js`` byte for byte (its mix of ``{``, ``[`` and ``(x:w)``, sorted
and de-duplicated tags).

The ratio means, as in the seed:

* ``ratio < 0``: ``n = trunc(|ratio|)`` levels of de-emphasis brackets
  (``-2`` -> ``[[x]]``; ``-0.5`` -> no brackets at all);
* an integer ``ratio > 1``: ``n`` levels of emphasis brackets (``2`` -> ``((x))``
  in webui, ``{{x}}`` in NovelAI);
* any other finite number: that explicit weight (``0.9`` -> ``(x:0.9)``).

Example:
    >>> import naiprompt
    >>> from naiprompt.transforms import apply, step
    >>> naiprompt.render(apply("bad, comic", step(-2)))
    '[[bad, comic]]'
    >>> naiprompt.render(apply("bad, comic", step(2, full=True), dialect="nai"))
    '{{bad}}, {{comic}}'
    >>> seed_step("0.9", "full", tags=["worst", "bad"])
    '(bad:0.9), (worst:0.9)'
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from naiprompt.ast import Emphasis, Node, Prompt
from naiprompt.dialects import Notation
from naiprompt.errors import ConversionError, ErrorLevel, warn
from naiprompt.transforms import Transform
from naiprompt.transforms._tree import (
    Segment,
    bracket_weight,
    close,
    deemphasis_weight,
    explicit_notation,
    join_items,
    level_notations,
    levels,
    merge_texts,
    rebuild,
    split_items,
    with_body,
    writes,
)

Wrap = Callable[[Sequence[Node]], "Node | tuple[Node, ...]"]

__all__ = ["MAX_LEVELS", "SEED_TAGS", "js_parse_float", "seed_step", "step"]

#: The most bracket levels a ratio may ask for (1.1**100 is about 13780).
MAX_LEVELS = 100

#: The tag list hard-coded in the seed's ``step.js`` (before sorting).
SEED_TAGS: tuple[str, ...] = ("bad", "comic", "cropped", "error", "extra", "worst", "lowres", "speech", "low")


def _check_ratio(ratio: float) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
        raise TypeError(f"ratio must be a number, not {type(ratio).__name__}")
    value = float(ratio)
    if not math.isfinite(value):
        raise ValueError(f"ratio must be a finite number, got {ratio!r}")
    return value


def _level_count(ratio: float) -> int | None:
    """Bracket levels the ratio asks for (negative: de-emphasis), or None for a weight."""
    if ratio < 0:
        count = -math.trunc(-ratio)
    elif ratio > 1 and ratio.is_integer():
        count = int(ratio)
    else:
        return None
    if abs(count) > MAX_LEVELS:
        raise ValueError(
            f"ratio {ratio:g} asks for {abs(count)} bracket levels; at most {MAX_LEVELS} are supported"
        )
    return count


def step(
    ratio: float,
    *,
    full: bool = False,
    dialect: str | None = None,
    errors: ErrorLevel | str = ErrorLevel.WARN,
) -> Transform:
    """Emphasise the whole prompt (or, with ``full``, each tag) by ``ratio``.

    Brackets are the dialect's own: ``(``/``[`` at x1.1 in ``webui``, ``{``/``[``
    at x1.05 in ``nai`` and ``nai4``. An explicit weight is ``(x:w)`` in webui,
    ``w::x::`` in nai4, and in ``nai``, which has no explicit weights, the
    nearest bracket form (a :class:`~naiprompt.PromptWarning` when it is not
    exact; ``errors="raise"`` raises :class:`~naiprompt.ConversionError`
    instead; a weight <= 0 has no bracket form and always raises). ``dialect``
    defaults to the one the prompt was parsed with. ``AND`` subprompts are
    stepped one by one; separators, ``BREAK`` and extra networks stay outside.

    Raises :class:`ValueError` for non-finite ratios and ratios asking for more
    than :data:`MAX_LEVELS` bracket levels.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("bad, comic", step(0.9, full=True)))
        '(bad:0.9), (comic:0.9)'
        >>> naiprompt.render(apply("bad, comic", step(0.9), dialect="nai4"))
        '0.9::bad, comic::'
        >>> step(float("inf"))
        Traceback (most recent call last):
        ...
        ValueError: ratio must be a finite number, got inf
    """
    value = _check_ratio(ratio)
    count = _level_count(value)
    level = ErrorLevel(errors)
    if value == 0:
        value = 0.0  # no "-0" weights

    def run(prompt: Prompt) -> Prompt:
        name = dialect or prompt.dialect
        wrap = _wrapper(value, count, name, level)
        segments = split_items(prompt.body)
        if full:
            new = [
                _wrapped(wrap, seg.nodes) if not seg.is_sep and not seg.only_networks else seg
                for seg in segments
            ]
        else:
            new = _wrap_groups(segments, wrap)
        return with_body(prompt, join_items(new))

    return run


def _wrapper(
    value: float, count: int | None, dialect: str, errors: ErrorLevel
) -> Wrap:
    base = bracket_weight(dialect)
    down_factor = deemphasis_weight(dialect)
    up, down = level_notations(dialect)
    if count is not None:
        if count == 0:
            return functools.partial(_plain)
        if count > 0:
            return functools.partial(_levels, count=count, factor=base, notation=up)
        if down_factor is None:
            # No de-emphasis bracket (ComfyUI): the same weight, written out.
            return functools.partial(_explicit, weight=base**count, notation=explicit_notation(dialect))
        return functools.partial(_levels, count=-count, factor=down_factor, notation=down)
    if writes(dialect, Notation.NUMERIC_WEIGHT):
        return functools.partial(_explicit, weight=value, notation=explicit_notation(dialect))
    # No explicit weights (NovelAI V1-V3): the nearest power of the dialect's bracket factor.
    factor = base if value >= 1 or down_factor is None else down_factor
    if value <= 0 or (value < 1 and down_factor is None):
        raise ConversionError(
            "explicit weight",
            f"weight {value:g} has no bracket form in {dialect} (brackets only scale by {factor:g}); "
            "use a dialect with numeric weights, or a ratio < 0",
            None,
            None,
        )
    nearest = round(math.log(value) / math.log(factor))
    if abs(nearest) > MAX_LEVELS:
        raise ValueError(f"weight {value:g} needs {abs(nearest)} bracket levels in {dialect}; at most {MAX_LEVELS}")
    achieved = factor**nearest
    if not close(achieved, value):
        spelled = "emphasis" if factor > 1 else "de-emphasis"
        detail = (
            f"weight {value:g} has no exact bracket form in {dialect}; "
            f"using {nearest} {spelled} level(s) (weight {achieved:.4f})"
        )
        if errors is ErrorLevel.RAISE:
            raise ConversionError("explicit weight", detail, None, None)
        if errors is ErrorLevel.WARN:
            warn(detail, "inexact-step")
    if nearest == 0:
        return functools.partial(_plain)
    return functools.partial(_levels, count=nearest, factor=factor, notation=up if factor > 1 else down)


def _plain(nodes: Sequence[Node]) -> Node | tuple[Node, ...]:
    return tuple(nodes)


def _levels(nodes: Sequence[Node], *, count: int, factor: float, notation: str | None) -> Node:
    return levels(nodes, count, factor, notation)


def _explicit(nodes: Sequence[Node], *, weight: float, notation: str | None) -> Node:
    return levels(nodes, 1, weight, notation)


def _close(node: Node) -> Node:
    if isinstance(node, Emphasis) and not node.closed:
        return attrs.evolve(node, closed=True)
    return node


def _wrapped(wrap: Wrap, nodes: Sequence[Node]) -> Segment:
    # Tags and separators were split apart: join their texts again, as the parser would.
    # An unclosed bracket inside the new ones is closed, or it would take their closer.
    result = wrap(rebuild(merge_texts(nodes), _close))
    return Segment(list(result) if isinstance(result, tuple) else [result], False)


def _wrap_groups(segments: list[Segment], wrap: Wrap) -> list[Segment]:
    """Wrap everything from the first to the last tag of each AND-subprompt and BREAK chunk."""
    out: list[Segment] = []
    pending: list[Segment] = []

    def flush() -> None:
        items = [i for i, seg in enumerate(pending) if not seg.is_sep and not seg.only_networks]
        if not items:
            out.extend(pending)
            return
        first, last = items[0], items[-1]
        inner = [node for seg in pending[first : last + 1] for node in seg.nodes]
        out.extend(pending[:first])
        out.append(_wrapped(wrap, inner))
        out.extend(pending[last + 1 :])

    for segment in segments:
        # WebUI reads a BREAK inside brackets as a word, not a chunk break: wrap each chunk.
        if segment.barrier:
            flush()
            pending = []
            out.append(segment)
        else:
            pending.append(segment)
    flush()
    return out


# --------------------------------------------------------------------------------------------
# Seed compatibility: step.js, byte for byte.

_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_JS_FLOAT = re.compile(r"[+-]?(?:Infinity|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")


def js_parse_float(text: str | None) -> float:
    """JavaScript's ``parseFloat``: the longest numeric prefix, else NaN.

    Example:
        >>> js_parse_float("3abc"), js_parse_float("0x10"), js_parse_float(" -1.5e1x")
        (3.0, 0.0, -15.0)
        >>> math.isnan(js_parse_float("abc"))
        True
    """
    if text is None:
        return math.nan
    match = _JS_FLOAT.match(text.lstrip(_JS_WHITESPACE))
    if not match:
        return math.nan
    number = match.group()
    if number.lstrip("+-") == "Infinity":
        return -math.inf if number.startswith("-") else math.inf
    return float(number)


def _plain_number(value: float) -> str:
    """A number as the seed prints it: JavaScript's shortest digits, never exponents."""
    if value == 0:
        return "0"
    if value.is_integer():
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _locale_key(tag: str) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...]]:
    """An approximation of ``String.prototype.localeCompare`` (ICU root collation)."""
    primary = []
    for char in tag:
        category = unicodedata.category(char)
        if char.isspace():
            rank = 0
        elif category[0] in "PS":
            rank = 1
        elif char.isdigit():
            rank = 2
        else:
            rank = 3
        primary.append((rank, char.casefold()))
    return tuple(primary), tuple(0 if char.islower() else 1 for char in tag)


def _seed_tags(tags: Iterable[str] | str) -> list[str]:
    pieces = tags.split(", ") if isinstance(tags, str) else [p for t in tags for p in t.split(", ")]
    result: list[str] = []
    for piece in pieces:
        tag = piece.strip(_JS_WHITESPACE).replace("\r\n", "", 1).replace("\n", "", 1).replace(",", "", 1)
        tag = tag.strip(_JS_WHITESPACE)
        if tag not in result:
            result.append(tag)
    return sorted(result, key=_locale_key)


def seed_step(
    ratio: float | str | None = None,
    full: bool | str | None = False,
    *,
    tags: Iterable[str] | str | None = None,
) -> str:
    """What the seed's ``node step [ratio] [full]`` writes to ``step.txt``.

    ``ratio`` and ``full`` may be given as the script's command-line strings:
    the ratio goes through JavaScript's ``parseFloat`` (``"3abc"`` -> 3, ``"abc"``
    -> the default 1) and any non-empty ``full`` string turns it on, even
    ``"false"``. ``tags`` defaults to the script's hard-coded list
    (:data:`SEED_TAGS`); a string is split on ``", "`` as the script does. Tags
    are trimmed, de-duplicated and sorted.

    Integers > 1 give NovelAI braces, negative ratios ``[`` and everything else
    ``(tags:w)``: mixed syntax, exactly as the script. Use :func:`step` for
    dialect-correct output. Where the script crashes (``1e21``) or prints
    ``Infinity``, this raises :class:`ValueError`.

    Example:
        >>> seed_step()
        '(bad, comic, cropped, error, extra, low, lowres, speech, worst:1)'
        >>> seed_step("-2", "full", tags="b, a, b")
        '[[a]], [[b]]'
        >>> seed_step(2, tags="x")
        '{{x}}'
        >>> seed_step("1e-7", tags="x")
        '(x:0.0000001)'
    """
    if isinstance(ratio, str) or ratio is None:
        value = js_parse_float(ratio)
        if math.isnan(value):
            value = 1.0
    else:
        value = _check_ratio(ratio)
    if not math.isfinite(value):
        raise ValueError(f"ratio must be a finite number, got {ratio!r}")
    on = bool(full)
    names = _seed_tags(SEED_TAGS if tags is None else tags)
    if value < 0 or (value > 1 and value.is_integer()):
        count = math.trunc(abs(value))
        if count > MAX_LEVELS:
            raise ValueError(f"ratio {ratio!r} asks for {count} bracket levels; at most {MAX_LEVELS}")
        opener, closer = ("[", "]") if value < 0 else ("{", "}")
        if on:
            return ", ".join(opener * count + tag + closer * count for tag in names)
        return opener * count + ", ".join(names) + closer * count
    weight = _plain_number(value)
    if on:
        return ", ".join(f"({tag}:{weight})" for tag in names)
    return f"({', '.join(names)}:{weight})"

