"""The compel dialect: compel 2.3's own outputs, round trips, strict errors, plugin wiring."""

from __future__ import annotations

import json
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

import naiprompt
from naiprompt.ast import Emphasis, Text
from naiprompt.contrib.compel import Blend, Compel, Conjunction, Lora, Swap
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.errors import PromptSyntaxError

if "compel" not in DIALECTS.names():  # a checkout whose installed metadata predates the entry point
    register_dialect(Compel)

compel = Compel()

DATA = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "conformance" / "compel_attention.json").read_text(encoding="utf-8")
)
CASES: list[dict[str, object]] = DATA["cases"]
PARSE_ONLY: list[dict[str, str]] = DATA["parse_only"]


def runs(value: object) -> list[tuple[str, float]]:
    assert isinstance(value, list)
    return [(str(text), float(weight)) for text, weight in value]


def same_runs(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> bool:
    """Texts exactly, weights to a relative 1e-9, as the conformance file asks."""
    return [t for t, _ in got] == [t for t, _ in want] and all(
        g == pytest.approx(w, rel=1e-9, abs=1e-12) for (_, g), (_, w) in zip(got, want, strict=True)
    )


def test_the_conformance_file_is_complete() -> None:
    assert len(CASES) == 1206 and len(PARSE_ONLY) == 110


@pytest.mark.parametrize("case", CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_conformance(case: dict[str, object]) -> None:
    prompt = str(case["prompt"])
    want = runs(case["attention"])
    assert same_runs(compel.attention(prompt), want)
    assert same_runs(naiprompt.attention(prompt, "compel"), want)
    tree = compel.parse(prompt)
    assert compel.render(tree) == prompt  # byte for byte
    assert same_runs(naiprompt.attention(tree), want)  # the tree says the same


_FRAGMENT = re.compile(r"Fragment:'(.*?)'@([-0-9.e]+)")
_EDITED = re.compile(r"->\[(?:Fragment:'.*?'@[-0-9.e]+(?:, )?)*\] \(\{[^}]*\}\)")


def _compel_parts(text: str) -> list[list[tuple[str, float]]]:
    """compel's flattened prompts, from the repr the file keeps: each part's fragments, normalised."""
    text = _EDITED.sub("", text)  # a swap conditions on its original
    out = []
    for part in text.split("FlattenedPrompt:[")[1:]:
        merged: list[tuple[str, float]] = []
        for fragment, weight in _FRAGMENT.findall(part):
            if not fragment:
                continue
            if merged and merged[-1][1] == float(weight):
                merged[-1] = (merged[-1][0] + " " + fragment, float(weight))
            else:
                merged.append((fragment, float(weight)))
        out.append(merged)
    return out


@pytest.mark.parametrize("case", PARSE_ONLY, ids=[f"{i}" for i in range(len(PARSE_ONLY))])
def test_parse_only(case: dict[str, str]) -> None:
    prompt = case["prompt"]
    tree = compel.parse(prompt)
    assert compel.render(tree) == prompt
    assert not tree.warnings
    kinds = {type(node) for node in tree.body}
    if "Blend:" in case["compel"]:
        assert Blend in kinds
    elif "type AND | weights [1.0] |" not in case["compel"]:
        assert Conjunction in kinds
    if "CrossAttentionControlSubstitute" in case["compel"]:
        assert Swap in kinds
    got = compel.parts(prompt)
    want = _compel_parts(case["compel"])
    assert len(got) == len(want)
    for mine, theirs in zip(got, want, strict=True):
        assert same_runs(mine, theirs), (prompt, mine, theirs)


def test_blend_and_conjunction_nodes() -> None:
    blend = compel.parse('("spider man", "robot mech+").blend(1, 0.8, no_normalize)').body[0]
    assert isinstance(blend, Blend)
    assert blend.weights == (1.0, 0.8) and not blend.normalize
    assert blend.parts[1][0] == Text(value="robot ")
    assert blend.parts[1][1] == Emphasis(body=(Text(value="mech"),), weight=1.1)
    conjunction = compel.parse('(cat, "a dog").add(1, 0.5)').body[0]
    assert isinstance(conjunction, Conjunction)
    assert conjunction.operator == "add" and conjunction.weights == (1.0, 0.5)
    assert compel.parts('(cat, "a dog").add(1, 0.5)') == [[("cat", 1.0)], [("a dog", 1.0)]]


def test_swap_and_lora_nodes() -> None:
    body = compel.parse('a "tall cat".swap(dog+, t_end=0.6) withLora(ink_v2, 0.8)').body
    swap = body[1]
    assert isinstance(swap, Swap)
    assert swap.original == (Text(value="tall cat"),)
    assert swap.replacement == (Emphasis(body=(Text(value="dog"),), weight=1.1),)
    assert swap.options == (("t_end", "0.6"),)
    assert body[3] == Lora(name="lora", args=("ink_v2", "0.8"))
    assert compel.attention('a "tall cat".swap(dog+) b') == [("a tall cat b", 1.0)]
    assert naiprompt.convert("withLora(ink) a", compel, "webui") == "<lora:ink:1> a"


def test_weights_follow_compel() -> None:
    assert compel.attention("a++ b-- c+++") == [("a", 1.1**2), ("b", 0.9**2), ("c", 1.1**3)]
    assert compel.attention("(a (b)1.5)0.5") == [("a", 0.5), ("b", 0.75)]
    assert compel.attention("a.attend(1.2) (b) .attend(--)") == [("a", 1.2), ("b", 0.81)]
    assert compel.attention("(a)1e5") == [("a e5", 1.0)]  # no exponents: the weight is the 1
    assert compel.attention("a+b c") == [("a+b c", 1.0)]  # a sign inside a word is text
    assert compel.attention('a "" b') == [("a  b", 1.0)]  # compel fuses the empty fragment too
    assert compel.attention("(a,b)+") == [("a , b", 1.1)]
    assert compel.attention("x \\\\(y") == [("x (y", 1.0)]  # compel unescapes on every copy
    assert compel.attention("") == [] and compel.attention(" \t ") == []


def test_corners_of_compel_syntax() -> None:
    assert compel.attention("cat1.3") == [("cat1.3", 1.0)]  # a bare word takes only + and -
    assert compel.attention("(cat) 1.3") == [("cat 1.3", 1.0)]  # the weight must touch the group
    assert compel.attention("(cat)+1.5") == [("cat", 1.1), ("1.5", 1.0)]  # signs first, then a number
    assert compel.attention('"a\\tb"+') == [("a b", 1.1)]  # pyparsing turns \\t into a tab inside quotes
    assert compel.attention("[a] {b}") == [("[a] {b}", 1.0)]  # no brackets or braces in compel
    assert compel.attention("useLora(x) a withLora(y, .5)") == [("a", 1.0)]
    tree = compel.parse('"a\\tb"+ \\x')
    assert compel.render(tree) == '"a\\tb"+ \\x'


def test_plain_groups_are_weight_one() -> None:
    tree = compel.parse('(a b) "c"')
    assert tree.body == (
        Emphasis(body=(Text(value="a b"),), weight=1.0),
        Text(value=" "),
        Emphasis(body=(Text(value="c"),), weight=1.0),
    )
    assert naiprompt.render(tree, "nai") == "a b c"


def test_strict_errors_point_at_the_problem() -> None:
    with pytest.raises(PromptSyntaxError) as info:
        compel.parse("a cat,\n(tall hat", strict=True)
    assert (info.value.line, info.value.column) == (2, 1)
    assert str(info.value).endswith("(tall hat\n^")
    cases = {
        "a\x0bb": "vertical",
        '("a", "b").blend(1)': "weights",
        '("a", "b").and() c': "ignores",
        "a) b": "plain text",
        'a "b': "plain text",
        "a.swap(b, shape_freedom=x)": "shape_freedom",
        '("a", "b").blend(1, 1) c': "after .blend",
    }
    for prompt in cases:
        with pytest.raises(PromptSyntaxError):
            compel.parse(prompt, strict=True)
        lenient = compel.parse(prompt)
        assert lenient.warnings
        assert compel.render(lenient) == prompt
    assert compel.parse('a+ (b, c)1.2 "d".swap(e) withLora(x)', strict=True).warnings == ()


def test_lenient_readings_of_what_compel_rejects() -> None:
    assert compel.attention("a\x0bb+") == [("a", 1.0), ("b", 1.1)]
    # a blend compel would raise on reads as a group of two quotes and a free word
    assert compel.attention('("a", "b").blend(1)') == [("a , b .blend(1)", 1.0)]
    assert compel.attention("a) b") == [("a) b", 1.0)]


def test_entry_point_is_declared() -> None:
    if sys.version_info < (3, 11):  # pragma: no cover
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    points = pyproject["project"]["entry-points"]["naiprompt.dialects"]
    assert points["compel"] == "naiprompt.contrib.compel:Compel"
    installed = [ep for ep in metadata.entry_points(group="naiprompt.dialects") if ep.name == "compel"]
    if not installed:
        pytest.skip("the installed metadata predates the compel entry point (reinstall to refresh it)")
    assert installed[0].load() is Compel
