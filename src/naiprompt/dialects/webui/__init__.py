"""The ``webui`` dialect: AUTOMATIC1111 stable-diffusion-webui (v1.10.1) prompts.

One module per concern:

* :mod:`~naiprompt.dialects.webui.scanner`: the attention scanner (WebUI's flat
  ``(text, weight)`` runs, bit for bit) and the lexer the builder reads;
* :mod:`~naiprompt.dialects.webui.builder`: the lenient tree builder;
* :mod:`~naiprompt.dialects.webui.printer`: ``WebUIPrinter`` and the escaping of text;
* :mod:`~naiprompt.dialects.webui.dialect`: the ``WebUI`` class and the strict path.

Example:
    >>> from naiprompt.dialects.webui import WebUI
    >>> WebUI().render(WebUI().parse("a (b:1.5) [c]"))
    'a (b:1.5) [c]'
"""

from __future__ import annotations

from naiprompt.dialects.webui.dialect import WebUI
from naiprompt.dialects.webui.printer import WebUIPrinter, escape, unescape
from naiprompt.dialects.webui.scanner import ROUND, SQUARE, attention, lex, tree_attention

__all__ = ["ROUND", "SQUARE", "WebUI", "WebUIPrinter", "attention", "escape", "lex", "tree_attention", "unescape"]
