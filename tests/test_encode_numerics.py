"""Numerics of naiprompt.encode against an independent implementation of WebUI's algorithm (fp32, 1e-6)."""

from __future__ import annotations

import random
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from encode_reference import (  # noqa: E402
    EOS,
    as_pairs,
    conformance,
    empty_tokens,
    reference_hidden,
    reference_webui,
    tiny_clip,
    to_token_chunks,
)
from naiprompt.encode import Conditioning, TextEncoder, TokenChunk, concat, pad_pair  # noqa: E402

ATOL = 1e-6


@pytest.fixture(scope="module")
def model() -> Any:
    return tiny_clip(0)


@pytest.fixture(scope="module")
def encoder(model: Any) -> TextEncoder:
    return TextEncoder(model)


TOKEN_CASES = conformance("webui_tokens.json")


def close(a: Any, b: Any, atol: float = ATOL) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    diff = (a.float() - b.float()).abs().max().item()
    assert diff <= atol, f"max abs difference {diff}"


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c["prompt"][:40] for c in TOKEN_CASES])
@pytest.mark.parametrize("clip_skip", [1, 2])
def test_conformance_chunks_match_reference(
    encoder: TextEncoder, model: Any, case: Any, clip_skip: int
) -> None:
    pairs = as_pairs(case["chunks"])
    got = encoder.encode_chunks([to_token_chunks(pairs)], clip_skip=clip_skip)
    want = reference_webui(model, [pairs], clip_skip)
    close(got.tensor, want)
    assert got.chunk_count == len(case["chunks"])
    assert [list(c.tokens) for c in got.chunks[0]] == [c["tokens"] for c in case["chunks"]]


def test_weighted_conformance_case_differs_from_unweighted(encoder: TextEncoder) -> None:
    # Guard against a vacuous reference: emphasis must actually change the output.
    [case] = [c for c in TOKEN_CASES if c["prompt"] == "(a photo:1.3) of [a cat]"]
    pairs = as_pairs(case["chunks"])
    weighted = encoder.encode_chunks([to_token_chunks(pairs)]).tensor
    plain = encoder.encode_chunks([to_token_chunks(pairs)], emphasis="ignore").tensor
    assert (weighted - plain).abs().max().item() > 1e-3


def test_clip_skip_1_is_last_hidden_state(encoder: TextEncoder, model: Any) -> None:
    chunk = TokenChunk.from_tokens([320, 1125, 539, 320, 2368])
    got = encoder.encode_chunks([[chunk]], clip_skip=1).tensor
    with torch.no_grad():
        want = model(input_ids=torch.tensor([chunk.tokens])).last_hidden_state
    assert torch.equal(got, want) or (got - want).abs().max().item() <= ATOL


def test_clip_skip_2_is_penultimate_through_final_norm(encoder: TextEncoder, model: Any) -> None:
    chunk = TokenChunk.from_tokens([320, 2368])
    got = encoder.encode_chunks([[chunk]]).tensor  # default clip_skip=2
    with torch.no_grad():
        out = model(input_ids=torch.tensor([chunk.tokens]), output_hidden_states=True)
        inner = getattr(model, "text_model", model)
        want = inner.final_layer_norm(out.hidden_states[-2])
    close(got, want)
    assert (got - out.last_hidden_state).abs().max().item() > 1e-3


@pytest.mark.parametrize("clip_skip", [1, 2, 3])
def test_clip_skip_range(encoder: TextEncoder, model: Any, clip_skip: int) -> None:
    c = TokenChunk.from_tokens([320, 2368], [1.2, 0.8])
    pairs = [(list(c.tokens), list(c.multipliers))]
    got = encoder.encode_chunks([to_token_chunks(pairs)], clip_skip=clip_skip).tensor
    close(got, reference_webui(model, [pairs], clip_skip))


@pytest.mark.parametrize("bad", [0, 4, -1, True])
def test_clip_skip_out_of_range(encoder: TextEncoder, bad: Any) -> None:
    with pytest.raises(ValueError, match="clip_skip"):
        encoder.encode_chunks([[TokenChunk.from_tokens([320])]], clip_skip=bad)


