"""CLIP ViT-L/14 byte-level BPE, in pure Python, with the vocabulary shipped in the package.

This is the text tokenizer of Stable Diffusion 1.x and of NovelAI's 2022 model. Two exact modes:

``"webui"`` (the default)
    What AUTOMATIC1111 WebUI gets from transformers 4.x's *slow* ``CLIPTokenizer`` with ftfy installed:
    the literal special tokens ``<|startoftext|>`` / ``<|endoftext|>`` are split off first (case-sensitive),
    then each remaining piece goes through ``ftfy.fix_text``, whitespace collapsing and ``str.lower``.
``"openai"``
    OpenAI's original CLIP tokenizer: ``ftfy.fix_text``, ``html.unescape`` twice, whitespace collapsing,
    ``str.lower``, with no special-token split beforehand.

Both then cut the text into pre-tokens with CLIP's pattern (letter runs, single digits, punctuation runs,
English contractions, the special literals) and run byte-level BPE with ``</w>`` marking the end of a word.

Speed comes from two caches (whitespace-free word -> ids, pre-token -> ids), from a fast path: plain
printable ASCII without ``&`` cannot be changed by ftfy, so neither ftfy nor the ``regex`` module is used for
it, and from the merge loop itself: a small C extension (``naiprompt.tokens._bpe``, built with the wheel when
a C compiler is at hand) runs it in O(n log n). Without the extension, or with ``NAIPROMPT_PURE_PYTHON=1`` in
the environment, the pure-Python :func:`_bpe` below runs instead, with identical results (checked by
``tests/test_tokens_compiled.py``); :data:`COMPILED` tells which one is in use. ``regex`` and ``ftfy`` (the
``naiprompt[tokens]`` extra) are imported only when a text needs them.

The vocabulary file is derived from OpenAI's ``bpe_simple_vocab_16e6.txt.gz`` (MIT licence, Copyright (c) 2021
OpenAI; see ``data/LICENSE-OPENAI-CLIP``): its first 48,894 merges, from which the 49,408-entry vocabulary is
rebuilt in memory.

Example:
    >>> tok = ClipTokenizer()
    >>> tok.encode("a photo of a cat")
    [320, 1125, 539, 320, 2368]
    >>> tok.decode(tok.encode("Long_Hair"))
    'long _ hair'
"""

from __future__ import annotations

import array
import functools
import gzip
import heapq
import html
import itertools
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import resources
from typing import Any, Final

from naiprompt import defaults

__all__ = [
    "BOS_ID",
    "COMMA_ID",
    "COMPILED",
    "EOS_ID",
    "MERGES_USED",
    "PAD_ID",
    "VOCAB_SIZE",
    "ClipTokenizer",
    "TokenizerDependencyError",
    "Vocabulary",
    "byte_symbols",
    "load_vocabulary",
]

#: Id of ``<|startoftext|>`` (BOS).
BOS_ID: Final = 49406
#: Id of ``<|endoftext|>`` (EOS; also the pad id of SD 1.x).
EOS_ID: Final = 49407
#: SD 1.x pads with EOS.
PAD_ID: Final = EOS_ID
#: Id of the standalone comma ``,</w>``, the only token WebUI's comma backtrack looks at.
COMMA_ID: Final = 267
#: Number of entries in the vocabulary.
VOCAB_SIZE: Final = 49408
#: Number of BPE merges used (49408 - 256 - 256 - 2).
MERGES_USED: Final = 48894

#: ``defaults.TOKENIZER`` (WebUI's: transformers' slow tokenizer + ftfy) or ``"openai"``.
Mode = str
_MODES = (defaults.TOKENIZER, "openai")

_compiled: Any
try:
    from naiprompt.tokens import _bpe as _compiled
except ImportError:  # no C compiler when the wheel was built, or an unusual interpreter
    _compiled = None
if os.environ.get("NAIPROMPT_PURE_PYTHON"):
    _compiled = None

#: ``True`` when BPE merges run in the compiled extension, ``False`` for the pure-Python loop.
COMPILED: Final[bool] = _compiled is not None

