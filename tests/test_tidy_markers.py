"""The seam markers of lossy printing never eat the user's own private-use characters."""

from __future__ import annotations

import warnings

import pytest

import naiprompt
from naiprompt.ast import Prompt, Text
from naiprompt.dialects._tidy import DROPPED, JOINT

USER = f"a{DROPPED}b{JOINT}c"


@pytest.mark.parametrize("dialect", ["nai", "nai4", "comfy"])
def test_parsed_text_with_marker_characters_survives(dialect: str) -> None:
    assert naiprompt.render(naiprompt.parse(USER, dialect)) == USER
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = naiprompt.convert(f"{USER} <lora:x:1>, d AND e", "webui", dialect)
    assert USER in out and "lora" not in out


@pytest.mark.parametrize("dialect", ["nai", "nai4", "comfy"])
def test_tree_built_in_code_with_marker_characters_survives(dialect: str) -> None:
    tree = Prompt(body=(Text(value=USER),), dialect="webui")
    assert naiprompt.render(tree, dialect) == USER


@pytest.mark.parametrize("dialect", ["nai", "comfy"])
def test_seams_are_still_tidied_without_markers_in_the_text(dialect: str) -> None:
    assert naiprompt.convert("a, <lora:x:1>, b", "webui", dialect, errors="ignore") == "a, b"
