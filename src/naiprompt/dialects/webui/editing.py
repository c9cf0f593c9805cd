"""WebUI prompt editing ``[a:b:N]`` and alternation ``[a|b]``.

WebUI resolves these with a small grammar of its own, before emphasis. Its rules
(see ``docs/syntax.md``): inside any bracket everything must be well formed; at
the top level stray ``[ ] ( ) :`` are text; a ``|`` outside an alternation, a
trailing lone backslash, a missing number or an extra colon make the *whole*
prompt fall back to plain text at every step.

The tokens come from the WebUI grammar's own terminals (``grammars/webui.lark``);
this module only reads their nesting. It is linear in the prompt length.

Example:
    >>> from naiprompt.dialects.webui.editing import schedules
    >>> schedules("a [cat:dog:0.5] b", 10)
    [(5, 'a cat b'), (10, 'a dog b')]
"""

from __future__ import annotations

import attrs

from naiprompt.errors import warn
from naiprompt.grammar import tokens

Token = tuple[str, str, int]

#: Terminals that belong to other layers of WebUI's pipeline.
EXCLUDED = frozenset({"NETWORK", "WEIGHT_CLOSE", "SUBPROMPT_WEIGHT"})

_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB"}


@attrs.frozen
class Group:
    """A ``[...]`` that WebUI resolves per step: a schedule or an alternation.

    ``seps`` are the positions of the top-level ``:`` or ``|`` inside it; ``when``
    the number's source text (schedules); ``start``/``end`` the bracket positions.

    Example:
        >>> from naiprompt.dialects.webui.editing import analyze, editing_tokens
        >>> analyze(editing_tokens("[a:b:5]"), "[a:b:5]")[1][0]
        Group(kind='schedule', start=0, seps=(2,), when='5', when_start=4, end=6)
    """

    kind: str
    start: int
    seps: tuple[int, ...]
    when: str | None
    when_start: int | None
    end: int


def editing_tokens(text: str, lexed: list[Token] | None = None) -> list[Token] | None:
    """The tokens as WebUI's editing grammar sees them, or None if it cannot lex.

    A backslash escapes whatever single character follows it (a trailing one,
    or one before a newline, is a failure); extra networks and the subprompt
    weight were removed earlier in WebUI's pipeline; ``:w)`` is ``:``, text, ``)``.

    Example:
        >>> editing_tokens("a\\\\")
    """
    raw = lexed if lexed is not None else tokens("webui", text, EXCLUDED)
    expanded: list[Token] = []
    for typ, value, pos in raw:
        if typ in ("NETWORK", "SUBPROMPT_WEIGHT"):
            continue
        if typ == "WEIGHT_CLOSE":
            expanded.append(("COLON", ":", pos))
            if len(value) > 2:
                expanded.append(("TEXT", value[1:-1], pos + 1))
            expanded.append(("RPAR", ")", pos + len(value) - 1))
        elif typ in ("BREAK", "AND", "ESCAPE"):
            expanded.append(("TEXT", value, pos))
        else:
            expanded.append((typ, value, pos))
    out: list[Token] = []
    escape_at: int | None = None
    for typ, value, pos in expanded:
        if escape_at is not None:
            if value[0] == "\n":
                return None
            out.append(("TEXT", "\\" + value[0], escape_at))
            if len(value) > 1:
                out.append(("TEXT", value[1:], pos + 1))
            escape_at = None
        elif typ == "BACKSLASH":
            escape_at = pos
        else:
            out.append((typ, value, pos))
    if escape_at is not None:
        return None
    return out


class _Frame:
    __slots__ = ("colons", "index", "kind", "pipes", "when")

    def __init__(self, index: int, kind: str) -> None:
        self.index = index
        self.kind = kind
        self.colons: list[int] = []
        self.pipes: list[int] = []
        self.when: int | None = None


