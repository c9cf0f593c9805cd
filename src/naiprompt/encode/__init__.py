"""Prompt -> text-encoder conditioning, exactly as AUTOMATIC1111 WebUI computes it (optional torch backend).

Install with ``pip install naiprompt[torch]``. ``import naiprompt`` never imports
this subpackage; importing it imports torch and transformers.

* :class:`TextEncoder` — SD 1.x / NovelAI V1 (CLIP ViT-L, CLIP skip 2 by default).
* :class:`SDXLTextEncoder` — SDXL / NovelAI V3 style models (CLIP-L + OpenCLIP-G).
* :class:`Conditioning` — the result: ``.tensor`` (batch, 77 x chunks, width), the chunk
  layout, and SDXL's ``.pooled``.

Example:
    >>> from naiprompt.encode import TextEncoder  # doctest: +SKIP
    >>> enc = TextEncoder.from_pretrained("animefull-final-pruned.safetensors")  # doctest: +SKIP
    >>> cond = enc.encode("1girl, {{masterpiece}}", dialect="nai")  # doctest: +SKIP
    >>> cond.tensor.shape  # doctest: +SKIP
    torch.Size([1, 77, 768])
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
    import transformers as _transformers  # noqa: F401
except ImportError as _exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "naiprompt.encode needs the optional torch backend: pip install 'naiprompt[torch]'"
    ) from _exc

from naiprompt.encode._chunks import (
    BOS,
    CHUNK_LENGTH,
    EOS,
    ChunkLike,
    EmphasisMode,
    TokenChunk,
    empty_chunk,
    normalize_emphasis,
    pad_after_first_eos,
    text_chunks,
)
from naiprompt.encode._core import Conditioning, PadMode, concat, pad_pair
from naiprompt.encode._encoder import BaseEncoder, MeanScope, Schedule, TextEncoder, schedule_at
from naiprompt.encode._load import (
    UnsafeCheckpointError,
    extract_text_encoder,
    infer_config,
    load_text_model,
    read_state_dict,
    safe_torch_load,
)
from naiprompt.encode._model import text_transformer
from naiprompt.encode._sdxl import SDXLTextEncoder

__all__ = [
    "BOS",
    "CHUNK_LENGTH",
    "EOS",
    "BaseEncoder",
    "ChunkLike",
    "Conditioning",
    "EmphasisMode",
    "MeanScope",
    "PadMode",
    "SDXLTextEncoder",
    "Schedule",
    "TextEncoder",
    "TokenChunk",
    "UnsafeCheckpointError",
    "concat",
    "empty_chunk",
    "extract_text_encoder",
    "infer_config",
    "load_text_model",
    "normalize_emphasis",
    "pad_after_first_eos",
    "pad_pair",
    "read_state_dict",
    "safe_torch_load",
    "schedule_at",
    "text_chunks",
    "text_transformer",
]
