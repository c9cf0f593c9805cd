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
    Prompt,
    Schedule,
    SubpromptWeight,
    Text,
)
from naiprompt.errors import ErrorLevel
from naiprompt.printer import Printer
from naiprompt.weight_math import NAI_STEP, WEBUI_STEP

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
    if not nai and not _texts_spelled_safely(prompt):
        return False
    step = NAI_STEP if nai else WEBUI_STEP
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


def _texts_spelled_safely(prompt: Prompt) -> bool:
    """Whether each WebUI text's spelling reads back as its value where the text now stands.

    A parsed tree keeps each text's source spelling, which only holds where the source had
    it: a stray ``)`` is text at the top level but closes an emphasis that a transform put
    around it, and a tree built in code may hold ``(`` or ``:`` unescaped. Such a tree is
    printed (escaping as needed) and read again instead.
    """
    from naiprompt.dialects.webui.printer import escape

    stack: list[tuple[object, bool]] = [(node, False) for node in prompt.body]
    while stack:
        node, inside = stack.pop()
        if isinstance(node, Text):
            spelling = node.raw if node.raw is not None else node.value
            if spelling != escape(node.value, in_brackets=inside):
                return False
            continue
        if isinstance(node, Prompt):
            continue
        children = getattr(node, "children", None)
        if children is None:
            continue
        bracketed = not isinstance(node, (And, Break, Network, SubpromptWeight))
        for seq in children():
            if seq:
                stack.extend((child, inside or bracketed) for child in seq)
    return True


class _Spelling(Printer):
    """A printer of each node's own source spelling; its pieces are lexed one by one.

    Lexing piece by piece (not the joined text) keeps each node's lexemes its own,
    as the scanner read them from the source.
    """

    def __init__(self) -> None:
        super().__init__(errors=ErrorLevel.RAISE)

    def lexemes(self, prompt: Prompt, lexer: re.Pattern[str]) -> Iterator[re.Match[str]]:
        self.print(prompt)
        for piece in self.out:
            yield from lexer.finditer(piece)

    def print_Text(self, node: Text) -> str:  # noqa: N802 - hooks are named after the node class
        return node.raw if node.raw is not None else node.value


class _WebUISpelling(_Spelling):
    label = "webui"

    def open_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        if not node.opened:
            return None
        return "[" if node.notation == "bracket" else "("

    def close_Emphasis(self, node: Emphasis) -> str:  # noqa: N802
        if not node.closed:
            return ""
        if node.notation == "bracket":
            return "]"
        if node.notation == "explicit":
            return (node.raw_weight or ":" + repr(node.weight)) + ")"
        last = node.body[-1] if node.body else None
        if isinstance(last, Text):  # its piece is the last one printed
            broken = _BROKEN_WEIGHT.search(self.out[-1])
            if broken is not None:  # the lexer reads it and the ")" as one lexeme
                self.out[-1] = self.out[-1][: broken.start()]
                return broken.group() + ")"
        return ")"

    def open_Schedule(self, node: Schedule) -> str:  # noqa: N802
        return "["

    def sep_Schedule(self, node: Schedule) -> str:  # noqa: N802
        return ":"

    def close_Schedule(self, node: Schedule) -> str:  # noqa: N802
        from naiprompt.dialects.webui.printer import _number_text

        return (node.raw_when or ":" + _number_text(node.when, node.fractional)) + "]"

    def open_Alternate(self, node: Alternate) -> str:  # noqa: N802
        return "["

    def sep_Alternate(self, node: Alternate) -> str:  # noqa: N802
        return "|"

    def close_Alternate(self, node: Alternate) -> str:  # noqa: N802
        return "]"

    def print_Break(self, node: Break) -> str:  # noqa: N802
        return node.raw if node.raw is not None else " BREAK "

    def print_And(self, node: And) -> str:  # noqa: N802
        return "AND"

    def print_Network(self, node: Network) -> str:  # noqa: N802
        return f"<{node.name}:{':'.join(node.args)}>"

    def print_SubpromptWeight(self, node: SubpromptWeight) -> str:  # noqa: N802
        from naiprompt.weight_math import format_number

        return node.raw if node.raw is not None else ":" + format_number(node.weight)


class _NovelAISpelling(_Spelling):
    label = "NovelAI"  # a NovelAI tree holds only text and emphasis

    def open_Emphasis(self, node: Emphasis) -> str | None:  # noqa: N802
        if not node.opened:
            return None
        if node.notation == "numeric":
            return (node.raw_weight or repr(node.weight)) + "::"
        return "[" if node.notation == "bracket" else "{"

    def close_Emphasis(self, node: Emphasis) -> str:  # noqa: N802
        if not node.closed:
            return ""
        return "::" if node.notation == "numeric" else "]" if node.notation == "bracket" else "}"


def webui_lexemes(prompt: Prompt, lexer: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The matches of ``lexer`` over the spelling of each node of a WebUI tree, in order.

    Example:
        >>> import naiprompt
        >>> from naiprompt.grammar import scanner
        >>> tree = naiprompt.parse("[a:b:2] BREAK c")
        >>> "".join(m.group() for m in webui_lexemes(tree, scanner("webui", frozenset({"SCHEDULE_WHEN"}))))
        '[a:b:2] BREAK c'
    """
    return _WebUISpelling().lexemes(prompt, lexer)


def nai_lexemes(prompt: Prompt, lexer: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The matches of ``lexer`` over the spelling of each node of a NovelAI tree, in order.

    Example:
        >>> import naiprompt
        >>> from naiprompt.grammar import scanner
        >>> tree = naiprompt.parse("{a}, 2::[b]::", "nai4")
        >>> "".join(m.group() for m in nai_lexemes(tree, scanner("nai4")))
        '{a}, 2::[b]::'
    """
    return _NovelAISpelling().lexemes(prompt, lexer)
