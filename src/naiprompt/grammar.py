"""Loading the dialects' Lark grammars, and compiling their terminals into scanners.

The ``.lark`` files are package data (``naiprompt/grammars/`` in the wheel; the
repository keeps them in the top-level ``grammars/`` folder). They are the one
definition of each syntax: the strict parsers are Lark LALR parsers built from
them, and the fast paths use :func:`scanner`, which compiles the very same
terminal definitions into one regular expression with a named group per
terminal, tried in Lark's own order (priority first).

Example:
    >>> from naiprompt.grammar import scanner
    >>> [m.lastgroup for m in scanner("webui").finditer("(a:1.2)")]
    ['LPAR', 'TEXT', 'WEIGHT_CLOSE']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from lark import Lark
    from lark.lark import PostLex


class GrammarNotFoundError(FileNotFoundError):
    """A dialect's ``.lark`` file is missing from the installation.

    Example:
        >>> issubclass(GrammarNotFoundError, FileNotFoundError)
        True
    """


@functools.cache
def grammar_text(name: str) -> str:
    """Return the source of ``grammars/<name>.lark``.

    Looks in the installed package data first, then in the repository's
    top-level ``grammars/`` folder (a source checkout).

    Example:
        >>> "WEIGHT_CLOSE" in grammar_text("webui")
        True
    """
    filename = f"{name}.lark"
    try:
        resource = resources.files("naiprompt").joinpath("grammars").joinpath(filename)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError, TypeError):  # pragma: no cover - odd loaders
        pass
    checkout = Path(__file__).resolve().parents[2] / "grammars" / filename
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise GrammarNotFoundError(f"grammar file {filename!r} is not installed with naiprompt")


@functools.cache
def lark_parser(name: str, *, postlex: PostLex | None = None) -> Lark:
    """The strict LALR parser (contextual lexer) of a dialect's grammar, built once.

    Lark is imported here, on first use: the fast paths do not need it.

    Example:
        >>> lark_parser("webui").options.parser
        'lalr'
    """
    import lark

    return lark.Lark(
        grammar_text(name),
        parser="lalr",
        lexer="contextual",
        postlex=postlex,
        propagate_positions=True,
        maybe_placeholders=True,
        keep_all_tokens=True,
    )


class Terminal(NamedTuple):
    """One terminal of a grammar: its name, regular expression and priority.

    Example:
        >>> Terminal("LBRACE", "\\\\{", 0).name
        'LBRACE'
    """

    name: str
    regex: str
    priority: int


# A terminal definition line of a .lark file: NAME[.priority]: /regex/ or "literal".
_TERMINAL_LINE = re.compile(
    r'^(?P<name>[A-Z_][A-Z0-9_]*)(?:\.(?P<priority>-?\d+))?\s*:\s*'
    r'(?:/(?P<regex>(?:\\.|[^/\\])*)/|"(?P<literal>(?:\\.|[^"\\])*)")\s*(?://.*)?$'
)


@functools.cache
def _terminals(name: str) -> tuple[Terminal, ...]:
    # The fast paths need only the terminals: reading their lines from the .lark file
    # is instant, where compiling the grammar with Lark costs a noticeable startup.
    # tests/test_grammar.py checks that this reads exactly what Lark reads.
    found: list[Terminal] = []
    for line in grammar_text(name).splitlines():
        match = _TERMINAL_LINE.match(line.strip())
        if match is None:
            continue
        if match.group("regex") is not None:
            regex = match.group("regex").replace("\\/", "/")
        else:
            regex = re.escape(match.group("literal").encode().decode("unicode_escape"))
        found.append(Terminal(match.group("name"), regex, int(match.group("priority") or 0)))
    # Higher priority first; equal priorities never overlap (the grammar tests build each
    # grammar with Lark's strict collision check), so their order does not matter.
    found.sort(key=lambda t: -t.priority)
    return tuple(found)


def terminal_names(name: str) -> list[str]:
    """Names of a grammar's terminals, in the order the scanner tries them.

    Example:
        >>> sorted(terminal_names("nai"))
        ['LBRACE', 'LSQB', 'RBRACE', 'RSQB', 'TEXT']
    """
    return [t.name for t in _terminals(name)]


def terminal_pattern(name: str, terminal: str) -> str:
    """The regular expression of one terminal of a grammar.

    Example:
        >>> terminal_pattern("nai", "LBRACE") == re.escape("{")
        True
    """
    for definition in _terminals(name):
        if definition.name == terminal:
            return definition.regex
    raise KeyError(f"grammar {name!r} has no terminal {terminal!r}")


@functools.cache
def scanner(name: str, exclude: frozenset[str] = frozenset()) -> re.Pattern[str]:
    """One compiled regex over the grammar's terminals, minus ``exclude``.

    Each alternative is a named group called after its terminal, so
    ``match.lastgroup`` is the token type. The terminals cover every character
    (each grammar has a catch-all text terminal), so ``finditer`` is a lexer.

    Example:
        >>> [(m.lastgroup, m.group()) for m in scanner("nai").finditer("{a}")]
        [('LBRACE', '{'), ('TEXT', 'a'), ('RBRACE', '}')]
    """
    alternatives: list[str] = []
    for terminal in _terminals(name):
        if terminal.name in exclude:
            continue
        alternatives.append(f"(?P<{terminal.name}>{terminal.regex})")
    return re.compile("|".join(alternatives))


def tokens(name: str, text: str, exclude: Iterable[str] = ()) -> list[tuple[str, str, int]]:
    """Lex ``text`` with :func:`scanner` into ``(type, value, start)`` triples.

    Example:
        >>> tokens("webui", "a\\\\(b")
        [('TEXT', 'a', 0), ('ESCAPE', '\\\\(', 1), ('TEXT', 'b', 3)]
    """
    excluded = frozenset(exclude)
    pattern = scanner(name, excluded)
    # An extra network <name:args> needs a ">" after it. Past the last ">" none can match,
    # and trying at every "<" there would scan to the end each time (quadratic on "<a:<a:...").
    cut = text.rfind(">")
    names = {terminal.name for terminal in _terminals(name)}
    if "NETWORK" not in names or "NETWORK" in excluded or cut == len(text) - 1:
        return [(m.lastgroup or "", m.group(), m.start()) for m in pattern.finditer(text)]
    tail = scanner(name, excluded | {"NETWORK"})
    out: list[tuple[str, str, int]] = []
    position = 0
    while position <= cut:
        match = pattern.match(text, position)
        if match is None:  # pragma: no cover - the text terminal matches any character
            break
        out.append((match.lastgroup or "", match.group(), match.start()))
        position = match.end()
    out.extend((m.lastgroup or "", m.group(), m.start()) for m in tail.finditer(text, position))
    return out
