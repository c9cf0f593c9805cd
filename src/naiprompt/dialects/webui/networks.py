"""WebUI extra networks: ``<lora:name:0.8>``, ``<hypernet:name:1>`` and any ``<name:args>``.

Example:
    >>> from naiprompt.dialects.webui.networks import extra_networks
    >>> extra_networks("a cat <lora:ink:0.8>")
    ('a cat ', {'lora': [['ink', '0.8']]})
"""

from __future__ import annotations

import functools
import re

from naiprompt.grammar import terminal_pattern


@functools.cache
def network_pattern() -> re.Pattern[str]:
    """The ``NETWORK`` terminal of grammars/webui.lark, with its two parts captured.

    Example:
        >>> network_pattern().findall("a <lora:ink:0.8>")
        [('lora', 'ink:0.8')]
    """
    return re.compile(terminal_pattern("webui", "NETWORK"))


def extra_networks(text: str) -> tuple[str, dict[str, list[list[str]]]]:
    """Remove every ``<name:args>`` from ``text`` and return what was found.

    Returns the text without the tags (nothing put in their place) and a mapping
    from network name to the argument lists, in order, as WebUI's
    ``extra_networks.parse_prompt`` gives them (arguments split on ``:``).

    Example:
        >>> extra_networks("a<lora:x:1>b <hypernet:y:0.5>")
        ('ab ', {'lora': [['x', '1']], 'hypernet': [['y', '0.5']]})
    """
    found: dict[str, list[list[str]]] = {}

    def take(match: re.Match[str]) -> str:
        found.setdefault(match.group(1), []).append(match.group(2).split(":"))
        return ""

    # A tag needs a ">" after it: past the last one nothing can match, and trying at every
    # "<" there would scan to the end each time (quadratic on "<a:<a:...").
    cut = text.rfind(">") + 1
    if "<" not in text[:cut]:
        return text, found
    return network_pattern().sub(take, text[:cut]) + text[cut:], found
