"""WebUI-exact prompt embeddings for diffusers pipelines (optional: needs ``naiprompt[torch]`` and diffusers).

:func:`prompt_embeds` returns the keyword arguments of a ``StableDiffusionPipeline``
call, :func:`sdxl_prompt_embeds` those of a ``StableDiffusionXLPipeline`` call. The
pipeline's own tokenizer is not used: naiprompt tokenizes, chunks (75 tokens,
comma backtrack, BREAK) and weights the prompt as WebUI does.

Example:
    >>> from diffusers import StableDiffusionPipeline  # doctest: +SKIP
    >>> from naiprompt.diffusers import prompt_embeds  # doctest: +SKIP
    >>> pipe = StableDiffusionPipeline.from_single_file("animefull.safetensors")  # doctest: +SKIP
    >>> kwargs = prompt_embeds(pipe, "1girl, (smile:1.2), {{masterpiece}}", "lowres, bad anatomy",
    ...                        dialect="nai")  # doctest: +SKIP
    >>> image = pipe(**kwargs, num_inference_steps=28, guidance_scale=7).images[0]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import torch

from naiprompt.encode import Conditioning, PadMode, SDXLTextEncoder, TextEncoder, pad_pair
from naiprompt.errors import warn

__all__ = ["prompt_embeds", "sdxl_prompt_embeds"]


def _as_list(prompt: str | Sequence[str]) -> list[str]:
    return [prompt] if isinstance(prompt, str) else list(prompt)


def _core(module: str, name: str) -> Any:
    package = importlib.import_module("naiprompt")
    found = getattr(package, name, None)
    return found if found is not None else getattr(importlib.import_module(f"naiprompt.{module}"), name)


def _positive_text(text: str) -> str:
    """WebUI's positive-prompt preparation that fits one conditioning: extra networks out, AND checked."""
    cleaned = _core("networks", "extra_networks")(text)
    cleaned = cleaned if isinstance(cleaned, str) else str(cleaned[0])
    parts = _core("composable", "subprompts")(cleaned)
    if len(parts) > 1:
        raise ValueError(
            "the prompt has AND subprompts, which one prompt_embeds tensor cannot express; "
            "use TextEncoder.encode_and() and combine the denoiser outputs"
        )
    body, weight = parts[0]
    if float(weight) != 1.0:
        warn(
            f"WebUI reads the trailing ':{weight}' as a composable weight that scales the guidance; "
            f"it was removed. Multiply guidance_scale by {weight} to match WebUI.",
            "guidance-weight-removed",
        )
    _check_no_schedule(body)
    return str(body)


def _check_no_schedule(text: str) -> None:
    if len(_core("editing", "schedules")(text, 1000)) > 1:
        raise ValueError(
            "the prompt uses prompt editing or alternation ([a:b:n], [a|b]), which changes the "
            "conditioning during sampling; use TextEncoder.encode_schedule()"
        )


def _pair(
    encoder: TextEncoder | SDXLTextEncoder,
    prompt: str | Sequence[str],
    negative_prompt: str | Sequence[str],
    pad: PadMode,
    options: dict[str, Any],
) -> tuple[Conditioning, Conditioning, list[str]]:
    positives = [_positive_text(p) for p in _as_list(prompt)]
    negatives = _as_list(negative_prompt)
    if len(negatives) == 1 and len(positives) > 1:
        negatives = negatives * len(positives)
    if len(negatives) != len(positives):
        raise ValueError(f"{len(positives)} prompts but {len(negatives)} negative prompts")
    for n in negatives:
        _check_no_schedule(n)
    cond = encoder.encode(positives, **options)
    uncond = encoder.encode(negatives, **options)
    if pad == "none" and cond.chunk_count != uncond.chunk_count:
        raise ValueError(
            f"prompt ({cond.chunk_count} chunks) and negative prompt ({uncond.chunk_count}) differ in "
            "length and diffusers needs equal shapes; use pad='empty' (WebUI's 'Pad prompt/negative "
            "prompt') or pad='tile' (same result as WebUI's default of no padding)"
        )
    cond, uncond = pad_pair(cond, uncond, pad)
    return cond, uncond, negatives


