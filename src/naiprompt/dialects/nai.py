"""The ``nai`` (NovelAI V1-V3) and ``nai4`` (NovelAI V4 numeric emphasis) dialects.

``{x}`` x1.05, ``[x]`` /1.05, nesting multiplies; round brackets, backslashes
and colons are plain text. ``nai4`` adds ``w::text::``. Grammars:
``grammars/nai.lark`` and ``grammars/nai4.lark``.

Example:
    >>> from naiprompt.dialects.nai import NovelAI, NovelAIV4
    >>> NovelAI().attention("{{a}}, [b]")
    [('a', 1.1025), (', ', 1.0), ('b', 0.9523809523809523)]
    >>> NovelAIV4().attention("1girl, 2::{smile}::")
    [('1girl, ', 1.0), ('smile', 2.1)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import ClassVar

from naiprompt.ast import (
    And,
    Break,
    Emphasis,
    Network,
    Prompt,
    SubpromptWeight,
    Text,
)
from naiprompt.dialects import Dialect, Notation
from naiprompt.dialects._build import Range, TreeBuilder
from naiprompt.dialects._nai_runs import numeric_runs
from naiprompt.dialects._runs import SuffixWeights, float_or_none, merge_equal
from naiprompt.dialects._strict import check, numeric_everywhere
from naiprompt.dialects._tidy import DROPPED, JOINT
from naiprompt.dialects._tree_spelling import nai_lexemes, spelled_as_weighted
from naiprompt.errors import ErrorLevel, Problem, collect
from naiprompt.grammar import scanner, tokens
from naiprompt.printer import Event, Printer, events, mark_omissions
from naiprompt.weight_math import NAI_STEP, format_number, nearest_power, power

BRACE = NAI_STEP
BRACKET = 1 / NAI_STEP
#: Places a computed weight is rounded to when ``render`` is not told (V4's ``w::x::``).
DECIMALS = 4
#: How far the nearest bracket form may be from a weight before it is reported as lossy.
TOLERANCE = 0.005

_TAG_END = re.compile(f"(?:,|{JOINT})\\s*$")


def _number_of(lexeme: str) -> tuple[str, float]:
    """Leading whitespace and weight of a ``WEIGHT_OPEN`` lexeme like ``' 1.5::'``."""
    body = lexeme[:-2]
    stripped = body.lstrip()
    return body[: len(body) - len(stripped)], float(stripped)


class NovelAI(Dialect):
    """NovelAI V1-V3 brackets: ``{x}`` x1.05, ``[x]`` /1.05.

    Example:
        >>> from naiprompt.dialects import get_dialect
        >>> nai = get_dialect("nai")
        >>> nai.render(nai.parse("{a [b}"))
        '{a [b}'
    """

    name: ClassVar[str] = "nai"
    aliases: ClassVar[tuple[str, ...]] = (
        "novelai", "nai1", "nai2", "nai3", "nai-v3", "naiv3", "novelai3", "novelai-v3"
    )
    bracket_weight: ClassVar[float] = BRACE
    deemphasis_weight: ClassVar[float | None] = BRACKET
    notations: ClassVar[frozenset[Notation]] = frozenset({Notation.NESTED_LEVELS})
    level_spelling: ClassVar[tuple[str | None, str | None]] = ("brace", "bracket")
    render_decimals: ClassVar[bool] = True
    default_decimals: ClassVar[int | None] = DECIMALS
    comma_fragments: ClassVar[bool] = True
    #: Whether it writes V4's ``w::x::`` (the printer's switch; :attr:`notations` says the same).
    numeric: ClassVar[bool] = False

    def slips(self, text: str) -> list[str]:
        """WebUI habits NovelAI reads as text: ``{1girl:1.2}`` (see :func:`naiprompt.dialects.mixed.slips`).

        Example:
            >>> NovelAI().slips("{1girl:1.2}")[0].split(";")[0]
            "'{1girl:1.2}' at 0: ':1.2' is literal text in NovelAI, not a weight"
        """
        from naiprompt.dialects.mixed import slips

        return slips(text)

    def with_preset(self, text: str, preset: str, *, negative: bool = False) -> str:
        """``text`` with NovelAI's quality tags, or with ``negative`` its UC preset (:mod:`naiprompt.presets`).

        Example:
            >>> NovelAI().with_preset("1girl", "v1")
            'masterpiece, best quality, 1girl'
        """
        from naiprompt.presets import apply

        return apply(text, preset, negative=negative)

    # -- attention -------------------------------------------------------------------------
    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """NovelAI's weighted runs: brackets multiply innermost first, numeric weights last.

        Unclosed openers run to the end, stray closers are text, equal
        neighbours merge (the same rules as WebUI, with NovelAI's factors).

        Example:
            >>> NovelAI().attention("[[bad]]")
            [('bad', 0.9070294784580498)]
        """
        if isinstance(prompt, str):
            return self._runs(scanner(self.name).finditer(prompt))
        if prompt.dialect == self.name and spelled_as_weighted(prompt, self.name):
            # From the tree's nodes: the same lexemes, the same bits.
            return self._runs(nai_lexemes(prompt, scanner(self.name)))
        return self._runs(scanner(self.name).finditer(self.render(prompt)))

    def _runs(self, matches: Iterable[re.Match[str]]) -> list[tuple[str, float]]:
        """NovelAI's run arithmetic over a stream of lexemes (of the text, or of a tree's nodes)."""
        texts: list[str] = []
        weights = SuffixWeights()
        numerics: list[float] = []
        braces: list[int] = []
        brackets: list[int] = []
        pending: list[str] = []
        numeric = 1.0
        numeric_open = False
        at_tag_start = True
        for match in matches:
            kind = match.lastgroup
            value = match.group()
            if kind == "WEIGHT_OPEN" and not at_tag_start:
                pending.append(value[:-2])
                kind, value = "WEIGHT_END", "::"
            if kind in ("TEXT", "COLON", "COMMA"):
                pending.append(value)
                if kind == "COMMA":
                    at_tag_start = True
                elif at_tag_start and value.strip():
                    at_tag_start = False
                continue
            if kind == "WEIGHT_END" and not numeric_open:
                pending.append(value)
                at_tag_start = False
                continue
            if pending:
                texts.append("".join(pending))
                weights.append(1.0)
                numerics.append(numeric)
                pending = []
            at_tag_start = False
            if kind == "LBRACE":
                braces.append(len(texts))
            elif kind == "LSQB":
                brackets.append(len(texts))
            elif kind == "RBRACE" and braces:
                weights.multiply_from(braces.pop(), BRACE)
            elif kind == "RSQB" and brackets:
                weights.multiply_from(brackets.pop(), BRACKET)
            elif kind == "WEIGHT_OPEN":
                lead, numeric = _number_of(value)
                numeric_open = True
                if lead:
                    texts.append(lead)
                    weights.append(1.0)
                    numerics.append(1.0 if not numerics else numerics[-1])
            elif kind == "WEIGHT_END":
                numeric, numeric_open = 1.0, False
            else:  # a closer with nothing to close
                texts.append(value)
                weights.append(1.0)
                numerics.append(numeric)
        if pending:
            texts.append("".join(pending))
            weights.append(1.0)
            numerics.append(numeric)
        for start in braces:
            weights.multiply_from(start, BRACE)
        for start in brackets:
            weights.multiply_from(start, BRACKET)
        if not texts:
            return [("", 1.0)]
        # Numeric weights apply last, after the brackets (2::{smile}:: is 1.05 * 2).
        finals = [w * f if f != 1.0 else w for w, f in zip(weights.values(), numerics, strict=True)]
        return merge_equal(texts, finals)

    # -- parsing ---------------------------------------------------------------------------
    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse NovelAI text; lenient unless ``strict``.

        Example:
            >>> NovelAI().parse("{a").body[0].closed
            False
        """
        if strict:
            self._strict_check(text)
        builder = TreeBuilder({"brace": BRACE, "bracket": BRACKET}, {"brace": "brace", "bracket": "bracket"})
        problems: list[Problem] = []
        at_tag_start = True
        for typ, value, pos in tokens(self.name, text):
            end = pos + len(value)
            if typ == "WEIGHT_OPEN" and not at_tag_start:
                # NovelAI reads "w::" inside a tag as the text w and a closer; written
                # like an opener, it is most likely a misplaced one.
                problems.append((pos, "weight-inside-tag", "a weight opens only at the start of a tag"))
                builder.text(value[:-2], value[:-2], pos, end - 2)
                typ, value, pos = "WEIGHT_END", "::", end - 2
            if typ in ("TEXT", "COLON", "COMMA"):
                builder.text(value, value, pos, end)
                if typ == "COMMA":
                    at_tag_start = True
                elif value.strip():
                    at_tag_start = False
                continue
            at_tag_start = False
            if typ == "LBRACE":
                builder.open("brace", pos)
            elif typ == "LSQB":
                builder.open("bracket", pos)
            elif typ == "RBRACE":
                if not builder.close("brace", BRACE, "brace", pos, end):
                    problems.append((pos, "unmatched-closer", "'}' closes nothing"))
                    builder.text(value, value, pos, end)
            elif typ == "RSQB":
                if not builder.close("bracket", BRACKET, "bracket", pos, end):
                    problems.append((pos, "unmatched-closer", "']' closes nothing"))
                    builder.text(value, value, pos, end)
            elif typ == "WEIGHT_OPEN":
                if builder.is_open("brace") or builder.is_open("bracket"):
                    # The grammar opens "w::" only at the top level; NovelAI's reading of
                    # one inside braces is not documented, so it is flagged, read as nested.
                    problems.append((pos, "weight-in-brackets", "a numeric weight inside brackets"))
                lead, weight = _number_of(value)
                if lead:
                    builder.text(lead, lead, pos, pos + len(lead))
                current = builder.find("numeric")
                if current is not None:
                    problems.append((pos, "nested-weight", "numeric weights do not nest"))
                    previous = current.weight if current.weight is not None else 1.0
                    builder.close("numeric", previous, "numeric", pos, pos, closed=False)
                rng = Range("numeric", weight, "numeric")
                rng.raw_weight = value[len(lead) : -2]
                builder.open("numeric", pos + len(lead), rng)
            elif typ == "WEIGHT_END":
                current = builder.find("numeric")
                closer_weight = current.weight if current is not None and current.weight is not None else 1.0
                if current is None or not builder.close("numeric", closer_weight, "numeric", pos, end):
                    problems.append((pos, "unmatched-closer", "'::' closes nothing"))
                    builder.text(value, value, pos, end)
        body = builder.finish(len(text))
        problems.extend(builder.problems)
        notes = collect(text, problems, strict=strict)
        return Prompt(body=body, dialect=self.name, source=text, warnings=notes)

    def _strict_check(self, text: str) -> None:
        check(
            self.name,
            text,
            unclosed=lambda t: ("unclosed bracket", self._last_unclosed(t)),
            postlex=numeric_everywhere() if self.numeric else None,
        )

    def _last_unclosed(self, text: str) -> int:
        stack: list[int] = []
        for typ, value, pos in tokens(self.name, text):
            if typ in ("LBRACE", "LSQB"):
                stack.append(pos)
            elif typ == "WEIGHT_OPEN":
                stack.append(pos + len(value) - len(value.lstrip()))
            elif typ in ("RBRACE", "RSQB", "WEIGHT_END") and stack:
                stack.pop()
        return stack[-1] if stack else len(text)

    # -- printing --------------------------------------------------------------------------
    def render(
        self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN, decimals: int | None = None
    ) -> str:
        """Print ``prompt`` in NovelAI syntax.

        Example:
            >>> import naiprompt
            >>> NovelAI().render(naiprompt.parse("(a:1.21)"))
            '{{{{a}}}}'
        """
        return NovelAIPrinter(errors=errors, numeric=self.numeric, dialect=self.name, decimals=decimals).print(
            prompt
        )


