"""Lenient tree building shared by the bracket dialects.

WebUI and NovelAI read brackets with one stack per bracket kind: a closer ends
the range of the last opener *of its kind*, an unclosed opener runs to the end of
the prompt, and a closer with nothing to close is plain text. Ranges of
different kinds may therefore cross (``(a [b) c]``), which no tree can nest. The
builder keeps a tree anyway by cutting a crossed range into pieces: the piece
before the crossing is an :class:`~naiprompt.ast.Emphasis` with ``closed=False``,
the rest a continuation with ``opened=False``; all pieces share the weight that
the range's closer finally gives. Printing the pieces back reproduces the source.

Everything here is iterative, so 10,000 nested brackets need no recursion.

Example:
    >>> b = TreeBuilder({"round": 1.1})
    >>> b.open("round", 0); b.text("a", "a", 1, 2)
    >>> b.finish()
    (Emphasis(body=(Text(value='a'),), weight=1.1),)
"""

from __future__ import annotations

from collections.abc import Callable

from naiprompt.ast import Emphasis, Node, Span, Text
from naiprompt.errors import Problem

#: Builds a node from the frozen parts of a group (e.g. a schedule's branches).
GroupFactory = Callable[[list[tuple[Node, ...]], Span], Node]


class Range:
    """One bracket range, possibly cut into several pieces."""

    __slots__ = ("kind", "notation", "raw_weight", "start", "weight")

    def __init__(self, kind: str, weight: float | None = None, notation: str | None = None) -> None:
        self.kind = kind
        self.weight = weight
        self.notation = notation
        self.raw_weight: str | None = None
        #: Where the opener stands (set by :meth:`TreeBuilder.open`): a warning about an
        #: unclosed range points there, not at the piece left after a crossing closer.
        self.start = -1


class _Frame:
    __slots__ = ("children", "closed", "end", "factory", "opened", "parts", "range", "start")

    def __init__(self, rng: Range | None, start: int, opened: bool = True) -> None:
        self.range = rng
        self.children: list[_Frame | Node | _MText] = []
        self.opened = opened
        self.closed = False
        self.start = start
        self.end = start
        # Group frames (schedules, alternations) collect several bodies.
        self.parts: list[list[_Frame | Node | _MText]] | None = None
        self.factory: GroupFactory | None = None


class _MText:
    """Text being collected: pieces joined once at the end (``+=`` on an attribute is quadratic)."""

    __slots__ = ("end", "raws", "start", "values")

    def __init__(self, value: str, raw: str, start: int, end: int) -> None:
        self.values = [value]
        self.raws = [raw]
        self.start = start
        self.end = end

    @property
    def value(self) -> str:
        return "".join(self.values)

    @property
    def raw(self) -> str:
        return "".join(self.raws)


