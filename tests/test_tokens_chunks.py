"""WebUI chunking, counter and budget: hand-made segments, the spec's consequences, and conformance files."""

from __future__ import annotations

from typing import Any

import pytest

import naiprompt
from conftest import DATA, conformance
from naiprompt.tokens.chunking import CHUNK_LENGTH, chunk_segments, is_break

HAS_SYNTAX = all(hasattr(naiprompt, name) for name in ("attention", "subprompts", "schedules", "extra_networks"))
needs_syntax = pytest.mark.skipif(not HAS_SYNTAX, reason="naiprompt.attention & co. are not exported yet")

W = 1.0
BREAK = ("BREAK", -1.0)


def _conformance(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = conformance(name)
    return data


def _as_lists(chunks: Any) -> list[dict[str, list[Any]]]:
    return [{"tokens": list(c.tokens), "multipliers": list(c.multipliers)} for c in chunks]


# -- the chunker on hand-made segments (webui.md §6.3) -------------------------------------------------


def test_empty_line() -> None:
    layout = chunk_segments([])
    assert layout.token_count == 0
    assert [c.tokens for c in layout.chunks] == [(49406, *([49407] * 76))]
    assert chunk_segments([("", W)]).token_count == 0
    assert chunk_segments([("  ", 1.3)]).token_count == 0


@pytest.mark.parametrize(("n", "count", "n_chunks"), [(1, 1, 1), (75, 75, 1), (76, 76, 2), (150, 150, 2)])
def test_chunk_sizes(n: int, count: int, n_chunks: int) -> None:
    layout = chunk_segments([("w " * n, W)])
    assert (layout.token_count, len(layout.chunks)) == (count, n_chunks)
    assert all(len(c.tokens) == len(c.multipliers) == CHUNK_LENGTH + 2 for c in layout.chunks)


@pytest.mark.parametrize(
    ("segments", "count", "n_chunks"),
    [
        ([("a", W), BREAK, ("b", W)], 76, 2),
        ([("a", W), BREAK], 75, 1),
        ([BREAK, ("a", W)], 76, 2),
        ([("a", W), BREAK, BREAK, ("b", W)], 151, 3),
        ([("a", W), ("BREAK", -1.1), ("b", W)], 3, 1),  # a BREAK inside brackets is a word
    ],
)
def test_break(segments: list[tuple[str, float]], count: int, n_chunks: int) -> None:
    layout = chunk_segments(segments)
    assert (layout.token_count, len(layout.chunks)) == (count, n_chunks)


def test_is_break() -> None:
    assert is_break("BREAK", -1)
    assert not is_break("break", -1.0)
    assert not is_break("BREAK", -1.1)


def test_comma_backtrack_moves_the_last_tag() -> None:
    # "one two three four five," x 13 = 78 tokens, counted 81: chunk 1 holds 72 tokens + 3 pads.
    layout = chunk_segments([("one two three four five, " * 13, W)])
    assert layout.token_count == 81
    first = layout.chunks[0]
    assert first.tokens[72] == 267 and first.tokens[73:76] == (49407, 49407, 49407)
    assert first.length == 72 and layout.chunks[1].length == 6
    hard = chunk_segments([("one two three four five, " * 13, W)], comma_backtrack=0)
    assert hard.token_count == 78


def test_comma_that_fills_the_chunk_moves_on() -> None:
    layout = chunk_segments([("w " * 75 + ", x", W)])
    assert layout.chunks[1].tokens[1:3] == (267, 343)
    assert layout.token_count == 77


def test_long_run_without_comma_is_cut_hard() -> None:
    layout = chunk_segments([("start, " + "long " * 80, W)])
    assert layout.chunks[0].length == 75
    assert layout.token_count == 82


def test_multipliers_follow_segments() -> None:
    layout = chunk_segments([("a photo", 1.3), (" of ", 1.0), ("a cat", 1 / 1.1)])
    chunk = layout.chunks[0]
    assert chunk.tokens[:7] == (49406, 320, 1125, 539, 320, 2368, 49407)
    assert chunk.multipliers[:7] == (1.0, 1.3, 1.3, 1.0, 1 / 1.1, 1 / 1.1, 1.0)
    assert layout.positions == [[(0, 1), (0, 2)], [(0, 3)], [(0, 4), (0, 5)]]


def test_encoded_ids_can_be_supplied() -> None:
    layout = chunk_segments([("x", 2.0), BREAK], encoded=[[5, 6], []])
    assert layout.chunks[0].tokens[:4] == (49406, 5, 6, 49407)
    with pytest.raises(ValueError, match="one id list per segment"):
        chunk_segments([("x", 2.0)], encoded=[])
    with pytest.raises(ValueError, match="comma_backtrack"):
        chunk_segments([], comma_backtrack=75)


def test_seed_counts_from_segments() -> None:
    # The research note: "22 tokens" for the ten (tag:0.564) negatives, "81 tokens" for the 23 (tag:0.82) ones.
    tags = ["bad", "comic", "cropped", "error", "extra", "low", "lowres", "normal", "speech_bubble", "worst"]
    runs: list[tuple[str, float]] = []
    for index, tag in enumerate(tags):
        runs += [(", ", W)] * bool(index) + [(tag, 0.564)]
    assert chunk_segments(runs).token_count == 22


# -- conformance: outputs of WebUI v1.10.1 itself ---------------------------------------------------------


def _plain(case: dict[str, Any]) -> bool:
    prompt: str = case["prompt"]
    return case["emphasis"] == "None" or (not any(ch in prompt for ch in "()[]\\:") and "BREAK" not in prompt)


def test_conformance_tokens_plain_lines() -> None:
    cases = [case for case in _conformance("webui_tokens.json") if _plain(case)]
    assert len(cases) >= 15
    for case in cases:
        layout = chunk_segments([(case["prompt"], W)], comma_backtrack=case["comma_padding_backtrack"])
        assert layout.token_count == case["token_count"], case["prompt"]
        assert _as_lists(layout.chunks) == case["chunks"], case["prompt"]


@needs_syntax
def test_conformance_tokens() -> None:
    from naiprompt.tokens.api import chunks

    cases = _conformance("webui_tokens.json")
    for case in cases:
        got = chunks(case["prompt"], comma_backtrack=case["comma_padding_backtrack"], emphasis=case["emphasis"])
        assert _as_lists(got) == case["chunks"], case["prompt"]


@needs_syntax
def test_conformance_token_counts() -> None:
    from naiprompt.tokens.api import budget, count_tokens

    for case in _conformance("webui_tokens.json"):
        kwargs = {"comma_backtrack": case["comma_padding_backtrack"], "emphasis": case["emphasis"]}
        assert count_tokens(case["prompt"], **kwargs).count == case["token_count"], case["prompt"]
        assert budget(case["prompt"], **kwargs).count == case["token_count"], case["prompt"]


@needs_syntax
def test_conformance_counter() -> None:
    from naiprompt.tokens.api import count_tokens

    for case in _conformance("webui_counter.json"):
        result = count_tokens(case["prompt"], steps=case["steps"], negative=case["negative"])
        assert (result.count, result.target, str(result)) == (
            case["token_count"],
            case["target"],
            case["counter"],
        ), case["prompt"]


@needs_syntax
def test_conformance_batch_padding() -> None:
    from naiprompt.tokens.api import batch_chunks

    for case in _conformance("webui_batch_padding.json"):
        batch = batch_chunks(case["texts"])
        assert batch.token_count == case["token_count"]
        assert len(batch.chunks) == case["chunk_count"]
        assert [_as_lists(row) for row in batch.chunks] == case["chunks"]


SEED_022 = (
    "(bad:0.564), (comic:0.564), (cropped:0.564), (error:0.564), (extra:0.564), (low:0.564), "
    "(lowres:0.564), (normal:0.564), (speech_bubble:0.564), (worst:0.564)"
)
SEED_081 = (
    "(bad_anatomy:0.82), (bad_feet:0.82), (bad_hands:0.82), (bad_perspective:0.82), (bad_proportions:0.82), "
    "(comic:0.82), (cropped:0.82), (cropped_arms:0.82), (cropped_head:0.82), (cropped_legs:0.82), "
    "(cropped_shoulders:0.82), (cropped_torso:0.82), (english_text:0.82), (error:0.82), (extra:0.82), "
    "(low quality:0.82), (lowres:0.82), (no_humans:0.82), (normal quality:0.82), (outside_border:0.82), "
    "(speech_bubble:0.82), (text_focus:0.82), (worst quality:0.82)"
)


@needs_syntax
def test_seed_note_counts() -> None:
    from naiprompt.tokens.api import count_tokens

    assert count_tokens(SEED_022, negative=True).count == 22
    assert count_tokens(SEED_081, negative=True).count == 81
    assert str(count_tokens(SEED_081, negative=True)) == "81/150"
    # The same counts as positive prompts (no AND, no editing in them).
    assert count_tokens(SEED_022).count == 22


def test_seed_prompts_match_the_note() -> None:
    note = (DATA / "seed_note_negative_prompts.md").read_text(encoding="utf-8")
    assert SEED_022 in note and SEED_081 in note
    assert "**22 tokens.**" in note and "(81 tokens)" in note


def test_budget_prints_a_summary_and_repr_keeps_the_data() -> None:
    from naiprompt.tokens.api import budget, count_tokens

    report = budget("masterpiece, best quality, 1girl, smile", limit=5)
    assert str(report) == "9/75 tokens, over the limit of 5 by 4: past it: 1girl, smile"
    assert "TagSpan(text='1girl'" in repr(report) and "tokens=(272, 1611)" in repr(report)
    assert str(budget("a cat")) == "2/75 tokens, within the limit of 75"
    many = budget(", ".join(f"tag{i}" for i in range(40)), limit=3)
    assert str(many).endswith("past it: tag1, tag2, tag3, tag4, tag5 and 34 more")  # never a dump of every id
    assert str(count_tokens("a BREAK b")) == "76/150"
    assert repr(count_tokens("a b")) == "TokenCount(count=2, target=75, text='a b')"
