"""WebUI's attention scanner: the flat ``(text, weight)`` runs of a prompt.

This is ``parse_prompt_attention`` of stable-diffusion-webui, bit for bit: one pass
of the grammar's terminals (``grammars/webui.lark``) with bracket stacks, no tree.
:func:`tree_attention` runs the same arithmetic over the lexemes of a parsed tree,
and :func:`lex` gives the tokens (with ``AND`` and ``BREAK`` split out) that the
tree builder reads.

Example:
    >>> from naiprompt.dialects.webui.scanner import attention
    >>> attention("a (b:1.5) [c]")
    [('a ', 1.0), ('b', 1.5), (' ', 1.0), ('c', 0.9090909090909091)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from naiprompt.ast import (
    Prompt,
)
from naiprompt.dialects._runs import SuffixWeights, float_or_none, merge_equal
from naiprompt.dialects._strict import WORDS
from naiprompt.errors import Problem, collect, warn
from naiprompt.grammar import scanner, tokens
from naiprompt.weight_math import WEBUI_STEP

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
    runs = _runs_without_nan(text)
    if runs is None:
        return _runs(scanner("webui", _ATTENTION_EXCLUDE).finditer(text), text)
    return runs


# WebUI keeps a run apart at every colon, escape and lone backslash, and merges equal neighbours at the
# end; only NaN weights (nan != nan) keep such runs apart in the result. A NaN needs an infinite product
# first (inf * 0), and an infinite or NaN weight stays so to the end, so when every weight comes out
# finite the runs can be joined as they are read, with a coarser lexer whose text takes in the escapes
# and the colons that do not start a weight. Otherwise the text is read again run by run.
_COARSE = re.compile(
    r"(?P<TEXT>(?:[^\\()\[\]:]++|\\[()\[\]\\]?|:(?!\s*+[+-]?[.\d]+\s*\)))++)"
    r"|(?P<WEIGHT_CLOSE>:\s*[+-]?[.\d]+\s*\))|(?P<LPAR>\()|(?P<RPAR>\))|(?P<LSQB>\[)|(?P<RSQB>\])"
)
# In that text an escape stands for its character and a lone backslash for nothing, as WebUI reads them.
_UNESCAPE = re.compile(r"\\([()\[\]\\])?")


def _runs_without_nan(text: str) -> list[tuple[str, float]] | None:
    """:func:`_runs` in coarser steps, or None where a weight is not finite (then only the exact path is)."""
    texts: list[str] = []
    weights = SuffixWeights()
    round_stack: list[int] = []
    square_stack: list[int] = []
    pending: str | None = None  # the text since the last bracket (WebUI's runs there, joined)
    bad: list[Problem] = []
    for match in _COARSE.finditer(text):
        kind = match.lastgroup
        if kind == "TEXT":
            value = match.group()
            if "BREAK" in value:
                parts = _BREAK.split(value)  # on the source text: escapes are not word characters
                if len(parts) > 1:
                    texts.append(_unescape(parts[0]))
                    weights.append(1.0)
                    for part in parts[1:-1]:
                        texts.extend(("BREAK", _unescape(part)))
                        weights.append(-1.0)
                        weights.append(1.0)
                    texts.append("BREAK")
                    weights.append(-1.0)
                    value = parts[-1]
            pending = _unescape(value)  # a lone "\\" gives WebUI's empty run: still a run
            continue
        if pending is not None:
            texts.append(pending)
            weights.append(1.0)
            pending = None
        if kind == "LPAR":
            round_stack.append(len(texts))
        elif kind == "LSQB":
            square_stack.append(len(texts))
        else:
            _close(kind, match, texts, weights, round_stack, square_stack, bad)
    if pending is not None:
        texts.append(pending)
        weights.append(1.0)
    for start in round_stack:
        weights.multiply_from(start, ROUND)
    for start in square_stack:
        weights.multiply_from(start, SQUARE)
    if weights.degraded:  # its multiplication order depends on the runs: only the exact path's counts
        return None
    values = weights.values()
    if not all(map(math.isfinite, values)):
        return None
    for note in collect(text, bad):
        warn(note)
    if not texts:
        return [("", 1.0)]
    return merge_equal(texts, values)


def tree_attention(prompt: Prompt) -> list[tuple[str, float]]:
    """:func:`attention` of a WebUI tree, computed from its nodes.

    The walk (:func:`~naiprompt.dialects._tree_spelling.webui_lexemes`) gives the
    lexemes of each node in order; the run arithmetic is the scanner's own, so the
    weights are the same bits as ``attention(text)``.

    Example:
        >>> from naiprompt.dialects.webui import WebUI
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
    bad: list[Problem] = []  # weights WebUI's float() rejects, warned about once the scan is done

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
        else:
            _close(kind, match, texts, weights, round_stack, square_stack, bad)
    for piece in pending:
        texts.append("".join(piece))
        weights.append(1.0)
    for start in round_stack:
        weights.multiply_from(start, ROUND)
    for start in square_stack:
        weights.multiply_from(start, SQUARE)
    for note in collect(text, bad):
        warn(note)
    if not texts:
        return [("", 1.0)]
    return merge_equal(texts, weights.values())


def _close(
    kind: str | None,
    match: re.Match[str],
    texts: list[str],
    weights: SuffixWeights,
    round_stack: list[int],
    square_stack: list[int],
    bad: list[Problem],
) -> None:
    """A closer: multiply the runs since its opener by its weight, or keep it as text when nothing is open.

    Shared by both readings of the text; openers are handled inline (the common case, kept fast).
    """
    if kind == "RPAR" and round_stack:
        weights.multiply_from(round_stack.pop(), ROUND)
    elif kind == "RSQB" and square_stack:
        weights.multiply_from(square_stack.pop(), SQUARE)
    elif kind == "WEIGHT_CLOSE" and round_stack:
        lexeme = match.group()
        number = _weight_number(lexeme)
        if number is None:
            message = f"WebUI cannot read the weight {lexeme[:-1]!r}; kept as text"
            bad.append((match.start(), "malformed-weight", message))
            texts.append(lexeme[:-1])
            weights.append(1.0)
            weights.multiply_from(round_stack.pop(), ROUND)
        else:
            weights.multiply_from(round_stack.pop(), number)
    else:  # a closer with nothing to close, or a weight outside brackets: text
        texts.append(match.group())
        weights.append(1.0)


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    if "\\\\" not in raw:  # every backslash escapes the next character or stands alone: both go
        return raw.replace("\\", "")
    return _UNESCAPE.sub(r"\1", raw)


def _weight_number(lexeme: str) -> float | None:
    """The weight of a ``:w)`` lexeme, or None where WebUI's ``float()`` fails."""
    return float_or_none(lexeme[1:-1].strip())  # str.strip knows more whitespace than float()


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
