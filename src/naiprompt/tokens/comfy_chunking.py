"""ComfyUI's 77-token chunking (``SDTokenizer.tokenize_with_weights`` of ``comfy/sd1_clip.py``).

Different from WebUI's (:mod:`naiprompt.tokens.chunking`) in three ways:

* every weighted segment is tokenized **on its own** (``(a)(b)`` is ``a`` and ``b``,
  never the merged ``ab``), equal weights are not merged, and a segment is cut
  before each `` embedding:`` / ``\\nembedding:`` (ComfyUI's textual-inversion marker);
* a piece that does not fit in the current chunk moves whole to the next one
  (the chunk is closed with EOS and padded) when it has fewer than
  :data:`MAX_WORD_LENGTH` tokens, and is cut at the boundary otherwise (the chunk
  is then full and has no padding); there is no comma backtrack and BREAK is text;
* padding is EOS with weight 1.0, as are BOS and EOS.

Example:
    >>> layout = comfy_chunk_segments([("a", 1.1), ("b", 1.1)])
    >>> layout.chunks[0].tokens[:4], layout.chunks[0].multipliers[:4]
    ((49406, 320, 321, 49407), (1.0, 1.1, 1.1, 1.0))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from naiprompt import defaults
from naiprompt.tokens.chunking import CHUNK_LENGTH, Chunk, Layout

if TYPE_CHECKING:
    from naiprompt.tokens.registry import Tokenizer

__all__ = ["MAX_WORD_LENGTH", "comfy_chunk_segments", "comfy_pieces"]

#: ComfyUI's ``max_word_length``: shorter pieces are never split across chunks.
MAX_WORD_LENGTH = 8
_EMBEDDING_SPLIT = re.compile(r" embedding:|\nembedding:")


def comfy_pieces(segment: str) -> list[str]:
    """The pieces ComfyUI tokenizes separately within one segment (cut before ``embedding:``).

    Example:
        >>> comfy_pieces("a, embedding:bad_hands b")
        ['a,', 'embedding:bad_hands b']
    """
    parts = _EMBEDDING_SPLIT.split(segment)
    pieces = [parts[0], *("embedding:" + part for part in parts[1:])]
    return [piece for piece in pieces if piece]


def comfy_chunk_segments(
    segments: Sequence[tuple[str, float]], tokenizer: str | Tokenizer = defaults.TOKENIZER
) -> Layout:
    """Tokenize and chunk ComfyUI's ``(text, weight)`` segments exactly as ComfyUI does.

    ``token_count`` is the number of prompt tokens (BOS, EOS and padding aside).
    ``segment_tokens``/``positions`` give, per segment, its ids and where each one went.

    Example:
        >>> comfy_chunk_segments([]).chunks[0].tokens[:3]
        (49406, 49407, 49407)
    """
    from naiprompt.tokens.registry import get_tokenizer

    tok = get_tokenizer(tokenizer)
    bos, eos = tok.bos_id, tok.eos_id
    room = CHUNK_LENGTH + 1  # BOS + 75 tokens: ComfyUI's max_length 77 less its EOS
    layout = Layout()
    chunk_ids: list[int] = [bos]
    chunk_weights: list[float] = [1.0]
    positions: list[list[tuple[int, int]]] = []

    def close(pad: bool) -> None:
        nonlocal chunk_ids, chunk_weights
        chunk_ids.append(eos)
        chunk_weights.append(1.0)
        if pad:
            fill = CHUNK_LENGTH + 2 - len(chunk_ids)
            chunk_ids.extend([eos] * fill)
            chunk_weights.extend([1.0] * fill)
        layout.chunks.append(Chunk(tokens=tuple(chunk_ids), multipliers=tuple(chunk_weights)))
        chunk_ids, chunk_weights = [bos], [1.0]

    for text, weight in segments:
        ids_of_segment: list[int] = []
        where: list[tuple[int, int]] = []
        for piece in comfy_pieces(text):
            group = tok.encode(piece)
            ids_of_segment.extend(group)
            large = len(group) >= MAX_WORD_LENGTH
            while group:
                if len(group) + len(chunk_ids) > room:
                    if large:
                        take = room - len(chunk_ids)
                        for token in group[:take]:
                            where.append((len(layout.chunks), len(chunk_ids)))
                            chunk_ids.append(token)
                            chunk_weights.append(float(weight))
                        group = group[take:]
                        close(pad=False)
                    else:
                        close(pad=True)
                else:
                    for token in group:
                        where.append((len(layout.chunks), len(chunk_ids)))
                        chunk_ids.append(token)
                        chunk_weights.append(float(weight))
                    group = []
        layout.segment_tokens.append(ids_of_segment)
        positions.append(where)
        layout.token_count += len(ids_of_segment)
    close(pad=True)
    layout.positions = positions
    return layout
