"""WebUI's chunking over weighted segments (``TextConditionalModel.tokenize_line``).

The chunker works on what the attention parser produces: a list of ``(text, weight)`` segments,
with ``("BREAK", -1.0)`` as the chunk-break marker. Each segment is tokenized on its own; its tokens are
placed into chunks of the tokenizer's ``window`` (75 for CLIP), each wrapped as BOS + 75 + EOS = 77 ids
and padded with EOS when the tokenizer ``wraps`` (CLIP; otherwise ``window`` ids padded with ``pad_id``),
with WebUI's comma backtrack: when a chunk fills up and the last standalone comma is at most
``comma_backtrack`` tokens back, the tokens after it move to the next chunk.

``token_count`` is WebUI's count: every chunk closed before the last counts a whole window (padding
included), the last one counts its real length.

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

from naiprompt import defaults

if TYPE_CHECKING:
    from naiprompt.tokens.registry import Tokenizer

__all__ = [
    "CHUNK_LENGTH",
    "CLIP_BOS",
    "CLIP_EOS",
    "Chunk",
    "Layout",
    "backtrack_limit",
    "chunk_segments",
    "effective_backtrack",
    "is_break",
]

#: CLIP's window (content tokens per chunk, without BOS and EOS). The chunker reads the window from the
#: tokenizer (:attr:`~naiprompt.tokens.Tokenizer.window`); this constant only names CLIP's default.
CHUNK_LENGTH = 75
#: CLIP's start- and end-of-text ids, the defaults of :meth:`Chunk.from_tokens`.
CLIP_BOS, CLIP_EOS = 49406, 49407


@dataclass(frozen=True)
class Chunk:
    """One chunk as the text encoder receives it: ids and one multiplier per id.

    For CLIP that is 77 ids: BOS, 75 tokens or EOS pads, EOS. :mod:`naiprompt.tokens` builds chunks and
    :mod:`naiprompt.encode` consumes them (``naiprompt.encode.TokenChunk`` is this class).

    Example:
        >>> from naiprompt.tokens.api import chunks
        >>> chunk = chunks("a cat")[0]
        >>> len(chunk.tokens), chunk.tokens[:4], chunk.multipliers[:3]
        (77, (49406, 320, 2368, 49407), (1.0, 1.0, 1.0))
        >>> Chunk((1, 2), (1.0,))
        Traceback (most recent call last):
        ...
        ValueError: a chunk needs one multiplier per token, got 2 tokens and 1 multipliers
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
        cls,
        tokens: Sequence[int],
        weights: Sequence[float] | None = None,
        *,
        pad: int = CLIP_EOS,
        bos: int = CLIP_BOS,
        eos: int = CLIP_EOS,
        window: int = CHUNK_LENGTH,
    ) -> Chunk:
        """Wrap up to ``window`` content tokens with ``bos`` and ``eos`` and pad them to ``window + 2``.

        The defaults are CLIP's (75 tokens, 77 ids); ``pad`` fills the positions after the first EOS.

        Example:
            >>> c = Chunk.from_tokens([320, 2368], weights=[1.0, 1.3])
            >>> c.tokens[:4], c.multipliers[:4], len(c.tokens)
            ((49406, 320, 2368, 49407), (1.0, 1.0, 1.3, 1.0), 77)
            >>> Chunk.from_tokens([320], pad=0).tokens[:4]
            (49406, 320, 49407, 0)
        """
        if len(tokens) > window:
            raise ValueError(f"a chunk holds at most {window} tokens, got {len(tokens)}")
        if weights is None:
            weights = [1.0] * len(tokens)
        if len(weights) != len(tokens):
            raise ValueError("weights must be as long as tokens")
        fill = window - len(tokens)
        ids = (bos, *tokens, eos, *([pad] * fill))
        mults = (1.0, *map(float, weights), 1.0, *([1.0] * fill))
        return cls(tuple(int(t) for t in ids), mults)

    @property
    def length(self) -> int:
        """Number of ids between BOS and the first EOS pad (content tokens; a literal EOS ends it too).

        This reads a wrapped chunk (BOS ... EOS, as CLIP's); the chunker's
        :attr:`Layout.token_count` holds for every geometry.

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
    (in a wrapped chunk position 0 is BOS). ``token_count`` is WebUI's count. ``lengths`` holds the content
    tokens of each chunk (empty when a chunker does not record them; then read :attr:`Chunk.length`).

    Example:
        >>> layout = chunk_segments([("a", 1.0), ("b", 1.1)])
        >>> layout.positions
        [[(0, 1)], [(0, 2)]]
    """

    chunks: list[Chunk] = field(default_factory=list)
    token_count: int = 0
    segment_tokens: list[list[int]] = field(default_factory=list)
    positions: list[list[tuple[int, int]]] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)


