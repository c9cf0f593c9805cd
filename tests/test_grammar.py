"""The grammar files: what the fast paths read of them is what Lark reads."""

from __future__ import annotations

import subprocess
import sys

import lark
import pytest

from naiprompt.grammar import _terminals, grammar_text, scanner

GRAMMARS = ("webui", "nai", "nai4")


@pytest.mark.parametrize("name", GRAMMARS)
def test_terminal_reader_matches_lark(name: str) -> None:
    compiled = lark.Lark(grammar_text(name), parser="lalr", lexer="basic")
    by_lark = {t.name: (t.pattern.to_regexp(), t.priority) for t in compiled.terminals}
    ours = {t.name: (t.regex, t.priority) for t in _terminals(name)}
    assert ours == by_lark


@pytest.mark.parametrize("name", GRAMMARS)
def test_no_terminals_of_equal_priority_collide(name: str) -> None:
    # Lark's strict mode (with interegular) refuses regex collisions and LALR conflicts;
    # it is what lets the one-regex scanner try equal-priority terminals in any order.
    lark.Lark(grammar_text(name), parser="lalr", lexer="basic", strict=True)


@pytest.mark.parametrize("name", GRAMMARS)
def test_scanner_covers_every_character(name: str) -> None:
    text = "a (b:1.5) [c|d:e:5] {f} \\ 1.5:: :: <lora:x:1> AND BREAK \u00e9\u4e2d\n"
    assert "".join(m.group() for m in scanner(name).finditer(text)) == text


def test_fast_paths_do_not_import_lark() -> None:
    code = (
        "import sys, naiprompt; naiprompt.attention('(a:1.2)'); naiprompt.parse('[a:b:5] (c)');"
        "naiprompt.convert('{a}', 'nai', 'webui'); print('lark' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
