"""Text-level encoding: tokenizer chunks, BREAK, AND, prompt editing, and no memory growth."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from encode_reference import (  # noqa: E402
    as_pairs,
    conformance,
    reference_webui,
    tiny_clip,
)
from naiprompt.encode import TextEncoder, schedule_at  # noqa: E402

ATOL = 1e-6
CASES = conformance("webui_tokens.json")


@pytest.fixture(scope="module")
def model() -> Any:
    return tiny_clip(5, hidden=32, layers=3, heads=2)


@pytest.fixture(scope="module")
def encoder(model: Any) -> TextEncoder:
    return TextEncoder(model)


def tokens_chunks(text: str, **kwargs: Any) -> list[tuple[list[int], list[float]]]:
    from naiprompt.tokens import chunks

    return [(list(c.tokens), list(c.multipliers)) for c in chunks(text, **kwargs)]


def close(a: Any, b: Any, atol: float = ATOL) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    diff = (a.float() - b.float()).abs().max().item()
    assert diff <= atol, f"max abs difference {diff}"


@pytest.mark.parametrize("case", CASES, ids=[c["prompt"][:40] for c in CASES])
def test_prompt_text_matches_webui_chunks_and_math(encoder: TextEncoder, model: Any, case: Any) -> None:
    # From text: naiprompt's tokenizer and chunker, then the encoder; against WebUI's own chunks.
    got = encoder.encode(
        case["prompt"], comma_backtrack=case["comma_padding_backtrack"], emphasis=case["emphasis"]
    )
    close(got.tensor, reference_webui(model, [as_pairs(case["chunks"])]))


def test_break_splits_chunks(encoder: TextEncoder, model: Any) -> None:
    text = "1girl, (smile:1.3) BREAK [blue sky], clouds BREAK BREAK night"
    got = encoder.encode(text)
    assert got.chunk_count == 4
    close(got.tensor, reference_webui(model, [tokens_chunks(text)]))


def test_nai_dialect(encoder: TextEncoder, model: Any) -> None:
    text = "{{masterpiece}}, [[lowres]], 1girl"
    got = encoder.encode(text, dialect="nai")
    pairs = tokens_chunks(text, dialect="nai")
    assert any(abs(m - 1.05**2) < 1e-9 for m in pairs[0][1])
    close(got.tensor, reference_webui(model, [pairs]))


def test_list_of_prompts_each_as_if_alone(encoder: TextEncoder, model: Any) -> None:
    texts = ["a cat", "(a dog:1.4), " * 20, "[a bird]"]
    got = encoder.encode(texts)
    empty = reference_webui(model, [tokens_chunks("")])[0]
    for i, text in enumerate(texts):
        alone = reference_webui(model, [tokens_chunks(text)])[0]
        k = got.chunk_count - alone.shape[0] // 77
        close(got.tensor[i], torch.cat([alone, empty.repeat(k, 1)]))
    together = encoder.encode(texts, mean_over="batch")
    close(together.tensor, reference_webui(model, [tokens_chunks(t) for t in texts]))


def test_schedule_is_one_webui_call(encoder: TextEncoder, model: Any) -> None:
    text = "[cat:(dog:1.3):3] girl, (smile:1.2), " + "detail, " * 40
    sched = encoder.encode_schedule(text, 6)
    texts = ["cat girl, (smile:1.2), " + "detail, " * 40, "(dog:1.3) girl, (smile:1.2), " + "detail, " * 40]
    want = reference_webui(model, [tokens_chunks(t) for t in texts])
    assert [end for end, _ in sched] == [3, 6]
    close(sched[0][1].tensor[0], want[0])
    close(sched[1][1].tensor[0], want[1])
    assert schedule_at(sched, 3) is sched[0][1] and schedule_at(sched, 4) is sched[1][1]


def test_alternation_counts_repeated_texts_in_the_mean(encoder: TextEncoder, model: Any) -> None:
    sched = encoder.encode_schedule("[a|(b:1.4)] c", 3)
    texts = ["a c", "(b:1.4) c", "a c"]  # WebUI encodes all three, the repeat included
    want = reference_webui(model, [tokens_chunks(t) for t in texts])
    assert [end for end, _ in sched] == [1, 2, 3]
    for i in range(3):
        close(sched[i][1].tensor[0], want[i])
    assert sched[0][1] is sched[2][1]  # each distinct text once


def test_and_subprompts_are_encoded_separately(encoder: TextEncoder, model: Any) -> None:
    parts = encoder.encode_and("a cat AND (a dog:1.3) :0.5 AND a cat")
    assert [w for _, w in parts] == [1.0, 0.5, 1.0]
    close(parts[0][0].tensor[0], reference_webui(model, [tokens_chunks("a cat")])[0])
    close(parts[1][0].tensor[0], reference_webui(model, [tokens_chunks(" (a dog:1.3)")])[0])
    close(parts[2][0].tensor, parts[0][0].tensor)


def test_composable_strips_networks_and_schedules_each_part(encoder: TextEncoder, model: Any) -> None:
    parts = encoder.encode_composable("<lora:x:0.8>[a:b:2] AND c :0.5", 4)
    (sched_a, w_a), (sched_c, w_c) = parts
    assert (w_a, w_c) == (1.0, 0.5)
    assert [end for end, _ in sched_a] == [2, 4] and [end for end, _ in sched_c] == [4]
    want = reference_webui(model, [tokens_chunks("a "), tokens_chunks("b ")])
    close(sched_a[0][1].tensor[0], want[0])
    close(sched_c[0][1].tensor[0], reference_webui(model, [tokens_chunks(" c")])[0])


def test_encode_pair_pads_and_keeps_negative_networks(encoder: TextEncoder, model: Any) -> None:
    cond, uncond = encoder.encode_pair("<lora:x:1>a BREAK b", "lowres")
    assert cond.tensor.shape == uncond.tensor.shape and cond.chunk_count == 2
    close(cond.tensor[0], reference_webui(model, [tokens_chunks("a BREAK b")])[0])
    empty = reference_webui(model, [tokens_chunks("")])[0]
    close(uncond.tensor[0, 77:], empty)
    cond, uncond = encoder.encode_pair("a BREAK b", "lowres", pad="none")
    assert uncond.chunk_count == 1


def test_emphasis_none_keeps_brackets_literal(encoder: TextEncoder, model: Any) -> None:
    got = encoder.encode("a (b) BREAK c", emphasis="none")
    close(got.tensor, reference_webui(model, [tokens_chunks("a (b) BREAK c", emphasis="none")]))
    assert got.chunk_count == 1


def _rss() -> int:
    try:
        import psutil
    except ImportError:
        statm = Path("/proc/self/statm")
        if not statm.is_file():
            pytest.skip("needs psutil or /proc to read the resident set size")
        import os

        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return int(psutil.Process().memory_info().rss)


@pytest.mark.slow
def test_no_memory_growth_over_10000_encodes() -> None:
    enc = TextEncoder(tiny_clip(9, hidden=32, layers=2, heads=2))
    prompts = ["1girl, (smile:1.2), masterpiece", "a BREAK b", "[cat], (dog:0.8)"]
    for i in range(300):
        enc.encode(prompts[i % 3])
    gc.collect()
    before = _rss()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only add overhead on a shared CI machine
    try:
        for i in range(10_000):
            cond = enc.encode(prompts[i % 3])
            assert cond.tensor.grad_fn is None
    finally:
        torch.set_num_threads(threads)
    del cond
    gc.collect()
    growth = _rss() - before
    assert growth < 16 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB"


@pytest.mark.parametrize("text", ["a [cat:dog:0.5]", "[a|b] c", "x, [y:3]", "[a:b:1500]"])
def test_encode_raises_on_editing_like_prompt_embeds(encoder: TextEncoder, text: str) -> None:
    # One conditioning cannot hold a prompt that changes during sampling: encode() refuses it (as
    # prompt_embeds does) and names the method that can, instead of encoding "cat:dog:0.5" as words.
    with pytest.raises(ValueError, match=r"prompt editing or alternation.*encode_schedule"):
        encoder.encode(text)
    with pytest.raises(ValueError, match="encode_schedule"):
        encoder.encode(["plain", text])
    assert len(encoder.encode_schedule(text, 20)) >= 1


def test_editing_brackets_are_plain_emphasis_in_novelai(encoder: TextEncoder) -> None:
    # NovelAI has no prompt editing: [cat:dog:0.5] is de-emphasised text there, encoded as such.
    assert encoder.encode("a [cat:dog:0.5]", dialect="nai").tensor.shape[1] == 77
    # Escaped brackets are words in WebUI too.
    assert encoder.encode("a \\[cat:dog:0.5\\]").tensor.shape[1] == 77
