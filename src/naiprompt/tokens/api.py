"""Token counting as AUTOMATIC1111 WebUI does it: chunks, the "63/75" counter, and budget checks.

* :func:`tokenize` -- CLIP BPE ids of a text (no BOS/EOS).
* :func:`chunks` -- the 77-id chunks and multipliers WebUI builds for one prompt line.
* :func:`count_tokens` -- the number WebUI's counter shows (max over AND subprompts and schedule variants,
  extra networks removed).
* :func:`budget` -- the count, each tag's token span, tags cut by a chunk boundary, and how far over a limit.

Every dialect says how its UI counts (:class:`~naiprompt.dialects.Dialect`): the runs it tokenizes
(``segments``), how they are cut into chunks (``chunk_segments``), its ``tokenizer``, and whether its counter
shows the largest AND/prompt-editing variant (``count_variants``, WebUI). NovelAI's dialects count the text
of their weighted runs: brackets and weights are syntax, not tokens.

Example:
    >>> str(count_tokens("masterpiece, best quality, 1girl"))
    '7/75'
    >>> budget("long hair, " * 30, limit=75).over
    15
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from naiprompt import defaults
from naiprompt.tokens.chunking import Chunk, Layout, chunk_segments, is_break
from naiprompt.tokens.emphasis import Emphasis, get_emphasis
from naiprompt.tokens.registry import Tokenizer, get_tokenizer

if TYPE_CHECKING:
    from naiprompt.dialects import Dialect

__all__ = [
    "Budget",
    "Chunk",
    "ChunkBatch",
    "TagSpan",
    "TokenCount",
    "batch_chunks",
    "budget",
    "chunks",
    "count_tokens",
    "segments",
    "tokenize",
]

def tokenize(text: str, *, mode: str | Tokenizer = defaults.TOKENIZER) -> list[int]:
    """CLIP ViT-L/14 BPE ids of ``text``, without BOS/EOS.

    ``mode`` is ``"webui"`` (transformers 4.x slow ``CLIPTokenizer`` + ftfy, what WebUI uses), ``"openai"``
    (OpenAI's original tokenizer) or any name registered in the ``naiprompt.tokenizers`` group.

    Example:
        >>> tokenize("1girl, long_hair")
        [272, 1611, 267, 1538, 318, 2225]
        >>> tokenize("&lt", mode="webui"), tokenize("&lt", mode="openai")
        ([261, 3333], [283])
    """
    return get_tokenizer(mode).encode(text)


def _syntax(name: str) -> Callable[..., Any]:
    """A syntax function of the top-level package: attention, subprompts, schedules, extra_networks."""
    import naiprompt

    function: Callable[..., Any] = getattr(naiprompt, name)
    return function


def segments(
    text: str, dialect: str = defaults.DIALECT, *, emphasis: str | Emphasis = "original"
) -> list[tuple[str, float]]:
    """The ``(text, weight)`` runs that get tokenized, BREAK markers as ``("BREAK", -1.0)``.

    With a literal emphasis mode (``"none"``, WebUI's "None") the whole line is one run at 1.0; ``emphasis``
    is any name of the :mod:`~naiprompt.tokens.emphasis` registry.

    Example:
        >>> segments("(a photo:1.3) of [a cat]")
        [('a photo', 1.3), (' of ', 1.0), ('a cat', 0.9090909090909091)]
        >>> segments("(a) b", emphasis="none")
        [('(a) b', 1.0)]
    """
    if get_emphasis(emphasis).literal:
        return [(text, 1.0)]
    reader = _dialect(dialect)
    # Dialect.segments: the attention runs, or a UI's unmerged pieces (comfy). Duck-typed plugins: attention.
    runs = getattr(reader, "segments", reader.attention)(text)
    return [(str(run), float(weight)) for run, weight in runs]


def _dialect(name: str) -> Dialect:
    from naiprompt.dialects import get_dialect

    return get_dialect(name)


def _tokenizer(tokenizer: str | Tokenizer | None, dialect: str) -> str | Tokenizer:
    """``tokenizer``, or when None the one ``dialect`` counts with (``Dialect.tokenizer``)."""
    if tokenizer is not None:
        return tokenizer
    name: str = getattr(_dialect(dialect), "tokenizer", defaults.TOKENIZER)
    return name


def _layout(
    text: str, dialect: str, comma_backtrack: int, emphasis: str | Emphasis, tokenizer: str | Tokenizer
) -> tuple[list[tuple[str, float]], Layout]:
    mode = get_emphasis(emphasis)
    runs = segments(text, dialect, emphasis=mode)
    # The dialect brings its UI's chunking rule (WebUI's by default; ComfyUI: no comma backtrack, whole words).
    own: Callable[..., Layout] | None = getattr(_dialect(dialect), "chunk_segments", None)
    if own is not None and not mode.literal:
        return runs, own(runs, tokenizer, comma_backtrack=comma_backtrack)
    return runs, chunk_segments(runs, tokenizer, comma_backtrack=comma_backtrack)


def chunks(
    text: str,
    dialect: str = defaults.DIALECT,
    *,
    comma_backtrack: int = 20,
    emphasis: str | Emphasis = "original",
    tokenizer: str | Tokenizer | None = None,
) -> list[Chunk]:
    """The chunks (77 ids for CLIP) and per-id multipliers WebUI builds for one prompt line.

    Their geometry is the tokenizer's: ``window`` content tokens, wrapped in BOS/EOS when it ``wraps``.

    BOS/EOS around each chunk, EOS padding, the comma backtrack, BREAK, and equal-weight runs merged before
    tokenizing -- ``tokenize_line`` of WebUI's ``sd_hijack_clip``. AND, prompt editing and extra networks are
    not handled here (see :func:`count_tokens`): this is one line as the encoder receives it.

    Example:
        >>> [c.tokens[:3] for c in chunks("a BREAK b")]
        [(49406, 320, 49407), (49406, 321, 49407)]
        >>> chunks("(dog)s")[0].multipliers[:4]
        (1.0, 1.1, 1.0, 1.0)
    """
    return _layout(text, dialect, comma_backtrack, emphasis, _tokenizer(tokenizer, dialect))[1].chunks


@dataclass(frozen=True)
class ChunkBatch:
    """Chunks of several texts encoded together (WebUI pads the shorter ones with empty chunks).

    ``chunks[i][j]`` is chunk ``i`` of text ``j``; ``token_count`` is the largest count of the texts.

    Example:
        >>> batch = batch_chunks(["short", "a BREAK b"])
        >>> len(batch.chunks), batch.token_count
        (2, 76)
    """

    chunks: list[list[Chunk]]
    token_count: int


def _empty_chunk(tokenizer: str | Tokenizer) -> Chunk:
    tok = get_tokenizer(tokenizer)
    if tok.wraps:
        return Chunk.from_tokens([], bos=tok.bos_id, eos=tok.eos_id, pad=tok.eos_id, window=tok.window)
    return Chunk(tokens=(tok.pad_id,) * tok.window, multipliers=(1.0,) * tok.window)


def batch_chunks(
    texts: Sequence[str],
    dialect: str = defaults.DIALECT,
    *,
    comma_backtrack: int = 20,
    emphasis: str | Emphasis = "original",
    tokenizer: str | Tokenizer | None = None,
) -> ChunkBatch:
    """Chunks of ``texts`` as one forward call sees them: all texts padded to the same number of chunks.

    Example:
        >>> batch = batch_chunks(["", "a BREAK b"])
        >>> [[c.tokens[1] for c in row] for row in batch.chunks]
        [[49407, 320], [49407, 321]]
    """
    tokenizer = _tokenizer(tokenizer, dialect)
    layouts = [_layout(text, dialect, comma_backtrack, emphasis, tokenizer)[1] for text in texts]
    count = max((layout.token_count for layout in layouts), default=0)
    width = max((len(layout.chunks) for layout in layouts), default=0)
    empty = _empty_chunk(tokenizer)
    rows = [
        [layout.chunks[i] if i < len(layout.chunks) else empty for layout in layouts] for i in range(width)
    ]
    return ChunkBatch(chunks=rows, token_count=count)


def _target(count: int, window: int) -> int:
    return math.ceil(max(count, 1) / window) * window


@dataclass(frozen=True)
class TokenCount:
    """What WebUI's token counter shows: ``str(count) == "count/target"``.

    ``target`` is the count rounded up to whole chunks of the tokenizer's window (75 for CLIP, at least one
    chunk); ``text`` is the prompt variant (AND subprompt, schedule entry) that gave the maximum.

    Example:
        >>> result = count_tokens("a BREAK b")
        >>> result.count, result.target, str(result)
        (76, 150, '76/150')
    """

    count: int
    target: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.count}/{self.target}"

    def __int__(self) -> int:
        return self.count


def _counted_texts(text: str, dialect: str, steps: int, negative: bool) -> list[str]:
    """The lines WebUI's counter tokenizes: extra networks removed, AND split, schedules resolved."""
    if not getattr(_dialect(dialect), "count_variants", False):
        return [text]
    stripped, _networks = _syntax("extra_networks")(text)
    try:
        if negative:
            flat = [stripped]
        else:
            flat = []
            for sub, _weight in _syntax("subprompts")(stripped):
                if sub not in flat:
                    flat.append(sub)
        texts: list[str] = []
        for sub in flat:
            texts.extend(variant for _step, variant in _syntax("schedules")(sub, steps, strict=True))
    except (ValueError, ArithmeticError):  # [a:1e999]: int(inf) raises OverflowError in WebUI too
        # WebUI falls back to the raw text when scheduling fails while typing.
        texts = [stripped]
    return texts


def _counted_layout(
    text: str,
    *,
    dialect: str,
    steps: int,
    negative: bool,
    comma_backtrack: int,
    emphasis: str | Emphasis,
    tokenizer: str | Tokenizer,
) -> tuple[str, list[tuple[str, float]], Layout]:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    best: tuple[str, list[tuple[str, float]], Layout] | None = None
    for variant in _counted_texts(text, dialect, steps, negative):
        runs, layout = _layout(variant, dialect, comma_backtrack, emphasis, tokenizer)
        if best is None or layout.token_count > best[2].token_count:
            best = (variant, runs, layout)
    if best is None:  # pragma: no cover - _counted_texts never returns an empty list
        runs, layout = _layout("", dialect, comma_backtrack, emphasis, tokenizer)
        best = ("", runs, layout)
    return best


def count_tokens(
    text: str,
    dialect: str = defaults.DIALECT,
    *,
    steps: int = 20,
    negative: bool = False,
    comma_backtrack: int = 20,
    emphasis: str | Emphasis = "original",
    tokenizer: str | Tokenizer | None = None,
) -> TokenCount:
    """WebUI's token counter for ``text`` ("63/75").

    For a dialect whose counter shows variants (``Dialect.count_variants``: ``webui``): extra networks are
    removed; a positive prompt is split on AND (its ``:weight`` suffixes dropped); each piece is resolved
    into its prompt-editing schedule with ``steps``; every variant is chunked and the **maximum** count is
    shown. A negative prompt is not split on AND. Other dialects count their weighted runs directly.
    ``tokenizer`` defaults to the dialect's (``Dialect.tokenizer``).

    Where WebUI's counter shows an error (a malformed weight such as ``(a:1.2.3)``), the attention parser
    issues a :class:`~naiprompt.errors.PromptWarning` and counts the weight as text.

    Example:
        >>> str(count_tokens("a AND b c d e")), str(count_tokens("a AND b c d e", negative=True))
        ('4/75', '6/75')
        >>> str(count_tokens("<lora:foo:0.8> a photo"))
        '2/75'
    """
    variant, _runs, layout = _counted_layout(
        text,
        dialect=dialect,
        steps=steps,
        negative=negative,
        comma_backtrack=comma_backtrack,
        emphasis=emphasis,
        tokenizer=_tokenizer(tokenizer, dialect),
    )
    window = get_tokenizer(_tokenizer(tokenizer, dialect)).window
    return TokenCount(count=layout.token_count, target=_target(layout.token_count, window), text=variant)


@dataclass(frozen=True)
class TagSpan:
    """One comma-separated tag and where its tokens landed.

    ``start``/``end`` are positions in the counted token stream, where chunk ``k`` holds positions
    ``window*k .. window*k+window-1`` (``window`` is the tokenizer's, 75 for CLIP; padding added by a comma
    backtrack or a BREAK shows as a gap). ``text`` is the tag as the tokenizer sees it: brackets and weights
    removed, outer whitespace stripped.

    Example:
        >>> tag = budget("red apple, green pear").tags[1]
        >>> tag.text, tag.start, tag.end, tag.straddles
        ('green pear', 3, 5, False)
    """

    text: str
    start: int
    end: int
    tokens: tuple[int, ...]
    window: int = 75

    @property
    def first_chunk(self) -> int:
        """Index of the chunk holding the tag's first token.

        Example:
            >>> budget("a, b").tags[1].first_chunk
            0
        """
        return self.start // self.window

    @property
    def last_chunk(self) -> int:
        """Index of the chunk holding the tag's last token.

        Example:
            >>> budget("a, b").tags[1].last_chunk
            0
        """
        return (self.end - 1) // self.window

    @property
    def straddles(self) -> bool:
        """Whether a chunk boundary cuts the tag in two.

        Example:
            >>> budget("w " * 74 + "long_hair").tags[0].straddles
            True
        """
        return self.first_chunk != self.last_chunk

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class Budget:
    """A prompt's token budget: the count, each tag's span, tags cut by chunk boundaries, the excess.

    ``window`` is the tokenizer's chunk window (75 for CLIP).

    Example:
        >>> report = budget("masterpiece, best quality", limit=3)
        >>> report.count, report.over, report.ok, [t.text for t in report.tags]
        (4, 1, False, ['masterpiece', 'best quality'])
    """

    text: str
    count: int
    target: int
    limit: int
    tags: tuple[TagSpan, ...]
    chunks: tuple[Chunk, ...]
    window: int = 75
    lengths: tuple[int, ...] = ()

    @property
    def chunk_lengths(self) -> tuple[int, ...]:
        """Content tokens of each chunk, whatever the tokenizer's geometry.

        Example:
            >>> budget("a BREAK b c").chunk_lengths
            (1, 2)
        """
        return self.lengths or tuple(chunk.length for chunk in self.chunks)

    @property
    def over(self) -> int:
        """Tokens above ``limit`` (0 when within it).

        Example:
            >>> budget("a b c", limit=2).over
            1
        """
        return max(0, self.count - self.limit)

    @property
    def ok(self) -> bool:
        """Whether the count is within ``limit``.

        Example:
            >>> budget("a b c", limit=3).ok
            True
        """
        return self.count <= self.limit

    @property
    def straddling(self) -> tuple[TagSpan, ...]:
        """The tags that a chunk boundary cuts in two.

        Example:
            >>> [t.text[-9:] for t in budget("w " * 74 + "long_hair, cat").straddling]
            ['long_hair']
        """
        return tuple(tag for tag in self.tags if tag.straddles)

    def __str__(self) -> str:
        """A one-line summary: the counter, the limit, and the tags past it (``repr`` keeps every field).

        Example:
            >>> print(budget("masterpiece, best quality, 1girl, smile", limit=5))
            9/75 tokens, over the limit of 5 by 4: past it: 1girl, smile
            >>> print(budget("a cat"))
            2/75 tokens, within the limit of 75
        """
        head = f"{self.count}/{self.target} tokens"
        if self.ok:
            return f"{head}, within the limit of {self.limit}"
        past = [tag.text for tag in self.tags if tag.end > self.limit]
        shown = ", ".join(past[:5]) + (f" and {len(past) - 5} more" if len(past) > 5 else "")
        return f"{head}, over the limit of {self.limit} by {self.over}" + (f": past it: {shown}" if past else "")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary.

        Example:
            >>> budget("a, b", limit=75).to_dict()["counter"]
            '3/75'
        """
        return {
            "text": self.text,
            "count": self.count,
            "target": self.target,
            "counter": f"{self.count}/{self.target}",
            "limit": self.limit,
            "over": self.over,
            "ok": self.ok,
            "chunks": len(self.chunks),
            "tags": [
                {
                    "text": tag.text,
                    "start": tag.start,
                    "end": tag.end,
                    "tokens": len(tag.tokens),
                    "chunk": tag.first_chunk,
                    "straddles": tag.straddles,
                }
                for tag in self.tags
            ],
            "straddling": [tag.text for tag in self.straddling],
        }


def _segment_pieces(text: str, ids: Sequence[int], tok: Tokenizer) -> list[tuple[str, int]] | None:
    """Split a segment's text at commas into ``(piece, token count)`` lining up with its comma tokens.

    Returns None when they do not line up (a comma glued to other punctuation, as in ``",,"``).
    """
    parts = text.split(",")
    if len(parts) == 1:
        return [(text, len(ids))]
    rebuilt: list[int] = []
    pieces: list[tuple[str, int]] = []
    for index, part in enumerate(parts):
        if index:
            rebuilt.append(tok.comma_id)
        part_ids = tok.encode(part)
        rebuilt += part_ids
        pieces.append((part, len(part_ids)))
    return pieces if rebuilt == list(ids) else None


def _decode(tok: Tokenizer, ids: Iterable[int]) -> str:
    decode = getattr(tok, "decode", None)
    return str(decode(list(ids))) if callable(decode) else " ".join(str(i) for i in ids)


def _tag_spans(runs: Sequence[tuple[str, float]], layout: Layout, tok: Tokenizer) -> list[TagSpan]:
    window = tok.window
    tags: list[TagSpan] = []
    text_parts: list[str] = []
    tag_ids: list[int] = []
    where: list[int] = []

    def finish() -> None:
        if tag_ids:
            label = "".join(text_parts).strip() or _decode(tok, tag_ids)
            tags.append(
                TagSpan(text=label, start=where[0], end=where[-1] + 1, tokens=tuple(tag_ids), window=window)
            )
        text_parts.clear()
        tag_ids.clear()
        where.clear()

    for index, (text, weight) in enumerate(runs):
        if is_break(text, weight):
            finish()
            continue
        ids = layout.segment_tokens[index]
        places = [chunk * window + at - 1 for chunk, at in layout.positions[index]]
        pieces = _segment_pieces(text, ids, tok)
        if pieces is None:
            # Commas glued to other punctuation: label this segment's share of each tag from its tokens.
            own: list[int] = []
            for token, place in zip(ids, places, strict=True):
                if token == tok.comma_id:
                    if own:
                        text_parts.append(" " + _decode(tok, own) + " ")
                    own = []
                    finish()
                    continue
                own.append(token)
                tag_ids.append(token)
                where.append(place)
            if own:
                text_parts.append(" " + _decode(tok, own) + " ")
            continue
        at = 0
        for number, (piece, count) in enumerate(pieces):
            if number:
                finish()
                at += 1  # the comma token
            text_parts.append(piece)
            tag_ids.extend(ids[at : at + count])
            where.extend(places[at : at + count])
            at += count
    finish()
    return tags


def budget(
    text: str,
    limit: int | None = None,
    dialect: str = defaults.DIALECT,
    *,
    steps: int = 20,
    negative: bool = False,
    comma_backtrack: int = 20,
    emphasis: str | Emphasis = "original",
    tokenizer: str | Tokenizer | None = None,
) -> Budget:
    """Check ``text`` against a token ``limit``: count, tag spans, tags cut by a chunk boundary, excess.

    The count is :func:`count_tokens`'s; with AND or prompt editing the spans are those of the variant that
    gave the maximum; ``limit`` defaults to the tokenizer's window (75 for CLIP). Tags are the
    comma-separated pieces of the prompt (commas as WebUI's comma backtrack sees them: the standalone comma
    token).

    Example:
        >>> prompt = "w " * 60 + ", " + "very " * 14 + "long hair, smile"
        >>> report = budget(prompt)
        >>> report.count, report.target, report.over, [t.text for t in report.straddling]
        (93, 150, 18, [])
        >>> report.tags[1].start  # moved whole to the second chunk by the comma backtrack
        75
        >>> [t.text[:9] for t in budget(prompt, comma_backtrack=0).straddling]
        ['very very']
    """
    tok = get_tokenizer(_tokenizer(tokenizer, dialect))
    if limit is None:
        limit = tok.window
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or math.isnan(limit) or limit < 0:
        raise ValueError(f"limit must be a non-negative number of tokens, got {limit!r}")
    variant, runs, layout = _counted_layout(
        text,
        dialect=dialect,
        steps=steps,
        negative=negative,
        comma_backtrack=comma_backtrack,
        emphasis=emphasis,
        tokenizer=tok,
    )
    return Budget(
        text=variant,
        count=layout.token_count,
        target=_target(layout.token_count, tok.window),
        limit=limit,
        tags=tuple(_tag_spans(runs, layout, tok)),
        chunks=tuple(layout.chunks),
        window=tok.window,
        lengths=tuple(layout.lengths),
    )
