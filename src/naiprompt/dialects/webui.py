"""The ``webui`` dialect: AUTOMATIC1111 stable-diffusion-webui (v1.10.1) prompts.

Syntax: ``(x)`` x1.1, ``[x]`` /1.1, ``(x:w)``, escapes ``\\( \\) \\[ \\] \\\\``,
``BREAK``, prompt editing ``[a:b:N]``, alternation ``[a|b]``, ``AND`` with a
trailing ``:w``, extra networks ``<name:args>``. The grammar is
``grammars/webui.lark``.

Example:
    >>> from naiprompt.dialects.webui import WebUI
    >>> WebUI().attention("a (b:1.5) [c]")
    [('a ', 1.0), ('b', 1.5), (' ', 1.0), ('c', 0.9090909090909091)]
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import ClassVar

from naiprompt.ast import (
    Alternate,
    And,
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Schedule,
    Span,
    SubpromptWeight,
    Text,
)
from naiprompt.dialects import Dialect
from naiprompt.dialects._build import TreeBuilder
from naiprompt.dialects._print import Event, Printer, flatten, mark_omissions
from naiprompt.dialects._runs import SuffixWeights, float_or_none, merge_equal
from naiprompt.dialects._strict import WORDS, check, word_splitter
from naiprompt.editing import Group, analyze, editing_tokens
from naiprompt.errors import ErrorLevel, PromptSyntaxError, PromptWarning
from naiprompt.grammar import scanner, tokens
from naiprompt.weights import NAI_STEP, WEBUI_STEP, format_number

ROUND = WEBUI_STEP
SQUARE = 1 / WEBUI_STEP

Token = tuple[str, str, int]

# Terminals of the other layers, which WebUI's emphasis parser does not know:
# it sees "<lora:x:1>" and "[a:b:5]" as brackets and text.
_ATTENTION_EXCLUDE = frozenset({"NETWORK", "SCHEDULE_WHEN", "SUBPROMPT_WEIGHT"})
_BREAK = re.compile(r"\s*\bBREAK\b\s*")
_TEXTLIKE = frozenset({"TEXT", "COLON", "PIPE", "LT"})


# -- attention ------------------------------------------------------------------------------
def attention(text: str) -> list[tuple[str, float]]:
    """WebUI's ``parse_prompt_attention``: flat ``(text, weight)`` runs, bit for bit.

    Nesting multiplies innermost first; unclosed brackets run to the end; equal
    neighbours merge; ``BREAK`` gives ``("BREAK", -1.0)``. Where WebUI itself
    fails (``(a:1.2.3)``) the number is kept as text and a
    :class:`~naiprompt.errors.PromptWarning` is issued.

    Example:
        >>> attention("((a))")
        [('a', 1.2100000000000002)]
        >>> attention("a BREAK b")
        [('a', 1.0), ('BREAK', -1.0), ('b', 1.0)]
    """
    return _runs(scanner("webui", _ATTENTION_EXCLUDE).finditer(text), text)


def tree_attention(prompt: Prompt) -> list[tuple[str, float]]:
    """:func:`attention` of a WebUI tree, computed from its nodes.

    The walk (:func:`~naiprompt.dialects._tree_spelling.webui_lexemes`) gives the
    lexemes of each node in order; the run arithmetic is the scanner's own, so the
    weights are the same bits as ``attention(text)``.

    Example:
        >>> tree_attention(WebUI().parse("a ((b)) [c:1.2]"))
        [('a ', 1.0), ('b', 1.2100000000000002), (' ', 1.0), ('c:1.2', 0.9090909090909091)]
    """
    from naiprompt.dialects._tree_spelling import webui_lexemes

    return _runs(webui_lexemes(prompt, scanner("webui", _ATTENTION_EXCLUDE)), prompt.source or "")


def _runs(matches: Iterable[re.Match[str]], text: str) -> list[tuple[str, float]]:
    """WebUI's run arithmetic over a stream of lexemes (of the text, or of a tree's nodes)."""
    texts: list[str] = []
    weights = SuffixWeights()
    round_stack: list[int] = []
    square_stack: list[int] = []
    # WebUI's own runs since the last bracket: a text piece, a colon, an escaped character
    # or a lone backslash each start one. Equal weights merge at the end anyway, but NaN
    # weights never do (nan != nan), so the runs are kept apart exactly where WebUI has them.
    pending: list[list[str]] = []
    joinable = False

    for match in matches:
        kind = match.lastgroup
        if kind in _TEXTLIKE:
            value = match.group()
            if kind == "TEXT" and "BREAK" in value:
                parts = _BREAK.split(value)
                if len(parts) > 1:
                    if joinable:
                        pending[-1].append(parts[0])
                    else:
                        pending.append([parts[0]])
                    for piece in pending:
                        texts.append("".join(piece))
                        weights.append(1.0)
                    for part in parts[1:-1]:
                        texts.extend(("BREAK", part))
                        weights.append(-1.0)
                        weights.append(1.0)
                    texts.append("BREAK")
                    weights.append(-1.0)
                    pending = [[parts[-1]]]
                    joinable = True
                    continue
            if kind == "COLON":
                pending.append([value])
                joinable = False
            elif joinable:
                pending[-1].append(value)
            else:
                pending.append([value])
                joinable = True
            continue
        if kind == "ESCAPE":
            pending.append([match.group()[1]])
            joinable = False
            continue
        if kind == "BACKSLASH":
            pending.append([])  # WebUI keeps an empty run for a lone backslash
            joinable = False
            continue
        # A bracket: finish the pending runs first, as WebUI appends runs eagerly.
        for piece in pending:
            texts.append("".join(piece))
            weights.append(1.0)
        pending = []
        joinable = False
        if kind == "LPAR":
            round_stack.append(len(texts))
        elif kind == "LSQB":
            square_stack.append(len(texts))
        elif kind == "RPAR" and round_stack:
            weights.multiply_from(round_stack.pop(), ROUND)
        elif kind == "RSQB" and square_stack:
            weights.multiply_from(square_stack.pop(), SQUARE)
        elif kind == "WEIGHT_CLOSE" and round_stack:
            lexeme = match.group()
            number = _weight_number(lexeme)
            if number is None:
                _warn_weight(text, match.start(), lexeme)
                texts.append(lexeme[:-1])
                weights.append(1.0)
                weights.multiply_from(round_stack.pop(), ROUND)
            else:
                weights.multiply_from(round_stack.pop(), number)
        else:  # a closer with nothing to close, or a weight outside brackets: text
            texts.append(match.group())
            weights.append(1.0)
    for piece in pending:
        texts.append("".join(piece))
        weights.append(1.0)
    for start in round_stack:
        weights.multiply_from(start, ROUND)
    for start in square_stack:
        weights.multiply_from(start, SQUARE)
    if not texts:
        return [("", 1.0)]
    return merge_equal(texts, weights.values())


def _weight_number(lexeme: str) -> float | None:
    """The weight of a ``:w)`` lexeme, or None where WebUI's ``float()`` fails."""
    return float_or_none(lexeme[1:-1].strip())  # str.strip knows more whitespace than float()


