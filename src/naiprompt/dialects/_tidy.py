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


class _Out:
    """The text built so far, kept as its head and its trailing separator.

    The separator is what ``(?:,\\s*|\\s+|)$`` finds (the last one only: the user's
    own ``, ,`` stays). Appending looks only at the new text and stripping only at
    the tail, so a prompt with many dropped constructs stays linear.
    """

    __slots__ = ("head", "sep")

    def __init__(self) -> None:
        self.head: list[str] = []
        self.sep = ""

    def append(self, text: str) -> None:
        if text:
            self.head.append(self.sep)
            self.head.append(text)
            self.sep = ""
            self._settle()

    def rstrip(self, chars: str) -> None:
        self.sep = self.sep.rstrip(chars)
        if self.sep:
            return
        while self.head:
            rest = self.head[-1].rstrip(chars)
            if rest:
                self.head[-1] = rest
                break
            self.head.pop()
        self._settle()

    def drop_sep(self) -> None:
        self.sep = ""
        self.rstrip(" \t\n")

    def _settle(self) -> None:
        """Move the trailing whitespace (and one comma before it) of the head into ``sep``."""
        while self.head:
            piece = self.head[-1]
            end = len(piece)
            while end and piece[end - 1].isspace():
                end -= 1
            if end and piece[end - 1] == ",":
                end -= 1
                self.sep = piece[end:] + self.sep
                self.head[-1] = piece[:end]
                return
            self.sep = piece[end:] + self.sep
            if end:
                self.head[-1] = piece[:end]
                return
            self.head.pop()

    def text(self) -> str:
        return "".join(self.head) + self.sep


def tidy(text: str) -> str:
    """Resolve the markers in ``text``, closing the seams around them.

    Example:
        >>> tidy(f"a, {DROPPED}, b  {DROPPED}")
        'a, b'
    """
    if DROPPED not in text and JOINT not in text:
        return text
    parts = _PIECES.split(text)
    out = _Out()
    at_start = not parts[0].strip(" \t\n,")  # nothing but separators and dropped constructs so far
    if not at_start:
        out.append(parts[0])
    for index in range(1, len(parts), 2):
        marker, right = parts[index], parts[index + 1]
        last = index + 2 >= len(parts)
        left_sep = out.sep
        right_sep = _LEADING.match(right)
        assert right_sep is not None
        if at_start:
            right = right[right_sep.end() :]
        elif marker == JOINT:  # the joint is the separator: no other one may touch it
            body = right.lstrip(" \t\n,")
            out.rstrip(" \t\n,")
            if not (body.strip(" \t\n,") or not last):
                out.rstrip(" \t\n")
            right = ", " + body if body.strip(" \t\n,") or not last else ""
        elif last and not right.strip(" \t\n,"):
            out.drop_sep()
            right = ""
        elif "," in left_sep and "," in right_sep.group():
            right = right.lstrip(" \t\n,")  # one separator is enough at a seam
        elif left_sep and right_sep.group():
            right = right[right_sep.end() :] if not left_sep.isspace() else right.lstrip()
        if at_start:
            at_start = not right.strip(" \t\n,")
            if not at_start:
                out.append(right)
        else:
            out.append(right)
    return out.text()
