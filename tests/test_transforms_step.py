"""The seed's step tool: byte-for-byte compatibility and dialect-correct emphasis."""

from __future__ import annotations

import math
import warnings

import pytest

import naiprompt
from naiprompt.errors import ConversionError, PromptWarning
from naiprompt.transforms import apply, js_parse_float, seed_step, step

TAGS = ["bad", "comic", "cropped", "error", "extra", "low", "lowres", "speech", "worst"]
LIST = ", ".join(TAGS)


def each(fmt: str) -> str:
    return ", ".join(fmt.format(tag) for tag in TAGS)


# nai_and_seed.md section 1.1: every `node step ...` row but the crash (1e21) and Infinity.
# (argv after "step", step.txt); rows written with "..." in the spec are spelled out.
SEED_ROWS: list[tuple[list[str], str]] = [
    ([], f"({LIST}:1)"),
    (["0"], f"({LIST}:0)"),
    (["0", "full"], each("({}:0)")),
    (["1"], f"({LIST}:1)"),
    (["1", "full"], each("({}:1)")),
    (["0.9"], f"({LIST}:0.9)"),
    (["0.9", "full"], each("({}:0.9)")),
    (["0.564", "1"], each("({}:0.564)")),
    (["1.1"], f"({LIST}:1.1)"),
    (["2.5"], f"({LIST}:2.5)"),
    (["2.5", "full"], each("({}:2.5)")),
    (["1e-7"], f"({LIST}:0.0000001)"),
    (["abc"], f"({LIST}:1)"),
    (["0.9", "false"], each("({}:0.9)")),
    (["0.9", "0"], each("({}:0.9)")),
    (["2"], f"{{{{{LIST}}}}}"),
    (["2", "full"], each("{{{{{}}}}}")),
    (["2.0"], f"{{{{{LIST}}}}}"),
    (["3abc"], f"{{{{{{{LIST}}}}}}}"),
    (["-1"], f"[{LIST}]"),
    (["-2"], f"[[{LIST}]]"),
    (["-2", "full"], each("[[{}]]")),
    (["-6", "full"], each("[[[[[[{}]]]]]]")),
    (["-1.5"], f"[{LIST}]"),
    (["-1.5", "full"], each("[{}]")),
    (["-0.5"], LIST),
    (["-0"], f"({LIST}:0)"),
]


def test_row_count() -> None:
    assert len(SEED_ROWS) == 27


@pytest.mark.parametrize(("argv", "expected"), SEED_ROWS, ids=[" ".join(a) or "(none)" for a, _ in SEED_ROWS])
def test_seed_rows(argv: list[str], expected: str) -> None:
    ratio = argv[0] if argv else None
    full = argv[1] if len(argv) > 1 else None
    assert seed_step(ratio, full) == expected


def test_seed_rows_spot_check_literal_strings() -> None:
    assert seed_step("2") == "{{bad, comic, cropped, error, extra, low, lowres, speech, worst}}"
    assert seed_step("-2", "full").startswith("[[bad]], [[comic]], [[cropped]]")
    assert seed_step("0", "full") == (
        "(bad:0), (comic:0), (cropped:0), (error:0), (extra:0), (low:0), (lowres:0), (speech:0), (worst:0)"
    )


def test_seed_crash_and_infinity_rows_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="bracket levels"):
        seed_step("1e21")
    with pytest.raises(ValueError, match="finite"):
        seed_step("Infinity")
    with pytest.raises(ValueError, match="finite"):
        seed_step(math.nan)


def test_seed_tags_are_trimmed_deduplicated_and_sorted() -> None:
    assert seed_step(-1, "x", tags="worst, bad\n, bad, Comic") == "[bad], [Comic], [worst]"
    assert seed_step(0.5, tags=["b, a", "a"]) == "(a, b:0.5)"


def test_js_parse_float() -> None:
    assert js_parse_float("3abc") == 3
    assert js_parse_float("0x10") == 0
    assert js_parse_float("  .5e1") == 5
    assert js_parse_float("-Infinity") == -math.inf
    assert math.isnan(js_parse_float("abc"))
    assert math.isnan(js_parse_float(""))
    assert math.isnan(js_parse_float(None))


