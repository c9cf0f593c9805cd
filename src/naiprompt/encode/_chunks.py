"""Token chunks as the encoder consumes them: 77 token ids and 77 multipliers.

The tokenizer (:mod:`naiprompt.tokens`) builds the chunks; this module only
defines the minimal shape the encoder needs, a plain implementation of it, and
the bridge to the tokenizer, imported lazily so that the encoder can also be
fed chunks built elsewhere (for example WebUI's own, from a conformance file).

Example:
    >>> from naiprompt.encode import TokenChunk, empty_chunk
    >>> chunk = empty_chunk()
    >>> (chunk.tokens[:3], len(chunk.tokens), chunk.multipliers[0])
    ((49406, 49407, 49407), 77, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

BOS = 49406
"""CLIP's start-of-text id."""
EOS = 49407
"""CLIP's end-of-text id, also the padding id of SD 1.x and SDXL's CLIP-L."""
CHUNK_LENGTH = 77
"""Tokens per chunk: BOS, 75 prompt tokens, EOS."""

EmphasisMode = Literal["original", "no_norm", "ignore", "none", "comfy"]
"""How multipliers reach the conditioning (see :func:`normalize_emphasis`)."""

_EMPHASIS_ALIASES: dict[str, EmphasisMode] = {
    "original": "original",
    "a1111": "original",
    "webui": "original",
    "no_norm": "no_norm",
    "no norm": "no_norm",
    "nonorm": "no_norm",
    "ignore": "ignore",
    "none": "none",
    "comfy": "comfy",
    "comfyui": "comfy",
}


def normalize_emphasis(name: str) -> EmphasisMode:
    """Return the canonical emphasis mode for ``name`` (WebUI's display names accepted).

    Example:
        >>> normalize_emphasis("No norm")
        'no_norm'
        >>> normalize_emphasis("Original")
        'original'
    """
    key = name.strip().lower().replace("-", "_")
    try:
        return _EMPHASIS_ALIASES[key]
    except KeyError:
        choices = ", ".join(sorted({"original", "no_norm", "ignore", "none", "comfy"}))
        raise ValueError(f"unknown emphasis mode {name!r}; choose one of {choices}") from None


@runtime_checkable
class ChunkLike(Protocol):
    """Anything with 77 ``tokens`` and 77 ``multipliers``, such as ``naiprompt.tokens.Chunk``.

    Example:
        >>> isinstance(TokenChunk.from_tokens([320]), ChunkLike)
        True
    """

    @property
    def tokens(self) -> Sequence[int]: ...

    @property
    def multipliers(self) -> Sequence[float]: ...


@dataclass(frozen=True)
class TokenChunk:
    """A plain 77-token chunk with one multiplier per position.

    Example:
        >>> c = TokenChunk.from_tokens([320, 2368], weights=[1.0, 1.3])
        >>> c.tokens[:4], c.multipliers[:4]
        ((49406, 320, 2368, 49407), (1.0, 1.0, 1.3, 1.0))
    """

    tokens: tuple[int, ...]
    multipliers: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.multipliers):
            raise ValueError(
                f"a chunk needs one multiplier per token, got {len(self.tokens)} tokens "
                f"and {len(self.multipliers)} multipliers"
            )

    @classmethod
    def from_tokens(
        cls, tokens: Sequence[int], weights: Sequence[float] | None = None, *, pad: int = EOS
    ) -> TokenChunk:
        """Wrap up to 75 prompt tokens with BOS and EOS and pad them to 77.

        Example:
            >>> TokenChunk.from_tokens([320], pad=0).tokens[:4]
            (49406, 320, 49407, 0)
        """
        if len(tokens) > CHUNK_LENGTH - 2:
            raise ValueError(f"a chunk holds at most {CHUNK_LENGTH - 2} tokens, got {len(tokens)}")
        if weights is None:
            weights = [1.0] * len(tokens)
        if len(weights) != len(tokens):
            raise ValueError("weights must be as long as tokens")
        fill = CHUNK_LENGTH - 2 - len(tokens)
        ids = (BOS, *tokens, EOS, *([pad] * fill))
        mults = (1.0, *map(float, weights), 1.0, *([1.0] * fill))
        return cls(tuple(int(t) for t in ids), mults)


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
    dialect: str = "webui",
    comma_backtrack: int = 20,
    emphasis: EmphasisMode = "original",
) -> list[TokenChunk]:
    """Tokenize ``text`` into WebUI chunks with ``naiprompt.tokens.chunks``.

    With ``emphasis="none"`` the text is tokenized literally (brackets kept, BREAK
    inactive), as WebUI's "None" mode; every other mode parses the emphasis.

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
    parse_mode = "none" if emphasis == "none" else "original"
    if emphasis == "comfy":  # ComfyUI's own chunking: unmerged segments, no comma backtrack
        from naiprompt.tokens import segments
        from naiprompt.tokens.comfy_chunking import comfy_chunk_segments

        return [as_token_chunk(c) for c in comfy_chunk_segments(segments(text, dialect)).chunks]
    result = _chunks(text, dialect, comma_backtrack=comma_backtrack, emphasis=parse_mode)
    return [as_token_chunk(c) for c in result]
