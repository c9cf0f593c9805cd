"""ComfyUI's weight reading (``token_weights`` of ``comfy/sd1_clip.py``) in one linear pass.

ComfyUI reads a prompt with a small recursive scanner: split the text into
top-level items with a nesting counter, read each ``( ... )`` item as a group
(x1.1, or ``:w`` after the last colon *sets* the weight when Python's
``float()`` accepts it, ``inf`` and ``nan`` included), and recurse into it. An
item that never closes is text, unless the prompt ends with ``)``: then the
outermost unclosed ``(`` pairs with that last ``)``. A stray ``)`` at the top
drives the counter negative and what follows is text until a ``(`` brings it
back to zero.

Re-running the scan at every level costs O(n * depth); this module gets the same
groups from one stack pass plus a fix-up of the unclosed tail, so 10,000 nested
brackets cost what 10,000 characters cost, and nothing recurses.

Example:
    >>> [(s.text, s.weight) for s in segments("a (b) ((c:1.5)) (d:inf)")]
    [('a ', 1.0), ('b', 1.1), (' ', 1.0), ('c', 1.5), (' ', 1.0), ('d', inf)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Group", "Scan", "Segment", "scan", "segments"]

#: ComfyUI's factor for one ``(x)`` level.
PAREN = 1.1
_PARENS = re.compile(r"[()]")


def escape_important(text: str) -> str:
    """ComfyUI's first step: ``\\)`` and ``\\(`` become two control characters (same length)."""
    return text.replace("\\)", "\0\1").replace("\\(", "\0\2")


def unescape_important(text: str) -> str:
    """ComfyUI's inverse of :func:`escape_important`, applied to each segment."""
    return text.replace("\0\1", ")").replace("\0\2", "(")


@dataclass(frozen=True)
class Group:
    """One ``( ... )`` that ComfyUI reads as a group.

    ``open``/``close`` index the parentheses; ``end`` is where the body ends (the
    last colon when ``explicit`` is the weight ``:w``, else ``close``).
    """

    open: int
    close: int
    end: int
    explicit: float | None


@dataclass(frozen=True)
class Segment:
    """One weighted piece of ComfyUI's ``token_weights`` output (unescaped text)."""

    text: str
    weight: float
    start: int
    end: int


@dataclass(frozen=True)
class Scan:
    """The structure of a prompt as ComfyUI reads it.

    ``groups`` are in order of their opening parenthesis; ``literal`` is the
    unclosed item whose parentheses are all text (``None`` when there is none).
    """

    text: str
    groups: tuple[Group, ...]
    literal: tuple[int, int] | None


def _explicit(esc: str, start: int, close: int) -> tuple[float | None, int]:
    """The ``:w`` of a group body ``esc[start:close]`` and where its text ends.

    ComfyUI takes the text after the last colon; when that text holds a
    parenthesis ``float()`` fails, so the backward walk may stop at the first one.
    """
    index = close - 1
    while index >= start and esc[index] not in ":()":
        index -= 1
    if index <= start or esc[index] != ":":  # no colon, or a colon first in the body
        return None, close
    try:
        return float(esc[index + 1 : close]), index
    except ValueError:
        return None, close


def scan(text: str) -> Scan:
    """Find ComfyUI's groups in ``text`` in linear time, without recursion.

    Example:
        >>> [(g.open, g.close, g.explicit) for g in scan("((a)").groups]
        [(0, 3, None)]
    """
    esc = escape_important(text)
    pairs: dict[int, int] = {}
    opener_of: dict[int, int] = {}
    stack: list[int] = []
    negative = 0  # ComfyUI's counter below zero after a stray ")" at the top
    for match in _PARENS.finditer(esc):
        position = match.start()
        if negative:
            negative += 1 if match.group() == "(" else -1
        elif match.group() == "(":
            stack.append(position)
        elif stack:
            opener = stack.pop()
            pairs[opener] = position
            opener_of[position] = opener
        else:
            negative = -1
    explicit: dict[int, tuple[float | None, int]] = {}
    literal: tuple[int, int] | None = None
    # The unclosed tail: the outermost unclosed "(" is an item running to the end of its
    # body; it is a group when that body ends with ")", which then leaves its own opener
    # unclosed one level down.
    unclosed = stack
    head = 0
    end = len(esc)
    while head < len(unclosed):
        start = unclosed[head]
        if end - start >= 2 and esc[end - 1] == ")":
            close = end - 1
            inner = opener_of.pop(close, None)
            if inner is not None and inner != start:
                del pairs[inner]
                unclosed.append(inner)  # innermost at that ")", so after every other one
            pairs[start] = close
            opener_of[close] = start
            head += 1
            weight, end = _explicit(esc, start + 1, close)
            explicit[start] = (weight, end)
        else:
            literal = (start, end)
            for opener in [o for o in pairs if start <= o < end]:
                del pairs[opener]
            break
    groups = []
    for opener in sorted(pairs):
        close = pairs[opener]
        weight, body_end = explicit.get(opener) or _explicit(esc, opener + 1, close)
        groups.append(Group(opener, close, body_end, weight))
    return Scan(text=text, groups=tuple(groups), literal=literal)


def segments(text: str | Scan, weight: float = 1.0) -> list[Segment]:
    """ComfyUI's ``token_weights(escape_important(text), weight)``, each piece unescaped.

    Pieces are neither merged nor dropped when empty-weighted: ComfyUI tokenizes
    each one on its own. Empty groups give nothing.

    Example:
        >>> [(s.text, s.weight) for s in segments("(a (b) c:1.2)(x)")]
        [('a ', 1.2), ('b', 1.32), (' c', 1.2), ('x', 1.1)]
    """
    result = text if isinstance(text, Scan) else scan(text)
    esc = escape_important(result.text)
    out: list[Segment] = []
    # Boundaries in order: (position, kind, group); kind 0 = close, 1 = open, 2 = literal item.
    bounds: list[tuple[int, int, Group | None]] = []
    for found in result.groups:
        bounds.append((found.open, 1, found))
        bounds.append((found.close, 0, found))
    if result.literal is not None:
        bounds.append((result.literal[0], 2, None))
    bounds.sort(key=lambda b: b[0])
    # Open groups: (weight, where the body's text stops).
    open_groups: list[tuple[float, int]] = [(weight, len(esc))]
    cursor = 0

    def emit(stop: int) -> None:
        limit = min(stop, open_groups[-1][1])
        if limit > cursor:
            out.append(Segment(unescape_important(esc[cursor:limit]), open_groups[-1][0], cursor, limit))

    for position, kind, group in bounds:
        emit(position)
        if kind == 1:
            assert group is not None
            inner = open_groups[-1][0] * PAREN
            if group.explicit is not None:
                inner = group.explicit
            open_groups.append((inner, group.end))
            cursor = position + 1
        elif kind == 0:
            open_groups.pop()
            cursor = position + 1
        else:
            cursor = position
    emit(len(esc))
    return out
