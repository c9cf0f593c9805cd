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

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeAlias, TypeVar

import attrs

from naiprompt import defaults
from naiprompt.errors import PromptWarning

__all__ = [
    "Alternate",
    "And",
    "Break",
    "Emphasis",
    "Network",
    "Node",
    "Prompt",
    "Replacement",
    "Schedule",
    "Span",
    "SubpromptWeight",
    "Text",
    "Transformer",
    "Visitor",
    "children",
    "walk",
    "weighted",
]


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


_N = TypeVar("_N", bound="_Node")

#: Fields of the core nodes (and their subclasses) that hold child nodes; every other field
#: compares (and hashes) as a plain value. A plugin's own node class compares all its fields
#: as values: a name may mean something else there (compel's ``Swap.options`` are settings).
_CHILD_FIELDS = frozenset({"body", "before", "after", "options"})
_PLAIN_FIELDS: dict[type, tuple[str, ...]] = {}
_REPR_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain_fields(cls: type) -> tuple[str, ...]:
    names = _PLAIN_FIELDS.get(cls)
    if names is None:
        fields = attrs.fields(cls)
        skip = _CHILD_FIELDS if issubclass(cls, _Node) else frozenset()
        names = _PLAIN_FIELDS[cls] = tuple(f.name for f in fields if f.eq and f.name not in skip)
    return names


def _repr_fields(cls: type) -> tuple[str, ...]:
    names = _REPR_FIELDS.get(cls)
    if names is None:
        names = _REPR_FIELDS[cls] = tuple(f.name for f in attrs.fields(cls) if f.repr)
    return names


def _plain(node: _Node) -> tuple[Any, ...]:
    return tuple(getattr(node, name) for name in _plain_fields(type(node)))


def _kids(node: Any) -> tuple[tuple[Node, ...], ...]:
    """``node.children()``; a node of a plugin's own type without the protocol is a leaf."""
    method = getattr(node, "children", None)
    return () if method is None else method()


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class _Node:
    """Base of the tree nodes: the child protocol, and equality, hashing and ``repr``.

    Equality, hashing and ``repr`` compare and print what attrs would, but walk
    the tree with an explicit stack, so a 10,000-deep tree compares, hashes and
    prints without reaching Python's recursion limit.
    """

    __slots__ = ()

    def children(self) -> tuple[tuple[Node, ...], ...]:
        """The child sequences of this node, in source order (none for a leaf).

        Example:
            >>> import naiprompt
            >>> naiprompt.parse("[a:b:3]").body[0].children()
            ((Text(value='a'),), (Text(value='b'),))
            >>> Text(value="a").children()
            ()
        """
        return ()

    def replace(self: _N, *children: Sequence[Node]) -> _N:
        """This node with new child sequences, in the shape :meth:`children` gives.

        Returns the node itself when every new sequence holds the very same
        nodes, so an unchanged subtree keeps its identity and spelling hints.

        Example:
            >>> node = Emphasis(body=[Text(value="a")], weight=1.1)
            >>> node.replace([Text(value="b")])
            Emphasis(body=(Text(value='b'),), weight=1.1)
            >>> node.replace(node.body) is node
            True
        """
        if children:
            raise TypeError(f"{type(self).__name__} has no child nodes")
        return self

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _equal(self, other)

    def __ne__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return not _equal(self, other)

    def __hash__(self) -> int:
        return hash(tuple(_shape(self)))

    def __repr__(self) -> str:
        return "".join(_repr_pieces(self))


def _equal(a: _Node, b: _Node) -> bool:
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if x.__class__ is not y.__class__ or _plain(x) != _plain(y):
            return False
        xs, ys = _kids(x), _kids(y)
        if len(xs) != len(ys):
            return False
        for xseq, yseq in zip(xs, ys, strict=True):
            if len(xseq) != len(yseq):
                return False
            stack.extend(zip(xseq, yseq, strict=True))
    return True


def _shape(node: _Node) -> Iterator[Any]:
    """The tree in pre-order as flat items: each node's class, plain fields and child lengths."""
    stack = [node]
    while stack:
        item = stack.pop()
        kids = _kids(item)
        yield item.__class__, _plain(item), tuple(len(seq) for seq in kids)
        for seq in reversed(kids):
            stack.extend(reversed(seq))


