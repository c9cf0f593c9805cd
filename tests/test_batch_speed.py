"""The batch API's shortcuts give the per-call results: pieces, plain text, bounded caches, live batches."""

from __future__ import annotations

import functools
import itertools
import pickle
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naiprompt
import naiprompt.batch as batch_module
from conftest import FIXTURES
from naiprompt._batch_count import BREAK, COMMA, count_ids, count_sizes, count_stream
from naiprompt.batch import _PLAIN, _PLAIN_PROBE, Batch, RowError, _Pieces
from naiprompt.tokens.chunking import chunk_segments
from naiprompt.tokens.registry import get_tokenizer

pytestmark = pytest.mark.filterwarnings("ignore::naiprompt.PromptWarning")

CAPTIONS = (FIXTURES / "batch" / "captions.txt").read_text(encoding="utf-8").splitlines()
FRAGMENT_DIALECTS = ["webui", "nai", "nai4"]

# Comma pieces as captions hold them, and the ones that must keep a caption off the shortcuts: brackets
# that reach over a comma, escapes, colons, punctuation that a tokenizer joins to a comma, empty pieces.
PIECES = [
    "1girl",
    " long hair",
    " long_hair",
    "  two  spaces ",
    " smile",
    "solo",
    " 1.5",
    " 2",
    " :d",
    " ^_^",
    " {best quality}",
    " {{masterpiece}}",
    " [blurry]",
    " (smile:1.2)",
    " ((a))",
    " [[b]]",
    " (a:0.5) b",
    " saori \\(blue archive\\)",
    " artist (name)",
    " {16:9}",
    " a:b",
    " (x:1.1) (y:1.2)",
    " (a",
    " b)",
    " {a",
    " b}",
    "",
    " ",
    " 's",
    " a's",
    "&amp;",
    " x&y",
    " \\",
    " <lora:x:1>",
    " [a|b]",
    " AND b",
    " BREAK ",
    " (a:1.0)",
    " [(c)]",
    " (:d:1.1)",
    " ),",
    " é",
    " 1.5::x::",
    " x:3",
    "()",
    "(:1.2)",
    "[]",
    "{}",
    "x",
    ":",
    # shapes: plain text in the same brackets
    " {long hair}",
    "{{x 1}}",
    " [0]",
    " {a_b}",
    " {{1girl}}",
    "{3d}",
    " [tag 2]",
    " (tag 2)",
    "((x y))",
    " {a} b",
    " {{a}} 7",
    "[[q's]]",
    " {x-ray} (y)",
    " (3)",
    "{ a }",
    # punctuation beside a comma, which fuses with it into one pre-token ("),", "!,(")
    " smile!",
    "!x",
    " (a:1.2)!",
    "!(b)",
    " miku \\(cosplay\\)",
    " :)",
    " ^_^ ",
    "!!",
    "?",
    " a.",
    "...",
    "x'",
    "'x",
    " (a:1.2) b?",
    "?b (c:0.9)",
    " a_",
    "_b",
    " (a:1.1)(b:1.2)",
    # simple tags at a weight, read without the shapes (the weight does not change a size)
    " (long hair:1.1)",
    "(x:1)",
    "(a_b:0.5)",
    " (2:1.05)",
    "(a:1.)",
    # tags with punctuation inside, and escaped brackets inside weight brackets
    " (honkai_\\(series\\):1.05)",
    "(digital media \\(artwork\\):0.9524)",
    " (two-tone_dress:1.05)",
    " (hand on another's face:0.9524)",
    " (love_live!:1)",
    " (a\\):1.0)",
    " (b\\(:1.1)",
    " (x-:1.1)",
    " one-piece_swimsuit",
    " hand_on_another's_face",
    " mr._l",
    " male/male",
    "t-",
    " anubii_\\(quin-nsfw\\)",
    " jenny_\\(bucky_o'hare\\)",
    " (16\\:9:1.1025)",
]
CAPTION_PIECES = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map(",".join)


def per_call(function: Any, rows: list[str]) -> list[Any]:
    out: list[Any] = []
    for row in rows:
        try:
            out.append(function(row))
        except Exception as exc:
            out.append(RowError(str(exc), type(exc).__name__))
    return out


