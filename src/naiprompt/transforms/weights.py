"""Weight transforms: flatten, expand, round, snap, sort and strip emphasis.

Weight-only transforms (:func:`flatten`, :func:`expand`, :func:`round_weights`,
:func:`snap_weights`) never change the text a model sees, only its weights.

Example:
    >>> import naiprompt
    >>> from naiprompt.transforms import apply
    >>> naiprompt.render(apply("((a)), [b]", "flatten"))
    '(a:1.21), (b:0.9091)'
    >>> naiprompt.render(apply("(a:1.21), (b:0.9)", "expand"))
    '((a)), (b:0.9)'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import attrs

from naiprompt.ast import Emphasis, Node, Prompt, Text, Transformer, Visitor, _kids, weighted
from naiprompt.transforms import Transform
from naiprompt.transforms._tree import (
    OnEmphasis,
    bracket_weight,
    close,
    deemphasis_weight,
    explicit_notation,
    groups,
    is_level,
    join_items,
    level_notations,
    levels,
    map_sequences,
    merge_texts,
    split_items,
    with_body,
)

__all__ = ["expand", "flatten", "round_weights", "snap_weights", "sort_by_weight", "strip_weights"]


def flatten(ndigits: int | None = 4, *, dialect: str | None = None) -> Transform:
    """Nested brackets to one explicit weight per run of text.

    Weights multiply down the tree as the dialect reads them; each maximal run
    of equal weight becomes one explicit weight (``(x:w)`` in webui and comfy,
    ``w::x::`` in nai4; in nai the printer uses braces where exact). Prompt
    editing and alternation keep their place, with the weight moved into each
    branch. Products are rounded to ``ndigits`` decimals (``None``: exact
    float products such as 1.2100000000000002). ``dialect`` (default: the
    prompt's) picks the spelling.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("(a (b) c:1.2)", flatten()))
        '(a :1.2)(b:1.32)( c:1.2)'
    """

    if ndigits is not None and (isinstance(ndigits, bool) or not isinstance(ndigits, int) or ndigits < 0):
        raise ValueError(f"ndigits must be a non-negative integer or None, got {ndigits!r}")

    def run(prompt: Prompt) -> Prompt:
        notation = explicit_notation(dialect or prompt.dialect)
        return with_body(prompt, _flatten(prompt.body, notation, ndigits))

    return run


class _Pending:
    """A schedule or alternation whose branches are still being flattened."""

    __slots__ = ("node", "slots")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.slots: list[int] = []


def _flatten(seq: Sequence[Node], notation: str | None, ndigits: int | None) -> tuple[Node, ...]:
    # Each branch of a schedule or alternation is flattened on its own, under the weight
    # around it: a job. Jobs run from a queue and `weighted` walks the emphasis of each, so
    # any depth works. Branch results fill in their node afterwards, the innermost first.
    outputs: list[list[Any]] = [[]]
    pendings: list[_Pending] = []
    jobs: list[tuple[Sequence[Node], float, int]] = [(seq, 1.0, 0)]
    while jobs:
        nodes, weight, slot = jobs.pop()
        runs: list[tuple[float | None, Any]] = []  # None: not weighted (networks, BREAK, ...)
        for node, current in weighted(nodes, weight):
            if isinstance(node, Text):
                runs.append((current, node))
            elif kids := _kids(node):  # a schedule, an alternation, a plugin's node with parts
                pending = _Pending(node)
                for branch in kids:
                    pending.slots.append(len(outputs))
                    jobs.append((branch, current, len(outputs)))
                    outputs.append([])
                pendings.append(pending)
                runs.append((None, pending))
            else:
                runs.append((None, node))
        outputs[slot] = _explicit_runs(runs, notation, ndigits)
    # A pending node's branches hold only pendings made after it: resolve the newest first.
    resolved: dict[int, Node] = {}
    for pending in reversed(pendings):
        branches = [tuple(_resolve(item, resolved) for item in outputs[s]) for s in pending.slots]
        resolved[id(pending)] = pending.node.replace(*branches)
    return tuple(_resolve(item, resolved) for item in outputs[0])


def _resolve(item: Any, resolved: dict[int, Node]) -> Node:
    if isinstance(item, _Pending):
        return resolved[id(item)]
    if isinstance(item, Emphasis) and any(isinstance(child, _Pending) for child in item.body):
        return attrs.evolve(item, body=tuple(_resolve(child, resolved) for child in item.body))
    return item  # type: ignore[no-any-return]


def _explicit_runs(runs: list[tuple[float | None, Any]], notation: str | None, ndigits: int | None) -> list[Any]:
    """Group flat weighted runs into one explicit emphasis per run of equal weight."""
    out: list[Any] = []
    index = 0
    while index < len(runs):
        current, node = runs[index]
        # A product that rounds to 1 (0.9524 * 1.05) gets no brackets either, or a second
        # flatten would remove them.
        if current is None or close(current, 1.0) or (ndigits is not None and round(current, ndigits) == 1):
            out.append(node)
            index += 1
            continue
        # The run itself, then the runs after it of an equal weight (a NaN weight equals
        # nothing, not even itself, so NaN runs stay apart, as in WebUI).
        body: list[Any] = [Text(value=node.value)]
        index += 1
        while index < len(runs):
            other, item = runs[index]
            # Products equal once rounded share one weight (1.1 and 1.10002 at 4 decimals).
            if other is None or not (close(other, current) or _rounded(other, ndigits) == _rounded(current, ndigits)):
                break
            body.append(Text(value=item.value) if isinstance(item, Text) else item)
            index += 1
        final = current if ndigits is None else round(current, ndigits) + 0.0
        merged = merge_texts(body)
        if not merged:  # only empty text (a dropped backslash): no brackets around nothing
            continue
        spelling = notation if notation != "numeric" or _tag_start(out) else None
        node = merged
        for factor in _factors(final):
            node = (Emphasis(body=node, weight=factor, notation=spelling),)
        out.extend(node)
    return list(merge_texts(out))


def _factors(weight: float) -> tuple[float, ...]:
    """Finite weights, innermost first, whose product (outermost first) is ``weight``.

    One weight when it is finite. A product that overflowed (``inf``, or ``nan``
    from ``inf * 0``) cannot be written as one number, but as nested finite
    weights it can: ``1e308 * 10`` is ``inf`` again when the UI multiplies them.
    """
    if math.isfinite(weight):
        return (weight,)
    if math.isnan(weight):
        return (0.0, 10.0, 1e308)
    return (10.0, math.copysign(1e308, weight))


def _rounded(weight: float, ndigits: int | None) -> float:
    return math.nan if ndigits is None else round(weight, ndigits)  # nan: never equal


_TAG_END = re.compile(r",\s*$")


def _tag_start(out: Sequence[Node]) -> bool:
    """Whether NovelAI V4 opens a numeric weight after ``out`` (only at the start of a tag).

    Elsewhere ``1.2::x::`` is plain text, so the printer must choose brackets.
    """
    texts = merge_texts(out)
    if all(isinstance(node, Text) and not node.value.strip() for node in texts):
        return True
    last = texts[-1]
    return isinstance(last, Text) and _TAG_END.search(last.value) is not None


def expand(dialect: str | None = None, *, tolerance: float = 1e-9) -> Transform:
    """Explicit weights to bracket levels, where that is exact in ``dialect``.

    ``(x:1.21)`` becomes ``((x))`` in webui (1.1 per level), ``(x:1.1025)``
    becomes ``{{x}}`` in nai (1.05 per level); ``(x:1)`` loses its brackets.
    Weights with no exact bracket form (within the relative ``tolerance``) stay
    explicit. Dialects without a de-emphasis bracket (comfy) only expand
    weights above 1. ``dialect`` defaults to the prompt's.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("(a:1.1025), (b:0.9524)", expand("nai", tolerance=1e-4)), "nai")
        '{{a}}, [b]'
    """
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")

    def run(prompt: Prompt) -> Prompt:
        name = dialect or prompt.dialect
        base = bracket_weight(name)
        down_factor = deemphasis_weight(name)
        up, down = level_notations(name)

        def leave(node: Emphasis) -> Node | tuple[Node, ...]:
            if node.weight <= 0 or not math.isfinite(node.weight):
                return node
            if node.notation in ("paren", "brace", "bracket") and is_level(node, name):
                return node
            # Below 1, count the dialect's own de-emphasis levels (compel's x- is 0.9, not 1/1.1).
            factor, spelling = (base, up) if node.weight >= 1 or down_factor is None else (down_factor, down)
            count = round(math.log(node.weight) / math.log(factor))
            if not close(factor**count, node.weight, tolerance) or abs(count) > 100:
                return node
            if count == 0:
                return node.body
            if count < 0:  # below 1 with no de-emphasis bracket (comfy)
                return node
            return levels(node.body, count, factor, spelling)

        return with_body(prompt, OnEmphasis(leave).transform_sequence(prompt.body))

    return run


def round_weights(ndigits: int = 2) -> Transform:
    """Round every written weight to ``ndigits`` decimals.

    Plain bracket levels (``(x)``, ``{x}``, ``[x]``) are not written weights and
    stay; :func:`flatten` first to round effective weights.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("(a:0.5645), [b]", round_weights(2)))
        '(a:0.56), [b]'
    """
    if isinstance(ndigits, bool) or not isinstance(ndigits, int) or not 0 <= ndigits <= 15:
        raise ValueError(f"ndigits must be an integer from 0 to 15, got {ndigits!r}")

    def run(prompt: Prompt) -> Prompt:
        def leave(node: Emphasis) -> Node:
            if is_level(node, prompt.dialect):
                return node
            new = round(node.weight, ndigits) + 0.0
            if new == node.weight:
                return node
            return attrs.evolve(node, weight=new, raw_weight=None)

        return with_body(prompt, OnEmphasis(leave).transform_sequence(prompt.body))

    return run


def snap_weights(base: float = 1.05, *, ndigits: int | None = None) -> Transform:
    """Move every written weight to the nearest power of ``base``.

    This is the seed's "negative exponential scale": with ``base=1.05`` the
    ladder 0.95, 0.91, 0.86, 0.82 ... (``ndigits=2`` rounds as the seed does);
    with ``1.1`` it matches WebUI's bracket levels (0.564 = 1.1**-6). Weights
    <= 0 and plain bracket levels are left alone.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("(a:0.81), (b:0.9)", snap_weights(1.05, ndigits=2)))
        '(a:0.82), (b:0.91)'
    """
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not (1 < base < math.inf):
        raise ValueError(f"base must be a finite number above 1, got {base!r}")
    if ndigits is not None and (isinstance(ndigits, bool) or not isinstance(ndigits, int) or ndigits < 0):
        raise ValueError(f"ndigits must be a non-negative integer, got {ndigits!r}")

    def run(prompt: Prompt) -> Prompt:
        def leave(node: Emphasis) -> Node:
            if is_level(node, prompt.dialect):
                return node
            if node.weight <= 0 or not math.isfinite(node.weight):
                return node
            new = base ** round(math.log(node.weight) / math.log(base))
            if ndigits is not None:
                new = round(new, ndigits)
            if close(new, node.weight, 1e-12):
                return node
            return attrs.evolve(node, weight=new, raw_weight=None)

        return with_body(prompt, OnEmphasis(leave).transform_sequence(prompt.body))

    return run


class _Strength(Visitor):
    """The highest weight of any text a walk meets (None: no text)."""

    def __init__(self) -> None:
        self.weights = [1.0]  # the product of the emphasis around the current node
        self.best: float | None = None

    def visit_Text(self, node: Text) -> None:  # noqa: N802 - Visitor hooks are named after the node
        weight = self.weights[-1]
        if node.value.strip() and (self.best is None or weight > self.best):
            self.best = weight

    def visit_Emphasis(self, node: Emphasis) -> None:  # noqa: N802
        self.weights.append(self.weights[-1] * node.weight)

    def leave_Emphasis(self, node: Emphasis) -> None:  # noqa: N802
        self.weights.pop()


def _strength(nodes: Sequence[Node]) -> float | None:
    """The highest weight of any text in ``nodes`` (None: no text)."""
    strength = _Strength()
    strength.walk(nodes)
    return strength.best


def sort_by_weight() -> Transform:
    """Order the tags strongest first (stable: equal weights keep their order).

    A tag's weight is the highest weight of any text in it. Only top-level tags
    move, each within its ``AND`` subprompt and ``BREAK`` chunk; separators stay
    where they are. Tags that are only extra networks count as weight 1.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("a, (b:1.3), [c], ((d))", sort_by_weight()))
        '(b:1.3), ((d)), a, [c]'
    """

    def run(prompt: Prompt) -> Prompt:
        segments = split_items(prompt.body)
        new = list(segments)
        for group in groups(segments):
            strengths = [_strength(segments[i].nodes) for i in group]
            weights = [1.0 if s is None else s for s in strengths]
            order = sorted(range(len(group)), key=lambda k: -weights[k])
            for slot, k in zip(group, order, strict=True):
                new[slot] = segments[group[k]]
        if all(a is b for a, b in zip(new, segments, strict=True)):
            return prompt
        return with_body(prompt, join_items(new))

    return run


def strip_weights() -> Transform:
    """Remove every emphasis, keeping its text: ``(a:1.2), [b]`` -> ``a, b``.

    Prompt editing, alternation, ``AND`` weights and extra networks stay.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("{{a}}, [b], 1.2::c::", strip_weights(), dialect="nai4"))
        'a, b, c'
    """

    class Unweight(Transformer):
        def leave_Emphasis(self, node: Emphasis) -> tuple[Node, ...]:  # noqa: N802 - a Transformer hook
            return node.body

    def run(prompt: Prompt) -> Prompt:
        body = Unweight().transform_sequence(prompt.body)
        if body is prompt.body:
            return prompt
        return with_body(prompt, _merge_deep(body))

    return run


def _merge_deep(seq: Sequence[Node]) -> tuple[Node, ...]:
    """Join adjacent texts in every sequence (the emphasis that split them is gone)."""
    return map_sequences(seq, merge_texts)
