"""naiprompt.research.sizes: the seed's aspect512 tool and its CFG tables."""

from __future__ import annotations

import math

import pytest

from naiprompt.research import sizes

# Every row of nai_and_seed.md section 1.2 that prints numbers: (argv, raw stdout).
ASPECT512_ROWS: list[tuple[tuple[float, ...], tuple[int, int]]] = [
    ((), (512, 512)),
    ((1, 1), (512, 512)),
    ((4, 3), (591, 443)),
    ((3, 4), (443, 591)),
    ((16, 9), (682, 384)),
    ((9, 16), (384, 682)),
    ((3, 2), (627, 418)),
    ((2, 3), (418, 627)),
    ((2, 1), (724, 362)),
    ((4, 1), (1024, 256)),
    ((1, 4), (256, 1024)),
    ((21, 9), (782, 335)),
    ((5, 4), (572, 457)),
    ((1.5, 1), (627, 418)),
    ((1024, 768), (591, 443)),
    ((4,), (1024, 256)),
]


def _args(argv: tuple[float, ...]) -> tuple[float, float]:
    padded = (*argv, 1, 1)
    return padded[0], padded[1]


@pytest.mark.parametrize(("argv", "raw"), ASPECT512_ROWS)
def test_raw_rows_match_the_script(argv: tuple[float, ...], raw: tuple[int, int]) -> None:
    assert sizes.fit(*_args(argv), multiple=1) == raw


@pytest.mark.parametrize(("argv", "raw"), ASPECT512_ROWS)
def test_floored_rows_are_the_raw_rows_floored_to_64(argv: tuple[float, ...], raw: tuple[int, int]) -> None:
    width, height = sizes.fit(*_args(argv))
    assert (width, height) == (raw[0] // 64 * 64, raw[1] // 64 * 64)
    assert width % 64 == 0 and height % 64 == 0
    assert width * height <= 512 * 512


def test_documented_examples() -> None:
    # The seed's README: `node aspect512.js [4] [3] > [576, 384]`, `[16] [9] > [640, 384]`.
    assert sizes.fit(4, 3) == (576, 384)
    assert sizes.fit(16, 9) == (640, 384)


@pytest.mark.parametrize(("w", "h"), [(4, 3), (16, 9), (2, 1), (7, 5), (1, 3)])
def test_raw_size_is_the_largest_with_the_ratio_under_the_area(w: int, h: int) -> None:
    width, height = sizes.fit(w, h, multiple=1)
    assert width * height <= 512 * 512
    # One pixel more on both sides would exceed the exact solution.
    exact_height = math.sqrt(512 * 512 * h / w)
    assert height == math.floor(exact_height)
    assert width == math.floor(exact_height * w / h)


def test_area_and_multiple() -> None:
    assert sizes.fit(1, 1, area=768 * 768) == (768, 768)
    assert sizes.fit(4, 3, area=1024 * 1024) == (1152, 832)
    assert sizes.fit(4, 3, multiple=8) == (584, 440)


@pytest.mark.parametrize(
    ("w", "h"),
    [(0, 1), (1, 0), (-4, 3), (4, -3), (math.nan, 1), (1, math.inf), (math.inf, 1)],
)
def test_bad_ratios_are_clear_errors(w: float, h: float) -> None:
    with pytest.raises(ValueError, match="positive finite"):
        sizes.fit(w, h)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="multiple"):
        sizes.fit(1, 1, multiple=0)
    with pytest.raises(ValueError, match="area"):
        sizes.fit(1, 1, area=0)
    with pytest.raises(ValueError, match="too extreme"):
        sizes.fit(1000, 1)
    with pytest.raises(TypeError):
        sizes.fit("4", 3)  # type: ignore[arg-type]


# The seed's two dimension tables, as printed (struck-out values replaced).
CFG_ROWS = [
    ((512, 512), (12, 16, 10.5)),
    ((512, 768), (18, 24, 16)),
    ((576, 768), (18, 24, 24)),
    ((768, 512), (18, 24, 16)),
    ((768, 576), (18, 24, 18)),
    ((1024, 576), (24, 30, 27)),
    ((576, 1024), (12, 30, 27)),
    ((768, 768), (27, 36, 24)),
    ((1408, 512), (27, 36, 27)),
    ((512, 1408), (27, 36, 27)),
    ((384, 640), (12, 16, 10.5)),
    ((640, 384), (12, 16, 10.5)),
    ((896, 256), (12, 16, 10.5)),
    ((256, 896), (12, 16, 10.5)),
    ((1024, 256), (12, 16, 10.5)),
    ((256, 1024), (12, 16, 10.5)),
]


@pytest.mark.parametrize(("size", "expected"), CFG_ROWS)
def test_cfg_rows(size: tuple[int, int], expected: tuple[float, float, float]) -> None:
    hint = sizes.cfg_hint(*size)
    assert (hint.low, hint.high, hint.recommended) == expected
    assert hint.exact and hint.row == size


def test_cfg_between_rows_uses_the_nearest_row() -> None:
    # 576x384 (4:3 under 512x512, floored to 3:2) is nearest to the area-fixed row 640x384.
    hint = sizes.cfg_hint(576, 384)
    assert not hint.exact
    assert (hint.low, hint.high, hint.recommended) == (12, 16, 10.5)
    # Same area as 1024x576 / 768x768 / 576x1024: the aspect decides.
    assert sizes.cfg_hint(1000, 590).row == (1024, 576)
    assert sizes.cfg_hint(760, 770).row == (768, 768)
    assert sizes.cfg_hint(590, 1000).row == (576, 1024)
    # Larger than any row: the nearest in area and shape (a square gets the square row).
    assert sizes.cfg_hint(2048, 2048).row == (768, 768)
    assert sizes.cfg_hint(2816, 1024).row == (1408, 512)
    assert "nearest row" in str(sizes.cfg_hint(2048, 2048))


def test_cfg_bad_sizes() -> None:
    with pytest.raises(ValueError):
        sizes.cfg_hint(0, 512)
    with pytest.raises(ValueError):
        sizes.cfg_hint(512, math.nan)