def _warn_weight(text: str, position: int, lexeme: str) -> None:
    warnings.warn(
        f"WebUI cannot read the weight {lexeme[:-1]!r} at position {position}; kept as text",
        PromptWarning,
        stacklevel=3,
    )


# -- lexing for the tree -------------------------------------------------------------------
def lex(text: str) -> list[Token]:
    """WebUI tokens with the words ``AND`` and ``BREAK`` split out of text runs.

    Example:
        >>> [t[0] for t in lex("a AND b BREAK c")]
        ['TEXT', 'AND', 'TEXT', 'BREAK', 'TEXT']
    """
    out: list[Token] = []
    for typ, value, pos in tokens("webui", text):
        if typ != "TEXT" or ("AND" not in value and "BREAK" not in value):
            out.append((typ, value, pos))
            continue
        last = 0
        for match in WORDS.finditer(value):
            if match.start() > last:
                out.append(("TEXT", value[last : match.start()], pos + last))
            word = "AND" if match.group() == "AND" else "BREAK"
            out.append((word, match.group(), pos + match.start()))
            last = match.end()
        if last < len(value):
            out.append(("TEXT", value[last:], pos + last))
    return out


def _split_subprompts(toks: list[Token]) -> Iterator[tuple[list[Token], Token | None]]:
    current: list[Token] = []
    for token in toks:
        if token[0] == "AND":
            yield current, token
            current = []
        else:
            current.append(token)
    yield current, None


