"""The prompt AST: one tree for every dialect.

Nodes are frozen attrs classes. Change them with :func:`attrs.evolve` (or
``copy.replace`` on Python 3.13+). Source spans and spelling hints (``raw``,
``notation``, ``opened``/``closed``) are kept for faithful printing but are not
part of equality, so a tree built by hand equals the parsed one.

Weights are stored per nesting level, as the user wrote them: ``((x))`` is two
nested :class:`Emphasis` nodes of weight 1.1 in WebUI; ``{x}`` is one of 1.05 in
NovelAI. The effective weight of a piece of text is the product down the tree.

Example:
    >>> import naiprompt
    >>> from naiprompt.ast import Emphasis, Text
    >>> tree = naiprompt.parse("(red eyes:1.2), smile")
    >>> tree.body[0] == Emphasis(body=(Text(value="red eyes"),), weight=1.2)
    True
    >>> tree.body[1]
    Text(value=', smile')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

import attrs


@attrs.frozen
class Span:
    """Half-open character range ``[start, end)`` in the source text.

    Example:
        >>> Span(0, 3).slice("abcdef")
        'abc'
    """

    start: int
    end: int

    def slice(self, text: str) -> str:
        """Return the source characters this span covers.

        Example:
            >>> Span(1, 2).slice("abc")
            'b'
        """
        return text[self.start : self.end]


def _span_field() -> Any:
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)


def _hint_field(default: Any = None) -> Any:
    return attrs.field(default=default, eq=False, repr=False, kw_only=True)


def _nodes(value: Any) -> tuple[Node, ...]:
    return tuple(value)


def _optional_nodes(value: Any) -> tuple[Node, ...] | None:
    return None if value is None else tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _options(value: Any) -> tuple[tuple[Node, ...], ...]:
    return tuple(tuple(option) for option in value)


@attrs.frozen(kw_only=True)
class Text:
    """Literal text, with escapes resolved (``\\(`` is stored as ``(``).

    ``raw`` is the source spelling (escapes, dropped backslashes), used by the
    printer of the same dialect when it still spells ``value``.

    Example:
        >>> Text(value="ganyu (genshin impact)")
        Text(value='ganyu (genshin impact)')
    """

    value: str
    raw: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class Emphasis:
    """One emphasis level: the weight multiplies everything in ``body``.

    ``notation`` records the spelling: ``"paren"`` ``(x)``, ``"bracket"`` ``[x]``,
    ``"explicit"`` ``(x:1.2)``, ``"brace"`` ``{x}``, ``"numeric"`` ``1.2::x::``.
    ``opened=False`` / ``closed=False`` mark a bracket missing from the source
    (an unclosed opener, or the continuation of a range that crossed another).

    Example:
        >>> Emphasis(body=(Text(value="x"),), weight=1.05, notation="brace").weight
        1.05
    """

    body: tuple[Node, ...] = attrs.field(converter=_nodes)
    weight: float
    notation: str | None = _hint_field()
    opened: bool = _hint_field(True)
    closed: bool = _hint_field(True)
    raw_weight: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class Schedule:
    """Prompt editing ``[before:after:when]`` (WebUI).

    ``before`` is ``None`` for the two-part form ``[after:when]``. ``when`` is the
    number; ``fractional`` is true when it was written with a dot, which WebUI
    reads as a fraction of the steps (``0.5``, ``5.``).

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("[cat:dog:0.5]").body[0].when
        0.5
    """

    before: tuple[Node, ...] | None = attrs.field(converter=_optional_nodes)
    after: tuple[Node, ...] = attrs.field(converter=_nodes)
    when: float
    fractional: bool
    raw_when: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class Alternate:
    """Alternation ``[a|b|c]``: one option per sampling step, in turn (WebUI).

    Example:
        >>> import naiprompt
        >>> len(naiprompt.parse("[cat|dog]").body[0].options)
        2
    """

    options: tuple[tuple[Node, ...], ...] = attrs.field(converter=_options)
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class Break:
    """``BREAK``: WebUI closes the current 75-token chunk here.

    ``raw`` keeps the whitespace around the keyword, which WebUI drops.

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("a BREAK b").body[1]
        Break()
    """

    raw: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class And:
    """``AND``: separates composable-diffusion subprompts (WebUI).

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("a AND b").body[1]
        And()
    """

    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class SubpromptWeight:
    """The trailing ``:w`` of a WebUI subprompt, its composable (CFG) weight.

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("a cat :0.5").body[-1].weight
        0.5
    """

    weight: float
    raw: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True)
class Network:
    """An extra network ``<name:arg:arg>`` such as ``<lora:x:0.8>`` (WebUI).

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("<lora:x:0.8>").body[0]
        Network(name='lora', args=('x', '0.8'))
    """

    name: str
    args: tuple[str, ...] = attrs.field(converter=_strings)
    span: Span | None = _span_field()


Node: TypeAlias = Text | Emphasis | Schedule | Alternate | Break | And | SubpromptWeight | Network
"""Any node that can appear in a prompt body."""


@attrs.frozen(kw_only=True)
class Prompt:
    """The root: a whole prompt, and the dialect it was parsed with.

    Example:
        >>> import naiprompt
        >>> tree = naiprompt.parse("{smile}", "nai")
        >>> tree.dialect, naiprompt.render(tree)
        ('nai', '{smile}')
    """

    body: tuple[Node, ...] = attrs.field(converter=_nodes)
    dialect: str = attrs.field(default="webui", eq=False)
    source: str | None = attrs.field(default=None, eq=False, repr=False)
    warnings: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)


def children(node: Node | Prompt) -> Iterator[tuple[Node, ...]]:
    """Yield each child sequence of ``node`` (bodies, branches, options).

    Example:
        >>> import naiprompt
        >>> [len(c) for c in children(naiprompt.parse("[a:b:3]").body[0])]
        [1, 1]
    """
    if isinstance(node, (Prompt, Emphasis)):
        yield node.body
    elif isinstance(node, Schedule):
        if node.before is not None:
            yield node.before
        yield node.after
    elif isinstance(node, Alternate):
        yield from node.options


def walk(node: Node | Prompt) -> Iterator[Node]:
    """Yield every node under ``node`` in source order, depth first (pre-order).

    Example:
        >>> import naiprompt
        >>> [type(n).__name__ for n in walk(naiprompt.parse("a (b)"))]
        ['Text', 'Emphasis', 'Text']
    """
    stack: list[Iterator[Node]] = [iter(seq) for seq in reversed(list(children(node)))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        yield item
        stack.extend(iter(seq) for seq in reversed(list(children(item))))
