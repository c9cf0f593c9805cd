"""compel's prompt grammar, read the way compel 2.3's pyparsing parser reads it.

compel (``src/compel/prompt_parser.py``) is a pyparsing grammar: ordered choice,
whitespace skipped before every element, a failed group falling back to plain
text, quoted fragments re-parsed as a fresh string. This module reproduces that
reading as a packrat (memoized) parser, so that it stays linear where the
backtracking original is exponential (``((((((a`` with no closers), and runs
the rules on an explicit stack of generators, so that nesting depth is bounded
by memory, not by Python's recursion limit.

The result is a small intermediate tree (:class:`Word`, :class:`Group`,
:class:`Att`, ...) with positions into the text that was read; the dialect
builds the shared AST from it (``_compel_tree``) and computes compel's flat
fragments from it (``_compel_weights``).

Example:
    >>> reading = read("a+ (b c)1.3")
    >>> [type(item).__name__ for item in reading.items]
    ['Att', 'Att']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from typing import Any, Union

import attrs

#: The characters compel treats as syntax (an escape is a backslash before one of them).
SYNTAX = '()",.+-='
#: Python's ``string.whitespace``: what compel's free words and plain words stop at.
STRING_WHITESPACE = " \t\n\r\x0b\x0c"
#: pyparsing's default whitespace, skipped before every element.
SKIPPED = " \n\t\r"
#: compel's factors for one ``+`` and one ``-``.
PLUS = 1.1
MINUS = 0.9

_REAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)")  # pyparsing_common.real
_INT = re.compile(r"-?[0-9]+")  # Combine(Optional("-") + Word(nums))
_KEYWORD = re.compile(r"[A-Za-z0-9_-]+")  # Word(alphanums + "_-")
_QUOTED = re.compile(r'"(?:(?:\\")|(?:[^"\n\r]))*"')  # QuotedString('"', esc_quote='\\"')
# pyparsing's unquoting with convert_whitespace_escapes (on by default) and no escape character.
_UNQUOTE = re.compile(r"(\\t|\\n|\\f|\\r)|(\\[0-7]{3}|\\0|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4})|(.)|(\n|.)")
_WHITESPACE_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\f": "\f", "\\r": "\r"}
_COMMA = re.compile(r",(\S)")
# compel's non_syntax_word: escapes of the syntax characters, a sign before a plain character
# (pyparsing's White() is " \t\r\n"; the lenient reading counts VT and FF as whitespace too),
# anything but whitespace and syntax.
_WORD = re.compile(r'(?:\\[()",.+\-=]|[+\-](?=[^ \t\r\n()",.+\-=])|[^ \t\n\r\x0b\x0c()",.+\-=])+')
_SKIP = re.compile(r"[ \n\t\r]*")
_LOOSE_SKIP = re.compile(r"[ \n\t\r\x0b\x0c]*")
_LOOSE_WORD = re.compile(r'(?:\\[()",.+\-=]|[+\-](?=[^ \t\r\n\x0b\x0c()",.+\-=])|[^ \t\n\r\x0b\x0c()",.+\-=])+')


class Rejected(Exception):  # noqa: N818 - internal control flow, never escapes the dialect
    """compel itself raises on this prompt (``position`` in the text that was read)."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


@attrs.frozen
class Word:
    """One word of text (a free word, a plain word, or ``,``/``.`` inside a group)."""

    start: int
    end: int


@attrs.frozen
class Blank:
    """A quoted fragment holding only whitespace: compel's empty ``Fragment('')``."""

    start: int
    end: int


@attrs.frozen
class Group:
    """``(...)`` or ``"..."``: weight 1, transparent.

    For a quote, ``items`` are positions in ``reader.text`` (the unquoted
    content); ``offset`` maps them back (None when unquoting changed the text).
    """

    start: int
    end: int
    kind: str  # "paren" or "quote"
    items: tuple[Item, ...]
    reader: Reader | None = None
    offset: int | None = None


@attrs.frozen
class Att:
    """A weighted target: ``word+``, ``(x)--``, ``"x"1.3``, ``x.attend(0.8)``."""

    start: int
    end: int
    weight: float
    target: Word | Group | Blank