def _group_factory(group: Group, raw_when: str) -> object:
    def build(parts: list[tuple[Node, ...]], span: Span) -> Node:
        if group.kind == "alternate":
            return Alternate(options=parts, span=span)
        assert group.when is not None
        return Schedule(
            before=parts[0] if len(parts) == 2 else None,
            after=parts[-1],
            when=float(group.when),
            fractional="." in group.when,
            raw_when=raw_when,
            span=span,
        )

    return build


def _build_subprompt(
    toks: list[Token], text: str, problems: list[tuple[int, str]], square: float = SQUARE
) -> list[Node]:
    """One subprompt's tree; ``square`` and the LBRACE/RBRACE tokens serve the mixed reading."""
    # No "[" means no prompt editing: skip reading the editing grammar altogether.
    ok, groups = analyze(editing_tokens(text, toks), text) if "[" in text else (True, [])
    if groups:
        try:
            return _build_with_groups(toks, text, problems, square, ok, groups)
        except _GroupsCrossBracketsError:
            # WebUI cuts extra networks out before reading prompt edits, so "[\\<lora:x:1>[a:5]"
            # escapes the second "[" there but not in the emphasis pass: no tree holds both.
            problems.append((toks[0][2], "a backslash escapes across an extra network; prompt editing not read"))
    return _build_with_groups(toks, text, problems, square, ok, [])


class _GroupsCrossBracketsError(Exception):
    """The prompt-editing groups do not nest with the emphasis brackets."""


def _build_with_groups(
    toks: list[Token], text: str, problems: list[tuple[int, str]], square: float, ok: bool, groups: list[Group]
) -> list[Node]:
    found: list[tuple[int, str]] = []
    colons: set[int] = set()  # ids of the round frames that hold a colon
    by_start = {g.start: g for g in groups}
    when_lexemes = {p: v for t, v, p in toks if t == "SCHEDULE_WHEN"} if groups else {}
    active: list[Group] = []
    builder = TreeBuilder(
        {"round": ROUND, "square": square, "brace": NAI_STEP}, {"round": "paren", "square": "bracket", "brace": "brace"}
    )
    for typ, value, pos in toks:
        end = pos + len(value)
        group = active[-1] if active else None
        if group is not None and (pos in group.seps or pos == group.end) and builder.innermost() != "group":
            raise _GroupsCrossBracketsError
        if group is not None and pos in group.seps:
            builder.next_part()
            continue
        if group is not None and pos == group.when_start:
            continue
        if typ == "TEXT" or typ in ("COLON", "PIPE", "LT", "SCHEDULE_WHEN"):
            if typ == "COLON":
                _check_colon(builder, pos, found, colons)
            builder.text(value, value, pos, end)
        elif typ == "ESCAPE":
            builder.text(value[1], value, pos, end)
        elif typ == "BACKSLASH":
            builder.text("", value, pos, end)
        elif typ == "LPAR":
            builder.open("round", pos)
        elif typ == "LSQB":
            started = by_start.get(pos)
            if started is not None:
                raw_when = when_lexemes.get(started.when_start, "") if started.when_start is not None else ""
                builder.open_group(pos, _group_factory(started, raw_when))  # type: ignore[arg-type]
                active.append(started)
            else:
                builder.open("square", pos)
        elif typ == "RSQB":
            if group is not None and pos == group.end:
                builder.close_group(end)
                active.pop()
            elif not builder.close("square", square, "bracket", pos, end):
                found.append((pos, "']' closes nothing"))
                builder.text(value, value, pos, end)
        elif typ == "RPAR":
            if not builder.close("round", ROUND, "paren", pos, end):
                found.append((pos, "')' closes nothing"))
                builder.text(value, value, pos, end)
        elif typ == "WEIGHT_CLOSE":
            if not builder.is_open("round"):
                found.append((pos, "')' closes nothing"))
                builder.text(value, value, pos, end)
                continue
            if id(builder.stack[-1]) in colons:
                found.append((pos, "a weight after ':' text in '(...)'"))
            number = _weight_number(value)
            if number is None:
                found.append((pos + 1, f"malformed weight {value[1:-1].strip()!r}"))
                builder.text(value[:-1], value[:-1], pos, end - 1)
                builder.close("round", ROUND, "paren", end - 1, end)
            else:
                builder.close("round", number, "explicit", pos, end, raw_weight=value[:-1])
        elif typ == "LBRACE":  # only the mixed reading lexes NovelAI's braces
            builder.open("brace", pos)
        elif typ == "RBRACE":
            if not builder.close("brace", NAI_STEP, "brace", pos, end):
                found.append((pos, "'}' closes nothing"))
                builder.text(value, value, pos, end)
        elif typ == "NETWORK":
            name, _, args = value[1:-1].partition(":")
            builder.leaf(Network(name=name, args=tuple(args.split(":")), span=Span(pos, end)))
        elif typ == "BREAK":
            builder.leaf(Break(raw=value, span=Span(pos, end)))
        elif typ == "SUBPROMPT_WEIGHT":
            builder.close_all(pos)
            weight = float(value[1:].strip())
            builder.leaf(SubpromptWeight(weight=weight, raw=value, span=Span(pos, end)))
        else:  # pragma: no cover - every terminal is handled above
            builder.text(value, value, pos, end)
    # Without a real "[" the fallback to plain text changes nothing ("16:9 | 4:3" reads the same).
    if not ok and any(typ == "LSQB" for typ, _, _ in toks):
        found.append((toks[0][2] if toks else 0, "prompt editing is disabled by a syntax error"))
    body = builder.finish(toks[-1][2] + len(toks[-1][1]) if toks else 0)
    problems.extend(found)
    problems.extend(builder.problems)
    return list(body)


