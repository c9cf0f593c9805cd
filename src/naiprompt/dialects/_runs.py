"""The arithmetic of flat weighted runs, shared by the bracket dialects' ``attention()``.

Both UIs append text runs at weight 1.0, multiply every run from an opener's
index to the end when its closer arrives, and finally merge neighbours whose
weights are exactly equal. Keeping those steps in one place keeps the float
operations (and so the bits) the same in every dialect.

Example:
    >>> weights = [1.0, 1.0]
    >>> multiply_from(weights, 1, 1.1)
    >>> merge_equal(["a", "b", "c"], [1.0, 1.0, 1.1])
    [('ab', 1.0), ('c', 1.1)]
"""

from __future__ import annotations


def multiply_from(weights: list[float], start: int, factor: float) -> None:
    """Multiply every weight from index ``start`` to the end by ``factor``, in place.

    Example:
        >>> weights = [1.0, 1.0, 1.0]
        >>> multiply_from(weights, 1, 2.0)
        >>> weights
        [1.0, 2.0, 2.0]
    """
    for index in range(start, len(weights)):
        weights[index] *= factor


def merge_equal(texts: list[str], weights: list[float]) -> list[tuple[str, float]]:
    """Join each run into its left neighbour when their weights are exactly equal.

    Example:
        >>> merge_equal(["a", "", "b"], [1.1, 1.0, 1.1])
        [('a', 1.1), ('', 1.0), ('b', 1.1)]
    """
    out_texts = [texts[0]]
    out_weights = [weights[0]]
    for text, weight in zip(texts[1:], weights[1:], strict=True):
        if weight == out_weights[-1]:
            out_texts[-1] += text
        else:
            out_texts.append(text)
            out_weights.append(weight)
    return list(zip(out_texts, out_weights, strict=True))


def float_or_none(text: str) -> float | None:
    """``float(text)``, or None where Python cannot read it.

    Example:
        >>> float_or_none(" 1.5 "), float_or_none("1.2.3")
        (1.5, None)
    """
    try:
        return float(text)
    except ValueError:
        return None
