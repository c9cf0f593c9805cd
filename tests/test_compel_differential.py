"""compel's own parser against this dialect on generated prompts (needs compel installed; slow)."""

from __future__ import annotations

import importlib.util
import random
from types import ModuleType

import pytest

from naiprompt.contrib.compel import Compel

compel = Compel()

PIECES = [
    "a",
    "cat",
    " ",
    "  ",
    "\t",
    "\n",
    "(",
    ")",
    "+",
    "-",
    "++",
    "--",
    '"',
    ",",
    ".",
    "\\",
    "=",
    "1.2",
    "0",
    ".5",
    "\\(",
    "\\)",
    '\\"',
    "\\t",
    ".attend(",
    ".swap(",
    ".blend(",
    ".and(",
    "withLora(",
    "\x0b",
    ")1.2",
    "no_normalize",
    "t_end=0.6",
    "é",
]


def _prompt_parser() -> ModuleType:
    """compel's ``prompt_parser`` module alone (the package itself would import torch)."""
    spec = importlib.util.find_spec("compel")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("compel is not installed (pip install 'naiprompt[bench]')")
    pytest.importorskip("pyparsing")
    location = next(iter(spec.submodule_search_locations)) + "/prompt_parser.py"
    module_spec = importlib.util.spec_from_file_location("_compel_prompt_parser", location)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _their_parts(module: ModuleType, parser: object, text: str) -> list[list[tuple[str, float]]] | None:
    try:
        conjunction = parser.parse_conjunction(text)  # type: ignore[attr-defined]
    except Exception:  # compel rejects it
        return None
    out = []
    for item in conjunction.prompts:
        for flat in item.prompts if type(item) is module.Blend else [item]:
            runs: list[tuple[str, float]] = []
            for fragment in flat.children:
                pieces = fragment.original if type(fragment) is module.CrossAttentionControlSubstitute else [fragment]
                for piece in pieces:
                    if not piece.text:
                        continue
                    if runs and runs[-1][1] == piece.weight:
                        runs[-1] = (runs[-1][0] + " " + piece.text, piece.weight)
                    else:
                        runs.append((piece.text, piece.weight))
            out.append(runs)
    return out


@pytest.mark.slow
def test_compel_agrees_on_generated_prompts() -> None:
    module = _prompt_parser()
    parser = module.PromptParser()
    rng = random.Random(20261201)
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12)))
        want = _their_parts(module, parser, text)
        tree = compel.parse(text)
        if want is None:
            assert tree.warnings, text  # compel rejects it: a warning, and strict mode raises
            continue
        got = compel.parts(text)
        if not text.strip():
            want = []
        assert got == [part for part in want if part] or got == want, text
