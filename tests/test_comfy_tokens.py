"""ComfyUI's own tokens and weights for the comfy dialect (issue 10, item 3).

``comfy_tokens.json`` holds ComfyUI's ``tokenize_with_weights`` output (see its
``about`` and tests/fixtures/README.md): every case must come out the same from
``naiprompt.chunks(text, dialect="comfy")`` and the encoder's ``emphasis="comfy"``
chunking. The reading itself is linear and never recurses.
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any

import pytest

import naiprompt
from conftest import CONFORMANCE
from naiprompt.contrib._comfy_scan import scan, segments
from naiprompt.contrib.comfy import Comfy
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.encode import text_chunks
from naiprompt.tokens.comfy_chunking import MAX_WORD_LENGTH, comfy_chunk_segments, comfy_pieces

if "comfy" not in DIALECTS.names():  # a source checkout without installed entry points
    register_dialect(Comfy)

CASES: list[dict[str, Any]] = json.loads((CONFORMANCE / "comfy_tokens.json").read_text(encoding="utf-8"))["cases"]


def as_lists(chunks: Any) -> list[dict[str, list[Any]]]:
    return [{"tokens": list(c.tokens), "multipliers": list(c.multipliers)} for c in chunks]


def test_every_case_of_comfyui() -> None:
    assert len(CASES) >= 800
    wrong = [c["prompt"] for c in CASES if as_lists(naiprompt.chunks(c["prompt"], "comfy")) != c["chunks"]]
    assert wrong == []


def test_the_encoder_path_chunks_the_same() -> None:
    for case in CASES[:200]:
        assert as_lists(text_chunks(case["prompt"], dialect="comfy", emphasis="comfy")) == case["chunks"]


def test_segments_are_tokenized_apart() -> None:
    # (a)(b) is the ids of "a" and "b" in ComfyUI, never the merged "ab" (3937).
    chunk = naiprompt.chunks("(a)(b)", "comfy")[0]
    assert chunk.tokens[:4] == (49406, 320, 321, 49407)
    assert chunk.multipliers[:4] == (1.0, 1.1, 1.1, 1.0)
    assert naiprompt.chunks("(a)(b)", "webui")[0].tokens[1] == 3937


def test_short_pieces_move_whole_and_long_ones_are_cut() -> None:
    filler = "a " * 74  # 74 tokens, one left in the first chunk
    short = comfy_chunk_segments([(filler, 1.0), ("hello world", 1.2)])  # 2 tokens: moved whole
    assert short.chunks[0].tokens[75:] == (49407, 49407) and short.chunks[1].tokens[1:3] == (3306, 1002)
    long_text = " ".join(["cat"] * MAX_WORD_LENGTH)  # 8 tokens: cut at the boundary, no padding
    cut = comfy_chunk_segments([(filler, 1.0), (long_text, 1.2)])
    assert cut.chunks[0].tokens[75] == 2368 and cut.chunks[0].multipliers[75] == 1.2
    assert cut.chunks[1].tokens[1:8] == (2368,) * 7
    assert cut.token_count == 74 + MAX_WORD_LENGTH


def test_embedding_words_are_separate_pieces() -> None:
    assert comfy_pieces("a, embedding:x b\nembedding:y") == ["a,", "embedding:x b", "embedding:y"]


def test_break_is_text_and_no_comma_backtrack() -> None:
    assert naiprompt.chunks("a BREAK b", "comfy")[0].tokens[1:4] == tuple(naiprompt.tokenize("a BREAK b"))
    assert len(naiprompt.chunks("a, " * 40, "comfy")) == 2


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("(a:inf)", [("a", float("inf"))]),
        ("(a:1e2), (b:1_0), (c:1E-1)", [("a", 100.0), (", ", 1.0), ("b", 10.0), (", ", 1.0), ("c", 0.1)]),
        ("((a)", [("(a", 1.1)]),
        ("(((x):1.2)", [("(x", 1.32)]),
        ("a) (b", [("a) (b", 1.0)]),
        ("a) ((b) c", [("a) (", 1.0), ("b", 1.1), (" c", 1.0)]),  # back at zero after "(": groups again
    ],
)
def test_comfyui_reading(prompt: str, expected: list[tuple[str, float]]) -> None:
    assert [(s.text, s.weight) for s in segments(prompt)] == expected


def test_nan_is_a_weight() -> None:
    [(text, weight)] = [(s.text, s.weight) for s in segments("(a:nan)")]
    assert text == "a" and weight != weight


@pytest.mark.parametrize("depth", [10_000])
def test_ten_thousand_nested_brackets(depth: int) -> None:
    prompt = "(" * depth + "a" + ")" * depth
    tree = naiprompt.parse(prompt, "comfy")
    assert naiprompt.render(tree) == prompt
    assert naiprompt.attention(prompt, "comfy") == [("a", float("inf"))]  # 1.1**10000 overflows, as in ComfyUI
    weighted = "(" * depth + "a:1.5)" + ")" * (depth - 1)
    assert naiprompt.attention(weighted, "comfy") == [("a", 1.5)]
    assert len(naiprompt.chunks(weighted, "comfy")) == 1


def test_the_reading_is_linear() -> None:
    def cost(depth: int) -> float:
        prompt = "(" * depth + "a:1.2" + ")" * depth + " b" * depth
        gc.disable()  # a collection over the other tests' objects would swamp the timing
        try:
            start = time.process_time()
            scan(prompt)
            segments(prompt)
            return time.process_time() - start
        finally:
            gc.enable()

    cost(1000)  # warm up
    small = min(cost(2_000) for _ in range(3))
    large = min(cost(20_000) for _ in range(3))
    assert large < 25 * small  # 10x the input: linear is ~10x, quadratic would be ~100x
