"""The ``webui`` dialect: AUTOMATIC1111 stable-diffusion-webui (v1.10.1) prompts.

One module per concern:

* :mod:`~naiprompt.dialects.webui.scanner`: the attention scanner (WebUI's flat
  ``(text, weight)`` runs, bit for bit) and the lexer the builder reads;
* :mod:`~naiprompt.dialects.webui.builder`: the lenient tree builder;
* :mod:`~naiprompt.dialects.webui.printer`: ``WebUIPrinter`` and the escaping of text;
* :mod:`~naiprompt.dialects.webui.dialect`: the ``WebUI`` class and the strict path;

and beside them the parts of WebUI's pipeline that only WebUI has:
:mod:`~naiprompt.dialects.webui.editing` (prompt editing and alternation),
:mod:`~naiprompt.dialects.webui.composable` (``AND``) and
:mod:`~naiprompt.dialects.webui.networks` (extra networks).

The names below are imported on first use, so that ``import naiprompt`` (which
needs ``composable``, ``editing`` and ``networks``) does not load the dialect.

Example:
    >>> from naiprompt.dialects.webui import WebUI
    >>> WebUI().render(WebUI().parse("a (b:1.5) [c]"))
    'a (b:1.5) [c]'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from naiprompt.dialects.webui.dialect import WebUI
    from naiprompt.dialects.webui.printer import WebUIPrinter, escape, unescape
    from naiprompt.dialects.webui.scanner import ROUND, SQUARE, attention, lex, tree_attention

__all__ = ["ROUND", "SQUARE", "WebUI", "WebUIPrinter", "attention", "escape", "lex", "tree_attention", "unescape"]

_HOMES = {
    "WebUI": "dialect",
    "WebUIPrinter": "printer",
    "escape": "printer",
    "unescape": "printer",
    "ROUND": "scanner",
    "SQUARE": "scanner",
    "attention": "scanner",
    "lex": "scanner",
    "tree_attention": "scanner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
