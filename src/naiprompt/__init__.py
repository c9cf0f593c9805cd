"""naiprompt: Stable Diffusion and NovelAI prompts, parsed exactly.

One AST for the AUTOMATIC1111 WebUI and NovelAI syntaxes, with WebUI's own
semantics bit for bit, lossless round trips, conversion between the UIs,
transforms, a CLIP token counter and (with the ``torch`` extra) conditioning.

Example:
    >>> import naiprompt
    >>> naiprompt.convert("{{masterpiece}}, [blurry]", "nai", "webui")
    '(masterpiece:1.1025), (blurry:0.9524)'
    >>> naiprompt.attention("(red eyes:1.2), smile")
    [('red eyes', 1.2), (', smile', 1.0)]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from naiprompt.api import attention, convert, detect, parse, render
from naiprompt.dialects import Dialect, get_dialect, register_dialect
from naiprompt.dialects.webui.composable import subprompts
from naiprompt.dialects.webui.editing import schedules
from naiprompt.dialects.webui.networks import extra_networks
from naiprompt.errors import ConversionError, ErrorLevel, PluginError, PromptError, PromptSyntaxError, PromptWarning
from naiprompt.printer import Printer

__version__ = "0.1.0"

# Names provided by optional parts, imported on first use so that `import naiprompt`
# stays light (no regex/ftfy until tokens are counted, never torch).
_LAZY: dict[str, str] = {
    "tokenize": "naiprompt.tokens:tokenize",
    "chunks": "naiprompt.tokens:chunks",
    "Chunk": "naiprompt.tokens:Chunk",
    "count_tokens": "naiprompt.tokens:count_tokens",
    "TokenCount": "naiprompt.tokens:TokenCount",
    "budget": "naiprompt.tokens:budget",
    "Budget": "naiprompt.tokens:Budget",
    "apply": "naiprompt.transforms:apply",
    "register_transform": "naiprompt.transforms:register_transform",
    "get_transform": "naiprompt.transforms:get_transform",
}

if TYPE_CHECKING:  # pragma: no cover
    from naiprompt.tokens import Budget, Chunk, TokenCount, budget, chunks, count_tokens, tokenize
    from naiprompt.transforms import apply, get_transform, register_transform


#: Subpackages reachable as attributes without an explicit import (``naiprompt.research.sizes.fit``).
_LAZY_MODULES = frozenset({"research", "transforms", "tokens", "encode"})


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'naiprompt' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _LAZY_MODULES)


__all__ = [
    "Budget",
    "Chunk",
    "ConversionError",
    "Dialect",
    "ErrorLevel",
    "PluginError",
    "Printer",
    "PromptError",
    "PromptSyntaxError",
    "PromptWarning",
    "TokenCount",
    "apply",
    "attention",
    "budget",
    "chunks",
    "convert",
    "count_tokens",
    "detect",
    "extra_networks",
    "get_dialect",
    "get_transform",
    "parse",
    "register_dialect",
    "register_transform",
    "render",
    "schedules",
    "subprompts",
    "tokenize",
]
