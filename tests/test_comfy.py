"""The comfy dialect: ComfyUI's conformance outputs, round trips, conversions, plugin wiring."""

from __future__ import annotations

import json
import warnings
from importlib import metadata
from pathlib import Path

import pytest

import naiprompt
from naiprompt.ast import Emphasis, Prompt, Text
from naiprompt.contrib.comfy import Comfy
from naiprompt.dialects import DIALECTS, register_dialect
from naiprompt.errors import ConversionError, PromptSyntaxError, PromptWarning

CONFORMANCE = Path(__file__).resolve().parent / "fixtures" / "conformance" / "comfy_attention.json"

if "comfy" not in DIALECTS.names():  # a source checkout without installed entry points
    register_dialect(Comfy)

comfy = Comfy()


def _cases() -> list[dict[str, object]]:
    return json.loads(CONFORMANCE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def merged(runs: list[list[object]]) -> list[tuple[str, float]]:
    """ComfyUI does not merge equal-weight runs: merge them and drop empty ones."""
    out: list[tuple[str, float]] = []
    for text, weight in runs:
        assert isinstance(text, str) and isinstance(weight, float | int)
        if not text:
            continue
        if out and out[-1][1] == weight:
            out[-1] = (out[-1][0] + text, float(weight))
        else:
            out.append((text, float(weight)))
    return out


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[str(c["prompt"]) for c in CASES])
def test_conformance(case: dict[str, object]) -> None:
    prompt = str(case["prompt"])
    assert comfy.attention(prompt) == merged(case["attention"])  # type: ignore[arg-type]
    assert naiprompt.attention(prompt, "comfy") == merged(case["attention"])  # type: ignore[arg-type]
    assert comfy.render(comfy.parse(prompt)) == prompt  # lossless round trip


def test_explicit_weight_replaces_the_outer_one() -> None:
    assert comfy.attention("((a:1.5))") == [("a", 1.5)]
    assert comfy.attention("(a (b) c:1.2)") == [("a ", 1.2), ("b", 1.32), (" c", 1.2)]
    tree = comfy.parse("((a:1.5))")
    outer = tree.body[0]
    assert isinstance(outer, Emphasis) and outer.weight == 1.1
    inner = outer.body[0]
    assert isinstance(inner, Emphasis) and outer.weight * inner.weight == pytest.approx(1.5)


def test_explicit_weight_inside_a_zero_weight() -> None:
    assert comfy.attention("(x (a:1.5) y:0)") == [("x ", 0.0), ("a", 1.5), (" y", 0.0)]
    assert naiprompt.attention(naiprompt.convert("(x (a:1.5) y:0)", "comfy", "webui")) == [
        ("x ", 0.0),
        ("a", 1.5),
        (" y", 0.0),
    ]


def test_brackets_are_text_and_escapes() -> None:
    assert comfy.attention("[a], {b}, \\[c\\]") == [("[a], {b}, \\[c\\]", 1.0)]
    assert comfy.parse("\\(x\\)").body == (Text(value="(x)"),)
    assert comfy.render(Prompt(body=(Text(value="ganyu (genshin impact)"),))) == "ganyu \\(genshin impact\\)"


def test_printer_protects_text_that_would_read_as_a_weight() -> None:
    tree = Prompt(body=(Emphasis(body=(Text(value="x:1.5"),), weight=1.1, notation="paren"),))
    out = comfy.render(tree)
    assert comfy.attention(out) == [("x:1.5", 1.1)]
    tree = Prompt(body=(Emphasis(body=(Emphasis(body=(Text(value="b"),), weight=1.1),), weight=1.2),))
    assert comfy.attention(comfy.render(tree)) == [("b", pytest.approx(1.32))]


def test_embeddings() -> None:
    assert comfy.embeddings("(embedding:easynegative:1.2), embedding:bad_hands") == ["easynegative", "bad_hands"]


def test_strict() -> None:
    with pytest.raises(PromptSyntaxError, match="unmatched"):
        comfy.parse("a) b", strict=True)
    with pytest.raises(PromptSyntaxError, match="unclosed"):
        comfy.parse("(a", strict=True)
    assert comfy.parse("(a)", strict=True).body[0] == Emphasis(body=(Text(value="a"),), weight=1.1)


SAMPLES = {
    "webui": "((a:1.5)), [b], (c), ganyu \\(genshin impact\\)",
    "nai": "{{a}}, [b], {{{c}}}, ganyu (genshin impact)",
    "nai4": "1.5::a::, [b], {c}",
    "comfy": "((a:1.5)), b, (c:0.8), ganyu \\(genshin impact\\)",
}


@pytest.mark.parametrize("read", sorted(SAMPLES))
@pytest.mark.parametrize("write", sorted(SAMPLES))
def test_convert_between_all_four_dialects(read: str, write: str) -> None:
    text = SAMPLES[read]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PromptWarning)
        out = naiprompt.convert(text, read, write, decimals=6)
    before = [(t, w) for t, w in naiprompt.attention(text, read) if t.strip(", ")]
    after = [(t, w) for t, w in naiprompt.attention(out, write) if t.strip(", ")]
    assert "".join(t for t, _ in after).replace(", ", "") == "".join(t for t, _ in before).replace(", ", "")
    if write in ("webui", "comfy"):  # nai rounds to powers of 1.05
        got = {t.strip(", "): w for t, w in after}
        for t, w in before:
            assert got[t.strip(", ")] == pytest.approx(w, rel=1e-4), (out, t)


def test_literal_brackets_are_lossy_in_novelai() -> None:
    with pytest.warns(PromptWarning, match="literal bracket"):
        naiprompt.convert("[b]", "comfy", "nai")
    assert naiprompt.convert("[b]", "comfy", "webui") == "\\[b\\]"


def test_unsupported_constructs() -> None:
    with pytest.warns(PromptWarning, match="prompt editing"):
        assert naiprompt.convert("[a:b:5], c", "webui", "comfy") == "a, c"
    with pytest.raises(ConversionError):
        naiprompt.convert("a AND b", "webui", "comfy", errors="raise")
    assert naiprompt.convert("a <lora:x:1> BREAK b", "webui", "comfy", errors="ignore") == "a, b"


def test_entry_point_is_declared() -> None:
    try:
        dist = metadata.distribution("naiprompt")
    except metadata.PackageNotFoundError:  # pragma: no cover - not installed
        pytest.skip("naiprompt is not installed")
    points = [ep for ep in dist.entry_points if ep.group == "naiprompt.dialects" and ep.name == "comfy"]
    assert [(ep.name, ep.value) for ep in points] == [("comfy", "naiprompt.contrib.comfy:Comfy")]
    assert points[0].load() is Comfy
