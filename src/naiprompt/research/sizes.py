"""Image sizes for an aspect ratio under a pixel budget, and CFG hints for a size.

Both come from the research note "NAI anime pure negative prompt"
(https://github.com/6DammK9/nai-anime-pure-negative-prompt), from which naiprompt grew.
Its ``aspect512`` script (``node aspect512.js w h``) prints the width and height with
aspect ratio ``w:h`` whose area is about 512x512, and the note rounds them down to
multiples of 64 by hand (``4 3`` -> 576x384, ``16 9`` -> 640x384), because the model
works in units of 64 pixels. :func:`fit` does both: ``multiple=64`` (the default)
gives the documented sizes, ``multiple=1`` the script's raw output (``4 3`` -> 591x443).
Flooring to 64 changes the ratio (576x384 is 3:2); :func:`ratio_note` says so and why.

:func:`cfg_hint` looks a size up in the note's two CFG tables (:data:`CFG_TABLE`).

Example:
    >>> from naiprompt.research import sizes
    >>> sizes.fit(4, 3)
    (576, 384)
    >>> sizes.fit(4, 3, multiple=1)
    (591, 443)
    >>> sizes.cfg_hint(512, 768).recommended
    16.0
"""

from __future__ import annotations

import math

import attrs

__all__ = ["CFG_TABLE", "DEFAULT_AREA", "CfgHint", "cfg_hint", "fit", "ratio_note"]

