"""Exactness of naiprompt's CLIP tokenizer against the reference tokenizers (see tokens_reference.py).

``webui`` mode is compared with transformers 4.x's slow ``CLIPTokenizer`` + ftfy, ``openai`` mode with
OpenAI's original pipeline, on hand-picked hard cases, on a Hypothesis strategy of arbitrary Unicode text,
and on every tag of danbooru.csv and e621.csv (vendored in tests/fixtures/data), with underscores and with spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    import tokens_reference as ref
except ImportError:  # tests/ is a package
    from tests import tokens_reference as ref  # type: ignore[no-redef]

from naiprompt.tokens.clip import ClipTokenizer

pytest.importorskip("regex")
pytest.importorskip("ftfy")

Encode = Callable[[str], list[int]]


@pytest.fixture(scope="module")
def vocab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clip_vocab")


@pytest.fixture(scope="module")
def webui_ref(vocab_dir: Path) -> Encode:
    pytest.importorskip("transformers", reason="transformers 4.x is the webui reference (test dependency)")
    try:
        return ref.webui_reference(vocab_dir)
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def openai_ref(vocab_dir: Path) -> Encode:
    pytest.importorskip("transformers", reason="transformers 4.x supplies the BPE of the openai reference")
    try:
        _name, encode = ref.openai_reference(vocab_dir)
    except ImportError as exc:
        pytest.skip(str(exc))
    return encode


HARD_CASES = [
    "a photo of a cat",
    "girl’s smile",  # ftfy uncurls quotes
    "ＡＢＣ，ｄｅｆ",  # fullwidth
    "ﬁsh",  # ligature
    "cafÃ©",  # mojibake
    "a\x0bb",
    "\x1b[31mred",
    "\x85",
    "&amp;",
    "&amp;amp;",
    "a < b &amp;",
    "&lt",
    "&lt;3",
    "&#8217;s",
    "ΟΔΟΣ",
    "'ſ",
    "a\u0345b",
    "e\u0301",
    "<|endoftext|>",
    "<|ENDOFTEXT|>",
    "<|startoftext|>a<|endoftext|>",
    ",<|endoftext|>,",
    "&amp;<|endoftext|>&amp;",
    "a<|endoftext|><b &amp;",
    "日本語 猫耳 😀 👩‍👩‍👧",
    "a\u200bb",
    "a\x1cb\x1fc",
    "a\u3000b\u00a0c\u2028d",
    "1920x1080, 1.5, 1,000",
    "^_^ :) ,, ...!?",
    "should've they'll I'M it'S",
    "x" * 300,
    "long_hair, 1girl, (masterpiece:1.2), {{best quality}}, [[lowres]], <lora:x:0.7>",
    "\t\n\r leading and trailing \r\n",
    "",
    " ",
    "İstanbul ǅemal ß ẞ",
    "\ufeffbom \u2060 joiner",
    "\ud7ff\ue000\U0010fffd",
]


@pytest.mark.parametrize("text", HARD_CASES)
def test_webui_mode_hard_cases(webui_ref: Encode, text: str) -> None:
    assert ClipTokenizer("webui").encode(text) == webui_ref(text)


@pytest.mark.parametrize("text", HARD_CASES)
def test_openai_mode_hard_cases(openai_ref: Encode, text: str) -> None:
    assert ClipTokenizer("openai").encode(text) == openai_ref(text)


FRAGMENTS = [
    "long_hair",
    "1girl",
    ", ",
    ",",
    " ",
    "\n",
    "&amp;",
    "&lt;",
    "&lt",
    "&#39;",
    "<",
    ">",
    "<|endoftext|>",
    "<|startoftext|>",
    "<|ENDOFTEXT|>",
    "’",
    "'s",
    "'S",
    "Ã©",
    "ＡＢ",
    "ﬁ",
    "\x85",
    "\x1b[1m",
    "\u0345",
    "e\u0301",
    "ς",
    "Σ",
    "(",
    ":1.2)",
    "BREAK",
    "😀",
    "\u3000",
]

TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=12).map("".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT)
def test_webui_mode_hypothesis(webui_ref: Encode, text: str) -> None:
    assert ClipTokenizer("webui").encode(text) == webui_ref(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT)
def test_openai_mode_hypothesis(openai_ref: Encode, text: str) -> None:
    assert ClipTokenizer("openai").encode(text) == openai_ref(text)


def _sweep(encode: Encode, reference: Encode, texts: Iterable[str]) -> tuple[int, list[str]]:
    seen = 0
    bad: list[str] = []
    for text in texts:
        for form in (text, text.replace("_", " ")):
            seen += 1
            if encode(form) != reference(form):
                bad.append(form)
    return seen, bad


@pytest.mark.slow
@pytest.mark.parametrize("name", ["danbooru.csv", "e621.csv"])
def test_every_tag_webui(webui_ref: Encode, name: str) -> None:
    seen, bad = _sweep(ClipTokenizer("webui").encode, webui_ref, ref.tag_list(name))
    assert seen > 100_000
    assert bad == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["danbooru.csv", "e621.csv"])
def test_every_tag_openai(openai_ref: Encode, name: str) -> None:
    seen, bad = _sweep(ClipTokenizer("openai").encode, openai_ref, ref.tag_list(name))
    assert seen > 100_000
    assert bad == []