def assert_batch_equals(batch: Batch, function: Any, rows: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = per_call(function, rows)
        got = batch(rows)
    for row, want, have in zip(rows, expected, got, strict=True):
        assert have == want, row


@pytest.fixture
def tiny_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches of a few entries, so that every generation turns over many times in one test."""
    monkeypatch.setattr(batch_module, "CACHE_LIMIT", 12)
    monkeypatch.setattr(batch_module, "ROW_CACHE_LIMIT", 5)


@pytest.mark.usefixtures("tiny_caches")
@pytest.mark.parametrize(("read", "write"), [("nai", "webui"), ("webui", "nai"), ("nai4", "webui")])
def test_convert_with_caches_turning_over_equals_per_call(read: str, write: str) -> None:
    rows = CAPTIONS[:150] + CAPTIONS[:40]
    batch = Batch("convert", read=read, write=write)
    assert_batch_equals(batch, lambda row: naiprompt.convert(row, read, write), rows)


@pytest.mark.usefixtures("tiny_caches")
def test_count_tokens_with_caches_turning_over_equals_per_call() -> None:
    webui = Batch("convert", read="nai", write="webui")(CAPTIONS[:200])
    assert_batch_equals(Batch("count_tokens"), naiprompt.count_tokens, webui + webui[:50])


@pytest.mark.parametrize("options", [{}, {"emphasis": "none"}, {"dialect": "nai"}])
def test_count_tokens_of_every_piece_beside_every_kind_of_neighbour(options: dict[str, Any]) -> None:
    """Each piece first, last, between pieces and beside punctuation that fuses with a comma; cold, then warm."""
    rows = []
    for piece in PIECES:
        rows += [f"x,{piece},y", f"{piece},x", f"1girl,{piece}", f"{piece},{piece}", f"!,{piece},)", f"{piece},!x"]
    batch = Batch("count_tokens", **options)
    assert_batch_equals(batch, lambda row: naiprompt.count_tokens(row, **options), rows + rows)


@settings(max_examples=40, deadline=None)
@given(st.lists(CAPTION_PIECES, min_size=1, max_size=8))
def test_count_tokens_from_pieces_equals_per_call(rows: list[str]) -> None:
    # Shared piece caches over the rows, repeated: the second pass is served from them.
    for options in [{}, {"negative": True, "comma_backtrack": 3}, {"emphasis": "none"}]:
        batch = Batch("count_tokens", **options)
        assert_batch_equals(batch, lambda row, o=options: naiprompt.count_tokens(row, **o), rows + rows[::-1])


LONG_CAPTIONS = st.lists(st.sampled_from(PIECES), min_size=15, max_size=70).map(",".join)


@settings(max_examples=30, deadline=None)
@given(st.lists(LONG_CAPTIONS, min_size=1, max_size=4), st.sampled_from([0, 1, 5, 20, 74]))
def test_long_captions_from_pieces_equal_per_call(rows: list[str], backtrack: int) -> None:
    """Captions past one chunk: the comma backtrack over pieces' sizes and fused punctuation."""
    for dialect in ["webui", "nai"]:
        batch = Batch("count_tokens", dialect=dialect, comma_backtrack=backtrack)
        expected = functools.partial(naiprompt.count_tokens, dialect=dialect, comma_backtrack=backtrack)
        assert_batch_equals(batch, expected, rows * 2)


# A stream as count_stream reads it: runs of ids that are not a comma (n >= 0), commas (-1), BREAKs (-2).
STREAMS = st.lists(st.one_of(st.integers(0, 90), st.just(COMMA), st.just(BREAK)), max_size=60)


class Geometry:
    """A tokenizer's geometry for ``chunk_segments(encoded=...)``: CLIP's special ids, any window."""

    bos_id, eos_id, pad_id, comma_id = 49406, 49407, 49407, 267
    wraps = True

    def __init__(self, window: int) -> None:
        self.window = window

    def encode(self, text: str) -> list[int]:  # pragma: no cover - the ids are given
        raise AssertionError(text)


def chunker_count(stream: list[int], backtrack: int, window: int) -> int:
    """The stream through WebUI's chunker itself (``chunk_segments``), not through count_stream."""
    segments = [("BREAK", -1.0) if item == BREAK else ("x", 1.0) for item in stream]
    encoded = [[] if ids is None else ids for ids in ids_of(stream)]
    layout = chunk_segments(segments, Geometry(window), comma_backtrack=backtrack, encoded=encoded)  # type: ignore[arg-type]
    return layout.token_count


def ids_of(stream: list[int]) -> list[list[int] | None]:
    return [None if item == BREAK else [Geometry.comma_id] if item == COMMA else [1] * item for item in stream]


@settings(max_examples=300, deadline=None)
@given(STREAMS, st.integers(0, 100), st.integers(1, 100))
def test_count_stream_and_count_ids_are_the_chunkers_count(stream: list[int], backtrack: int, window: int) -> None:
    backtrack = min(backtrack, window - 1)
    expected = chunker_count(stream, backtrack, window)
    assert count_stream(stream, backtrack, window) == expected
    assert count_ids(ids_of(stream), Geometry.comma_id, backtrack, window) == expected
    # Where one run ends and the next begins does not matter: the same ids as one run per BREAK.
    joined: list[list[int] | None] = [[]]
    for ids in ids_of(stream):
        if ids is None:
            joined += [None, []]
        else:
            joined[-1] += ids  # type: ignore[operator]
    assert count_ids(joined, Geometry.comma_id, backtrack, window) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=40), st.integers(0, 74), st.integers(1, 100))
