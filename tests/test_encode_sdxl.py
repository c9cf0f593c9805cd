"""SDXL: CLIP-L + OpenCLIP-G conditioning and pooled output against an independent WebUI reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from encode_reference import EOS, as_pairs, conformance, reference_webui, tiny_clip  # noqa: E402
from naiprompt.encode import SDXLTextEncoder, TokenChunk  # noqa: E402

ATOL = 1e-6
CASES = conformance("webui_tokens.json")[:12]


@pytest.fixture(scope="module")
def models() -> tuple[Any, Any]:
    model_l = tiny_clip(21, hidden=32, layers=3, heads=2)
    model_g = tiny_clip(22, hidden=48, layers=3, heads=3, projection=True, act="gelu")
    return model_l, model_g


@pytest.fixture(scope="module")
def encoder(models: tuple[Any, Any]) -> SDXLTextEncoder:
    return SDXLTextEncoder(*models)


def reference(
    models: tuple[Any, Any], texts: list[Any], clip_skip: int = 2, emphasis: str = "original"
) -> Any:
    model_l, model_g = models
    z_l = reference_webui(model_l, texts, clip_skip, emphasis, sdxl=True, pad=EOS)
    z_g = reference_webui(model_g, texts, clip_skip, emphasis, sdxl=True, pad=0)
    return torch.cat([z_l, z_g], dim=-1)


def reference_pooled(model_g: Any, first_chunk_tokens: list[int]) -> Any:
    ids = list(first_chunk_tokens)
    first = ids.index(EOS)
    ids = ids[: first + 1] + [0] * (len(ids) - first - 1)
    with torch.no_grad():
        return model_g(input_ids=torch.tensor([ids])).text_embeds[0]


def close(a: Any, b: Any, atol: float = ATOL) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    diff = (a.float() - b.float()).abs().max().item()
    assert diff <= atol, f"max abs difference {diff}"


@pytest.mark.parametrize("case", CASES, ids=[c["prompt"][:40] for c in CASES])
@pytest.mark.parametrize("clip_skip", [1, 2])
def test_conformance_chunks(encoder: SDXLTextEncoder, models: Any, case: Any, clip_skip: int) -> None:
    pairs = as_pairs(case["chunks"])
    chunks = [TokenChunk(tuple(t), tuple(m)) for t, m in pairs]
    got = encoder.encode_chunks([chunks], clip_skip=clip_skip)
    close(got.tensor, reference(models, [pairs], clip_skip))
    assert got.pooled is not None
    close(got.pooled[0], reference_pooled(models[1], pairs[0][0]))


def test_skip_2_is_penultimate_without_final_norm(encoder: SDXLTextEncoder, models: Any) -> None:
    model_l, model_g = models
    c = TokenChunk.from_tokens([320, 2368])
    got = encoder.encode_chunks([[c]]).tensor[0]
    with torch.no_grad():
        hl = model_l(input_ids=torch.tensor([c.tokens]), output_hidden_states=True).hidden_states[-2][0]
        g_ids = [*c.tokens[:4], *([0] * 73)]
        hg = model_g(input_ids=torch.tensor([g_ids]), output_hidden_states=True).hidden_states[-2][0]
    close(got, torch.cat([hl, hg], dim=-1))
    assert encoder.width == 80


def test_g_pads_with_zero(encoder: SDXLTextEncoder, models: Any) -> None:
    # Guard: padding G with EOS instead of 0 would give a different conditioning.
    c = TokenChunk.from_tokens([320, 2368])
    got = encoder.encode_chunks([[c]]).tensor[0, :, 32:]
    with torch.no_grad():
        out = models[1](input_ids=torch.tensor([c.tokens]), output_hidden_states=True)
        eos_padded = out.hidden_states[-2][0]
    assert (got - eos_padded).abs().max().item() > 1e-3


def tokens_chunks(text: str) -> list[tuple[list[int], list[float]]]:
    from naiprompt.tokens import chunks

    return [(list(c.tokens), list(c.multipliers)) for c in chunks(text)]


def test_text_prompts_batch_schedule(encoder: SDXLTextEncoder, models: Any) -> None:
    texts = ["1girl, (smile:1.2) BREAK [sky]", "a cat, " * 40]
    got = encoder.encode(texts, mean_over="batch")
    close(got.tensor, reference(models, [tokens_chunks(t) for t in texts]))
    sched = encoder.encode_schedule("[cat:(dog:1.2):2] girl", 4)
    want = reference(models, [tokens_chunks("cat girl"), tokens_chunks("(dog:1.2) girl")])
    close(sched[0][1].tensor[0], want[0])
    close(sched[1][1].tensor[0], want[1])


def test_pooled_is_first_chunk_of_text_without_syntax(encoder: SDXLTextEncoder, models: Any) -> None:
    weighted = encoder.encode("((cat:1.5)), [dog] BREAK sky")
    plain = tokens_chunks("cat, dog")
    assert weighted.pooled is not None
    close(weighted.pooled[0], reference_pooled(models[1], plain[0][0]))


def test_from_pretrained_diffusers_folder(tmp_path: Path, models: Any, encoder: SDXLTextEncoder) -> None:
    models[0].save_pretrained(tmp_path / "text_encoder")
    models[1].save_pretrained(tmp_path / "text_encoder_2")
    loaded = SDXLTextEncoder.from_pretrained(tmp_path)
    a = loaded.encode("1girl, (smile:1.2)")
    b = encoder.encode("1girl, (smile:1.2)")
    assert torch.equal(a.tensor, b.tensor)
    assert a.pooled is not None and b.pooled is not None and torch.equal(a.pooled, b.pooled)


def test_padding_uses_both_empty_encodings(encoder: SDXLTextEncoder, models: Any) -> None:
    cond = encoder.encode("a").padded(2)
    empty = reference(models, [tokens_chunks("")])[0]
    close(cond.tensor[0, 77:], empty)
