"""SuffixWeights, the linear-time run weights behind attention(): the UIs' own float operations, bit for bit."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from naiprompt.dialects._runs import SuffixWeights, _tree_products

FACTORS = st.sampled_from([1.1, 1 / 1.1, 1.05, 1 / 1.05, 0.0, 2.0, -1.0, 1e308, math.inf, 1.3, 0.7])
# A program: append a run (None) or multiply from a relative position by a factor.
STEPS = st.lists(st.one_of(st.none(), st.tuples(st.floats(0, 1), FACTORS)), max_size=60)


def naive(steps: list[tuple[float, float] | None]) -> tuple[list[float], list[float]]:
    """WebUI's loop: every run from start on, one multiplication each."""
    fast = SuffixWeights()
    slow: list[float] = []
    for step in steps:
        if step is None:
            fast.append(1.0)
            slow.append(1.0)
            continue
        where, factor = step
        start = int(where * len(slow))
        fast.multiply_from(start, factor)
        for index in range(start, len(slow)):
            slow[index] *= factor
    return fast.values(), slow


def same_bits(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_blocks_equal_the_run_by_run_loop(steps: list[tuple[float, float] | None]) -> None:
    fast, slow = naive(steps)
    assert same_bits(fast, slow)


def test_deep_closed_chain_stays_fast_and_close() -> None:
    # Closed brackets with text at every level: the blocks cannot share work, so past the budget
    # the segment tree takes over; its products are the same factors in another order.
    depth = 3000
    weights = SuffixWeights()
    for _ in range(depth):
        weights.append(1.0)
    for start in range(depth - 1, -1, -1):
        weights.multiply_from(start, 1.1 if start % 2 else 1 / 1.1)
    got = weights.values()
    expected = [1.0] * depth
    for start in range(depth - 1, -1, -1):
        for index in range(start, depth):
            expected[index] *= 1.1 if start % 2 else 1 / 1.1
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got, expected, strict=True))


def test_tree_products_are_the_range_products() -> None:
    assert _tree_products([1.0, 1.0, 1.0, -1.0], [(1, 4, 2.0), (0, 2, 3.0)]) == [3.0, 6.0, 2.0, -2.0]
    assert _tree_products([], []) == []
