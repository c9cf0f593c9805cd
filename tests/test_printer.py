"""The public printer base (`naiprompt.Printer`): a third-party printer, the hooks, the one loss path.

`Canonical` below is what a plugin author would write: a WebUI printer in its
canonical spelling, built on nothing but the public `Printer` and the AST. It
prints every node kind, so a prompt with every construct parses back to the
same tree, weighs the same, and (once canonical) prints byte for byte as
naiprompt's own WebUI printer does.
"""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naiprompt
from naiprompt import ConversionError, ErrorLevel, Printer, PromptWarning
from naiprompt.ast import (
    Alternate,
    And,
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Schedule,
    SubpromptWeight,
    Text,
)
from naiprompt.printer import Event, events


def _number(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


class Canonical(Printer):
    """WebUI syntax, canonically spelled: one hook per node kind."""

    dialect = "canonical"
    label = "Canonical"

    def print_Text(self, node: Text) -> str:
        return re.sub(r"([\\()\[\]])", r"\\\1", node.value)

    def open_Emphasis(self, node: Emphasis) -> str:
        return "[" if node.weight == 1 / 1.1 else "("

    def close_Emphasis(self, node: Emphasis) -> str:
        if node.weight == 1 / 1.1:
            return "]"
        return ")" if node.weight == 1.1 else f":{_number(node.weight)})"

    def open_Schedule(self, node: Schedule) -> str:
        return "["

    def sep_Schedule(self, node: Schedule) -> str:
        return ":"

    def close_Schedule(self, node: Schedule) -> str:
        return f":{node.when if node.fractional else _number(node.when)}]"

    def open_Alternate(self, node: Alternate) -> str:
        return "["

    def sep_Alternate(self, node: Alternate) -> str:
        return "|"

    def close_Alternate(self, node: Alternate) -> str:
        return "]"

    def print_Break(self, node: Break) -> str:
        return " BREAK "

    def print_And(self, node: And) -> str:
        # "AND" is a keyword only between word boundaries.
        return "AND" if not self.out or self.out[-1][-1:].isspace() else " AND"

    def print_SubpromptWeight(self, node: SubpromptWeight) -> str:
        return ":" + _number(node.weight)

    def print_Network(self, node: Network) -> str:
        return f"<{node.name}:{':'.join(node.args)}>"


#: Every construct, each already in the canonical spelling the printer writes.
EVERY_CONSTRUCT = [
    "a cat",
    "(a cat)",
    "((a cat))",
    "[a cat]",
    "(a cat:1.2)",
    "(a (b:1.2) [c]) \\(d\\)",
    "[cat:dog:0.5]",
    "[cat:dog:10]",
    "[dog:5]",
    "[cat::0.3]",
    "[cat|dog|(bird:1.3)]",
    "a BREAK b",
    "a AND b :0.5",
    "a:1.2 AND b",
    "a, <lora:ink:0.8>, b",
    "([a:(b:1.4):3] BREAK [x|y]:0.7)",
    "ganyu \\(genshin impact\\), \\[x\\]",
]


@pytest.mark.parametrize("text", EVERY_CONSTRUCT)
def test_a_third_party_printer_prints_every_node_kind(text: str) -> None:
    tree = naiprompt.parse(text, strict=True)
    printed = Canonical(errors="raise").print(tree)
    assert printed == text
    assert printed == naiprompt.render(tree)  # the built-in WebUI printer agrees byte for byte
    assert naiprompt.parse(printed) == tree


def test_every_node_kind_is_covered() -> None:
    kinds = {type(node) for text in EVERY_CONSTRUCT for node in naiprompt.ast.walk(naiprompt.parse(text))}
    assert kinds == {Text, Emphasis, Schedule, Alternate, Break, And, SubpromptWeight, Network}
    for kind in kinds:  # and the printer has a hook for each
        assert hasattr(Canonical, f"print_{kind.__name__}") or hasattr(Canonical, f"open_{kind.__name__}")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(EVERY_CONSTRUCT[:12] + EVERY_CONSTRUCT[14:]), min_size=1, max_size=6))
def test_a_third_party_printer_round_trips_combined_prompts(pieces: list[str]) -> None:
    """Any mix of the constructs: parse -> print -> parse gives the same tree and the same weights."""
    text = ", ".join(pieces)
    tree = naiprompt.parse(text)
    printed = Canonical(errors="raise").print(tree)
    assert naiprompt.parse(printed) == tree
    assert naiprompt.attention(printed) == naiprompt.attention(text)


def test_a_converted_tree_prints_through_the_same_hooks() -> None:
    tree = naiprompt.parse("{{a}}, [b], 1.3::c::", "nai4")
    assert Canonical().print(tree) == "((a:1.05):1.05), (b:0.9523809523809523), (c:1.3)"
    assert naiprompt.attention(Canonical().print(tree)) == naiprompt.attention(tree)