def analyze(toks: list[Token] | None, text: str) -> tuple[bool, list[Group]]:
    """Whether WebUI's editing grammar accepts the tokens, and its groups.

    Groups are listed in source order (outer before inner).

    Example:
        >>> ok, groups = analyze(editing_tokens("a | [b|c]"), "a | [b|c]")
        >>> ok
        False
    """
    if toks is None:
        return False, []
    n = len(toks)
    types = [t[0] for t in toks]
    memo: dict[int, int] = {}
    found: dict[int, Group] = {}

    def group_end(first: int) -> int:
        # Iterative recursive descent: frames for nested groups; -1 on failure.
        if first in memo:
            return memo[first]
        stack = [_Frame(first, types[first])]
        j = first + 1
        while True:
            if j >= n:
                for frame in stack:
                    memo[frame.index] = -1
                return -1
            typ = types[j]
            top = stack[-1]
            if typ in _OPENERS:
                known = memo.get(j)
                if known is None:
                    stack.append(_Frame(j, typ))
                    j += 1
                    continue
                if known < 0:
                    for frame in stack:
                        memo[frame.index] = -1
                    return -1
                j = known
                continue
            if typ in ("RPAR", "RSQB"):
                kind = _close_kind(top, typ)
                if kind is None:
                    for frame in stack:
                        memo[frame.index] = -1
                    return -1
                memo[top.index] = j + 1
                if kind in ("schedule", "alternate"):
                    seps = top.colons if kind == "schedule" else top.pipes
                    when = top.when
                    found[top.index] = Group(
                        kind=kind,
                        start=toks[top.index][2],
                        seps=tuple(toks[s][2] for s in seps),
                        when=_number(toks[when][1]) if when is not None else None,
                        when_start=toks[when][2] if when is not None else None,
                        end=toks[j][2],
                    )
                stack.pop()
                j += 1
                if not stack:
                    return j
                continue
            if typ == "COLON":
                top.colons.append(j)
            elif typ == "PIPE":
                top.pipes.append(j)
            elif typ == "SCHEDULE_WHEN":
                if top.kind == "LSQB":
                    top.when = j
                else:
                    top.colons.append(j)
            j += 1

    ok = True
    i = 0
    while i < n:
        typ = types[i]
        if typ in _OPENERS:
            end = group_end(i)
            i = end if end > 0 else i + 1
        elif typ == "PIPE":
            ok = False
            break
        else:
            i += 1
    groups = [found[k] for k in sorted(found)] if ok else []
    return ok, groups


def _close_kind(frame: _Frame, closer: str) -> str | None:
    if _OPENERS[frame.kind] != closer:
        return None
    if frame.kind == "LPAR":
        ok = not frame.pipes and frame.when is None and len(frame.colons) <= 1
        return "emphasis" if ok else None
    if frame.when is not None:
        return "schedule" if not frame.pipes and len(frame.colons) <= 1 else None
    if frame.pipes:
        return "alternate" if not frame.colons else None
    return None if frame.colons else "emphasis"


def _number(lexeme: str) -> str:
    return lexeme[1:].strip()


# -- schedules ---------------------------------------------------------------------------
_Template = list["str | _Sched | _Alt"]


@attrs.define
class _Sched:
    before: _Template | None
    after: _Template
    when_text: str
    when: int = 0


@attrs.define
class _Alt:
    options: list[_Template]


def _template(text: str, groups: list[Group]) -> _Template:
    """The text as literal slices and per-step nodes, built in one pass without recursion."""
    events: list[tuple[int, int, Group]] = []  # (position, 0 open / 1 separator / 2 close, group)
    for group in groups:
        events.append((group.start, 0, group))
        events.extend((sep, 1, group) for sep in group.seps)
        last = group.when_start if group.kind == "schedule" and group.when_start is not None else group.end
        events.append((last, 2, group))
    events.sort(key=lambda event: event[0])
    root: _Template = []
    # Open groups: their finished parts and the part being filled.
    stack: list[tuple[list[_Template], _Template]] = [([], root)]
    pos = 0
    for position, kind, group in events:
        if position > pos:
            stack[-1][1].append(text[pos:position])
        if kind == 0:
            stack.append(([], []))
            pos = position + 1
        elif kind == 1:
            parts, current = stack.pop()
            parts.append(current)
            stack.append((parts, []))
            pos = position + 1
        else:
            parts, current = stack.pop()
            parts.append(current)
            if group.kind == "schedule":
                assert group.when is not None
                before = parts[0] if len(parts) == 2 else None
                stack[-1][1].append(_Sched(before, parts[-1], group.when))
            else:
                stack[-1][1].append(_Alt(parts))
            pos = group.end + 1
    if pos < len(text):
        root.append(text[pos:])
    return root


