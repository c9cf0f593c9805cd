"""From compel's reading to the shared AST, keeping every source character.

Every character of the source lands in exactly one node: words and the
whitespace between them in :class:`~naiprompt.ast.Text` (``raw`` is the source,
``value`` the text with compel's escapes resolved), weights in
:class:`~naiprompt.ast.Emphasis` (``notation`` says how the target was written,
``compel-word``, ``compel-paren`` or ``compel-quote``, and after a ``|`` the
source after the target: ``+``, ``1.3``, `` .attend(0.8)``), the constructs
compel alone has in its own nodes. So the compel printer can give the source back byte for byte.

Example:
    >>> from naiprompt.contrib.compel import Compel
    >>> Compel().parse("a (b c)1.3").body
    (Text(value='a '), Emphasis(body=(Text(value='b c'),), weight=1.3))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from naiprompt.ast import Emphasis, Span, Text
from naiprompt.contrib._compel_nodes import Blend, CompelNode, Conjunction, Lora, Swap
from naiprompt.contrib._compel_reader import Att, Blank, Group, Item, Multi, Reading, Word, unquote
from naiprompt.contrib._compel_reader import Lora as LoraItem
from naiprompt.contrib._compel_reader import Swap as SwapItem
from naiprompt.contrib._compel_weights import unescape_once

#: ``Emphasis.notation`` of the three spellings of a compel target.
WORD, PAREN, QUOTE = "compel-word", "compel-paren", "compel-quote"


def text_value(raw: str, *, quoted: bool) -> str:
    """The text compel reads in ``raw``: escapes resolved (and, inside quotes, pyparsing's unquoting).

    Example:
        >>> text_value(r"ganyu \\(genshin\\)", quoted=False)
        'ganyu (genshin)'
    """
    if quoted:
        raw = unquote(raw).replace('"', '\\"')
    return unescape_once(raw)


@attrs.define
class _Frame:
    items: tuple[Item, ...]
    index: int
    pos: int  # start of the text not yet turned into a node (in reading coordinates)
    end: int
    shift: int  # reading coordinates + shift = coordinates of the preprocessed prompt
    quoted: bool
    out: list[CompelNode]
    done: Callable[[list[CompelNode]], None]


@attrs.define
class _Collect:
    """Gathers the bodies of a node with several parts, then builds it."""

    count: int
    build: Callable[[list[list[CompelNode]]], CompelNode]
    sink: list[CompelNode]
    parts: dict[int, list[CompelNode]] = attrs.field(factory=dict)

    def taker(self, index: int) -> Callable[[list[CompelNode]], None]:
        def take(nodes: list[CompelNode]) -> None:
            self.parts[index] = nodes
            if len(self.parts) == self.count:
                self.sink.append(self.build([self.parts[i] for i in range(self.count)]))

        return take


class Builder:
    """Builds the AST of one reading; ``origin`` maps preprocessed positions to the source."""

    def __init__(self, source: str, origin: list[int]) -> None:
        self.source = source
        self.origin = origin

    def src(self, start: int, end: int) -> str:
        return self.source[self.origin[start] : self.origin[end]]

    def span(self, start: int, end: int) -> Span:
        return Span(self.origin[start], self.origin[end])

    def text(self, out: list[CompelNode], start: int, end: int, *, quoted: bool) -> None:
        if start >= end:
            return
        raw = self.src(start, end)
        if raw:
            out.append(Text(value=text_value(raw, quoted=quoted), raw=raw, span=self.span(start, end)))

    def build(self, reading: Reading) -> list[CompelNode]:
        result: list[CompelNode] = []
        stack: list[_Frame] = [_Frame(reading.items, 0, 0, reading.end, 0, False, [], result.extend)]
        self._run(stack)
        if reading.end < len(reading.text):
            self.text(result, reading.end, len(reading.text), quoted=False)
        return result

    def _run(self, stack: list[_Frame]) -> None:
        while stack:
            frame = stack[-1]
            if frame.index == len(frame.items):
                self.text(frame.out, frame.pos + frame.shift, frame.end + frame.shift, quoted=frame.quoted)
                stack.pop()
                frame.done(frame.out)
                continue
            item = frame.items[frame.index]
            frame.index += 1
            if isinstance(item, Word):
                continue  # words join the text between the other items
            self.text(frame.out, frame.pos + frame.shift, item.start + frame.shift, quoted=frame.quoted)
            frame.pos = item.end
            self._item(item, frame, stack)

    def _body(
        self,
        target: Item,
        frame: _Frame,
        stack: list[_Frame],
        done: Callable[[list[CompelNode]], None],
    ) -> None:
        """Schedule the content of a target (word, group, blank) to be built, then ``done``."""
        shift = frame.shift
        if isinstance(target, Word):
            nodes: list[CompelNode] = []
            self.text(nodes, target.start + shift, target.end + shift, quoted=frame.quoted)
            done(nodes)
            return
        start, end = _content(target)
        if isinstance(target, Blank) or (isinstance(target, Group) and target.kind == "quote"):
            if isinstance(target, Group) and target.offset is not None:
                frame_shift = shift + target.offset
                stack.append(_Frame(target.items, 0, 0, end - target.offset, frame_shift, True, [], done))
            else:  # blank, or unquoting changed the text: one text node for the content
                nodes = []
                self.text(nodes, start + shift, end + shift, quoted=True)
                done(nodes)
            return
        assert isinstance(target, Group)
        stack.append(_Frame(target.items, 0, start, end, shift, frame.quoted, [], done))

    def _item(self, item: Item, frame: _Frame, stack: list[_Frame]) -> None:
        shift, out = frame.shift, frame.out
        span = self.span(item.start + shift, item.end + shift)
        if isinstance(item, LoraItem):
            raw = self.src(item.start + shift, item.end + shift)
            out.append(Lora(name="lora", args=(item.name, item.weight or "1"), raw=raw, span=span))
        elif isinstance(item, (Group, Blank)):
            notation = QUOTE if isinstance(item, Blank) or item.kind == "quote" else PAREN
            self._body(item, frame, stack, _emphasis(out, 1.0, notation, "", span))
        elif isinstance(item, Att):
            target = item.target
            if isinstance(target, Word):
                notation = WORD
            else:
                notation = PAREN if isinstance(target, Group) and target.kind == "paren" else QUOTE
            suffix = self.src(target.end + shift, item.end + shift)
            self._body(target, frame, stack, _emphasis(out, item.weight, notation, suffix, span))
        elif isinstance(item, SwapItem):
            self._swap(item, frame, stack, span)
        elif isinstance(item, Multi):
            self._multi(item, frame, stack, span)

    def _swap(self, item: SwapItem, frame: _Frame, stack: list[_Frame], span: Span) -> None:
        shift = frame.shift
        pieces: list[str] = []

        def build(parts: list[list[CompelNode]]) -> CompelNode:
            options = tuple((o[0], o[1].lstrip("=") if len(o) > 1 else "") for o in item.options)
            raw = (pieces[0], pieces[1], pieces[2])
            return Swap(original=parts[0], replacement=parts[1], options=options, raw=raw, span=span)

        start, end = _content(item.target)
        pieces.extend(
            (
                self.src(item.start + shift, start + shift),
                self.src(end + shift, item.replacement_start + shift),
                self.src(item.replacement_end + shift, item.end + shift),
            )
        )
        collect = _Collect(2, build, frame.out)
        stack.append(
            _Frame(
                item.replacement,
                0,
                item.replacement_start,
                item.replacement_end,
                shift,
                frame.quoted,
                [],
                collect.taker(1),
            )
        )
        self._body(item.target, frame, stack, collect.taker(0))

    def _multi(self, item: Multi, frame: _Frame, stack: list[_Frame], span: Span) -> None:
        shift = frame.shift
        bounds = [_content(part) for part in item.parts]

        def build(parts: list[list[CompelNode]]) -> CompelNode:
            edges = [item.start, *(edge for bound in bounds for edge in bound), item.end]
            raw = tuple(self.src(edges[i] + shift, edges[i + 1] + shift) for i in range(0, len(edges), 2))
            weights = item.weights or (1.0,) * len(parts)
            if item.operator == "blend":
                return Blend(parts=parts, weights=weights, normalize=item.normalize, raw=raw, span=span)
            return Conjunction(parts=parts, weights=weights, operator=item.operator, raw=raw, span=span)

        collect = _Collect(len(item.parts), build, frame.out)
        for index, part in enumerate(item.parts):
            self._body(part, frame, stack, collect.taker(index))


def _content(target: Item) -> tuple[int, int]:
    """Where the text of a target starts and ends (inside its parentheses or quotes)."""
    if isinstance(target, Word):
        return target.start, target.end
    return target.start + 1, target.end - 1


def _emphasis(
    out: list[CompelNode], weight: float, notation: str, suffix: str, span: Span
) -> Callable[[list[CompelNode]], None]:
    # The written weight rides in ``notation`` ("compel-paren|1.3"), not in ``raw_weight``:
    # other dialects' printers reuse a ``raw_weight`` as their own spelling.
    def done(nodes: list[CompelNode]) -> None:
        out.append(Emphasis(body=nodes, weight=weight, notation=f"{notation}|{suffix}", span=span))

    return done


def build(source: str, origin: list[int], reading: Reading) -> list[Any]:
    """The AST body of ``source``, read as ``reading`` (of its preprocessed text)."""
    return Builder(source, origin).build(reading)
