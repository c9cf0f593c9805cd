"""NovelAI V4 output: weights nested inside a numeric weight become runs of their own.

``w::text::`` does not nest and opens only at the start of a tag, so inside
``1.2::a, (b:0.8)::`` the ``b`` could only get brackets (the power of 1.05 nearest
0.8, 2.5 % off at worst) and a negative ``b`` nothing at all. When a group that
will print as a numeric weight holds such a level, it is rewritten as the flat
runs it means, each tag its own numeric weight: ``1.2::a::, 0.96::b::``. The
separators between the tags (commas, spaces) then sit at weight 1, which only
moves the weight of punctuation.

Example:
    >>> import naiprompt
    >>> naiprompt.convert("((a:-1), b)", "webui", "nai4")
    '-1.1::a::, 1.1::b::'
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

import attrs

from naiprompt.ast import Emphasis, Node, Text, walk, weighted
from naiprompt.weight_math import NAI_STEP, nearest_power, power

__all__ = ["numeric_runs"]

_TAG_END = re.compile(r",\s*$")
_TAG_START = re.compile(r"\s*,")


def _separator(char: str) -> bool:
    return char == "," or char.isspace()


def _edges(value: str) -> tuple[str, str, str]:
    """``value`` as (leading separators, tag text, trailing separators).

    A separator run (commas and whitespace) counts only when it holds a comma. One
    pass over each end: a regex with a lazy middle was quadratic on long space runs,
    and its ``$`` also lost a final newline.
    """
    start = 0
    while start < len(value) and _separator(value[start]):
        start += 1
    if "," not in value[:start]:
        start = 0
    end = len(value)
    while end > start and _separator(value[end - 1]):
        end -= 1
    if "," not in value[end:]:
        end = len(value)
    return value[:start], value[start:end], value[end:]


def _exact(weight: float, rel_tol: float = 1e-9) -> bool:
    if not (weight > 0 and math.isfinite(weight)):
        return False
    return math.isclose(power(NAI_STEP, nearest_power(weight, NAI_STEP)), weight, rel_tol=rel_tol)


def _runs(node: Emphasis) -> list[tuple[Text, float]] | None:
    """The text runs under ``node`` with their weights, or None if it holds anything else.

    Also None when every nested level is a power of 1.05 (brackets reach it exactly).
    """
    # Brackets get a nested level within 1e-4; this check first, as most groups pass it.
    if all(_exact(item.weight, rel_tol=1e-4) for item in walk(node) if isinstance(item, Emphasis)):
        return None
    runs: list[tuple[Text, float]] = []
    for item, weight in weighted((node,)):
        if not isinstance(item, Text):
            return None
        runs.append((item, weight))
    return runs


def _rebuild(runs: list[tuple[Text, float]]) -> list[Node] | None:
    """Tagged runs, or None where a weight changes inside a tag (numeric cannot open there)."""
    merged: list[tuple[str, float]] = []
    for text, weight in runs:
        if merged and merged[-1][1] == weight:
            merged[-1] = (merged[-1][0] + text.value, weight)
        elif text.value:
            merged.append((text.value, weight))
    for (previous, _), (following, _) in itertools.pairwise(merged):
        if not (_TAG_END.search(previous) or _TAG_START.match(following)):
            return None
    out: list[Node] = []
    for value, weight in merged:
        if weight == 1.0:
            out.append(Text(value=value))
            continue
        lead, core, trail = _edges(value)
        if lead:
            out.append(Text(value=lead))
        if core:
            out.append(Emphasis(body=(Text(value=core),), weight=weight))
        if trail:
            out.append(Text(value=trail))
    return out


def numeric_runs(body: Sequence[Node]) -> tuple[Node, ...]:
    """``body`` with each group that nests an inexact weight flattened to tagged runs.

    Groups whose weight brackets write exactly are looked into (a numeric weight may
    open inside them); the walk is iterative, so any depth is fine.

    Example:
        >>> from naiprompt.ast import Emphasis, Text
        >>> inner = Emphasis(body=[Text(value="b")], weight=0.8)
        >>> [type(n).__name__ for n in numeric_runs([Emphasis(body=[Text(value="a, "), inner], weight=1.2)])]
        ['Emphasis', 'Text', 'Emphasis']
    """
    # Frames: (the chain of single-child groups being rebuilt, or () for the top; the new
    # children of its innermost group so far; the children still to look at).
    frames: list[tuple[tuple[Emphasis, ...], list[Node], list[Node]]] = [((), [], list(reversed(body)))]
    while True:
        chain, done, rest = frames[-1]
        if not rest:
            frames.pop()
            if not chain:
                return tuple(done)
            frames[-1][1].append(_rechain(chain, done))
            continue
        node = rest.pop()
        if not isinstance(node, Emphasis):
            done.append(node)
        elif _exact(_chain_weight(node)):  # printed as brackets: look inside the whole chain
            links = _chain(node)
            frames.append((links, [], list(reversed(links[-1].body))))
        else:
            runs = _runs(node)
            rebuilt = _rebuild(runs) if runs is not None else None
            done.extend(rebuilt if rebuilt is not None else [node])


def _chain(node: Emphasis) -> tuple[Emphasis, ...]:
    links = [node]
    while len(links[-1].body) == 1 and isinstance(links[-1].body[0], Emphasis):
        links.append(links[-1].body[0])
    return tuple(links)


def _rechain(chain: tuple[Emphasis, ...], body: list[Node]) -> Emphasis:
    """The chain with ``body`` in its innermost group (untouched when nothing changed)."""
    inner = chain[-1]
    if len(body) == len(inner.body) and all(a is b for a, b in zip(body, inner.body, strict=True)):
        return chain[0]
    node = attrs.evolve(inner, body=tuple(body))
    for link in reversed(chain[:-1]):
        node = attrs.evolve(link, body=(node,))
    return node


def _chain_weight(node: Emphasis) -> float:
    weight = node.weight
    while len(node.body) == 1 and isinstance(node.body[0], Emphasis):
        node = node.body[0]
        weight *= node.weight
    return weight
