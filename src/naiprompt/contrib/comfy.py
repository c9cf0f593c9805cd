"""The ``comfy`` dialect: ComfyUI's CLIP text prompts, as a plugin.

ComfyUI's weighting (``comfy/sd1_clip.py``):

* ``(x)`` multiplies by 1.1; ``(x:w)`` **sets** the weight to ``w`` instead of
  multiplying, so ``((a:1.5))`` is 1.5 and ``(a (b) c:1.2)`` gives ``b`` 1.32;
* ``[`` and ``]`` are plain text, only ``\\(`` and ``\\)`` are escapes;
* ``embedding:name`` names a textual inversion (it is plain text in the tree;
  :meth:`Comfy.embeddings` lists them);
* a stray ``)`` turns the rest of the prompt into text; empty groups vanish.

Like ComfyUI, ``(a:inf)``, ``(a:nan)``, ``(a:1e2)`` and ``(a:1_0)`` are weights:
whatever Python's ``float()`` accepts after the last colon.

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

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import attrs

from naiprompt.ast import (
    And,
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Span,
    SubpromptWeight,
    Text,
)
from naiprompt.contrib._comfy_scan import Group, escape_important, unescape_important
from naiprompt.contrib._comfy_scan import scan as _scan
from naiprompt.contrib._comfy_scan import segments as _segments
from naiprompt.dialects import Dialect
from naiprompt.errors import ErrorLevel, Problem, collect
from naiprompt.printer import Printer
from naiprompt.weight_math import format_number

if TYPE_CHECKING:
    from naiprompt.tokens.chunking import Layout
    from naiprompt.tokens.registry import Tokenizer

__all__ = ["Comfy", "ComfyPrinter"]

#: ComfyUI's factor for one ``(x)`` level.
PAREN = 1.1
_EMBEDDING = re.compile(r"embedding:([^\s,():]+)")


@attrs.frozen
class _Hoist:
    """An explicit weight that its enclosing group cannot hold as a factor: it moves out.

    Under a group of weight 0, inf or nan, or where ``weight / parent`` over- or
    underflows, the tree's factor would not multiply back to ComfyUI's weight.
    """

    weight: float
    node: Emphasis


def _degenerate(parent: float, weight: float) -> bool:
    """Whether an explicit ``weight`` cannot be stored as a factor of ``parent``."""
    if parent == 0:
        return weight != 0
    if not math.isfinite(parent):
        return True
    if not math.isfinite(weight):
        return False  # inf or nan under a normal parent: the factor says so honestly
    factor = weight / parent
    return not math.isfinite(factor) or (factor == 0 and weight != 0)


@attrs.define
class _Frame:
    """A group being built: its absolute weight and the pieces it splits into."""

    absolute: float
    factor: float
    hoisted: bool
    template: Emphasis
    body: list[Node] = attrs.field(factory=list)
    items: list[Node | _Hoist] = attrs.field(factory=list)

    def take(self, results: list[Node | _Hoist]) -> None:
        for item in results:
            if not isinstance(item, _Hoist):
                self.body.append(item)
            elif not _degenerate(self.absolute, item.weight):
                self.body.append(attrs.evolve(item.node, weight=item.weight / self.absolute))
            else:  # split this group around the hoisted part
                if self.body:
                    self.items.append(attrs.evolve(self.template, body=self.body, closed=False))
                    self.body = []
                self.items.append(item)

    def finish(self) -> list[Node | _Hoist]:
        if self.body or not self.items:
            self.items.append(attrs.evolve(self.template, body=self.body))
        if not self.hoisted:
            return self.items
        return [
            _Hoist(self.absolute, attrs.evolve(item, weight=self.absolute)) if isinstance(item, Emphasis) else item
            for item in self.items
        ]


def _build(text: str) -> list[Node]:
    """The tree of ``text`` as ComfyUI reads it, built without recursion."""
    result = _scan(text)
    esc = escape_important(text)
    bounds: list[tuple[int, int, Group | None]] = [(g.open, 1, g) for g in result.groups]
    bounds += [(g.close, 0, g) for g in result.groups]
    if result.literal is not None:
        bounds.append((result.literal[0], 2, None))
    bounds.sort(key=lambda b: b[0])
    top = _Frame(1.0, 1.0, False, Emphasis(body=(), weight=1.0))
    frames = [top]
    stops = [len(esc)]  # where the text of each open group's body ends (before ":w")
    cursor = 0

    def text_until(stop: int) -> None:
        limit = min(stop, stops[-1])
        if limit > cursor:
            raw = text[cursor:limit]
            value = unescape_important(esc[cursor:limit])
            keep = raw != value or "(" in raw or ")" in raw  # stray parentheses stay as spelled
            frames[-1].body.append(Text(value=value, raw=raw if keep else None, span=Span(cursor, limit)))

    for position, kind, group in bounds:
        text_until(position)
        if kind == 1:
            assert group is not None
            parent = frames[-1].absolute
            span = Span(group.open, group.close + 1)
            if group.explicit is None:
                absolute, factor, hoisted = parent * PAREN, PAREN, False
                template = Emphasis(body=(), weight=PAREN, notation="paren", span=span)
            else:
                absolute = group.explicit
                hoisted = _degenerate(parent, absolute)
                factor = absolute if hoisted else (absolute / parent if parent else 1.0)
                raw_weight = esc[group.end : group.close]
                template = Emphasis(body=(), weight=factor, notation="explicit", raw_weight=raw_weight, span=span)
            frames.append(_Frame(absolute, factor, hoisted, template))
            stops.append(group.end)
            cursor = position + 1
        elif kind == 0:
            stops.pop()
            done = frames.pop()
            frames[-1].take(done.finish())
            cursor = position + 1
        else:
            cursor = position
    text_until(len(esc))
    return top.body


def _escape(value: str) -> str:
    return value.replace("(", "\\(").replace(")", "\\)")


def _unescape(raw: str) -> str:
    return raw.replace("\\(", "(").replace("\\)", ")")


def _reads_as_weight(inner: str) -> bool:
    """Would ComfyUI read ``(inner)`` as ``(body:weight)`` (``inf`` and ``nan`` included)?"""
    colon = inner.rfind(":")
    if colon <= 0:
        return False
    try:
        float(inner[colon + 1 :])
    except ValueError:
        return False
    return True


@attrs.frozen
class _Wrap:
    """An open level to write at its closer: where its body starts in the output, its weight."""

    mark: int
    node: Emphasis
    weight: float
    explicit: bool


class ComfyPrinter(Printer):
    """Prints a tree as ComfyUI text, through the public :class:`~naiprompt.Printer` hooks.

    ComfyUI's ``(x:w)`` sets the weight: an explicit level prints the product
    of the weights down to it, and a chain of single levels prints once
    (NovelAI's ``{{x}}`` is ``(x:1.1025)``, not ``((x:1.1025):1.05)``).

    Example:
        >>> import naiprompt
        >>> ComfyPrinter(decimals=4).print(naiprompt.parse("{{x}}, [y]", "nai"))
        '(x:1.1025), (y:0.9524)'
    """

    dialect = "comfy"
    label = "ComfyUI"

    def __init__(
        self, *, errors: ErrorLevel | str = ErrorLevel.WARN, source: Prompt | None = None, decimals: int | None = None
    ) -> None:
        super().__init__(errors=errors, source=source)
        self.decimals = decimals
        self.begin(Prompt(body=(), dialect=self.dialect))

    def begin(self, prompt: Prompt) -> None:
        """Per-print state: the weight stack and the levels a chain prints as one.

        Example:
            >>> printer = ComfyPrinter()
            >>> printer.begin(Prompt(body=()))
            >>> printer._weights
            [1.0]
        """
        self._same = prompt.dialect == self.dialect  # parsed as comfy: raw hints may be reused
        self._weights = [1.0]  # the absolute weight of each open level
        self._wraps: list[_Wrap | None] = []  # per open level: how it prints (None: merged into its child)
        self._chained: set[int] = set()  # levels written as part of the chain above them

    @staticmethod
    def plain(node: Emphasis, explicit: bool) -> bool:
        """Whether a level prints as a bare ``(x)``.

        Example:
            >>> ComfyPrinter.plain(Emphasis(body=(), weight=1.1), False)
            True
        """
        return not explicit and node.notation != "explicit" and math.isclose(node.weight, PAREN, rel_tol=1e-12)

    # -- hooks -----------------------------------------------------------------------------------
    def print_Text(self, node: Text) -> str:  # noqa: N802 - hooks are named after the node class
        """Text, its source spelling kept, ``(`` and ``)`` escaped.

        Example:
            >>> print(ComfyPrinter().print(Prompt(body=[Text(value="a (b)")])))
            a \\(b\\)
        """
        if self._same and node.raw is not None and _unescape(node.raw) == node.value:
            return node.raw
        return _escape(node.value)

    def open_Emphasis(self, node: Emphasis) -> None:  # noqa: N802
        """Open a level; it is written at its closer, once its body is printed.

        Example:
            >>> import naiprompt
            >>> ComfyPrinter().print(naiprompt.parse("((a:1.5))", "comfy"))
            '((a:1.5))'
        """
        explicit = id(node) in self._chained
        inner = self._weights[-1] * node.weight
        self._weights.append(inner)
        # An explicit weight around one group is overridden by the group's own explicit
        # weight: write that alone.
        if not self.plain(node, explicit) and len(node.body) == 1 and isinstance(node.body[0], Emphasis):
            self._chained.add(id(node.body[0]))
            self._wraps.append(None)
        else:
            self._wraps.append(_Wrap(len(self.out), node, inner, explicit))

    def close_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        """Write a level around what its body printed.

        Example:
            >>> import naiprompt
            >>> ComfyPrinter().print(naiprompt.parse("(a:1.2)"))
            '(a:1.2)'
        """
        self._weights.pop()
        self._chained.discard(id(node))
        item = self._wraps.pop()
        if item is None:
            return None
        body = "".join(self.out[item.mark :])
        del self.out[item.mark :]
        return self.wrap(item, body)

    def print_Break(self, node: Break) -> str:  # noqa: N802
        """ComfyUI has no BREAK: a seam (reported).

        Example:
            >>> import naiprompt
            >>> ComfyPrinter(errors="ignore").print(naiprompt.parse("a BREAK b"))
            'a, b'
        """
        self.unsupported("BREAK", "ComfyUI has no BREAK (use a concat node); it is dropped", node)
        return self.joint()

    def print_And(self, node: And) -> str:  # noqa: N802
        """ComfyUI has no AND: the subprompts are joined (reported).

        Example:
            >>> import naiprompt
            >>> ComfyPrinter(errors="ignore").print(naiprompt.parse("a AND b"))
            'a, b'
        """
        self.unsupported("AND", "ComfyUI has no AND (use a combine node); subprompts joined", node)
        return self.joint()

    def print_SubpromptWeight(self, node: SubpromptWeight) -> str:  # noqa: N802
        """ComfyUI has no subprompt weight: dropped (reported).

        Example:
            >>> import naiprompt
            >>> ComfyPrinter(errors="ignore").print(naiprompt.parse("a :0.5"))
            'a'
        """
        self.unsupported("AND weight", f"ComfyUI has no subprompt weight (:{node.weight})", node)
        return self.dropped()

    def print_Network(self, node: Network) -> str:  # noqa: N802
        """ComfyUI loads extra networks with nodes: dropped (reported).

        Example:
            >>> import naiprompt
            >>> ComfyPrinter(errors="ignore").print(naiprompt.parse("a, <lora:x:1>"))
            'a'
        """
        self.unsupported("extra network", f"ComfyUI loads <{node.name}:...> with a node; dropped", node)
        return self.dropped()

    def wrap(self, item: _Wrap, body: str) -> str:
        """A level around its printed ``body``: ``(body)``, ``(body:w)`` or nothing when empty.

        Example:
            >>> ComfyPrinter().wrap(_Wrap(0, Emphasis(body=(), weight=1.2), 1.2, False), "a")
            '(a:1.2)'
        """
        node, inner = item.node, item.weight
        if self.plain(node, item.explicit) and not _reads_as_weight(body):
            return f"({body})"
        if not body:
            return ""  # "(:w)" would be text; an empty group has no effect anyway
        raw = node.raw_weight
        if self._same and raw is not None and raw.startswith(":"):
            try:
                number = float(raw[1:])
            except ValueError:
                number = None
            if number is not None and (
                math.isclose(number, inner, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(number) and math.isnan(inner))
            ):
                return f"({body}{raw})"
        if not math.isfinite(inner):
            return f"({body}:{inner!r})"  # ComfyUI's float() reads inf, -inf and nan
        return f"({body}:{format_number(inner, self.decimals)})"


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
    aliases: ClassVar[tuple[str, ...]] = ("comfyui",)
    bracket_weight: ClassVar[float] = PAREN
    #: ``[x]`` is plain text in ComfyUI: there is no de-emphasis bracket.
    deemphasis_weight: ClassVar[float | None] = None
    level_spelling: ClassVar[tuple[str | None, str | None]] = ("paren", None)
    weight_spelling: ClassVar[str | None] = "explicit"
    render_decimals: ClassVar[bool] = True

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse ComfyUI prompt text; never fails unless ``strict``.

        ``strict`` rejects a stray ``)`` (ComfyUI then stops reading weights)
        and an unclosed ``(`` with :class:`~naiprompt.PromptSyntaxError`; the
        lenient reading lists the same in ``warnings``.

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
        notes = collect(text, _problems(text), strict=strict)
        return Prompt(body=tuple(_build(text)), dialect=self.name, source=text, warnings=notes)

    def render(
        self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN, decimals: int | None = None
    ) -> str:
        """Print ``prompt`` as ComfyUI text; what ComfyUI lacks goes through ``errors``.

        Example:
            >>> import naiprompt
            >>> Comfy().render(naiprompt.parse("[a:b:5], (c:1.2)"), errors="ignore")
            'a, (c:1.2)'
        """
        return ComfyPrinter(errors=errors, decimals=decimals).print(prompt)

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """ComfyUI's weights: ``token_weights`` runs, equal neighbours merged, empty ones dropped.

        Example:
            >>> Comfy().attention("(a:1.2)(b)")
            [('a', 1.2), ('b', 1.1)]
        """
        merged: list[tuple[str, float]] = []
        for value, weight in self.segments(prompt):
            if not value:
                continue
            if merged and merged[-1][1] == weight:
                merged[-1] = (merged[-1][0] + value, weight)
            else:
                merged.append((value, weight))
        return merged

    def segments(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """ComfyUI's ``token_weights`` output: the pieces it tokenizes one by one, unmerged.

        Example:
            >>> Comfy().segments("(a)(b), c")
            [('a', 1.1), ('b', 1.1), (', c', 1.0)]
        """
        text = prompt if isinstance(prompt, str) else self.render(prompt, errors=ErrorLevel.IGNORE)
        return [(segment.text, segment.weight) for segment in _segments(text)]

    def chunk_segments(
        self, segments: Sequence[tuple[str, float]], tokenizer: str | Tokenizer = "webui", *, comma_backtrack: int = 0
    ) -> Layout:
        """ComfyUI's 77-token chunks of :meth:`segments` (its own rule: no comma backtrack, so none is used).

        :func:`naiprompt.tokens.chunks` uses this for ``dialect="comfy"``.

        Example:
            >>> layout = Comfy().chunk_segments(Comfy().segments("(a)(b)"))
            >>> layout.chunks[0].tokens[:4]
            (49406, 320, 321, 49407)
        """
        from naiprompt.tokens.comfy_chunking import comfy_chunk_segments

        return comfy_chunk_segments(segments, tokenizer)

    def embeddings(self, prompt: str | Prompt) -> list[str]:
        """Names of the textual inversions a prompt uses (``embedding:name``).

        Example:
            >>> Comfy().embeddings("embedding:bad_hands, (embedding:easynegative:1.2)")
            ['bad_hands', 'easynegative']
        """
        text = prompt if isinstance(prompt, str) else self.render(prompt, errors=ErrorLevel.IGNORE)
        return [match.group(1) for match in _EMBEDDING.finditer(text)]


def _problems(text: str) -> list[Problem]:
    """What ComfyUI reads but the user likely did not mean: the first of them, if any.

    A stray ``)`` makes ComfyUI read every later ``(`` as text; an unclosed ``(``
    is text. Both are warnings leniently and errors in strict mode.
    """
    opened: list[int] = []
    for match in re.finditer(r"[()]", escape_important(text)):
        if match.group() == "(":
            opened.append(match.start())
        elif not opened:
            return [(match.start(), "unmatched-closer", "unmatched ')'")]
        else:
            opened.pop()
    return [(opened[-1], "unclosed-bracket", "unclosed '('")] if opened else []
