"""The tree kit's weight walk ``ast.weighted`` and compel's nodes in the kit (issue 9).

``weighted`` replaced three walks that each multiplied weights down with their own stack
(``flatten``, NovelAI V4's numeric runs, the ``mixed`` reading's ``attention()``): its
products must be the very floats those walks computed, which ``old_walk`` below restates
(it is the loop all three shared). compel's ``Swap``, ``Blend`` and ``Conjunction`` now
have ``children()``/``replace()``, so ``walk``, ``Visitor`` and ``Transformer`` go into
their parts, and ``lower()`` is a ``Transformer``: its reports must not change.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naiprompt
from naiprompt.ast import Emphasis, Node, Prompt, Schedule, Text, Transformer, Visitor, walk, weighted
from naiprompt.contrib.compel import Blend, Compel, Conjunction, Swap, lower
from naiprompt.dialects._nai_runs import numeric_runs
from naiprompt.dialects.mixed import Mixed
from naiprompt.transforms import apply

COMPEL = Compel()
PLAIN = ["a", "b", "1", " ", ",", "."]
PIECES = {
    "webui": [*"()[]:|<>\\", "(x:1.3)", "(y:0.7)", "(z:-1)", "(n:nan)", "BREAK", " AND ", "<lora:x:1>",
              "[a:b:2]", "[a|b]", ":1.2)", ":0.9)"],
    "nai": [*"{}[]():\\", "{{", "[["],
    "nai4": [*"{}[]:-", "::", "1.5::", "-1::", "0.7::", "2::", ", "],
    "comfy": [*"()[]:\\<>", ":1.2)", ":0)", ":0.35)", "embedding:x"],
    "mixed": [*"(){}[]:|<>\\", "1.5::", "::", "AND", "BREAK", ":1.2)", "[a:b:3]"],
    "compel": [*"()+-\"", "++", "--", ")1.3", ")0.7", ".swap(dog)", '("p", "q").and()',
               '("p+", "q").blend(0.3, 0.7)', "withLora(x, 0.5)"],
}


def old_walk(nodes: Sequence[Node], weight: float = 1.0) -> list[tuple[Node, float]]:
    """The walk the three weight walks each had: a stack of (node, weight), emphasis entered."""
    out: list[tuple[Node, float]] = []
    work = [(node, weight) for node in reversed(nodes)]
    while work:
        node, current = work.pop()
        if isinstance(node, Emphasis):
            product = current * node.weight
            work.extend((child, product) for child in reversed(node.body))
        else:
            out.append((node, current))
    return out


def bits(pairs: Sequence[tuple[Node, float]]) -> list[tuple[int, bytes]]:
    """Each node by identity and its weight as IEEE 754 bytes (NaN equals NaN, -0.0 is not 0.0)."""
    return [(id(node), struct.pack("<d", weight)) for node, weight in pairs]


def parsed(dialect: str, text: str) -> Prompt:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return naiprompt.parse(text, COMPEL if dialect == "compel" else dialect)


@pytest.mark.parametrize("dialect", sorted(PIECES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_weighted_gives_the_old_walks_products_bit_for_bit(dialect: str, data: st.DataObject) -> None:
    text = data.draw(st.lists(st.sampled_from(PIECES[dialect] + PLAIN), max_size=20).map("".join))
    start = data.draw(st.sampled_from([1.0, 0.5, 1.1, -1.0, 3.0000000000000004]))
    body = parsed(dialect, text).body
    assert bits(list(weighted(body, start))) == bits(old_walk(body, start)), text
    # Also from any branch of a schedule or alternation, as flatten walks them.
    for node in walk(Prompt(body=body)):
        for branch in node.children():
            assert bits(list(weighted(branch))) == bits(old_walk(branch)), text


def reference_walk(tree: Prompt) -> list[int]:
    """Pre-order through ``children()``, asked of every node (walk skips asking the core leaves)."""
    out: list[int] = []
    work = list(reversed([child for seq in tree.children() for child in seq]))
    while work:
        node = work.pop()
        out.append(id(node))
        work.extend(reversed([child for seq in node.children() for child in seq]))
    return out


@pytest.mark.parametrize("dialect", sorted(PIECES))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_walk_is_the_pre_order_of_children(dialect: str, data: st.DataObject) -> None:
    text = data.draw(st.lists(st.sampled_from(PIECES[dialect] + PLAIN), max_size=20).map("".join))
    tree = parsed(dialect, text)
    assert [id(node) for node in walk(tree)] == reference_walk(tree)


def test_walk_asks_a_subclass_of_a_core_node_for_its_children() -> None:
    class Tagged(Text):
        def children(self) -> tuple[tuple[Node, ...], ...]:
            return ((Text(value="inside"),),)

    class Wide(Emphasis):
        def children(self) -> tuple[tuple[Node, ...], ...]:
            return (self.body, (Text(value="extra"),))

    tree = Prompt(body=[Tagged(value="a"), Wide(body=[Text(value="b")], weight=1.0)])
    assert [getattr(node, "value", None) for node in walk(tree)] == ["a", "inside", None, "b", "extra"]


@pytest.mark.parametrize("dialect", sorted(PIECES))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_weighted_yields_in_source_order_and_never_an_emphasis(dialect: str, data: st.DataObject) -> None:
    text = data.draw(st.lists(st.sampled_from(PIECES[dialect] + PLAIN), max_size=20).map("".join))
    tree = parsed(dialect, text)
    nodes = [node for node, _ in weighted(tree.body)]
    assert not any(isinstance(node, Emphasis) for node in nodes)
    # The pre-order walk, less emphasis and less what lies inside the nodes yielded.
    inside = {id(child) for node in nodes for child in walk(node)}
    expected = [node for node in walk(tree) if not isinstance(node, Emphasis) and id(node) not in inside]
    assert [id(node) for node in nodes] == [id(node) for node in expected]


def test_weighted_multiplies_outer_to_inner_and_does_not_enter_other_nodes() -> None:
    schedule = Schedule(before=[Emphasis(body=[Text(value="b")], weight=2.0)], after=[Text(value="c")],
                        when=3, fractional=False)
    tree = [Emphasis(body=[Text(value="a"), Emphasis(body=[schedule, Text(value="d")], weight=1.1)], weight=1.1)]
    assert [(type(node).__name__, weight) for node, weight in weighted(tree, 0.1)] == [
        ("Text", 0.1 * 1.1),
        ("Schedule", 0.1 * 1.1 * 1.1),
        ("Text", 0.1 * 1.1 * 1.1),
    ]
    assert list(weighted([])) == []
    assert list(weighted([Emphasis(body=[], weight=2.0)])) == []


def chain(depth: int, leaf: Node, weight: float) -> Emphasis:
    node: Node = leaf
    for _ in range(depth):
        node = Emphasis(body=[node], weight=weight)
    assert isinstance(node, Emphasis)
    return node


def test_weighted_and_its_users_take_any_depth() -> None:
    depth = 100_000
    leaf = Text(value="a")
    tree = chain(depth, leaf, 1.0000001)
    ((node, weight),) = weighted([tree])
    assert node is leaf and bits([(node, weight)]) == bits(old_walk([tree]))
    flat = apply(Prompt(body=[tree]), "flatten").body
    assert [type(node).__name__ for node in flat] == ["Emphasis"]
    deep = chain(depth, Text(value="a, b"), 0.999)  # every nested level inexact: one run of text
    (run,) = numeric_runs([deep])
    assert isinstance(run, Emphasis) and run.body == (Text(value="a, b"),)
    assert bits([(run, run.weight)]) == bits([(run, old_walk([deep])[0][1])])
    assert Mixed().attention(Prompt(body=[tree]))[0][0] == "a"


def test_numeric_runs_still_splits_an_inexact_nested_level() -> None:
    assert naiprompt.convert("((a:-1), b)", "webui", "nai4") == "-1.1::a::, 1.1::b::"
    assert naiprompt.convert("(a, (b:0.8):1.2)", "webui", "nai4") == "1.2::a::, 0.96::b::"
    # A level brackets reach exactly is looked into, not split.
    assert naiprompt.convert("(a, {b}:1.2)", "nai", "nai4") == naiprompt.convert("(a, {b}:1.2)", "nai", "nai4")


def test_mixed_reports_an_ambiguous_bracket_inside_prompt_editing_too() -> None:
    # The old scan went into emphasis only and missed the [b] in the schedule's branch.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = naiprompt.parse("[a:[b]:3] [[c]|d]", "mixed")
    codes = [(w.code, w.offset) for w in tree.warnings]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        naiprompt.parse("[a:[b]:3] [[c]|d]", "mixed")
    assert codes == []  # ambiguous brackets are Python warnings, not tree warnings
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and messages[0].startswith("1:4: '[b]'") and messages[1].startswith("1:12: '[c]'")


# --------------------------------------------------------------------------------------------
# compel's nodes in the tree kit


def swap(a: str, b: str) -> Swap:
    return Swap(original=[Text(value=a)], replacement=[Text(value=b)])


def compel_tree() -> Prompt:
    """A swap, a conjunction and a blend in one tree (compel reads ``.and()``/``.blend()`` only as a whole prompt)."""
    texts = ["a cat.swap(dog)", '("p+", "q").and()', '("r", "s").blend(0.3, 0.7)']
    return Prompt(body=[node for text in texts for node in COMPEL.parse(text).body], dialect="compel")


def test_compel_nodes_walk_into_their_parts() -> None:
    tree = compel_tree()
    assert [type(node).__name__ for node in walk(tree)] == [
        "Text", "Swap", "Text", "Text", "Conjunction", "Emphasis", "Text", "Text", "Blend", "Text", "Text",
    ]
    assert [node.value for node in walk(tree) if isinstance(node, Text)] == ["a ", "cat", "dog", "p", "q", "r", "s"]

    class Seen(Visitor):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def visit_Text(self, node: Text) -> None:
            self.seen.append(node.value)

        def leave_Blend(self, node: Blend) -> None:
            self.seen.append("blend")

        def visit_Swap(self, node: Swap) -> bool:
            return False  # the swap's parts are skipped

    seen = Seen()
    seen.walk(tree)
    assert seen.seen == ["a ", "p", "q", "r", "s", "blend"]


def test_a_transformer_rewrites_inside_compel_nodes_and_keeps_what_it_does_not_change() -> None:
    tree = compel_tree()

    class Shout(Transformer):
        def leave_Text(self, node: Text) -> Text:
            return Text(value=node.value.upper())

    assert Transformer()(tree) is tree
    loud = Shout()(tree)
    assert [node.value for node in walk(loud) if isinstance(node, Text)] == ["A ", "CAT", "DOG", "P", "Q", "R", "S"]
    swap_node, conjunction, blend = loud.body[1:]
    assert isinstance(swap_node, Swap) and isinstance(conjunction, Conjunction) and isinstance(blend, Blend)
    assert blend.weights == (0.3, 0.7) and conjunction.operator == "and"
    assert conjunction.parts[0][0].weight == 1.1


def test_compel_replace_keeps_identity_and_checks_the_number_of_parts() -> None:
    node = Blend(parts=[[Text(value="a")], [Text(value="b")]], weights=[1, 2], normalize=False)
    assert node.replace(*node.children()) is node
    assert node.replace([Text(value="c")], node.parts[1]) == Blend(
        parts=[[Text(value="c")], [Text(value="b")]], weights=[1, 2], normalize=False
    )
    with pytest.raises(ValueError, match="2 parts, got 1"):
        node.replace([Text(value="c")])
    conjunction = Conjunction(parts=[[Text(value="a")]], weights=[1])
    assert conjunction.replace(list(conjunction.parts[0])) is conjunction
    s = swap("a", "b")
    assert s.replace(*s.children()) is s
    assert s.replace(s.original, [Text(value="c")]).options == s.options


def test_compel_nodes_differing_in_a_setting_are_not_equal() -> None:
    # Swap.options shares its name with Alternate's child field; it is compared as a value.
    a, b = COMPEL.parse("x cat.swap(dog, t_end=0.6)"), COMPEL.parse("x cat.swap(dog, t_end=0.9)")
    assert a != b and hash(a) != hash(COMPEL.parse("x cat.swap(dog)"))
    again = COMPEL.parse("x cat.swap(dog, t_end=0.6)")
    assert a == again and hash(a) == hash(again)


# What lower() reported and made before it was a Transformer (the old isinstance walk).
SHARED = swap("s", "t")
SWAP_LOSS = "WebUI has no .swap(); written as prompt editing"
BLEND_LOSS = ".blend() has no equivalent; keeping its heaviest part"
AND_LOSS = "the weights of .and() are lost"
LOWER_CASES = {
    "dropped swap": (
        [Blend(parts=[[swap("a", "b")], [Text(value="c")]], weights=[0.2, 0.8])],
        [BLEND_LOSS],
        "c",
    ),
    "kept swap": (
        [Blend(parts=[[swap("a", "b")], [Text(value="c")]], weights=[0.8, 0.2])],
        [BLEND_LOSS, SWAP_LOSS],
        "[a:b:0.2]",
    ),
    "nested blends": (
        [
            Blend(
                parts=[
                    [
                        Text(value="x "),
                        Blend(
                            parts=[[swap("a", "b")], [Conjunction(parts=[[Text(value="p")], [Text(value="q")]],
                                                                  weights=[2, 1])]],
                            weights=[1, 3],
                        ),
                    ],
                    [swap("d", "e")],
                ],
                weights=[5, 1],
            )
        ],
        [BLEND_LOSS, BLEND_LOSS, AND_LOSS],
        "x p BREAK q",
    ),
    "a node shared by a dropped part": (
        [Blend(parts=[[SHARED, Text(value="u")], [SHARED]], weights=[0.1, 0.9])],
        [BLEND_LOSS, SWAP_LOSS],
        "[s:t:0.2]",
    ),
    "a node shared by the kept part": (
        [Blend(parts=[[SHARED], [SHARED, Text(value="u")]], weights=[0.9, 0.1])],
        [BLEND_LOSS, SWAP_LOSS],
        "[s:t:0.2]",
    ),
    "swaps in a swap": (
        [
            Emphasis(
                body=[
                    Swap(
                        original=[swap("a", "b")],
                        replacement=[Conjunction(parts=[[Text(value="p")], [Text(value="q")]], weights=[1, 0.5])],
                    )
                ],
                weight=1.2,
            )
        ],
        [SWAP_LOSS, SWAP_LOSS, AND_LOSS],
        "([[a:b:0.2]:p BREAK q:0.2]:1.2)",
    ),
    "an empty blend": ([Text(value="a "), Blend(parts=[], weights=[]), Text(value="b")], [BLEND_LOSS], "a b"),
}


@pytest.mark.parametrize("name", sorted(LOWER_CASES))
def test_lower_reports_the_same_losses_in_the_same_order(name: str) -> None:
    body, losses, webui = LOWER_CASES[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lowered = lower(Prompt(body=body, dialect="compel"))
    assert [str(w.message) for w in caught] == losses
    assert naiprompt.render(lowered, "webui") == webui


def test_lower_keeps_the_source_and_takes_any_depth() -> None:
    tree = COMPEL.parse('("a", "b").and(1, 2)')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert lower(tree).source == tree.source
    node: Node | Swap = Text(value="x")
    for _ in range(10_000):
        node = Swap(original=[node], replacement=[Text(value="y")])
    lowered = lower(Prompt(body=[node], dialect="compel"), errors="ignore")
    depth, top = 0, lowered.body[0]
    while isinstance(top, Schedule):
        depth, top = depth + 1, top.before[0] if top.before else top
    assert depth == 10_000 and top == Text(value="x")
