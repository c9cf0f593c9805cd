"""The ``compel`` dialect: the prompt syntax of compel (InvokeAI, many diffusers scripts), as a plugin.

compel's weighting (``compel/prompt_parser.py``, version 2.3):

* ``word+`` multiplies by 1.1 per ``+``, ``word-`` by 0.9 per ``-`` (not 1/1.1);
* ``(several words)+``, ``"quoted words"--``, ``(words)1.3`` and ``x.attend(1.3)``
  weight a group; weights multiply down the nesting;
* ``\\(``, ``\\)`` and ``\\"`` are escapes;
* ``("a", "b").and()``, ``("a", "b").blend(0.7, 0.3)`` and ``cat.swap(dog)``
  change how the conditioning is built: they are the nodes
  :class:`Conjunction`, :class:`Blend` and :class:`Swap`;
* ``withLora(name, 0.8)`` is an extra network (:class:`Lora`).

compel reads text its own way: it puts a space after every comma, splits the
text into words and joins them with single spaces, and inside parentheses it
keeps ``,`` and ``.`` as words of their own (``(a, b)1.3`` weights ``a , b``).
:meth:`Compel.attention` gives exactly compel's fragments, with empty ones
dropped and equal neighbours joined.

This module uses only the public plugin API (:class:`~naiprompt.dialects.Dialect`,
the AST, the errors) and is registered through the ``naiprompt.dialects``
entry-point group, as a third-party package would be.

Installed, the dialect is found by its name, ``"compel"``, like the built-in
ones; the examples use an instance so that they run from a source checkout too.

Example:
    >>> import naiprompt
    >>> compel = Compel()
    >>> naiprompt.attention("a cat+, (tall hat)1.3", compel)
    [('a', 1.0), ('cat', 1.1), (',', 1.0), ('tall hat', 1.3)]
    >>> naiprompt.convert("a cat+, (tall hat)1.3", compel, "webui")
    'a (cat), (tall hat:1.3)'
    >>> naiprompt.convert("{{cat}}, [hat]", "nai", compel)
    '(cat)1.1025, (hat)0.9524'
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import attrs

from naiprompt.ast import Break, Node, Prompt, Replacement, Schedule, Span, Text, Transformer, walk
from naiprompt.contrib._compel_nodes import Blend, CompelNode, Conjunction, Lora, Swap
from naiprompt.contrib._compel_printer import CompelPrinter
from naiprompt.contrib._compel_reader import (
    MINUS,
    PLUS,
    SYNTAX,
    Att,
    Group,
    Item,
    Multi,
    Reading,
    Rejected,
    Word,
    preprocess,
    read,
)
from naiprompt.contrib._compel_reader import Swap as SwapItem
from naiprompt.contrib._compel_tree import build
from naiprompt.contrib._compel_weights import part_runs, runs
from naiprompt.dialects import Dialect
from naiprompt.errors import ErrorLevel, Problem, collect
from naiprompt.printer import Printer

__all__ = ["Blend", "Compel", "CompelNode", "Conjunction", "Lora", "Swap", "lower"]


def _reading(text: str, *, check: bool = True) -> tuple[Reading | None, list[int], list[Problem]]:
    """compel's reading of ``text`` (None for a blank prompt), the position map, and the problems.

    A problem is something compel rejects (then the lenient reading is used) or
    syntax it reads as plain text: an unescaped ``(``, ``)`` or ``"`` that opens
    or closes nothing, text after ``(...).and()`` (which compel ignores).
    ``check=False`` skips looking for the latter (``attention()`` needs no warnings).
    """
    prepared, origin = preprocess(text)
    if not prepared.strip():
        return None, origin, []
    problems: list[Problem] = []
    try:
        reading = read(prepared)
    except Rejected as exc:
        problems.append((origin[exc.position], "compel-rejects", f"compel rejects this prompt: {exc.reason}"))
        reading = read(prepared, loose=True)
    if not check:
        return reading, origin, problems
    for position, char in _literal_syntax(reading):
        problems.append((origin[position], "literal-syntax", f"{char!r} is read as plain text"))
    rest = prepared[reading.end :]
    if rest.strip(" \t\n\r"):
        start = reading.end + len(rest) - len(rest.lstrip(" \t\n\r"))
        problems.append((origin[start], "ignored-text", "compel ignores the text after .and()"))
    return reading, origin, problems


def _literal_syntax(reading: Reading) -> Iterator[tuple[int, str]]:
    """Unescaped brackets and quotes that compel read as text, with their positions."""
    # (item, text it was read from, shift to the preprocessed prompt or None inside a changed quote, anchor)
    stack: list[tuple[Item, str, int | None, int]] = [(item, reading.text, 0, 0) for item in reversed(reading.items)]
    while stack:
        item, text, shift, anchor = stack.pop()
        if isinstance(item, Word):
            word = text[item.start : item.end]
            if "(" not in word and ")" not in word and '"' not in word:
                continue  # the usual case: nothing to look at
            index = item.start
            while index < item.end:
                char = text[index]
                if char == "\\" and index + 1 < item.end and text[index + 1] in SYNTAX:
                    index += 2
                    continue
                if char in '()"':
                    yield (index + shift if shift is not None else anchor), char
                index += 1
        elif isinstance(item, Group):
            if item.kind == "quote" and item.reader is not None:
                inner_shift = None if shift is None or item.offset is None else shift + item.offset
                inner_anchor = item.start + shift if shift is not None else anchor
                stack.extend((child, item.reader.text, inner_shift, inner_anchor) for child in reversed(item.items))
            else:
                stack.extend((child, text, shift, anchor) for child in reversed(item.items))
        elif isinstance(item, Att):
            stack.append((item.target, text, shift, anchor))
        elif isinstance(item, SwapItem):
            stack.extend((child, text, shift, anchor) for child in reversed(item.replacement))
            stack.append((item.target, text, shift, anchor))
        elif isinstance(item, Multi):
            stack.extend((part, text, shift, anchor) for part in reversed(item.parts))


class Compel(Dialect):
    """compel: ``word+`` x1.1, ``word-`` x0.9, ``(words)1.3``, ``.and()``, ``.blend()``, ``.swap()``.

    Example:
        >>> compel = Compel()
        >>> tree = compel.parse("a red+ (cat, hat)--")
        >>> compel.render(tree)
        'a red+ (cat, hat)--'
        >>> compel.attention(tree)
        [('a', 1.0), ('red', 1.1), ('cat , hat', 0.81)]
    """

    name: ClassVar[str] = "compel"
    #: One ``+``; one ``-`` is :data:`deemphasis_weight`, not its inverse.
    bracket_weight: ClassVar[float] = PLUS
    #: The factor of one ``-``.
    deemphasis_weight: ClassVar[float | None] = MINUS
    render_decimals: ClassVar[bool] = True

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse compel prompt text; never fails unless ``strict``.

        Leniently, what compel itself rejects (a vertical tab or form feed, a
        blend whose weights do not match its parts) is read as plain text, and
        ``Prompt.warnings`` says so; ``strict`` raises
        :class:`~naiprompt.PromptSyntaxError` for those, for an unescaped
        ``(``, ``)`` or ``"`` that compel reads as text, and for text after
        ``(...).and()``.

        Example:
            >>> Compel().parse("(a)1.5").body[0].weight
            1.5
            >>> Compel().parse("a (b", strict=True)
            Traceback (most recent call last):
            ...
            naiprompt.errors.PromptSyntaxError: '(' is read as plain text at line 1, column 3:
            a (b
              ^
        """
        if not isinstance(text, str):
            raise TypeError(f"a prompt is text, not {type(text).__name__}")
        reading, origin, problems = _reading(text)
        notes = collect(text, problems, strict=strict)
        if reading is None:
            body: list[CompelNode] = [Text(value=text, raw=text, span=Span(0, len(text)))] if text else []
        else:
            body = build(text, origin, reading)
        return Prompt(body=tuple(body), dialect=self.name, source=text, warnings=notes)

    def lower(self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN) -> Prompt:
        """Compel's own nodes rewritten into shared ones before another dialect prints them (:func:`lower`).

        Example:
            >>> import naiprompt
            >>> naiprompt.convert('("a cat", "a dog").and()', "compel", "webui")
            'a cat BREAK a dog'
        """
        return lower(prompt, errors=errors)

    def render(self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN, decimals: int | None = None) -> str:
        """Print ``prompt`` as compel text; what compel lacks goes through ``errors``.

        Example:
            >>> import naiprompt
            >>> Compel().render(naiprompt.parse("[a:b:5], (c:1.2), <lora:ink:0.8>"), errors="ignore")
            'a, (c)1.2, withLora(ink, 0.8)'
        """
        return CompelPrinter(errors=errors, decimals=decimals).print(prompt)

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """compel's fragments: empty ones dropped, equal neighbours joined with one space.

        The parts of ``.and()`` and ``.blend()`` follow one another; a ``.swap()``
        reads as its original (the text compel conditions on).

        Example:
            >>> Compel().attention("a+ (b)1.2 c")
            [('a', 1.1), ('b', 1.2), ('c', 1.0)]
        """
        text = prompt if isinstance(prompt, str) else self.render(prompt, errors=ErrorLevel.IGNORE)
        reading, _, _ = _reading(text, check=False)
        return [] if reading is None else runs(reading)

    def parts(self, prompt: str | Prompt) -> list[list[tuple[str, float]]]:
        """The fragments of each prompt compel conditions on: one per ``.and()``/``.blend()`` part.

        Example:
            >>> Compel().parts('("a+", "b").blend(0.7, 0.3)')
            [[('a', 1.1)], [('b', 1.0)]]
        """
        text = prompt if isinstance(prompt, str) else self.render(prompt, errors=ErrorLevel.IGNORE)
        reading, _, _ = _reading(text, check=False)
        return [] if reading is None else part_runs(reading)


