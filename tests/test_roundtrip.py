"""Lossless round trips: render(parse(s, d), d) == s, and parse(render(tree)) == tree."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from conftest import demo_chants, novelai_book, seed_repo_prompts
from naiprompt.ast import Alternate, Break, Emphasis, Network, Node, Prompt, Schedule, Text

DIALECTS = ("webui", "nai", "nai4")

# Characters that exercise every lexeme of every dialect, plus the words WebUI reacts to.
SYNTAX = st.sampled_from([*list("()[]{}:|<>\\,. -+_1259ab\n\t"), "AND", "BREAK", "::", "1.5::", "<lora:x:1>"])
syntax_text = st.lists(SYNTAX, max_size=40).map("".join)


def round_trip(text: str, dialect: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert naiprompt.render(naiprompt.parse(text, dialect), dialect) == text


@pytest.mark.parametrize("dialect", DIALECTS)
@given(text=syntax_text)
def test_round_trip_syntax_heavy_strings(dialect: str, text: str) -> None:
    round_trip(text, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@given(text=st.text(max_size=60))
def test_round_trip_arbitrary_unicode(dialect: str, text: str) -> None:
    round_trip(text, dialect)


def data_prompts() -> Iterator[tuple[str, str]]:
    """(dialect, prompt) for every prompt of the vendored data, in the dialect it is written in."""
    for entry in novelai_book().values():
        yield "nai", entry["tags"]
        yield "nai", entry["ntags"]
    for row in seed_repo_prompts():
        dialect = "nai" if row["kind"] == "nai_v3_metadata" else "webui"
        for key in ("positive", "negative"):
            if row.get(key):
                yield dialect, row[key]
    for chant in demo_chants():
        yield "webui", chant["content"]


def test_round_trip_every_real_prompt() -> None:
    count = 0
    for _dialect, prompt in data_prompts():
        for each in DIALECTS:  # also in the other dialects: lenient parsing keeps everything
            round_trip(prompt, each)
        count += 1
    assert count > 200


# -- AST-first: build a tree, print it, parse it back -------------------------------------
webui_words = st.text(alphabet="abc xyz,.-_12():[]|\\<>", min_size=1, max_size=8)
nai_words = st.text(alphabet="abc xyz,.-_12():\\<>|", min_size=1, max_size=8)


def canonical(body: list[Node]) -> tuple[Node, ...]:
    """Merge neighbouring texts and drop empty ones, as the parser does."""
    out: list[Node] = []
    for node in body:
        if isinstance(node, Text):
            if not node.value:
                continue
            if out and isinstance(out[-1], Text):
                out[-1] = Text(value=out[-1].value + node.value)
                continue
        out.append(node)
    return tuple(out)


def webui_body(depth: int) -> st.SearchStrategy[tuple[Node, ...]]:
    leaf = st.one_of(
        webui_words.map(lambda v: Text(value=v)),
        st.builds(lambda n, a: Network(name=n, args=(a, "0.5")), st.sampled_from(["lora", "hypernet"]),
                  st.sampled_from(["x", "style_1"])),
    )
    if depth == 0:
        return st.lists(leaf, min_size=1, max_size=3).map(canonical)
    inner = webui_body(depth - 1)
    emphasis = st.builds(
        lambda body, w: Emphasis(body=body, weight=w),
        inner,
        st.sampled_from([1.1, 1 / 1.1, 1.5, 0.5, 1.2100000000000002, 2.0, 0.0, -1.0]),
    )
    schedule = st.builds(
        lambda before, after, when, frac: Schedule(before=before, after=after, when=when, fractional=frac),
        st.one_of(st.none(), inner),
        inner,
        st.sampled_from([0.25, 0.5, 3.0, 10.0]),
        st.booleans(),
    ).filter(lambda s: s.fractional or s.when == int(s.when))
    alternate = st.builds(lambda opts: Alternate(options=opts), st.lists(inner, min_size=2, max_size=3))
    return st.lists(st.one_of(leaf, emphasis, schedule, alternate), min_size=1, max_size=4).map(canonical)


@given(body=webui_body(2))
def test_webui_tree_survives_print_and_parse(body: tuple[Node, ...]) -> None:
    tree = Prompt(body=body, dialect="webui")
    text = naiprompt.render(tree)
    assert naiprompt.parse(text) == tree, text


def nai_body(depth: int) -> st.SearchStrategy[tuple[Node, ...]]:
    leaf = nai_words.map(lambda v: Text(value=v))
    if depth == 0:
        return st.lists(leaf, min_size=1, max_size=3).map(canonical)
    emphasis = st.builds(
        lambda body, w: Emphasis(body=body, weight=w), nai_body(depth - 1), st.sampled_from([1.05, 1 / 1.05])
    )
    return st.lists(st.one_of(leaf, emphasis), min_size=1, max_size=4).map(canonical)


@given(body=nai_body(3))
def test_nai_tree_survives_print_and_parse(body: tuple[Node, ...]) -> None:
    tree = Prompt(body=body, dialect="nai")
    text = naiprompt.render(tree)
    assert naiprompt.parse(text, "nai") == tree, text


def test_break_and_and_print_with_word_boundaries() -> None:
    tree = Prompt(body=(Text(value="a"), Break(), Text(value="b")))
    assert naiprompt.render(tree) == "a BREAK b"
    assert naiprompt.parse("a BREAK b") == tree


# -- printer edge cases found by the transform properties ----------------------------------
def test_dangling_lone_backslash_never_escapes_a_bracket() -> None:
    tree = Prompt(body=(Emphasis(body=(Text(value="d", raw="d\\"),), weight=1.1),))
    assert naiprompt.render(tree) == "(d)"
    assert naiprompt.attention(naiprompt.render(tree)) == [("d", 1.1)]


# Crossed and unclosed nai4 ranges ("2::{[::", "x, 2::{a, [b::c", ...) and the other one-line round
# trips live in fixtures/dialects/identity.txt (test_dialect_fixtures.py).


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ((Text(value=":"),), [(": ", 0.9)]),
        ((Text(value="long_hair, 0"),), [("long_hair, 0 ", 0.9)]),
    ],
)
def test_nai4_text_never_fuses_with_the_closer(body: tuple[Node, ...], expected: list[tuple[str, float]]) -> None:
    tree = Prompt(body=(Emphasis(body=body, weight=0.9),), dialect="webui")
    printed = naiprompt.render(tree, "nai4")
    assert naiprompt.attention(printed, "nai4") == expected


def test_nai4_literal_double_colon_is_reported() -> None:
    tree = Prompt(body=(Text(value="1.2::a::"),), dialect="webui")
    with pytest.raises(naiprompt.ConversionError):
        naiprompt.render(tree, "nai4", errors="raise")
