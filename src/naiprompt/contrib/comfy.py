"""The ``comfy`` dialect: ComfyUI's CLIP text prompts, as a plugin.

ComfyUI's weighting (``comfy/sd1_clip.py``):

* ``(x)`` multiplies by 1.1; ``(x:w)`` **sets** the weight to ``w`` instead of
  multiplying, so ``((a:1.5))`` is 1.5 and ``(a (b) c:1.2)`` gives ``b`` 1.32;
* ``[`` and ``]`` are plain text, only ``\\(`` and ``\\)`` are escapes;
* ``embedding:name`` names a textual inversion (it is plain text in the tree;
  :meth:`Comfy.embeddings` lists them);
* a stray ``)`` turns the rest of the prompt into text; empty groups vanish.

One deliberate difference: ComfyUI reads ``(a:inf)`` and ``(a:nan)`` as weights
(Python's ``float`` accepts them); naiprompt keeps them as text at x1.1.

This module uses only the public plugin API (:class:`~naiprompt.dialects.Dialect`,
the AST, the errors) and is registered through the ``naiprompt.dialects``
entry-point group, as a third-party package would be.

In the tree, weights multiply as everywhere in naiprompt: ``((a:1.5))`` is an
``Emphasis(1.1)`` holding an ``Emphasis`` of weight 1.5/1.1, so products down
the tree are ComfyUI's weights and conversion to other dialects is exact.

Example:
    >>> import naiprompt
    >>> naiprompt.attention("((a:1.5)), [b]", "comfy")
    [('a', 1.5), (', [b]', 1.0)]
    >>> naiprompt.attention(naiprompt.convert("((a:1.5)), [b]", "comfy", "webui"))
    [('a', 1.5), (', [b]', 1.0)]
    >>> naiprompt.convert("[a], {b}", "nai", "comfy")
    '(a:0.9524), (b:1.05)'
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Sequence
from importlib import resources
from typing import ClassVar

import attrs
import lark

from naiprompt.ast import (
    Alternate,
    And,
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Schedule,
    Span,
    SubpromptWeight,
    Text,
)
from naiprompt.dialects import Dialect
from naiprompt.errors import ConversionError, ErrorLevel, PromptSyntaxError, PromptWarning
from naiprompt.weights import format_number

__all__ = ["Comfy"]

#: ComfyUI's factor for one ``(x)`` level.
PAREN = 1.1
_EMBEDDING = re.compile(r"embedding:([^\s,():]+)")


@functools.cache
def _lexer() -> lark.Lark:
    grammar = resources.files("naiprompt.contrib").joinpath("comfy.lark").read_text(encoding="utf-8")
    return lark.Lark(grammar, parser="lalr", lexer="basic")


@attrs.frozen
class _Unit:
    kind: str  # "open", "close", "text"
    value: str
    raw: str
    start: int
    end: int


@attrs.frozen
class _Hoist:
    """An explicit weight inside a group of weight 0: it must move out of it."""

    weight: float
    node: Emphasis


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    for token in _lexer().lex(text):
        start = token.start_pos or 0
        end = start + len(token.value)
        if token.type == "OPEN":
            units.append(_Unit("open", "(", "(", start, end))
        elif token.type == "CLOSE":
            units.append(_Unit("close", ")", ")", start, end))
        elif token.type == "ESCAPED":
            units.append(_Unit("text", token.value[1], token.value, start, end))
        else:
            units.append(_Unit("text", token.value, token.value, start, end))
    return units


def _split(units: Sequence[_Unit]) -> list[list[_Unit]]:
    """ComfyUI's top-level split: balanced groups and the text between them.

    The nesting counter goes negative after a stray ``)``; then nothing is a
    group until a ``(`` has brought it back to zero.
    """
    items: list[list[_Unit]] = []
    current: list[_Unit] = []
    level = 0
    for unit in units:
        if unit.kind == "open":
            if level == 0:
                if current:
                    items.append(current)
                current = [unit]
            else:
                current.append(unit)
            level += 1
        elif unit.kind == "close":
            level -= 1
            if level == 0:
                items.append([*current, unit])
                current = []
            else:
                current.append(unit)
        else:
            current.append(unit)
    if current:
        items.append(current)
    return items


def _explicit(inner: Sequence[_Unit]) -> tuple[list[_Unit], float, str] | None:
    """Split ``body:weight`` at the last colon, as ComfyUI does; None if no weight."""
    for index in range(len(inner) - 1, -1, -1):
        unit = inner[index]
        if unit.kind != "text" or unit.raw != unit.value:
            continue  # a parenthesis or an escape: no colon in it
        colon = unit.value.rfind(":")
        if colon < 0:
            continue
        if index == 0 and colon == 0:
            return None  # ComfyUI needs text before the colon
        tail_units = inner[index + 1 :]
        if any(u.kind != "text" or u.raw != u.value for u in tail_units):
            return None  # parentheses or escapes after the colon: not a number
        tail = unit.value[colon + 1 :] + "".join(u.value for u in tail_units)
        try:
            weight = float(tail)
        except ValueError:
            return None
        if not math.isfinite(weight):
            return None
        body = list(inner[:index])
        if colon:
            head = unit.value[:colon]
            body.append(_Unit("text", head, head, unit.start, unit.start + colon))
        return body, weight, ":" + tail
    return None


def _texts(units: Sequence[_Unit]) -> list[Node]:
    if not units:
        return []
    value = "".join(u.value for u in units)
    raw = "".join(u.raw for u in units)
    # Stray parentheses are text too: the raw spelling says where they were unescaped.
    keep = raw != value or "(" in raw or ")" in raw
    return [Text(value=value, raw=raw if keep else None, span=Span(units[0].start, units[-1].end))]


def _build(units: Sequence[_Unit], weight: float) -> list[Node | _Hoist]:
    """Nodes for ``units`` read at absolute weight ``weight`` (ComfyUI's ``token_weights``)."""
    out: list[Node | _Hoist] = []
    for item in _split(units):
        if len(item) < 2 or item[0].kind != "open" or item[-1].kind != "close":
            out.extend(_texts(item))
            continue
        inner = item[1:-1]
        explicit = _explicit(inner)
        span = Span(item[0].start, item[-1].end)
        if explicit is None:
            absolute, body_units, notation, raw_weight = weight * PAREN, inner, "paren", None
        else:
            body_units, absolute, raw_weight = explicit
            notation = "explicit"
        children = _build(body_units, absolute)
        if weight == 0 and notation == "explicit" and absolute != 0:
            out.extend(_settle(children, absolute, notation, raw_weight, span, hoist=True))
            continue
        factor = PAREN if notation == "paren" else (absolute / weight if weight else 1.0)
        out.extend(_settle(children, factor, notation, raw_weight, span, hoist=False, absolute=absolute))
    return out


def _settle(
    children: list[Node | _Hoist],
    factor: float,
    notation: str,
    raw_weight: str | None,
    span: Span,
    *,
    hoist: bool,
    absolute: float | None = None,
) -> list[Node | _Hoist]:
    """Wrap ``children`` in one emphasis; explicit weights under a zero weight move out."""
    if hoist:
        node = Emphasis(body=(), weight=factor, notation=notation, raw_weight=raw_weight, span=span)
        return [_Hoist(factor, _fill(node, children, factor))]
    node = Emphasis(body=(), weight=factor, notation=notation, raw_weight=raw_weight, span=span)
    if absolute == 0 and any(isinstance(c, _Hoist) for c in children):
        # Split this zero-weight group around the hoisted parts.
        out: list[Node | _Hoist] = []
        run: list[Node] = []
        for child in children:
            if isinstance(child, _Hoist):
                if run:
                    out.append(attrs.evolve(node, body=run, closed=False))
                    run = []
                out.append(child)
            else:
                run.append(child)
        if run:
            out.append(attrs.evolve(node, body=run))
        return out
    return [_fill(node, children, absolute if absolute is not None else factor)]


def _fill(node: Emphasis, children: list[Node | _Hoist], absolute: float) -> Emphasis:
    body: list[Node] = []
    for child in children:
        if isinstance(child, _Hoist):
            body.append(attrs.evolve(child.node, weight=child.weight / absolute))
        else:
            body.append(child)
    return attrs.evolve(node, body=body)


def _escape(value: str) -> str:
    return value.replace("(", "\\(").replace(")", "\\)")


def _unescape(raw: str) -> str:
    return raw.replace("\\(", "(").replace("\\)", ")")


def _reads_as_weight(inner: str) -> bool:
    """Would ComfyUI read ``(inner)`` as ``(body:weight)``?"""
    colon = inner.rfind(":")
    if colon <= 0:
        return False
    try:
        weight = float(inner[colon + 1 :])
    except ValueError:
        return False
    return math.isfinite(weight)


class _Printer:
    def __init__(self, errors: ErrorLevel, decimals: int | None, source: str | None, same: bool) -> None:
        self.errors = errors
        self.decimals = decimals
        self.source = source
        self.same = same  # parsed as comfy: source spellings (raw hints) may be reused

    def unsupported(self, construct: str, detail: str, node: Node) -> None:
        if self.errors is ErrorLevel.IGNORE:
            return
        position = node.span.start if node.span is not None and self.source is not None else None
        if self.errors is ErrorLevel.RAISE:
            raise ConversionError(construct, detail, self.source, position)
        warnings.warn(detail, PromptWarning, stacklevel=5)

    def seq(self, nodes: Sequence[Node], weight: float) -> str:
        return "".join(self.node(node, weight) for node in nodes)

    def node(self, node: Node, weight: float) -> str:
        if isinstance(node, Text):
            if self.same and node.raw is not None and _unescape(node.raw) == node.value:
                return node.raw
            return _escape(node.value)
        if isinstance(node, Emphasis):
            return self.emphasis(node, weight)
        if isinstance(node, Schedule):
            self.unsupported("prompt editing", "ComfyUI has no prompt editing; keeping one branch", node)
            return self.seq(node.before if node.before else node.after, weight)
        if isinstance(node, Alternate):
            self.unsupported("alternation", "ComfyUI has no alternation; keeping the first option", node)
            return self.seq(node.options[0] if node.options else (), weight)
        if isinstance(node, Break):
            self.unsupported("BREAK", "ComfyUI has no BREAK (use a concat node); it is dropped", node)
            return ", "
        if isinstance(node, And):
            self.unsupported("AND", "ComfyUI has no AND (use a combine node); subprompts joined", node)
            return ", "
        if isinstance(node, SubpromptWeight):
            self.unsupported("AND weight", f"ComfyUI has no subprompt weight (:{node.weight})", node)
            return ""
        if isinstance(node, Network):
            self.unsupported("extra network", f"ComfyUI loads <{node.name}:...> with a node; dropped", node)
            return ""
        raise TypeError(f"cannot print {type(node).__name__} in comfy")

    def emphasis(self, node: Emphasis, weight: float, *, explicit: bool = False) -> str:
        inner_weight = weight * node.weight
        if not math.isfinite(inner_weight):
            self.unsupported("weight", f"weight {inner_weight!r} is not a finite number", node)
            return self.seq(node.body, weight)
        plain = (
            not explicit and node.notation != "explicit" and math.isclose(node.weight, PAREN, rel_tol=1e-12)
        )
        if not plain and len(node.body) == 1 and isinstance(node.body[0], Emphasis):
            # An explicit weight around one group is overridden by the group's own explicit
            # weight: write that alone (NovelAI's {{x}} is (x:1.1025), not ((x:1.1025):1.05)).
            return self.emphasis(node.body[0], inner_weight, explicit=True)
        body = self.seq(node.body, inner_weight)
        if plain and not _reads_as_weight(body):
            return f"({body})"
        if not body:
            return ""  # "(:w)" would be text; an empty group has no effect anyway
        raw = node.raw_weight
        if self.same and raw is not None and raw.startswith(":"):
            try:
                if math.isclose(float(raw[1:]), inner_weight, rel_tol=1e-9, abs_tol=1e-12):
                    return f"({body}{raw})"
            except ValueError:
                pass
        return f"({body}:{format_number(inner_weight, self.decimals)})"


class Comfy(Dialect):
    """ComfyUI: ``(x)`` x1.1, ``(x:w)`` sets the weight, ``[`` ``]`` are text.

    Example:
        >>> comfy = Comfy()
        >>> tree = comfy.parse("(a (b) c:1.2), embedding:easynegative")
        >>> comfy.render(tree)
        '(a (b) c:1.2), embedding:easynegative'
        >>> comfy.attention(tree)
        [('a ', 1.2), ('b', 1.32), (' c', 1.2), (', embedding:easynegative', 1.0)]
        >>> comfy.embeddings(tree)
        ['easynegative']
    """

    name: ClassVar[str] = "comfy"
    bracket_weight: ClassVar[float] = PAREN
    #: ``[x]`` is plain text in ComfyUI: there is no de-emphasis bracket.
    deemphasis: ClassVar[bool] = False

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse ComfyUI prompt text; never fails unless ``strict``.

        ``strict`` rejects a stray ``)`` (ComfyUI then stops reading weights)
        and an unclosed ``(`` with :class:`~naiprompt.PromptSyntaxError`.

        Example:
            >>> Comfy().parse("(a:1.5)").body[0].weight
            1.5
            >>> Comfy().parse("a) (b", strict=True)
            Traceback (most recent call last):
            ...
            naiprompt.errors.PromptSyntaxError: unmatched ')' at line 1, column 2:
            a) (b
             ^
        """
        if not isinstance(text, str):
            raise TypeError(f"a prompt is text, not {type(text).__name__}")
        units = _units(text)
        if strict:
            _strict_check(text, units)
        nodes = _build(units, 1.0)
        body = [n.node if isinstance(n, _Hoist) else n for n in nodes]  # weight 1 at the top: no hoists
        return Prompt(body=tuple(body), dialect=self.name, source=text)

    def render(
        self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN, decimals: int | None = None
    ) -> str:
        """Print ``prompt`` as ComfyUI text; what ComfyUI lacks goes through ``errors``.

        Example:
            >>> import naiprompt
            >>> Comfy().render(naiprompt.parse("[a:b:5], (c:1.2)"), errors="ignore")
            'a, (c:1.2)'
        """
        printer = _Printer(ErrorLevel(errors), decimals, prompt.source, prompt.dialect == self.name)
        return printer.seq(prompt.body, 1.0)

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """ComfyUI's weights: ``token_weights`` runs, equal neighbours merged, empty ones dropped.

        Example:
            >>> Comfy().attention("(a:1.2)(b)")
            [('a', 1.2), ('b', 1.1)]
        """
        text = prompt if isinstance(prompt, str) else self.render(prompt, errors=ErrorLevel.IGNORE)
        runs: list[tuple[str, float]] = []
        _runs(self.parse(text).body, 1.0, runs)
        merged: list[tuple[str, float]] = []
        for value, weight in runs:
            if not value:
                continue
            if merged and merged[-1][1] == weight:
                merged[-1] = (merged[-1][0] + value, weight)
            else:
                merged.append((value, weight))
        return merged

    def embeddings(self, prompt: str | Prompt) -> list[str]:
        """Names of the textual inversions a prompt uses (``embedding:name``).

        Example:
            >>> Comfy().embeddings("embedding:bad_hands, (embedding:easynegative:1.2)")
            ['bad_hands', 'easynegative']
        """
        text = prompt if isinstance(prompt, str) else self.render(prompt, errors=ErrorLevel.IGNORE)
        return [match.group(1) for match in _EMBEDDING.finditer(text)]


def _runs(nodes: Sequence[Node], weight: float, out: list[tuple[str, float]]) -> None:
    for node in nodes:
        if isinstance(node, Text):
            out.append((node.value, weight))
        elif isinstance(node, Emphasis):
            if node.notation == "explicit" and node.raw_weight is not None:
                inner = float(node.raw_weight[1:])  # ComfyUI sets, it does not multiply
            else:
                inner = weight * node.weight
            _runs(node.body, inner, out)


def _strict_check(text: str, units: Sequence[_Unit]) -> None:
    opened: list[int] = []
    for unit in units:
        if unit.kind == "open":
            opened.append(unit.start)
        elif unit.kind == "close":
            if not opened:
                raise PromptSyntaxError("unmatched ')'", text, unit.start)
            opened.pop()
    if opened:
        raise PromptSyntaxError("unclosed '('", text, opened[-1])
