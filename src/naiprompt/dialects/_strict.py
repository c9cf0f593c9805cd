"""Strict parsing: the dialect's Lark grammar (LALR, contextual lexer) decides.

Lark is imported only here, when strict parsing is first asked for; the lenient
parser and the fast paths read the same grammar's terminals without it.

Example:
    >>> from naiprompt.dialects._strict import check
    >>> check("nai", "{a}", unclosed=lambda text: ("unclosed bracket", 0))
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from naiprompt.errors import PromptSyntaxError
from naiprompt.grammar import lark_parser

if TYPE_CHECKING:  # pragma: no cover
    from lark.lark import PostLex

#: The words WebUI finds inside text runs (they need word boundaries).
WORDS = re.compile(r"\bAND\b|\s*\bBREAK\b\s*")


@functools.cache
def word_splitter() -> PostLex:
    """Post-lexer for ``webui``: cut the words AND and BREAK out of TEXT tokens.

    Example:
        >>> word_splitter().always_accept
        ('TEXT',)
    """
    import lark
    from lark.lexer import Token

    class WordSplitter(lark.lark.PostLex):
        # TEXT must be lexable everywhere: the words it hides (AND) are what the parser expects.
        always_accept = ("TEXT",)

        def process(self, stream: Iterator[Token]) -> Iterator[Token]:
            for token in stream:
                if token.type != "TEXT" or ("AND" not in token and "BREAK" not in token):
                    yield token
                    continue
                last = 0
                value = str(token)
                base = token.start_pos or 0
                for match in WORDS.finditer(value):
                    if match.start() > last:
                        yield Token("TEXT", value[last : match.start()], start_pos=base + last)
                    word = "AND" if match.group() == "AND" else "BREAK"
                    yield Token(word, match.group(), start_pos=base + match.start())
                    last = match.end()
                if last < len(value):
                    yield Token("TEXT", value[last:], start_pos=base + last)

    return WordSplitter()


@functools.cache
def numeric_everywhere() -> PostLex:
    """Post-lexer for ``nai4``: lex ``w::`` in every state, so one out of place is an error.

    Example:
        >>> numeric_everywhere().always_accept
        ('WEIGHT_OPEN',)
    """
    import lark

    class NumericEverywhere(lark.lark.PostLex):
        always_accept = ("WEIGHT_OPEN",)

        def process(self, stream: Iterator[Any]) -> Iterator[Any]:
            return stream

    return NumericEverywhere()


def check(
    name: str,
    text: str,
    *,
    unclosed: Callable[[str], tuple[str, int]],
    postlex: PostLex | None = None,
    reading: str | None = None,
) -> None:
    """Raise :class:`~naiprompt.errors.PromptSyntaxError` unless ``text`` is in the grammar.

    ``unclosed(text)`` gives the reason and position for a prompt that ends too
    early (the opener to blame, rather than the end of the text). ``reading``,
    when given, is what the grammar parses instead of ``text``: the same length,
    with characters the dialect has already decided are text replaced by a plain
    one (errors still quote ``text``).

    Example:
        >>> check("nai", "a}", unclosed=lambda text: ("unclosed bracket", 0))
        Traceback (most recent call last):
        ...
        naiprompt.errors.PromptSyntaxError: unexpected '}' at line 1, column 2:
        a}
         ^
    """
    import lark

    try:
        lark_parser(name, postlex=postlex).parse(text if reading is None else reading)
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            reason, position = unclosed(text)
            raise PromptSyntaxError(reason, text, position, code="unclosed-bracket") from None
        position = token.start_pos if token.start_pos is not None else len(text)
        raise PromptSyntaxError(f"unexpected {str(token).strip()!r}", text, position) from None
    except lark.exceptions.UnexpectedInput as exc:  # pragma: no cover - TEXT matches everything
        raise PromptSyntaxError("unexpected character", text, exc.pos_in_stream or 0) from None
