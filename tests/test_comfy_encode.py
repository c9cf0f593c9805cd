"""The encoder's ``emphasis="comfy"`` against ComfyUI's ``encode_token_weights`` rule.

ComfyUI moves each token whose weight is not 1.0 (compared as a Python float) to
``(z - z_empty) * weight + z_empty`` and leaves every other token as the model
gave it. Checked bit for bit on a tiny random CLIP, with the chunks ComfyUI's own
tokenizer gives (test_comfy_tokens.py).
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from encode_reference import empty_tokens, reference_hidden, tiny_clip  # noqa: E402
from naiprompt.encode import TextEncoder  # noqa: E402
from naiprompt.encode._chunks import text_chunks  # noqa: E402


@pytest.fixture(scope="module")
def model() -> Any:
    return tiny_clip(0)


#: Known gap: the emphasis registry receives float32 multipliers, where these weights are 1.0.
FLOAT32_ONE = "1.0 in float32: the comfy emphasis skips it, ComfyUI does not"


def comfyui_rule(model: Any, chunks: list[Any]) -> Any:
    """ComfyUI's loop, token by token, on the reference hidden states (clip skip 2)."""
    z = reference_hidden(model, torch.tensor([list(c.tokens) for c in chunks]), 2).float()
    if any(w != 1.0 for c in chunks for w in c.multipliers):
        empty = reference_hidden(model, torch.tensor([empty_tokens()]), 2)[0].float()
        for k, chunk in enumerate(chunks):
            for j, weight in enumerate(chunk.multipliers):
                if weight != 1.0:
                    z[k][j] = (z[k][j] - empty[j]) * weight + empty[j]
    return z.reshape(-1, z.shape[-1])


@pytest.mark.parametrize(
    "prompt",
    [
        "(a:1.2), (b:0.5) c",
        "a b c",
        pytest.param(
            "(a:1.00000001) b",
            marks=pytest.mark.xfail(strict=True, reason=FLOAT32_ONE),
        ),
        pytest.param(
            "(a:0.99999999)",
            marks=pytest.mark.xfail(strict=True, reason=FLOAT32_ONE),
        ),
        "(x:1e-30) y",
        "(a:-1) b",
        "((a)) " * 40,  # two chunks
    ],
)
def test_bit_for_bit(model: Any, prompt: str) -> None:
    chunks = text_chunks(prompt, dialect="comfy", emphasis="comfy")
    got = TextEncoder(model).encode_chunks([chunks], emphasis="comfy").tensor[0]
    assert torch.equal(got, comfyui_rule(model, chunks))
