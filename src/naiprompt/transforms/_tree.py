"""Tree plumbing shared by the built-in transforms (not public API).

Rebuilding keeps untouched nodes (and their spelling hints) as they are, so a
transform that changes nothing leaves the prompt printing byte for byte the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence

import attrs

from naiprompt.ast import (
    And,
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Replacement,
    SubpromptWeight,
    Text,
    Transformer,
)
from naiprompt.dialects import Dialect, Notation

Leave = Callable[[Node], Replacement]


def _dialect(name: str | Dialect) -> Dialect:
    from naiprompt.dialects import get_dialect

    return get_dialect(name)


def bracket_weight(dialect: str | Dialect) -> float:
    """The factor of one emphasis level in ``dialect`` (``Dialect.bracket_weight``)."""
    return float(_dialect(dialect).bracket_weight)


def deemphasis_weight(dialect: str | Dialect) -> float | None:
    """The factor of one de-emphasis level in ``dialect``, or None when it has no such bracket."""
    factor = getattr(_dialect(dialect), "deemphasis_weight", Dialect.deemphasis_weight)
    return None if factor is None else float(factor)


def has_deemphasis(dialect: str | Dialect) -> bool:
    """Whether ``dialect`` has a de-emphasis bracket (``[x]``)."""
    return deemphasis_weight(dialect) is not None


def level_notations(dialect: str | Dialect) -> tuple[str | None, str | None]:
    """Spelling hints ``(up, down)`` of one bracket level in ``dialect`` (``Dialect.level_spelling``)."""
    up, down = getattr(_dialect(dialect), "level_spelling", Dialect.level_spelling)
    return up, down


def explicit_notation(dialect: str | Dialect) -> str | None:
    """Spelling hint of an explicit weight in ``dialect`` (``None``: the printer picks)."""
    spelling: str | None = getattr(_dialect(dialect), "weight_spelling", Dialect.weight_spelling)
    return spelling


def writes(dialect: str | Dialect, notation: Notation) -> bool:
    """Whether ``dialect`` can write ``notation`` (``Dialect.notations``)."""
    return notation in getattr(_dialect(dialect), "notations", Dialect.notations)


def close(a: float, b: float, tolerance: float = 1e-9) -> bool:
    """Weights equal up to float noise (relative ``tolerance``)."""
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance * 1e-3)


def is_level(node: Emphasis, dialect: str | Dialect) -> bool:
    """Whether ``node`` is one plain bracket level of ``dialect`` (``(x)``, ``{x}``, ``[x]``)."""
    if node.notation in ("explicit", "numeric"):
        return False
    down = deemphasis_weight(dialect)
    return close(node.weight, bracket_weight(dialect)) or (down is not None and close(node.weight, down))


def levels(body: Sequence[Node], count: int, factor: float, notation: str | None) -> Emphasis:
    """``count`` (>= 1) nested emphasis levels of ``factor`` around ``body``."""
    node = Emphasis(body=tuple(body), weight=factor, notation=notation)
    for _ in range(count - 1):
        node = Emphasis(body=(node,), weight=factor, notation=notation)
    return node


def same(a: Sequence[Node], b: Sequence[Node]) -> bool:
    """Identity (not equality) of two node sequences: did a rebuild change anything?"""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _same_optional(a: Sequence[Node] | None, b: Sequence[Node] | None) -> bool:
    if a is None or b is None:
        return a is b
    return same(a, b)


def merge_texts(nodes: Iterable[Node]) -> tuple[Node, ...]:
    """Join adjacent :class:`Text` nodes; drop empty ones."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Text):
            if not node.value:
                continue
            if out and isinstance(out[-1], Text):
                prev = out[-1]
                raw = prev.raw + node.raw if prev.raw is not None and node.raw is not None else None
                out[-1] = Text(value=prev.value + node.value, raw=raw)
                continue
        out.append(node)
    return tuple(out)


class _Leave(Transformer):
    """A :class:`~naiprompt.ast.Transformer` calling one function on every node."""

    def __init__(self, leave: Leave) -> None:
        self._leave = leave

    def leave(self, node: Node) -> Replacement:
        return self._leave(node)


class OnEmphasis(Transformer):
    """A :class:`~naiprompt.ast.Transformer` whose one hook, ``leave_Emphasis``, is ``leave``."""

    def __init__(self, leave: Callable[[Emphasis], Replacement]) -> None:
        self.leave_Emphasis = leave


