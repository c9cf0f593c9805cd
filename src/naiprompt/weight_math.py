"""Weight arithmetic: the bracket factors, printing weights, mapping them onto bracket levels.

The transforms that rewrite weights in a tree are :mod:`naiprompt.transforms.weights`.

Example:
    >>> format_weight(1.2100000000000002)
    '1.21'
    >>> nearest_power(1.21, 1.05)
    4
"""

from __future__ import annotations

import math
from decimal import Decimal

#: One WebUI emphasis level ``(x)`` / ``[x]``.
WEBUI_STEP = 1.1
#: One NovelAI emphasis level ``{x}`` / ``[x]``.
NAI_STEP = 1.05


def format_number(value: float, decimals: int | None = None) -> str:
    """Plain decimal text for ``value``: shortest that reads back equal, no exponent.

    ``decimals`` rounds first (``None``: full precision).

    Example:
        >>> format_number(1e-7)
        '0.0000001'
        >>> format_number(2.0)
        '2'
        >>> format_number(1.157625, 4)
        '1.1576'
    """
    if not math.isfinite(value):
        raise ValueError(f"weight {value!r} is not a finite number")
    if decimals is not None:
        value = round(value, decimals)
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def format_weight(weight: float, decimals: int | None = 4) -> str:
    """A weight as WebUI and NovelAI read it: plain decimal, at most ``decimals`` places.

    Example:
        >>> format_weight(1.05 ** 3)
        '1.1576'
        >>> format_weight(0.5)
        '0.5'
    """
    return format_number(weight, decimals)


def nearest_power(weight: float, base: float) -> int:
    """The integer ``n`` whose ``base ** n`` is nearest to ``weight`` (in log scale).

    Example:
        >>> nearest_power(1.5, 1.05), nearest_power(0.5645, 1.1)
        (8, -6)
    """
    if not (weight > 0 and math.isfinite(weight)):
        raise ValueError(f"weight {weight!r} has no bracket form")
    return round(math.log(weight) / math.log(base))


def power(base: float, n: int) -> float:
    """``base ** n`` multiplied level by level, as nested brackets compute it.

    Example:
        >>> power(1.1, 2)
        1.2100000000000002
    """
    value = 1.0
    factor = base if n >= 0 else 1 / base
    for _ in range(abs(n)):
        value *= factor
    return value
