"""Mixed-syntax prompts, slips, tidy lossy output and NovelAI's presets (issue 10, items 4-6)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from naiprompt import presets
from naiprompt.dialects.mixed import Mixed, detect_evidence, slips, square_rule
from naiprompt.errors import PromptWarning

EXAMPLE = "masterpiece, {{1girl}}, [[[bad hands]]], (red eyes:1.3)"


def quiet_convert(text: str, read: str | Mixed, write: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return naiprompt.convert(text, read, write)


# -- the mixed reading ------------------------------------------------------------------------
def test_detect_reports_a_mixed_prompt_with_its_evidence() -> None:
    assert naiprompt.detect(EXAMPLE) == "mixed"
    found = detect_evidence(EXAMPLE)
    assert found.dialect == "mixed"
    assert any("{1girl}" in e for e in found.evidence)
    assert any("(red eyes:1.3)" in e for e in found.evidence)
    # One side far ahead: not mixed.
    assert naiprompt.detect("{masterpiece}, (a:1.2), (b:1.1), (c:0.9)") == "webui"
    assert naiprompt.detect("{{a}}, {b}, {c}, [d]") == "nai"


def test_the_example_reads_as_its_author_meant() -> None:
    with pytest.warns(PromptWarning, match=r"'\[\]' is ambiguous"):
        runs = naiprompt.attention(naiprompt.parse(EXAMPLE, "mixed"), "mixed")
    assert runs == [
        ("masterpiece, ", 1.0),
        ("1girl", pytest.approx(1.05**2)),
        (", ", 1.0),
        ("bad hands", pytest.approx(1.05**-3)),
        (", ", 1.0),
        ("red eyes", 1.3),
    ]
    assert quiet_convert(EXAMPLE, "mixed", "webui") == "masterpiece, (1girl:1.1025), (bad hands:0.8638), (red eyes:1.3)"
    assert quiet_convert(EXAMPLE, "mixed", "nai4") == "masterpiece, {{1girl}}, [[[bad hands]]], 1.3::red eyes::"


def test_the_square_rule_is_configurable() -> None:
    assert square_rule(EXAMPLE) == "nai"
    assert square_rule("(a), (b), {c}, [d]") == "webui"
    webui_rule = Mixed(square="webui")
    assert quiet_convert("{a} [b]", webui_rule, "webui") == "(a:1.05) [b]"
    assert quiet_convert("{a} [b]", Mixed(square="nai"), "webui") == "(a:1.05) (b:0.9524)"
    with pytest.raises(ValueError, match="unknown"):
        Mixed(square="both")


def test_webui_syntax_keeps_working_in_the_mixed_reading() -> None:
    prompt = "{a}, [b:c:5], <lora:x:0.5>, \\(d\\) AND e BREAK f"
    out = quiet_convert(prompt, "mixed", "webui")
    assert out == "(a:1.05), [b:c:5], <lora:x:0.5>, \\(d\\) AND e BREAK f"


def test_a_mixed_tree_prints_back_byte_for_byte() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = naiprompt.parse(EXAMPLE, "mixed")
    assert naiprompt.render(tree) == EXAMPLE


WORDS = st.sampled_from(["a", "cat", "red eyes", "1girl"])


def mixed_prompts() -> st.SearchStrategy[str]:
    def wrap(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            inner.map(lambda s: f"{{{s}}}"),
            inner.map(lambda s: f"({s})"),
            st.tuples(inner, st.sampled_from(["0.8", "1.3", "2"])).map(lambda p: f"({p[0]}:{p[1]})"),
            st.lists(inner, min_size=1, max_size=3).map(", ".join),
        )

    return st.recursive(WORDS, wrap, max_leaves=12)


@given(mixed_prompts())
def test_braces_are_novelai_and_parens_are_webui(prompt: str) -> None:
    """The mixed reading of a brace-free prompt is WebUI's; each {} level multiplies by 1.05."""
    mixed = Mixed().attention(prompt)
    webui_form = prompt.replace("{", "(").replace("}", ":1.05)")  # WebUI's (x:w) multiplies as {} does
    want = naiprompt.attention(webui_form, "webui")
    assert [t for t, _ in mixed] == [t for t, _ in want]
    assert all(math.isclose(w, v, rel_tol=1e-12) for (_, w), (_, v) in zip(mixed, want, strict=True))
    assert naiprompt.render(naiprompt.parse(prompt, "mixed")) == prompt


# -- slips ------------------------------------------------------------------------------------
def test_slips_in_novelai_syntax_are_reported() -> None:
    assert len(slips("{1girl:1.2}, {smile}, {x: .5}")) == 2
    with pytest.warns(PromptWarning, match="literal text in NovelAI"):
        assert naiprompt.convert("{1girl:1.2}", "nai", "webui") == "(1girl\\:1.2:1.05)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        naiprompt.convert("{1girl:1.2}", "nai", "webui", errors="ignore")