_DATA_FILE = "clip_bpe_48894.txt.gz"
_SPECIAL_TOKENS: Final = ("<|startoftext|>", "<|endoftext|>")
_SPECIAL_IDS: Final = {"<|startoftext|>": BOS_ID, "<|endoftext|>": EOS_ID}

# Text that ftfy, html.unescape and whitespace handling cannot change beyond what the fast path does:
# printable ASCII without "&", plus tab, newline and carriage return.
_NEEDS_CLEANING = re.compile(r"[^\t\n\r\x20-\x25\x27-\x7e]")
# The CLIP pre-token pattern restricted to lowercase ASCII (what the full pattern does on such text):
# letters and digits are ASCII-only there, and "\s" of the ``regex`` module excludes \x1c-\x1f.
_ASCII_PRETOKEN = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\t\n\x0b\x0c\r a-z0-9]+"
)
_UNICODE_PRETOKEN = (
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)
_ascii_pretokens = _ASCII_PRETOKEN.findall
_SIXTEENS = itertools.repeat(16)
_NEVERS = itertools.repeat(MERGES_USED)
#: ``</w>`` entries whose bytes BPE does *not* encode as the entry itself (none in this vocabulary).
_NOT_OWN_BPE: Final[frozenset[int]] = frozenset()
_SPECIAL_SPLIT = re.compile(r"(<\|startoftext\|>|<\|endoftext\|>)")

#: Pre-tokens of more bytes than this use the O(n log n) heap loop; shorter ones (nearly all: a tag word is
#: about 7 bytes) the list loop, which is faster below about 64 bytes and 25 % faster on the tag pieces.
_LONG_PIECE = 64
#: Caches are cleared when they grow past this many entries (memory stays bounded on endless input).
_CACHE_LIMIT = 1 << 19


class TokenizerDependencyError(ImportError):
    """``regex`` or ``ftfy`` is needed for this text but is not installed.

    Example:
        >>> issubclass(TokenizerDependencyError, ImportError)
        True
    """


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise TokenizerDependencyError(
            f"the CLIP tokenizer needs {module!r} for this text; "
            "install it with: pip install 'naiprompt[tokens]'"
        ) from exc


def byte_symbols() -> list[str]:
    """The printable stand-in character of every byte value, indexed by the byte.

    Bytes that are printable Latin-1 characters (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for
    themselves; the other 68 bytes are mapped, in byte order, to U+0100 and up.

    Example:
        >>> table = byte_symbols()
        >>> table[ord("a")], table[ord(" ")], table[0]
        ('a', 'Ġ', 'Ā')
    """
    printable = {*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)}
    table: list[str] = []
    extra = 0
    for byte in range(256):
        if byte in printable:
            table.append(chr(byte))
        else:
            table.append(chr(0x100 + extra))
            extra += 1
    return table


def _vocabulary_order(table: Sequence[str]) -> list[str]:
    """The 256 byte symbols in vocabulary order: the self-mapped bytes first, then the shifted ones."""
    return sorted(table, key=lambda symbol: (ord(symbol) >= 0x100, ord(symbol)))