def _check_colon(builder: TreeBuilder, pos: int, found: list[tuple[int, str]], colons: set[int]) -> None:
    """Note a colon WebUI reads as text but its prompt-editing grammar does not take.

    That grammar takes one colon in ``(x:y)`` and none in ``[x]``; elsewhere inside
    a prompt edit it fails (and drops prompt editing), so these are warnings.
    """
    kind = builder.innermost()
    if kind in ("square", "group"):
        found.append((pos, "':' in '[...]' is text, not a prompt edit"))
    elif kind == "round":
        frame = id(builder.stack[-1])
        if frame in colons:
            found.append((pos, "a second ':' in '(...)'"))
        colons.add(frame)


def _strict_check(text: str) -> None:
    check(
        "webui",
        text,
        unclosed=lambda t: (_unclosed_reason(t), _last_unclosed(t)),
        postlex=word_splitter(),
        reading=_plain_pipes(text),
    )


def _plain_pipes(text: str) -> str | None:
    """``text`` with the ``|`` of subprompts without a real ``[`` read as text (see webui.lark).

    WebUI's prompt-editing parser rejects such a ``|`` and falls back to the plain
    prompt, which changes nothing when there is no ``[`` to lose. A ``,`` stands in
    for it: the same length, and like ``|`` neither a word character nor a space,
    so the words AND and BREAK are found exactly as before.
    """
    if "|" not in text:
        return None
    chars = list(text)
    for sub_tokens, _ in _split_subprompts(lex(text)):
        plain = not any(typ == "LSQB" for typ, _, _ in sub_tokens)
        previous = ""
        for typ, _, pos in sub_tokens:
            # "\|" is text to WebUI's prompt-editing parser, wherever it stands, also
            # across an extra network (cut out before that parser reads the prompt).
            if typ == "PIPE" and (plain or previous == "BACKSLASH"):
                chars[pos] = ","
            if typ != "NETWORK":
                previous = typ
    return "".join(chars)