class TreeBuilder:
    """Builds a body (a tuple of nodes) from a stream of lexical events.

    ``defaults`` maps each bracket kind to the weight an unclosed range of that
    kind gets; ``notations`` to the spelling hint recorded for it.

    Example:
        >>> b = TreeBuilder({"round": 1.1, "square": 1 / 1.1})
        >>> b.open("round", 0); b.text("a", "a", 1, 2); b.open("square", 2); b.text("b", "b", 3, 4)
        >>> b.close("round", 1.1, "paren", 4, 5)
        True
        >>> b.text("c", "c", 5, 6); b.close("square", 1 / 1.1, "bracket", 6, 7)
        True
        >>> [type(n).__name__ for n in b.finish()]
        ['Emphasis', 'Emphasis']
    """

    def __init__(self, defaults: dict[str, float], notations: dict[str, str] | None = None) -> None:
        self.defaults = defaults
        self.notations = notations or {}
        self.root = _Frame(None, 0)
        self.stack: list[_Frame] = [self.root]
        # Stack positions of the open frames of each kind, so that finding the innermost
        # range of a kind takes constant time at any depth (a stray "]" under 10,000 "{"
        # would otherwise search them all, every time).
        self._positions: dict[str, list[int]] = {}
        #: What the reader read but the user likely did not mean, as ``(offset, code, message)``:
        #: a closer that cuts across an open bracket, a bracket that never closes. The
        #: strict grammar rejects both, so the lenient reader warns about both.
        self.problems: list[Problem] = []

    def _push(self, frame: _Frame) -> None:
        assert frame.range is not None
        self._positions.setdefault(frame.range.kind, []).append(len(self.stack))
        self.stack.append(frame)

    def _pop(self) -> _Frame:
        frame = self.stack.pop()
        assert frame.range is not None
        self._positions[frame.range.kind].pop()
        return frame

    # -- events -------------------------------------------------------------------------
    def text(self, value: str, raw: str, start: int, end: int) -> None:
        """Append literal text, merged with literal text right before it."""
        children = self.stack[-1].children
        last = children[-1] if children else None
        if isinstance(last, _MText):
            last.values.append(value)
            last.raws.append(raw)
            last.end = end
        else:
            children.append(_MText(value, raw, start, end))

    def leaf(self, node: Node) -> None:
        """Append a finished node (a network, a BREAK, a schedule...)."""
        self.stack[-1].children.append(node)

    def open(self, kind: str, start: int, rng: Range | None = None) -> None:
        """Open a range of ``kind`` at ``start``."""
        rng = rng or Range(kind)
        rng.start = start
        frame = _Frame(rng, start)
        self.stack[-1].children.append(frame)
        self._push(frame)

    def open_group(self, start: int, factory: GroupFactory) -> None:
        """Open a group (its bodies are separated by :meth:`next_part`)."""
        frame = _Frame(Range("group"), start)
        frame.parts = []
        frame.factory = factory
        self.stack[-1].children.append(frame)
        self._push(frame)

    def next_part(self) -> None:
        """Start the next body of the innermost group."""
        frame = self.stack[-1]
        assert frame.parts is not None
        frame.parts.append(frame.children)
        frame.children = []

    def close_group(self, end: int) -> None:
        """Close the innermost group."""
        frame = self._pop()
        assert frame.parts is not None
        frame.closed = True
        frame.end = end

    def find(self, kind: str) -> Range | None:
        """The innermost open range of ``kind``, if any."""
        positions = self._positions.get(kind)
        return self.stack[positions[-1]].range if positions else None

    def innermost(self) -> str | None:
        """The kind of the innermost open range (``"group"`` for a group), None at the top."""
        rng = self.stack[-1].range
        return rng.kind if rng is not None else None

    def is_open(self, kind: str) -> bool:
        """Whether a range of ``kind`` is open."""
        return bool(self._positions.get(kind))

    def close(
        self,
        kind: str,
        weight: float,
        notation: str | None,
        start: int,
        end: int,
        raw_weight: str | None = None,
        *,
        closed: bool = True,
    ) -> bool:
        """Close the last open range of ``kind``; False when none is open.

        Ranges opened after it stay open: they are cut here and continue after.
        """
        positions = self._positions.get(kind)
        if not positions:
            return False
        index = positions[-1]
        groups = self._positions.get("group")
        if kind != "group" and groups and groups[-1] > index:
            return False  # a closer never reaches out of a schedule/alternation
        crossed = self.stack[index + 1 :]
        if crossed:
            self.problems.append((start, "crossed-brackets", "closer cuts across an open bracket"))
        for _ in crossed:
            self._pop()
        for frame in crossed:
            frame.end = start
        target = self._pop()
        assert target.range is not None
        target.range.weight = weight
        target.range.notation = notation
        if raw_weight is not None:
            target.range.raw_weight = raw_weight
        target.closed = closed
        target.end = end
        for frame in crossed:  # the crossed ranges go on after the closer
            assert frame.range is not None
            cont = _Frame(frame.range, end, opened=False)
            self.stack[-1].children.append(cont)
            self._push(cont)
        return True

    def close_all(self, end: int) -> None:
        """Leave every open range unclosed (they run to ``end``)."""
        while len(self.stack) > 1:
            frame = self._pop()
            frame.end = end
            if frame.parts is not None:
                frame.closed = True
                continue
            rng = frame.range
            assert rng is not None
            self.problems.append((rng.start, "unclosed-bracket", "unclosed bracket"))
            if rng.weight is None:
                rng.weight = self.defaults[rng.kind]
                rng.notation = rng.notation or self.notations.get(rng.kind)

    # -- result -------------------------------------------------------------------------
    def finish(self, end: int | None = None) -> tuple[Node, ...]:
        """Close what is open and return the body as frozen nodes."""
        last = end if end is not None else self._last_end()
        self.close_all(last)
        return _freeze(self.root)

    def _last_end(self) -> int:
        frame = self.root
        while frame.children:
            child = frame.children[-1]
            if isinstance(child, _Frame):
                frame = child
                continue
            if isinstance(child, _MText):
                return child.end
            span = getattr(child, "span", None)
            return span.end if span is not None else frame.end
        return frame.end


def _freeze(root: _Frame) -> tuple[Node, ...]:
    # Post-order without recursion: a frame is frozen once all its children are.
    done: dict[int, Node] = {}
    stack: list[tuple[_Frame, bool]] = [(root, False)]
    result: tuple[Node, ...] = ()
    while stack:
        frame, expanded = stack.pop()
        if not expanded:
            stack.append((frame, True))
            for part in [*(frame.parts or ()), frame.children]:
                stack.extend((c, False) for c in part if isinstance(c, _Frame))
            continue
        if frame.parts is not None:
            assert frame.factory is not None
            parts = [_frozen_children(part, done) for part in [*frame.parts, frame.children]]
            done[id(frame)] = frame.factory(parts, Span(frame.start, frame.end))
            continue
        body = _frozen_children(frame.children, done)
        if frame.range is None:
            result = tuple(body)
            continue
        rng = frame.range
        weight = rng.weight if rng.weight is not None else 1.0
        done[id(frame)] = Emphasis(
            body=tuple(body),
            weight=weight,
            notation=rng.notation,
            opened=frame.opened,
            closed=frame.closed,
            raw_weight=rng.raw_weight,
            span=Span(frame.start, frame.end),
        )
    return result


def _frozen_children(children: list[_Frame | Node | _MText], done: dict[int, Node]) -> tuple[Node, ...]:
    body: list[Node] = []
    for child in children:
        if isinstance(child, _Frame):
            body.append(done.pop(id(child)))
        elif isinstance(child, _MText):
            body.append(Text(value=child.value, raw=child.raw, span=Span(child.start, child.end)))
        else:
            body.append(child)
    return tuple(body)
