"""Token chunks as the encoder consumes them: 77 token ids and 77 multipliers.

The tokenizer (:mod:`naiprompt.tokens`) builds the chunks, and the encoder takes
the same :class:`~naiprompt.tokens.Chunk` type (``TokenChunk`` here) or anything
shaped like it (``ChunkLike``), for example WebUI's own chunks from a
conformance file. Emphasis modes come from the one registry of
:mod:`naiprompt.tokens.emphasis`.

Example:
    >>> from naiprompt.encode import TokenChunk, empty_chunk
    >>> chunk = empty_chunk()
    >>> (chunk.tokens[:3], len(chunk.tokens), chunk.multipliers[0])
    ((49406, 49407, 49407), 77, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from naiprompt import defaults
from naiprompt.tokens.chunking import CHUNK_LENGTH as CLIP_WINDOW
from naiprompt.tokens.chunking import CLIP_BOS, CLIP_EOS, Chunk
from naiprompt.tokens.emphasis import Emphasis, get_emphasis

BOS = CLIP_BOS
"""CLIP's start-of-text id."""
EOS = CLIP_EOS
"""CLIP's end-of-text id, also the padding id of SD 1.x and SDXL's CLIP-L."""
CHUNK_LENGTH = CLIP_WINDOW + 2
"""Ids per CLIP chunk: BOS, CLIP's window of 75 prompt tokens, EOS."""

EmphasisMode = str
"""The canonical name of an emphasis mode of the :mod:`naiprompt.tokens.emphasis` registry."""

TokenChunk = Chunk
"""The chunk the encoder consumes: :class:`naiprompt.tokens.Chunk`, one type for tokens and encode.

Example:
    >>> c = TokenChunk.from_tokens([320, 2368], weights=[1.0, 1.3])
    >>> c.tokens[:4], c.multipliers[:4]
    ((49406, 320, 2368, 49407), (1.0, 1.0, 1.3, 1.0))
"""


def normalize_emphasis(name: str | Emphasis) -> EmphasisMode:
    """Return the canonical emphasis mode for ``name`` (WebUI's, ComfyUI's and diffusers' names accepted).

    Example:
        >>> normalize_emphasis("No norm")
        'no_norm'
        >>> normalize_emphasis("Original"), normalize_emphasis("A1111")
        ('original', 'original')
    """
    return get_emphasis(name).name


@runtime_checkable
class ChunkLike(Protocol):
    """Anything with 77 ``tokens`` and 77 ``multipliers``, such as :class:`TokenChunk`.

    Example:
        >>> isinstance(TokenChunk.from_tokens([320]), ChunkLike)
        True
    """

    @property
    def tokens(self) -> Sequence[int]: ...

    @property
    def multipliers(self) -> Sequence[float]: ...


def empty_chunk(pad: int = EOS) -> TokenChunk:
    """The chunk of the empty prompt: BOS, EOS, then padding, all multipliers 1.

    Example:
        >>> empty_chunk(pad=0).tokens[:3]
        (49406, 49407, 0)
    """
    return TokenChunk.from_tokens([], pad=pad)


def as_token_chunk(chunk: ChunkLike) -> TokenChunk:
    """Copy any chunk-like object into an immutable :class:`TokenChunk`.

    Example:
        >>> as_token_chunk(empty_chunk()) == empty_chunk()
        True
    """
    if isinstance(chunk, TokenChunk):
        return chunk
    return TokenChunk(tuple(int(t) for t in chunk.tokens), tuple(float(m) for m in chunk.multipliers))


def pad_after_first_eos(tokens: Sequence[int], pad: int) -> tuple[int, ...]:
    """Replace everything after the first EOS by ``pad`` (OpenCLIP-G's padding, webui.md §6.1).

    Example:
        >>> pad_after_first_eos([49406, 320, 49407, 49407, 49407], 0)
        (49406, 320, 49407, 0, 0)
    """
    out = list(tokens)
    try:
        first = out.index(EOS)
    except ValueError:
        return tuple(out)
    for i in range(first + 1, len(out)):
        out[i] = pad
    return tuple(out)


def text_chunks(
    text: str,
    *,
    dialect: str = defaults.DIALECT,
    comma_backtrack: int = 20,
    emphasis: EmphasisMode | Emphasis = "original",
) -> list[TokenChunk]:
    """Tokenize ``text`` into WebUI chunks with ``naiprompt.tokens.chunks``.

    A literal mode (``"none"``) tokenizes the text as it is (brackets kept, BREAK
    inactive), as WebUI's "None" mode; every other mode parses the emphasis. A mode
    with its own chunker (``"comfy"``: ComfyUI's) chunks with it.

    Example:
        >>> [c.tokens[:6] for c in text_chunks("a photo of a cat")]  # doctest: +SKIP
        [(49406, 320, 1125, 539, 320, 2368)]
    """
    try:
        from naiprompt.tokens import chunks as _chunks
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "naiprompt.encode needs the tokenizer; install naiprompt[torch] (it pulls regex and ftfy)"
        ) from exc
    mode = get_emphasis(emphasis)
    if mode.chunker is not None:  # ComfyUI's own chunking: unmerged segments, no comma backtrack
        from naiprompt.dialects import get_dialect
        from naiprompt.tokens import segments

        tokenizer = getattr(get_dialect(dialect), "tokenizer", defaults.TOKENIZER)
        return [as_token_chunk(c) for c in mode.chunker(segments(text, dialect), tokenizer).chunks]
    result = _chunks(text, dialect, comma_backtrack=comma_backtrack, emphasis=mode)
    return [as_token_chunk(c) for c in result]
