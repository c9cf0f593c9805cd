"""Weights from the tree: ``attention(parse(s, d)) == attention(s, d)`` for every dialect, bit for bit."""

from __future__ import annotations

import struct
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naiprompt
from naiprompt.ast import Emphasis, Node, Prompt, Text
from naiprompt.dialects import webui
from naiprompt.dialects._tree_spelling import nai_lexemes, webui_lexemes
from naiprompt.grammar import scanner

PLAIN = ["a", "b", "1", " ", ",", "."]
PIECES = {
    "webui": [*"()[]:|<>\\", "\\(", "AND", " AND ", "BREAK", " BREAK ", "<lora:x:1>", ":0.5", ":1.2)", ":nan)",
              ":1.2.3)", ":-0)", "[a:b:2]", "[a|b]", "[a:5]", "[:b:.5]"],
    "nai": [*"{}[]():\\"],
    "nai4": [*"{}[]:-", "::", "1.5::", "-1::", " 2::", "0::", ", "],
    "comfy": [*"()[]:\\<>", "\\(", ":1.2", ":0)", "embedding:x"],
    "mixed": [*"(){}[]:|<>\\", "1.5::", "::", "AND", "BREAK", ":1.2)"],
}


def bits(runs: list[tuple[str, float]]) -> list[tuple[str, bytes]]:
    """Runs with each weight as its IEEE 754 bytes: NaN equals NaN, -0.0 differs from 0.0."""
    return [(text, struct.pack("<d", weight)) for text, weight in runs]


def same_weights(dialect: str, text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = naiprompt.parse(text, dialect)
        assert bits(naiprompt.attention(tree)) == bits(naiprompt.attention(text, dialect)), text


@pytest.mark.parametrize("dialect", sorted(PIECES))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_tree_weights_equal_text_weights(dialect: str, data: st.DataObject) -> None:
    text = data.draw(st.lists(st.sampled_from(PIECES[dialect] + PLAIN), max_size=16).map("".join))
    same_weights(dialect, text)


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        ("webui", "(a:nan:b:1.2.3)"),  # NaN runs never merge: run boundaries must be WebUI's own
        ("webui", "(a[b)c]"),  # crossing brackets: each closer multiplies from its own opener
        ("webui", "((a) [b:c:3] d"),  # unclosed: applied at the end, outer first, rounds before squares
        ("webui", "a BREAK BREAK (b) BREAK"),
        ("webui", "(x:1.1) <lora:a:b> [c|d] :1.5 AND e:2"),
        ("webui", "[\\<lora:x:1>[a:5]] (b)"),
        ("nai4", "-1::11.5::, 2::{a} [b::c"),
        ("nai", "{a [b} c]"),
        ("mixed", "{a} (b:1.2) [c]"),
        ("comfy", "(a (b:1.3) c:1.2) [d]"),
    ],
)
def test_tree_weights_cases(dialect: str, text: str) -> None:
    same_weights(dialect, text)


def test_the_webui_tree_path_reads_nodes_not_the_printed_text(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = naiprompt.parse("((a:1.3) b) [c]", "webui")
    expected = naiprompt.attention("((a:1.3) b) [c]")

    def no_printing(*args: object, **kwargs: object) -> str:
        raise AssertionError("attention(tree) printed the tree")

    monkeypatch.setattr(webui.WebUI, "render", no_printing)
    monkeypatch.setattr(naiprompt.dialects.nai.NovelAI, "render", no_printing)
    assert naiprompt.attention(tree) == expected
    assert naiprompt.attention(naiprompt.parse("{a}, 2::[b]::", "nai4")) == naiprompt.attention("{a}, 2::[b]::", "nai4")


def test_the_lexemes_spell_the_source() -> None:
    for text in ["(a:1.2) [b:c:2] BREAK <l:x> AND d :2", "a\\(b\\) (c:1.2.3)"]:
        tree = naiprompt.parse(text, "webui")
        assert "".join(m.group() for m in webui_lexemes(tree, scanner("webui", frozenset()))) == text
    tree = naiprompt.parse("{a [b}, -1::c::", "nai4")
    assert "".join(m.group() for m in nai_lexemes(tree, scanner("nai4"))) == "{a [b}, -1::c::"


def test_deep_trees_need_no_recursion() -> None:
    text = "(" * 5000 + "a" + ")" * 5000 + "[" * 5000 + "b"
    weights = naiprompt.attention(naiprompt.parse(text, "webui"))
    assert weights == naiprompt.attention(text)
    assert weights[0][0] == "a" and weights[0][1] > 1e200  # 1.1 ** 5000


@pytest.mark.parametrize(
    ("text", "dialect"),
    [("[[long_hair]]", "nai"), ("{{a}}, [b]", "nai4"), ("((a)), [[b]]", "webui"), ("(a:1.2) [b]", "webui")],
)
def test_transformed_trees_weigh_what_they_print(text: str, dialect: str) -> None:
    """A transform may leave weights the notation cannot spell (flatten: [[x]] -> one emphasis):
    attention() of such a tree equals attention() of its printed text, not of its stale notation."""
    from naiprompt.transforms import flatten, snap_weights

    for transform in (flatten(None), flatten(), snap_weights(1.1)):
        tree = transform(naiprompt.parse(text, dialect))
        assert naiprompt.attention(tree) == naiprompt.attention(naiprompt.render(tree), dialect)


@pytest.mark.parametrize(
    "body",
    [
        [Text(value="a (b)")],  # built in code: brackets unescaped in the value
        [Emphasis(body=(Text(value="x]"),), weight=1.1)],
        [Text(value="a\\")],
        [Emphasis(body=(Text(value="a:1.2"),), weight=1.1)],  # a colon that would read as a weight
    ],
)
def test_trees_built_in_code_weigh_what_they_print(body: list[Node]) -> None:
    tree = Prompt(body=body, dialect="webui")
    assert naiprompt.attention(tree) == naiprompt.attention(naiprompt.render(tree))


@pytest.mark.parametrize("text", [")0", "a)b, c", "x]", "a:1.2, b"])
def test_source_spelling_moved_into_brackets_weighs_what_it_prints(text: str) -> None:
    """A stray ')' is text at the top level; wrapped in new brackets by step it is printed escaped."""
    from naiprompt.transforms import step

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = step(2)(naiprompt.parse(text))
    assert naiprompt.attention(tree) == naiprompt.attention(naiprompt.render(tree))
