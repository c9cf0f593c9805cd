"""Tidy the seams a lossy conversion leaves: a dropped ``<lora:...>`` or a joined ``AND``.

A printer writes :data:`DROPPED` where it left a construct out and :data:`JOINT`
where two parts must be joined (``AND``, ``BREAK``); :func:`tidy` then closes the
gap so that no ``, ,``, doubled space, leading or trailing ``, `` is left behind.
Only the seams are touched: the user's own spacing elsewhere stays as it was.

Example:
    >>> tidy(f"{DROPPED}, a, b {JOINT} c, {DROPPED}")
    'a, b, c'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # pragma: no cover
    from naiprompt.ast import Prompt

__all__ = ["DROPPED", "JOINT", "markers_safe", "tidy", "tree_markers_safe"]

#: Marks a construct the target dropped (private-use characters: never in a prompt we mark).
DROPPED = "\ue000"
#: Marks a place where two parts are joined with ", ".
JOINT = "\ue001"
_PIECES = re.compile(f"([{DROPPED}{JOINT}])")
_TRAILING = re.compile(r"(?:,\s*|\s+|)$")  # the last separator only: the user's own ", ," stays
_LEADING = re.compile(r"\s*(?:,\s*)?")


def markers_safe(source: str | None) -> bool:
    """Whether the markers can be used: the source text does not contain them itself.

    Example:
        >>> markers_safe("a, b"), markers_safe(DROPPED)
        (True, False)
    """
    return source is None or (DROPPED not in source and JOINT not in source)


def tree_markers_safe(prompt: Prompt) -> bool:
    """Whether no text of ``prompt`` holds a marker (its source when it has one, else every string field).

    A tree built in code has no source, so its strings are looked at, iteratively.

    Example:
        >>> import naiprompt
        >>> tree_markers_safe(naiprompt.parse("a, b")), tree_markers_safe(naiprompt.parse(f"a{DROPPED}"))
        (True, False)
    """
    if prompt.source is not None:
        return markers_safe(prompt.source)
    from naiprompt.ast import walk

    for node in walk(prompt):
        if not attrs.has(type(node)):
            continue
        for field in attrs.fields(type(node)):
            value = getattr(node, field.name)
            if isinstance(value, str) and not markers_safe(value):
                return False
    return True


def tidy(text: str) -> str:
    """Resolve the markers in ``text``, closing the seams around them.

    Example:
        >>> tidy(f"a, {DROPPED}, b  {DROPPED}")
        'a, b'
    """
    if DROPPED not in text and JOINT not in text:
        return text
    parts = _PIECES.split(text)
    out = parts[0]
    at_start = not out.strip(" \t\n,")  # nothing but separators and dropped constructs so far
    if at_start:
        out = ""
    for index in range(1, len(parts), 2):
        marker, right = parts[index], parts[index + 1]
        last = index + 2 >= len(parts)
        left_sep = _TRAILING.search(out)
        right_sep = _LEADING.match(right)
        assert left_sep is not None and right_sep is not None
        if at_start:
            right = right[right_sep.end() :]
        elif marker == JOINT:  # the joint is the separator: no other one may touch it
            body = right.lstrip(" \t\n,")
            out = out.rstrip(" \t\n,")
            if not (body.strip(" \t\n,") or not last):
                out = out.rstrip(" \t\n")
            right = ", " + body if body.strip(" \t\n,") or not last else ""
        elif last and not right.strip(" \t\n,"):
            out, right = out[: left_sep.start()].rstrip(" \t\n"), ""
        elif "," in left_sep.group() and "," in right_sep.group():
            right = right.lstrip(" \t\n,")  # one separator is enough at a seam
        elif left_sep.group() and right_sep.group():
            right = right[right_sep.end() :] if not left_sep.group().isspace() else right.lstrip()
        out += right
        at_start = at_start and not out.strip(" \t\n,")
        if at_start:
            out = ""
    return out
