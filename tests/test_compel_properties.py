"""The compel dialect on generated prompts: round trips, lenient/strict agreement, depth, linear time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from naiprompt.contrib.compel import Compel
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.errors import PromptSyntaxError

if "compel" not in DIALECTS.names():  # a checkout whose installed metadata predates the entry point
    register_dialect(Compel)

compel = Compel()

# Pieces that exercise every rule of compel's grammar, and plain characters between them.
PIECES = [
    "a",
    "cat",
    " ",
    "  ",
    "\t",
    "\n",
    "(",
    ")",
    "+",
    "-",
    "++",
    "--",
    '"',
    ",",
    ".",
    "\\",
    "=",
    "1.2",
    "0",
    ".5",
    "\\(",
    "\\)",
    '\\"',
    "\\t",
    "\\x41",
    ".attend(",
    ".swap(",
    ".blend(",
    ".and(",
    ".add(",
    "withLora(",
    "useLora(",
    "no_normalize",
    "t_end=0.6",
    ")1.3",
    ")+",
    ")-",
    "\x0b",
    "\u3000",
    "é",
]
syntax_heavy = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)
anything = st.text(max_size=60)


@given(st.one_of(syntax_heavy, anything))
def test_round_trip_is_byte_for_byte(text: str) -> None:
    tree = compel.parse(text)  # lenient: never raises
    assert compel.render(tree) == text
    assert naiprompt.render(tree) == text


@given(st.one_of(syntax_heavy, anything))
def test_lenient_and_strict_agree(text: str) -> None:
    lenient = compel.parse(text)
    try:
        compel.parse(text, strict=True)
    except PromptSyntaxError as exc:
        assert lenient.warnings
        assert exc.line >= 1 and exc.column >= 1
    else:
        assert not lenient.warnings


@given(syntax_heavy)
def test_the_tree_gives_the_same_weights(text: str) -> None:
    assert compel.attention(compel.parse(text)) == compel.attention(text)


DEPTH = 10_000


def test_deep_nesting_needs_no_recursion() -> None:
    suffixes = [")+" if level % 2 else ")-" for level in range(DEPTH)]  # innermost first
    text = "(" * DEPTH + "a" + "".join(suffixes)
    tree = compel.parse(text, strict=True)
    assert compel.render(tree) == text
    expected = 1.0
    for suffix in reversed(suffixes):  # compel multiplies from the outside in
        expected *= 1.1 if suffix == ")+" else 0.9
    assert compel.attention(text) == [("a", expected)]
    assert compel.attention(tree) == [("a", expected)]
    quoted = '"' + "(" * DEPTH + "b" + ")-" * DEPTH + '"'
    assert compel.render(compel.parse(quoted)) == quoted
    unclosed = "(" * DEPTH + "a"
    assert compel.render(compel.parse(unclosed)) == unclosed
    assert compel.attention(unclosed) == [(unclosed, 1.0)]
    assert naiprompt.render(compel.parse(text), "webui", errors="ignore").count("(") <= DEPTH


def _cpu(text: str) -> float:
    start = time.process_time()
    compel.parse(text)
    compel.attention(text)
    return time.process_time() - start


@pytest.mark.parametrize(
    "unit",
    ["(", '("a", ', "(a.swap(", "a+ (b, c)1.2 ", '"(x ', "(((a)+ "],
)
def test_linear_time(unit: str) -> None:
    # compel's own backtracking parser is exponential on unclosed groups; this reader is linear
    small, large = unit * 500, unit * 4000
    _cpu(small)  # warm up
    assert _cpu(large) < 8 * 4 * max(_cpu(small), 1e-3)