def _repr_pieces(node: _Node) -> Iterator[str]:
    # Work items: a string to emit, or a value to expand (a node, a tuple, anything else).
    work: list[Any] = [node]
    while work:
        item = work.pop()
        if isinstance(item, _Repr):
            yield item.text
        elif isinstance(item, _Node):
            names = _repr_fields(type(item))
            work.append(_Repr(")"))
            for index in range(len(names) - 1, -1, -1):
                work.append(getattr(item, names[index]))
                work.append(_Repr(("" if index == 0 else ", ") + names[index] + "="))
            yield type(item).__name__ + "("
        elif isinstance(item, tuple):
            work.append(_Repr(",)" if len(item) == 1 else ")"))
            for index in range(len(item) - 1, -1, -1):
                work.append(item[index])
                if index:
                    work.append(_Repr(", "))
            yield "("
        else:
            yield repr(item)


class _Repr:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Text(_Node):
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


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Emphasis(_Node):
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

    def children(self) -> tuple[tuple[Node, ...], ...]:
        """``(body,)``; see :meth:`_Node.children`."""
        return (self.body,)

    def replace(self, *children: Sequence[Node]) -> Emphasis:
        """A copy with a new body; see :meth:`_Node.replace`."""
        (body,) = children
        return self if _same(body, self.body) else attrs.evolve(self, body=tuple(body))


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Schedule(_Node):
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

    def children(self) -> tuple[tuple[Node, ...], ...]:
        """``(before, after)``, or ``(after,)`` for the two-part form; see :meth:`_Node.children`."""
        return (self.after,) if self.before is None else (self.before, self.after)

    def replace(self, *children: Sequence[Node]) -> Schedule:
        """A copy with new branches; see :meth:`_Node.replace`."""
        if self.before is None:
            (after,) = children
            return self if _same(after, self.after) else attrs.evolve(self, after=tuple(after))
        before, after = children
        if _same(before, self.before) and _same(after, self.after):
            return self
        return attrs.evolve(self, before=tuple(before), after=tuple(after))


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Alternate(_Node):
    """Alternation ``[a|b|c]``: one option per sampling step, in turn (WebUI).

    Example:
        >>> import naiprompt
        >>> len(naiprompt.parse("[cat|dog]").body[0].options)
        2
    """

    options: tuple[tuple[Node, ...], ...] = attrs.field(converter=_options)
    span: Span | None = _span_field()

    def children(self) -> tuple[tuple[Node, ...], ...]:
        """The options; see :meth:`_Node.children`."""
        return self.options

    def replace(self, *children: Sequence[Node]) -> Alternate:
        """A copy with new options (as many as before); see :meth:`_Node.replace`."""
        if len(children) != len(self.options):
            raise ValueError(f"Alternate has {len(self.options)} options, got {len(children)}")
        if all(_same(new, old) for new, old in zip(children, self.options, strict=True)):
            return self
        return attrs.evolve(self, options=children)


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Break(_Node):
    """``BREAK``: WebUI closes the current 75-token chunk here.

    ``raw`` keeps the whitespace around the keyword, which WebUI drops.

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("a BREAK b").body[1]
        Break()
    """

    raw: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True, eq=False, repr=False)
class And(_Node):
    """``AND``: separates composable-diffusion subprompts (WebUI).

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("a AND b").body[1]
        And()
    """

    span: Span | None = _span_field()


@attrs.frozen(kw_only=True, eq=False, repr=False)
class SubpromptWeight(_Node):
    """The trailing ``:w`` of a WebUI subprompt, its composable (CFG) weight.

    Example:
        >>> import naiprompt
        >>> naiprompt.parse("a cat :0.5").body[-1].weight
        0.5
    """

    weight: float
    raw: str | None = _hint_field()
    span: Span | None = _span_field()


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Network(_Node):
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

