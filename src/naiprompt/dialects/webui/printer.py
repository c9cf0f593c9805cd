"""The WebUI printer: an AST -> WebUI text, and the escaping of literal text.

A tree read from WebUI text prints back byte for byte; a tree from another dialect
(or rewritten by a transform) prints as the shortest WebUI text that reads back as
the same weights, with each nested weight written as the factor that makes the
product right.

Example:
    >>> import naiprompt
    >>> from naiprompt.dialects.webui.printer import WebUIPrinter
    >>> WebUIPrinter().print(naiprompt.parse("{{a}}", "nai"))
    '(a:1.1025)'
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from naiprompt.ast import (
    Alternate,
    And,
    Break,
    Emphasis,
    Network,
    Prompt,
    Schedule,
    SubpromptWeight,
    Text,
)
from naiprompt.dialects.webui.scanner import ROUND, SQUARE, _weight_number
from naiprompt.errors import ErrorLevel
from naiprompt.printer import Event, Printer, events, mark_omissions
from naiprompt.weight_math import format_number

_NEEDS_ESCAPE = re.compile(r"[\\()\[\]|<:]|AND|BREAK")
_SUFFIX = re.compile(r"(:\s*)[-+]?(?:\d+\.?|\d*\.\d+)\s*$")
_COLON_NUMBER_END = re.compile(r":\s*[+-]?[.\d]+\s*$")
_WEIGHT_LEXEME = re.compile(r":\s*[+-]?[.\d]+\s*\)")  # what WebUI's lexer takes as a weight


def _is_word(char: str) -> bool:
    """Whether ``char`` is a regex word character (``\\b`` needs a non-word neighbour)."""
    return char.isalnum() or char == "_"


def escape(value: str, *, in_brackets: bool = False) -> str:
    """Spell literal text so that WebUI reads it back as exactly ``value``.

    Brackets and backslashes get a backslash; the words AND and BREAK, ``|``,
    and text that would read as an extra network get a lone backslash, which
    WebUI drops. Inside brackets colons are protected too (they would start a
    weight or a prompt edit).

    Example:
        >>> escape("ganyu (genshin impact)")
        'ganyu \\\\(genshin impact\\\\)'
        >>> escape("AND")
        'A\\\\ND'
    """
    if not _NEEDS_ESCAPE.search(value):
        return value
    out = re.sub(r"[\\()\[\]]", r"\\\g<0>", value)
    out = re.sub(r"\bAND\b", r"A\\ND", out)
    out = re.sub(r"\bBREAK\b", r"B\\REAK", out)
    out = out.replace("|", "\\|")
    out = re.sub(r"<(?=\w)", r"<\\", out)  # never the start of an extra network
    if in_brackets:
        out = out.replace(":", "\\:")
    return out


def unescape(raw: str) -> str:
    """The literal text WebUI reads from ``raw`` (escapes resolved, lone backslashes dropped).

    Example:
        >>> unescape("a\\\\b \\\\(c\\\\)")
        'ab (c)'
    """
    return re.sub(r"\\([()\[\]\\])|\\", lambda m: m.group(1) or "", raw)


def _number_text(value: float, fractional: bool) -> str:
    text = format_number(value)
    if fractional and "." not in text:
        return text + ".0"
    if not fractional and "." in text:  # a non-integer written without a dot: 15e-1
        sign, digits, exponent = Decimal(text).as_tuple()
        mantissa = "".join(map(str, digits))
        return f"{'-' if sign else ''}{mantissa}e{exponent}"
    return text


class WebUIPrinter(Printer):
    """Prints the AST in WebUI syntax.

    Example:
        >>> import naiprompt
        >>> WebUIPrinter().print(naiprompt.parse("{a}", "nai"))
        '(a:1.05)'
    """

    dialect = "webui"

    def __init__(
        self,
        *,
        errors: ErrorLevel | str = ErrorLevel.WARN,
        source: Prompt | None = None,
        decimals: int | None = None,
    ) -> None:
        super().__init__(errors=errors, source=source)
        self.decimals = decimals

    def begin(self, prompt: Prompt) -> None:
        """Per-print state: open brackets, subprompts, the weights converted levels mean.

        Example:
            >>> import naiprompt
            >>> printer = WebUIPrinter()
            >>> printer.begin(naiprompt.parse("a"))
            >>> printer._same
            True
        """
        self._same = prompt.dialect == "webui"
        self._subprompt_start = 0
        self._weight_end = -1  # len(self.out) right after the last SubpromptWeight printed
        self._ands: list[int] = []
        self._break_end = -1  # len(self.out) right after the last BREAK printed
        # Per kind: brackets open in the output so far (to keep stray closers literal).
        self._open_counts = {"round": 0, "square": 0}
        self._pending = {"round": 0, "square": 0}
        self._depth = 0  # brackets and groups around the current position
        # Converted trees: the weight each open level means and what the printed numbers
        # give, so that a nested weight is printed as the factor that makes the product right.
        self._meant, self._achieved = [1.0], [1.0]
        self._numbers: dict[int, str | None] = {}

    def layout(self, prompt: Prompt) -> list[Event]:
        """The events of the body: chains collapsed for a converted tree, omitted closers marked.

        Example:
            >>> import naiprompt
            >>> printer = WebUIPrinter()
            >>> tree = naiprompt.parse("(a")
            >>> printer.begin(tree)
            >>> [e.omit for e in printer.layout(tree)]
            [False, False, True]
        """
        laid_out = events(prompt.body, collapse=not self._same)
        if self._same:
            mark_omissions(laid_out, lambda node: node.weight in (ROUND, SQUARE))
        return laid_out

    def _weighted(self) -> bool:
        """Whether the subprompt so far ends in its weight: nothing printed since the ``:w``."""
        return len(self.out) == self._weight_end

    def end(self, prompt: Prompt) -> str:
        """The text, with word boundaries around ``AND`` and no backslash escaping a bracket.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("a AND b"))
            'a AND b'
        """
        out = self.out
        if not self._weighted():
            self._end_subprompt(out, self._subprompt_start)
        for index in self._ands:  # "AND" needs word boundaries on both sides
            after = out[index + 1][:1] if index + 1 < len(out) else ""
            if after.isalnum() or after == "_":
                out[index] = "AND "
        _drop_dangling_backslashes(out)
        return super().end(prompt)

    # -- hooks -----------------------------------------------------------------------------------
    def print_Text(self, node: Text) -> str:  # noqa: N802 - hooks are named after the node class
        """Text: its source spelling when it still spells the value, else escaped.

        Example:
            >>> WebUIPrinter().print(Prompt(body=[Text(value="a (b)")]))
            'a \\\\(b\\\\)'
        """
        piece = self._text(node)
        if len(self.out) == self._break_end and self.out[-1][-1:] == "K" and _is_word(piece[:1]):
            piece = " " + piece  # "BREAKa" would be a word, not a break
        return piece

    def _text(self, node: Text) -> str:
        raw = node.raw
        if self._same and raw is not None and (raw == node.value or unescape(raw) == node.value):
            stray = ")" in raw or "]" in raw
            if not stray or self._stray_ok(raw, self._open_counts):
                return raw
        return escape(node.value, in_brackets=self._depth > 0)

    def open_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        """``(`` or ``[``; nothing for a continuation the source left unopened.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter(decimals=4).print(naiprompt.parse("[a]", "nai"))
            '(a:0.9524)'
        """
        kind = self._kind(node)
        self._depth += 1
        if not node.opened and self._pending[kind]:
            self._pending[kind] -= 1
            return None
        if not self._same and not self._choose(node, kind, self._meant, self._achieved, self._numbers):
            return None  # a weight WebUI cannot write: the text stays, unweighted
        self._open_counts[kind] += 1
        return "[" if kind == "square" else "("

    def close_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        """``)``, ``:w)`` or ``]``; nothing where the source left the closer out.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("(a:1.20) [b"))
            '(a:1.20) [b'
        """
        kind = self._kind(node)
        self._depth -= 1
        assert self.event is not None
        if self.event.omit:
            self._pending[kind] += 1
            return None
        if not self._same:
            self._meant.pop()
            self._achieved.pop()
            if self._numbers.get(id(node), "") is None:
                return None
        self._open_counts[kind] -= 1
        return self._closer(node, kind, self.out, self._numbers.get(id(node)), self._same)

    def open_Schedule(self, node: Schedule) -> str:  # noqa: N802
        """``[``.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("[a:b:0.5]"))
            '[a:b:0.5]'
        """
        self._depth += 1
        return "["

    def sep_Schedule(self, node: Schedule) -> str:  # noqa: N802
        """``:`` between the branches.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("[a::5]"))
            '[a::5]'
        """
        return ":"

    def close_Schedule(self, node: Schedule) -> str:  # noqa: N802
        """``:when]``, as the source spelled the number when it still reads so.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("[a:b: 0.50]"))
            '[a:b: 0.50]'
        """
        self._depth -= 1
        raw = node.raw_when
        if raw:
            number = raw[1:].strip()
            try:
                if float(number) == node.when and ("." in number) == node.fractional:
                    return raw + "]"
            except ValueError:  # pragma: no cover - the grammar only lexes numbers
                pass
        return f":{_number_text(node.when, node.fractional)}]"

    def open_Alternate(self, node: Alternate) -> str:  # noqa: N802
        """``[``, then ``|`` between the options and ``]``.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("[a|b]"))
            '[a|b]'
        """
        self._depth += 1
        return "["

    def sep_Alternate(self, node: Alternate) -> str:  # noqa: N802
        """``|`` between the options.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("[a|b|c]"))
            '[a|b|c]'
        """
        return "|"

    def close_Alternate(self, node: Alternate) -> str:  # noqa: N802
        """``]`` after the options.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("[|]"))
            '[|]'
        """
        self._depth -= 1
        return "]"

    def print_And(self, node: And) -> str:  # noqa: N802
        """``AND``, the subprompt before it protected from reading its text as a weight.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("a AND b"))
            'a AND b'
        """
        out = self.out
        if not self._weighted():
            self._end_subprompt(out, self._subprompt_start)
        previous = out[-1][-1:] if out else ""
        if previous.isalnum() or previous == "_":
            out.append(" ")
        self._ands.append(len(out))
        self._subprompt_start = len(out) + 1
        self._open_counts = {"round": 0, "square": 0}
        self._pending = {"round": 0, "square": 0}
        return "AND"

    def print_Network(self, node: Network) -> str:  # noqa: N802
        """``<name:args>``.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("<lora:x:0.8>"))
            '<lora:x:0.8>'
        """
        return f"<{node.name}:{':'.join(node.args)}>"

    def print_Break(self, node: Break) -> str:  # noqa: N802
        """``BREAK`` with the whitespace the source had around it.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("a  BREAK b"))
            'a  BREAK b'
        """
        # "BREAK" needs word boundaries, which a dropped bracket may have given it in the
        # source ("a(BREAK" -> "a BREAK"); WebUI eats the whitespace around it, so adding
        # a space changes nothing else. The right side is seen by the text after it.
        self._break_end = len(self.out) + 1
        piece = node.raw if node.raw is not None and node.raw.strip() == "BREAK" else " BREAK "
        if piece[:1] == "B" and _is_word(self.out[-1][-1:] if self.out else ""):
            piece = " " + piece
        return piece

    def print_SubpromptWeight(self, node: SubpromptWeight) -> str:  # noqa: N802
        """``:w`` as the source spelled it, when it still reads so.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("a :0.50"))
            'a :0.50'
        """
        self._weight_end = len(self.out) + 1  # once its piece is appended
        raw = node.raw
        if raw is not None:
            try:
                if float(raw[1:].strip()) == node.weight:
                    return raw
            except ValueError:  # pragma: no cover
                pass
        return ":" + format_number(node.weight, self.decimals)

    # -- pieces --------------------------------------------------------------------------
    @staticmethod
    def _kind(node: Emphasis) -> str:
        return "square" if node.weight == SQUARE and node.notation in (None, "bracket") else "round"

    @staticmethod
    def _stray_ok(raw: str, open_counts: dict[str, int]) -> bool:
        escaped = unescape(raw) != raw
        plain = re.sub(r"\\.", "", raw) if escaped else raw
        if ")" in plain and open_counts["round"]:
            return False
        return not ("]" in plain and open_counts["square"])

    def _choose(
        self, node: Emphasis, kind: str, meant: list[float], achieved: list[float], numbers: dict[int, str | None]
    ) -> bool:
        """Decide a converted level's weight text at its opener; False if WebUI cannot write it."""
        target = meant[-1] * node.weight
        parent = achieved[-1]
        if kind == "square":
            meant.append(target)
            achieved.append(parent * SQUARE)
            return True
        if node.notation != "explicit" and node.weight == ROUND:
            meant.append(target)
            achieved.append(parent * ROUND)
            return True
        if not parent:  # under a weight of 0 every factor gives 0: keep the tree's own
            number = format_number(node.weight, self.decimals) if math.isfinite(node.weight) else None
        else:
            number = _factor_text(target, parent, self.decimals) if math.isfinite(target) else None
        numbers[id(node)] = number
        meant.append(target)
        if number is None:
            self.unsupported("weight", f"WebUI cannot write the weight {target!r}; the text is kept at 1", node)
            achieved.append(parent)
            return False
        achieved.append(parent * float(number))
        return True

    def _closer(
        self, node: Emphasis, kind: str, out: list[str], number: str | None = None, same: bool = True
    ) -> str:
        if kind == "square":
            return "]"
        weight = node.weight
        if node.notation == "explicit" or weight != ROUND:
            if number is not None:
                return ":" + number + ")"
            raw = node.raw_weight
            if raw is not None and _WEIGHT_LEXEME.fullmatch(raw + ")") and _weight_number(raw + ")") == weight:
                return raw + ")"
            return ":" + format_number(weight, self.decimals) + ")"
        # A plain ")" after text ending in ":1.2" would read as a weight, and after ":1.2.3"
        # it would make WebUI's float() raise: a lone backslash (dropped by WebUI) breaks it.
        tail = _COLON_NUMBER_END.search("".join(out[-3:]))
        if tail is not None:
            if _weight_number(tail.group() + ")") is not None:
                return ":" + format_number(weight) + ")"
            if not same:  # a source spelling is kept as it was, crash and all
                _break_number(out)
        return ")"

    @staticmethod
    def _end_subprompt(out: list[str], start: int) -> None:
        # Text ending in ":1.5" at the end of a subprompt would become its CFG weight;
        # a lone backslash after the colon keeps it text (WebUI drops the backslash).
        if start >= len(out):
            return
        tail = "".join(out[start:])
        match = _SUFFIX.search(tail)
        if match is not None:
            out[start:] = [tail[: match.end(1)] + "\\" + tail[match.end(1) :]]