def _last_unclosed(text: str) -> int:
    stack: list[int] = []
    for typ, _, pos in lex(text):
        if typ in ("LPAR", "LSQB"):
            stack.append(pos)
        elif typ in ("RPAR", "RSQB", "WEIGHT_CLOSE") and stack:
            stack.pop()
        elif typ == "AND" and stack:
            return stack[-1]
    return stack[-1] if stack else len(text)


def _unclosed_reason(text: str) -> str:
    position = _last_unclosed(text)
    if position < len(text):
        return f"unclosed {text[position]!r}"
    return "unexpected end of prompt"


# -- printing --------------------------------------------------------------------------------
_NEEDS_ESCAPE = re.compile(r"[\\()\[\]|<:]|AND|BREAK")
_SUFFIX = re.compile(r"(:\s*)[-+]?(?:\d+\.?|\d*\.\d+)\s*$")
_COLON_NUMBER_END = re.compile(r":\s*[+-]?[.\d]+\s*$")
_WEIGHT_LEXEME = re.compile(r":\s*[+-]?[.\d]+\s*\)")  # what WebUI's lexer takes as a weight


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

    def print(self, prompt: Prompt) -> str:
        """Return ``prompt`` as WebUI text.

        Example:
            >>> import naiprompt
            >>> WebUIPrinter().print(naiprompt.parse("((a)) [b]"))
            '((a)) [b]'
        """
        self.source = self.source or prompt
        same = prompt.dialect == "webui"
        events = flatten(prompt.body, collapse=not same)
        if same:
            mark_omissions(events, lambda node: node.weight in (ROUND, SQUARE))
        out: list[str] = []
        subprompt_start = 0
        weighted = False  # the current subprompt ends in a SubpromptWeight
        ands: list[int] = []
        # Per kind: brackets open in the output so far (to keep stray closers literal).
        open_counts = {"round": 0, "square": 0}
        pending = {"round": 0, "square": 0}
        depth = 0  # brackets and groups around the current position
        # Converted trees: the weight each open level means and what the printed numbers
        # give, so that a nested weight is printed as the factor that makes the product right.
        meant, achieved = [1.0], [1.0]
        numbers: dict[int, str | None] = {}
        for event in events:
            node = event.node
            if event.kind == "text":
                assert isinstance(node, Text)
                out.append(self._text(node, same, open_counts, depth > 0))
            elif event.kind == "open":
                assert isinstance(node, Emphasis)
                kind = self._kind(node)
                depth += 1
                if not node.opened and pending[kind]:
                    pending[kind] -= 1
                    continue
                if not same and not self._choose(node, kind, meant, achieved, numbers):
                    continue  # a weight WebUI cannot write: the text stays, unweighted
                open_counts[kind] += 1
                out.append("[" if kind == "square" else "(")
            elif event.kind == "close":
                assert isinstance(node, Emphasis)
                kind = self._kind(node)
                depth -= 1
                if event.omit:
                    pending[kind] += 1
                    continue
                if not same:
                    meant.pop()
                    achieved.pop()
                    if numbers.get(id(node), "") is None:
                        continue
                open_counts[kind] -= 1
                out.append(self._closer(node, kind, out, numbers.get(id(node)), same))
            elif event.kind in ("gopen", "gsep", "gclose"):
                depth += {"gopen": 1, "gsep": 0, "gclose": -1}[event.kind]
                out.append(self._group(event))
            elif isinstance(node, And):
                if not weighted:
                    self._end_subprompt(out, subprompt_start)
                previous = out[-1][-1:] if out else ""
                if previous.isalnum() or previous == "_":
                    out.append(" ")
                ands.append(len(out))
                out.append("AND")
                subprompt_start = len(out)
                open_counts = {"round": 0, "square": 0}
                pending = {"round": 0, "square": 0}
            else:
                out.append(self._leaf(node, out))
            weighted = isinstance(node, SubpromptWeight) and event.kind == "leaf"
        if not weighted:
            self._end_subprompt(out, subprompt_start)
        for index in ands:  # "AND" needs word boundaries on both sides
            after = out[index + 1][:1] if index + 1 < len(out) else ""
            if after.isalnum() or after == "_":
                out[index] = "AND "
        _drop_dangling_backslashes(out)
        return "".join(out)

    # -- pieces --------------------------------------------------------------------------
    @staticmethod
    def _kind(node: Emphasis) -> str:
        return "square" if node.weight == SQUARE and node.notation in (None, "bracket") else "round"

    def _text(self, node: Text, same: bool, open_counts: dict[str, int], in_brackets: bool) -> str:
        raw = node.raw
        if same and raw is not None and (raw == node.value or unescape(raw) == node.value):
            stray = ")" in raw or "]" in raw
            if not stray or self._stray_ok(raw, open_counts):
                return raw
        return escape(node.value, in_brackets=in_brackets)

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

    def _group(self, event: Event) -> str:
        node = event.node
        if isinstance(node, Alternate):
            return {"gopen": "[", "gsep": "|", "gclose": "]"}[event.kind]
        assert isinstance(node, Schedule)
        if event.kind == "gopen":
            return "["
        if event.kind == "gsep":
            return ":"
        raw = node.raw_when
        if raw:
            number = raw[1:].strip()
            try:
                if float(number) == node.when and ("." in number) == node.fractional:
                    return raw + "]"
            except ValueError:  # pragma: no cover - the grammar only lexes numbers
                pass
        return f":{_number_text(node.when, node.fractional)}]"

    def _leaf(self, node: Node, out: list[str]) -> str:
        if isinstance(node, Network):
            return f"<{node.name}:{':'.join(node.args)}>"
        if isinstance(node, Break):
            if node.raw is not None and node.raw.strip() == "BREAK":
                return node.raw
            return " BREAK "
        if isinstance(node, SubpromptWeight):
            raw = node.raw
            if raw is not None:
                try:
                    if float(raw[1:].strip()) == node.weight:
                        return raw
                except ValueError:  # pragma: no cover
                    pass
            return ":" + format_number(node.weight, self.decimals)
        raise TypeError(f"cannot print {type(node).__name__} in webui")  # pragma: no cover

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


