"""Conversion between dialects: weights map by value, losses go through one error path."""

from __future__ import annotations

import math
import warnings

import pytest

import naiprompt
from conftest import novelai_book


def same_runs(a: list[tuple[str, float]], b: list[tuple[str, float]], rel: float = 1e-3) -> bool:
    return [t for t, _ in a] == [t for t, _ in b] and all(
        math.isclose(x, y, rel_tol=rel) for (_, x), (_, y) in zip(a, b, strict=True)
    )


def book() -> list[str]:
    entries = novelai_book().values()
    return [p for e in entries for p in (e["tags"], e["ntags"])]


def test_every_novelai_book_prompt_keeps_its_weights_in_webui() -> None:
    prompts = book()
    assert len(prompts) == 80
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nai -> webui loses nothing: no warning allowed
        warnings.filterwarnings("ignore", message=".*is literal text in NovelAI")  # slips are reported (issue 10)
        for prompt in prompts:
            webui = naiprompt.convert(prompt, "nai", "webui")
            assert same_runs(naiprompt.attention(webui, "webui"), naiprompt.attention(prompt, "nai")), prompt


def test_and_back_to_novelai() -> None:
    # The WebUI forms of the book have exact NovelAI forms (powers of 1.05): they come back.
    for prompt in book():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is literal text in NovelAI")  # as above
            webui = naiprompt.convert(prompt, "nai", "webui")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            back = naiprompt.convert(webui, "webui", "nai")
        assert same_runs(naiprompt.attention(back, "nai"), naiprompt.attention(prompt, "nai")), prompt
        four = naiprompt.convert(webui, "webui", "nai4")
        assert same_runs(naiprompt.attention(four, "nai4"), naiprompt.attention(prompt, "nai")), prompt


# One-line conversion cases (source, then the expected text in each target) live in
# fixtures/dialects/convert.txt and run in test_dialect_fixtures.py.


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("a [cat:dog:5]", "prompt editing"),
        ("a [cat|dog]", "alternation"),
        ("a AND b", "AND"),
        ("a BREAK b", "BREAK"),
        ("a <lora:x:0.8>", "extra network"),
        ("a, (b:1.5)", "weight"),
        ("a, (b:0)", "weight"),
    ],
)
def test_what_novelai_cannot_express_goes_through_errors(text: str, construct: str) -> None:
    with pytest.raises(naiprompt.ConversionError) as info:
        naiprompt.convert(text, "webui", "nai", errors="raise")
    assert info.value.construct == construct
    assert info.value.position is not None and info.value.position >= 1
    with pytest.warns(naiprompt.PromptWarning):
        best = naiprompt.convert(text, "webui", "nai", errors="warn")
    assert best.startswith("a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert naiprompt.convert(text, "webui", "nai", errors="ignore") == best


def test_best_effort_keeps_one_branch_and_the_words() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert naiprompt.convert("a [cat:dog:5] b", "webui", "nai") == "a cat b"
        assert naiprompt.convert("a [:dog:5] b", "webui", "nai") == "a dog b"
        assert naiprompt.convert("a [cat|dog] b", "webui", "nai") == "a cat b"
        assert naiprompt.convert("(b:1.5)", "webui", "nai") == "{{{{{{{{b}}}}}}}}"


def test_numeric_weight_only_at_tag_start_in_nai4() -> None:
    with pytest.warns(naiprompt.PromptWarning, match="start of a tag"):
        out = naiprompt.convert("a (b:1.3)", "webui", "nai4")
    assert out == "a {{{{{b}}}}}"
    assert naiprompt.convert("a, (b:1.3)", "webui", "nai4") == "a, 1.3::b::"


def test_weights_are_plain_decimals() -> None:
    from naiprompt.ast import Emphasis, Prompt, Text

    for weight in (1e-5, 123456789.0, 0.1, 1e-7, 2.5e-3):
        tree = Prompt(body=(Text(value="a, "), Emphasis(body=(Text(value="x"),), weight=weight)))
        for dialect in ("webui", "nai4"):
            out = naiprompt.render(tree, dialect)
            assert "e" not in out, out
        assert math.isclose(naiprompt.attention(naiprompt.render(tree, "webui"))[-1][1], weight)


def test_same_dialect_conversion_is_identity() -> None:
    for text, dialect in (("(a [b) c] \\(x", "webui"), ("{a [b} c", "nai"), ("1.5::a, b", "nai4")):
        assert naiprompt.convert(text, dialect, dialect) == text
