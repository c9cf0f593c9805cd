"""``Batch("count_tokens")``: WebUI's token counter over many captions, from cached pieces.

A caption is cut at its commas into pieces. Each distinct piece is read once (its weighted runs, their
token ids) and a caption whose pieces are all known is counted from them without reading or chunking
it again. Two levels:

* **Sizes.** Where the tokenizer splits a comma off its neighbours (``Tokenizer.comma_separable``) and
  the characters beside every comma are letters, digits or spaces, the ids of a caption are its pieces'
  ids with one comma id between neighbours. The count then needs only each piece's number of ids: a
  caption is a list lookup, a sum, and (past one chunk) a walk over the pieces.
* **Ids.** Otherwise the runs at weight 1 that merge over the commas are joined and encoded per caption,
  with the cached ids of the weighted runs between them.

Everything else (no comma, a piece that is not whole, AND, prompt editing, extra networks) is read row by
row as :func:`naiprompt.count_tokens` reads it. A dialect that chunks its own way (ComfyUI) is counted by
:func:`naiprompt.count_tokens` itself, row by row.

Example:
    >>> counter = count_function(
    ...     dialect="webui", steps=20, negative=False, comma_backtrack=20, emphasis="original", tokenizer=None
    ... )
    >>> str(counter("1girl, (smile:1.2), long hair"))
    '7/75'
"""

from __future__ import annotations

import functools
import itertools
import marshal
import math
import re
import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from naiprompt import batch as _batch
from naiprompt.batch import (
    _PLACEHOLDER_LETTERS,
    _RUN,
    _SHAPE_LIMIT,
    _UNSAFE,
    TokenCounter,
    _Pieces,
    _placeholder,
    _run_template,
    _whole_piece,
)

__all__ = ["count_function"]


#: The window of a counter that a worker sends back as one integer (``row.packed``): CLIP's 75 tokens.
PACKED_WINDOW = 75


def target(count: int, window: int) -> int:
    """The counter's target: ``count`` rounded up to whole windows (at least one).

    Example:
        >>> target(0, 75), target(76, 75), target(11, 10)
        (75, 150, 20)
    """
    return math.ceil(max(count, 1) / window) * window


def token_count(
    runs: Iterable[tuple[str, float]],
    encode: Callable[[str], Sequence[int]],
    comma: int,
    backtrack: int,
    window: int = 75,
) -> int:
    """WebUI's token count from the ids alone: ``chunk_segments(...).token_count`` without the chunks.

    Example:
        >>> token_count([("a, b", 1.0), ("BREAK", -1.0), ("c", 1.2)], lambda text: list(text.encode()), 44, 20)
        76
    """
    return count_ids(
        [None if text == "BREAK" and weight == -1 else encode(text) for text, weight in runs], comma, backtrack, window
    )


def count_ids(runs: Iterable[Sequence[int] | None], comma: int, backtrack: int, window: int = 75) -> int:
    """The token count of the ids of consecutive runs (``None``: a BREAK).

    Only the ids in order matter, not where one run ends and the next begins: the ids become a
    :func:`count_stream` (lengths between commas), which mirrors the chunker.

    Example:
        >>> count_ids([[5] * 70, [44], [5] * 10], comma=44, backtrack=20)  # 4 ids move on: 75 + 10
        85
    """
    stream: list[int] = []
    for ids in runs:
        if ids is None:
            stream.append(BREAK)
            continue
        start = 0
        for _ in range(ids.count(comma)):
            index = ids.index(comma, start)
            if index > start:
                stream.append(index - start)
            stream.append(COMMA)
            start = index + 1
        if len(ids) > start:
            stream.append(len(ids) - start)
    return count_stream(stream, backtrack, window)


#: Items of a :func:`count_stream` that are not a number of ids.
COMMA = -1
BREAK = -2