@attrs.frozen
class Lora:
    """``withLora(name, weight)`` / ``useLora(name)``."""

    start: int
    end: int
    name: str
    weight: str | None  # the number as written, None when left out


@attrs.frozen
class Swap:
    """``target.swap(replacement, options)``: prompt-to-prompt attention control."""

    start: int
    end: int
    target: Word | Group | Blank
    replacement: tuple[Item, ...]
    replacement_start: int
    replacement_end: int
    options: tuple[tuple[str, ...], ...]


@attrs.frozen
class Multi:
    """``(a, b).blend(w1, w2)`` or ``(a, b).and()`` at the top of the prompt."""

    start: int
    end: int
    operator: str  # "blend", "and" or "add"
    parts: tuple[Item, ...]
    options: tuple[tuple[str, ...], ...]
    options_start: int
    weights: tuple[float, ...]
    normalize: bool


Item = Union[Word, Blank, Group, Att, Lora, Swap, Multi]  # noqa: UP007 - used at run time by attrs


@attrs.frozen
class Reading:
    """The whole prompt: top-level items, in order, and where reading stopped."""

    text: str
    items: tuple[Item, ...]
    conjunction: bool  # the prompt is an explicit ``(...).and()``: ``items`` is one Multi
    end: int  # text after this (only after an explicit conjunction) is ignored by compel


# A rule is a generator that yields sub-rule requests (reader, rule name, position) and
# returns None (no match) or (end, value).
Result = Union[tuple[int, Any], None]  # noqa: UP007
Rule = Generator[tuple["Reader", str, int], Result, Result]


def preprocess(text: str) -> tuple[str, list[int]]:
    """compel's first step, ``re.sub(r',(\\S)', r', \\1', text)``, and where each character came from.

    Example:
        >>> preprocess("a,b")
        ('a, b', [0, 1, 2, 2, 3])
    """
    out: list[str] = []
    origin: list[int] = []
    last = 0
    for match in _COMMA.finditer(text):
        comma = match.start()
        out.append(text[last : comma + 1])
        origin.extend(range(last, comma + 1))
        out.append(" ")
        origin.append(comma + 1)
        last = comma + 1
    out.append(text[last:])
    origin.extend(range(last, len(text) + 1))
    return "".join(out), origin


def unquote(raw: str) -> str:
    """pyparsing's unquoting of a ``"..."`` body (whitespace and numeric escapes, ``\\"``).

    Example:
        >>> unquote(r'a\\"b\\tc')
        'a"b\\tc'
    """
    pieces: list[str] = []
    for match in _UNQUOTE.finditer(raw):
        if match[1]:
            pieces.append(_WHITESPACE_ESCAPES[match[1]])
        elif match[2]:
            code = match[2][1:]
            if code == "0":
                pieces.append("\0")
            elif code.isdigit() and len(code) == 3:
                pieces.append(chr(int(code, 8)))
            else:
                pieces.append(chr(int(code[1:], 16)))
        else:
            pieces.append(match[3] or match[4])
    return "".join(pieces).replace('\\"', '"')


#: Returned by :meth:`Reader.shortcut` when the rule needs its generator after all.
_GENERATOR: Any = object()


def _drive(root: Rule) -> Result:
    """Run a rule and everything it asks for without Python recursion (memoized per reader)."""
    stack: list[tuple[Rule, Reader | None, str, int]] = [(root, None, "", 0)]
    value: Result = None
    while True:
        gen = stack[-1][0]
        try:
            reader, name, pos = gen.send(value)
        except StopIteration as stop:
            _, owner, rule, at = stack.pop()
            value = stop.value
            if owner is not None:
                owner.memo[(rule, at)] = value
            if not stack:
                return value
            continue
        key = (name, pos)
        if key in reader.memo:
            value = reader.memo[key]
            continue
        value = None
        stack.append((reader.rules[name](pos), reader, name, pos))


