"""The ``mixed`` reading: prompts that use both UIs' syntax at once.

The most common prompt on the web mixes them:
``masterpiece, {{1girl}}, [[[bad hands]]], (red eyes:1.3)``. Neither UI reads it
as its author meant; the ``mixed`` dialect does:

* ``{x}`` is NovelAI's x1.05 (nesting multiplies);
* ``(x)``, ``(x:w)``, ``\\(``, ``AND``, ``BREAK``, ``<lora:...>``, ``[a:b:n]``
  and ``[a|b]`` are WebUI's;
* ``[x]`` is the one ambiguity: WebUI divides by 1.1, NovelAI by 1.05. The rule
  is ``square``: ``"webui"``, ``"nai"`` or ``"auto"`` (the default): NovelAI's
  factor when the prompt has more ``{`` than WebUI weights and ``(`` groups,
  else WebUI's. Each ``[x]`` read this way is reported with a
  :class:`~naiprompt.errors.PromptWarning` naming the factor used.

A tree read as ``mixed`` prints back byte for byte; a changed tree prints in
WebUI syntax, which can write everything the mixed reading means.

Example:
    >>> import warnings, naiprompt
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     naiprompt.convert("masterpiece, {{1girl}}, [[[bad hands]]], (red eyes:1.3)", "mixed", "webui")
    'masterpiece, (1girl:1.1025), (bad hands:0.8638), (red eyes:1.3)'
"""

from __future__ import annotations

import math
import re
import warnings
import weakref
from collections.abc import Sequence
from typing import ClassVar

import attrs

from naiprompt.ast import And, Emphasis, Node, Prompt, Span, Text, walk, weighted
from naiprompt.dialects import Dialect
from naiprompt.dialects._runs import merge_equal
from naiprompt.dialects.webui.builder import _build_subprompt, _split_subprompts
from naiprompt.dialects.webui.printer import WebUIPrinter
from naiprompt.dialects.webui.scanner import lex as _webui_lex
from naiprompt.errors import ErrorLevel, Problem, PromptWarning, collect, warn
from naiprompt.weight_math import NAI_STEP, WEBUI_STEP, nearest_power

__all__ = ["Detection", "Mixed", "detect", "detect_evidence", "slips"]

#: The ``[x]`` rules.
SQUARE_RULES = ("auto", "webui", "nai")
_BRACES = re.compile(r"[{}]")
# Linear scans (naiprompt.detect runs these on untrusted text): an escaped "\(" opens no weight,
# an extra network's arguments hold no "<", each number has one reading.
_WEBUI_WEIGHT = re.compile(r"(?<!\\)\((?:\\.|[^()\\])*:\s*[+-]?[.\d]+\s*\)")
_PAREN_GROUP = re.compile(r"(?<!\\)\((?:\\.|[^()\\:])+\)")
_BRACE_GROUP = re.compile(r"\{[^{}|]*\}")
_WEBUI_STRONG = re.compile(
    r"<\w+:[^<>]+>|\bAND\b|\bBREAK\b|\\[()]|\[[^\[\]|:]*\|[^\[\]]*\]|:\s*(?:\d+(?:\.\d+)?|\.\d+)\s*\]"
)
_SLIP = re.compile(r"\{([^{}]*?)(:\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*\}")  # one reading per number: linear


def _lex(text: str, problems: list[Problem]) -> list[tuple[str, str, int]]:
    """WebUI's tokens with NovelAI's braces split out of the text runs.

    Inside ``[...]`` a brace is syntax only when it pairs with one at the same level
    and no ``[``, ``]``, ``:`` or ``|`` lies between: otherwise it could cut a prompt
    edit or an alternation in two, and it stays text (as WebUI reads it). Each brace
    kept as text is reported in ``problems`` (a warning; strict reading raises), as an
    unclosed ``{`` or a stray ``}`` outside brackets is.
    """
    out: list[tuple[str, str, int]] = []
    for typ, value, pos in _webui_lex(text):
        if typ != "TEXT" or ("{" not in value and "}" not in value):
            out.append((typ, value, pos))
            continue
        last = 0
        for match in _BRACES.finditer(value):
            if match.start() > last:
                out.append(("TEXT", value[last : match.start()], pos + last))
            out.append(("LBRACE" if match.group() == "{" else "RBRACE", match.group(), pos + match.start()))
            last = match.end()
        if last < len(value):
            out.append(("TEXT", value[last:], pos + last))
    depth = 0
    pending: list[tuple[int, int, bool]] = []  # open braces: (token index, bracket depth, still safe)
    literal: set[int] = set()
    for index, (typ, _value, _pos) in enumerate(out):
        if typ in ("LSQB", "RSQB", "COLON", "PIPE", "SCHEDULE_WHEN"):
            pending = [(i, d, safe and d == 0) for i, d, safe in pending]
            if typ == "LSQB":
                depth += 1
            elif typ == "RSQB" and depth:
                depth -= 1
        elif typ == "LBRACE":
            pending.append((index, depth, True))
        elif typ == "RBRACE":
            if pending and pending[-1][1] == depth and (pending[-1][2] or depth == 0):
                pending.pop()
            elif depth:
                literal.add(index)
    literal.update(i for i, d, _safe in pending if d)  # unclosed inside brackets: text
    for index in sorted(literal):
        typ, _value, pos = out[index]
        if typ == "LBRACE":
            problems.append((pos, "unclosed-bracket", "'{' inside [...] is text: no '}' closes it in its part"))
        else:
            problems.append((pos, "unmatched-closer", "'}' inside [...] is text: it closes no '{' of its part"))
    return [("TEXT", v, p) if i in literal else (t, v, p) for i, (t, v, p) in enumerate(out)]


