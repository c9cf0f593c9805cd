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

from bisect import bisect_right


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


class SuffixWeights:
    """The weights of text runs under "multiply from index ``start`` to the end", in linear time.

    The UIs multiply run by run, which takes quadratic time on deep nesting
    (``((((a((((a...``). Here consecutive runs of exactly equal weight share one
    block, so a multiplication costs one step per distinct weight after
    ``start``, and the float operations, so the bits, are the UIs' own.

    Where the weights after ``start`` stay distinct (deeply nested closed
    brackets with text at every level, where the UIs' own loop is quadratic)
    that could still add up to quadratic time: past a budget of work linear in
    the input, the products are taken with a segment tree instead, in
    O(n log n), the same factors multiplied in another order (within a few
    units in the last place of the UIs' value).

    Example:
        >>> weights = SuffixWeights()
        >>> weights.append(1.0); weights.append(1.0)
        >>> weights.multiply_from(1, 1.1)
        >>> weights.values()
        [1.0, 1.1]
    """

    __slots__ = ("_count", "_degraded", "_initial", "_ops", "_starts", "_values", "_work")

    def __init__(self) -> None:
        self._starts: list[int] = []  # first run of each block
        self._values: list[float] = []  # the weight of every run in the block
        self._initial: list[float] = []
        self._ops: list[tuple[int, int, float]] = []  # (start, end, factor), for the fallback
        self._count = 0
        self._work = 0
        self._degraded = False

    def __len__(self) -> int:
        return self._count

    @property
    def degraded(self) -> bool:
        """Whether the work passed its linear budget, so :meth:`values` multiplies in a tree's order.

        Example:
            >>> SuffixWeights().degraded
            False
        """
        return self._degraded

    def append(self, weight: float) -> None:
        """Add a run of weight ``weight`` at the end.

        Example:
            >>> weights = SuffixWeights()
            >>> weights.append(-1.0)
            >>> len(weights), weights.values()
            (1, [-1.0])
        """
        self._initial.append(weight)
        if not self._values or self._values[-1] != weight:  # NaN starts a block of its own
            self._starts.append(self._count)
            self._values.append(weight)
        self._count += 1

    def multiply_from(self, start: int, factor: float) -> None:
        """Multiply the weight of every run from index ``start`` on by ``factor``.

        Example:
            >>> weights = SuffixWeights()
            >>> for _ in range(3):
            ...     weights.append(1.0)
            >>> weights.multiply_from(2, 0.5)
            >>> weights.multiply_from(0, 2.0)
            >>> weights.values()
            [2.0, 2.0, 1.0]
        """
        if start >= self._count:
            return
        self._ops.append((start, self._count, factor))
        if self._degraded:
            return
        starts, values = self._starts, self._values
        if starts[-1] <= start:  # within the last block (a closer right after its text): the usual case
            self._work += 2
            value = values[-1] * factor
            if starts[-1] < start:
                if value != values[-1]:  # NaN too: it never equals
                    starts.append(start)
                    values.append(value)
            elif len(values) > 1 and values[-2] == value:
                del starts[-1], values[-1]  # it joins the block before
            else:
                values[-1] = value
            if self._work > 64 * (self._count + len(self._ops)) + 100_000:
                self._degraded = True
            return
        block = bisect_right(starts, start) - 1
        if starts[block] < start:  # split the block that holds ``start``
            block += 1
            starts.insert(block, start)
            values.insert(block, values[block - 1])
        # Multiply the blocks from ``start``, joining neighbours that became equal.
        before = values[block - 1] if block else None
        new_starts: list[int] = []
        new_values: list[float] = []
        for index in range(block, len(values)):
            value = values[index] * factor
            if (new_values[-1] if new_values else before) == value:
                continue
            new_starts.append(starts[index])
            new_values.append(value)
        self._work += len(values) - block + 1
        del starts[block:], values[block:]
        starts.extend(new_starts)
        values.extend(new_values)
        if self._work > 64 * (self._count + len(self._ops)) + 100_000:
            self._degraded = True

    def values(self) -> list[float]:
        """The weight of every run, in order.

        Example:
            >>> SuffixWeights().values()
            []
        """
        if self._degraded:
            return _tree_products(self._initial, self._ops)
        out: list[float] = []
        if not self._count:
            return out
        ends = [*self._starts[1:], self._count]
        for begin, end, value in zip(self._starts, ends, self._values, strict=True):
            out.extend([value] * (end - begin))
        return out


def _tree_products(initial: list[float], ops: list[tuple[int, int, float]]) -> list[float]:
    """Range products with a segment tree: each operation tags O(log n) nodes."""
    size = 1
    while size < len(initial):
        size *= 2
    tags = [1.0] * size + initial + [1.0] * (size - len(initial))
    for start, end, factor in ops:
        low, high = start + size, end + size
        while low < high:
            if low & 1:
                tags[low] *= factor
                low += 1
            if high & 1:
                high -= 1
                tags[high] *= factor
            low //= 2
            high //= 2
    for node in range(2, 2 * size):
        tags[node] *= tags[node // 2]
    return tags[size : size + len(initial)]


def merge_equal(texts: list[str], weights: list[float]) -> list[tuple[str, float]]:
    """Join each run into its left neighbour when their weights are exactly equal.

    Example:
        >>> merge_equal(["a", "", "b"], [1.1, 1.0, 1.1])
        [('a', 1.1), ('', 1.0), ('b', 1.1)]
    """
    # Pieces joined once per run: ``+=`` on a list item copies the string every time.
    out_texts = [[texts[0]]]
    out_weights = [weights[0]]
    for text, weight in zip(texts[1:], weights[1:], strict=True):
        if weight == out_weights[-1]:  # NaN equals nothing: NaN runs stay apart
            out_texts[-1].append(text)
        else:
            out_texts.append([text])
            out_weights.append(weight)
    return [("".join(pieces), weight) for pieces, weight in zip(out_texts, out_weights, strict=True)]


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