# -- tidy lossy output ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "target", "expected"),
    [
        ("<lora:x:1>, a, b AND c, <lora:y:1>", "nai", "a, b, c"),
        ("a, <lora:x:1>, b BREAK c", "nai4", "a, b, c"),
        ("a AND b:1.2", "comfy", "a, b"),
        ("a <lora:x:1> BREAK b", "comfy", "a, b"),
        ("(x:1.2), <lora:a:1> <lora:b:1> y", "nai", "{{{{x}}}}, y"),
    ],
)
def test_dropped_constructs_leave_no_seams(prompt: str, target: str, expected: str) -> None:
    assert naiprompt.convert(prompt, "webui", target, errors="ignore") == expected


@given(st.lists(st.sampled_from(["a", "b c", "<lora:x:1>", "AND", "BREAK", ", ", " "]), max_size=12).map("".join))
def test_no_seams_in_any_output(prompt: str) -> None:
    for target in ("nai", "nai4", "comfy"):
        out = naiprompt.convert(prompt, "webui", target, errors="ignore")
        webui_seams = naiprompt.convert(prompt, "webui", "webui")
        for seam in (", ,", ",,"):
            assert seam not in out or seam in webui_seams, (prompt, out)
        if "  " in out:
            assert "  " in prompt, (prompt, out)
        assert not out.endswith(", ") or prompt.rstrip().endswith(","), (prompt, out)


# -- presets ----------------------------------------------------------------------------------
def test_presets_per_model_version() -> None:
    assert set(presets.MODELS) == {"v1", "v2", "v3", "v4", "v4.5"}
    assert presets.get("nai-diffusion").uc["low quality + bad anatomy"].startswith("lowres, bad anatomy, bad hands")
    assert presets.get("v4.5").quality == "location, very aesthetic, masterpiece, no text"
    assert presets.apply("1girl", "v2") == "very aesthetic, best quality, absurdres, 1girl"
    assert all(p.uc for p in presets.MODELS.values()) and presets.SOURCES


def test_convert_adds_presets_only_when_asked() -> None:
    assert naiprompt.convert("{1girl}", "nai", "webui") == "(1girl:1.05)"
    assert naiprompt.convert("{1girl}", "nai", "webui", nai_preset="v1") == "masterpiece, best quality, (1girl:1.05)"
    negative = naiprompt.convert("{hat}", "nai", "webui", nai_preset="v3", negative=True)
    assert negative.startswith("lowres, (bad:1.05), error,") and negative.endswith("(abstract:0.9524), (hat:1.05)")
    # A WebUI prompt is not a NovelAI one: nothing added.
    assert naiprompt.convert("a", "webui", "nai", nai_preset="v3") == "a"


_SCRIPT = Path(sys.executable).with_name("naiprompt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "naiprompt"]


def test_cli_nai_preset() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [*COMMAND, "convert", "--from", "nai", "--to", "webui", "--nai-preset", "v4.5", "{smile}"],
        capture_output=True, text=True, encoding="utf-8", timeout=60, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(smile:1.05), location, very aesthetic, masterpiece, no text"


@pytest.mark.parametrize("prompt", ["{a", "a}", "(a", "[a"])
def test_strict_mixed_reading_rejects_unbalanced_brackets(prompt: str) -> None:
    with pytest.raises(naiprompt.PromptSyntaxError):
        naiprompt.parse(prompt, "mixed", strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert naiprompt.render(naiprompt.parse(prompt, "mixed")) == prompt


@pytest.mark.parametrize(
    ("prompt", "code", "column"),
    [
        ("[a:{b:3]", "unclosed-bracket", 4),  # no "}" before the edit's ":": the "{" is text
        ("[a|{b]", "unclosed-bracket", 4),
        ("x, [a:b}:3]", "unmatched-closer", 8),
        ("[{a:b}:3]", "unclosed-bracket", 2),  # a pair cut by the edit's ":" is text, both braces
    ],
)
def test_braces_kept_as_text_inside_brackets_are_reported(prompt: str, code: str, column: int) -> None:
    tree = naiprompt.parse(prompt, "mixed")
    assert (tree.warnings[0].code, tree.warnings[0].line, tree.warnings[0].column) == (code, 1, column)
    assert naiprompt.render(tree) == prompt  # still read as text, and printed back byte for byte
    with pytest.raises(naiprompt.PromptSyntaxError) as raised:
        naiprompt.parse(prompt, "mixed", strict=True)
    assert raised.value.code == code
    # Braces that are syntax inside brackets are not reported.
    assert naiprompt.parse("[a:{b}:3], [{c}|d]", "mixed").warnings == ()


@given(st.text(alphabet="{}()[]:a, 1.\\|<>", max_size=40))
def test_lenient_mixed_reading_never_raises(prompt: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = naiprompt.parse(prompt, "mixed")
        assert naiprompt.render(tree) == prompt
        for target in ("webui", "nai", "nai4", "comfy"):
            naiprompt.convert(prompt, "mixed", target, errors="ignore")


def test_slip_advice_stays_short_and_never_raises() -> None:
    from naiprompt.dialects.mixed import slips

    assert slips("{16:9}")[0].endswith("use 9::16:: (NovelAI V4)")  # not 57 braces
    huge = "{c:" + "9" * 400 + "}"  # the weight overflows a float
    assert slips(huge)[0].endswith("(NovelAI V4)")
    with pytest.warns(PromptWarning):
        assert naiprompt.convert(huge, "nai", "webui").startswith("(c\\:999")