def _factor_text(target: float, parent: float, decimals: int | None) -> str | None:
    """The weight text that makes ``parent * weight`` read as ``target``.

    Rounded to ``decimals`` places unless that moves the product by more than
    5e-5 relative (a small factor under a large parent): then more places.
    """
    factor = target / parent
    if not math.isfinite(factor):
        return None
    if decimals is not None:
        for places in range(decimals, 18):
            text = format_number(factor, places)
            if abs(parent * float(text) - target) <= 5e-5 * abs(target):
                return text
    return format_number(factor)


def _break_number(out: list[str]) -> None:
    """Put a lone backslash before the last character of the text ending ``out``."""
    for index in range(len(out) - 1, -1, -1):
        piece = out[index]
        stripped = piece.rstrip()
        if stripped:
            cut = len(stripped) - 1
            out[index] = piece[:cut] + "\\" + piece[cut:]
            return


def _drop_dangling_backslashes(out: list[str]) -> None:
    """A lone backslash ending a piece would escape the bracket that follows it.

    WebUI drops a lone backslash anyway, so dropping it here changes nothing but
    the spelling. Pieces from the source never need this (there the pair would
    have been read as an escape); rewritten trees may.
    """
    for index in range(len(out) - 1):
        piece = out[index]
        if not piece.endswith("\\") or (len(piece) - len(piece.rstrip("\\"))) % 2 == 0:
            continue
        following = next((p for p in out[index + 1 :] if p), "")
        if following[:1] in ("(", ")", "[", "]", "\\"):
            out[index] = piece[:-1]
