"""attention() reads a text in coarser steps and keeps the result when every weight is finite.

WebUI keeps a run apart at every colon, escape and lone backslash and merges equal neighbours at the
end, so joining them as they are read changes nothing unless a weight is NaN (nan != nan), which needs
an infinite product first; then, and past the linear work budget, the text is read run by run.
"""

from __future__ import annotations

import math
import struct
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naiprompt.dialects.webui.scanner import _ATTENTION_EXCLUDE, _runs, _runs_without_nan, attention
from naiprompt.grammar import scanner

PIECES = [*"()[]:|<>\\ ab1.,", "\\(", "\\)", "\\\\", "BREAK", " BREAK ", "AND", ":1.2)", ":0)", ": -1.5 )",
          ":1.2.3)", ":.)", "[a:b:0.5]", "<lora:x:0.8>", "\\:", "B\\REAK", "\\BREAK", "BREAK\\",
          ":" + "9" * 400 + ")"]  # an infinite weight: with a ":0)" it makes NaN


def bits(runs: list[tuple[str, float]]) -> list[tuple[str, bytes]]:
    return [(text, struct.pack("<d", weight)) for text, weight in runs]


def slow(text: str) -> list[tuple[str, float]]:
    return _runs(scanner("webui", _ATTENTION_EXCLUDE).finditer(text), text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_the_coarse_path_gives_the_same_runs_bit_for_bit(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = slow(text)
        coarse = _runs_without_nan(text)
        assert (coarse is None) == (not all(math.isfinite(weight) for _, weight in exact)), text
        assert bits(attention(text)) == bits(exact), text
        if coarse is not None:
            assert bits(coarse) == bits(exact), text


@pytest.mark.parametrize(
    "text",
    ["(" * 8000 + "a" + ")" * 8000, "(a:" + "9" * 400 + ") (b:0)", "((a:0):" + "9" * 400 + ")", "((a\\:b:0):1e9)"],
)
def test_texts_that_reach_inf_or_nan_take_the_exact_path(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not all(math.isfinite(weight) for _, weight in slow(text)):
            assert _runs_without_nan(text) is None
        assert bits(attention(text)) == bits(slow(text))
