"""WebUI's composable diffusion: ``AND`` and the ``:weight`` of each subprompt.

Example:
    >>> from naiprompt.dialects.webui.composable import subprompts
    >>> subprompts("a cat AND a dog :0.5")
    [('a cat', 1.0), (' a dog', 0.5)]
"""

from __future__ import annotations

import re

#: The word AND, with word boundaries (``ANDb``, ``a_AND_b`` and ``and`` do not split).
AND_PATTERN = re.compile(r"\bAND\b")

# A subprompt: its text (lazily), an optional trailing ``:number`` (no exponent),
# then trailing whitespace, which WebUI drops. The number is the subprompt's weight.
_WEIGHT_SUFFIX = re.compile(r"^((?:\s|.)*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$")


def split_weight(subprompt: str) -> tuple[str, float]:
    """Split one subprompt into its text and composable weight (default 1.0).

    Example:
        >>> split_weight("photo, aspect 16:9")
        ('photo, aspect 16', 9.0)
        >>> split_weight(" b :1.5 :2")
        (' b :1.5', 2.0)
    """
    match = _WEIGHT_SUFFIX.match(subprompt)
    assert match is not None  # the pattern matches every string
    text, number = match.groups()
    return text, float(number) if number is not None else 1.0


def subprompts(text: str) -> list[tuple[str, float]]:
    """Split a positive prompt on ``AND``: ``[(text, weight), ...]``, as WebUI does.

    Splitting ignores brackets; leading whitespace of a subprompt is kept and
    trailing whitespace dropped. Any prompt ending in ``:number`` gets that number
    as its weight, with or without ``AND``.

    Example:
        >>> subprompts("a AND b :1.5")
        [('a', 1.0), (' b', 1.5)]
        >>> subprompts("1girl, smile:1.2")
        [('1girl, smile', 1.2)]
    """
    return [split_weight(part) for part in AND_PATTERN.split(text)]
