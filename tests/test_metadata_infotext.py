"""WebUI's infotext: parse_infotext / format_infotext against WebUI v1.10.1's own outputs, and properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naiprompt.metadata import format_infotext, parse_infotext
from naiprompt.metadata.infotext import infotext_items, split_infotext

CASES = json.loads(
    (Path(__file__).parent / "fixtures" / "conformance" / "a1111_infotext.json").read_text(encoding="utf-8")
)


def _typed(mapping: dict[str, Any]) -> list[tuple[str, type, Any]]:
    return [(key, type(value), value) for key, value in mapping.items()]


@pytest.mark.parametrize("case", CASES["parse"], ids=range(len(CASES["parse"])))
def test_parse_equals_webui(case: dict[str, Any]) -> None:
    # Keys, order, values and value types (str / int / bool) all as WebUI returns them.
    assert _typed(parse_infotext(case["text"])) == _typed(case["expected"])


@pytest.mark.parametrize("case", CASES["format"], ids=range(len(CASES["format"])))
def test_format_equals_webui(case: dict[str, Any]) -> None:
    assert format_infotext(case["prompt"], case["negative"], case["parameters"]) == case["expected"]


def test_the_fixture_is_the_full_set() -> None:
    assert len(CASES["parse"]) > 1000 and len(CASES["format"]) > 100


@pytest.mark.parametrize(
    ("text", "prompt", "negative", "line"),
    [
        # fewer than three parameters: the last line is prompt text
        ("a cat\nSteps: 20, Seed: 1", "a cat\nSteps: 20, Seed: 1", "", ""),
        # an empty negative line, CRLF and trailing spaces
        ("a cat  \r\nNegative prompt: \r\nSteps: 1, Seed: 2, Size: 1x1", "a cat", "", "Steps: 1, Seed: 2, Size: 1x1"),
        # "Negative prompt:" not at the start of a line stays prompt text
        (
            "x Negative prompt: y\nSteps: 1, Seed: 2, Size: 1x1",
            "x Negative prompt: y",
            "",
            "Steps: 1, Seed: 2, Size: 1x1",
        ),
        # lines after the negative prompt's first line belong to it; leading empty lines vanish
        ("\n\na\n\nb\nNegative prompt:\n\nc\nd\nAb: 1, Bc: 2, Cd: 3", "a\n\nb", "c\nd", "Ab: 1, Bc: 2, Cd: 3"),
    ],
)
def test_split_rules(text: str, prompt: str, negative: str, line: str) -> None:
    assert split_infotext(text) == (prompt, negative, line)


def test_values_webui_way() -> None:
    parsed = parse_infotext('p\nSteps: 20, Hires resize: 1024x1536, Lora hashes: "a: 1, b: 2", Civitai: [{"x": 1}, 2]')
    assert (parsed["Hires resize-1"], parsed["Hires resize-2"]) == ("1024", "1536")
    assert parsed["Lora hashes"] == "a: 1, b: 2"
    assert parsed["Civitai"] == '[{"x": 1}'  # unquoted values end at the first comma, as in WebUI
    # single-character keys never match; an empty value is dropped
    items = infotext_items("A: 1, Bc: , Cd: 3, De: x")
    assert items == {"Cd": "3", "De": "x"}


def test_version_backcompat() -> None:
    old = parse_infotext("[a:b:3]\nSteps: 20, Sampler: DDIM, Version: v1.5.1")
    assert old["Old prompt editing timelines"] is True and old["Pad conds v0"] is True
    assert old["Downcast alphas_cumprod"] is True
    new = parse_infotext("[a:b:3]\nSteps: 20, Sampler: DDIM, Version: v1.7.0-225-gabc")
    assert "Downcast alphas_cumprod" not in new and "Old prompt editing timelines" not in new
    assert "Downcast alphas_cumprod" in parse_infotext("a\nSteps: 1, Seed: 2, Version: v1.7.0-224-gabc")
    assert "Downcast alphas_cumprod" not in parse_infotext("a\nSteps: 1, Seed: 2, Version: neo")


def test_old_hires_fix_first_pass_size() -> None:
    parsed = parse_infotext("a\nSteps: 20, Size: 1024x1024, First pass size: 0x0")
    assert (parsed["Size-1"], parsed["Size-2"]) == (512, 512)
    assert (parsed["Hires resize-1"], parsed["Hires resize-2"]) == (1024, 1024)


# --- properties ------------------------------------------------------------------------------------

_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9 ]{0,12}[A-Za-z0-9]", fullmatch=True)
_VALUE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'), min_size=1, max_size=20
).filter(lambda v: v == v.strip() and not _looks_like_size(v))
_LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).map(str.strip)


def _looks_like_size(value: str) -> bool:
    import re

    return re.match(r"^\d+x\d+$", value) is not None


#: Keys with a meaning of their own in WebUI's parser (they change other entries).
_SPECIAL = {"Hypernet", "Version", "Hires prompt", "Hires negative prompt", "Prompt", "Negative prompt"}


@given(
    prompt=_LINE.filter(lambda p: not p.startswith("Negative prompt:")),
    negative=_LINE,
    parameters=st.dictionaries(_KEY.filter(lambda k: k not in _SPECIAL), _VALUE, min_size=3, max_size=6).filter(
        lambda params: all(k != v for k, v in params.items())
    ),
)
def test_parse_gives_back_what_format_wrote(prompt: str, negative: str, parameters: dict[str, str]) -> None:
    text = format_infotext(prompt, negative, parameters)
    assert split_infotext(text)[2] and infotext_items(split_infotext(text)[2]) == parameters
    parsed = parse_infotext(text)
    assert (parsed["Prompt"], parsed["Negative prompt"]) == (prompt, negative)
    assert {key: parsed[key] for key in parameters} == parameters


@given(st.text(max_size=300))
def test_parse_never_raises(text: str) -> None:
    parsed = parse_infotext(text)
    assert isinstance(parsed["Prompt"], str)


# --- the parameter scanner: WebUI's regex, in linear time ------------------------------------------

_WEBUI_RE_PARAM = r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)'


@given(st.text(st.sampled_from(list('ab1_ -/:,"\\\n\té猫x')), max_size=60))
def test_scanner_equals_webui_regex(line: str) -> None:
    import re

    from naiprompt.metadata.infotext import _scan

    assert _scan(line) == re.findall(_WEBUI_RE_PARAM, line)


@pytest.mark.parametrize(
    "unit",
    [
        "a b-c/",  # one long run of key characters and no colon: WebUI's regex backtracks quadratically
        "[a:b:",  # unclosed brackets over many runs: WebUI's emphasis check is quadratic
        "((a:1)",
    ],
)
def test_hostile_texts_parse_in_linear_time(unit: str) -> None:
    import time

    def cost(n: int) -> float:
        text = "prompt\n" + unit * n
        start = time.process_time()
        for _ in range(3):
            parse_infotext(text)
        return time.process_time() - start

    cost(1000)  # warm up
    small, large = cost(10_000), cost(80_000)
    assert large / max(small, 1e-3) < 20  # 8x the input; quadratic would be 64x


def test_emphasis_check_is_exact_on_real_prompts() -> None:
    from naiprompt.metadata.infotext import EMPHASIS_BUDGET, _bracket_work

    cases = json.loads((Path(__file__).parent / "fixtures" / "conformance" / "webui_attention.json").read_text())
    texts = [case.get("text") or case.get("prompt") or "" for case in cases]
    # every real prompt is far below the budget, so WebUI's own computation decides
    assert max(_bracket_work(text) for text in texts) < EMPHASIS_BUDGET // 1000
    assert parse_infotext("[a:b:" * 3000)["Emphasis"] == "Original"


def test_conformance_through_the_linear_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    import naiprompt.metadata.infotext as infotext

    monkeypatch.setattr(infotext, "_SHORT_LINE", -1)  # every line through _scan, not the regex
    for case in CASES["parse"]:
        assert _typed(parse_infotext(case["text"])) == _typed(case["expected"]), case["text"]
