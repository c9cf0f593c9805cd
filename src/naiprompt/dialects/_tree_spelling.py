"""The lexemes of a tree's nodes, in order, for ``attention()`` of a tree.

WebUI's and NovelAI's run arithmetic depends on the lexemes it reads, not only
on the text values: a colon or an escape starts a run of its own, ``BREAK``
splits runs, and an opener's index decides what its closer multiplies. Walking
the tree (iteratively, at any depth) and lexing each node's own spelling gives
the scanner exactly the stream it reads from the source, so the weights come
out the same bits without printing the whole prompt and scanning it again.

Example:
    >>> import naiprompt
    >>> from naiprompt.grammar import scanner
    >>> tree = naiprompt.parse("a (b:1.2)")
    >>> [m.lastgroup for m in webui_lexemes(tree, scanner("webui", frozenset({"NETWORK"})))]
    ['TEXT', 'LPAR', 'TEXT', 'WEIGHT_CLOSE']
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from naiprompt.ast import (
    Alternate,
    And,
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Schedule,
    SubpromptWeight,
    Text,
)

# Text that, with the ")" after it, WebUI's lexer reads as a weight it cannot parse
# ("(a:1.2.3)"): the tree keeps it as text and a plain closer.
_BROKEN_WEIGHT = re.compile(r":\s*[+-]?[.\d]+\s*$")

# The number in a spelled weight: ":1.2", ": 1.2 " (WebUI) or "1.2" (NovelAI V4).
_SPELLED_NUMBER = re.compile(r"\s*:?\s*(.*?)\s*")


def spelled_as_weighted(prompt: Prompt, dialect: str) -> bool:
    """Whether every emphasis of ``prompt`` spells the weight it holds.

    A tree as parsed always does. A transformed tree may hold a weight its notation
    cannot spell (``flatten`` leaves ``[[x]]`` as one emphasis of 1.05^-2 with the
    notation gone): its lexemes would read another weight, so ``attention()`` prints
    such a tree and reads the text instead.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import flatten
        >>> tree = naiprompt.parse("[[x]]", "nai")
        >>> spelled_as_weighted(tree, "nai"), spelled_as_weighted(flatten(None)(tree), "nai")
        (True, False)
    """
    from naiprompt.ast import walk

    nai = dialect != "webui"
    step = 1.05 if nai else 1.1
    for node in walk(prompt):
        if not isinstance(node, Emphasis):
            continue
        notation = node.notation
        if notation == ("numeric" if nai else "explicit"):
            if node.raw_weight is None:
                continue  # spelled with repr(weight): exact
            number = _SPELLED_NUMBER.fullmatch(node.raw_weight)
            try:
                ok = number is not None and float(number.group(1)) == node.weight
            except ValueError:
                ok = False
        elif notation == "bracket":
            ok = node.weight == 1 / step
        elif notation == ("brace" if nai else "paren") or (notation is None and not nai):
            ok = node.weight == step
        else:
            ok = notation is None and node.weight == step
        if not ok:
            return False
    return True


# An item of the walk: a node still to spell, or a finished lexeme string.
_Item = Node | str


def webui_lexemes(prompt: Prompt, lexer: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The matches of ``lexer`` over the spelling of each node of a WebUI tree, in order.

    Example:
        >>> import naiprompt
        >>> from naiprompt.grammar import scanner
        >>> tree = naiprompt.parse("[a:b:2] BREAK c")
        >>> "".join(m.group() for m in webui_lexemes(tree, scanner("webui", frozenset({"SCHEDULE_WHEN"}))))
        '[a:b:2] BREAK c'
    """
    from naiprompt.dialects.webui.printer import _number_text
    from naiprompt.weight_math import format_number

    work: list[_Item] = list(reversed(prompt.body))
    cut: dict[int, int] = {}  # id of a Text -> where its broken weight starts
    while work:
        item = work.pop()
        if isinstance(item, str):
            yield from lexer.finditer(item)
        elif isinstance(item, Text):
            raw = item.raw if item.raw is not None else item.value
            yield from lexer.finditer(raw[: cut.pop(id(item), len(raw))])
        elif isinstance(item, Emphasis):
            square = item.notation == "bracket"
            closer = ""
            if item.closed:
                if square:
                    closer = "]"
                elif item.notation == "explicit":
                    closer = (item.raw_weight or ":" + repr(item.weight)) + ")"
                else:
                    closer = ")"
                    last = item.body[-1] if item.body else None
                    if isinstance(last, Text):
                        raw = last.raw if last.raw is not None else last.value
                        broken = _BROKEN_WEIGHT.search(raw)
                        if broken is not None:  # the lexer reads it and the ")" as one lexeme
                            cut[id(last)] = broken.start()
                            closer = broken.group() + ")"
            work.append(closer)
            work.extend(reversed(item.body))
            if item.opened:
                work.append("[" if square else "(")
        elif isinstance(item, Break):
            work.append(item.raw if item.raw is not None else " BREAK ")
        elif isinstance(item, And):
            work.append("AND")
        elif isinstance(item, Network):
            work.append(f"<{item.name}:{':'.join(item.args)}>")
        elif isinstance(item, SubpromptWeight):
            work.append(item.raw if item.raw is not None else ":" + format_number(item.weight))
        elif isinstance(item, Schedule):
            when = item.raw_when or ":" + _number_text(item.when, item.fractional)
            work.append(when + "]")
            work.extend(reversed(item.after))
            if item.before is not None:
                work.append(":")
                work.extend(reversed(item.before))
            work.append("[")
        elif isinstance(item, Alternate):
            parts: list[_Item] = ["["]
            for index, option in enumerate(item.options):
                if index:
                    parts.append("|")
                parts.extend(option)
            parts.append("]")
            work.extend(reversed(parts))
        else:  # pragma: no cover - a WebUI tree holds only the nodes above
            raise TypeError(f"cannot weigh {type(item).__name__} in webui")


def nai_lexemes(prompt: Prompt, lexer: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The matches of ``lexer`` over the spelling of each node of a NovelAI tree, in order.

    Example:
        >>> import naiprompt
        >>> from naiprompt.grammar import scanner
        >>> tree = naiprompt.parse("{a}, 2::[b]::", "nai4")
        >>> "".join(m.group() for m in nai_lexemes(tree, scanner("nai4")))
        '{a}, 2::[b]::'
    """
    work: list[_Item] = list(reversed(prompt.body))
    while work:
        item = work.pop()
        if isinstance(item, str):
            yield from lexer.finditer(item)
        elif isinstance(item, Text):
            yield from lexer.finditer(item.raw if item.raw is not None else item.value)
        elif isinstance(item, Emphasis):
            if item.notation == "numeric":
                opener = (item.raw_weight or repr(item.weight)) + "::"
                closer = "::"
            elif item.notation == "bracket":
                opener, closer = "[", "]"
            else:
                opener, closer = "{", "}"
            work.append(closer if item.closed else "")
            work.extend(reversed(item.body))
            if item.opened:
                work.append(opener)
        else:  # pragma: no cover - a NovelAI tree holds only text and emphasis
            raise TypeError(f"cannot weigh {type(item).__name__} in NovelAI")