def is_break(text: str, weight: float) -> bool:
    """Whether a segment is an active BREAK marker (WebUI honours only weight exactly -1).

    Example:
        >>> is_break("BREAK", -1.0), is_break("BREAK", -1.1), is_break("BREAK", 1.0)
        (True, False, False)
    """
    return text == "BREAK" and weight == -1


def backtrack_limit(window: int) -> int:
    """The largest comma backtrack accepted for a tokenizer ``window``: WebUI's 74, or ``window - 1`` if larger.

    Example:
        >>> backtrack_limit(75), backtrack_limit(10), backtrack_limit(512)
        (74, 74, 511)
    """
    return max(window, CHUNK_LENGTH) - 1


def effective_backtrack(comma_backtrack: int, window: int) -> int:
    """Check ``comma_backtrack`` and fit it to ``window``.

    WebUI's setting runs 0..74 for CLIP's 75-token window; a tokenizer with a smaller window caps it at
    ``window - 1`` (so the default of 20 works with any window), a larger window allows up to ``window - 1``.

    Example:
        >>> effective_backtrack(20, 75), effective_backtrack(20, 10)
        (20, 9)
        >>> effective_backtrack(75, 75)
        Traceback (most recent call last):
        ...
        ValueError: comma_backtrack must be in 0..74, got 75
    """
    if not 0 <= comma_backtrack <= backtrack_limit(window):
        raise ValueError(f"comma_backtrack must be in 0..{backtrack_limit(window)}, got {comma_backtrack}")
    return min(comma_backtrack, window - 1)


def chunk_segments(
    segments: Sequence[tuple[str, float]],
    tokenizer: str | Tokenizer = defaults.TOKENIZER,
    *,
    comma_backtrack: int = 20,
    encoded: Sequence[Sequence[int]] | None = None,
) -> Layout:
    """Tokenize and chunk ``(text, weight)`` segments exactly as WebUI's ``tokenize_line`` does.

    ``encoded`` may give the ids of each segment (then ``tokenizer`` only supplies its special ids and its
    geometry). ``comma_backtrack`` is WebUI's "Increase coherency by padding from the last comma within n
    tokens" (0 disables it; WebUI allows 0..74; :func:`effective_backtrack` fits it to other windows).

    Example:
        >>> chunk_segments([("a", 1.0)]).token_count
        1
        >>> chunk_segments([]).token_count, len(chunk_segments([]).chunks)
        (0, 1)
    """
    from naiprompt.tokens.registry import get_tokenizer

    tok = get_tokenizer(tokenizer)
    window = tok.window
    comma_backtrack = effective_backtrack(comma_backtrack, window)
    # WebUI pads CLIP chunks with EOS whatever the model's pad id (OpenCLIP's 0 is put in later, by the
    # encoder); a tokenizer that does not wrap its chunks pads with its own pad id.
    bos, eos, comma = tok.bos_id, tok.eos_id, tok.comma_id
    wraps = tok.wraps
    fill = eos if wraps else tok.pad_id
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
        layout.token_count += len(tokens) if is_last else window
        layout.lengths.append(len(tokens))
        index = len(layout.chunks)
        for at, (segment, offset) in enumerate(sources, start=1):
            positions[segment][offset] = (index, at)
        padding = window - len(tokens)
        if wraps:
            chunk = Chunk(
                tokens=(bos, *tokens, *([fill] * padding), eos),
                multipliers=(1.0, *mults, *([1.0] * padding), 1.0),
            )
        else:
            chunk = Chunk(tokens=(*tokens, *([fill] * padding)), multipliers=(*mults, *([1.0] * padding)))
        layout.chunks.append(chunk)
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
                and len(tokens) == window
                and last_comma != -1
                and window - last_comma <= comma_backtrack
            ):
                cut = last_comma + 1
                moved = tokens[cut:], mults[cut:], sources[cut:]
                del tokens[cut:], mults[cut:], sources[cut:]
                close(False)
                tokens, mults, sources = list(moved[0]), list(moved[1]), list(moved[2])
            if len(tokens) == window:
                close(False)
            tokens.append(token)
            mults.append(float(weight))
            sources.append((segment, offset))
    if tokens or not layout.chunks:
        close(True)
    layout.segment_tokens = [list(ids) for ids in encoded]
    layout.positions = positions
    return layout