class NovelAIV4(NovelAI):
    """NovelAI V4: the V1-V3 brackets plus ``w::text::`` numeric emphasis.

    Example:
        >>> import naiprompt
        >>> naiprompt.convert("(x:1.21)", "webui", "nai4")
        '1.21::x::'
    """

    name: ClassVar[str] = "nai4"
    aliases: ClassVar[tuple[str, ...]] = ("nai-v4", "naiv4", "novelai4", "novelai-v4", "nai45", "nai4-5")
    notations: ClassVar[frozenset[Notation]] = frozenset({Notation.NUMERIC_WEIGHT, Notation.NESTED_LEVELS})
    weight_spelling: ClassVar[str | None] = "numeric"
    numeric: ClassVar[bool] = True


def _exact_power(weight: float) -> int | None:
    if not (weight > 0 and math.isfinite(weight)):
        return None
    n = nearest_power(weight, BRACE)
    return n if math.isclose(power(BRACE, n), weight, rel_tol=1e-9) else None


class NovelAIPrinter(Printer):
    """Prints the AST in NovelAI syntax (``numeric`` adds V4's ``w::x::``).

    Example:
        >>> import naiprompt
        >>> NovelAIPrinter().print(naiprompt.parse("[a] (b)"))
        '[[a]] {{b}}'
    """

    dialect = "nai"
    label = "NovelAI"

    def __init__(
        self,
        *,
        errors: ErrorLevel | str = ErrorLevel.WARN,
        source: Prompt | None = None,
        numeric: bool = False,
        dialect: str = "nai",
        decimals: int | None = None,
    ) -> None:
        super().__init__(errors=errors, source=source)
        self.numeric = numeric
        self.dialect = dialect
        self.decimals = DECIMALS if decimals is None else decimals

    def begin(self, prompt: Prompt) -> None:
        """Per-print state: whether the tree is NovelAI's own, what is open, what was printed last.

        Example:
            >>> import naiprompt
            >>> printer = NovelAIPrinter()
            >>> printer.begin(naiprompt.parse("{a}", "nai"))
            >>> printer._same
            True
        """
        self._same = prompt.dialect == self.dialect
        self._closers: dict[int, str] = {}
        self._open_counts = {"{": 0, "[": 0}
        self._pending: dict[str, int] = {}
        self._numeric_depth = 0
        self._blank = True  # nothing but whitespace printed yet: the start of the first tag
        # The last non-empty piece printed is text (which a "::" could fuse with); every hook keeps it.
        self._text_last = False
        # Per open level: the weight the tree means there and the weight the printed
        # brackets give, so that each level's brackets bring its text to the power of
        # 1.05 nearest its own weight (rounding per level would drift: issue #10).
        self._meant, self._achieved = [1.0], [1.0]

    def layout(self, prompt: Prompt) -> list[Event]:
        """The events of the body: V4 numeric runs and collapsed chains for a converted tree.

        Example:
            >>> import naiprompt
            >>> printer = NovelAIPrinter()
            >>> tree = naiprompt.parse("((a))")
            >>> printer.begin(tree)
            >>> [e.kind for e in printer.layout(tree)]
            ['open', 'text', 'close']
        """
        same = self._same
        body = prompt.body if same or not self.numeric else numeric_runs(prompt.body)
        laid_out = events(body, collapse=not same)
        if same:
            mark_omissions(
                laid_out,
                lambda node: node.notation == "numeric" or node.weight in (BRACE, BRACKET),
                lambda node, nxt: node.notation == "numeric" and nxt.notation == "numeric",
            )
        return laid_out

    # -- hooks -----------------------------------------------------------------------------------
    def print_Text(self, node: Text) -> str:  # noqa: N802 - hooks are named after the node class
        """Text as it is; a bracket or a ``::`` NovelAI would read as syntax is reported.

        Example:
            >>> NovelAIPrinter(errors="ignore").print(Prompt(body=[Text(value="a{b")]))
            'a{b'
        """
        piece = self._text(node, self._same, self._open_counts)
        self._blank = self._blank and not piece.strip()
        if piece:
            self._text_last = True
        return piece

    def open_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        """The opener of a level: braces, brackets or ``w::`` (the nearest exact form).

        Example:
            >>> import naiprompt
            >>> NovelAIPrinter().print(naiprompt.parse("(a:1.1025)"))
            '{{a}}'
        """
        opener, closer, reached = self._spelling(
            node,
            self._same,
            _at_tag_start(self.out, self._blank),
            self._numeric_depth,
            self._meant[-1],
            self._achieved[-1],
        )
        self._meant.append(self._meant[-1] * node.weight)
        self._achieved.append(reached)
        self._closers[id(node)] = closer
        if closer == "::":
            self._numeric_depth += 1
        if not node.opened and self._pending.get(closer):
            self._pending[closer] -= 1
            return None
        for ch in opener:
            if ch in self._open_counts:
                self._open_counts[ch] += 1
        self._blank = self._blank and not opener.strip()
        if opener:
            self._text_last = False
        return opener

    def close_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        """The closer of a level, or nothing where the source left it out.

        Example:
            >>> import naiprompt
            >>> NovelAIPrinter().print(naiprompt.parse("{a", "nai"))
            '{a'
        """
        closer = self._closers.pop(id(node))
        self._meant.pop()
        self._achieved.pop()
        if closer == "::":
            self._numeric_depth -= 1
        assert self.event is not None
        if self.event.omit:
            self._pending[closer] = self._pending.get(closer, 0) + 1
            return None
        for ch in closer:
            if ch == "}":
                self._open_counts["{"] -= 1
            elif ch == "]":
                self._open_counts["["] -= 1
        if closer == "::" and self._text_last and _glues_to_closer(self.out):
            # "a:" + "::" or ", 0" + "::" would read differently: the space keeps the weight but
            # becomes part of the text, so it is reported.
            self.unsupported(
                "text before '::'",
                "NovelAI V4 would read the text's last ':' or number into the closing '::'; "
                "a space is added before it",
                node,
            )
            self.out.append(" ")
        if closer:
            self._text_last = False
        return closer

    def _seam(self, piece: str) -> str:
        self._blank = self._blank and not piece.strip(" \t\n" + DROPPED)
        if piece:
            self._text_last = False
        return piece

    def print_Break(self, node: Break) -> str:  # noqa: N802
        """NovelAI has no BREAK: a seam (reported).

        Example:
            >>> import naiprompt
            >>> NovelAIPrinter(errors="ignore").print(naiprompt.parse("a BREAK b"))
            'a, b'
        """
        self.unsupported("BREAK", "NovelAI has no BREAK; it is dropped", node)
        return self._seam(self.joint())

    def print_And(self, node: And) -> str:  # noqa: N802
        """NovelAI has no AND: the subprompts are joined (reported).

        Example:
            >>> import naiprompt
            >>> NovelAIPrinter(errors="ignore").print(naiprompt.parse("a AND b"))
            'a, b'
        """
        self.unsupported("AND", "NovelAI has no AND; the subprompts are joined", node)
        return self._seam(self.joint())

    def print_SubpromptWeight(self, node: SubpromptWeight) -> str:  # noqa: N802
        """NovelAI has no subprompt weight: dropped (reported).

        Example:
            >>> import naiprompt
            >>> NovelAIPrinter(errors="ignore").print(naiprompt.parse("a :0.5"))
            'a'
        """
        self.unsupported("AND weight", f"NovelAI has no subprompt weight (:{node.weight})", node)
        return self._seam(self.dropped())

    def print_Network(self, node: Network) -> str:  # noqa: N802
        """NovelAI has no extra networks: dropped (reported).

        Example:
            >>> import naiprompt
            >>> NovelAIPrinter(errors="ignore").print(naiprompt.parse("a, <lora:x:1>"))
            'a'
        """
        self.unsupported("extra network", f"NovelAI has no extra networks (<{node.name}:...>)", node)
        return self._seam(self.dropped())

    def _text(self, node: Text, same: bool, open_counts: dict[str, int]) -> str:
        # NovelAI has no escapes: a closer is literal only while nothing of its kind is
        # open (it would close it otherwise), and an opener is never literal.
        value = node.value
        closes = ("}" in value and open_counts["{"]) or ("]" in value and open_counts["["])
        if closes or "{" in value or "[" in value:
            self.unsupported("literal bracket", f"NovelAI cannot write a literal bracket in {value!r}", node)
        if self.numeric and "::" in value and not (same and node.raw == value):
            self.unsupported("literal '::'", f"NovelAI V4 reads '::' in {value!r} as numeric emphasis", node)
        return value

    def _spelling(
        self, node: Emphasis, same: bool, at_tag_start: bool, numeric_depth: int, meant: float, parent: float
    ) -> tuple[str, str, float]:
        """Opener, closer and the weight reached inside, for a level under ``parent``.

        ``meant`` is the weight the tree gives the enclosing level, ``parent``
        what the brackets printed so far give it.
        """
        weight = node.weight
        if same and node.notation == "brace" and weight == BRACE:
            return "{", "}", parent * BRACE
        if same and node.notation == "bracket" and weight == BRACKET:
            return "[", "]", parent * BRACKET
        numeric_ok = self.numeric and numeric_depth == 0 and at_tag_start and math.isfinite(weight)
        if same and node.notation == "numeric" and (numeric_ok or not node.opened):
            raw = node.raw_weight
            number = raw if raw is not None and float_or_none(raw) == weight else format_number(weight)
            return f"{number}::", "::", parent * weight
        target = meant * weight
        ratio = target / parent if parent else math.nan
        exact = _exact_power(ratio)
        if exact is not None:
            return (*_brackets(exact), parent * power(BRACE, exact))
        if numeric_ok and math.isfinite(ratio):
            number = _numeric_text(ratio, self.decimals)
            return f"{number}::", "::", parent * float(number)
        if not (ratio > 0 and math.isfinite(ratio)):
            self.unsupported("weight", f"NovelAI brackets cannot express weight {target!r}", node)
            return "", "", parent
        n = nearest_power(ratio, BRACE)
        reached = parent * power(BRACE, n)
        if abs(reached / target - 1) > TOLERANCE:
            where = " here (numeric weights open only at the start of a tag)" if self.numeric else ""
            self.unsupported(
                "weight",
                f"weight {format_number(target, 4)} has no close bracket form{where}; "
                f"using 1.05^{nearest_power(reached, BRACE)} = {format_number(reached, 4)}",
                node,
            )
        return (*_brackets(n), reached)


_NUMBER_END = re.compile(r"(?:^|,)\s*-?(?:\d+(?:\.\d*)?|\.\d+)$")


def _at_tag_start(out: list[str], blank: bool) -> bool:
    """Whether a numeric weight printed now opens (start of the prompt, or after a comma)."""
    return blank or bool(_TAG_END.search("".join(out[-3:]).replace(DROPPED, "")))


def _glues_to_closer(out: list[str]) -> bool:
    """Whether the output so far would fuse with a following ``::``."""
    tail = "".join(out[-3:])
    if tail.endswith(":"):
        return True
    match = _NUMBER_END.search(tail)
    # "^" only means the start of the prompt when the tail is the whole output.
    return match is not None and (match.group().startswith(",") or len(out) <= 3)


def _numeric_text(weight: float, decimals: int) -> str:
    """A V4 numeric weight rounded to ``decimals`` places, more where that is off by 1e-4 relative."""
    for places in range(decimals, 18):
        text = format_number(weight, places)
        if abs(float(text) - weight) <= 1e-4 * abs(weight):
            return text
    return format_number(weight)


def _brackets(n: int) -> tuple[str, str]:
    if n >= 0:
        return "{" * n, "}" * n
    return "[" * -n, "]" * -n
