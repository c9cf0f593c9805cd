"""The differential campaign's findings: ComfyUI's edge cases and linear time on hostile input.

``comfy_tokens_extra.json`` holds ComfyUI's own reading and chunks (see its ``about``
and tests/fixtures/README.md) for the corners a differential run against ComfyUI's
code probed: chunk boundaries, escapes, empty and odd groups, ``embedding:`` words,
BREAK, unicode and whitespace. The rest checks that the readers and printers around
conversion stay linear on the inputs that once made them quadratic.
"""

from __future__ import annotations

import gc
import json
import re
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from conftest import CONFORMANCE
from naiprompt.contrib.comfy import Comfy
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.dialects._tidy import DROPPED, JOINT, tidy
from naiprompt.encode import text_chunks

if "comfy" not in DIALECTS.names():  # a source checkout without installed entry points
    register_dialect(Comfy)

EXTRA: dict[str, Any] = json.loads((CONFORMANCE / "comfy_tokens_extra.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = EXTRA["cases"]


def as_lists(chunks: Any) -> list[dict[str, list[Any]]]:
    return [{"tokens": list(c.tokens), "multipliers": list(c.multipliers)} for c in chunks]


def merged(runs: list[list[Any]]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for text, weight in runs:
        if not text:
            continue
        if out and out[-1][1] == weight:
            out[-1] = (out[-1][0] + text, weight)
        else:
            out.append((text, weight))
    return out


def test_the_fixture_covers_every_corner() -> None:
    categories = {case["category"] for case in CASES}
    assert len(CASES) >= 150 and len(categories) == 12
    assert any(len(case["chunks"]) >= 3 for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['category']}-{i}" for i, c in enumerate(CASES)])
def test_comfyui_edge_cases(case: dict[str, Any]) -> None:
    prompt = case["prompt"]
    assert naiprompt.attention(prompt, "comfy") == merged(case["attention"])
    assert as_lists(naiprompt.chunks(prompt, "comfy")) == case["chunks"]
    assert as_lists(text_chunks(prompt, dialect="comfy", emphasis="comfy")) == case["chunks"]


# -- linear time ------------------------------------------------------------------------------
def cpu(action: Callable[[str], object], text: str) -> float:
    gc.disable()  # a collection over the other tests' objects would swamp the timing
    try:
        start = time.process_time()
        action(text)
        return time.process_time() - start
    finally:
        gc.enable()


def quiet(action: Callable[[str], object]) -> Callable[[str], object]:
    def run(text: str) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return action(text)

    return run


SHAPES: dict[str, Callable[[int], str]] = {
    "escaped parens": lambda n: "\\(" * n,
    "colon and digits": lambda n: ":" + "1" * n,
    "brace, colon and digits": lambda n: "{:" + "1" * n,
    "digits before ::": lambda n: "1" * n + "x::",
    "dropped networks": lambda n: "<lora:a:1>, x, " * (n // 15),
    "joined subprompts": lambda n: "a AND b " * (n // 8),
    "spaces in a numeric run": lambda n: "(a" + " " * n + ", (b:0.8):1.2)",
}
ACTIONS: dict[str, Callable[[str], object]] = {
    "detect": naiprompt.detect,
    "mixed": quiet(lambda s: naiprompt.attention(s, "mixed")),
    "webui->nai": quiet(lambda s: naiprompt.convert(s, "webui", "nai", errors="ignore")),
    "webui->nai4": quiet(lambda s: naiprompt.convert(s, "webui", "nai4", errors="ignore")),
    "nai4->webui": quiet(lambda s: naiprompt.convert(s, "nai4", "webui", errors="ignore")),
    "mixed->webui": quiet(lambda s: naiprompt.convert(s, "mixed", "webui", errors="ignore")),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_conversion_is_linear_on_hostile_input(shape: str) -> None:
    make = SHAPES[shape]
    for name, action in ACTIONS.items():
        action(make(1_000))  # warm up
        small = min(cpu(action, make(3_000)) for _ in range(2))
        large = min(cpu(action, make(30_000)) for _ in range(2))
        # 10x the input: linear is ~10x; the quadratic versions were ~100x.
        assert large < 30 * max(small, 2e-4), (shape, name, small, large)


def test_detect_reads_a_megabyte() -> None:
    megabyte = ("masterpiece, {{1girl}}, [[[bad hands]]], (red eyes:1.3), \\(x\\), " * 16_000)[:1_000_000]
    found = naiprompt.detect(megabyte)
    assert found == "mixed"
    assert cpu(naiprompt.detect, megabyte) < 200 * max(cpu(naiprompt.detect, megabyte[:10_000]), 1e-3)


# -- nai4 numeric runs keep every character ----------------------------------------------------
def test_a_final_newline_stays_in_a_numeric_run() -> None:
    out = naiprompt.convert("(a, (b:0.8), c\n:1.2)", "webui", "nai4")
    assert out == "1.2::a::, 0.96::b::, 1.2::c\n::"
    assert naiprompt.attention(out, "nai4")[-1] == ("c\n", 1.2)


# -- tidy against the direct (quadratic) statement of its rule ---------------------------------
_TRAILING = re.compile(r"(?:,\s*|\s+|)$")
_LEADING = re.compile(r"\s*(?:,\s*)?")


def reference_tidy(text: str) -> str:
    """The seam rule stated directly on the whole output string (quadratic, fine when small)."""
    if DROPPED not in text and JOINT not in text:
        return text
    parts = re.split(f"([{DROPPED}{JOINT}])", text)
    out = parts[0]
    at_start = not out.strip(" \t\n,")
    if at_start:
        out = ""
    for index in range(1, len(parts), 2):
        marker, right = parts[index], parts[index + 1]
        last = index + 2 >= len(parts)
        left_sep, right_sep = _TRAILING.search(out), _LEADING.match(right)
        assert left_sep is not None and right_sep is not None
        if at_start:
            right = right[right_sep.end() :]
        elif marker == JOINT:
            body = right.lstrip(" \t\n,")
            out = out.rstrip(" \t\n,")
            if not (body.strip(" \t\n,") or not last):
                out = out.rstrip(" \t\n")
            right = ", " + body if body.strip(" \t\n,") or not last else ""
        elif last and not right.strip(" \t\n,"):
            out, right = out[: left_sep.start()].rstrip(" \t\n"), ""
        elif "," in left_sep.group() and "," in right_sep.group():
            right = right.lstrip(" \t\n,")
        elif left_sep.group() and right_sep.group():
            right = right[right_sep.end() :] if not left_sep.group().isspace() else right.lstrip()
        out += right
        at_start = at_start and not out.strip(" \t\n,")
        if at_start:
            out = ""
    return out


PIECES = st.sampled_from([DROPPED, JOINT, " ", ",", "\t", "\n", "a", "b c", ", ", " ,", "\r", "\u3000", ",,"])


@given(st.lists(PIECES, max_size=16).map("".join))
def test_tidy_follows_its_rule(text: str) -> None:
    assert tidy(text) == reference_tidy(text)