def count_stream(stream: Sequence[int], backtrack: int, window: int = 75) -> int:
    """WebUI's token count of a stream of ids told by kind: ``n >= 0`` is ``n`` ids that are not a comma,
    :data:`COMMA` (-1) one comma, :data:`BREAK` (-2) a BREAK.

    Mirrors the chunker step for step (BREAK closes a chunk, a full chunk closes, the comma backtrack
    moves the tail after the last comma); ids that fit in the open chunk are added in one step.

    Example:
        >>> count_stream([70, COMMA, 10], backtrack=20), count_stream([3, BREAK, 2], backtrack=20)
        (85, 77)
    """
    count = 0
    size = 0  # tokens in the open chunk
    last_comma = -1
    for item in stream:
        if item < 0:
            if item == BREAK:  # closes the chunk, whatever it holds, as a full one
                count += window
                size, last_comma = 0, -1
                continue
            # A comma: never moved by the backtrack itself.
            if size == window:
                count += window
                size, last_comma = 0, -1
            else:
                last_comma = size
            size += 1
            continue
        if size + item <= window:
            size += item
            continue
        for _ in range(item):
            if backtrack and size == window and last_comma != -1 and window - last_comma <= backtrack:
                count += window
                size -= last_comma + 1
                last_comma = -1
            if size == window:
                count += window
                size, last_comma = 0, -1
            size += 1
    return count + size


def count_sizes(sizes: Sequence[int], backtrack: int, window: int = 75) -> int:
    """:func:`count_stream` of pieces of ``sizes[i]`` ids, none a comma, with one comma between neighbours.

    Example:
        >>> count_sizes([3, 4], backtrack=20), count_sizes([70, 10], backtrack=20)
        (8, 85)
    """
    total = sum(sizes) + len(sizes) - 1
    if total <= window:  # one chunk: nothing moves
        return total
    stream = [COMMA] * (2 * len(sizes) - 1)
    stream[::2] = sizes
    return count_stream(stream, backtrack, window)


#: Text with none of WebUI's attention syntax (brackets, escapes), and a probe holding the rest of ASCII.
_NO_BRACKET = re.compile(r"[^()\[\]\\]*")
_COUNT_PROBE = " Az09_'.!?/+*;~=#@%^-\"$`{}:<>| "

#: Text with no bracket of any dialect and no escape.
_NO_SYNTAX = re.compile(r"[^()\[\]{}\\]*")

#: Escaped brackets, which a whole piece may hold anywhere.
_ESCAPED_BRACKET = re.compile(r"\\[()\[\]]")



def _may_vary(text: str) -> bool:
    """Whether WebUI's counter may read more than the text itself: networks, AND, prompt editing.

    Three substring tests: a tenth of the time of one regular expression with alternatives.
    """
    return "<" in text or "[" in text or "AND" in text


def _beside_comma(char: str) -> bool:
    """Whether ``char`` beside a comma leaves the comma a token of its own (an ASCII letter, digit or space)."""
    return char == " " or (char.isascii() and char.isalnum())




def _left_edge(text: str) -> str:
    """The punctuation ``text`` starts with (of printable ASCII: what is not a letter, digit or space)."""
    return text[: len(text) - len(text.lstrip(string.punctuation))]


def _right_edge(text: str) -> str:
    """The punctuation ``text`` ends with."""
    return text[len(text.rstrip(string.punctuation)) :]


#: A piece's size for the count: its ids without its edges, the edge beside the comma before it, the
#: edge beside the comma after it (punctuation that fuses with the comma; "" when a letter, digit or
#: space is there, or when a weighted run is: then the comma ends or starts its line).
Sized = tuple[int, str, str]


_COMMA = [COMMA]  # a comma alone, in a stream

#: A piece that is its own run at 1 (on a probe-checked dialect) with a letter, digit or space at both
#: ends: its size is its number of ids. Lowercase only, so no "AND" or "BREAK". Tags' punctuation
#: ("t-shirt", "another's", "mr._l", "male/male", "love_live!") may sit inside: only a comma's
#: neighbours decide whether it is a token of its own.
_SIMPLE = re.compile(r"[a-z0-9 ](?:[a-z0-9_ '.!/-]*[a-z0-9 ])?")
#: Tag text with escaped round brackets in it.
_ESCAPED_TAG = re.compile(r"[a-z0-9_ '.!/-]*(?:\\[()][a-z0-9_ '.!/-]*)+")
#: A tag in WebUI's weight brackets, a space before it or not; escaped round brackets may be in it
#: (" (honkai_\\(series\\):1.05)"). The tag starts with a letter or digit. One character class and
#: one escape alternative, disjoint: no backtracking on a long piece.
_WEIGHTED_TAG = re.compile(
    r" ?\(([a-z0-9](?:[a-z0-9_ '.!/-]|\\[()])*):([0-9]{1,9}(?:\.[0-9]{0,9})?)\)"
)


