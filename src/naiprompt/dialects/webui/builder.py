"""WebUI's lenient tree builder: tokens of one subprompt -> AST nodes.

It reads the tokens of :func:`~naiprompt.dialects.webui.scanner.lex`, resolves
prompt editing and alternation with :mod:`naiprompt.dialects.webui.editing`, and
never raises: what WebUI would read as text stays text, and each spot where the
reading is doubtful becomes a ``(position, reason)`` problem (a warning in lenient
mode, the error in strict mode). The mixed reading reuses it with NovelAI's braces.
"""

from __future__ import annotations

from collections.abc import Iterator

from naiprompt.ast import (
    Alternate,
    Break,
    Network,
    Node,
    Schedule,
    Span,
    SubpromptWeight,
)
from naiprompt.dialects._build import TreeBuilder
from naiprompt.dialects.webui.editing import Group, analyze, editing_tokens
from naiprompt.dialects.webui.scanner import ROUND, SQUARE, Token, _weight_number
from naiprompt.errors import Problem
from naiprompt.weight_math import NAI_STEP


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
    toks: list[Token], text: str, problems: list[Problem], square: float = SQUARE
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
            reason = "a backslash escapes across an extra network; prompt editing not read"
            problems.append((toks[0][2], "escape-across-network", reason))
    return _build_with_groups(toks, text, problems, square, ok, [])


class _GroupsCrossBracketsError(Exception):
    """The prompt-editing groups do not nest with the emphasis brackets."""


def _build_with_groups(
    toks: list[Token], text: str, problems: list[Problem], square: float, ok: bool, groups: list[Group]
) -> list[Node]:
    found: list[Problem] = []
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
                found.append((pos, "unmatched-closer", "']' closes nothing"))
                builder.text(value, value, pos, end)
        elif typ == "RPAR":
            if not builder.close("round", ROUND, "paren", pos, end):
                found.append((pos, "unmatched-closer", "')' closes nothing"))
                builder.text(value, value, pos, end)
        elif typ == "WEIGHT_CLOSE":
            if not builder.is_open("round"):
                found.append((pos, "unmatched-closer", "')' closes nothing"))
                builder.text(value, value, pos, end)
                continue
            if id(builder.stack[-1]) in colons:
                found.append((pos, "weight-after-colon", "a weight after ':' text in '(...)'"))
            number = _weight_number(value)
            if number is None:
                found.append((pos + 1, "malformed-weight", f"malformed weight {value[1:-1].strip()!r}"))
                builder.text(value[:-1], value[:-1], pos, end - 1)
                builder.close("round", ROUND, "paren", end - 1, end)
            else:
                builder.close("round", number, "explicit", pos, end, raw_weight=value[:-1])
        elif typ == "LBRACE":  # only the mixed reading lexes NovelAI's braces
            builder.open("brace", pos)
        elif typ == "RBRACE":
            if not builder.close("brace", NAI_STEP, "brace", pos, end):
                found.append((pos, "unmatched-closer", "'}' closes nothing"))
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
        reason = "prompt editing is disabled by a syntax error"
        found.append((toks[0][2] if toks else 0, "editing-disabled", reason))
    body = builder.finish(toks[-1][2] + len(toks[-1][1]) if toks else 0)
    problems.extend(found)
    problems.extend(builder.problems)
    return list(body)


def _check_colon(builder: TreeBuilder, pos: int, found: list[Problem], colons: set[int]) -> None:
    """Note a colon WebUI reads as text but its prompt-editing grammar does not take.

    That grammar takes one colon in ``(x:y)`` and none in ``[x]``; elsewhere inside
    a prompt edit it fails (and drops prompt editing), so these are warnings.
    """
    kind = builder.innermost()
    if kind in ("square", "group"):
        found.append((pos, "colon-in-brackets", "':' in '[...]' is text, not a prompt edit"))
    elif kind == "round":
        frame = id(builder.stack[-1])
        if frame in colons:
            found.append((pos, "second-colon", "a second ':' in '(...)'"))
        colons.add(frame)
