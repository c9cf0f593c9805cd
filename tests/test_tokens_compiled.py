"""The optional C merge loop (``naiprompt.tokens._bpe``) gives exactly the pure-Python ``_bpe``'s ids.

Every test here compares the two implementations of the same function; the pure-Python one is itself
checked against the classic BPE loop (test_tokens_clip.py) and the reference tokenizers
(test_tokens_exact.py). Without the extension (no C compiler when the wheel was built) the comparisons skip
and the fallback test still runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    import tokens_reference as ref
except ImportError:  # pragma: no cover - run as a package
    from tests import tokens_reference as ref  # type: ignore[no-redef]

from naiprompt.tokens import clip
from naiprompt.tokens.clip import ClipTokenizer, _bpe, _merger, load_vocabulary

needs_extension = pytest.mark.skipif(
    not clip.COMPILED, reason="the C extension was not built (or NAIPROMPT_PURE_PYTHON is set)"
)


def merge_compiled(piece: str) -> tuple[int, ...]:
    return _merger(load_vocabulary())(piece)


def merge_python(piece: str) -> tuple[int, ...]:
    return _bpe(piece, load_vocabulary())


@needs_extension
def test_every_vocabulary_entry() -> None:
    # Each entry's text as a pre-token, with and without its "</w>": every merge of the table is used.
    vocab = load_vocabulary()
    byte_decoder = vocab.byte_decoder
    for token in vocab.decoder[:-2]:
        stem = token.removesuffix("</w>")
        piece = bytes(byte_decoder[symbol] for symbol in stem).decode("utf-8", "replace")
        assert merge_compiled(piece) == merge_python(piece), token


@needs_extension
@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_arbitrary_pieces(piece: str) -> None:
    # Any string, including those longer than the extension's 64-byte stack buffers.
    assert merge_compiled(piece) == merge_python(piece)


@pytest.mark.slow
@needs_extension
@settings(max_examples=2_000, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_arbitrary_pieces_many(piece: str) -> None:
    assert merge_compiled(piece) == merge_python(piece)


@needs_extension
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aab_!.é中", min_size=60, max_size=400))
def test_long_repetitive_pieces(piece: str) -> None:
    # Repeated pairs exercise the leftmost-first order among equal ranks and the stale heap entries.
    assert merge_compiled(piece) == merge_python(piece)


@needs_extension
@pytest.mark.parametrize(
    "piece",
    ["a", "ab", "aaa", "aaaa", "!" * 63, "!" * 64, "!" * 65, "!" * 5_000, "ab" * 2_000, "_" * 777,
     "hatsune", "<|endoftext|>", "<|startoftext|>", "\x00", "\U0001f389" * 30],
)
def test_edge_pieces(piece: str) -> None:
    assert merge_compiled(piece) == merge_python(piece)


@pytest.mark.slow
@needs_extension
def test_every_tag_piece() -> None:
    # All pre-tokens of the danbooru and e621 tags, written with underscores and with spaces.
    from naiprompt.tokens.clip import _ascii_pretokens

    pieces: set[str] = set()
    for name in ("danbooru.csv", "e621.csv"):
        for tag in ref.tag_list(name):
            if tag.isascii():
                pieces.update(_ascii_pretokens(tag.lower().replace("_", " ")))
                pieces.update(_ascii_pretokens(tag.lower()))
    assert len(pieces) > 100_000
    assert [p for p in pieces if merge_compiled(p) != merge_python(p)] == []


@needs_extension
def test_extension_rejects_malformed_arguments() -> None:
    from naiprompt.tokens import _bpe as extension

    table, byte_ids = load_vocabulary().compiled_tables()
    with pytest.raises(TypeError):
        extension.encode(table, byte_ids, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extension.encode(table, byte_ids)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="malformed"):
        extension.encode(table[:-8], byte_ids, b"abc")
    with pytest.raises(ValueError, match="malformed"):
        extension.encode(table, byte_ids[:-4], b"abc")
    with pytest.raises(ValueError, match="whole"):
        extension.build_table(b"\x00" * 12)
    with pytest.raises(TypeError):
        extension.build_table("pairs")  # type: ignore[arg-type]
    assert extension.encode(table, byte_ids, b"") == ()


def test_pure_python_fallback_in_a_fresh_interpreter() -> None:
    # NAIPROMPT_PURE_PYTHON forces the fallback; it must give the ids this process gives.
    texts = ["1girl, long_hair, hatsune miku", "Café au lait! 日本語 &amp; <|endoftext|>", "!" * 70 + "x"]
    code = (
        "import json, sys; from naiprompt.tokens import clip; assert not clip.COMPILED; "
        "tok = clip.ClipTokenizer(); print(json.dumps([tok.encode(t) for t in json.loads(sys.argv[1])]))"
    )
    env = dict(os.environ, NAIPROMPT_PURE_PYTHON="1")
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(texts)], capture_output=True, text=True, env=env, check=True
    )
    tokenizer = ClipTokenizer()
    assert json.loads(done.stdout) == [tokenizer.encode(text) for text in texts]
