"""Lenient and strict agree: ``parse(s, d).warnings`` is empty iff ``parse(s, d, strict=True)`` succeeds.

Each disagreement class found on syntax-heavy random strings was decided by what the
UI itself does: text the UI reads as plain text is valid syntax (strict accepts it);
text the UI reads but the user likely did not mean (an unclosed bracket, a closer
that cuts across another bracket) is a warning leniently and an error in strict mode.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naiprompt
from naiprompt.errors import PromptSyntaxError

# Each dialect's special characters and lexemes, with letters, digits and spaces between them.
PLAIN = ["a", "b", "1", " ", ",", "."]
PIECES = {
    "webui": [*"()[]:|<>\\", "\\|", "\\(", ":1.2)", ":0.5", "AND", " AND ", "BREAK", "<lora:x:1>", "[a:b:2]"],
    "nai": [*"{}[]():\\"],
    "nai4": [*"{}[]:-", "::", "1.5::", "-1::", ", "],
    "comfy": [*"()[]:\\<>", "\\(", ":1.2", "embedding:x"],
    "mixed": [*"(){}[]:|<>\\", "1.5::", "::", "AND", "BREAK", ":1.2)"],
}


def agree(text: str, dialect: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mixed also issues Python warnings; the property is about .warnings
        lenient = naiprompt.parse(text, dialect)
        try:
            naiprompt.parse(text, dialect, strict=True)
        except PromptSyntaxError as exc:
            assert lenient.warnings, f"strict rejects {text!r} ({exc}) but the lenient reader is silent"
        else:
            assert not lenient.warnings, f"strict accepts {text!r} but the lenient reader warns {lenient.warnings}"


def syntax_heavy(dialect: str) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PIECES[dialect] + PLAIN), max_size=16).map("".join)


@pytest.mark.parametrize("dialect", sorted(PIECES))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_lenient_warns_exactly_when_strict_rejects(dialect: str, data: st.DataObject) -> None:
    agree(data.draw(syntax_heavy(dialect)), dialect)


# One or more cases per disagreement class found (and fixed), with the verdict: valid or not.
REGRESSIONS = [
    # WebUI reads "|" outside an alternation as text; where no "[" is in the subprompt its
    # prompt-editing fallback loses nothing: valid.
    ("webui", "11|", True),
    ("webui", "16:9 | 4:3 AND [a:b:2]", True),
    # An escaped pipe is text to WebUI's prompt-editing parser too: valid beside a real "[".
    ("webui", "a\\|b [c]", True),
    # With a "[" in the subprompt, a stray "|" disables prompt editing: a warning.
    ("webui", "[a:b:2] |", False),
    # One colon in round brackets is text (WebUI's prompt-editing grammar takes "(x:y)"):
    # valid. More, or one before a weight, that grammar rejects inside a prompt edit: a warning.
    ("webui", "(a:b)", True),
    ("webui", "(a:b:c)", False),
    ("webui", "(style:watercolor:1.2)", False),
    ("webui", "[|(::)]", False),
    # A colon directly inside "[...]" that is no prompt edit ("[a:b]" lacks its step): a warning.
    ("webui", "[a:b]", False),
    ("webui", "([a:])", False),
    # Unclosed brackets: WebUI runs them to the end, but the user likely meant to close them.
    ("webui", "[.>", False),
    ("webui", "(a", False),
    ("webui", "[a AND b]", False),  # AND ends the subprompt: the "[" never closes
    ("webui", "(a:0.5", False),  # ":0.5" is the subprompt's weight: the "(" never closes
    # WebUI cuts extra networks out before reading prompt edits: the backslash then escapes
    # the "[" after the network for prompt editing only. No tree holds both readings: a
    # warning (this crashed the lenient reader before).
    ("webui", "[\\<lora:x:1>[a:5]]", False),
    ("webui", "\\<lora:x:1>|[a|b]", True),  # the same escape makes that "|" text: valid
    # A closer that cuts across another open bracket.
    ("webui", "(a[b)c]", False),
    ("nai", "{a[b}c]", False),
    ("nai", "[a", False),
    ("nai4", "{a", False),
    ("nai4", "1girl, -1::school", False),  # an unclosed w:: (runs to the end in NovelAI)
    ("nai4", "1::a, 2::b", False),  # a second w:: replaces an open one
    ("nai4", "1::a {b", False),
    ("nai4", "1.5::a::", True),
    # "w::" inside a tag is read as the text w and a closer: most likely a misplaced opener.
    ("nai4", "-1::11.5::", False),
    ("nai4", "{a}1.5::b::", False),
    ("nai4", "-1::a 1.5::", True),  # here "a 1.5" is one text run and "::" closes
    # The grammar opens "w::" only outside brackets.
    ("nai4", "{a, 1.5::b::}", False),
    # ComfyUI: an unclosed "(" is text; a stray ")" makes every later "(" text.
    ("comfy", "(a", False),
    ("comfy", "a) (b:1.2)", False),
    ("comfy", "(a:1.2) [b]", True),
    ("mixed", "{a", False),
    ("mixed", "{a} (b:1.2) [c]", True),
]


@pytest.mark.parametrize(("dialect", "text", "valid"), REGRESSIONS)
def test_disagreement_classes(dialect: str, text: str, valid: bool) -> None:
    agree(text, dialect)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (not naiprompt.parse(text, dialect).warnings) is valid