class _Sequences(Transformer):
    """A :class:`~naiprompt.ast.Transformer` calling one function on every node sequence."""

    def __init__(self, fn: Callable[[tuple[Node, ...]], tuple[Node, ...]]) -> None:
        self._fn = fn

    def leave(self, node: Node) -> Replacement:
        return node

    def leave_sequence(self, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        return self._fn(nodes)


def rebuild(seq: Sequence[Node], leave: Leave) -> tuple[Node, ...]:
    """Bottom-up rewrite: children first, then ``leave(node)`` (any depth, no recursion).

    ``leave`` returns a node (possibly the same), a tuple of nodes to splice in,
    or ``None`` to remove the node.
    """
    return _Leave(leave).transform_sequence(seq)


def rebuild_children(node: Node, leave: Leave) -> Node:
    """Rebuild the child sequences of ``node`` with :func:`rebuild`."""
    return _Leave(leave).transform_children(node)


def map_sequences(
    seq: Sequence[Node], fn: Callable[[tuple[Node, ...]], tuple[Node, ...]]
) -> tuple[Node, ...]:
    """Apply ``fn`` to every node sequence (innermost first), the top one last."""
    return _Sequences(fn).transform_sequence(seq)


def with_body(prompt: Prompt, body: Sequence[Node]) -> Prompt:
    """``prompt`` with a new body (the same object when nothing changed)."""
    if same(tuple(body), prompt.body):
        return prompt
    return attrs.evolve(prompt, body=tuple(body), source=None)


# --------------------------------------------------------------------------------------------
# Tags: a sequence split at commas into items and separators.


_SEPARATOR = re.compile(r"\s*,\s*")
_BARRIERS = (Break, And, SubpromptWeight)


@attrs.define
class Segment:
    """A run of nodes that is either one tag (an item) or what lies between tags."""

    nodes: list[Node]
    is_sep: bool
    barrier: bool = False  # holds a BREAK / AND / subprompt weight

    @property
    def only_networks(self) -> bool:
        """An item made of extra networks (and whitespace) only."""
        return all(
            isinstance(n, Network) or (isinstance(n, Text) and not n.value.strip()) for n in self.nodes
        )


def split_items(seq: Sequence[Node]) -> list[Segment]:
    """Split a sequence into alternating separator and item segments.

    Separators are commas with their surrounding whitespace, ``BREAK``, ``AND``,
    a subprompt weight, and whitespace at the edges of an item.
    """
    pieces: list[tuple[bool, Node]] = []
    for node in seq:
        if isinstance(node, Text):
            matches = list(_SEPARATOR.finditer(node.value))
            if not matches:
                pieces.append((False, node))
                continue
            pos = 0
            for match in matches:
                if match.start() > pos:
                    pieces.append((False, Text(value=node.value[pos : match.start()])))
                pieces.append((True, Text(value=match.group())))
                pos = match.end()
            if pos < len(node.value):
                pieces.append((False, Text(value=node.value[pos:])))
        else:
            pieces.append((isinstance(node, _BARRIERS), node))

    segments: list[Segment] = []
    for is_sep, node in pieces:
        if segments and segments[-1].is_sep == is_sep:
            segments[-1].nodes.append(node)
        else:
            segments.append(Segment([node], is_sep))

    # Whitespace at the edges of an item belongs to the separators around it.
    trimmed: list[Segment] = []
    for segment in segments:
        if segment.is_sep:
            _append_sep(trimmed, segment.nodes)
            continue
        nodes = list(segment.nodes)
        lead: list[Node] = []
        trail: list[Node] = []
        while nodes and isinstance(nodes[0], Text):
            value = nodes[0].value
            stripped = value.lstrip()
            if stripped == value:
                break
            lead.append(Text(value=value[: len(value) - len(stripped)]))
            if stripped:
                nodes[0] = Text(value=stripped)
            else:
                nodes.pop(0)
        while nodes and isinstance(nodes[-1], Text):
            value = nodes[-1].value
            stripped = value.rstrip()
            if stripped == value:
                break
            trail.insert(0, Text(value=value[len(stripped) :]))
            if stripped:
                nodes[-1] = Text(value=stripped)
            else:
                nodes.pop()
        if lead:
            _append_sep(trimmed, lead)
        if nodes:
            trimmed.append(Segment(nodes, False))
        if trail:
            _append_sep(trimmed, trail)
    for segment in trimmed:
        segment.barrier = segment.is_sep and any(isinstance(n, _BARRIERS) for n in segment.nodes)
    return trimmed


def _append_sep(segments: list[Segment], nodes: list[Node]) -> None:
    if segments and segments[-1].is_sep:
        segments[-1].nodes.extend(nodes)
    else:
        segments.append(Segment(list(nodes), True))


def join_items(segments: Iterable[Segment]) -> tuple[Node, ...]:
    """Concatenate segments back into a node sequence (adjacent texts merged)."""
    return merge_texts(node for segment in segments for node in segment.nodes)


def groups(segments: list[Segment]) -> list[list[int]]:
    """Indices of the item segments, grouped between barriers (BREAK, AND)."""
    result: list[list[int]] = [[]]
    for index, segment in enumerate(segments):
        if segment.barrier:
            result.append([])
        elif not segment.is_sep:
            result[-1].append(index)
    return [group for group in result if group]


def remove_items(segments: list[Segment], doomed: set[int]) -> list[Segment]:
    """Drop the item segments at ``doomed`` together with one neighbouring comma separator."""
    out = list(segments)
    for index in sorted(doomed, reverse=True):
        before = out[index - 1] if index > 0 else None
        after = out[index + 1] if index + 1 < len(out) else None
        # Prefer the separator after the tag: the one before it belongs to the tag that stays.
        if after is not None and after.is_sep and not after.barrier and _is_comma(after):
            out[index : index + 2] = []
        elif before is not None and before.is_sep and not before.barrier and _is_comma(before):
            out[index - 1 : index + 1] = []
        else:
            out[index : index + 1] = []
    # Separators that became neighbours are merged; keep the first one's text.
    merged: list[Segment] = []
    for segment in out:
        if merged and segment.is_sep and merged[-1].is_sep:
            if segment.barrier or merged[-1].barrier:
                merged[-1].nodes.extend(segment.nodes)
                merged[-1].barrier = True
            continue
        merged.append(segment)
    return merged


def _is_comma(segment: Segment) -> bool:
    return any(isinstance(n, Text) and "," in n.value for n in segment.nodes)