def square_rule(text: str, rule: str = "auto") -> str:
    """``"nai"`` or ``"webui"``: whose ``[x]`` factor a mixed prompt gets under ``rule``.

    Example:
        >>> square_rule("{{a}}, [b]"), square_rule("(a), (b:1.2), {c}, [d]")
        ('nai', 'webui')
    """
    if rule not in SQUARE_RULES:
        raise ValueError(f"unknown [] rule {rule!r}; choose one of {', '.join(SQUARE_RULES)}")
    if rule != "auto":
        return rule
    webui = len(_WEBUI_WEIGHT.findall(text)) + len(_PAREN_GROUP.findall(text))
    return "nai" if text.count("{") > webui else "webui"


#: Past this many brackets a slip's advice names only V4's numeric weight.
_MAX_ADVISED_BRACKETS = 10


def slips(text: str) -> list[str]:
    """Known slips in NovelAI syntax: ``{1girl:1.2}`` (there ``:1.2`` is literal text).

    Example:
        >>> slips("{1girl:1.2}, {smile}")
        ["'{1girl:1.2}' at 0: ':1.2' is literal text in NovelAI, not a weight; use {{{{1girl}}}} or 1.2::1girl::"]
        >>> slips("{wings:1.4}")[0].split("; ")[1]
        'use {{{{{{{wings}}}}}}} or 1.4::wings::'
        >>> slips("{16:9}")[0].split("; ")[1]
        'use 9::16:: (NovelAI V4)'
    """
    out = []
    for match in _SLIP.finditer(text):
        body, weight = match.group(1), match.group(2)
        number = weight[1:].strip()
        value = float(number)
        n = nearest_power(value, NAI_STEP) if 0 < value < math.inf else None
        if n is not None and abs(n) <= _MAX_ADVISED_BRACKETS:
            brackets = "{" * n + body + "}" * n if n >= 0 else "[" * -n + body + "]" * -n
            advice = f"use {brackets} or {number}::{body}::"
        else:  # zero, negative, or dozens of braces that help nobody: V4's numeric weight only
            advice = f"use {number}::{body}:: (NovelAI V4)"
        where = f"{match.group()!r} at {match.start()}"
        out.append(f"{where}: {weight!r} is literal text in NovelAI, not a weight; {advice}")
    return out


@attrs.frozen
class Detection:
    """What :func:`detect_evidence` found: the dialect and the evidence for it.

    Example:
        >>> detect_evidence("{a}, (b:1.2)").dialect
        'mixed'
    """

    dialect: str
    evidence: tuple[str, ...]


# One reading of each number (\d+\.?\d* splits a digit run n ways: quadratic on digits).
_NUMERIC = re.compile(r"(?:^|,)\s*-?(?:\d+(?:\.\d*)?|\.\d+)::")


def detect(text: str) -> str:
    """The built-in dialect ``text`` is most likely written in (:func:`naiprompt.detect`).

    Example:
        >>> detect("1girl, -1::hat::"), detect("{a}, b"), detect("(a:1.2)")
        ('nai4', 'nai', 'webui')
    """
    if _NUMERIC.search(text) and "::" in text:
        return "nai4"
    if "{" not in text:
        return "webui"
    return detect_evidence(text).dialect


def detect_evidence(text: str) -> Detection:
    """Guess the dialect of ``text`` and say why (``mixed`` when both UIs' syntax is used).

    NovelAI evidence: brace groups (not ``{a|b}`` wildcards). WebUI evidence:
    ``(x:w)`` weights, and (twice) extra networks, AND, BREAK, escapes, prompt
    editing. A prompt with both is ``mixed`` unless one side has at least three
    times the other's.

    Example:
        >>> found = detect_evidence("masterpiece, {{1girl}}, [[[bad hands]]], (red eyes:1.3)")
        >>> found.dialect, found.evidence
        ('mixed', ("NovelAI braces '{1girl}' at 14", "WebUI weight '(red eyes:1.3)' at 41"))
    """
    if _NUMERIC.search(text) and "::" in text:
        return Detection("nai4", ("NovelAI V4 numeric weight 'w::'",))
    braces = [m for m in _BRACE_GROUP.finditer(text)]
    weights = list(_WEBUI_WEIGHT.finditer(text))
    strong = list(_WEBUI_STRONG.finditer(text))
    nai_score = text.count("{") if braces else 0
    webui_score = 2 * len(strong) + len(weights)
    evidence = tuple(
        [f"NovelAI braces {m.group()!r} at {m.start()}" for m in braces]
        + [f"WebUI weight {m.group()!r} at {m.start()}" for m in weights]
        + [f"WebUI syntax {m.group()!r} at {m.start()}" for m in strong]
    )
    if nai_score and webui_score and nai_score < 3 * webui_score and webui_score < 3 * nai_score:
        return Detection("mixed", evidence)
    if nai_score > webui_score:
        return Detection("nai", evidence)
    return Detection("webui", evidence)


