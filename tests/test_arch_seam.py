"""One tokens/encode seam: a tokenizer plugin with another window changes counting, chunks, budgets and the CLI.

The toy tokenizer is a real installed distribution as far as ``importlib.metadata`` is concerned: a module
and a ``.dist-info`` folder with an ``entry_points.txt`` on ``sys.path`` (in this process) or on
``PYTHONPATH`` (the CLI in a subprocess). No core file names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from naiprompt.tokens import budget, chunks, count_tokens, segments
from naiprompt.tokens import registry as tokenizers
from naiprompt.tokens.chunking import Chunk, chunk_segments
from naiprompt.tokens.emphasis import EMPHASIS, Emphasis, emphasis_names, get_emphasis, register_emphasis

SRC = Path(__file__).resolve().parents[1] / "src"

TOY_MODULE = '''
import re

class Toy:
    """One id per word (100 + its length), 3 for a comma; chunks of 10 wrapped in 1 ... 2."""
    name = "toy"
    bos_id, eos_id, pad_id, comma_id = 1, 2, 0, 3
    window = 10
    wraps = True

    def encode(self, text):
        return [3 if word == "," else 100 + len(word) for word in re.findall(r"\\w+|,", text)]

class Flat(Toy):
    """The same ids in unwrapped chunks of 4, padded with 0 (as an encoder without BOS/EOS takes them)."""
    name = "flat"
    window = 4
    wraps = False
'''


@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Install ``naiprompt-toytok`` (entry points ``toy`` and ``flat``) on ``sys.path``."""
    (tmp_path / "naiprompt_toytok.py").write_text(TOY_MODULE, encoding="utf-8")
    info = tmp_path / "naiprompt_toytok-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: naiprompt-toytok\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[naiprompt.tokenizers]\ntoy = naiprompt_toytok:Toy\nflat = naiprompt_toytok:Flat\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    tokenizers._REGISTRY.refresh()
    yield tmp_path
    sys.modules.pop("naiprompt_toytok", None)
    tokenizers._REGISTRY.refresh()


WORDS = "a bb ccc dddd e f g h i j k l"  # 12 words, 12 toy ids


def test_the_tokenizer_comes_from_the_entry_point(toy_package: Path) -> None:
    assert {"toy", "flat"} <= set(tokenizers.tokenizer_names())
    toy = tokenizers.get_tokenizer("toy")
    assert type(toy).__module__ == "naiprompt_toytok"
    assert (toy.window, toy.wraps, toy.encode("a, bb")) == (10, True, [101, 3, 102])


def test_count_tokens_counts_in_the_tokenizers_window(toy_package: Path) -> None:
    result = count_tokens(WORDS, tokenizer="toy")
    assert (result.count, result.target, str(result)) == (12, 20, "12/20")
    assert str(count_tokens("a BREAK b", tokenizer="toy")) == "11/20"  # a closed chunk counts a whole window
    assert str(count_tokens(WORDS)) == "12/75"  # CLIP unchanged beside it


def test_chunks_have_the_tokenizers_geometry(toy_package: Path) -> None:
    first, second = chunks("(a:1.5) bb ccc dddd e f g h i j k l", tokenizer="toy")
    assert first.tokens == (1, 101, 102, 103, 104, 101, 101, 101, 101, 101, 101, 2)
    assert first.multipliers[:3] == (1.0, 1.5, 1.0) and len(first.multipliers) == 12
    assert second.tokens == (1, 101, 101, *[2] * 8, 2) and second.length == 2
    # Unwrapped chunks: the window's ids, padded with the tokenizer's pad id.
    flat = chunks("a bb ccc dddd e f", tokenizer="flat")
    assert [c.tokens for c in flat] == [(101, 102, 103, 104), (101, 101, 0, 0)]
    assert count_tokens("a bb ccc dddd e f", tokenizer="flat").target == 8
    assert budget("a bb ccc dddd e f", tokenizer="flat").chunk_lengths == (4, 2)


def test_batch_counts_in_the_tokenizers_window(toy_package: Path) -> None:
    from naiprompt.batch import Batch

    rows = ["a b c d e f g h, i j k", "a BREAK b", "a, b, c, d, e, f, g, h, i, j, k, l, m", "(a:1.2), " + WORDS]
    for name in ["toy", "flat"]:
        want = [str(count_tokens(row, tokenizer=name)) for row in rows]
        assert [str(got) for got in Batch("count_tokens", tokenizer=name)(rows)] == want
        assert Batch("count_tokens", tokenizer=name).map(rows, jobs=2, chunk_size=1) == want
    assert str(Batch("count_tokens", tokenizer="toy")(["a b c d e f g h, i j k"])[0]) == "13/20"


def test_comma_backtrack_works_in_a_small_window(toy_package: Path) -> None:
    # 8 words, a comma, 3 words: the chunk fills at the 10th id, the comma is 1 back, so "i j k" move on.
    layout = chunk_segments([("a b c d e f g h, i j k", 1.0)], "toy")
    assert [c.tokens[1:-1] for c in layout.chunks] == [
        (101,) * 8 + (3, 2),
        (101, 101, 101, *[2] * 7),
    ]
    assert layout.token_count == 13
    plain = chunk_segments([("a b c d e f g h, i j k", 1.0)], "toy", comma_backtrack=0)
    assert plain.token_count == 12
    with pytest.raises(ValueError, match="comma_backtrack"):
        chunk_segments([("a", 1.0)], "toy", comma_backtrack=75)


