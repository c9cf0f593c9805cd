"""Unit tests of the CLIP tokenizer backend: vocabulary, known ids, modes, caches, laziness, registry."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import subprocess
import sys
from importlib import metadata, resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naiprompt.tokens import registry
from naiprompt.tokens.api import tokenize
from naiprompt.tokens.clip import (
    _LONG_PIECE,
    _NOT_OWN_BPE,
    BOS_ID,
    COMMA_ID,
    EOS_ID,
    ClipTokenizer,
    TokenizerDependencyError,
    Vocabulary,
    _bpe,
    byte_symbols,
    load_vocabulary,
)

# sha256 of the uncompressed shipped merges: the first 48,894 merges of OpenAI's bpe_simple_vocab_16e6.txt.gz
# (whose gz sha256 is 924691ac...6804a), one per line, no header.
MERGES_SHA256 = "d308b7377a8ceaa9707a21614fe8c831b9196e197b7aeb69833359362907af02"


def test_vendored_merges_are_the_expected_file() -> None:
    data = resources.files("naiprompt.tokens").joinpath("data").joinpath("clip_bpe_48894.txt.gz").read_bytes()
    assert len(data) < 250_000
    raw = gzip.decompress(data)
    assert hashlib.sha256(raw).hexdigest() == MERGES_SHA256
    lines = raw.decode("utf-8").split("\n")
    assert lines[0] == "i n" and lines[48893] == "jeky ll</w>" and lines[48894] == ""


def test_openai_licence_ships_next_to_the_data() -> None:
    text = resources.files("naiprompt.tokens").joinpath("data").joinpath("LICENSE-OPENAI-CLIP").read_text("utf-8")
    assert "Copyright (c) 2021 OpenAI" in text
    assert "Permission is hereby granted, free of charge" in text


def test_vocabulary_layout() -> None:
    vocab = load_vocabulary()
    assert len(vocab.decoder) == len(vocab.encoder) == 49408
    assert vocab.decoder[:3] == ("!", '"', "#")
    assert vocab.decoder[187] == "ÿ" and vocab.decoder[255] == "Ń" and vocab.decoder[256] == "!</w>"
    assert vocab.decoder[512] == "in" and vocab.decoder[49405] == "jekyll</w>"
    assert vocab.decoder[BOS_ID] == "<|startoftext|>" and vocab.decoder[EOS_ID] == "<|endoftext|>"
    assert vocab.encoder[",</w>"] == COMMA_ID
    assert vocab.ranks["i n"] == 0


def classic_bpe(symbols: list[str], vocab: Vocabulary) -> list[int]:
    """OpenAI's BPE loop on symbol strings: merge every occurrence of the best pair, left to right."""
    word = list(symbols)
    while len(word) > 1:
        ranked = [(vocab.ranks.get(f"{a} {b}"), a, b) for a, b in itertools.pairwise(word)]
        candidates = [(rank, a, b) for rank, a, b in ranked if rank is not None]
        if not candidates:
            break
        _rank, first, second = min(candidates)
        merged: list[str] = []
        i = 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = merged
    return [vocab.encoder[token] for token in word]


def classic_piece_bpe(piece: str, vocab: Vocabulary) -> list[int]:
    symbols = [vocab.byte_table[byte] for byte in piece.encode("utf-8")]
    symbols[-1] += "</w>"
    return classic_bpe(symbols, vocab)


def test_word_entries_are_their_own_bpe() -> None:
    """The proof behind _bpe's whole-entry shortcut: BPE of each ``</w>`` entry's bytes is that entry."""
    vocab = load_vocabulary()
    checked = 0
    not_own: set[int] = set()
    for token_id, token in enumerate(vocab.decoder):
        if not token.endswith("</w>"):
            continue
        symbols = [*token[:-4]]
        symbols[-1] += "</w>"
        checked += 1
        if classic_bpe(symbols, vocab) != [token_id]:
            not_own.add(token_id)
    assert checked == 34_483
    assert not_own == set(_NOT_OWN_BPE)


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=24))
def test_bpe_equals_the_classic_loop(piece: str) -> None:
    # Any string, including spaces and control characters that the pre-tokenizer never passes on; the
    # special literals are the one deliberate difference (they are their own ids).
    vocab = load_vocabulary()
    if piece in ("<|startoftext|>", "<|endoftext|>"):
        assert _bpe(piece, vocab) == (vocab.encoder[piece],)
        return
    assert list(_bpe(piece, vocab)) == classic_piece_bpe(piece, vocab)


