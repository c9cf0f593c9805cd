"""Weight transforms, and the corpus check that transforms never lose text."""

from __future__ import annotations

import re
import warnings

import pytest

import naiprompt
from conftest import demo_chants, novelai_book, seed_repo_prompts
from naiprompt.ast import Emphasis, Prompt, Text
from naiprompt.errors import PromptWarning
from naiprompt.transforms import (
    apply,
    expand,
    flatten,
    round_weights,
    snap_weights,
    sort_by_weight,
    strip_weights,
)


def render(text: str, *transforms: object, dialect: str = "webui") -> str:
    return naiprompt.render(apply(text, *transforms, dialect=dialect))  # type: ignore[arg-type]


def test_flatten() -> None:
    assert render("((a)), [b]", flatten()) == "(a:1.21), (b:0.9091)"
    assert render("(a (b) c:1.2)", flatten()) == "(a :1.2)(b:1.32)( c:1.2)"
    assert render("((a, b), c:0.5)", flatten()) == "(a, b:0.55)(, c:0.5)"
    assert render("{{a}}, [b]", flatten(), dialect="nai4") == "1.1025::a::, 0.9524::b::"
    assert render("(a [b:c:0.5])", flatten()) == "(a :1.1)[(b:1.1):(c:1.1):0.5]"
    tree = apply("((a))", flatten(ndigits=None))
    assert tree.body[0] == Emphasis(body=(Text(value="a"),), weight=1.1 * 1.1)
    with pytest.raises(ValueError):
        flatten(ndigits=-1)


def test_flatten_keeps_attention() -> None:
    text = "a ((b [c] d)) (e:1.3) [[f]]"
    before = naiprompt.attention(text)
    after = naiprompt.attention(render(text, flatten(ndigits=None)))
    assert [t for t, _ in before] == [t for t, _ in after]
    assert [w for _, w in after] == pytest.approx([w for _, w in before])


def test_expand() -> None:
    assert render("(a:1.21), (b:0.9)", expand()) == "((a)), (b:0.9)"
    assert render("(a:0.8264462809917354), (c:1)", expand()) == "[[a]], c"
    tree = apply("(a:1.1025), (b:0.9524)", expand("nai", tolerance=1e-4))
    assert naiprompt.render(tree, "nai") == "{{a}}, [b]"
    assert render("1.1025::a::", expand(), dialect="nai4") == "{{a}}"
    assert render("(a)", expand()) == "(a)"  # already a level
    with pytest.raises(ValueError):
        expand(tolerance=-1)


def test_round_and_snap() -> None:
    assert render("(a:0.5645), [b], (c:1.23456)", round_weights(2)) == "(a:0.56), [b], (c:1.23)"
    snapped = render("(a:0.81), (b:0.9), (c:0.74)", snap_weights(1.05, ndigits=2))
    assert snapped == "(a:0.82), (b:0.91), (c:0.75)"
    assert render("(a:0.56)", snap_weights(1.1, ndigits=3)) == "(a:0.564)"
    assert render("(a:0), (b)", snap_weights()) == "(a:0), (b)"
    with pytest.raises(ValueError):
        snap_weights(1.0)
    with pytest.raises(ValueError):
        round_weights(-1)


def test_sort_by_weight() -> None:
    assert render("a, (b:1.3), [c], ((d))", sort_by_weight()) == "(b:1.3), ((d)), a, [c]"
    assert render("x, y, z", sort_by_weight()) == "x, y, z"  # stable
    assert render("a, (b) BREAK c, (d)", sort_by_weight()) == "(b), a BREAK (d), c"


def test_strip_weights() -> None:
    assert render("(a:1.2), [b], ((c))", strip_weights()) == "a, b, c"
    assert render("{{a}}, [b], 1.2::c::", strip_weights(), dialect="nai4") == "a, b, c"
    assert render("[(a):b:5] <lora:x:1>", strip_weights()) == "[a:b:5] <lora:x:1>"


def test_unchanged_trees_are_the_same_object() -> None:
    tree = naiprompt.parse("a, b")
    transforms = (flatten(), expand(), round_weights(), snap_weights(), strip_weights(), sort_by_weight())
    for transform in transforms:
        assert transform(tree) is tree


# ---------------------------------------------------------------------------------------------
# Every prompt of the vendored data (tests/fixtures/data).


def _corpus() -> list[tuple[str, str]]:
    prompts: list[tuple[str, str]] = []
    for record in seed_repo_prompts():
        for key in ("positive", "negative"):
            if record.get(key):
                prompts.append((record[key], "nai" if "nai" in record.get("kind", "") else "webui"))
    for entry in novelai_book().values():
        for key in ("tags", "ntags"):
            prompts.append((entry[key], "nai"))
            # The same prompt with its brackets stripped (what a "pure" copy of a prompt book holds).
            prompts.append((entry[key].translate(str.maketrans("", "", "{}[]")), "nai"))
    for entry in demo_chants():
        prompts.append((entry["content"], "webui"))
    return prompts


CORPUS = _corpus()


def _text(prompt: str | Prompt, dialect: str) -> str:
    return "".join(text for text, weight in naiprompt.attention(prompt, dialect) if weight != -1)


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) > 250


def test_strip_weights_keeps_every_word_in_order() -> None:
    for text, dialect in CORPUS:
        tree = naiprompt.parse(text, dialect)
        stripped = naiprompt.render(strip_weights()(tree))
        assert re.findall(r"\w+", _text(stripped, dialect)) == re.findall(r"\w+", _text(text, dialect)), text
        runs = naiprompt.attention(stripped, dialect)
        assert all(weight in (1.0, -1.0) for _, weight in runs), (text, runs)


@pytest.mark.parametrize(
    "transform",
    [flatten(), flatten(ndigits=None), expand(), round_weights(1), snap_weights(1.05), snap_weights(1.1)],
    ids=["flatten", "flatten-exact", "expand", "round_weights", "snap-1.05", "snap-1.1"],
)
def test_weight_only_transforms_keep_the_text(transform: object) -> None:
    for text, dialect in CORPUS:
        tree = naiprompt.parse(text, dialect)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromptWarning)
            out = naiprompt.render(transform(tree))  # type: ignore[operator]
        assert _text(out, dialect) == _text(text, dialect), (text, out)


@pytest.mark.parametrize(("text", "printed"), [("0(BREAK(0", "0 BREAK(0:1.21)"), ("a(BREAK)b", "a BREAK b")])
def test_a_dropped_bracket_leaves_break_a_word_apart(text: str, printed: str) -> None:
    """Flattening drops the brackets that kept BREAK apart from its neighbours' words; the
    printer adds the space WebUI then eats, so BREAK stays a chunk break and no word grows."""
    out = naiprompt.render(flatten()(naiprompt.parse(text)))
    assert out == printed
    assert ("BREAK", -1.0) in naiprompt.attention(out)