def _report(tree: Sequence[Node], text: str, factor: float, rule: str) -> None:
    """Warn once per ``[x]`` read with the chosen factor, in source order."""
    if "[" not in text:  # no bracket to report: skip the walk
        return
    which = "NovelAI's /1.05" if factor == 1 / NAI_STEP else "WebUI's /1.1"
    found: list[Problem] = []
    for node in walk(Prompt(body=tree)):
        if isinstance(node, Emphasis) and node.notation == "bracket" and node.span is not None:
            spelled = text[node.span.start : node.span.end]
            message = f"{spelled[:40]!r}: '[]' is ambiguous in a mixed prompt; read with {which} (rule {rule!r})"
            found.append((node.span.start, "ambiguous-bracket", message))
    for note in collect(text, found):  # line and column of all of them in one pass
        warn(note)


def _first_unclosed(tree: Sequence[Node]) -> int | None:
    """Where the first bracket that never closes opens."""
    for node in walk(Prompt(body=tree)):
        if isinstance(node, Emphasis) and not node.closed and node.span is not None:
            return node.span.start
    return None


class Mixed(Dialect):
    """NovelAI's ``{}`` and WebUI's ``()``/``(x:w)`` in one prompt; ``[]`` by a rule.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     Mixed(square="nai").attention("{a} [b] (c:1.3)")
        [('a', 1.05), (' ', 1.0), ('b', 0.9523809523809523), (' ', 1.0), ('c', 1.3)]
    """

    name: ClassVar[str] = "mixed"
    bracket_weight: ClassVar[float] = WEBUI_STEP
    deemphasis_weight: ClassVar[float | None] = 1 / WEBUI_STEP
    render_decimals: ClassVar[bool] = True

    def __init__(self, square: str = "auto") -> None:
        square_rule("", square)  # validate early
        self.square = square
        self._parsed: weakref.WeakValueDictionary[int, Prompt] = weakref.WeakValueDictionary()

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Read ``text`` as a mixed prompt; warns on each ambiguous ``[x]`` and each slip.

        ``strict`` raises :class:`~naiprompt.PromptSyntaxError` on a bracket that never
        closes or a closer that closes nothing.

        Example:
            >>> import warnings
            >>> with warnings.catch_warnings():
            ...     warnings.simplefilter("ignore")
            ...     Mixed().parse("{a} (b:1.2)").body[0].weight
            1.05
        """
        if not isinstance(text, str):
            raise TypeError(f"a prompt is text, not {type(text).__name__}")
        rule = square_rule(text, self.square)
        factor = 1 / NAI_STEP if rule == "nai" else 1 / WEBUI_STEP
        problems: list[Problem] = []
        body: list[Node] = []
        for sub_tokens, and_token in _split_subprompts(_lex(text, problems)):
            body.extend(_build_subprompt(sub_tokens, text, problems, square=factor))
            if and_token is not None:
                body.append(And(span=Span(and_token[2], and_token[2] + 3)))
        if strict:
            unclosed = _first_unclosed(body)
            if unclosed is not None:
                problems.append((unclosed, "unclosed-bracket", "unclosed bracket"))
            collect(text, problems, strict=True)
        _report(body, text, factor, self.square)
        for slip in slips(text):
            warn(PromptWarning(slip, "weight-slip"))
        notes = collect(text, problems)
        prompt = Prompt(body=tuple(body), dialect=self.name, source=text, warnings=notes)
        self._parsed[id(prompt)] = prompt
        return prompt

    def render(
        self, prompt: Prompt, *, errors: ErrorLevel | str = ErrorLevel.WARN, decimals: int | None = None
    ) -> str:
        """The source of a tree this dialect read; any other tree in WebUI syntax.

        Example:
            >>> import naiprompt
            >>> Mixed().render(naiprompt.parse("{a}", "nai"))
            '(a:1.05)'
        """
        if self._parsed.get(id(prompt)) is prompt and prompt.source is not None:
            return prompt.source
        return WebUIPrinter(errors=errors, decimals=decimals).print(prompt)

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """The weighted runs of the mixed reading (equal neighbours merged).

        Example:
            >>> Mixed().attention("{a}(b)")
            [('a', 1.05), ('b', 1.1)]
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = self.parse(prompt) if isinstance(prompt, str) else prompt
        texts: list[str] = []
        weights: list[float] = []
        for node, weight in weighted(tree.body):
            if isinstance(node, Text):  # networks, BREAK, AND carry no text
                texts.append(node.value)
                weights.append(weight)
        if not texts:
            return [("", 1.0)]
        return merge_equal(texts, weights)
