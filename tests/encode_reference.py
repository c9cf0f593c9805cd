"""Shared helpers for the torch-backend tests: tiny random CLIP models and an independent WebUI reference.

The reference below is written from webui.md §6-8, deliberately the plain way:
one forward pass per chunk index over the texts of one WebUI call, hidden state
``-clip_skip`` (through the final LayerNorm for SD 1.x when skipping), then
``z * m`` and the mean restore ``z * (mean_before / mean_after)`` over that chunk batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CONFORMANCE = Path(__file__).resolve().parent / "fixtures" / "conformance"

BOS, EOS = 49406, 49407


def conformance(name: str) -> Any:
    return json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))


def tiny_config(hidden: int = 64, layers: int = 3, heads: int = 1, act: str = "quick_gelu") -> Any:
    return transformers.CLIPTextConfig(
        vocab_size=49408,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=77,
        hidden_act=act,
        bos_token_id=BOS,
        eos_token_id=EOS,
        pad_token_id=EOS,
        projection_dim=hidden,
    )


def randomize_norms(model: Any, seed: int) -> None:
    """Random LayerNorm affines: with weight 1 / bias 0 every normed vector has mean 0 (encoders.md §9)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1.0 + 0.2 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.05 + 0.3 * torch.randn(module.bias.shape, generator=gen))


def tiny_clip(seed: int = 0, *, projection: bool = False, **kwargs: Any) -> Any:
    torch.manual_seed(seed)
    cls = transformers.CLIPTextModelWithProjection if projection else transformers.CLIPTextModel
    model = cls(tiny_config(**kwargs)).eval()
    randomize_norms(model, seed + 1000)
    return model


def final_norm(model: Any) -> Any:
    inner = getattr(model, "text_model", model)
    return inner.final_layer_norm


def empty_tokens(pad: int = EOS) -> list[int]:
    return [BOS, EOS] + [pad] * 75


def reference_hidden(model: Any, tokens: Any, clip_skip: int, *, sdxl: bool = False) -> Any:
    with torch.no_grad():
        out = model(input_ids=tokens, output_hidden_states=True)
        if sdxl:
            return out.hidden_states[-clip_skip]
        if clip_skip == 1:
            return out.last_hidden_state
        return final_norm(model)(out.hidden_states[-clip_skip])


def reference_webui(
    model: Any,
    texts: list[list[tuple[list[int], list[float]]]],
    clip_skip: int = 2,
    emphasis: str = "original",
    *,
    sdxl: bool = False,
    pad: int = EOS,
) -> Any:
    """WebUI's ``process_tokens`` loop for one call: returns (texts, 77 x K, width)."""
    k_max = max(len(t) for t in texts)
    padded = [t + [(empty_tokens(pad), [1.0] * 77)] * (k_max - len(t)) for t in texts]
    outs = []
    for k in range(k_max):
        rows = []
        for t in padded:
            ids = list(t[k][0])
            if pad != EOS:
                first = ids.index(EOS)
                ids = ids[: first + 1] + [pad] * (len(ids) - first - 1)
            rows.append(ids)
        tokens = torch.tensor(rows)
        mults = torch.tensor([t[k][1] for t in padded], dtype=torch.float32)
        z = reference_hidden(model, tokens, clip_skip, sdxl=sdxl)
        if emphasis == "original":
            original_mean = z.mean()
            z = z * mults.reshape((*mults.shape, 1)).expand(z.shape)
            new_mean = z.mean()
            z = z * (original_mean / new_mean)
        elif emphasis == "no_norm":
            z = z * mults.reshape((*mults.shape, 1)).expand(z.shape)
        elif emphasis == "comfy":
            e = reference_hidden(model, torch.tensor([empty_tokens(pad)]), clip_skip, sdxl=sdxl)[0]
            out = z.clone()
            for b in range(z.shape[0]):
                for j in range(77):
                    w = float(mults[b, j])
                    if w != 1.0:
                        out[b, j] = e[j] + w * (z[b, j] - e[j])
            z = out
        outs.append(z)
    return torch.cat(outs, dim=1)


def as_pairs(chunks: list[dict[str, Any]]) -> list[tuple[list[int], list[float]]]:
    return [(c["tokens"], c["multipliers"]) for c in chunks]


def to_token_chunks(pairs: list[tuple[list[int], list[float]]]) -> list[Any]:
    from naiprompt.encode import TokenChunk

    return [TokenChunk(tuple(t), tuple(m)) for t, m in pairs]


def has_tokens_chunks() -> bool:
    try:
        from naiprompt.tokens import chunks  # noqa: F401
    except ImportError:
        return False
    return True