#: The core classes without children: :func:`walk` knows them without asking.
_LEAVES = frozenset({Text, Break, And, SubpromptWeight, Network})
"""Any node that can appear in a prompt body."""


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Prompt(_Node):
    """The root: a whole prompt, and the dialect it was parsed with.

    ``source`` is the text it was read from; ``warnings`` what the lenient reader
    had to guess there, as :class:`~naiprompt.errors.PromptWarning` objects.

    Example:
        >>> import naiprompt
        >>> tree = naiprompt.parse("{smile}", "nai")
        >>> tree.dialect, naiprompt.render(tree)
        ('nai', '{smile}')
    """

    body: tuple[Node, ...] = attrs.field(converter=_nodes)
    dialect: str = attrs.field(default=defaults.DIALECT, eq=False)
    source: str | None = attrs.field(default=None, eq=False, repr=False)
    warnings: tuple[PromptWarning, ...] = attrs.field(default=(), eq=False, repr=False)

    def children(self) -> tuple[tuple[Node, ...], ...]:
        """``(body,)``; see :meth:`_Node.children`."""
        return (self.body,)

    def replace(self, *children: Sequence[Node]) -> Prompt:
        """A copy with a new body; see :meth:`_Node.replace`.

        The copy forgets ``source``, which described the old body.
        """
        (body,) = children
        return self if _same(body, self.body) else attrs.evolve(self, body=tuple(body), source=None)


def children(node: Node | Prompt) -> Iterator[tuple[Node, ...]]:
    """Yield each child sequence of ``node`` (bodies, branches, options).

    The same as iterating over ``node.children()``.

    Example:
        >>> import naiprompt
        >>> [len(c) for c in children(naiprompt.parse("[a:b:3]").body[0])]
        [1, 1]
    """
    yield from _kids(node)


def walk(node: Node | Prompt) -> Iterator[Node]:
    """Yield every node under ``node`` in source order, depth first (pre-order).

    Example:
        >>> import naiprompt
        >>> [type(n).__name__ for n in walk(naiprompt.parse("a (b)"))]
        ['Text', 'Emphasis', 'Text']
    """
    # One iterator per child sequence being walked; the inner loop runs over siblings and
    # breaks out to the new top of the stack when a node has children.
    stack: list[Iterator[Node]] = [iter(seq) for seq in reversed(_kids(node))]
    leaves = _LEAVES
    while stack:
        for item in stack[-1]:
            yield item
            cls = item.__class__
            if cls in leaves:  # the core classes answer without a call: most nodes are these
                continue
            if cls is Emphasis:
                stack.append(iter(item.body))  # type: ignore[union-attr]
                break
            kids = _kids(item)
            if kids:
                stack.extend(map(iter, reversed(kids)))
                break
        else:
            stack.pop()


def weighted(nodes: Sequence[Node], weight: float = 1.0) -> Iterator[tuple[Node, float]]:
    """Yield every node under ``nodes`` that is not an :class:`Emphasis`, with its weight.

    Emphasis is transparent: its body is walked and its weight multiplies
    everything in it, outer level first (``weight * outer.weight * inner.weight``,
    in that order, so the products are the same floats every weight walk gets).
    Any other node is yielded as it is, children and all: a :class:`Schedule`,
    an :class:`Alternate` or a plugin's node with parts is not entered. Source
    order, and an explicit stack: any depth works.

    Example:
        >>> import naiprompt
        >>> [(type(node).__name__, w) for node, w in weighted(naiprompt.parse("a ((b) [c:d:2])").body)]
        [('Text', 1.0), ('Text', 1.2100000000000002), ('Text', 1.1), ('Schedule', 1.1)]
        >>> [w for _, w in weighted([Emphasis(body=[Text(value="x")], weight=1.2)], 0.5)]
        [0.6]
    """
    # One frame per open emphasis level: the iterator over its body and the weight there.
    # The inner loop runs over siblings, so a flat body costs one frame, not one per node.
    stack: list[tuple[Iterator[Node], float]] = [(iter(nodes), weight)]
    while stack:
        siblings, current = stack[-1]
        for node in siblings:
            if isinstance(node, Emphasis):
                stack.append((iter(node.body), current * node.weight))
                break
            yield node, current
        else:
            stack.pop()


# --------------------------------------------------------------------------------------------
# Walking and rewriting trees, without recursion.

Replacement: TypeAlias = "Node | Sequence[Node] | None"
"""What a ``leave`` hook returns: a node (the same one to keep it), a sequence of
nodes to splice in its place (empty to remove it), or ``None`` to remove it."""


def _hook_name(prefix: str, cls: type) -> str:
    return prefix + cls.__name__