def _random_prompt(rng: random.Random, n_chunks: int) -> list[tuple[list[int], list[float]]]:
    out = []
    for _ in range(n_chunks):
        n = rng.randint(0, 75)
        toks = [rng.randint(0, 49405) for _ in range(n)]
        ws = [rng.choice([1.0, 1.0, 1.1, 1.21, 0.909, 1.5, 0.5]) for _ in range(n)]
        c = TokenChunk.from_tokens(toks, ws)
        out.append((list(c.tokens), list(c.multipliers)))
    return out


def test_batch_of_prompts_equals_each_prompt_alone(encoder: TextEncoder, model: Any) -> None:
    rng = random.Random(1)
    prompts = [_random_prompt(rng, rng.randint(1, 3)) for _ in range(6)]
    got = encoder.encode_chunks([to_token_chunks(p) for p in prompts])
    k = max(len(p) for p in prompts)
    assert got.tensor.shape == (6, 77 * k, model.config.hidden_size)
    empty = reference_webui(model, [[(empty_tokens(), [1.0] * 77)]])[0]
    for i, p in enumerate(prompts):
        want = reference_webui(model, [p])[0]
        pad = empty.repeat(k - len(p), 1)
        close(got.tensor[i], torch.cat([want, pad]))
    close(got.empty, empty)


def test_batch_mean_is_shared_within_one_call(encoder: TextEncoder, model: Any) -> None:
    rng = random.Random(2)
    prompts = [_random_prompt(rng, n) for n in (1, 3, 2, 2)]
    got = encoder.encode_chunks([to_token_chunks(p) for p in prompts], mean_over="batch")
    close(got.tensor, reference_webui(model, prompts))
    alone = encoder.encode_chunks([to_token_chunks(p) for p in prompts])
    assert (got.tensor - alone.tensor).abs().max().item() > 1e-5  # the scopes really differ


def test_conformance_batch_padding(encoder: TextEncoder, model: Any) -> None:
    for case in conformance("webui_batch_padding.json"):
        n_texts = len(case["texts"])
        per_text = [[case["chunks"][k][t] for k in range(case["chunk_count"])] for t in range(n_texts)]
        pairs = [as_pairs(chunks) for chunks in per_text]
        got = encoder.encode_chunks([to_token_chunks(p) for p in pairs], mean_over="batch")
        close(got.tensor, reference_webui(model, pairs))
        assert got.chunk_count == case["chunk_count"]


def test_duplicate_texts_count_in_the_shared_mean(encoder: TextEncoder, model: Any) -> None:
    rng = random.Random(3)
    a, b = _random_prompt(rng, 1), _random_prompt(rng, 1)
    got = encoder.encode_chunks([to_token_chunks(p) for p in (a, a, b)], mean_over="batch")
    close(got.tensor, reference_webui(model, [a, a, b]))


@pytest.mark.parametrize("mode", ["no_norm", "comfy"])
def test_other_emphasis_modes(encoder: TextEncoder, model: Any, mode: str) -> None:
    rng = random.Random(4)
    prompts = [_random_prompt(rng, 2), _random_prompt(rng, 1)]
    got = encoder.encode_chunks([to_token_chunks(p) for p in prompts], emphasis=mode, mean_over="batch")
    close(got.tensor, reference_webui(model, prompts, emphasis=mode))


@pytest.mark.parametrize("mode", ["ignore", "none"])
def test_ignore_modes_skip_multipliers(encoder: TextEncoder, model: Any, mode: str) -> None:
    rng = random.Random(5)
    p = _random_prompt(rng, 2)
    got = encoder.encode_chunks([to_token_chunks(p)], emphasis=mode)
    unweighted = [(t, [1.0] * 77) for t, _ in p]
    close(got.tensor, reference_webui(model, [unweighted]))


def test_comfy_leaves_unit_weights_untouched_and_lerps_others(encoder: TextEncoder, model: Any) -> None:
    c = TokenChunk.from_tokens([320, 2368], [1.0, 2.0])
    got = encoder.encode_chunks([[c]], emphasis="comfy").tensor[0]
    raw = reference_hidden(model, torch.tensor([c.tokens]), 2)[0]
    e = reference_hidden(model, torch.tensor([empty_tokens()]), 2)[0]
    assert torch.equal(got[1], raw[1])
    close(got[2], e[2] + 2.0 * (raw[2] - e[2]))


