"""Text that would fuse with NovelAI V4's closing '::' gets a space, and the change is reported."""

from __future__ import annotations

import warnings

import pytest

import naiprompt
from naiprompt import ConversionError, PromptWarning


@pytest.mark.parametrize(("source", "expected"), [("(y:)", "1.1::y: ::"), ("x, (red eyes:)", "x, 1.1::red eyes: ::")])
def test_a_glued_closer_is_spaced_and_reported(source: str, expected: str) -> None:
    with pytest.warns(PromptWarning, match="space is added"):
        assert naiprompt.convert(source, "webui", "nai4") == expected
    with pytest.raises(ConversionError):
        naiprompt.convert(source, "webui", "nai4", errors="raise")


def test_nothing_is_reported_when_nothing_glues() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)
        assert naiprompt.convert("(y:1.2), z", "webui", "nai4") == "1.2::y::, z"
        assert naiprompt.render(naiprompt.parse("1.1::y: ::", "nai4")) == "1.1::y: ::"
