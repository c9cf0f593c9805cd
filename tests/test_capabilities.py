"""Capabilities on Dialect (issue 9): a third-party dialect gets the core right by declaring attributes.

``Caret`` is a toy plugin written against the public API only: ``word^`` is one emphasis level of 1.2,
``word@1.3`` an explicit weight. It is registered with ``register_dialect`` and declares its factors,
notations, spelling, weight formatting, tokenizer and counting rule as class attributes; ``step``,
``flatten``, ``expand``, ``round_weights``, ``convert`` and ``count_tokens`` follow them with no change
to naiprompt. ``CaretLevels`` is the same UI without explicit weights (like NovelAI V1-V3).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import ClassVar

import pytest

import naiprompt
from naiprompt.ast import Emphasis, Node, Prompt, Text
from naiprompt.dialects import DIALECTS, Dialect, Notation, PluginError, get_dialect, register_dialect
from naiprompt.errors import ConversionError, ErrorLevel, PromptWarning
from naiprompt.tokens import count_tokens, tokenize
from naiprompt.transforms import apply, expand, flatten, round_weights, step
from naiprompt.weight_math import format_number

_WORD = re.compile(r"(?P<word>[^\s,^@]+)(?:(?P<carets>\^+)|@(?P<weight>\d+(?:\.\d+)?))?")


class Caret(Dialect):
    """``word^`` x1.2 per caret, ``word@w`` an explicit weight; nothing else is syntax."""

    name: ClassVar[str] = "caret"
    aliases: ClassVar[tuple[str, ...]] = ("carets", "caret-ui")
    bracket_weight: ClassVar[float] = 1.2
    deemphasis_weight: ClassVar[float | None] = None
    notations: ClassVar[frozenset[Notation]] = frozenset({Notation.NUMERIC_WEIGHT, Notation.NESTED_LEVELS})
    level_spelling: ClassVar[tuple[str | None, str | None]] = ("caret", None)
    weight_spelling: ClassVar[str | None] = "at"
    render_decimals: ClassVar[bool] = True
    tokenizer: ClassVar[str] = "openai"

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        body: list[Node] = []
        at = 0
        for match in _WORD.finditer(text):
            if match.start() > at:
                body.append(Text(value=text[at : match.start()]))
            node: Node = Text(value=match["word"])
            if match["carets"]:
                for _ in match["carets"]:
                    node = Emphasis(body=(node,), weight=self.bracket_weight, notation="caret")
            elif match["weight"]:
                node = Emphasis(body=(node,), weight=float(match["weight"]), notation="at")
            body.append(node)
            at = match.end()
        if at < len(text):
            body.append(Text(value=text[at:]))
        return Prompt(body=tuple(body), dialect=self.name, source=text)

    def render(self, prompt: Prompt, *, errors: ErrorLevel = ErrorLevel.WARN, decimals: int | None = None) -> str:
        return "".join(self._print(node, decimals) for node in prompt.body)

    def _print(self, node: Node, decimals: int | None) -> str:
        if isinstance(node, Text):
            return node.value
        assert isinstance(node, Emphasis)
        inner = "".join(self._print(child, decimals) for child in node.body)
        if node.notation == "caret":
            return inner + "^"
        return f"{inner}@{format_number(node.weight, decimals)}"

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        tree = self.parse(prompt) if isinstance(prompt, str) else prompt
        return list(_runs(tree.body, 1.0))


def _runs(nodes: tuple[Node, ...], weight: float) -> Iterator[tuple[str, float]]:
    for node in nodes:
        if isinstance(node, Text):
            yield node.value, weight
        elif isinstance(node, Emphasis):
            yield from _runs(node.body, weight * node.weight)


class CaretLevels(Caret):
    """The same UI with levels only: no explicit weights, and ``render`` takes no ``decimals``."""

    name: ClassVar[str] = "caret-levels"
    aliases: ClassVar[tuple[str, ...]] = ()
    notations: ClassVar[frozenset[Notation]] = frozenset({Notation.NESTED_LEVELS})
    weight_spelling: ClassVar[str | None] = None
    render_decimals: ClassVar[bool] = False

    def render(self, prompt: Prompt, *, errors: ErrorLevel = ErrorLevel.WARN) -> str:  # type: ignore[override]
        return "".join(self._print(node, None) for node in prompt.body)

    def slips(self, text: str) -> list[str]:
        return [f"{text!r}: '@' is plain text here"] if "@" in text else []


@pytest.fixture(autouse=True)
def _toys() -> Iterator[None]:
    register_dialect(Caret, replace=True)
    register_dialect(CaretLevels, replace=True)
    yield
    DIALECTS.unregister("caret")
    DIALECTS.unregister("caret-levels")


def test_the_toy_reads_and_prints_itself() -> None:
    assert naiprompt.render(naiprompt.parse("a cat^^, hat@1.3", "caret")) == "a cat^^, hat@1.3"
    assert naiprompt.attention("cat^^", "caret") == [("cat", 1.2 * 1.2)]


def test_aliases_are_the_dialects_own() -> None:
    assert get_dialect("Carets").name == "caret"
    from naiprompt.cli._common import canonical_dialect

    assert canonical_dialect("CARET_UI") == "caret"


def test_step_writes_the_dialects_levels_and_weights() -> None:
    # Integer ratios: the dialect's own level (``^``, 1.2), not WebUI's ``(x)``.
    tree = apply("cat", step(2), dialect="caret")
    assert naiprompt.render(tree) == "cat^^"
    assert naiprompt.attention(tree) == [("cat", 1.44)]
    # A ratio: an explicit weight, in the dialect's spelling.
    assert naiprompt.render(apply("cat", step(1.3), dialect="caret")) == "cat@1.3"


def test_step_without_explicit_weights_takes_the_nearest_level() -> None:
    # No NUMERIC_WEIGHT: the nearest power of the dialect's factor, as NovelAI V1-V3 gets it.
    tree = apply("cat", step(1.44), dialect="caret-levels")
    assert naiprompt.render(tree) == "cat^^"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PromptWarning, match="no exact bracket form"):
            apply("cat", step(1.3), dialect="caret-levels")
    with pytest.raises(ConversionError):
        apply("cat", step(1.3, errors="raise"), dialect="caret-levels")


def test_step_without_deemphasis_writes_the_weight_out() -> None:
    # deemphasis_weight None: a negative ratio cannot be brackets; the same weight, written out.
    tree = apply("cat", step(-1), dialect="caret")
    assert naiprompt.render(tree) == "cat@0.8333333333333334"


def test_flatten_and_expand_use_the_dialects_spelling_and_factor() -> None:
    flat = apply("cat^^", flatten(), dialect="caret")
    assert naiprompt.render(flat) == "cat@1.44"
    assert naiprompt.render(apply("cat@1.44, dog@1.3", expand(), dialect="caret")) == "cat^^, dog@1.3"
    # Below 1 there is no de-emphasis level to expand into.
    assert naiprompt.render(apply("cat@0.6944", expand(tolerance=1e-3), dialect="caret")) == "cat@0.6944"


def test_round_weights_keeps_the_dialects_levels() -> None:
    # One ``^`` is a level of 1.2 in this dialect (not a written weight): it stays.
    tree = apply("cat^, dog@1.23456", round_weights(1), dialect="caret")
    assert naiprompt.render(tree) == "cat^, dog@1.2"


def test_convert_passes_decimals_only_where_declared() -> None:
    assert naiprompt.convert("(cat:1.23456)", "webui", "caret", decimals=2) == "cat@1.23"
    # CaretLevels.render takes no decimals: convert must not pass them (no signature is inspected).
    assert naiprompt.convert("cat", "webui", "caret-levels", decimals=2) == "cat"


def test_convert_issues_the_readers_slips() -> None:
    with pytest.warns(PromptWarning, match="plain text here"):
        naiprompt.convert("cat@1.2", "caret-levels", "webui")


def test_count_tokens_uses_the_dialects_tokenizer_and_counting_rule() -> None:
    # Its tokenizer is OpenAI's: "&lt" is one token there, two in WebUI's.
    assert tokenize("&lt", mode="openai") != tokenize("&lt")
    assert count_tokens("&lt", "caret").count == len(tokenize("&lt", mode="openai"))
    assert count_tokens("&lt", "webui").count == len(tokenize("&lt"))
    # count_variants is False: AND is text, the whole line is counted (WebUI splits and shows the max).
    assert count_tokens("a AND b c d e", "caret").count == 6
    assert count_tokens("a AND b c d e", "webui").count == 4


def test_builtins_declare_what_the_core_used_to_hard_code() -> None:
    webui, nai, nai4, comfy = (get_dialect(name) for name in ("webui", "nai", "nai4", "comfy"))
    assert (webui.bracket_weight, webui.deemphasis_weight) == (1.1, 1 / 1.1)
    assert (nai.bracket_weight, nai.deemphasis_weight) == (1.05, 1 / 1.05)
    assert comfy.deemphasis_weight is None
    assert get_dialect("compel").deemphasis_weight == 0.9
    assert Notation.NUMERIC_WEIGHT not in nai.notations and Notation.NUMERIC_WEIGHT in nai4.notations
    assert webui.notations == frozenset(Notation)
    spellings = [d.level_spelling for d in (webui, nai, comfy)]
    assert spellings == [("paren", "bracket"), ("brace", "bracket"), ("paren", None)]
    assert [d.weight_spelling for d in (webui, nai, nai4, comfy)] == ["explicit", None, "numeric", "explicit"]
    assert webui.count_variants and not nai.count_variants and not comfy.count_variants
    assert all(d.render_decimals for d in (webui, nai, nai4, comfy))
    assert nai.default_decimals == 4 and webui.default_decimals is None


def test_a_capability_of_the_wrong_type_fails_at_registration() -> None:
    class Broken(Caret):
        name: ClassVar[str] = "broken"
        notations = frozenset({"numeric weight"})  # type: ignore[assignment]

    with pytest.raises(PluginError, match="notations must be a frozenset of Notation"):
        register_dialect(Broken)

    class Negative(Caret):
        name: ClassVar[str] = "negative"
        deemphasis_weight: ClassVar[float | None] = -0.9

    with pytest.raises(PluginError, match="deemphasis_weight must be a positive finite number"):
        register_dialect(Negative)