def test_emphasis_names_accept_webui_spelling(encoder: TextEncoder) -> None:
    c = [TokenChunk.from_tokens([320], [1.5])]
    a = encoder.encode_chunks([c], emphasis="No norm").tensor
    b = encoder.encode_chunks([c], emphasis="no_norm").tensor
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="emphasis"):
        encoder.encode_chunks([c], emphasis="loud")


def test_pad_pair_modes(encoder: TextEncoder, model: Any) -> None:
    rng = random.Random(6)
    long_p, short_p = _random_prompt(rng, 3), _random_prompt(rng, 2)
    cond = encoder.encode_chunks([to_token_chunks(long_p)])
    uncond = encoder.encode_chunks([to_token_chunks(short_p)])
    empty = reference_webui(model, [[(empty_tokens(), [1.0] * 77)]])[0]

    c, u = pad_pair(cond, uncond, "empty")
    assert c is cond and u.tensor.shape == cond.tensor.shape
    close(u.tensor[0, 154:], empty)
    close(u.tensor[0, :154], uncond.tensor[0])

    c, u = pad_pair(cond, uncond, "none")
    assert u.tensor.shape[1] == 154

    c, u = pad_pair(cond, uncond, "v0")
    assert torch.equal(u.tensor[0, 154:], uncond.tensor[0, -1:].expand(77, -1))
    _c2, u2 = pad_pair(uncond, cond, "v0")  # uncond longer: truncated
    assert torch.equal(u2.tensor, cond.tensor[:, :154])

    c, u = pad_pair(cond, uncond, "tile")
    assert c.tensor.shape[1] == u.tensor.shape[1] == 77 * 6
    assert torch.equal(u.tensor[0, 154:308], uncond.tensor[0])


def test_tile_padding_is_exact_for_cross_attention(encoder: TextEncoder) -> None:
    # The reason "tile" reproduces WebUI's unpadded default: attention over a repeated key/value set.
    rng = random.Random(7)
    cond = encoder.encode_chunks([to_token_chunks(_random_prompt(rng, 2))])
    q = torch.randn(1, 5, cond.tensor.shape[-1])
    base = torch.nn.functional.scaled_dot_product_attention(q, cond.tensor, cond.tensor)
    tiled, _ = pad_pair(cond, encoder.encode_chunks([to_token_chunks(_random_prompt(rng, 3))]), "tile")
    again = torch.nn.functional.scaled_dot_product_attention(q, tiled.tensor, tiled.tensor)
    close(again, base, 1e-5)


def test_conditioning_helpers(encoder: TextEncoder) -> None:
    a = encoder.encode_chunks([[TokenChunk.from_tokens([320])]])
    b = encoder.encode_chunks(
        [[TokenChunk.from_tokens([321])], [TokenChunk.from_tokens([322]), TokenChunk.from_tokens([323])]]
    )
    both = concat([a, b])
    assert isinstance(both, Conditioning) and len(both) == 3 and both.chunk_count == 2
    assert torch.equal(both[0].tensor[:, :77], a.tensor)
    assert torch.equal(both[2].tensor[:, :77], b[1].tensor[:, :77])
    assert torch.equal(both[0].tensor[:, 77:], a.empty.unsqueeze(0))
    with pytest.raises(IndexError):
        a[1]
    with pytest.raises(ValueError):
        b.padded(1)


def test_output_is_a_plain_tensor_without_grad(encoder: TextEncoder) -> None:
    cond = encoder.encode_chunks([[TokenChunk.from_tokens([320], [1.2])]])
    assert not cond.tensor.requires_grad
    assert not cond.tensor.is_inference()
    cond.tensor.mul_(1.0)  # callers may modify it in place


def test_bad_chunks_are_rejected(encoder: TextEncoder) -> None:
    with pytest.raises(ValueError, match="77"):
        encoder.encode_chunks([[TokenChunk((49406, 49407), (1.0, 1.0))]])
    with pytest.raises(ValueError):
        TokenChunk((1, 2), (1.0,))
    assert EOS == 49407
