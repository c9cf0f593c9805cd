"""Text transforms: underscores (with the danbooru sweep), dedupe, networks, canonical."""

from __future__ import annotations

import re

import pytest

import naiprompt
from conftest import tag_list
from naiprompt.ast import Prompt, Text
from naiprompt.transforms import (
    EMOTICONS,
    apply,
    canonical,
    dedupe,
    normalize_tag,
    strip_extra_networks,
    underscores,
)

ISSUE_EMOTICONS = [
    "^_^", ">_<", "0_0", "o_o", "u_u", "x_x", "@_@", "=_=", "+_+", "._.", "3_3", "6_9",
    ">_o", "|_|", "||_||", "(o)_(o)", "<o>_<o>", "<|>_<|>", "+_-",
]  # fmt: skip


def render(text: str, *transforms: object, dialect: str = "webui") -> str:
    return naiprompt.render(apply(text, *transforms, dialect=dialect))  # type: ignore[arg-type]


def literal(tag: str, dialect: str = "webui") -> Prompt:
    """A tag as plain text (what an autocomplete inserts), not parsed as syntax."""
    return Prompt(body=(Text(value=tag),), dialect=dialect)


def test_emoticon_list_is_the_convention() -> None:
    assert set(ISSUE_EMOTICONS) == EMOTICONS


@pytest.mark.parametrize("tag", [*ISSUE_EMOTICONS, ";_;", "^^^", "_", ":|"])
def test_emoticons_and_symbol_tags_keep_underscores(tag: str) -> None:
    assert normalize_tag(tag) == tag
    assert naiprompt.render(underscores()(literal(tag))) == naiprompt.render(literal(tag))


def test_underscores_in_prompts() -> None:
    assert render("long_hair, ^_^, (red_eyes:1.2)", underscores()) == "long hair, ^_^, (red eyes:1.2)"
    assert render("long hair,\nred eyes", underscores(to="underscore")) == "long_hair,\nred_eyes"
    assert render("{long hair}, [o_o]", underscores("underscore"), dialect="nai") == "{long_hair}, [o_o]"
    assert render("<lora:ph_draw:0.9>, a_b", underscores()) == "<lora:ph_draw:0.9>, a b"
    assert render("[cat_ears:dog_ears:0.5]", underscores()) == "[cat ears:dog ears:0.5]"


def test_danbooru_parentheses_stay_literal_in_webui() -> None:
    # Typed raw: WebUI reads "(genshin_impact)" as emphasis; the transform reads the tag.
    assert render("ganyu_(genshin_impact)", underscores()) == "ganyu \\(genshin impact\\)"
    assert render("ganyu_(genshin_impact), 1girl", underscores()) == "ganyu \\(genshin impact\\), 1girl"
    # Already escaped: stays escaped.
    assert render("ganyu_\\(genshin_impact\\)", underscores()) == "ganyu \\(genshin impact\\)"
    # Real emphasis is left alone.
    assert render("ganyu, (genshin_impact)", underscores()) == "ganyu, (genshin impact)"
    assert render("ganyu_(genshin_impact:1.2)", underscores()) == "ganyu (genshin impact:1.2)"
    # NovelAI: parentheses are plain text already.
    assert render("ganyu_(genshin_impact)", underscores(), dialect="nai") == "ganyu (genshin impact)"
    tree = underscores()(literal("ganyu_(genshin_impact)"))
    assert naiprompt.render(tree) == "ganyu \\(genshin impact\\)"


def test_underscores_rejects_bad_direction() -> None:
    with pytest.raises(ValueError, match="space, underscore"):
        underscores(to="dash")
    with pytest.raises(ValueError):
        normalize_tag("a_b", to="x")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@pytest.fixture(scope="module")
def danbooru_tags() -> list[str]:
    return tag_list("danbooru")


@pytest.mark.slow
def test_danbooru_sweep_webui(danbooru_tags: list[str]) -> None:
    """Every danbooru tag: only `_` -> space and escapes change; it parses back to one run."""
    assert len(danbooru_tags) > 100_000
    transform = underscores()
    problems = []
    for tag in danbooru_tags:
        out = naiprompt.render(transform(literal(tag)))
        keep = tag in EMOTICONS or not any(char.isalnum() for char in tag)
        plain = _unescape(out)
        same_length = len(plain) == len(tag)
        ok = plain == tag if keep else plain.replace(" ", "_") == tag and same_length
        runs = naiprompt.attention(out)
        expected = tag if keep else tag.replace("_", " ")
        if not ok or runs != [(expected, 1.0)]:
            problems.append((tag, out, runs))
    assert problems == []


@pytest.mark.slow
def test_danbooru_sweep_nai(danbooru_tags: list[str]) -> None:
    """NovelAI needs no escapes: the output is the tag with spaces."""
    transform = underscores()
    problems = []
    for tag in danbooru_tags[::7]:  # every 7th tag: the webui sweep covers the full list
        if "{" in tag or "[" in tag or "]" in tag or "}" in tag:
            continue  # NovelAI cannot write literal brackets
        out = naiprompt.render(transform(literal(tag, "nai")))
        keep = tag in EMOTICONS or not any(char.isalnum() for char in tag)
        expected = tag if keep else tag.replace("_", " ")
        if out != expected or naiprompt.attention(out, "nai") != [(expected, 1.0)]:
            problems.append((tag, out))
    assert problems == []


def test_dedupe() -> None:
    assert render("a, b, a, (b:1.2), b", dedupe()) == "a, b, (b:1.2)"
    assert render("a,  a , b", dedupe()) == "a,  b"
    assert render("a, b, a", dedupe()) == "a, b"
    assert render("a, b AND a, b", dedupe()) == "a, b AND a, b"
    assert render("(x, y, x), x", dedupe()) == "(x, y), x"
    assert render("long_hair, long hair", underscores(), dedupe()) == "long hair"
    tree = naiprompt.parse("a, b")
    assert dedupe()(tree) is tree  # nothing to do: the same tree


def test_strip_extra_networks() -> None:
    assert render("a, <lora:x:0.8>, b <lora:y:1> c", strip_extra_networks()) == "a, b c"
    assert render("<lora:x:0.8>, a", strip_extra_networks()) == "a"
    assert render("a, <lora:x:0.8>", strip_extra_networks()) == "a"
    assert render("<lora:x:0.8>", strip_extra_networks()) == ""
    assert render("a <hypernet:h:1>", strip_extra_networks()) == "a "


def test_canonical() -> None:
    assert render("(a:1.50), (b", canonical()) == "(a:1.5), (b)"
    assert render("( a :1.20)", canonical()) == "( a :1.2)"
    assert naiprompt.parse(render("[a:b:5.]", canonical())) == naiprompt.parse("[a:b:5.]")
    tree = naiprompt.parse("(a:1.50)")
    assert canonical()(tree) == tree  # same meaning