class Reader:
    """compel's grammar over one string (the prompt, or the inside of one quote).

    ``loose`` is the lenient fallback for prompts compel rejects: vertical tab and
    form feed count as whitespace, and a blend or conjunction compel would raise
    on is read as plain text instead.
    """

    def __init__(self, text: str, *, loose: bool) -> None:
        self.text = text
        self.n = len(text)
        self.loose = loose
        self.skipped = SKIPPED + ("\x0b\x0c" if loose else "")
        self.memo: dict[tuple[str, int], Result] = {}
        self.word_pattern = _LOOSE_WORD if loose else _WORD
        self.skip_pattern = _LOOSE_SKIP if loose else _SKIP
        self.last_word: tuple[int, tuple[int, Word] | None] = (-1, None)
        self.rules: dict[str, Callable[[int], Rule]] = {
            "target": self._target,
            "paren": self._paren,
            "quoted": self._quoted,
            "quoted_prompt": self._quoted_prompt,
            "items": self._items,
            "items_nocomma": self._items_nocomma,
            "prompt": self._prompt,
            "item": self._item,
            "item_nocomma": self._item_nocomma,
            "attention": self._attention,
            "swap": self._swap,
            "top": self._top,
        }

    # -- tokens (no recursion) ---------------------------------------------------------

    def skip(self, pos: int) -> int:
        """The position after the whitespace pyparsing skips before an element."""
        if pos < self.n and self.text[pos] in self.skipped:
            return self.skip_pattern.match(self.text, pos).end()  # type: ignore[union-attr]
        return pos

    def word_end(self, pos: int) -> int:
        """End of compel's ``non_syntax_word`` starting at ``pos`` (``pos`` if none)."""
        match = self.word_pattern.match(self.text, pos)
        return pos if match is None else match.end()

    def word(self, pos: int) -> tuple[int, Word] | None:
        start = self.skip(pos)
        if self.last_word[0] == start:  # the rules ask for the same word in turn
            return self.last_word[1]
        end = self.word_end(start)
        found = (end, Word(start, end)) if end > start else None
        self.last_word = (start, found)
        return found

    def free_word(self, start: int) -> tuple[int, Word] | None:
        text, n = self.text, self.n
        end = start
        while end < n and text[end] not in STRING_WHITESPACE:
            end += 1
        return (end, Word(start, end)) if end > start else None

    def literal(self, pos: int, word: str) -> int | None:
        start = self.skip(pos)
        return start + len(word) if self.text.startswith(word, start) else None

    def number(self, pos: int) -> tuple[int, float, str] | None:
        start = self.skip(pos)
        match = _REAL.match(self.text, start) or _INT.match(self.text, start)
        if match is None:
            return None
        return match.end(), float(match.group()), match.group()

    def operator(self, pos: int, *, numbers: bool) -> tuple[int, float] | None:
        """``Word('+') | Word('-') | number``: the weight after a target."""
        start = self.skip(pos)
        text, n = self.text, self.n
        if start < n and text[start] in "+-":
            char = text[start]
            end = start
            while end < n and text[end] == char:
                end += 1
            return end, pow(PLUS if char == "+" else MINUS, end - start)
        if not numbers:
            return None
        found = self.number(start)
        return None if found is None else (found[0], found[1])

    def lora(self, pos: int) -> tuple[int, Lora] | None:
        start = self.skip(pos)
        after = self.literal(start, "useLora") or self.literal(start, "withLora")
        if after is None:
            return None
        at = self.literal(after, "(")
        if at is None:
            return None
        name_start = self.skip(at)
        match = _KEYWORD.match(self.text, name_start)
        if match is None:
            return None
        at = match.end()
        weight = None
        comma = self.literal(at, ",")
        if comma is not None:
            found = self.number(comma)
            if found is not None:
                at, weight = found[0], found[2]
        close = self.literal(at, ")")
        if close is None:
            return None
        return close, Lora(start, close, match.group(), weight)

    def option(self, pos: int) -> tuple[int, tuple[str, ...]] | None:
        start = self.skip(pos)
        match = _KEYWORD.match(self.text, start)
        if match is not None:
            equals = self.literal(match.end(), "=")
            if equals is not None:
                found = self.number(equals)
                if found is not None:
                    return found[0], (match.group(), found[2])
                value = _KEYWORD.match(self.text, self.skip(equals))
                if value is not None:
                    return value.end(), (match.group(), "=" + value.group())
        found = self.number(start)
        if found is not None:
            return found[0], (str(found[1]),)
        if match is not None:
            return match.end(), (match.group(),)
        return None

    def options(self, pos: int) -> tuple[int, tuple[tuple[str, ...], ...]]:
        """``Optional(DelimitedList(option))``; a value of a keyword is marked with ``=``."""
        found = self.option(pos)
        if found is None:
            return pos, ()
        at, first = found
        out = [first]
        while True:
            comma = self.literal(at, ",")
            if comma is None:
                break
            found = self.option(comma)
            if found is None:
                break
            at, value = found
            out.append(value)
        return at, tuple(out)

    def shortcut(self, name: str, pos: int) -> Any:
        """The result of rule ``name`` at ``pos`` where the next characters decide it cheaply.

        Most rules fail or succeed on a plain word without any group in sight; answering
        those here spares a generator (the reader's main cost). :data:`_GENERATOR` means
        the rule must run.
        """
        start = self.skip(pos)
        if start >= self.n:
            return None
        first = self.text[start]
        if first in '("':
            if name == "paren":
                return _GENERATOR if first == "(" else None
            if name in ("quoted", "quoted_prompt"):
                return _GENERATOR if first == '"' else None
            return _GENERATOR
        if name in ("paren", "quoted", "quoted_prompt"):
            return None
        if name == "target":
            return self.word(start)
        word = self.word(start)
        if name == "swap":
            if word is None or self.literal(word[0], ".swap") is None:
                return None
            return _GENERATOR
        if name == "attention":
            if word is None:
                return None
            if self.literal(word[0], ".attend") is not None:
                return _GENERATOR
            end = word[0]
            if end < self.n and self.text[end] in self.skipped:
                return None
            weighted = self.operator(end, numbers=False)
            return None if weighted is None else (weighted[0], Att(start, weighted[0], weighted[1], word[1]))
        return _GENERATOR

    # -- rules (generators, run by _drive) -----------------------------------------------

    def _target(self, pos: int) -> Rule:
        """``quoted_fragment | parenthesized_fragment | non_syntax_word``."""
        found: Result = self.shortcut("quoted", pos)
        if found is _GENERATOR:
            found = yield (self, "quoted", pos)
        if found is None:
            found = self.shortcut("paren", pos)
            if found is _GENERATOR:
                found = yield (self, "paren", pos)
        if found is None:
            found = self.word(pos)
        return found

    def _paren(self, pos: int) -> Rule:
        start = self.skip(pos)
        if start >= self.n or self.text[start] != "(":
            return None
        found = yield (self, "items", start + 1)
        assert found is not None
        end, items = found
        close = self.literal(end, ")")
        if close is None:
            return None
        return close, Group(start, close, "paren", items)

    def _quoted(self, pos: int, *, prompt: bool = False) -> Rule:
        start = self.skip(pos)
        if start >= self.n or self.text[start] != '"':
            return None
        match = _QUOTED.match(self.text, start)
        if match is None:
            return None
        end = match.end()
        raw = self.text[start + 1 : end - 1]
        content = unquote(raw)
        if not content.strip():
            return end, Blank(start, end)
        inner_text = content.replace('"', '\\"')
        inner = Reader(inner_text, loose=self.loose)
        found = yield (inner, "prompt" if prompt else "items", 0)
        assert found is not None
        at, items = found
        if inner.skip(at) != inner.n:
            return None
        offset = start + 1 if inner_text == raw else None
        return end, Group(start, end, "quote", items, inner, offset)

    def _quoted_prompt(self, pos: int) -> Rule:
        return (yield from self._quoted(pos, prompt=True))

    def _sequence(self, pos: int, rule: str) -> Rule:
        items: list[Item] = []
        commas = rule == "item"
        while True:
            found = yield from self._item(pos, commas=commas)  # read once: no memo needed
            if found is None:
                return pos, tuple(items)
            pos, item = found
            items.append(item)

    def _items(self, pos: int) -> Rule:
        """``fragment_including_commas_or_periods``: the inside of a group."""
        return (yield from self._sequence(pos, "item"))

    def _items_nocomma(self, pos: int) -> Rule:
        """``fragment_excluding_commas``: a swap's replacement."""
        return (yield from self._sequence(pos, "item_nocomma"))

    def _item(self, pos: int, *, commas: bool = True) -> Rule:
        start = self.skip(pos)
        if start >= self.n:
            return None
        found: Result = self.lora(start)
        if found is None:
            found = self.shortcut("attention", start)
            if found is _GENERATOR:
                found = yield (self, "attention", start)
        if found is None:
            found = self.shortcut("swap", start)
            if found is _GENERATOR:
                found = yield (self, "swap", start)
        if found is None:
            found = self.shortcut("paren", start)
            if found is _GENERATOR:
                found = yield (self, "paren", start)
        if found is None:
            found = self.shortcut("quoted", start)
            if found is _GENERATOR:
                found = yield (self, "quoted", start)
        if found is None:
            found = self.word(start)
        if found is None and commas and self.text[start] in ",.":
            found = start + 1, Word(start, start + 1)
        return found

    def _item_nocomma(self, pos: int) -> Rule:
        return (yield from self._item(pos, commas=False))

    def _attention(self, pos: int) -> Rule:
        start = self.skip(pos)
        target = self.shortcut("target", start)
        if target is _GENERATOR:
            target = yield (self, "target", start)
        if target is not None:  # target.attend(weight)
            at = self.literal(target[0], ".attend")
            at = None if at is None else self.literal(at, "(")
            weighted = None if at is None else self.operator(at, numbers=True)
            close = None if weighted is None else self.literal(weighted[0], ")")
            if weighted is not None and close is not None:
                return close, Att(start, close, weighted[1], target[1])
        group = self.shortcut("quoted", start)
        if group is _GENERATOR:
            group = yield (self, "quoted", start)
        if group is None:
            group = self.shortcut("paren", start)
            if group is _GENERATOR:
                group = yield (self, "paren", start)
        for found, numbers in ((group, True), (self.word(start), False)):
            if found is None:
                continue
            end, target_item = found
            if end < self.n and self.text[end] in self.skipped:
                continue  # no whitespace between a target and its weight
            weighted = self.operator(end, numbers=numbers)
            if weighted is not None:
                return weighted[0], Att(start, weighted[0], weighted[1], target_item)
        return None

    def _swap(self, pos: int) -> Rule:
        start = self.skip(pos)
        target = self.shortcut("target", start)
        if target is _GENERATOR:
            target = yield (self, "target", start)
        if target is None:
            return None
        at = self.literal(target[0], ".swap")
        at = None if at is None else self.literal(at, "(")
        if at is None:
            return None
        found = yield (self, "items_nocomma", at)
        assert found is not None
        end, replacement = found
        options: tuple[tuple[str, ...], ...] = ()
        comma = self.literal(end, ",")
        after = end
        if comma is not None:
            after, options = self.options(comma)
        close = self.literal(after, ")")
        if close is None:
            return None
        freedom = [option for option in options if option[0] == "shape_freedom"]
        if freedom and (len(freedom[-1]) == 1 or freedom[-1][1].startswith("=")):
            # compel computes shape_freedom ** (1/3) on a string: a TypeError
            if not self.loose:
                raise Rejected(start, "shape_freedom needs a number")
            return None
        return close, Swap(start, close, target[1], replacement, at, end, options)

    def _prompt(self, pos: int) -> Rule:
        """compel's ``prompt``: items, free words and whitespace (the top level, a quoted prompt)."""
        items: list[Item] = []
        while True:
            start = self.skip(pos)
            if start >= self.n:
                return start, tuple(items)
            found = self.shortcut("swap", start)
            if found is _GENERATOR:
                found = yield (self, "swap", start)
            if found is None:
                found = self.lora(start)
            if found is None:
                found = self.shortcut("attention", start)
                if found is _GENERATOR:
                    found = yield (self, "attention", start)
            if found is None:
                found = self.shortcut("quoted", start)
                if found is _GENERATOR:
                    found = yield (self, "quoted", start)
            if found is None:
                found = self.shortcut("paren", start)
                if found is _GENERATOR:
                    found = yield (self, "paren", start)
            if found is None:
                found = self.free_word(start)
            if found is None:
                return start, tuple(items)  # a vertical tab or form feed: compel stops here
            pos, item = found
            items.append(item)

    def multi(self, pos: int, operators: tuple[str, ...]) -> Rule:
        """``(target, ...).blend(options)`` / ``.and(options)`` / ``.add(options)``."""
        start = self.skip(pos)
        if start >= self.n or self.text[start] != "(":
            return None
        parts: list[Item] = []
        at = start + 1
        while True:
            found = self.shortcut("target", at)
            if found is _GENERATOR:
                found = yield (self, "target", at)
            if found is None:
                found = self.shortcut("quoted_prompt", at)
                if found is _GENERATOR:
                    found = yield (self, "quoted_prompt", at)
            if found is None:
                if not parts:
                    return None
                break
            at, part = found
            parts.append(part)
            comma = self.literal(at, ",")
            if comma is None:
                break
            found = self.shortcut("target", comma)
            if found is _GENERATOR:
                found = yield (self, "target", comma)
            if found is None:
                found = self.shortcut("quoted_prompt", comma)
                if found is _GENERATOR:
                    found = yield (self, "quoted_prompt", comma)
            if found is None:
                break
            at = comma
            # the comma was followed by a part: read it again in the loop (memoized)
        close = self.literal(at, ")")
        if close is None:
            return None
        op_start = self.skip(close)
        operator = next((op for op in operators if self.text.startswith("." + op, op_start)), None)
        if operator is None:
            return None
        paren = self.literal(op_start + len(operator) + 1, "(")
        if paren is None:
            return None
        after, options = self.options(paren)
        end = self.literal(after, ")")
        if end is None:
            return None
        values = options
        normalize = True
        if operator == "blend" and values and values[-1][0] == "no_normalize":
            normalize = False
            values = values[:-1]
        problem: str | None = None
        weights: list[float] = []
        for option in values:
            try:
                weights.append(float(option[0]))
            except ValueError:
                problem = f"weight {option[0]!r} of .{operator}() is not a number"
                break
        if problem is None and weights and len(weights) != len(parts):
            problem = f".{operator}() has {len(parts)} parts but {len(weights)} weights"
        if problem is None and operator == "blend" and any(_holds_swap(part) for part in parts):
            problem = "compel cannot .swap() inside a .blend()"
        if problem is not None:
            if not self.loose:
                raise Rejected(start, problem)
            return None
        return end, Multi(start, end, operator, tuple(parts), options, paren, tuple(weights), normalize)

    def _top(self, pos: int) -> Rule:
        """compel's ``explicit_conjunction | implicit_conjunction``."""
        conjunction = yield from self.multi(0, ("and", "add"))
        if conjunction is not None:
            return conjunction[0], Reading(self.text, (conjunction[1],), True, conjunction[0])
        items: list[Item] = []
        at = 0
        while (found := self.lora(at)) is not None:
            at, lora = found
            items.append(lora)
        blend = yield from self.multi(at, ("blend",))
        if blend is not None:
            after, node = blend
            rest = [node]
            while (found := self.lora(after)) is not None:
                after, lora = found
                rest.append(lora)
            if self.skip(after) == self.n:
                return self.n, Reading(self.text, (*items, *rest), False, self.n)
            if not self.loose:
                raise Rejected(self.skip(after), "text after .blend()")
        rest_found = yield (self, "prompt", at)
        assert rest_found is not None
        end, more = rest_found
        if end != self.n:
            raise Rejected(end, f"compel cannot read {self.text[end]!r} here")
        return self.n, Reading(self.text, (*items, *more), False, self.n)


def _holds_swap(part: Item) -> bool:
    """Does a blend part hold a swap directly (compel's check looks one level down)?"""
    if isinstance(part, Swap):
        return True
    if isinstance(part, Group):
        return any(isinstance(item, Swap) for item in part.items)
    return False


def read(text: str, *, loose: bool = False) -> Reading:
    """Read ``text`` (already preprocessed) as compel does; :class:`Rejected` where compel raises.

    Example:
        >>> read("(a)1.5").items[0].weight
        1.5
    """
    reader = Reader(text, loose=loose)
    found = _drive(reader._top(0))
    assert found is not None
    reading: Reading = found[1]
    return reading