def test_count_sizes_is_pieces_with_one_comma_between(sizes: list[int], backtrack: int, window: int) -> None:
    backtrack = min(backtrack, window - 1)
    stream = list(itertools.chain.from_iterable([size, COMMA] for size in sizes))[:-1]
    assert count_sizes(sizes, backtrack, window) == chunker_count(stream, backtrack, window)


# Printable ASCII without "&", and the characters a comma keeps apart from itself.
ASCII_TEXT = st.text(alphabet=[chr(c) for c in range(32, 127) if chr(c) != "&"], max_size=15)
BESIDE_COMMA = st.sampled_from(list("abcXYZ059 "))


@settings(max_examples=300, deadline=None)
@given(ASCII_TEXT, BESIDE_COMMA, BESIDE_COMMA, ASCII_TEXT, st.sampled_from(["webui", "openai"]))
def test_clip_is_comma_separable(before: str, left: str, right: str, after: str, mode: str) -> None:
    """What ``comma_separable`` promises: beside letters, digits and spaces a comma is its own id."""
    tok = get_tokenizer(mode)
    assert tok.comma_separable is True
    a, b = before + left, right + after
    assert tok.encode(a + "," + b) == [*tok.encode(a), tok.comma_id, *tok.encode(b)]


@settings(max_examples=25, deadline=None)
@given(st.lists(CAPTION_PIECES, min_size=1, max_size=6))
def test_convert_from_pieces_equals_per_call(rows: list[str]) -> None:
    for read, write in [("nai", "webui"), ("webui", "nai"), ("webui", "nai4"), ("nai4", "nai")]:
        batch = Batch("convert", read=read, write=write)
        assert_batch_equals(batch, lambda row, r=read, w=write: naiprompt.convert(row, r, w), rows + rows[::-1])


def test_pieces_of_one_shape_are_filled_from_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = naiprompt.api.convert

    def counting(text: str, *args: Any, **kwargs: Any) -> str:
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(naiprompt.api, "convert", counting)
    tags = ["long hair", "smile", "blue eyes", "x-ray 2", "1girl", "a_b", "9"]
    rows = [", ".join(f"{{{tag}}}, [{tag}], {{{{{tag}}}}}" for tag in tags[n:] + tags[:n]) for n in range(len(tags))]
    for read, write in itertools.product(FRAGMENT_DIALECTS, repeat=2):
        calls.clear()
        batch = Batch("convert", read=read, write=write)
        assert_batch_equals(batch, lambda row, r=read, w=write: naiprompt.convert(row, r, w), rows)
        if read != "webui":  # braces are text in WebUI: nothing to fill there
            assert not any("long hair" in text for text in calls), (read, write)


def test_long_captions_cross_the_chunk_with_commas_near_its_end() -> None:
    # Past 75 tokens the comma backtrack decides: pieces of every length put commas at every position.
    rows = [", ".join(f"tag{'x' * (n % 7)} {n}" for n in range(count)) for count in range(20, 60, 3)]
    rows += [", ".join(["(a b c:1.1)", "d e f g", "h"] * count) for count in range(5, 30, 4)]
    assert_batch_equals(Batch("count_tokens"), naiprompt.count_tokens, rows)
    assert_batch_equals(
        Batch("count_tokens", comma_backtrack=0), lambda r: naiprompt.count_tokens(r, comma_backtrack=0), rows
    )


PLAIN_TEXT = st.text(alphabet=_PLAIN_PROBE.strip() + " ", max_size=12).filter(
    lambda text: "AND" not in text and "BREAK" not in text
)