def test_budget_limit_and_spans_follow_the_window(toy_package: Path) -> None:
    report = budget("a b c d e f g h, i j k l", tokenizer="toy", comma_backtrack=0)
    assert (report.limit, report.window, report.count, report.target, report.over) == (10, 10, 13, 20, 3)
    assert [(t.text, t.start, t.end, t.first_chunk, t.straddles) for t in report.tags] == [
        ("a b c d e f g h", 0, 8, 0, False),
        ("i j k l", 9, 13, 0, True),  # the comma is position 8; "i" ends chunk 1, "j k l" begin chunk 2
    ]
    assert str(report) == "13/20 tokens, over the limit of 10 by 3: past it: i j k l"
    # With the (capped) comma backtrack the whole tag moves to the second chunk.
    moved = budget("a b c d e f g h, i j k l", tokenizer="toy")
    assert [(t.start, t.straddles) for t in moved.tags] == [(0, False), (10, False)]


def _cli(toy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(toy)]), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "naiprompt", "tokens", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_cli_reads_its_limits_from_the_tokenizer(toy_package: Path) -> None:
    brief = _cli(toy_package, "--tokenizer", "toy", "--brief", WORDS)
    assert (brief.returncode, brief.stdout) == (0, "12/20\n"), brief.stderr
    view = _cli(toy_package, "--tokenizer", "toy", "--comma-backtrack", "0", "a b c d e f g h, i j k l")
    assert view.returncode == 0, view.stderr
    assert view.stdout.splitlines() == [
        "13/20",
        "chunk 1: 10 tokens",
        "  a b c d e f g h (8) | i j k l (1 of 4) ✂",
        "chunk 2: 3 tokens",
        "  ✂ i j k l (3 of 4)",
        "cut by a chunk boundary: i j k l",
    ]
    padded = _cli(toy_package, "--tokenizer", "toy", "a b c d e f g h, i j k l")
    assert padded.stdout.splitlines()[1] == "chunk 1: 9 tokens + 1 padding"  # 10 - 9: the window's, not 75's
    record = json.loads(_cli(toy_package, "--tokenizer", "toy", "--json", "--limit", "11", WORDS).stdout)
    assert (record["counter"], record["limit"], record["over"], record["past_limit"]) == ("12/20", 11, 1, [WORDS])
    assert _cli(toy_package, "--tokenizer", "toy", "--comma-backtrack", "75", "a").returncode == 2
    flat = json.loads(_cli(toy_package, "--tokenizer", "flat", "--json", "a bb ccc dddd e f").stdout)
    assert (flat["counter"], flat["chunk_lengths"]) == ("6/8", [4, 2])


# ---- the emphasis registry -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("Original", "original"),  # WebUI's display names
        ("No norm", "no_norm"),
        ("None", "none"),
        ("A1111", "original"),  # ComfyUI's names (advanced CLIP text encode)
        ("comfy", "comfy"),
        ("ComfyUI", "comfy"),
        ("lpw", "original"),  # diffusers' long prompt weighting pipeline
        ("no-norm", "no_norm"),
    ],
)
def test_emphasis_aliases(alias: str, name: str) -> None:
    assert get_emphasis(alias).name == name
    from naiprompt.encode._chunks import normalize_emphasis

    assert normalize_emphasis(alias) == name


def test_unknown_emphasis_is_a_value_error_and_a_lookup_error() -> None:
    with pytest.raises(ValueError, match="unknown emphasis mode 'loud'"):
        get_emphasis("loud")
    with pytest.raises(LookupError):
        count_tokens("a", emphasis="loud")


def test_a_registered_literal_mode_reaches_tokens_and_the_cli_lists_it(monkeypatch: pytest.MonkeyPatch) -> None:
    register_emphasis("verbatim", Emphasis("verbatim", literal=True), aliases=["As Typed"], replace=True)
    try:
        assert segments("(a:1.5) b", emphasis="as typed") == [("(a:1.5) b", 1.0)]
        assert str(count_tokens("(a:1.5) b", emphasis="verbatim")) == str(count_tokens("(a:1.5) b", emphasis="none"))
        assert "verbatim" in emphasis_names()
    finally:
        EMPHASIS.unregister("verbatim")
    assert "verbatim" not in emphasis_names()


def test_emphasis_from_an_entry_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "naiprompt_toyemph.py").write_text(
        "def squash(z, m, *, groups, empty):\n    return z * 0\n", encoding="utf-8"
    )
    info = tmp_path / "naiprompt_toyemph-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: naiprompt-toyemph\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[naiprompt.emphasis]\nsquash = naiprompt_toyemph:squash\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    EMPHASIS.refresh()
    try:
        mode = get_emphasis("Squash")
        assert (mode.name, mode.literal, mode.apply(3, None, groups=[0], empty=None)) == ("squash", False, 0)
        assert emphasis_names()[-1] == "squash"
        # The CLI offers it (and reads it as a parsed mode: weights count as syntax).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(tmp_path)])}
        run = subprocess.run(
            [sys.executable, "-m", "naiprompt", "tokens", "--brief", "--emphasis", "squash", "(a:1.5) b"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert (run.returncode, run.stdout) == (0, "2/75\n"), run.stderr
    finally:
        sys.modules.pop("naiprompt_toyemph", None)
        EMPHASIS.refresh()


def test_one_chunk_type_for_tokens_and_encode() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from naiprompt.encode import CHUNK_LENGTH, TokenChunk, empty_chunk

    assert TokenChunk is Chunk
    chunk = chunks("a cat")[0]
    assert isinstance(chunk, TokenChunk) and len(chunk.tokens) == CHUNK_LENGTH == 77
    assert empty_chunk() == Chunk.from_tokens([])
