"""Conversion between compel and webui, nai, nai4, comfy: weights preserved, losses reported."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from naiprompt.contrib.compel import Compel, lower
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.errors import ConversionError, PromptWarning

if "compel" not in DIALECTS.names():  # a checkout whose installed metadata predates the entry point
    register_dialect(Compel)

compel = Compel()

#: How close a converted weight must be: printed numbers have 4 decimals; NovelAI rounds each level to a
#: power of 1.05 (V4 too, inside a numeric range), and nested levels compound that.
TOLERANCE = {"webui": 1e-3, "comfy": 1e-3, "nai4": 0.06, "nai": 0.06}


def char_weights(runs: list[tuple[str, float]], skip: str = "") -> list[tuple[str, float]]:
    """Each visible character with its weight: spacing differs between the UIs, CLIP ignores it."""
    return [(char, weight) for text, weight in runs for char in text if not char.isspace() and char not in skip]


def assert_same_weights(
    before: list[tuple[str, float]], after: list[tuple[str, float]], tolerance: float, skip: str = ""
) -> None:
    a, b = char_weights(before, skip), char_weights(after, skip)
    assert "".join(c for c, _ in a) == "".join(c for c, _ in b)
    for (char, want), (_, got) in zip(a, b, strict=True):
        assert got == pytest.approx(want, rel=tolerance), (char, before, after)


WORDS = ["cat", "red hat", "1girl", "blue_sky", "t-shirt", "ganyu \\(genshin impact\\)", "o'neill", "x2"]


def _compel_prompts() -> st.SearchStrategy[str]:
    word = st.sampled_from(WORDS)
    signs = st.sampled_from(["+", "++", "-", "--", "+++"])
    number = st.sampled_from(["1.3", "0.5", "2", "0.75", "1.05"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        seq = st.lists(inner, min_size=1, max_size=3).map(", ".join)
        return st.one_of(
            st.builds(lambda w, s: w.split()[-1] + s if "\\" not in w else w, word, signs),
            st.builds(lambda b, s: f"({b}){s}", seq, st.one_of(signs, number)),
            st.builds(lambda b, s: f'"{b}"{s}', seq, st.one_of(signs, number)),
        )

    item = st.recursive(word, extend, max_leaves=8)
    return st.lists(item, min_size=1, max_size=4).map(", ".join)


def _webui_prompts() -> st.SearchStrategy[str]:
    word = st.sampled_from(["cat", "red hat", "1girl", "blue_sky", "t-shirt", "ganyu \\(genshin impact\\)"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        seq = st.lists(inner, min_size=1, max_size=3).map(", ".join)
        weight = st.sampled_from(["1.3", "0.5", "2", "0.75", "1.21"])
        return st.one_of(
            seq.map(lambda b: f"({b})"),
            seq.map(lambda b: f"[{b}]"),
            st.builds(lambda b, w: f"({b}:{w})", seq, weight),
        )

    item = st.recursive(word, extend, max_leaves=8)
    return st.lists(item, min_size=1, max_size=4).map(", ".join)


@pytest.mark.parametrize("write", ["webui", "comfy", "nai4", "nai"])
@given(text=_compel_prompts())
def test_compel_to_others_by_value(write: str, text: str) -> None:
    with warnings.catch_warnings():
        # nothing here is lossy, except NovelAI's rounding to powers of 1.05
        warnings.simplefilter("ignore" if write.startswith("nai") else "error", PromptWarning)
        out = naiprompt.convert(text, "compel", write)
    # NovelAI V4 opens numeric weights at tag starts: the commas between tags may fall outside them
    skip = "," if write.startswith("nai") else ""
    assert_same_weights(compel.attention(text), naiprompt.attention(out, write), TOLERANCE[write], skip)


@given(text=_webui_prompts())
def test_webui_to_compel_and_back_by_value(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)
        out = naiprompt.convert(text, "webui", "compel")
        back = naiprompt.convert(out, "compel", "webui")
    assert_same_weights(naiprompt.attention(text), compel.attention(out), 1e-3)
    assert_same_weights(naiprompt.attention(text), naiprompt.attention(back), 2e-3)


SAMPLES = {
    "webui": "(masterpiece:1.2), [blurry], ((smile)), ganyu \\(genshin impact\\)",
    "nai": "{{a}}, [b], {{{c}}}, ganyu (genshin impact)",
    "nai4": "1.5::a::, [b], {c}, 0.8::d e::",
    "comfy": "((a:1.5)), b, (c:0.8), ganyu \\(genshin impact\\)",
}


@pytest.mark.parametrize("read", sorted(SAMPLES))
def test_others_to_compel_by_value(read: str) -> None:
    text = SAMPLES[read]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)
        out = naiprompt.convert(text, read, "compel")
    assert_same_weights(naiprompt.attention(text, read), compel.attention(out), 1e-3)


def test_canonical_spellings() -> None:
    assert naiprompt.convert("(a), ((b)), [c], (d e:1.3), {f}", "webui", "compel") == (
        "a+, b++, (c)0.9091, (d e)1.3, \\{f\\}".replace("\\{f\\}", "{f}")
    )
    assert naiprompt.convert("{{a}} b", "nai", "compel") == "(a)1.1025 b"
    assert naiprompt.convert("(x:1.2)3", "webui", "compel") == "(x)1.2 3"  # the number stays apart
    assert naiprompt.convert('ganyu \\(genshin\\) "q"', "webui", "compel") == 'ganyu \\(genshin\\) \\"q\\"'


def test_what_compel_cannot_say_is_reported() -> None:
    with pytest.warns(PromptWarning, match="prompt editing"):
        assert naiprompt.convert("[a:b:5], c", "webui", "compel") == "a, c"
    with pytest.raises(ConversionError):
        naiprompt.convert("a AND b", "webui", "compel", errors="raise")
    with pytest.raises(ConversionError):
        naiprompt.convert("(a BREAK b)", "webui", "compel", errors="raise")
    with pytest.raises(ConversionError):
        naiprompt.convert("[a|b]", "webui", "compel", errors="raise")
    with pytest.raises(ConversionError):
        naiprompt.convert("<hypernet:x:1> a", "webui", "compel", errors="raise")
    with pytest.raises(ConversionError):
        naiprompt.convert("-1::a::", "nai4", "compel", errors="raise")  # compel has no negative weight
    assert naiprompt.convert("<lora:x:0.5> a", "webui", "compel") == "withLora(x, 0.5) a"


def test_break_is_a_conjunction() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)  # exact: both encode the parts apart and concatenate
        out = naiprompt.convert('(a) BREAK  b, "c" BREAK', "webui", "compel")
        assert out == '("a+", "b, \\"c\\"").and()'
        assert compel.parts(out) == [[("a", 1.1)], [('b , "c"', 1.0)]]
        assert naiprompt.render(lower(compel.parse(out)), "webui") == '(a) BREAK b, "c"'
        assert naiprompt.convert("BREAK", "webui", "compel") == ""


def test_lowering_reports_what_other_dialects_lose() -> None:
    swap = compel.parse("a cat.swap(dog, t_start=0.4)")
    with pytest.warns(PromptWarning, match="swap"):
        assert naiprompt.render(lower(swap), "webui") == "a [cat:dog:0.4]"
    with pytest.raises(ConversionError):
        lower(swap, errors="raise")
    blend = compel.parse('("a cat", "a dog").blend(0.3, 0.7)')
    with pytest.warns(PromptWarning, match="blend"):
        assert naiprompt.render(lower(blend), "webui") == "a dog"
    conjunction = compel.parse('("a cat", "a dog").and()')
    with warnings.catch_warnings():
        warnings.simplefilter("error", PromptWarning)  # .and() is BREAK: nothing lost in WebUI
        assert naiprompt.render(lower(conjunction), "webui") == "a cat BREAK a dog"
    with pytest.warns(PromptWarning, match="BREAK"):  # NovelAI has no BREAK: its own report
        naiprompt.render(lower(conjunction), "nai")
    with pytest.raises(ConversionError):
        lower(compel.parse('("a", "b").and(1, 0.5)'), errors="raise")
    plain = compel.parse("a+ b")
    assert lower(plain) is plain


def test_convert_and_render_lower_compel_constructs_through_the_dialect() -> None:
    """convert() and render() ask the tree's dialect to lower its own nodes (Dialect.lower)."""
    with pytest.warns(PromptWarning, match="blend"):
        assert naiprompt.convert('("a", "b").blend(0.7, 0.3)', "compel", "webui") == "a"
    with pytest.raises(ConversionError):
        naiprompt.convert('("a", "b").blend(0.7, 0.3)', "compel", "nai", errors="raise")
    assert naiprompt.convert('("a cat", "a dog").and()', "compel", "webui", errors="raise") == "a cat BREAK a dog"
    tree = naiprompt.parse("cat.swap(dog)", "compel")
    with pytest.warns(PromptWarning):
        assert naiprompt.render(tree, "webui") == "[cat:dog:0.2]"
    assert naiprompt.render(tree) == "cat.swap(dog)"  # its own dialect keeps it