def test_deep_trees_print_without_recursion() -> None:
    depth = 20_000
    tree = naiprompt.parse("(" * depth + "a" + ")" * depth)
    assert Canonical().print(tree) == "(" * depth + "a" + ")" * depth
    tree = naiprompt.parse("[a|" * 3000 + "b" + "]" * 3000)
    assert Canonical().print(tree).count("|") == 3000


# ---- the one loss path -----------------------------------------------------------------------


class WordsOnly(Printer):
    """Text only: everything else goes through the default hooks."""

    label = "WordsOnly"

    def print_Text(self, node: Text) -> str:
        return node.value


def test_unsupported_raises_under_raise() -> None:
    text = "a, [b:c:2]"
    with pytest.raises(ConversionError) as caught:
        WordsOnly(errors=ErrorLevel.RAISE).print(naiprompt.parse(text))
    assert caught.value.construct == "prompt editing"
    assert caught.value.position == 3  # where the schedule starts in the source
    assert "line 1, column 4" in str(caught.value)
    assert "WordsOnly has no prompt editing" in str(caught.value)


def test_unsupported_warns_under_warn_and_points_at_the_caller() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = WordsOnly(errors="warn").print(naiprompt.parse("a BREAK b, <lora:x:1>"))
    assert printed == "ab"  # the seams the dropped nodes leave are closed
    assert [w.category for w in caught] == [PromptWarning, PromptWarning]
    messages = [str(w.message) for w in caught]
    assert "WordsOnly cannot print Break; it is dropped" in messages[0]
    assert "WordsOnly cannot print Network; it is dropped" in messages[1]
    assert all(w.filename == __file__ for w in caught)  # the caller's line, not the library's


def test_unsupported_is_silent_under_ignore_and_records_the_losses() -> None:
    printer = WordsOnly(errors="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        printed = printer.print(naiprompt.parse("(a:1.2) AND [b|c]"))
    assert printed == "a b"
    assert printer.losses == [
        "WordsOnly cannot print Emphasis; the text is kept unweighted",
        "WordsOnly cannot print And; it is dropped",
        "WordsOnly has no alternation; keeping the first option",
    ]


@pytest.mark.parametrize("level", list(ErrorLevel))
def test_builtin_printers_share_the_error_levels(level: ErrorLevel) -> None:
    """Every built-in printer (and the plugins') reports through the same path."""
    for dialect in ("nai", "nai4", "comfy", "compel"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if level is ErrorLevel.RAISE:
                with pytest.raises(ConversionError):
                    naiprompt.convert("a AND b", "webui", dialect, errors=level)
                continue
            naiprompt.convert("a AND b", "webui", dialect, errors=level)
        assert len(caught) == (1 if level is ErrorLevel.WARN else 0), dialect
        if caught:
            assert caught[0].filename == __file__, dialect


def test_parts_inside_a_dropped_part_are_not_reported_again() -> None:
    printer = WordsOnly(errors="ignore")
    assert printer.print(naiprompt.parse("[a|[b|c]] [[d|e]|f]")) == "a d"
    assert printer.losses == ["WordsOnly has no alternation; keeping the first option"] * 3


def test_a_schedule_keeps_its_before_branch_or_its_only_one() -> None:
    printer = WordsOnly(errors="ignore")
    assert printer.print(naiprompt.parse("[a:b:2], [:c:2], [d:2]")) == "a, c, d"


def test_plugin_nodes_go_through_the_hooks_too() -> None:
    """A node class of a plugin's own: its hook by name, or the loss path; its parts are events."""
    import attrs

    from naiprompt.ast import _Node

    @attrs.frozen(kw_only=True, eq=False, repr=False)
    class Shout(_Node):
        body: tuple[Node, ...]

        def children(self) -> tuple[tuple[Node, ...], ...]:
            return (self.body,)

    tree = Prompt(body=[Text(value="a "), Shout(body=[Text(value="b")])])  # type: ignore[list-item]
    assert [e.kind for e in events(tree.body)] == ["text", "gopen", "text", "gclose"]

    class Loud(WordsOnly):
        def open_Shout(self, node: Shout) -> str:
            return "<"

        def close_Shout(self, node: Shout) -> str:
            return ">"

    assert Loud().print(tree) == "a <b>"
    quiet = WordsOnly(errors="ignore")
    assert quiet.print(tree) == "a b"
    assert quiet.losses == ["WordsOnly cannot print Shout; keeping its first part"]


def test_hooks_follow_the_node_class_bases() -> None:
    class Lora(Network):
        pass

    class Networks(WordsOnly):
        def print_Network(self, node: Network) -> str:
            return f"<{node.name}>"

    assert Networks().print(Prompt(body=[Lora(name="lora", args=("x",))])) == "<lora>"


def test_write_returns_what_it_appended() -> None:
    printer = WordsOnly()
    assert printer.write(Event("text", Text(value="a"))) == "a"
    assert printer.out == ["a"]