class Vocabulary:
    """The CLIP vocabulary and merge ranks, rebuilt from the shipped merges.

    ``ranks`` maps ``"left right"`` (a merge line) to its priority, ``encoder`` maps a token string to its
    id and ``decoder`` is the list of token strings by id.

    Example:
        >>> vocab = load_vocabulary()
        >>> len(vocab.decoder), vocab.encoder[",</w>"], vocab.decoder[49406]
        (49408, 267, '<|startoftext|>')
    """

    __slots__ = (
        "_compiled_tables",
        "byte_decoder",
        "byte_ids",
        "byte_table",
        "decoder",
        "encoder",
        "merges",
        "pair_ranks",
        "ranks",
    )

    def __init__(self, merges: Sequence[str]) -> None:
        if len(merges) != MERGES_USED:
            raise ValueError(f"expected {MERGES_USED} merges, got {len(merges)}")
        self.merges: tuple[str, ...] = tuple(merges)
        self.byte_table: tuple[str, ...] = tuple(byte_symbols())
        self.byte_decoder: dict[str, int] = {symbol: byte for byte, symbol in enumerate(self.byte_table)}
        singles = _vocabulary_order(self.byte_table)
        decoder = [*singles, *(symbol + "</w>" for symbol in singles)]
        decoder.extend(merge.replace(" ", "") for merge in merges)
        decoder.extend(_SPECIAL_TOKENS)
        self.decoder: tuple[str, ...] = tuple(decoder)
        self.encoder: dict[str, int] = {token: index for index, token in enumerate(decoder)}
        if len(self.encoder) != VOCAB_SIZE:
            raise ValueError("the merges do not give 49,408 distinct tokens")
        self.ranks: dict[str, int] = {merge: rank for rank, merge in enumerate(merges)}
        encoder = self.encoder
        #: Id of each byte's symbol (add 256 for the symbol with ``</w>``).
        self.byte_ids: tuple[int, ...] = tuple(encoder[symbol] for symbol in self.byte_table)
        #: ``left_id << 16 | right_id`` -> rank; merge ``r`` creates token ``512 + r``.
        self.pair_ranks: dict[int, int] = {}
        for rank, merge in enumerate(merges):
            left, _, right = merge.partition(" ")
            left_id, right_id = encoder[left], encoder[right]
            if left_id >= 512 + rank or right_id >= 512 + rank:
                raise ValueError(f"merge {rank} ({merge!r}) uses a token made by a later merge")
            self.pair_ranks[left_id << 16 | right_id] = rank
        self._compiled_tables: tuple[bytes, bytes] | None = None

    def compiled_tables(self) -> tuple[bytes, bytes]:
        """The merge hash table and the byte-id table of the C extension (built once).

        Example:
            >>> table, byte_ids = load_vocabulary().compiled_tables() if COMPILED else (b"", bytes(1024))
            >>> len(byte_ids)
            1024
        """
        if self._compiled_tables is None:
            if _compiled is None:
                raise RuntimeError("the compiled BPE extension is not available")
            flat = array.array("I", itertools.chain.from_iterable(self.pair_ranks.items()))
            table = _compiled.build_table(flat.tobytes())
            self._compiled_tables = (table, array.array("I", self.byte_ids).tobytes())
        return self._compiled_tables


@functools.cache
def load_vocabulary() -> Vocabulary:
    """Load (once) the vocabulary shipped in ``naiprompt/tokens/data``.

    Example:
        >>> load_vocabulary() is load_vocabulary()
        True
    """
    raw = resources.files(__package__).joinpath("data").joinpath(_DATA_FILE).read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Vocabulary(lines)