class WebUI(Dialect):
    """AUTOMATIC1111 stable-diffusion-webui syntax.

    Example:
        >>> from naiprompt.dialects import get_dialect
        >>> webui = get_dialect("webui")
        >>> webui.render(webui.parse("(a [b) c]"))
        '(a [b) c]'
    """

    name: ClassVar[str] = "webui"
    bracket_weight: ClassVar[float] = ROUND

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse WebUI text; lenient unless ``strict``.

        Example:
            >>> WebUI().parse("(a").body[0].closed
            False
        """
        if strict:
            _strict_check(text)
        problems: list[tuple[int, str]] = []
        body: list[Node] = []
        for sub_tokens, and_token in _split_subprompts(lex(text)):
            body.extend(_build_subprompt(sub_tokens, text, problems))
            if and_token is not None:
                body.append(And(span=Span(and_token[2], and_token[2] + 3)))
        problems.sort()
        if strict and problems:
            position, reason = problems[0]
            raise PromptSyntaxError(reason, text, position)
        notes = tuple(f"{reason} (position {position})" for position, reason in problems)
        return Prompt(body=tuple(body), dialect=self.name, source=text, warnings=notes)

    def render(
        self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN, decimals: int | None = None
    ) -> str:
        """Print ``prompt`` as WebUI text.

        Example:
            >>> import naiprompt
            >>> WebUI().render(naiprompt.parse("{{a}}", "nai"))
            '(a:1.1025)'
        """
        return WebUIPrinter(errors=errors, decimals=decimals).print(prompt)

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """WebUI's emphasis runs (see :func:`attention`).

        Example:
            >>> WebUI().attention("[a]")
            [('a', 0.9090909090909091)]
        """
        if isinstance(prompt, str):
            return attention(prompt)
        if prompt.dialect == self.name:
            from naiprompt.dialects._tree_spelling import spelled_as_weighted

            if spelled_as_weighted(prompt, self.name):
                return tree_attention(prompt)
        return attention(self.render(prompt))