def _walk(template: _Template) -> list[_Sched | _Alt]:
    found: list[_Sched | _Alt] = []
    stack = [template]
    while stack:
        for item in stack.pop():
            if isinstance(item, _Sched):
                found.append(item)
                if item.before is not None:
                    stack.append(item.before)
                stack.append(item.after)
            elif isinstance(item, _Alt):
                found.append(item)
                stack.extend(item.options)
    return found


def _resolve(template: _Template, step: int) -> str:
    pieces: list[str] = []
    stack: list[_Template] = [template]
    indexes = [0]
    while stack:
        items, i = stack[-1], indexes[-1]
        if i >= len(items):
            stack.pop()
            indexes.pop()
            continue
        indexes[-1] = i + 1
        item = items[i]
        if isinstance(item, str):
            pieces.append(item)
        elif isinstance(item, _Sched):
            branch = item.before if step <= item.when else item.after
            if branch:
                stack.append(branch)
                indexes.append(0)
        else:
            option = item.options[(step - 1) % len(item.options)]
            if option:
                stack.append(option)
                indexes.append(0)
    return "".join(pieces)


def _check_steps(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def schedules(
    text: str,
    steps: int,
    *,
    hires_steps: int | None = None,
    old_scheduling: bool = False,
    strict: bool = False,
) -> list[tuple[int, str]]:
    """The texts of a prompt over the sampling steps: ``[(end_step, text), ...]``.

    Equals WebUI's ``get_learned_conditioning_prompt_schedules`` for one prompt:
    each entry is used up to and including its step. ``hires_steps`` gives the
    schedule of the hires pass (fractions then run from 1 to 2 across it, and
    a prompt without edits is one entry ending at ``hires_steps``);
    ``old_scheduling`` is WebUI's "use old prompt editing timelines" setting.

    A step that is no number of steps (``[a:1e999]``, infinite) makes WebUI
    raise; here the prompt is kept as it is, as one entry, with a
    :class:`~naiprompt.errors.PromptWarning` (``strict=True`` raises WebUI's
    ``OverflowError`` instead). Negative ``steps`` raise :class:`ValueError`.

    Example:
        >>> schedules("[dog:cat:0.5]", 20)
        [(10, 'dog'), (20, 'cat')]
        >>> schedules("[a|b]", 4)
        [(1, 'a'), (2, 'b'), (3, 'a'), (4, 'b')]
        >>> schedules("a | [b:c:5]", 20)   # a bare | disables editing, as in WebUI
        [(20, 'a | [b:c:5]')]
        >>> schedules("a", 20, hires_steps=37)
        [(37, 'a')]
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     schedules("[a:1e999]", 20)
        [(20, '[a:1e999]')]
    """
    _check_steps("steps", steps)
    if hires_steps is not None:
        _check_steps("hires_steps", hires_steps)
    # WebUI counts the hires pass in its own steps, early returns included.
    hires = hires_steps is not None and not old_scheduling
    total = hires_steps if hires and hires_steps is not None else steps
    if "[" not in text:
        return [(total, text)]
    ok, groups = analyze(editing_tokens(text), text)
    if not ok or not groups:
        return [(total, text)]
    template = _template(text, groups)
    int_offset, flt_offset = (float(steps), 1.0) if hires else (0.0, 0.0)
    points = {total}
    for node in _walk(template):
        if isinstance(node, _Alt):
            points.update(range(1, total + 1))
            continue
        value = float(node.when_text)
        if old_scheduling:
            value = value * total if value < 1 else value
        elif "." in node.when_text:
            value = (value - flt_offset) * total
        else:
            value = value - int_offset
        try:
            node.when = min(total, int(value))
        except (OverflowError, ValueError):  # inf (or nan): WebUI's int() raises
            if strict:
                raise
            message = f"prompt editing step {node.when_text!r} is not a number of steps; "
            warn(message + "the prompt is kept as it is (WebUI fails on it)", "unreadable-step")
            return [(total, text)]
        if node.when >= 1:
            points.add(node.when)
    return [(step, _resolve(template, step)) for step in sorted(points)]