class ClipTokenizer:
    """CLIP BPE tokenizer; ``mode`` is ``"webui"`` (transformers slow + ftfy) or ``"openai"``.

    Instances are cheap (the vocabulary is shared) and keep their own caches. Not thread-safe for
    concurrent writes to the caches in free-threaded builds; under the GIL concurrent use is fine.

    Example:
        >>> ClipTokenizer("webui").encode("a &amp; b")
        [320, 261, 321]
        >>> ClipTokenizer("openai").encode("<x> &amp;"), ClipTokenizer("webui").encode("<x> &amp;")
        ([283, 343, 285, 261], [283, 343, 285, 261, 6259, 282])
    """

    bos_id: int = BOS_ID
    eos_id: int = EOS_ID
    pad_id: int = PAD_ID
    comma_id: int = COMMA_ID
    window: int = 75  # content tokens per chunk: BOS + 75 + EOS = CLIP's 77 positions
    wraps: bool = True
    # A comma between ASCII letters, digits or spaces is a pre-token of its own, and printable ASCII text
    # without '&' is encoded word by word: encode(a + "," + b) == encode(a) + [comma_id] + encode(b) there.
    comma_separable: bool = True
    vocab_size: int = VOCAB_SIZE

    def __init__(self, mode: Mode = defaults.TOKENIZER) -> None:
        if mode not in _MODES:
            raise ValueError(f"unknown CLIP tokenizer mode {mode!r} (expected one of {', '.join(_MODES)})")
        self.mode: Mode = mode
        self.name: str = mode
        self._openai = mode == "openai"
        self._vocab: Vocabulary | None = None
        self._words: dict[str, tuple[int, ...]] = {}
        self._pieces = _PieceCache()
        self._fix_text: Callable[[str], str] | None = None
        self._unicode_findall: Callable[[str], list[str]] | None = None
        self._unicode_space: Callable[[str, str], str] | None = None

    def __repr__(self) -> str:
        return f"ClipTokenizer({self.mode!r})"

    # -- public API ------------------------------------------------------------------------------------

    @property
    def vocabulary(self) -> Vocabulary:
        """The shared :class:`Vocabulary` (loaded on first use).

        Example:
            >>> ClipTokenizer().vocabulary.decoder[320]
            'a</w>'
        """
        if self._vocab is None:
            self._vocab = load_vocabulary()
        return self._vocab

    def encode(self, text: str) -> list[int]:
        """BPE ids of ``text``, without BOS/EOS and without truncation.

        Example:
            >>> ClipTokenizer().encode("1girl, long_hair")
            [272, 1611, 267, 1538, 318, 2225]
        """
        if (
            text.isascii()
            and "&" not in text
            # isprintable() is the quick test; tab, newline and carriage return need the pattern.
            and (text.isprintable() or _NEEDS_CLEANING.search(text) is None)
            and (self._openai or "<|" not in text)
        ):
            if " " in text:
                # Words of prompts repeat (within a prompt and between calls): cache them.
                return self._encode_words(text.lower().split())
            out: list[int] = []
            # One word, usually a tag: no pre-token spans whitespace, so the pattern runs over the whole text
            # and the ids come straight from the pre-token cache.
            pieces = self._pieces
            for piece in _ascii_pretokens(text.lower()):
                out += pieces[piece]
            return out
        if not self._openai:
            return self._encode_webui_general(text)
        return self._encode_words(self._clean_openai(text))

    __call__ = encode

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        """:meth:`encode` for each text.

        Example:
            >>> ClipTokenizer().encode_batch(["cat", "dog"])
            [[2368], [1929]]
        """
        encode = self.encode
        return [encode(text) for text in texts]

    def count(self, text: str) -> int:
        """Number of BPE tokens in ``text`` (no BOS/EOS, no chunking).

        Example:
            >>> ClipTokenizer().count("masterpiece, best quality")
            4
        """
        return len(self.encode(text))

    def token_strings(self, ids: Iterable[int]) -> list[str]:
        """The vocabulary entries of ``ids`` (byte symbols, with ``</w>`` at word ends).

        Example:
            >>> ClipTokenizer().token_strings([1538, 318, 2225])
            ['long</w>', '_</w>', 'hair</w>']
        """
        decoder = self.vocabulary.decoder
        return [decoder[i] for i in ids]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: ``</w>`` becomes a space, byte symbols become UTF-8 (invalid bytes are replaced).

        Example:
            >>> tok = ClipTokenizer()
            >>> tok.decode(tok.encode("Café au lait!"))
            'café au lait !'
        """
        vocab = self.vocabulary
        byte_decoder = vocab.byte_decoder
        text = "".join(vocab.decoder[i] for i in ids).replace("</w>", " ")
        data = bytes(32 if char == " " else byte_decoder[char] for char in text)
        return data.decode("utf-8", "replace").strip()

    def clear_cache(self) -> None:
        """Forget cached words and pre-tokens (for cold-cache measurements).

        Example:
            >>> ClipTokenizer().clear_cache()
        """
        self._words.clear()
        self._pieces.clear()

    # -- cleaning ---------------------------------------------------------------------------------------

    def _ftfy(self) -> Callable[[str], str]:
        if self._fix_text is None:
            self._fix_text = _require("ftfy").fix_text
        return self._fix_text

    def _collapse(self, text: str) -> str:
        """``regex`` ``\\s+`` -> one space, then strip (CLIP's whitespace_clean)."""
        if self._unicode_space is None:
            pattern = _require("regex").compile(r"\s+")
            self._unicode_space = pattern.sub
        return self._unicode_space(" ", text).strip()

    def _clean_openai(self, text: str) -> list[str]:
        text = self._ftfy()(text)
        text = html.unescape(html.unescape(text)).strip()
        text = self._collapse(text).lower()
        return text.split(" ") if text else []

    def _clean_webui_piece(self, text: str) -> list[str]:
        if text.isascii() and _NEEDS_CLEANING.search(text) is None:
            return text.lower().split()
        text = self._collapse(self._ftfy()(text)).lower()
        return text.split(" ") if text else []

    def _encode_webui_general(self, text: str) -> list[int]:
        # transformers splits the literal special tokens off first (case-sensitive) and cleans each piece
        # on its own, so ftfy's "no HTML unescaping when the text contains '<'" rule applies per piece.
        out: list[int] = []
        for index, piece in enumerate(_SPECIAL_SPLIT.split(text)):
            if index % 2:
                out.append(_SPECIAL_IDS[piece])
            else:
                out += self._encode_words(self._clean_webui_piece(piece))
        return out

    # -- pre-tokens and BPE -----------------------------------------------------------------------------

    def _encode_words(self, words: Iterable[str]) -> list[int]:
        """Ids of whitespace-free, lowercased words, through the word cache."""
        cache = self._words
        out: list[int] = []
        for word in words:
            ids = cache.get(word)
            if ids is None:
                ids = self._encode_word(word)
            out += ids
        return out

    def _encode_word(self, word: str) -> tuple[int, ...]:
        """Ids of one whitespace-free, lowercased word (cached)."""
        if word.isascii():
            found = _ascii_pretokens(word)
        else:
            if self._unicode_findall is None:
                regex = _require("regex")
                self._unicode_findall = regex.compile(_UNICODE_PRETOKEN, regex.IGNORECASE).findall
            found = self._unicode_findall(word)
        pieces = self._pieces
        ids: list[int] = []
        for piece in found:
            ids += pieces[piece]
        result = tuple(ids)
        if len(self._words) >= _CACHE_LIMIT:
            self._words.clear()
        self._words[word] = result
        return result


class _PieceCache(dict[str, tuple[int, ...]]):
    """Pre-token -> ids; a missing pre-token goes through :func:`_bpe` and is stored.

    The cache is cleared when it reaches ``_CACHE_LIMIT`` entries.
    """

    __slots__ = ("_merge",)

    def __init__(self) -> None:
        super().__init__()
        self._merge: Callable[[str], tuple[int, ...]] | None = None

    def __missing__(self, piece: str) -> tuple[int, ...]:
        merge = self._merge
        if merge is None:
            merge = self._merge = _merger(load_vocabulary())
        ids = merge(piece)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[piece] = ids
        return ids


def _merger(vocab: Vocabulary, *, compiled: bool = COMPILED) -> Callable[[str], tuple[int, ...]]:
    """BPE of one pre-token: the compiled merge loop when available (and ``compiled``), else :func:`_bpe`.

    Example:
        >>> _merger(load_vocabulary())("hatsune"), _merger(load_vocabulary(), compiled=False)("hatsune")
        ((3447, 41096), (3447, 41096))
    """
    if _compiled is None or not compiled:
        return functools.partial(_bpe, vocab=vocab)
    table, byte_ids = vocab.compiled_tables()
    encode = _compiled.encode
    special = _SPECIAL_IDS.get

    def merge(piece: str) -> tuple[int, ...]:
        found = special(piece)
        if found is not None:
            return (found,)
        ids: tuple[int, ...] = encode(table, byte_ids, piece.encode("utf-8"))
        return ids

    return merge


def _pair_keys(ids: list[int]) -> Iterator[int]:
    """The key ``left << 16 | right`` of each adjacent pair of ``ids``, computed without a Python loop.

    Example:
        >>> list(_pair_keys([1, 2, 3]))
        [65538, 131075]
    """
    return map(operator.or_, map(operator.lshift, ids, _SIXTEENS), ids[1:])


def _bpe(piece: str, vocab: Vocabulary) -> tuple[int, ...]:
    """Byte-level BPE of one pre-token: repeatedly merge the lowest-ranked adjacent pair.

    Shortcut: if the pre-token's bytes with ``</w>`` are one vocabulary entry, that entry is the result.
    BPE does not guarantee this in general, but it holds for every ``</w>`` entry of this vocabulary but those
    in ``_NOT_OWN_BPE`` (an empty set: checked once for all 34,483 entries by ``tests/test_tokens_clip.py``).

    Otherwise the merges run on ids: the pair ``(a, b)`` is the int ``a << 16 | b`` and merge ``r`` makes
    token ``512 + r``. Occurrences of the best pair are merged leftmost first, one at a time, updating
    only the ranks of the two neighbouring pairs. That equals merging all occurrences in one left-to-right
    pass because every merge's parts are made by lower-ranked merges (checked when the vocabulary is built),
    so a pair containing a fresh merge always ranks after the pair just merged.

    Example:
        >>> vocab = load_vocabulary()
        >>> _bpe("hatsune", vocab), _bpe("cat", vocab), _bpe("<|endoftext|>", vocab)
        ((3447, 41096), (2368,), (49407,))
    """
    special = _SPECIAL_IDS.get(piece)
    if special is not None:
        return (special,)
    data = piece.encode("utf-8")
    # Printable ASCII characters but the space are their own byte symbols.
    if piece.isascii() and piece.isprintable() and " " not in piece:
        symbols = piece
    else:
        symbols = data.decode("latin-1").translate(vocab.byte_table)
    whole = vocab.encoder.get(symbols + "</w>")
    if whole is not None and whole not in _NOT_OWN_BPE:
        return (whole,)
    byte_ids = vocab.byte_ids
    ids = list(map(byte_ids.__getitem__, data))
    ids[-1] += 256  # the same byte with "</w>"
    if len(ids) == 1:
        return (ids[0],)
    if len(ids) > _LONG_PIECE:
        return _bpe_heap(ids, vocab)
    get = vocab.pair_ranks.get
    never = MERGES_USED
    # The rank of each adjacent pair, computed without a Python-level loop.
    ranks = list(map(get, _pair_keys(ids), _NEVERS))
    best = min(ranks)
    while best != never:
        at = ranks.index(best)
        merged = 512 + best
        ids[at] = merged
        del ids[at + 1]
        del ranks[at]
        # ``ranks`` cannot run empty: a one-token result is the whole entry, returned above.
        if at:
            ranks[at - 1] = get(ids[at - 1] << 16 | merged, never)
        if at < len(ranks):
            ranks[at] = get(merged << 16 | ids[at + 1], never)
        best = min(ranks)
    return tuple(ids)


def _bpe_heap(ids: list[int], vocab: Vocabulary) -> tuple[int, ...]:
    """The merges of :func:`_bpe` in O(n log n), for long pre-tokens (a run of thousands of ``!``).

    ``ids`` are the byte ids, the last one with ``</w>``. The symbols form a linked list and each adjacent
    pair with a merge sits in a heap keyed by (rank, left position): popping gives the lowest rank,
    leftmost first, the reference order. An entry whose pair has changed since it was pushed is skipped;
    a rank names one pair, so an entry is current exactly when the pair now at its position has its rank.
    The C extension runs the same algorithm.

    Example:
        >>> vocab = load_vocabulary()
        >>> ids = list(map(vocab.byte_ids.__getitem__, b"hatsune"))
        >>> ids[-1] += 256
        >>> _bpe_heap(ids, vocab)
        (3447, 41096)
    """
    get = vocab.pair_ranks.get
    count = len(ids)
    after = [*range(1, count), -1]
    before = list(range(-1, count - 1))
    heap = [
        (rank, at)
        for at, rank in enumerate(map(get, _pair_keys(ids)))
        if rank is not None
    ]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        rank, left = pop(heap)
        right = after[left]
        if right < 0 or get(ids[left] << 16 | ids[right]) != rank:
            continue  # stale: merged away, or the pair here has changed
        ids[left] = 512 + rank
        after[left] = following = after[right]
        if following >= 0:
            before[following] = left
        after[right] = -2  # merged away
        previous = before[left]
        if previous >= 0 and (found := get(ids[previous] << 16 | ids[left])) is not None:
            push(heap, (found, previous))
        if following >= 0 and (found := get(ids[left] << 16 | ids[following])) is not None:
            push(heap, (found, left))
    out: list[int] = []
    at = 0
    while at >= 0:
        out.append(ids[at])
        at = after[at]
    return tuple(out)
