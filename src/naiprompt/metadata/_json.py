"""Small JSON helpers shared by the per-UI readers: safe loading, raw-value strings, lenient numbers.

Example:
    >>> load_object('{"a": 1}'), load_object("[1]"), load_object("nope")
    ({'a': 1}, None, None)
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["as_float", "as_int", "load_object", "raw_value"]


def load_object(text: str | None) -> dict[str, Any] | None:
    """A JSON object from text, or None (not JSON, not an object, too deep to load).

    Example:
        >>> load_object(" {} ")
        {}
    """
    if not text:
        return None
    stripped = text.strip().strip("\0")
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def raw_value(value: Any) -> str:
    """A JSON value as the string :attr:`GenerationInfo.parameters` stores: strings as is, the rest as JSON.

    Example:
        >>> raw_value("k_euler"), raw_value(10.0), raw_value(True), raw_value({"x": 1})
        ('k_euler', '10.0', 'true', '{"x": 1}')
    """
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return str(value)


def as_int(value: Any) -> int | None:
    """An int from an int, an integral float or a numeric string; None otherwise.

    Example:
        >>> as_int("42"), as_int(7.0), as_int("7.5"), as_int(None)
        (42, 7, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = as_float(value)
    if number is None or not number.is_integer():
        return None
    return int(number) if not isinstance(value, str) or "." in value or "e" in value.lower() else int(value.strip())


def as_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; None otherwise.

    Example:
        >>> as_float("7.5"), as_float(3), as_float("nan"), as_float("x")
        (7.5, 3.0, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and len(value) < 100:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