class Visitor:
    """A read-only walk over a tree, with a hook per node type.

    Define ``visit_<Node>(node)`` (before the node's children; return ``False``
    to skip them) and ``leave_<Node>(node)`` (after them), for example
    ``visit_Emphasis`` or ``leave_Text``. :meth:`walk` goes through the tree in
    source order with an explicit stack, so any depth works.

    Example:
        >>> import naiprompt
        >>> class Words(Visitor):
        ...     def __init__(self):
        ...         self.words = []
        ...     def visit_Text(self, node):
        ...         self.words.append(node.value)
        >>> words = Words()
        >>> words.walk(naiprompt.parse("a (b [c])"))
        >>> words.words
        ['a ', 'b ', 'c']
    """

    def visit(self, node: Node | Prompt) -> bool | None:
        """Called before ``node``'s children: dispatches to ``visit_<Node>``.

        Example:
            >>> Visitor().visit(Text(value="a")) is None
            True
        """
        hook = getattr(self, _hook_name("visit_", type(node)), None)
        return None if hook is None else hook(node)

    def leave(self, node: Node | Prompt) -> None:
        """Called after ``node``'s children: dispatches to ``leave_<Node>``.

        Example:
            >>> Visitor().leave(Text(value="a")) is None
            True
        """
        hook = getattr(self, _hook_name("leave_", type(node)), None)
        if hook is not None:
            hook(node)

    def walk(self, tree: Node | Prompt | Sequence[Node]) -> None:
        """Visit ``tree`` (a prompt, a node, or a sequence of nodes) and everything under it.

        Example:
            >>> import naiprompt
            >>> class Count(Visitor):
            ...     emphasis = 0
            ...     def leave_Emphasis(self, node):
            ...         self.emphasis += 1
            >>> counter = Count()
            >>> counter.walk(naiprompt.parse("(" * 10_000 + "a"))
            >>> counter.emphasis
            10000
        """
        # Work items: (node, entered). An entered node is left once its children are done.
        roots: Sequence[Node | Prompt] = tree if isinstance(tree, (list, tuple)) else (tree,)
        work: list[tuple[Node | Prompt, bool]] = [(node, False) for node in reversed(roots)]
        while work:
            node, entered = work.pop()
            if entered:
                self.leave(node)
                continue
            kids = _kids(node)
            if kids and self.visit(node) is not False:
                work.append((node, True))
                for seq in reversed(kids):
                    work.extend((child, False) for child in reversed(seq))
            else:
                if not kids:
                    self.visit(node)
                self.leave(node)


class _Frame:
    """One node being rebuilt: its child sequences, where the walk is, what it made."""

    __slots__ = ("changed", "done", "node", "out", "position", "seqs", "which")

    def __init__(self, node: Node | Prompt | None, seqs: Sequence[Sequence[Node]]) -> None:
        self.node = node
        self.seqs = seqs
        self.which = 0  # the child sequence being walked
        self.position = 0  # the next node in it
        self.out: list[Node] | None = None  # the new sequence, once something in it changed
        self.done: list[tuple[Node, ...]] = []
        self.changed = False

    def emit(self, original: Node, result: Replacement) -> None:
        if result is original:
            if self.out is not None:
                self.out.append(original)
            return
        if self.out is None:
            self.out = list(self.seqs[self.which][: self.position - 1])
        if result is None:
            return
        if isinstance(result, (tuple, list)):
            self.out.extend(result)
        else:
            self.out.append(result)  # type: ignore[arg-type]


