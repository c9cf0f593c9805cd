"""Hostile input, time: every public function grows linearly on the inputs that used to be quadratic.

Each test measures CPU time at n and 10n characters (the best of a few runs) and asserts the RATIO: about 10
for linear work, 100 for quadratic. The bound of 25 leaves room for noise, never for quadratic growth.
"""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naiprompt
from naiprompt.dialects.webui.networks import extra_networks

RATIO = 25.0
SMALL = 2_000


def repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


FUNCTIONS: dict[str, Callable[[str], object]] = {
    "parse": naiprompt.parse,
    "render": lambda s: naiprompt.render(naiprompt.parse(s)),
    "attention": naiprompt.attention,
    "detect": naiprompt.detect,
    "extra_networks": extra_networks,
    "parse_nai": lambda s: naiprompt.parse(s, "nai"),
    "attention_nai": lambda s: naiprompt.attention(s, "nai"),
    "parse_nai4": lambda s: naiprompt.parse(s, "nai4"),
    "schedules": lambda s: naiprompt.schedules(s, 20),
}
INPUTS = {
    "networks": "<a:",
    "nested": "((((a",
    "digits": "1",
    "crossing": "([",
    "openers": "(",
    "closed": "(a",  # closed at the end: see closed_chain below
    "edits": "[a:",
    "alternations": "[a|",
}


def cpu(function: Callable[[str], object], text: str, repeats: int = 3) -> float:
    # The cyclic garbage collector's full passes scale with the whole heap: a measurement
    # of the function's own work leaves it off (the heap stays the same between sizes).
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.process_time()
            function(text)
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return max(best, 2e-3)  # below a few ms, timer and cache noise would dominate the ratio


def ratio(function: Callable[[str], object], make: Callable[[int], str], small: int = SMALL) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        function(make(small))  # warm caches (compiled scanners, grammars)
        return cpu(function, make(10 * small)) / cpu(function, make(small))


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("unit", sorted(INPUTS))
def test_linear_time(function: str, unit: str) -> None:
    text_unit = INPUTS[unit]
    if unit == "closed":
        def make(n: int) -> str:
            return "(a" * (n // 3) + ")" * (n // 3)
    else:
        def make(n: int) -> str:
            return repeat(text_unit, n)
    assert ratio(FUNCTIONS[function], make) < RATIO


UNITS = st.text(alphabet="()[]{}<>:|\\a1. ,", min_size=1, max_size=6)


def _no_quadratic_unit(unit: str) -> None:
    # A bounded search for other slow inputs: any short unit, repeated, through the core functions.
    for name in ("parse", "attention", "detect", "extra_networks", "attention_nai", "parse_nai4"):
        assert ratio(FUNCTIONS[name], lambda n, u=unit: repeat(u, n), small=2_000) < RATIO, (name, unit)


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(UNITS)
def test_no_unit_repeated_is_quadratic(unit: str) -> None:
    _no_quadratic_unit(unit)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(UNITS)
def test_no_unit_repeated_is_quadratic_many(unit: str) -> None:
    _no_quadratic_unit(unit)
