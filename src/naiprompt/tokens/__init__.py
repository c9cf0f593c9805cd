"""CLIP tokenizer backend and WebUI-exact token counting.

Everything is imported lazily: ``import naiprompt.tokens`` costs nothing until a name is used, and
``regex``/``ftfy`` (the ``naiprompt[tokens]`` extra) are imported only for text that needs them.

The vocabulary in ``data/`` is derived from OpenAI CLIP's BPE merges (MIT licence, Copyright (c) 2021 OpenAI;
see ``data/LICENSE-OPENAI-CLIP``).

Example:
    >>> from naiprompt.tokens import tokenize, count_tokens
    >>> tokenize("1girl")
    [272, 1611]
    >>> str(count_tokens("1girl, solo"))
    '4/75'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from naiprompt.tokens.api import (
        Budget,
        ChunkBatch,
        TagSpan,
        TokenCount,
        batch_chunks,
        budget,
        chunks,
        count_tokens,
        segments,
        tokenize,
    )
    from naiprompt.tokens.chunking import Chunk, Layout, chunk_segments
    from naiprompt.tokens.clip import ClipTokenizer, TokenizerDependencyError
    from naiprompt.tokens.emphasis import Emphasis, emphasis_names, get_emphasis, register_emphasis
    from naiprompt.tokens.registry import Tokenizer, get_tokenizer, register_tokenizer, tokenizer_names

__all__ = [
    "Budget",
    "Chunk",
    "ChunkBatch",
    "ClipTokenizer",
    "Emphasis",
    "Layout",
    "TagSpan",
    "TokenCount",
    "Tokenizer",
    "TokenizerDependencyError",
    "batch_chunks",
    "budget",
    "chunk_segments",
    "chunks",
    "count_tokens",
    "emphasis_names",
    "get_emphasis",
    "get_tokenizer",
    "register_emphasis",
    "register_tokenizer",
    "segments",
    "tokenize",
    "tokenizer_names",
]

_WHERE = {
    "Budget": "api",
    "ChunkBatch": "api",
    "TagSpan": "api",
    "TokenCount": "api",
    "batch_chunks": "api",
    "budget": "api",
    "chunks": "api",
    "count_tokens": "api",
    "segments": "api",
    "tokenize": "api",
    "Chunk": "chunking",
    "Layout": "chunking",
    "chunk_segments": "chunking",
    "ClipTokenizer": "clip",
    "TokenizerDependencyError": "clip",
    "Emphasis": "emphasis",
    "emphasis_names": "emphasis",
    "get_emphasis": "emphasis",
    "register_emphasis": "emphasis",
    "Tokenizer": "registry",
    "get_tokenizer": "registry",
    "register_tokenizer": "registry",
    "tokenizer_names": "registry",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
