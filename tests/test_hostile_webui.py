"""Hostile input, WebUI exactness: hires schedules, overflowing steps, NaN runs, arguments, checkpoint configs."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest

import naiprompt
from naiprompt.dialects.webui.editing import schedules
from naiprompt.errors import PromptWarning

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HIRES = json.loads((FIXTURES / "hostile_hires_schedules.json").read_text(encoding="utf-8"))["cases"]
NAN_PROMPT = "((a\\b:0):" + "9" * 400 + ")"  # 0 * inf: a NaN weight


@pytest.mark.parametrize("case", HIRES, ids=[f"{c['prompt']}|{c['hires_steps']}|{c['old']}" for c in HIRES])
def test_hires_schedules_follow_webui(case: dict[str, object]) -> None:
    got = schedules(
        str(case["prompt"]),
        int(case["steps"]),  # type: ignore[call-overload]
        hires_steps=case["hires_steps"],  # type: ignore[arg-type]
        old_scheduling=bool(case["old"]),
    )
    assert [list(entry) for entry in got] == case["schedule"]


def test_hires_ends_at_hires_steps_for_plain_prompts() -> None:
    for steps, hires in [(20, 37), (30, 5), (1, 100)]:
        assert schedules("no edits here", steps, hires_steps=hires) == [(hires, "no edits here")]


def test_overflowing_step_keeps_text_and_warns() -> None:
    with pytest.warns(PromptWarning, match="1e999"):
        assert schedules("[a:1e999]", 20) == [(20, "[a:1e999]")]
    with pytest.raises(OverflowError):
        schedules("[a:1e999]", 20, strict=True)


def test_overflow_count_tokens_matches_webui_counter() -> None:
    from naiprompt.tokens import count_tokens

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the counter falls back quietly, as WebUI's does
        assert str(count_tokens("[a:1e999]")) == "7/75"


def test_nan_runs_never_merge_in_attention() -> None:
    runs = naiprompt.attention(NAN_PROMPT)
    assert [text for text, _ in runs] == ["a", "", "b"]
    assert all(math.isnan(weight) for _, weight in runs)
    # A finite weight still merges WebUI's runs as before.
    assert naiprompt.attention("((a\\b:0):2)") == [("ab", 0.0)]
    assert naiprompt.attention("a:b\\(c") == [("a:b(c", 1.0)]


def test_nan_runs_never_merge_in_chunks() -> None:
    from naiprompt.tokens import chunks

    assert chunks(NAN_PROMPT)[0].tokens[:4] == (49406, 320, 321, 49407)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: schedules("a", -1), "steps"),
        (lambda: schedules("a", 20, hires_steps=-3), "hires_steps"),
        (lambda: naiprompt.convert("(a)", "webui", "nai", decimals=-1), "decimals"),
    ],
)
def test_bad_arguments_name_the_argument(call: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("limit", [-1, float("nan"), -0.5])
def test_budget_rejects_bad_limits(limit: float) -> None:
    from naiprompt.tokens import budget

    with pytest.raises(ValueError, match="limit"):
        budget("a", limit)  # type: ignore[arg-type]


def test_count_tokens_rejects_negative_steps() -> None:
    from naiprompt.tokens import budget, count_tokens

    with pytest.raises(ValueError, match="steps"):
        count_tokens("[a:b:5]", steps=-1)
    with pytest.raises(ValueError, match="steps"):
        budget("a", steps=-2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden_size", 1e9),
        ("vocab_size", 1e12),
        ("num_hidden_layers", 1_000_000),
        ("intermediate_size", -1),
        ("max_position_embeddings", 0),
        ("num_attention_heads", True),
    ],
)
def test_checkpoint_config_is_validated_before_building(tmp_path: Path, field: str, value: object) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from naiprompt.encode import TextEncoder

    config = {"model_type": "clip_text_model", "hidden_size": 768, "num_attention_heads": 12, field: value}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ValueError, match=field):
        TextEncoder.from_pretrained(tmp_path)


def test_checkpoint_config_limits_the_whole_model() -> None:
    from naiprompt.encode._load import validate_config

    validate_config({"vocab_size": 49408, "hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072})
    with pytest.raises(ValueError, match="parameters"):
        validate_config({"vocab_size": 1_000_000, "hidden_size": 8192, "num_hidden_layers": 128})
    with pytest.raises(ValueError, match="num_attention_heads"):
        validate_config({"hidden_size": 768, "num_attention_heads": 7})