class Transformer:
    """A bottom-up rewrite of a tree, with a hook per node type (in the spirit of LibCST).

    Define ``leave_<Node>(node)`` to rewrite a node once its children are
    rewritten: return the node (itself to keep it, or a new one), a sequence
    of nodes to splice in its place, or ``None`` (or ``()``) to remove it.
    ``visit_<Node>(node)`` may return ``False`` to leave the node's children
    alone, and :meth:`leave_sequence` sees every child sequence once its nodes
    are done (the innermost first, the top level last).

    Untouched subtrees keep their identity, so a transform that changes
    nothing returns the very same tree, which prints byte for byte as before.
    The walk uses an explicit stack: any depth works. A transformer is itself a
    transform (``Prompt -> Prompt``).

    Example:
        >>> import naiprompt
        >>> class Shout(Transformer):
        ...     def leave_Text(self, node):
        ...         return Text(value=node.value.upper())
        ...     def leave_Break(self, node):
        ...         return None
        >>> naiprompt.render(Shout()(naiprompt.parse("a (b:1.2) BREAK c")))
        'A (B:1.2)C'
    """

    def visit(self, node: Node | Prompt) -> bool | None:
        """Called before ``node``'s children: dispatches to ``visit_<Node>``.

        Return ``False`` to keep the children as they are.

        Example:
            >>> Transformer().visit(Text(value="a")) is None
            True
        """
        hook = getattr(self, _hook_name("visit_", type(node)), None)
        return None if hook is None else hook(node)

    def leave(self, node: Node) -> Replacement:
        """Called with ``node`` rebuilt from its new children: dispatches to ``leave_<Node>``.

        Example:
            >>> node = Text(value="a")
            >>> Transformer().leave(node) is node
            True
        """
        hook = getattr(self, _hook_name("leave_", type(node)), None)
        return node if hook is None else hook(node)

    def leave_sequence(self, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        """Called with every child sequence once its nodes are rewritten (default: as is).

        Example:
            >>> Transformer().leave_sequence((Text(value="a"),))
            (Text(value='a'),)
        """
        return nodes

    def __call__(self, prompt: Prompt) -> Prompt:
        """Rewrite a whole prompt (the hook ``leave_Prompt`` sees the root).

        Example:
            >>> import naiprompt
            >>> tree = naiprompt.parse("a")
            >>> Transformer()(tree) is tree
            True
        """
        return self.transform(prompt)

    def transform(self, prompt: Prompt) -> Prompt:
        """Rewrite ``prompt``: its body bottom-up, then ``leave_Prompt`` on the root.

        Example:
            >>> import naiprompt
            >>> class Unweight(Transformer):
            ...     def leave_Emphasis(self, node):
            ...         return node.body
            >>> naiprompt.render(Unweight().transform(naiprompt.parse("(" * 10_000 + "a")))
            'a'
        """
        (body,) = self._run(prompt, prompt.children())
        new = prompt.replace(body)
        hook = getattr(self, "leave_Prompt", None)
        result = new if hook is None else hook(new)
        if not isinstance(result, Prompt):
            raise TypeError(f"leave_Prompt returned {type(result).__name__}, not a Prompt")
        return result

    def transform_sequence(self, nodes: Sequence[Node]) -> tuple[Node, ...]:
        """Rewrite a sequence of nodes (a prompt body, a branch).

        Returns the same tuple when nothing changed.

        Example:
            >>> class Drop(Transformer):
            ...     def leave_Text(self, node):
            ...         return None
            >>> Drop().transform_sequence((Text(value="a"), Break()))
            (Break(),)
        """
        (result,) = self._run(None, (tuple(nodes),))
        return result

    def transform_children(self, node: _N) -> _N:
        """Rewrite the children of ``node`` (not ``node`` itself).

        Example:
            >>> class Up(Transformer):
            ...     def leave_Text(self, node):
            ...         return Text(value=node.value.upper())
            >>> Up().transform_children(Emphasis(body=[Text(value="a")], weight=1.1))
            Emphasis(body=(Text(value='A'),), weight=1.1)
        """
        return node.replace(*self._run(node, node.children()))  # type: ignore[arg-type]

    def _run(self, root: Node | Prompt | None, seqs: Sequence[Sequence[Node]]) -> list[tuple[Node, ...]]:
        stack = [_Frame(root, seqs)]
        leave = self.leave
        visit = self.visit
        finish_sequence = self.leave_sequence
        while True:
            frame = stack[-1]
            if frame.which < len(frame.seqs):
                seq = frame.seqs[frame.which]
                if frame.position < len(seq):
                    child = seq[frame.position]
                    frame.position += 1
                    kids = _kids(child)
                    if kids and visit(child) is not False:
                        stack.append(_Frame(child, kids))
                    else:
                        if not kids:
                            visit(child)
                        frame.emit(child, leave(child))
                    continue
                new = tuple(seq) if frame.out is None else tuple(frame.out)
                new = finish_sequence(new)
                if not _same(new, seq):
                    frame.changed = True
                else:
                    new = seq if isinstance(seq, tuple) else new
                frame.done.append(new)
                frame.which += 1
                frame.position = 0
                frame.out = None
                continue
            if len(stack) == 1:
                return frame.done
            stack.pop()
            node = frame.node
            assert node is not None and not isinstance(node, Prompt)
            rebuilt = node.replace(*frame.done) if frame.changed else node
            stack[-1].emit(node, leave(rebuilt))