def _round_unescaped(text: str) -> str:
    """``text`` with WebUI's escaped round brackets as the brackets they stand for (what the tag regexes admit)."""
    return text.replace("\\(", "(").replace("\\)", ")")


def _sizeable(piece: str) -> bool:
    """Whether ``piece`` is text a comma-separable tokenizer encodes word by word (printable ASCII, no entity)."""
    return piece.isascii() and piece.isprintable() and "&" not in piece


def count_function(
    dialect: str, steps: int, negative: bool, comma_backtrack: int, emphasis: str, tokenizer: str | None
) -> Callable[[str], TokenCounter]:
    """The row function of ``Batch("count_tokens", ...)``: a caption -> its :class:`TokenCounter`.

    ``tokenizer`` None counts with the dialect's own (``Dialect.tokenizer``), as
    :func:`naiprompt.count_tokens` does.

    Example:
        >>> counter = count_function(
        ...     dialect="nai", steps=20, negative=False, comma_backtrack=20, emphasis="original", tokenizer=None
        ... )
        >>> counter("{masterpiece}, 1girl").count
        4
    """
    from naiprompt.dialects import Dialect, get_dialect
    from naiprompt.tokens.api import _counted_texts, _tokenizer, count_tokens, segments
    from naiprompt.tokens.chunking import effective_backtrack
    from naiprompt.tokens.emphasis import get_emphasis
    from naiprompt.tokens.registry import get_tokenizer

    reader = get_dialect(dialect)
    mode = get_emphasis(emphasis)  # an unknown emphasis mode fails here, once
    tok = get_tokenizer(_tokenizer(tokenizer, dialect))
    window = tok.window
    backtrack = effective_backtrack(comma_backtrack, window)
    encode, comma = tok.encode, tok.comma_id

    def own(method: str) -> bool:
        found = getattr(type(reader), method, None)
        return found is not None and found is not getattr(Dialect, method)

    if own("segments") or (own("chunk_segments") and not mode.literal):
        # The dialect reads runs or cuts chunks its own way (ComfyUI): what a piece is, and whether
        # pieces join, is its business. Count each row as the per-call API does.
        def per_row(text: str) -> TokenCounter:
            result = count_tokens(
                text,
                dialect,
                steps=steps,
                negative=negative,
                comma_backtrack=comma_backtrack,
                emphasis=mode,
                tokenizer=tok,
            )
            return TokenCounter(result.count, result.target, result.text)

        return per_row

    varies = getattr(reader, "count_variants", False)  # WebUI's counter: AND, editing, networks
    # Pieces read on their own as inside the caption (``Dialect.comma_fragments``; compel's quotes and
    # a mixed prompt's bracket rule reach across commas).
    by_pieces = getattr(reader, "comma_fragments", False) is True
    separable = getattr(tok, "comma_separable", False) is True

    limit = _batch.CACHE_LIMIT  # read at build time (tests shrink it to turn the generations over)
    runs_cache: dict[str, list[int]] = {}

    def encode_run(text: str) -> list[int]:
        # Emphasised runs are often one tag ("(smile:1.2)"): worth remembering.
        ids = runs_cache.get(text)
        if ids is None:
            if len(runs_cache) >= limit:
                runs_cache.clear()
            ids = runs_cache[text] = encode(text)
        return ids

    def variant(text: str) -> str | None:
        """The one text the counter reads, where the pieces may count it; else None."""
        if not by_pieces:
            return None
        if not varies:
            return text
        if not _may_vary(text):
            # No extra network, AND, or prompt editing, and no ":number" at the end: the counter's one
            # variant is the text without trailing whitespace (what subprompts() leaves), or the text
            # itself for a negative prompt.
            tail = text.rstrip()
            if not (tail[-1:].isdecimal() or tail.endswith(".")):
                return text if negative else tail
        return None

    # The runs of a caption cut at its commas are its pieces' runs with the commas' (",", 1.0) between,
    # equal neighbours merged, where each piece is whole: balanced brackets (escaped ones aside), nothing
    # else escaped or unsafe, so that its runs and their weights are its own wherever it sits. Only runs
    # at 1 merge over a comma (the comma's own weight), so each piece is kept as the text of its first
    # run when at 1 (None if not), the ids of the runs after it, and the text of its last run when at 1
    # and not the first; a piece that is one run at 1 is (text, None, None). () marks a piece not whole.
    # ``sizes`` holds each piece's number of ids where its edges beside the commas are safe, else -1.
    pieces: _Pieces[tuple[Any, ...]] = _Pieces(limit // 2)  # at most ``limit`` in two generations
    # Sizes are small ints (shared objects): a larger cache costs little more than its keys.
    sizes: _Pieces[int] = _Pieces(limit)  # -1: not sizeable (see pieces), -2: see edges
    edges: _Pieces[Sized] = _Pieces(limit // 2)
    joints: dict[str, list[int]] = {}  # punctuation fused with a comma -> its stream
    plain_runs = segments(_COUNT_PROBE, dialect, emphasis=mode) == [(_COUNT_PROBE, 1.0)]
    simple = separable and plain_runs
    # "(tag:1.05)" is the tag at its weight (WebUI), checked on probes: its size is the tag's ids whatever
    # the weight (at 1 it joins the line, where the commas beside it keep it apart all the same).
    # Escaped round brackets around simple tags ("saori \\(blue archive\\)") are plain text (WebUI).
    escaped_tags = simple and segments(" a \\(b c\\)", dialect, emphasis=mode) == [(" a (b c)", 1.0)]
    weighted_tags = simple and all(
        segments(probe, dialect, emphasis=mode) == runs
        for probe, runs in [
            ("(qaz zq:1.05)", [("qaz zq", 1.05)]),
            (" (qaz:0.9)", [(" ", 1.0), ("qaz", 0.9)]),
            ("(q-a'z.!/x \\(zq\\):1.1)", [("q-a'z.!/x (zq)", 1.1)]),
            ("(qaz:1.)", [("qaz", 1.0)]),
        ]
    )

    def sized(head: str | None, inner: tuple[list[int], ...] | None, tail: str | None) -> int | Sized:
        """A piece's size for :func:`count_stream`: an int where no punctuation is beside its commas."""
        if inner is None:  # one run at 1: both edges are its own
            assert head is not None
            if not _sizeable(head):
                return -1
            left = _left_edge(head)
            if len(left) == len(head) or "'" in left:  # all punctuation, or a contraction ("'s") to be
                return -1
            right = _right_edge(head)
            core = len(encode(head[len(left) : len(head) - len(right)]))
            return (core, left, right) if left or right else core
        core = sum(map(len, inner))
        left = right = ""
        if head is not None:  # ends its line at the first weighted run
            if not _sizeable(head):
                return -1
            left = _left_edge(head)
            if "'" in left:
                return -1
            core += len(encode(head[len(left) :]))
        if tail is not None:  # starts a line after the last weighted run
            if not _sizeable(tail):
                return -1
            right = _right_edge(tail)
            core += len(encode(tail[: len(tail) - len(right)]))
        return (core, left, right) if left or right else core

    def piece_of(piece: str) -> tuple[Any, ...]:
        found: tuple[Any, ...] = ()
        size: int | Sized = -1
        runs: list[tuple[str, float]] | None = None
        if _NO_SYNTAX.fullmatch(piece):  # no bracket of any kind, no escape: whole unless otherwise unsafe
            if _UNSAFE.search(piece) is None:
                runs = [(piece, 1.0)] if plain_runs else shaped(piece)
        elif _whole_piece(_ESCAPED_BRACKET.sub("", piece)):
            # Text without WebUI's brackets or escapes is one run at 1 (checked on a probe); the rest is read.
            runs = [(piece, 1.0)] if plain_runs and _NO_BRACKET.fullmatch(piece) else shaped(piece)
        if runs and all(text for text, _ in runs):  # an empty run would keep its neighbours apart
            texts = [text for text, _ in runs]
            head = texts.pop(0) if runs[0][1] == 1.0 else None
            if head is not None and not texts:
                found = (head, None, None)
            else:
                tail = texts.pop() if len(runs) > 1 and runs[-1][1] == 1.0 else None
                found = (head, tuple(encode(text) for text in texts), tail)
            if separable:
                size = sized(*found)
        if remember(piece, size) == -1:  # only a caption counted by its ids needs the runs again
            pieces[piece] = found
        return found

    def remember(piece: str, size: int | Sized) -> int:
        """Keep a piece's size (its edges apart, -2 in ``sizes``) and return what ``sizes`` holds."""
        if type(size) is tuple:
            edges[piece] = size
            size = -2
        sizes[piece] = size  # type: ignore[assignment]
        return size  # type: ignore[return-value]

    # Pieces that differ only in their wordy plain text ("(long hair:1.05)", "(smile:1.05)") have the
    # runs of their shape with the text filled in: see fill_shapes() of convert. Runs without a letter
    # stay in the shape (":1.05" is a weight, a placeholder there would not be).
    shapes: dict[str, tuple[list[str], list[float]] | None] = {}

    def shaped(piece: str) -> list[tuple[str, float]]:
        marks: list[str] = []
        if "\0" not in piece:
            shape = _RUN.sub(functools.partial(_placeholder, runs=marks, wordy=True), piece)
        if not marks or len(marks) > len(_PLACEHOLDER_LETTERS):
            return segments(piece, dialect, emphasis=mode)
        if shape not in shapes:
            if len(shapes) >= _SHAPE_LIMIT:
                shapes.clear()
            shapes[shape] = _run_template(shape, lambda text: segments(text, dialect, emphasis=mode))
        template = shapes[shape]
        if template is None:
            return segments(piece, dialect, emphasis=mode)
        around, weights = template
        filled = "".join(itertools.chain.from_iterable(itertools.zip_longest(around, marks, fillvalue="")))
        return list(zip(filled.split("\0"), weights, strict=True))

    def lookup(piece: str) -> tuple[Any, ...]:
        found = pieces.get(piece)
        if found is None:
            # A sized piece's runs are not kept: a simple tag is its own one run, the rest is read again.
            return (piece, None, None) if simple and _SIMPLE.fullmatch(piece) else piece_of(piece)
        return found

    # What this process sized since lessons() was last called, kept once learn() has been called (in a
    # worker process: the parent passes it on to the other workers). None: not kept.
    taught: dict[str, int | Sized] | None = None

    def lessons() -> bytes:
        """What was sized since the last call, for :func:`learn` in another process (then forgotten here)."""
        nonlocal taught
        found, taught = taught or {}, {}
        return marshal.dumps(found)

    def learn(blobs: Iterable[bytes]) -> None:
        """Take the sizes other processes found (from :func:`lessons`); from now on keep this process's own."""
        nonlocal taught
        if taught is None:
            taught = {}
        for blob in blobs:
            for piece, size in marshal.loads(blob).items():
                if piece not in sizes:
                    remember(piece, size)

    def size_of(piece: str) -> int:
        size = sizes.get(piece)
        if size is None:
            size = new_size(piece)
            if taught is not None and size != -1:  # (-1: a caption counted by its ids needs its runs)
                taught[piece] = edges.young[piece] if size == -2 else size
        return size

    def new_size(piece: str) -> int:
        """The size of a piece not in ``sizes``, remembered there."""
        if simple and _SIMPLE.fullmatch(piece):  # most new tags: one run at 1, nothing beside a comma
            size = sizes[piece] = len(encode(piece))
        elif (
            weighted_tags
            and (tag := _WEIGHTED_TAG.fullmatch(piece)) is not None  # " (tag:1.05)"
            # At 1 the tag joins the line: only a letter or digit at its end keeps it off the comma.
            and (tag.group(1)[-1].isalnum() or float(tag.group(2)) != 1.0)
        ):
            size = sizes[piece] = len(encode(_round_unescaped(tag.group(1))))
        elif escaped_tags and _ESCAPED_TAG.fullmatch(piece):  # " saori \(blue archive\)": plain text
            size = remember(piece, sized(_round_unescaped(piece), None, None))
        else:
            piece_of(piece)
            size = sizes.young[piece]
        return size

    def joint(fused: str) -> list[int]:
        """The stream of one pre-token of punctuation (``"),"``; a comma in it may stay a comma id)."""
        found = joints.get(fused)
        if found is None:
            if len(joints) >= _SHAPE_LIMIT:
                joints.clear()
            found = joints[fused] = [COMMA if token == comma else 1 for token in encode(fused)]
        return found

    def by_edges(parts: list[str], known: list[int]) -> int:
        """The count from the pieces' sizes where some have punctuation beside a comma."""
        stream: list[int] = []
        right = ""
        for index, (part, size) in enumerate(zip(parts, known, strict=True)):
            left, after = "", ""
            if size == -2:
                edged = edges.get(part)
                if edged is None:  # its generation turned over: read it again
                    piece_of(part)
                    edged = edges.young[part]
                size, left, after = edged
            if index:
                stream += joint(right + "," + left) if right or left else _COMMA
            elif left:  # the caption starts with it
                stream += joint(left)
            stream.append(size)
            right = after
        if right:  # the caption ends with it
            stream += joint(right)
        return count_stream(stream, backtrack, window)

    def by_ids(parts: list[str]) -> int | None:
        """The count from the pieces' cached runs (one encode per line at 1), or None if one is not whole."""
        found = list(map(pieces.young.get, parts))
        if None in found:
            found = [got if got is not None else lookup(part) for got, part in zip(found, parts, strict=True)]
        if not all(found):
            return None
        ids: list[Sequence[int]] = []
        line: list[str] = []  # the run at 1 open over the commas
        for head, inner, tail in found:  # type: ignore[misc]  # no None left
            if head is not None:
                line.append(head)
            if inner is not None:
                ids.append(encode("".join(line)))
                ids += inner
                line = [] if tail is None else [tail]
            line.append(",")
        line.pop()  # no comma after the last piece
        ids.append(encode("".join(line)))
        return count_ids(ids, comma, backtrack, window)

    def from_pieces(one: str) -> int | None:
        """The count of a variant with a comma in it, from its pieces; None where a piece is not whole."""
        parts = one.split(",")
        known = list(map(sizes.young.get, parts))
        if None in known:
            known = [got if got is not None else size_of(part) for got, part in zip(known, parts, strict=True)]
        if -1 in known:
            return by_ids(parts)
        if -2 in known:
            return by_edges(parts, known)  # type: ignore[arg-type]  # no None left
        return count_sizes(known, backtrack, window)  # type: ignore[arg-type]

    def row(text: str) -> TokenCounter:
        one = variant(text)
        if one is not None and "," in one:
            count = from_pieces(one)
            if count is not None:
                return TokenCounter(count, target(count, window), one)
        best_text, best = "", -1
        for text_variant in [one] if one is not None else _counted_texts(text, dialect, steps, negative):
            runs = segments(text_variant, dialect, emphasis=mode)
            count = token_count(runs, encode_run, comma, backtrack, window)
            if count > best:  # the first variant with the largest count, as count_tokens picks it
                best_text, best = text_variant, count
        return TokenCounter(best, target(best, window), best_text)

    def packed(text: str) -> int | TokenCounter:
        """``row(text)`` as one integer where that is enough to rebuild it (for a worker process to send):
        ``count * 2`` for a counter of ``text`` in :data:`PACKED_WINDOW`, ``count * 2 + 1`` for one of
        ``text.rstrip()``; else the counter itself."""
        one = variant(text)
        if window == PACKED_WINDOW and one is not None and "," in one:
            count = from_pieces(one)
            if count is not None:
                return count * 2 + (len(one) != len(text))  # (a variant is the text, or it without trailing space)
        return row(text)

    row.packed = packed  # type: ignore[attr-defined]
    row.lessons = lessons  # type: ignore[attr-defined]
    row.learn = learn  # type: ignore[attr-defined]
    return row
