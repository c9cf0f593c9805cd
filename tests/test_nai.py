"""NovelAI dialects: {x} x1.05, [x] /1.05, V4 numeric emphasis; and dialect detection."""

from __future__ import annotations

import pytest

import naiprompt
from conftest import novelai_book
from naiprompt.ast import Emphasis, Text


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("{x}", [("x", 1.05)]),
        ("{{x}}", [("x", 1.1025)]),
        ("[x]", [("x", 1 / 1.05)]),
        ("[[x]]", [("x", 1 / 1.05 / 1.05)]),
        ("{[x]}", [("x", 1.0)]),
        ("{a", [("a", 1.05)]),
        ("a}", [("a}", 1.0)]),
        ("(x:1.2) \\(y\\)", [("(x:1.2) \\(y\\)", 1.0)]),
        ("{a [b} c]", [("a ", 1.05), ("b", 1.0), (" c", 1 / 1.05)]),
    ],
)
def test_nai_weights(prompt: str, expected: list[tuple[str, float]]) -> None:
    assert naiprompt.attention(prompt, "nai") == expected


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("2::{smile}::", [("smile", 2.1)]),
        ("-1::hat::", [("hat", -1.0)]),
        ("2::smile::, blush", [("smile", 2.0), (", blush", 1.0)]),
        ("1girl, -1::school", [("1girl, ", 1.0), ("school", -1.0)]),
        ("2equal8::", [("2equal8::", 1.0)]),
        ("a 1.5::b::", [("a 1.5::b::", 1.0)]),
        ("1.5::a, 2::b::, c", [("a, ", 1.5), ("b", 2.0), (", c", 1.0)]),
        ("location, masterpiece, no text, -0.8::feet::, rating:general",
         [("location, masterpiece, no text, ", 1.0), ("feet", -0.8), (", rating:general", 1.0)]),
        ("{a}, 0.5::b::", [("a", 1.05), (", ", 1.0), ("b", 0.5)]),
    ],
)
def test_nai4_numeric_emphasis(prompt: str, expected: list[tuple[str, float]]) -> None:
    assert naiprompt.attention(prompt, "nai4") == expected


def test_nai4_tree() -> None:
    tree = naiprompt.parse("1girl, 2::{smile}::", "nai4")
    assert tree.body == (
        Text(value="1girl, "),
        Emphasis(body=(Emphasis(body=(Text(value="smile"),), weight=1.05),), weight=2.0),
    )
    assert tree.body[1].notation == "numeric"  # type: ignore[union-attr]


def test_unbalanced_novelai_prompts_from_the_book() -> None:
    book = novelai_book()
    unbalanced = [e["tags"] for e in book.values() if e["tags"].count("{") != e["tags"].count("}")]
    assert len(unbalanced) >= 10
    for prompt in unbalanced:
        tree = naiprompt.parse(prompt, "nai")
        assert naiprompt.render(tree) == prompt
        assert tree.warnings or prompt.count("{") > prompt.count("}")
        with pytest.raises(naiprompt.PromptSyntaxError):
            naiprompt.parse(prompt, "nai", strict=True)


@pytest.mark.parametrize(
    ("prompt", "dialect"),
    [
        ("{masterpiece}, 1girl, [bad hands]", "nai"),
        ("{{{best quality}}}, solo", "nai"),
        ("1girl, -1::hat::, 2::smile::", "nai4"),
        ("location, masterpiece, no text, -0.8::feet::, rating:general", "nai4"),
        ("(masterpiece:1.2), <lora:ink:0.8>", "webui"),
        ("masterpiece, best quality", "webui"),
        ("a [cat:dog:0.5] AND b", "webui"),
        ("{masterpiece}, (a:1.2), (b:1.1), (c:0.9)", "webui"),
    ],
)
def test_detect(prompt: str, dialect: str) -> None:
    assert naiprompt.detect(prompt) == dialect


def test_detect_the_book_as_novelai() -> None:
    book = novelai_book()
    with_braces = [e["tags"] for e in book.values() if "{" in e["tags"]]
    detected = [naiprompt.detect(p) for p in with_braces]
    assert detected.count("nai") / len(detected) > 0.9
