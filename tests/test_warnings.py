"""One error model: ``PromptWarning`` objects on ``Prompt.warnings``, codes, collapsing, caller lines.

The codes table of docs/errors.md is read here, so a code the readers give but the
page does not list (or the other way round) fails a test.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import pickle
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naiprompt
from naiprompt.errors import (
    ConversionError,
    MetadataError,
    PluginError,
    PromptError,
    PromptSyntaxError,
    PromptWarning,
    collect,
    warn,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def _documented_codes() -> tuple[set[str], set[str]]:
    """The codes of the two tables of docs/errors.md: reader warnings, Python-only warnings."""
    text = DOCS.read_text(encoding="utf-8")
    codes = text.split("## Codes", 1)[1].split("## In a plugin", 1)[0]
    reader, python = codes.split("Warnings emitted only as Python warnings", 1)
    row = re.compile(r"^\| `([a-z0-9-]+)` \|", re.MULTILINE)
    return set(row.findall(reader)), set(row.findall(python))


READER_CODES, PYTHON_CODES = _documented_codes()

# ---- the object ----------------------------------------------------------------------------


def test_fields_str_and_repr() -> None:
    note = PromptWarning.at("a,\n(b", 3, "unclosed-bracket", "unclosed bracket")
    assert (note.code, note.message, note.offset, note.line, note.column, note.count) == (
        "unclosed-bracket", "unclosed bracket", 3, 2, 1, 1,
    )  # fmt: skip
    assert str(note) == "2:1: unclosed bracket"
    assert repr(note) == "PromptWarning('unclosed bracket', code='unclosed-bracket', offset=3, line=2, column=1)"
    assert eval(repr(note), {"PromptWarning": PromptWarning}) == note
    many = PromptWarning("x", "unmatched-closer", offset=0, line=1, column=1, count=3)
    assert str(many) == "1:1: x (3 times)"
    nowhere = PromptWarning("NovelAI has no BREAK", "lossy-conversion")
    assert str(nowhere) == "NovelAI has no BREAK"
    assert (nowhere.offset, nowhere.line, nowhere.column) == (None, None, None)


def test_value_equality_and_hash() -> None:
    a = PromptWarning.at("(a", 0, "unclosed-bracket", "unclosed bracket")
    b = PromptWarning.at("(a", 0, "unclosed-bracket", "unclosed bracket")
    assert a == b and hash(a) == hash(b) and a is not b
    assert len({a, b}) == 1
    assert a != PromptWarning.at("(a", 0, "unclosed-bracket", "unclosed '('")
    assert a != PromptWarning.at(" (a", 1, "unclosed-bracket", "unclosed bracket")
    assert a != PromptWarning("unclosed bracket", "unclosed-bracket", offset=0, line=1, column=1, count=2)
    assert a != "1:1: unclosed bracket"


def test_pickles_and_copies() -> None:
    # Batch and Dask ship trees between processes: their warnings must survive it.
    tree = naiprompt.parse("(a) b)\n[c", "webui")
    assert tree.warnings
    for note in tree.warnings:
        for clone in (pickle.loads(pickle.dumps(note)), copy.deepcopy(note)):
            assert clone == note and type(clone) is PromptWarning
    assert pickle.loads(pickle.dumps(tree)).warnings == tree.warnings


def test_one_class_for_objects_and_python_warnings() -> None:
    assert issubclass(PromptWarning, UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("a message alone", PromptWarning, stacklevel=1)
    (record,) = caught
    assert isinstance(record.message, PromptWarning)
    assert (record.message.code, record.message.message) == ("prompt-warning", "a message alone")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)
        with pytest.raises(PromptWarning) as info:
            naiprompt.parse("(a", errors="warn")
    assert info.value == naiprompt.parse("(a").warnings[0]


# ---- the error classes ---------------------------------------------------------------------


def test_one_error_base() -> None:
    for error, other in [
        (PromptSyntaxError, ValueError),
        (ConversionError, ValueError),
        (PluginError, LookupError),
        (MetadataError, ValueError),
    ]:
        assert issubclass(error, PromptError) and issubclass(error, other)


def test_plugin_error_is_public_and_still_at_its_old_homes() -> None:
    import naiprompt._plugins
    import naiprompt.dialects
    import naiprompt.transforms

    assert naiprompt.PluginError is PluginError
    assert naiprompt._plugins.PluginError is PluginError
    assert naiprompt.dialects.PluginError is PluginError
    assert naiprompt.transforms.PluginError is PluginError
    with pytest.raises(PromptError, match="did you mean 'webui'"):
        naiprompt.get_dialect("webiu")


# ---- the readers ---------------------------------------------------------------------------

#: (dialect, text, [(code, offset)]): every reader code of the docs table, where it points.
READER_CASES = [
    ("webui", "(a", [("unclosed-bracket", 0)]),
    ("webui", "a)", [("unmatched-closer", 1)]),
    ("webui", "(a [b) c]", [("crossed-brackets", 5)]),
    ("webui", "(a:1.2.3)", [("malformed-weight", 3)]),
    ("webui", "(a:b:1.2)", [("weight-after-colon", 4)]),
    ("webui", "(a:b:c)", [("second-colon", 4)]),
    ("webui", "[a:b]", [("colon-in-brackets", 2)]),
    ("webui", "[a|b:1]", [("editing-disabled", 0)]),
    ("webui", "[\\<lora:x:1>[a:5]", [("escape-across-network", 0), ("unclosed-bracket", 0)]),
    ("webui", "[((]", [("unclosed-bracket", 1), ("unclosed-bracket", 2), ("crossed-brackets", 3)]),
    ("nai", "{a", [("unclosed-bracket", 0)]),
    ("nai", "a}", [("unmatched-closer", 1)]),
    ("nai", "{a [b} c]", [("crossed-brackets", 5)]),
    ("nai4", "a::", [("unmatched-closer", 1)]),
    ("nai4", "{1.5::a::}", [("weight-inside-tag", 1), ("unmatched-closer", 4), ("unmatched-closer", 7)]),
    ("nai4", "[, 2::a::]", [("weight-in-brackets", 2)]),
    ("nai4", "1.5::a, 2::b", [("nested-weight", 7), ("unclosed-bracket", 8)]),
    ("mixed", "{a} (b", [("unclosed-bracket", 4)]),
    ("comfy", "a)", [("unmatched-closer", 1)]),
    ("comfy", "(a", [("unclosed-bracket", 0)]),
    ("compel", "a (b", [("literal-syntax", 2)]),
    ("compel", '("a", "b").blend(1)', [("compel-rejects", 0), ("literal-syntax", 16), ("literal-syntax", 18)]),
    ("compel", '("a", "b").and() c', [("ignored-text", 17)]),
]


@pytest.mark.parametrize(("dialect", "text", "expected"), READER_CASES)
def test_reader_codes_and_offsets(dialect: str, text: str, expected: list[tuple[str, int]]) -> None:
    tree = naiprompt.parse(text, dialect)
    assert [(note.code, note.offset) for note in tree.warnings] == expected
    assert all(isinstance(note, PromptWarning) and note.line == 1 for note in tree.warnings)
    assert all(note.column == note.offset + 1 for note in tree.warnings if note.offset is not None)


def test_every_documented_reader_code_has_a_case() -> None:
    assert {code for _, _, expected in READER_CASES for code, _ in expected} == READER_CODES


def test_offsets_lines_and_columns_in_the_original_text() -> None:
    text = "masterpiece,\n\n  (red eyes:1.2.3),\n smile) [b"
    notes = naiprompt.parse(text, "webui").warnings
    assert [(n.code, text[n.offset], n.line, n.column) for n in notes if n.offset is not None] == [
        ("malformed-weight", "1", 3, 13),
        ("unmatched-closer", ")", 4, 7),
        ("unclosed-bracket", "[", 4, 9),
    ]
    # compel reads a prepared text: its warnings still point into the original.
    text = 'a,\n  b (c\n"d'
    notes = naiprompt.parse(text, "compel").warnings
    assert [(text[n.offset], n.line, n.column) for n in notes if n.offset is not None] == [("(", 2, 5), ('"', 3, 1)]


def test_strict_error_carries_the_code() -> None:
    with pytest.raises(PromptSyntaxError) as info:
        naiprompt.parse("a,\n(b", strict=True)
    assert (info.value.code, info.value.line, info.value.column) == ("unclosed-bracket", 2, 1)
    with pytest.raises(PromptSyntaxError) as info:
        naiprompt.parse("(a:1.2.3)", strict=True)
    assert info.value.code == "malformed-weight"
    with pytest.raises(PromptSyntaxError) as info:
        naiprompt.parse("a (b", "compel", strict=True)
    assert info.value.code == "literal-syntax"


SYNTAX = {
    "webui": [*"()[]:|<>\\", "\n", ":1.2)", ":1.2.3)", "AND", "BREAK", "<lora:x:1>", "[a:b:2]"],
    "nai": [*"{}[]():\\", "\n"],
    "nai4": [*"{}[]:-", "\n", "::", "1.5::", "-1::", ", "],
    "mixed": [*"(){}[]:|<>\\", "\n", "1.5::", "::", ":1.2)"],
    "comfy": [*"()[]:\\<>", "\n", ":1.2", "embedding:x"],
    "compel": [*'()"+-\\,', "\n", ")1.2", ".and()", ".blend(1)", ".swap(x)", "\v"],
}


@pytest.mark.parametrize("dialect", sorted(SYNTAX))
def test_warnings_are_well_formed(dialect: str) -> None:
    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.sampled_from([*SYNTAX[dialect], "a", " ", "1"]), max_size=14).map("".join))
    def check(text: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mixed also warns in Python; this is about .warnings
            notes = naiprompt.parse(text, dialect).warnings
        keys = [(n.offset, n.code, n.message) for n in notes]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)  # sorted; identical ones collapsed
        for note in notes:
            assert note.code in READER_CODES
            assert note.offset is not None and 0 <= note.offset <= len(text)
            assert note.line == text.count("\n", 0, note.offset) + 1
            assert note.column == note.offset - (text.rfind("\n", 0, note.offset) + 1) + 1
            assert note.count >= 1

    check()


def test_identical_warnings_collapse_with_a_count() -> None:
    problems = [(4, "unmatched-closer", "')' closes nothing")] * 3 + [(1, "unmatched-closer", "')' closes nothing")]
    notes = collect("a) b) c", problems)
    assert [(n.offset, n.count) for n in notes] == [(1, 1), (4, 3)]
    assert str(notes[1]) == "1:5: ')' closes nothing (3 times)"
    assert collect("a", []) == ()


def test_a_plugin_reader_reporting_twice_gets_one_warning() -> None:
    class Shouty(naiprompt.Dialect):
        """A toy reader that reports every '!' once per pass, in two passes."""

        name = "shouty-test"

        def parse(self, text: str, *, strict: bool = False) -> naiprompt.ast.Prompt:
            bangs = [(i, "bang", "'!' is loud") for i, ch in enumerate(text) if ch == "!"]
            notes = collect(text, bangs + bangs, strict=strict)
            return naiprompt.ast.Prompt(body=(naiprompt.ast.Text(value=text),), source=text, warnings=notes)

    notes = naiprompt.parse("a!\nb!", Shouty()).warnings
    assert notes == (
        PromptWarning("'!' is loud", "bang", offset=1, line=1, column=2, count=2),
        PromptWarning("'!' is loud", "bang", offset=4, line=2, column=2, count=2),
    )
    with pytest.raises(PromptSyntaxError, match="'!' is loud at line 1, column 2"):
        naiprompt.parse("a!\nb!", Shouty(), strict=True)


# ---- parse(errors=...) ---------------------------------------------------------------------


def test_parse_error_levels() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet = naiprompt.parse("(a) b)")
        ignored = naiprompt.parse("(a) b)", errors="ignore")
        assert caught == []
        loud = naiprompt.parse("(a) b)", errors=naiprompt.ErrorLevel.WARN)
    assert quiet.warnings == ignored.warnings == loud.warnings != ()
    assert [record.message for record in caught] == list(loud.warnings)
    for level in ("raise", naiprompt.ErrorLevel.RAISE):
        with pytest.raises(PromptSyntaxError, match="unexpected '\\)'"):
            naiprompt.parse("(a) b)", errors=level)
    assert naiprompt.parse("(a)", errors="raise").warnings == ()
    with pytest.raises(ValueError, match="loud"):
        naiprompt.parse("a", errors="loud")


# ---- Python warnings point at this file ----------------------------------------------------


#: (what, code): each call below must warn with that code, pointing at this file.
EMITTERS: list[tuple[str, Callable[[], object], str]] = [
    ("parse errors=warn", lambda: naiprompt.parse("(a", errors="warn"), "unclosed-bracket"),
    ("convert", lambda: naiprompt.convert("a AND b", "webui", "nai"), "lossy-conversion"),
    ("render", lambda: naiprompt.render(naiprompt.parse("[a:b:5]"), "nai"), "lossy-conversion"),
    ("dialect render", lambda: naiprompt.get_dialect("nai").render(naiprompt.parse("a BREAK b")), "lossy-conversion"),
    ("attention", lambda: naiprompt.attention("(a:1.2.3)"), "malformed-weight"),
    ("mixed", lambda: naiprompt.parse("{a} [b] (c:1.2)", "mixed"), "ambiguous-bracket"),
    ("slip", lambda: naiprompt.convert("{1girl:1.2}", "nai", "webui"), "weight-slip"),
    ("comfy", lambda: naiprompt.convert("[a:b:5]", "webui", "comfy"), "lossy-conversion"),
    ("compel", lambda: naiprompt.convert('("a", "b").blend(0.7, 0.3)', "compel", "webui"), "lossy-conversion"),
    ("to compel", lambda: naiprompt.convert("[a:b:5]", "webui", "compel"), "lossy-conversion"),
    ("schedules", lambda: naiprompt.schedules("[a:b:1e999]", 20), "unreadable-step"),
    ("step", lambda: naiprompt.apply("bad", "step:0.9", dialect="nai"), "inexact-step"),
]


@pytest.mark.parametrize(("what", "call", "code"), EMITTERS, ids=[what for what, _, _ in EMITTERS])
def test_python_warnings_point_at_the_caller(what: str, call: Callable[[], object], code: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    ours = [record for record in caught if isinstance(record.message, PromptWarning)]
    assert ours, what
    assert code in {record.message.code for record in ours}
    assert all(record.category is PromptWarning for record in ours)
    assert [record.filename for record in ours] == [__file__] * len(ours)
    assert code in PYTHON_CODES | READER_CODES


def test_warn_helper() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("no BREAK in NovelAI", "lossy-conversion", text="a\nb BREAK", offset=4)
        warn(PromptWarning("as is", "lossy-conversion"))
    assert [record.filename for record in caught] == [__file__, __file__]
    assert caught[0].message == PromptWarning("no BREAK in NovelAI", "lossy-conversion", offset=4, line=2, column=3)
    assert caught[1].message == PromptWarning("as is", "lossy-conversion")


def test_locating_many_warnings_in_one_text_is_linear() -> None:
    # Printers warn node after node about one text; each line/column is counted on from the last.
    def cpu(n: int) -> float:
        # The best of 3 with the collector off: a full suite's heap makes each collection cost more
        # as the run allocates more, which is the collector's time, not this code's.
        text = "a BREAK\n" * n
        best = float("inf")
        gc.collect()
        gc.disable()
        try:
            for _ in range(3):
                start = time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    naiprompt.render(naiprompt.parse(text), "nai", errors="warn")
                    naiprompt.parse(")\n" * n)
                best = min(best, time.process_time() - start)
        finally:
            gc.enable()
        return best

    cpu(200)  # warm the scanners
    assert cpu(20_000) / max(cpu(2_000), 1e-3) < 25  # linear is about 10, quadratic 100


# ---- the command line ----------------------------------------------------------------------

_SCRIPT = Path(sys.executable).with_name("naiprompt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "naiprompt"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*COMMAND, *args], input="", capture_output=True, text=True, encoding="utf-8", timeout=60, env=env, check=False
    )


def test_cli_prints_line_column_message_code() -> None:
    result = _cli("parse", "a,\n(b) c)")
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["naiprompt: warning: 2:6: ')' closes nothing [unmatched-closer]"]
    result = _cli("convert", "--from", "webui", "--to", "nai", "a AND b")
    assert result.stderr.splitlines() == [
        "naiprompt: warning: 1:3: NovelAI has no AND; the subprompts are joined [lossy-conversion]"
    ]


def test_cli_parse_json_lists_the_warnings() -> None:
    result = _cli("parse", "--json", "(a) b)")
    assert json.loads(result.stdout)["warnings"] == [
        {"code": "unmatched-closer", "message": "')' closes nothing", "offset": 5, "line": 1, "column": 6, "count": 1}
    ]
    assert json.loads(_cli("parse", "--json", "(a)").stdout)["warnings"] == []