@pytest.mark.parametrize(
    "piece", ["a", " ", "\x1c", "\x1c\x1d", "a b", "hatsune", "ab" * 40, "日本語", "\x00\x7f", "é", "</w>"]
)
def test_bpe_equals_the_classic_loop_examples(piece: str) -> None:
    vocab = load_vocabulary()
    assert list(_bpe(piece, vocab)) == classic_piece_bpe(piece, vocab)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aab_!.é中 \x1c", min_size=60, max_size=600))
def test_long_pieces_use_the_heap_loop_with_the_same_result(piece: str) -> None:
    # Past _LONG_PIECE bytes _bpe switches to its O(n log n) heap loop; repeated pairs test the
    # leftmost-first order among equal ranks and the skipping of stale heap entries.
    vocab = load_vocabulary()
    assert list(_bpe(piece, vocab)) == classic_piece_bpe(piece, vocab)


@pytest.mark.parametrize("size", [_LONG_PIECE - 1, _LONG_PIECE, _LONG_PIECE + 1, _LONG_PIECE + 2, 3_000])
@pytest.mark.parametrize("unit", ["!", "ab", "hatsune", "é"])
def test_long_pieces_around_the_switch(size: int, unit: str) -> None:
    vocab = load_vocabulary()
    piece = (unit * size)[:size] if unit.isascii() else unit * (size // 2)
    assert list(_bpe(piece, vocab)) == classic_piece_bpe(piece, vocab)


def test_byte_symbols_are_a_bijection() -> None:
    table = byte_symbols()
    assert len(set(table)) == 256
    assert table[ord("!")] == "!" and table[0xAD] == "Ń" and table[ord(" ")] == "Ġ"
    assert all(not symbol.isspace() for symbol in table)


# Ids of the original OpenAI tokenizer and of WebUI's path (transformers 4.x slow CLIPTokenizer + ftfy).
KNOWN = [
    ("a photo of a cat", [320, 1125, 539, 320, 2368]),
    ("girl’s", [1611, 568]),
    ("ＡＢＣ，ｄｅｆ", [5334, 267, 11649]),
    ("ﬁ", [3589]),
    ("cafÃ©", [15304]),
    ("a\x0bb", [3937]),
    ("\x1b[31mred", [736]),
    ("\x85", [959]),
    ("&amp;", [261]),
    ("ΟΔΟΣ", [138, 123, 138, 112, 138, 123, 139, 480]),
    ("'ſ", [6, 129, 379]),
    ("a\u0345b", [320, 321]),
    ("e\u0301", [4166]),
    ("<|endoftext|>", [49407]),
    ("<|ENDOFTEXT|>", [49407]),
    ("日本語", [39121, 44353, 34002, 508]),
    ("a\u200bb", [320, 9844, 321]),
    ("12345", [272, 273, 274, 275, 276]),
    (",,", [8844]),
    ("", []),
]


@pytest.mark.parametrize(("text", "ids"), KNOWN)
def test_known_ids_both_modes(text: str, ids: list[int]) -> None:
    pytest.importorskip("regex")
    pytest.importorskip("ftfy")
    assert tokenize(text) == ids
    assert tokenize(text, mode="openai") == ids


def test_modes_differ_only_on_html_details() -> None:
    pytest.importorskip("ftfy")
    # ftfy skips unescaping when the text contains "<"; only the original unescapes again.
    assert tokenize("a < b &amp;", mode="webui") == [320, 283, 321, 261, 6259, 282]
    assert tokenize("a < b &amp;", mode="openai") == [320, 283, 321, 261]
    assert tokenize("&lt", mode="webui") == [261, 3333]
    assert tokenize("&lt", mode="openai") == [283]


def test_special_tokens_split_first_in_webui_mode() -> None:
    pytest.importorskip("ftfy")
    assert tokenize(",<|endoftext|>x") == [267, 49407, 343]
    # OpenAI's pattern sees ",<|" as one punctuation run instead.
    assert tokenize(",<|endoftext|>x", mode="openai") == [11, 27, 347, 40786, 4160, 91, 285, 343]


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown CLIP tokenizer mode"):
        ClipTokenizer("hf")  # type: ignore[arg-type]


def test_decode_and_token_strings() -> None:
    tok = ClipTokenizer()
    ids = tok.encode("Long_Hair, 1girl")
    assert tok.token_strings(ids) == ["long</w>", "_</w>", "hair</w>", ",</w>", "1</w>", "girl</w>"]
    assert tok.decode(ids) == "long _ hair , 1 girl"
    assert tok.decode(tok.encode("日本")) == "日本"


def test_caches_do_not_change_results() -> None:
    tok = ClipTokenizer()
    first = tok.encode("masterpiece, best quality, looking at viewer")
    assert tok.encode("masterpiece, best quality, looking at viewer") == first
    tok.clear_cache()
    assert tok.encode("masterpiece, best quality, looking at viewer") == first
    assert tok.count("masterpiece, best quality, looking at viewer") == len(first)
    assert tok.encode_batch(["cat", "dog"]) == [[2368], [1929]]


def test_cache_limit_bounds_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from naiprompt.tokens import clip

    monkeypatch.setattr(clip, "_CACHE_LIMIT", 8)
    tok = ClipTokenizer()
    words = [f"w{i}x" for i in range(50)]
    assert tok.encode(" ".join(words)) == ClipTokenizer().encode(" ".join(words))
    assert len(tok._words) <= 8 and len(tok._pieces) <= 8


def test_plain_ascii_needs_neither_regex_nor_ftfy() -> None:
    code = (
        "import sys\n"
        "import naiprompt\n"
        "before = {m for m in ('regex', 'ftfy') if m in sys.modules}\n"
        "from naiprompt.tokens.api import count_tokens, tokenize\n"
        "ids = tokenize('long_hair, 1girl\\n(smile:1.2)')\n"
        "assert ids == [1538, 318, 2225, 267, 272, 1611, 263, 3490, 281, 272, 269, 273, 264], ids\n"
        "count_tokens('masterpiece, (best quality:1.2)')\n"
        "new = {m for m in ('regex', 'ftfy') if m in sys.modules} - before\n"
        "heavy = {m for m in ('torch', 'transformers') if m in sys.modules}\n"
        "print(sorted(new | heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_extra_is_named() -> None:
    code = (
        "import sys\n"
        "sys.modules['ftfy'] = None\n"
        "sys.modules['regex'] = None\n"
        "from naiprompt.tokens.clip import ClipTokenizer, TokenizerDependencyError\n"
        "tok = ClipTokenizer()\n"
        "assert tok.encode('plain ascii') == [10709, 12753, 328]\n"
        "try:\n"
        "    tok.encode('café')\n"
        "except TokenizerDependencyError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "naiprompt[tokens]" in out.stdout
    assert issubclass(TokenizerDependencyError, ImportError)


def test_registry_builtins_and_protocol() -> None:
    webui = registry.get_tokenizer("webui")
    assert isinstance(webui, registry.Tokenizer)
    assert registry.get_tokenizer(webui) is webui
    assert {"webui", "openai"} <= set(registry.tokenizer_names())
    assert registry.get_tokenizer("openai").name == "openai"


def test_register_runtime_tokenizer() -> None:
    class Letters:
        name = "letters"
        bos_id, eos_id, pad_id, comma_id = 1, 2, 0, 3

        def encode(self, text: str) -> list[int]:
            return [3 if c == "," else 10 + ord(c) for c in text if not c.isspace()]

    registry.register_tokenizer("letters-test", Letters, replace=True)
    assert tokenize("a,b", mode="letters-test") == [107, 3, 108]
    from naiprompt._plugins import PluginError

    with pytest.raises(PluginError):
        registry.register_tokenizer("bad-test", 42, replace=True)


def test_entry_point_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    from naiprompt import _plugins

    fake = metadata.EntryPoint(
        name="clip-via-plugin", value="naiprompt.tokens.clip:ClipTokenizer", group=registry.ENTRY_POINT_GROUP
    )

    def entry_points(group: str) -> list[metadata.EntryPoint]:
        return [fake] if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(_plugins, "_entry_points", entry_points)
    registry._REGISTRY.refresh()
    try:
        assert "clip-via-plugin" in registry.tokenizer_names()
        assert tokenize("1girl", mode="clip-via-plugin") == [272, 1611]
    finally:
        monkeypatch.undo()
        registry._REGISTRY.refresh()