def lower(prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN) -> Prompt:
    """Replace compel's own nodes by shared ones, so that any dialect can print the tree.

    * ``.and()`` becomes its parts separated by ``BREAK``: both encode each part
      on its own and concatenate the results (exact for CLIP models); weights
      other than 1 are lost;
    * ``.swap()`` becomes prompt editing ``[original:replacement:t_start]``,
      the nearest thing WebUI has to prompt-to-prompt (lossy);
    * ``.blend()`` keeps its heaviest part (lossy).

    Losses go through ``errors`` like a conversion's.

    Example:
        >>> import naiprompt
        >>> tree = naiprompt.parse('("a cat", "a dog+").and()', Compel())
        >>> naiprompt.render(lower(tree), "webui")
        'a cat BREAK a (dog)'
    """
    level = ErrorLevel(errors)  # a wrong level is an error even when there is nothing to lower
    if not any(isinstance(node, (Swap, Blend, Conjunction)) for node in walk(prompt)):
        return prompt
    body = _Lowering(Printer(errors=level, source=prompt)).transform_sequence(prompt.body)
    return attrs.evolve(prompt, body=body)  # keeps the source, as the losses point into it


class _Lowering(Transformer):
    """The rewrite of :func:`lower`: reports in ``visit_`` hooks, rewrites in ``leave_`` hooks.

    The reports go through ``losses.unsupported()``, the one loss path of printing, in
    source order: a ``visit_`` hook runs before the walk enters the node. The parts a
    blend drops are neither entered nor reported.
    """

    def __init__(self, losses: Printer) -> None:
        self.losses = losses
        # One entry per node between its visit and its leave (they nest): for a blend being
        # walked, [its children visited so far, where its heaviest part starts, where it ends];
        # None for any other node, and False for a node in a part the blend drops.
        self.open: list[list[int] | bool | None] = []

    def visit(self, node: Node | Prompt) -> bool | None:
        """Skip the parts a blend drops, then the ``visit_`` hook."""
        blend = self.open[-1] if self.open else None
        if isinstance(blend, list):
            index = blend[0]
            blend[0] += 1
            if not blend[1] <= index < blend[2]:
                self.open.append(False)
                return False
        self.open.append(None)
        return super().visit(node)

    def leave(self, node: Node) -> Replacement:
        """The ``leave_`` hook, except in a dropped part (left as it is: the blend drops it)."""
        if self.open.pop() is False:
            return node
        return super().leave(node)

    def visit_Swap(self, node: Swap) -> None:  # noqa: N802 - named after the node
        self.losses.unsupported("swap", "WebUI has no .swap(); written as prompt editing", node)

    def leave_Swap(self, node: Swap) -> Schedule:  # noqa: N802
        when = next((float(v) for k, v in reversed(node.options) if k == "t_start" and _is_float(v)), 0.2)
        return Schedule(before=node.original, after=node.replacement, when=when, fractional=True, span=node.span)

    def visit_Conjunction(self, node: Conjunction) -> None:  # noqa: N802
        if any(weight != 1.0 for weight in node.weights):
            self.losses.unsupported("conjunction weights", "the weights of .and() are lost", node)

    def leave_Conjunction(self, node: Conjunction) -> list[CompelNode]:  # noqa: N802
        spliced: list[CompelNode] = []
        for number, part in enumerate(node.parts):
            if number:
                spliced.append(Break(span=node.span))
            spliced.extend(part)
        return spliced

    def visit_Blend(self, node: Blend) -> None:  # noqa: N802
        self.losses.unsupported("blend", ".blend() has no equivalent; keeping its heaviest part", node)
        # The walk goes through the parts' nodes one after another: say which of them to enter.
        kept = _heaviest(node)
        start = sum(len(part) for part in node.parts[:kept]) if kept is not None else 0
        end = start + len(node.parts[kept]) if kept is not None else 0
        self.open[-1] = [0, start, end]

    def leave_Blend(self, node: Blend) -> tuple[CompelNode, ...]:  # noqa: N802
        kept = _heaviest(node)
        return () if kept is None else node.parts[kept]


def _heaviest(node: Blend) -> int | None:
    """The index of the part with the greatest weight (the first of equals; a missing weight is 1)."""
    if not node.parts:
        return None
    weights = list(node.weights) + [1.0] * (len(node.parts) - len(node.weights))
    return max(range(len(node.parts)), key=weights.__getitem__)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
