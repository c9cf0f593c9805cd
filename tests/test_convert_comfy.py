"""ComfyUI -> WebUI: what WebUI reads from the output is what ComfyUI read from the input (issue 10, item 2).

"ComfyUI's reading" is the comfy dialect's ``segments`` (ComfyUI's ``token_weights``,
checked against ComfyUI's own outputs in test_comfy.py and test_comfy_tokens.py);
"WebUI's reading" is ``naiprompt.attention(..., "webui")``, WebUI's
``parse_prompt_attention`` bit for bit (test_webui_conformance.py).
"""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from naiprompt.contrib.comfy import Comfy
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.errors import PromptWarning

if "comfy" not in DIALECTS.names():
    register_dialect(Comfy)

comfy = Comfy()


def per_char(runs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(c, w) for text, w in runs for c in text]


def webui_reading(text: str) -> list[tuple[str, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)  # WebUI's float() would raise on a malformed weight
        return naiprompt.attention(text, "webui")  # BREAK is escaped: no (BREAK, -1) marker


def assert_same_reading(prompt: str) -> None:
    comfy_runs = comfy.segments(prompt)
    if not all(math.isfinite(w) for _, w in comfy_runs):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = naiprompt.convert(prompt, "comfy", "webui")
    want, got = per_char(comfy_runs), per_char(webui_reading(out))
    assert "".join(c for c, _ in got) == "".join(c for c, _ in want), (prompt, out)
    for (_, w), (_, v) in zip(want, got, strict=True):
        assert math.isclose(v, w, rel_tol=1e-3, abs_tol=1e-300), (prompt, out, w, v)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("(a:1e2)", "(a:100)"),
        ("(a:1E-1)", "(a:0.1)"),
        ("(a:1_0)", "(a:10)"),
        ("(a:1.2.3)", "(a\\:1.2.\\3)"),
        ("((a:0.5) b:9999)", "((a:0.000050005) b:9999)"),
        ("((a:5):1e-320)", "(a:5)"),
    ],
)
def test_the_cases_of_the_issue(prompt: str, expected: str) -> None:
    out = naiprompt.convert(prompt, "comfy", "webui", errors="ignore")
    assert out == expected
    assert_same_reading(prompt)


def test_inf_and_nan_are_comfyui_weights() -> None:
    assert comfy.attention("(a:inf)") == [("a", math.inf)]
    assert comfy.render(comfy.parse("(a:inf), (b:nan)")) == "(a:inf), (b:nan)"
    with pytest.warns(PromptWarning, match="cannot write the weight inf"):
        assert naiprompt.convert("(a:inf)", "comfy", "webui") == "a"


PIECES = st.sampled_from(
    [
        *("a", "b c", ", ", " ", "(", "(", ")", ")", "\\(", "\\)", "[x]", "{y}", ":", "AND"),
        *("<lora:z:1>", "BREAK", "|", "[a:b:3]", "\\", "[a|b]", "\n"),
    ]
)
WEIGHTS = st.sampled_from(
    [
        *(":1e2)", ":1E-1)", ":1_0)", ":.5)", ":5.)", ":9999)", ":0.5)", ":0)", ":-1)", ":1.2.3)"),
        *(": 1.5 )", ":1e-5)", ":12345.678)", ":0.001)", ":3)", ":+2)"),
    ]
)


@given(st.lists(st.one_of(PIECES, WEIGHTS), max_size=30).map("".join))
def test_webui_reads_what_comfyui_read(prompt: str) -> None:
    assert_same_reading(prompt)


@given(st.integers(1, 60), st.sampled_from(["9999", "1e3", "0.5", "1.5", "0.0001"]))
def test_deep_nesting_and_large_parents(depth: int, weight: str) -> None:
    assert_same_reading("(" * depth + "a (b:0.5) c:" + weight + ")" + ")" * (depth - 1))
    assert_same_reading(f"(x ((a:0.5) b:{weight}) y)")


@given(st.text(max_size=60))
def test_ignore_never_raises(text: str) -> None:
    for target in ("webui", "nai", "nai4", "comfy"):
        naiprompt.convert(text, "comfy", target, errors="ignore")
        naiprompt.convert(text, target, "comfy", errors="ignore")


def test_a_kept_branch_keeps_the_weight_around_it() -> None:
    out = naiprompt.convert("([(a:1.5):b:3] c:2)", "webui", "comfy", errors="ignore")
    assert out == "((a:3) c:2)"
    assert comfy.attention(out) == [("a", 3.0), (" c", 2.0)]


ODD = ["(a:inf)", "(a:nan)", "(a:-inf)", "((a:5):1e-320)", "((a:inf) b:0)", "((b (a:2):0))"]


@pytest.mark.parametrize("prompt", ODD)
def test_odd_weights_never_raise_with_ignore(prompt: str) -> None:
    for target in ("webui", "nai", "nai4", "comfy"):
        out = naiprompt.convert(prompt, "comfy", target, errors="ignore")
        assert "a" in out


def test_a_zero_weight_parent_needs_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert naiprompt.convert("0::a {b}::", "nai4", "webui") == "(a (b:1.05):0)"