# ---------------------------------------------------------------------------------------------
# Dialect-correct step, checked through attention().

RATIOS = [-6, -2, -1.5, 0, 0.564, 0.9, 1, 2, 3]


def promised(ratio: float, dialect: str) -> float:
    base = 1.1 if dialect == "webui" else 1.05
    if ratio < 0:
        return base ** -math.trunc(-ratio)
    if ratio > 1 and float(ratio).is_integer():
        return base ** int(ratio)
    if dialect == "nai":  # no explicit weights: the nearest power of 1.05
        return 1.05 ** round(math.log(ratio) / math.log(1.05))
    return float(ratio)


def weights_of(prompt: naiprompt.ast.Prompt, dialect: str) -> list[tuple[str, float]]:
    text = naiprompt.render(prompt, dialect)
    return naiprompt.attention(text, dialect)


@pytest.mark.parametrize("dialect", ["webui", "nai", "nai4"])
@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("full", [False, True])
def test_step_attention(ratio: float, dialect: str, full: bool) -> None:
    if dialect == "nai" and ratio == 0:
        with pytest.raises(ConversionError, match="no bracket form"):
            apply("bad, comic, worst", step(ratio, full=full), dialect=dialect)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PromptWarning)
        tree = apply("bad, comic, worst", step(ratio, full=full), dialect=dialect)
    runs = weights_of(tree, dialect)
    expected = promised(ratio, dialect)
    tag_runs = [(text, weight) for text, weight in runs if text.strip(", ")]
    assert "".join(text for text, _ in runs) == "bad, comic, worst"
    assert tag_runs, runs
    for text, weight in tag_runs:
        assert weight == pytest.approx(expected, rel=1e-9), (text, runs)
    if not full:
        assert len(runs) == 1  # one run: the commas are inside the emphasis
    elif not math.isclose(expected, 1.0):
        assert [(t, w) for t, w in runs if not t.strip(", ")] == [(", ", 1.0), (", ", 1.0)]


def test_step_spellings() -> None:
    def out(ratio: float, dialect: str, full: bool = False) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromptWarning)
            return naiprompt.render(apply("bad, comic", step(ratio, full=full), dialect=dialect))

    assert out(2, "webui") == "((bad, comic))"
    assert out(2, "nai") == "{{bad, comic}}"
    assert out(2, "nai4") == "{{bad, comic}}"
    assert out(-2, "webui", True) == "[[bad]], [[comic]]"
    assert out(0.9, "webui") == "(bad, comic:0.9)"
    assert out(0.9, "nai4", True) == "0.9::bad::, 0.9::comic::"
    assert out(0.9, "nai") == "[[bad, comic]]"
    assert out(-0.5, "webui") == "bad, comic"
    assert out(1, "nai") == "bad, comic"


def test_step_nai_warns_when_inexact() -> None:
    with pytest.warns(PromptWarning, match="no exact bracket form"):
        apply("bad", step(0.9), dialect="nai")
    with pytest.raises(ConversionError):
        apply("bad", step(0.9, errors="raise"), dialect="nai")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)
        apply("bad", step(1), dialect="nai")  # exact: no warning


@pytest.mark.parametrize("ratio", [math.inf, -math.inf, math.nan, 1e21, -1e21, 101])
def test_step_absurd_ratios(ratio: float) -> None:
    with pytest.raises(ValueError):
        step(ratio)


def test_step_keeps_separators_networks_and_subprompts_outside() -> None:
    tree = apply(" a, b <lora:x:1> AND c :0.5", step(2))
    assert naiprompt.render(tree) == " ((a, b <lora:x:1>)) AND ((c)) :0.5"
    tree = apply("a, <lora:x:1>, b BREAK c", step(-1, full=True))
    assert naiprompt.render(tree) == "[a], <lora:x:1>, [b] BREAK [c]"


def test_step_multiplies_existing_weights() -> None:
    tree = apply("(a:1.2), b", step(0.5, full=True))
    assert naiprompt.attention(naiprompt.render(tree)) == [("a", 0.6), (", ", 1.0), ("b", 0.5)]


def test_step_on_empty_prompt() -> None:
    assert naiprompt.render(apply("", step(2))) == ""
    assert naiprompt.render(apply(" , ", step(2, full=True))) == " , "
