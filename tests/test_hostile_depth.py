"""Hostile input, depth: 10,000-deep nesting through parse, render, attention, the tree kit and every transform."""

from __future__ import annotations

import functools
import sys
import warnings

import pytest

import naiprompt
from naiprompt import transforms as T  # noqa: N812
from naiprompt.ast import Emphasis, Prompt, Text, Transformer, Visitor

DEPTH = 10_000

# (dialect, kind, text): every dialect, closed and unclosed.
CASES = [
    ("webui", "closed", "(" * DEPTH + "a" + ")" * DEPTH),
    ("webui", "unclosed", "(" * DEPTH + "a"),
    ("webui", "unclosed-square", "[" * DEPTH + "a"),
    ("nai", "closed", "{" * DEPTH + "a" + "}" * DEPTH),
    ("nai", "unclosed", "{" * DEPTH + "a"),
    ("nai4", "closed", "[" * DEPTH + "a" + "]" * DEPTH),
    ("nai4", "unclosed", "{" * DEPTH + "a"),
    ("comfy", "closed", "(" * DEPTH + "a" + ")" * DEPTH),
    ("comfy", "unclosed", "(" * DEPTH + "a"),  # ComfyUI reads an unclosed "(" as text
    ("mixed", "closed", "{" * DEPTH + "a" + "}" * DEPTH),
    ("mixed", "unclosed", "{" * DEPTH + "a"),
]
IDS = ["webui-closed", "webui-unclosed", "webui-square", "nai-closed", "nai-unclosed", "nai4-closed",
       "nai4-unclosed", "comfy-closed", "comfy-unclosed", "mixed-closed", "mixed-unclosed"]

TRANSFORMS = {
    "step": lambda: T.step(0.9),
    "underscores": T.underscores,
    "flatten": T.flatten,
    "expand": T.expand,
    "round_weights": T.round_weights,
    "snap_weights": T.snap_weights,
    "sort_by_weight": T.sort_by_weight,
    "dedupe": T.dedupe,
    "strip_weights": T.strip_weights,
    "canonical": T.canonical,
}


@pytest.fixture(autouse=True)
def _default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 3000  # the depth really is beyond what recursion could reach


@functools.cache
def _parsed(text: str, dialect: str) -> Prompt:
    """One parse per case: trees are immutable, so the transform tests share it."""
    return naiprompt.parse(text, dialect)


def _nested(dialect: str, kind: str) -> bool:
    """Whether the dialect reads the text as DEPTH levels (ComfyUI keeps unclosed brackets as text)."""
    return not (dialect == "comfy" and kind == "unclosed")


def _depth(tree: Prompt) -> int:
    depth, node = 0, tree.body[0]
    while isinstance(node, Emphasis):
        depth += 1
        node = node.body[0]
    return depth


@pytest.mark.parametrize(("dialect", "kind", "text"), CASES, ids=IDS)
def test_parse_render_attention(dialect: str, kind: str, text: str) -> None:
    tree = naiprompt.parse(text, dialect)
    assert naiprompt.render(tree) == text
    runs = naiprompt.attention(text, dialect)
    assert naiprompt.attention(tree) == runs
    if _nested(dialect, kind):
        assert _depth(tree) == DEPTH
        assert [t for t, _ in runs] == ["a"]
    else:
        assert "".join(t for t, _ in runs) == text


@pytest.mark.parametrize(("dialect", "kind", "text"), CASES, ids=IDS)
def test_equality_hash_repr(dialect: str, kind: str, text: str) -> None:
    one, two = naiprompt.parse(text, dialect), naiprompt.parse(text, dialect)
    assert one == two
    assert not one != two  # noqa: SIM202 - __ne__ is iterative too
    assert hash(one) == hash(two)
    assert repr(one).count("Emphasis(") == (DEPTH if _nested(dialect, kind) else 0)
    other = naiprompt.parse(text.replace("a", "b"), dialect)
    assert one != other


@pytest.mark.parametrize(("dialect", "kind", "text"), CASES, ids=IDS)
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_every_transform(dialect: str, kind: str, text: str, name: str) -> None:
    tree = _parsed(text, dialect)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(0.9) has no exact bracket form in nai
        out = TRANSFORMS[name]()(tree)
        printed = naiprompt.render(out)
    assert "a" in printed
    if name in ("underscores", "dedupe", "canonical", "sort_by_weight"):
        # Nothing to change: the same text, the same weights.
        assert naiprompt.attention(printed, dialect) == naiprompt.attention(text, dialect)
    if name == "strip_weights" and _nested(dialect, kind):
        assert printed == "a"


def test_transformer_and_visitor_reach_every_level() -> None:
    tree = naiprompt.parse("(" * DEPTH + "x" + ")" * DEPTH)

    class Count(Visitor):
        def __init__(self) -> None:
            self.seen = 0
            self.order: list[str] = []

        def visit_Emphasis(self, node: Emphasis) -> None:
            self.seen += 1

        def leave_Text(self, node: Text) -> None:
            self.order.append(node.value)

    counter = Count()
    counter.walk(tree)
    assert counter.seen == DEPTH and counter.order == ["x"]

    class Up(Transformer):
        def leave_Text(self, node: Text) -> Text:
            return Text(value=node.value.upper())

    upper = Up()(tree)
    assert naiprompt.render(upper) == "(" * DEPTH + "X" + ")" * DEPTH
    assert Transformer()(tree) is tree  # nothing changed: the same object


def test_transformer_splices_and_removes_in_source_order() -> None:
    tree = naiprompt.parse("a (b [c] d) e")

    class Unwrap(Transformer):
        def leave_Emphasis(self, node: Emphasis) -> tuple[object, ...]:
            return node.body

    class DropC(Transformer):
        def leave_Text(self, node: Text) -> Text | None:
            return None if node.value == "c" else node

    assert naiprompt.render(Unwrap()(tree)) == "a b c d e"
    assert naiprompt.render(DropC()(tree)) == "a (b [] d) e"


def test_children_and_replace_round_trip() -> None:
    tree = naiprompt.parse("[a:b:3] [c|d|e] (f)")
    for node in tree.body:
        assert node.replace(*node.children()) is node
    schedule = tree.body[0]
    new = schedule.replace((Text(value="x"),), (Text(value="y"),))
    assert naiprompt.render(Prompt(body=[new])) == "[x:y:3]"
    with pytest.raises(ValueError):
        tree.body[2].replace(())  # an alternation keeps its number of options


def test_plugin_nodes_without_the_protocol_are_leaves() -> None:
    # A plugin's own node type (compel's swap, say) need not define children()/replace().
    import attrs

    @attrs.frozen
    class Custom:
        label: str

    tree = Prompt(body=[Text(value="a "), Custom("x"), Emphasis(body=[Text(value="b")], weight=1.1)])

    class Up(Transformer):
        def leave_Text(self, node: Text) -> Text:
            return Text(value=node.value.upper())

    out = Up()(tree)
    assert out.body[1] is tree.body[1] and out.body[2] == Emphasis(body=[Text(value="B")], weight=1.1)
    assert tree == Prompt(body=[Text(value="a "), Custom("x"), Emphasis(body=[Text(value="b")], weight=1.1)])
    assert hash(tree) == hash(Prompt(body=list(tree.body))) and tree != out
    assert "Custom(label='x')" in repr(tree)
    for name in sorted(TRANSFORMS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TRANSFORMS[name]()(tree)
