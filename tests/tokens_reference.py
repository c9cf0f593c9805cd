"""Reference tokenizers for the exactness tests (test helper, not part of the package).

* ``webui``: transformers 4.x slow ``CLIPTokenizer`` with ftfy, built offline from ``vocab.json`` and
  ``merges.txt`` derived from the merges shipped in naiprompt (exactly WebUI's ``tokenizer(texts,
  truncation=False, add_special_tokens=False)["input_ids"]`` path: ``tokenize``, then
  ``convert_tokens_to_ids``).
* ``openai``: OpenAI's original pipeline. If OpenAI's ``simple_tokenizer.py`` is available (the ``clip``
  package of openai/CLIP or clip-anytorch is installed, or ``NAIPROMPT_CLIP_SIMPLE_TOKENIZER`` names the
  file), that very code is used. Otherwise it is composed from independent parts: ftfy, ``html.unescape``
  twice and strip (the original's documented cleaning), then transformers' slow tokenizer's ``_tokenize``
  with its own ftfy call disabled (whitespace collapsing, lowercasing, the CLIP pattern and BPE, no
  special-token split).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Encode = Callable[[str], list[int]]


def tag_list(name: str) -> list[str]:
    """The tags of ``danbooru.csv`` or ``e621.csv`` (vendored as ``fixtures/data/<stem>_tags.txt.gz``)."""
    from conftest import tag_list as vendored

    return vendored(name.removesuffix(".csv"))


def write_vocab_files(directory: Path) -> tuple[Path, Path]:
    """Derive vocab.json and merges.txt from the shipped merges (tokenizer.md §1)."""
    from naiprompt.tokens.clip import load_vocabulary

    vocab = load_vocabulary()
    vocab_file = directory / "vocab.json"
    merges_file = directory / "merges.txt"
    vocab_file.write_text(
        json.dumps({token: index for index, token in enumerate(vocab.decoder)}, ensure_ascii=False),
        encoding="utf-8",
    )
    merges_file.write_text("#version: 0.2\n" + "\n".join(vocab.merges) + "\n", encoding="utf-8")
    return vocab_file, merges_file


def hf_slow(directory: Path) -> Any:
    """transformers' slow CLIPTokenizer (needs transformers < 5 and ftfy)."""
    import transformers

    if int(transformers.__version__.split(".")[0]) >= 5:
        raise ImportError("transformers >= 5 has no slow CLIPTokenizer")
    from transformers import CLIPTokenizer

    vocab_file, merges_file = write_vocab_files(directory)
    tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file))
    if tokenizer.fix_text is None:
        raise ImportError("ftfy is not installed: the slow tokenizer would use its BERT fallback")
    return tokenizer


def webui_reference(directory: Path) -> Encode:
    """WebUI's tokenization of one text."""
    tokenizer = hf_slow(directory)

    def encode(text: str) -> list[int]:
        return list(tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text)))

    return encode


def _original_simple_tokenizer() -> Any | None:
    path_text = os.environ.get("NAIPROMPT_CLIP_SIMPLE_TOKENIZER")
    if path_text:
        path = Path(path_text)
    else:
        spec = importlib.util.find_spec("clip")  # does not run clip/__init__.py (which imports torch)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / "simple_tokenizer.py"
    if not path.exists():
        return None
    module_spec = importlib.util.spec_from_file_location("_openai_clip_simple_tokenizer", path)
    if module_spec is None or module_spec.loader is None:
        return None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    return module.SimpleTokenizer()


def openai_reference(directory: Path) -> tuple[str, Encode]:
    """OpenAI's original tokenizer: its own code when available, else the composition described above."""
    original = _original_simple_tokenizer()
    if original is not None:
        return "openai/CLIP simple_tokenizer.py", lambda text: list(original.encode(text))
    import ftfy

    tokenizer = hf_slow(directory)
    inner = CLIPTokenizerNoFix(tokenizer)

    def encode(text: str) -> list[int]:
        cleaned = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
        return inner(cleaned)

    return "ftfy + html.unescape x2 + transformers slow _tokenize", encode


class CLIPTokenizerNoFix:
    """The slow tokenizer's ``_tokenize`` with its ftfy step turned off (on a copy of the tokenizer)."""

    def __init__(self, tokenizer: Any) -> None:
        import copy

        self._tok = copy.copy(tokenizer)
        self._tok.fix_text = lambda text: text

    def __call__(self, text: str) -> list[int]:
        return list(self._tok.convert_tokens_to_ids(self._tok._tokenize(text)))