def prompt_embeds(
    pipe: Any,
    prompt: str | Sequence[str],
    negative_prompt: str | Sequence[str] = "",
    *,
    encoder: TextEncoder | None = None,
    pad: PadMode = "empty",
    **options: Any,
) -> dict[str, torch.Tensor]:
    """``prompt_embeds`` and ``negative_prompt_embeds`` for a ``StableDiffusionPipeline`` call.

    ``options`` go to :meth:`TextEncoder.encode`: ``dialect`` ("webui", "nai",
    "comfy"), ``clip_skip`` (WebUI numbering, default 2; diffusers' ``clip_skip=1``
    is WebUI's 2), ``emphasis``, ``comma_backtrack``. ``pad`` brings prompt and
    negative to one length: "empty" (WebUI's "Pad prompt/negative prompt"),
    "tile" (equivalent to WebUI's default of separate passes), "v0", or "none".
    Extra-network tags are removed from the prompt (load LoRAs with diffusers);
    AND and prompt editing raise ``ValueError`` (see :class:`~naiprompt.encode.TextEncoder`).

    Example:
        >>> kwargs = prompt_embeds(pipe, "1girl, (smile:1.2)", "lowres")  # doctest: +SKIP
        >>> sorted(kwargs)  # doctest: +SKIP
        ['negative_prompt_embeds', 'prompt_embeds']
    """
    enc = encoder if encoder is not None else TextEncoder(pipe.text_encoder)
    cond, uncond, _ = _pair(enc, prompt, negative_prompt, pad, options)
    device = enc.device
    return {
        "prompt_embeds": cond.tensor.to(device),
        "negative_prompt_embeds": uncond.tensor.to(device),
    }


def sdxl_prompt_embeds(
    pipe: Any,
    prompt: str | Sequence[str],
    negative_prompt: str | Sequence[str] = "",
    *,
    encoder: SDXLTextEncoder | None = None,
    pad: PadMode = "empty",
    zero_empty_negative: bool | None = None,
    **options: Any,
) -> dict[str, torch.Tensor]:
    """The four embedding arguments of a ``StableDiffusionXLPipeline`` call.

    Returns ``prompt_embeds``, ``negative_prompt_embeds``, ``pooled_prompt_embeds``
    and ``negative_pooled_prompt_embeds``. An empty negative prompt becomes zeros
    when ``zero_empty_negative`` is true; by default that follows the pipeline's
    ``force_zeros_for_empty_prompt`` setting (WebUI does the same for SDXL).
    Other options as in :func:`prompt_embeds`.

    Example:
        >>> kwargs = sdxl_prompt_embeds(pipe, "1girl, (smile:1.2)", "")  # doctest: +SKIP
        >>> kwargs["pooled_prompt_embeds"].shape  # doctest: +SKIP
        torch.Size([1, 1280])
    """
    enc = encoder if encoder is not None else SDXLTextEncoder(pipe.text_encoder, pipe.text_encoder_2)
    cond, uncond, negatives = _pair(enc, prompt, negative_prompt, pad, options)
    if zero_empty_negative is None:
        config = getattr(pipe, "config", None)
        zero_empty_negative = bool(getattr(config, "force_zeros_for_empty_prompt", False))
    neg = uncond.tensor
    neg_pooled = uncond.pooled
    if neg_pooled is None or cond.pooled is None:
        raise TypeError("an SDXL encoder must give pooled embeddings")
    if zero_empty_negative and all(n == "" for n in negatives):
        neg = torch.zeros_like(cond.tensor)
        neg_pooled = torch.zeros_like(cond.pooled)
    device = enc.device
    return {
        "prompt_embeds": cond.tensor.to(device),
        "negative_prompt_embeds": neg.to(device),
        "pooled_prompt_embeds": cond.pooled.to(device),
        "negative_pooled_prompt_embeds": neg_pooled.to(device),
    }
