"""The one table of built-in names: every place outside the dialects that must name a built-in one.

Everything else a module needs to know about a dialect it asks the dialect
(:class:`naiprompt.dialects.Dialect` documents the capabilities). What is left
is a choice, not a capability, and lives here:

* the dialect a function reads when it is not told (:data:`DIALECT`) and the
  tokenizer it counts with (:data:`TOKENIZER`);
* the names of image-metadata generators (:data:`A1111`, :data:`NOVELAI`,
  :data:`COMFYUI`, :data:`INVOKEAI`) and the dialect each one's prompts are
  written in (:data:`GENERATOR_DIALECTS`, :data:`NOVELAI_DIALECTS`);
* built-in names of other registries that are spelled like a UI: the ``comfy``
  emphasis mode and the emphasis aliases users type (:data:`EMPHASIS_ALIASES`).

``tests/test_no_dialect_names.py`` checks that no other module outside
``dialects/`` and ``contrib/`` spells a dialect's name or alias.

Example:
    >>> DIALECT, GENERATOR_DIALECTS[NOVELAI], GENERATOR_DIALECTS[INVOKEAI]
    ('webui', 'nai4', 'compel')
"""

from __future__ import annotations

__all__ = [
    "A1111",
    "COMFYUI",
    "COMFY_EMPHASIS",
    "DIALECT",
    "EMPHASIS_ALIASES",
    "GENERATORS",
    "GENERATOR_DIALECTS",
    "INFO_FORMATS",
    "INVOKEAI",
    "NOVELAI",
    "NOVELAI_DIALECTS",
    "TOKENIZER",
]

#: The dialect read and written when none is given (AUTOMATIC1111 WebUI's syntax).
DIALECT = "webui"
#: The tokenizer registered for WebUI's CLIP (transformers' slow ``CLIPTokenizer`` + ftfy):
#: the default of every tokenizer argument that has no dialect to ask.
TOKENIZER = "webui"

#: Generator families of image metadata (``GenerationInfo.generator``): AUTOMATIC1111 and every UI
#: that writes its infotext (Forge, SD.Next, ...).
A1111 = "a1111"
#: NovelAI's own images.
NOVELAI = "novelai"
#: ComfyUI's graphs.
COMFYUI = "comfyui"
#: InvokeAI's metadata.
INVOKEAI = "invokeai"
#: Every family :attr:`naiprompt.metadata.GenerationInfo.generator` takes.
GENERATORS: tuple[str, ...] = (A1111, NOVELAI, COMFYUI, INVOKEAI, "fooocus", "swarmui", "unknown")

#: The dialect each generator family's prompts are written in (NovelAI: V4's, unless the file is older).
GENERATOR_DIALECTS: dict[str, str] = {
    A1111: "webui",
    NOVELAI: "nai4",
    COMFYUI: "comfy",
    INVOKEAI: "compel",
    "fooocus": "webui",
    "swarmui": "webui",
}
#: NovelAI's dialects, oldest first: V1-V3 brackets, then V4's numeric weights.
NOVELAI_DIALECTS: tuple[str, str] = ("nai", "nai4")

#: What ``naiprompt info --to`` writes: NovelAI's Comment JSON, or a ComfyUI API graph.
INFO_FORMATS: tuple[str, str] = (NOVELAI, "comfy")

#: The emphasis mode of ComfyUI's encoder (``empty + w * (z - empty)``) and its own chunking.
COMFY_EMPHASIS = "comfy"
#: Names users type for the built-in emphasis modes: ComfyUI's, WebUI's and diffusers' spellings.
EMPHASIS_ALIASES: dict[str, str] = {
    "a1111": "original",  # ComfyUI's name for WebUI's mode
    "webui": "original",
    "lpw": "original",  # diffusers' long prompt weighting pipeline restores the mean as WebUI does
    "nonorm": "no_norm",
    "comfyui": COMFY_EMPHASIS,
}