@settings(max_examples=60, deadline=None)
@given(PLAIN_TEXT)
def test_plain_text_converts_to_itself_between_commas(text: str) -> None:
    # What lets the convert batch skip plain pieces: it holds in every pair of fragment dialects.
    assert _PLAIN.fullmatch(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and without a warning
        for read, write in itertools.product(FRAGMENT_DIALECTS, repeat=2):
            assert naiprompt.convert("," + text + ",", read, write) == "," + text + ",", (read, write)


def test_plain_pieces_are_not_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = Batch("convert", read="nai", write="webui")
    calls: list[str] = []
    real = naiprompt.api.convert

    def counting(text: str, *args: Any, **kwargs: Any) -> str:
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(naiprompt.api, "convert", counting)
    fresh = Batch("convert", read="nai", write="webui", decimals=3)  # built after the patch: counted
    assert fresh(["long hair, smile, blue eyes, {a}", "smile, long hair, blue eyes, {a}"]) == [
        "long hair, smile, blue eyes, (a:1.05)",
        "smile, long hair, blue eyes, (a:1.05)",
    ]
    assert not any("long hair" in text for text in calls[1:])  # calls[0] is the probe
    assert batch(["a, b"]) == ["a, b"]


def test_piece_generations_stay_bounded_and_keep_what_is_used() -> None:
    pieces: _Pieces[str] = _Pieces(3)
    for n in range(10):
        pieces[f"rare{n}"] = str(n)
        pieces["hot"] = pieces.get("hot") or "kept"
        assert len(pieces) <= 6
    assert pieces.get("hot") == "kept" and pieces.get("rare0") is None and "rare9" in pieces


def test_a_worker_keeps_one_batch_per_operation() -> None:
    batch = Batch("convert", read="nai", write="webui")
    first = pickle.loads(pickle.dumps(batch))
    first(["{a}, b"])
    second = pickle.loads(pickle.dumps(Batch("convert", read="nai")))
    assert second is first and second == batch  # the same caches, warm
    assert pickle.loads(pickle.dumps(Batch("convert", read="webui"))) is not first
    for n in range(batch_module._LIVE_LIMIT + 2):
        pickle.loads(pickle.dumps(Batch("convert", read="nai", decimals=n)))
    assert len(batch_module._LIVE) <= batch_module._LIVE_LIMIT


def test_processes_with_small_chunks_equal_one_process() -> None:
    rows: list[Any] = [*CAPTIONS[:200], None, 3]
    webui = Batch("convert", read="nai", write="webui")(CAPTIONS[:200])
    assert Batch("convert", read="nai").map(rows, jobs=2, chunk_size=16) == Batch("convert", read="nai")(rows)
    counts = Batch("count_tokens").map(webui, jobs=2, chunk_size=16)
    assert counts == [naiprompt.count_tokens(row) for row in webui]


def test_counters_travel_back_packed_and_arrive_whole() -> None:
    rows: list[Any] = ["a, b  ", "a BREAK b", "[a:b:5], c", None, 4, "x", "x AND y:2 "]
    expected = Batch("count_tokens")(rows)
    got = Batch("count_tokens").map(rows, jobs=2, chunk_size=2)
    assert got == expected
    for want, have in zip(expected, got, strict=True):
        assert type(have) is type(want)
        if isinstance(want, naiprompt.batch.TokenCounter):
            assert (have.count, have.target, have.text) == (want.count, want.target, want.text)
    assert Batch("budget", limit=1).map(["a, b, c", "a", None], jobs=2, chunk_size=1) == [4, 0, None]


COMMA_NEIGHBOURS = [
    "smile!, long hair",  # "!," is one pre-token: the pieces' ids do not simply join
    ":), 1girl",
    "a,,b, c",
    "a , b ,c",
    "Long Hair, SMILE",
    "1, 2, 3girls",
    "x&y, z",
    "café, a",
    "a\tb, c",
    "a's, b'd, e",
    "(a:1.2) b!, c, d",
    "(a:1.2) b, c!, (d)",
    "a, <x, b",
]


@pytest.mark.parametrize("caption", COMMA_NEIGHBOURS)
def test_count_tokens_joins_piece_ids_only_where_a_comma_keeps_them(caption: str) -> None:
    """A line of runs at 1 is counted from its pieces' ids only when no pre-token spans a comma."""
    rows = [caption, caption, caption.upper(), caption + ", " + caption]
    assert_batch_equals(Batch("count_tokens"), naiprompt.count_tokens, rows)
