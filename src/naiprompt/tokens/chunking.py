"""WebUI's 75-token chunking over weighted segments (``TextConditionalModel.tokenize_line``).

The chunker works on what the attention parser produces: a list of ``(text, weight)`` segments,
with ``("BREAK", -1.0)`` as the chunk-break marker. Each segment is tokenized on its own; its tokens are
placed into chunks of 75, each wrapped as BOS + 75 + EOS = 77 ids, padded with EOS, with WebUI's comma
backtrack: when a chunk fills up and the last standalone comma is at most ``comma_backtrack`` tokens back,
the tokens after it move to the next chunk.

``token_count`` is WebUI's count: every chunk closed before the last counts 75 (padding included), the last
one counts its real length.

Example:
    >>> layout = chunk_segments([("a photo", 1.0), ("BREAK", -1.0), ("cat", 1.2)])
    >>> layout.token_count, len(layout.chunks)
    (76, 2)
    >>> layout.chunks[1].tokens[:3], layout.chunks[1].multipliers[:3]
    ((49406, 2368, 49407), (1.0, 1.2, 1.0))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from naiprompt.tokens.registry import Tokenizer

__all__ = ["CHUNK_LENGTH", "Chunk", "Layout", "chunk_segments", "is_break"]

#: Tokens per chunk, not counting BOS and EOS.
CHUNK_LENGTH = 75


@dataclass(frozen=True)
class Chunk:
    """One 77-id chunk as WebUI feeds it to CLIP: BOS, 75 tokens or EOS pads, EOS; one multiplier per id.

    Example:
        >>> from naiprompt.tokens.api import chunks
        >>> chunk = chunks("a cat")[0]
        >>> len(chunk.tokens), chunk.tokens[:4], chunk.multipliers[:3]
        (77, (49406, 320, 2368, 49407), (1.0, 1.0, 1.0))
    """

    tokens: tuple[int, ...]
    multipliers: tuple[float, ...]

    @property
    def length(self) -> int:
        """Number of ids between BOS and the first EOS pad (content tokens; a literal EOS ends it too).

        Example:
            >>> from naiprompt.tokens.api import chunks
            >>> chunks("a photo of a cat")[0].length
            5
        """
        eos = self.tokens[-1]
        for index, token in enumerate(self.tokens[1:-1]):
            if token == eos:
                return index
        return len(self.tokens) - 2


@dataclass
class Layout:
    """Chunks of one line with provenance: where each content token of each segment ended up.

    ``segment_tokens[i]`` are the ids of segment ``i`` (empty for BREAK markers); ``positions[i][j]`` is the
    ``(chunk_index, index_in_chunk)`` of token ``j`` of segment ``i``, ``index_in_chunk`` counting from 1
    (position 0 is BOS). ``token_count`` is WebUI's count.

    Example:
        >>> layout = chunk_segments([("a", 1.0), ("b", 1.1)])
        >>> layout.positions
        [[(0, 1)], [(0, 2)]]
    """

    chunks: list[Chunk] = field(default_factory=list)
    token_count: int = 0
    segment_tokens: list[list[int]] = field(default_factory=list)
    positions: list[list[tuple[int, int]]] = field(default_factory=list)


def is_break(text: str, weight: float) -> bool:
    """Whether a segment is an active BREAK marker (WebUI honours only weight exactly -1).

    Example:
        >>> is_break("BREAK", -1.0), is_break("BREAK", -1.1), is_break("BREAK", 1.0)
        (True, False, False)
    """
    return text == "BREAK" and weight == -1


def chunk_segments(
    segments: Sequence[tuple[str, float]],
    tokenizer: str | Tokenizer = "webui",
    *,
    comma_backtrack: int = 20,
    encoded: Sequence[Sequence[int]] | None = None,
) -> Layout:
    """Tokenize and chunk ``(text, weight)`` segments exactly as WebUI's ``tokenize_line`` does.

    ``encoded`` may give the ids of each segment (then ``tokenizer`` only supplies BOS/EOS/comma ids).
    ``comma_backtrack`` is WebUI's "Increase coherency by padding from the last comma within n tokens"
    (0 disables it; WebUI allows 0..74).

    Example:
        >>> chunk_segments([("a", 1.0)]).token_count
        1
        >>> chunk_segments([]).token_count, len(chunk_segments([]).chunks)
        (0, 1)
    """
    from naiprompt.tokens.registry import get_tokenizer

    tok = get_tokenizer(tokenizer)
    if not 0 <= comma_backtrack < CHUNK_LENGTH:
        raise ValueError(f"comma_backtrack must be in 0..{CHUNK_LENGTH - 1}, got {comma_backtrack}")
    # WebUI pads chunks with EOS whatever the model's pad id (OpenCLIP's 0 is put in later, by the encoder).
    bos, eos, comma = tok.bos_id, tok.eos_id, tok.comma_id
    layout = Layout()
    if encoded is None:
        encoded = [[] if is_break(text, weight) else tok.encode(text) for text, weight in segments]
    elif len(encoded) != len(segments):
        raise ValueError("encoded must give one id list per segment")

    tokens: list[int] = []
    mults: list[float] = []
    sources: list[tuple[int, int]] = []
    last_comma = -1
    positions: list[list[tuple[int, int]]] = [[(-1, -1)] * len(ids) for ids in encoded]

    def close(is_last: bool) -> None:
        nonlocal tokens, mults, sources, last_comma
        layout.token_count += len(tokens) if is_last else CHUNK_LENGTH
        index = len(layout.chunks)
        for at, (segment, offset) in enumerate(sources, start=1):
            positions[segment][offset] = (index, at)
        padding = CHUNK_LENGTH - len(tokens)
        layout.chunks.append(
            Chunk(
                tokens=(bos, *tokens, *([eos] * padding), eos),
                multipliers=(1.0, *mults, *([1.0] * padding), 1.0),
            )
        )
        tokens, mults, sources = [], [], []
        last_comma = -1

    for segment, ((text, weight), ids) in enumerate(zip(segments, encoded, strict=True)):
        if is_break(text, weight):
            close(False)
            continue
        for offset, token in enumerate(ids):
            if token == comma:
                last_comma = len(tokens)
            elif (
                comma_backtrack != 0
                and len(tokens) == CHUNK_LENGTH
                and last_comma != -1
                and CHUNK_LENGTH - last_comma <= comma_backtrack
            ):
                cut = last_comma + 1
                moved = tokens[cut:], mults[cut:], sources[cut:]
                del tokens[cut:], mults[cut:], sources[cut:]
                close(False)
                tokens, mults, sources = list(moved[0]), list(moved[1]), list(moved[2])
            if len(tokens) == CHUNK_LENGTH:
                close(False)
            tokens.append(token)
            mults.append(float(weight))
            sources.append((segment, offset))
    if tokens or not layout.chunks:
        close(True)
    layout.segment_tokens = [list(ids) for ids in encoded]
    layout.positions = positions
    return layout