#: The budget of the note's ``aspect512`` script: 512x512 pixels.
DEFAULT_AREA = 512 * 512


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def fit(
    w_ratio: float,
    h_ratio: float = 1,
    *,
    area: int = DEFAULT_AREA,
    multiple: int = 64,
) -> tuple[int, int]:
    """The largest ``(width, height)`` with aspect ``w_ratio:h_ratio`` and at most ``area`` pixels.

    The exact real-valued solution (``width * height == area``) is computed the
    way the note's ``aspect512`` script does, then each side is floored to ``multiple``.
    ``multiple=1`` reproduces the script's raw output. Ratios may be fractions
    (``fit(1.5, 1)``) or sizes (``fit(1024, 768)`` is the 4:3 answer).

    Raises :class:`ValueError` for a ratio or area that is zero, negative or not
    finite, for a multiple below 1, and when a side would round down to 0.

    Example:
        >>> fit(16, 9), fit(16, 9, multiple=1)
        ((640, 384), (682, 384))
        >>> fit(1, 1, area=768 * 768)
        (768, 768)
        >>> fit(0, 1)
        Traceback (most recent call last):
        ...
        ValueError: w_ratio must be a positive finite number, got 0
    """
    width_ratio = _check_positive("w_ratio", w_ratio)
    height_ratio = _check_positive("h_ratio", h_ratio)
    budget = _check_positive("area", area)
    if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"multiple must be a positive integer, got {multiple!r}")
    ratio = width_ratio / height_ratio
    if not math.isfinite(ratio) or ratio <= 0:
        raise ValueError(f"aspect ratio {w_ratio!r}:{h_ratio!r} is out of range")
    # The script solves ratio * x**2 == area for the height x in this form; using
    # the same arithmetic keeps the raw output identical to the script's.
    height = math.sqrt(4 * ratio * budget) / (2 * ratio)
    width = ratio * height
    if not (math.isfinite(width) and math.isfinite(height)):
        raise ValueError(f"aspect ratio {w_ratio!r}:{h_ratio!r} is out of range")
    raw_width, raw_height = math.floor(width), math.floor(height)
    result = (raw_width // multiple * multiple, raw_height // multiple * multiple)
    if result[0] < 1 or result[1] < 1:
        raise ValueError(
            f"aspect ratio {w_ratio!r}:{h_ratio!r} is too extreme for an area of {area} "
            f"in multiples of {multiple}: the size would be {result[0]}x{result[1]}"
        )
    return result


@attrs.frozen
class CfgHint:
    """A CFG range and recommendation for an image size, from the research note's tables.

    ``row`` is the table row used (``(width, height)``); ``exact`` says whether
    the size is that row or only nearest to it; ``area_fixed`` whether the row
    comes from the note's second table ("Dimension (Area fixed)").

    Example:
        >>> hint = cfg_hint(768, 768)
        >>> (hint.low, hint.high, hint.recommended, hint.exact)
        (27.0, 36.0, 24.0, True)
    """

    low: float
    high: float
    recommended: float
    row: tuple[int, int]
    exact: bool
    area_fixed: bool

    def __str__(self) -> str:
        where = "" if self.exact else f" (nearest row {self.row[0]}x{self.row[1]})"
        return f"CFG {_num(self.low)}~{_num(self.high)}, recommended {_num(self.recommended)}{where}"


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


#: The research note's CFG tables (found by trying sizes with its pure negative prompts):
#: ``(width, height) -> (low, high, recommended, area_fixed)``.
#: Struck-out recommendations of the note (``~~12~~10.5``) are replaced by the final value.
CFG_TABLE: dict[tuple[int, int], tuple[float, float, float, bool]] = {
    (512, 512): (12, 16, 10.5, False),
    (512, 768): (18, 24, 16, False),
    (576, 768): (18, 24, 24, False),
    (768, 512): (18, 24, 16, False),
    (768, 576): (18, 24, 18, False),
    (1024, 576): (24, 30, 27, False),
    (576, 1024): (12, 30, 27, False),
    (768, 768): (27, 36, 24, False),
    (1408, 512): (27, 36, 27, False),
    (512, 1408): (27, 36, 27, False),
    (384, 640): (12, 16, 10.5, True),
    (640, 384): (12, 16, 10.5, True),
    (896, 256): (12, 16, 10.5, True),
    (256, 896): (12, 16, 10.5, True),
    (1024, 256): (12, 16, 10.5, True),
    (256, 1024): (12, 16, 10.5, True),
}


def cfg_hint(width: int, height: int) -> CfgHint:
    """The research note's CFG range and recommended CFG for a ``width`` x ``height`` image.

    A size that is a row of the seed's tables gets that row (``exact=True``).
    Any other size gets the row nearest to it in area and shape together: the
    smallest distance between ``(log area, log aspect ratio)`` points (the note
    says CFG "scales with dimension"; comparing area alone would give 576x384,
    a 3:2 image, the row of the 7:2 size 896x256), ties broken by table order.

    Example:
        >>> cfg_hint(1024, 576).recommended, cfg_hint(576, 1024).low
        (27.0, 12.0)
        >>> hint = cfg_hint(1000, 600)
        >>> hint.row, hint.exact
        ((1024, 576), False)
        >>> str(cfg_hint(512, 512))
        'CFG 12~16, recommended 10.5'
    """
    w = _check_positive("width", width)
    h = _check_positive("height", height)
    key = (int(w), int(h))
    if key == (w, h) and key in CFG_TABLE:
        low, high, rec, fixed = CFG_TABLE[key]
        return CfgHint(float(low), float(high), float(rec), key, True, fixed)
    area, aspect = math.log(w * h), math.log(w / h)

    def distance(row: tuple[int, int]) -> float:
        row_w, row_h = row
        # Rounded so that mirror-image ties (768x512 vs 512x768) fall to table order, not to float noise.
        return round(math.hypot(area - math.log(row_w * row_h), aspect - math.log(row_w / row_h)), 9)

    best = min(CFG_TABLE, key=distance)
    low, high, rec, fixed = CFG_TABLE[best]
    return CfgHint(float(low), float(high), float(rec), best, False, fixed)


def ratio_note(
    w_ratio: float,
    h_ratio: float,
    size: tuple[int, int],
    *,
    area: int = DEFAULT_AREA,
    multiple: int = 64,
) -> str | None:
    """Why ``size`` (an answer of :func:`fit`) does not have the requested ratio; None when it has.

    Example:
        >>> print(ratio_note(4, 3, fit(4, 3)))  # doctest: +NORMALIZE_WHITESPACE
        576x384 is 3:2 (1.5), not the requested 4:3 (1.333): each side is floored to a multiple of 64
        to stay within 262144 pixels (try --multiple 8, or a larger --area)
        >>> ratio_note(3, 2, fit(3, 2, area=768 * 512), area=768 * 512) is None
        True
    """
    width, height = size
    wanted = float(w_ratio) / float(h_ratio)
    got = width / height
    if math.isclose(got, wanted, rel_tol=1e-9):
        return None
    reduced = math.gcd(width, height)
    if multiple > 1:
        why = f"each side is floored to a multiple of {multiple} to stay within {area} pixels"
        hint = " (try --multiple 8, or a larger --area)" if multiple > 8 else ""
    else:
        why = f"each side is floored to whole pixels to stay within {area} pixels"
        hint = ""
    return (
        f"{width}x{height} is {width // reduced}:{height // reduced} ({_short(got)}), not the requested "
        f"{_num(float(w_ratio))}:{_num(float(h_ratio))} ({_short(wanted)}): {why}{hint}"
    )


def _short(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")
