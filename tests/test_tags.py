"""Tag tools for training captions: the top-level split, remove/replace/keep-first, the token budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from conftest import FIXTURES
from naiprompt.batch import Batch
from naiprompt.transforms import TRANSFORMS
from naiprompt.transforms.tags import KeptTags, keep_split, split_tags, tag_key, tags

CAPTIONS = (FIXTURES / "batch" / "captions.txt").read_text(encoding="utf-8").splitlines()

ANY_TEXT = st.lists(st.sampled_from([*"ab_ :,.1(){}[]\\<>|", ", ", " BREAK ", "::", "\n"]), max_size=30).map("".join)

WORD = st.text(st.sampled_from("abcxyz_ 12"), min_size=1, max_size=6).map(str.strip).filter(bool)


@st.composite
def balanced_tag(draw: st.DrawFn, depth: int = 0) -> str:
    """A tag whose brackets are balanced, possibly with commas inside them."""
    kind = draw(
        st.sampled_from(["plain", "paren", "weight", "square", "schedule", "network"] if depth < 2 else ["plain"])
    )
    inner = draw(WORD)
    if kind == "plain":
        return inner
    nested = ", ".join(draw(st.lists(balanced_tag(depth + 1), min_size=1, max_size=3)))
    return {
        "paren": f"({nested})",
        "weight": f"({nested}:1.2)",
        "square": f"[{nested}]",
        "schedule": f"[{nested}:{inner}:0.5]",
        "network": f"<lora:{inner}:0.8>",
    }[kind]


@given(ANY_TEXT, st.sampled_from(["webui", "nai", "nai4"]))
def test_split_gives_back_every_character(text: str, dialect: str) -> None:
    found, separators = split_tags(text, dialect)
    assert len(separators) == len(found) + 1
    rebuilt = separators[0] + "".join(tag + sep for tag, sep in zip(found, separators[1:], strict=True))
    assert rebuilt == text
    assert all(tag == tag.strip() for tag in found)
    assert all(sep.count(",") <= 1 for sep in separators)


@given(st.lists(balanced_tag(), min_size=1, max_size=8))
def test_joining_the_tags_gives_the_caption_and_brackets_never_split(parts: list[str]) -> None:
    caption = ", ".join(parts)
    assert tags(caption) == parts
    assert ", ".join(tags(caption)) == caption


def test_real_captions_round_trip() -> None:
    for caption in CAPTIONS:
        for dialect in ("webui", "nai"):
            found, separators = split_tags(caption, dialect)
            assert separators[0] + "".join(t + s for t, s in zip(found, separators[1:], strict=True)) == caption


def test_split_examples() -> None:
    assert tags("1girl, (red eyes, smile:1.2), [cat, dog:fox:5], <lora:a,b:1>") == [
        "1girl",
        "(red eyes, smile:1.2)",
        "[cat, dog:fox:5]",
        "<lora:a,b:1>",
    ]
    assert tags("{a, b}, (c, d)", "nai") == ["{a, b}", "(c", "d)"]  # round brackets are text in NovelAI
    assert tags("(a, b") == ["(a, b"]  # an unclosed bracket runs to the end, as the UI reads it
    assert split_tags("a,,b") == (["a", "", "b"], ["", ",", ",", ""])
    assert tags(naiprompt.parse("{x}, y", "nai")) == ["{x}", "y"]


def test_tag_key_folds_spelling() -> None:
    assert tag_key("(Long_Hair:1.2)") == tag_key("long hair") == tag_key("[long  hair]") == "long hair"
    assert tag_key("{long_hair}", "nai") == "long hair"


def render(text: str, *specs: object, dialect: str = "webui") -> str:
    return naiprompt.render(naiprompt.apply(text, *specs, dialect=dialect))  # type: ignore[arg-type]


def test_remove_tags(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert render("1girl, (simple_background:1.2), smile, solo", "remove_tags:tags=simple background|solo") == (
        "1girl, smile"
    )
    bad = tmp_path / "bad.txt"
    bad.write_text("# unwanted\nsmile\n\nwatermark\n", encoding="utf-8")
    assert render("watermark, a, {smile}", f"remove_tags:file={bad}", dialect="nai") == "a"
    assert render("a, b", "remove_tags:tags=zzz") == "a, b"
    assert render("a", "remove_tags:tags=a") == ""
    tree = naiprompt.parse("a, b", "webui")
    assert naiprompt.apply(tree, "remove_tags:tags=zzz") is tree  # nothing removed: the same tree


def test_replace_tags(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert (
        render("(long_hair:1.2), smile", "replace_tags:mapping=long_hair=very long hair")
        == "(very long hair:1.2), smile"
    )
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("1girls,1girl\nsole_female,1girl\nwatermark,\n", encoding="utf-8")
    assert render("1girls, watermark, smile", f"replace_tags:file={aliases}") == "1girl, smile"


def test_keep_first_and_keep_split() -> None:
    assert render("smile, 1girl, solo", "keep_first:tags=solo|1girl") == "solo, 1girl, smile"
    moved = render("smile, 1girl", naiprompt.transforms.tags.keep_first(["1girl"], separator="|||"))
    assert moved == "1girl, |||, smile"
    assert keep_split(moved, separator="|||") == KeptTags(("1girl",), ("smile",), ())
    assert keep_split("a, b ||| c, d ||| e", separator="|||") == KeptTags(("a", "b"), ("c", "d"), ("e",))
    assert keep_split("1girl, (red, blue:1.2), smile", keep_tokens=2).fixed == ("1girl", "(red, blue:1.2)")
    assert keep_split("a, b", keep_tokens=5) == KeptTags(("a", "b"), ())


def test_fit_budget_drops_the_weakest_tags_last_first() -> None:
    assert render("(a:1.3), b, c, [d]", "fit_budget:3") == "(a:1.3), b"
    assert render("a, b", "fit_budget:75") == "a, b"
    long = ", ".join(f"tag{i}" for i in range(60)) + ", (keep me:1.5)"
    fitted = render(long, "fit_budget:limit=75")
    assert naiprompt.count_tokens(fitted).count <= 75
    assert fitted.startswith("tag0, tag1") and fitted.endswith("(keep me:1.5)")
    assert naiprompt.count_tokens(render(long, "fit_budget:limit=76")).count <= 76


def test_tag_transforms_are_registered_and_batchable() -> None:
    for name in ("remove_tags", "replace_tags", "keep_first", "fit_budget"):
        assert name in TRANSFORMS.names()
    batch = Batch("apply", transforms=["underscores", "dedupe", "remove_tags:tags=solo", "keep_first:tags=1girl"])
    assert batch(["solo, long_hair, 1girl, long hair"]) == ["1girl, long hair"]


def test_not_a_prompt() -> None:
    with pytest.raises(TypeError):
        tags(3)  # type: ignore[arg-type]
