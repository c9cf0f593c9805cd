"""The ``webui`` dialect: AUTOMATIC1111 stable-diffusion-webui (v1.10.1) prompts.

Syntax: ``(x)`` x1.1, ``[x]`` /1.1, ``(x:w)``, escapes ``\\( \\) \\[ \\] \\\\``,
``BREAK``, prompt editing ``[a:b:N]``, alternation ``[a|b]``, ``AND`` with a
trailing ``:w``, extra networks ``<name:args>``. The grammar is
``grammars/webui.lark``.

This module is the ``WebUI`` class and the glue of the strict path; the package's
other modules are the scanner, the builder and the printer.

Example:
    >>> from naiprompt.dialects.webui import WebUI
    >>> WebUI().attention("a (b:1.5) [c]")
    [('a ', 1.0), ('b', 1.5), (' ', 1.0), ('c', 0.9090909090909091)]
"""

from __future__ import annotations

from typing import ClassVar

from naiprompt.ast import (
    And,
    Node,
    Prompt,
    Span,
)
from naiprompt.dialects import Dialect, Notation
from naiprompt.dialects._strict import check, word_splitter
from naiprompt.dialects.webui.builder import _build_subprompt, _split_subprompts
from naiprompt.dialects.webui.printer import WebUIPrinter
from naiprompt.dialects.webui.scanner import ROUND, SQUARE, attention, lex, tree_attention
from naiprompt.errors import ErrorLevel, Problem, collect


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


class WebUI(Dialect):
    """AUTOMATIC1111 stable-diffusion-webui syntax.

    Example:
        >>> from naiprompt.dialects import get_dialect
        >>> webui = get_dialect("webui")
        >>> webui.render(webui.parse("(a [b) c]"))
        '(a [b) c]'
    """

    name: ClassVar[str] = "webui"
    aliases: ClassVar[tuple[str, ...]] = (
        "a1111", "auto1111", "automatic1111", "sd-webui", "stable-diffusion-webui", "forge"
    )
    bracket_weight: ClassVar[float] = ROUND
    deemphasis_weight: ClassVar[float | None] = SQUARE
    notations: ClassVar[frozenset[Notation]] = frozenset(Notation)
    level_spelling: ClassVar[tuple[str | None, str | None]] = ("paren", "bracket")
    weight_spelling: ClassVar[str | None] = "explicit"
    render_decimals: ClassVar[bool] = True
    count_variants: ClassVar[bool] = True
    comma_fragments: ClassVar[bool] = True

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse WebUI text; lenient unless ``strict``.

        Example:
            >>> WebUI().parse("(a").body[0].closed
            False
        """
        if strict:
            _strict_check(text)
        problems: list[Problem] = []
        body: list[Node] = []
        for sub_tokens, and_token in _split_subprompts(lex(text)):
            body.extend(_build_subprompt(sub_tokens, text, problems))
            if and_token is not None:
                body.append(And(span=Span(and_token[2], and_token[2] + 3)))
        notes = collect(text, problems, strict=strict)
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
