"""The batch API: every row equals the per-call API, bad rows stay rows, batches pickle as data."""

from __future__ import annotations

import json
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naiprompt
from conftest import CONFORMANCE, FIXTURES
from naiprompt._batch_count import token_count as _token_count
from naiprompt.batch import Batch, RowError, TokenCounter, fragments
from naiprompt.transforms.tags import tags as split_into_tags

# The captions hold NovelAI slips such as {2:3}: converting them warns, here as in the per-call loop.
pytestmark = pytest.mark.filterwarnings("ignore::naiprompt.PromptWarning")

CAPTIONS = (FIXTURES / "batch" / "captions.txt").read_text(encoding="utf-8").splitlines()


def _prompts(node: Any) -> list[str]:
    """Every "prompt" string of a conformance file (WebUI's own edge cases)."""
    if isinstance(node, dict):
        found = [node["prompt"]] if isinstance(node.get("prompt"), str) else []
        return found + [p for value in node.values() for p in _prompts(value)]
    if isinstance(node, list):
        return [p for item in node for p in _prompts(item)]
    return []


EDGE_CASES = sorted(
    {p for path in sorted(CONFORMANCE.glob("*.json")) for p in _prompts(json.loads(path.read_text("utf-8")))}
)
SAMPLE = CAPTIONS[::5] + EDGE_CASES  # for the slower operations
CORPUS = CAPTIONS + EDGE_CASES + ["", " ", ",", ", ,", "a,", ",a", "a, :3", "x, 1.5", "(a, b", "a), b", "]"]


def per_call(function: Callable[[str], Any], rows: list[Any]) -> list[Any]:
    """What a loop over the per-call API gives: the value, None, or the error it raised."""
    out: list[Any] = []
    for row in rows:
        if row is None:
            out.append(None)
            continue
        try:
            out.append(function(row))
        except Exception as exc:
            out.append(RowError(str(exc), type(exc).__name__))
    return out


def assert_rows_equal(batch: Batch, function: Callable[[str], Any], rows: list[Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = per_call(function, rows)
        got = batch(rows)
    assert len(got) == len(expected)
    for row, want, have in zip(rows, expected, got, strict=True):
        assert have == want, row


def test_corpus_is_real() -> None:
    assert len(CAPTIONS) == 600 and len(EDGE_CASES) > 300


@pytest.mark.parametrize(
    ("read", "write"), [("nai", "webui"), ("webui", "nai"), ("webui", "nai4"), ("nai4", "webui"), ("nai", "comfy")]
)
@pytest.mark.parametrize("errors", ["warn", "raise"])
def test_convert_equals_per_call(read: str, write: str, errors: str) -> None:
    batch = Batch("convert", read=read, write=write, errors=errors)
    rows = CORPUS + CAPTIONS[:100]  # repeated rows and fragments are served from the caches
    assert_rows_equal(batch, lambda row: naiprompt.convert(row, read, write, errors=errors), rows)


@pytest.mark.parametrize("dialect", ["webui", "nai", "nai4"])
def test_attention_and_tags_equal_per_call(dialect: str) -> None:
    assert_rows_equal(Batch("attention", dialect=dialect), lambda r: naiprompt.attention(r, dialect), SAMPLE)
    assert_rows_equal(Batch("tags", dialect=dialect), lambda r: split_into_tags(r, dialect), SAMPLE)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dialect": "nai"},
        {"negative": True, "comma_backtrack": 0},
        {"steps": 7, "emphasis": "none"},
        # ComfyUI chunks its own way (no comma backtrack, whole words); compel's quotes and a mixed
        # prompt's bracket rule reach over commas; nai4 negative keeps trailing space.
        {"dialect": "comfy"},
        {"dialect": "compel"},
        {"dialect": "mixed"},
        {"dialect": "nai4", "negative": True},
        {"tokenizer": "openai", "comma_backtrack": 74},
    ],
)
def test_count_tokens_equals_per_call(options: dict[str, Any]) -> None:
    batch = Batch("count_tokens", **options)
    rows = (CORPUS if not options else SAMPLE) + [", ".join(CAPTIONS[:8]), "a, " * 80, "a BREAK b, c:1.5 ", "a AND b:2"]
    expected = per_call(lambda row: naiprompt.count_tokens(row, **options), rows)
    got = batch(rows)
    for row, want, have in zip(rows, expected, got, strict=True):
        assert isinstance(have, TokenCounter)
        assert have == want and want == have, row  # the TokenCount object
        assert have == str(want) and str(have) == str(want), row  # and its counter text
        assert (have.count, have.target, have.text) == (want.count, want.target, want.text)


def test_budget_and_detect_equal_per_call() -> None:
    assert_rows_equal(Batch("budget", limit=40), lambda r: naiprompt.budget(r, 40).over, SAMPLE)
    assert_rows_equal(Batch("detect"), naiprompt.detect, CORPUS)


def test_apply_equals_per_call() -> None:
    specs = ["underscores:to=space", "dedupe", "remove_tags:tags=solo|1girl", "sort_by_weight"]
    batch = Batch("apply", transforms=specs, dialect="nai", write="webui")
    expected = lambda row: naiprompt.render(naiprompt.apply(row, *specs, dialect="nai"), "webui")  # noqa: E731
    assert_rows_equal(batch, expected, SAMPLE)


def test_bad_rows_are_values() -> None:
    batch = Batch("convert", read="webui", write="nai", errors="raise")
    got = batch(["a", None, 3, "[a:b:5]", b"x", "b"])
    assert got[0] == "a" and got[1] is None and got[5] == "b"
    assert got[2] == RowError("expected a string, not int", "TypeError")
    assert isinstance(got[3], RowError) and got[3].kind == "ConversionError"
    with pytest.raises(naiprompt.ConversionError) as raised:
        naiprompt.convert("[a:b:5]", "webui", "nai", errors="raise")
    assert got[3].message == str(raised.value)
    assert got[4].message == "expected a string, not bytes"


def test_fragments_keep_the_text_and_refuse_cross_comma_syntax() -> None:
    for caption in CAPTIONS:
        parts = fragments(caption, "nai")
        if parts is not None:
            assert ",".join(parts) == caption
    assert fragments("a, (b, c:1.2), d", "webui") == ["a", " (b, c:1.2)", " d"]
    for unsafe in ["(a, b", "a), (b", "a\\, b", "<lora:a:1>, b", "a, b AND c", "1.2::a, b::", "[a:b:5], c"]:
        assert fragments(unsafe, "webui") is None, unsafe


SYNTAX = st.lists(
    st.sampled_from([*"ab_ :,.13(){}[]\\<>|-", ", ", " BREAK ", " AND ", "::", "1.5", "\n"]), max_size=24
).map("".join)


@given(st.lists(SYNTAX, min_size=1, max_size=6))
def test_convert_fragments_equal_whole(rows: list[str]) -> None:
    # Shared caches across rows: a fragment converted once is reused in every later row.
    for read, write in [("nai", "webui"), ("webui", "nai"), ("nai4", "webui")]:
        batch = Batch("convert", read=read, write=write)
        expected = lambda row, read=read, write=write: naiprompt.convert(row, read, write)  # noqa: E731
        assert_rows_equal(batch, expected, rows + rows[::-1])


@given(
    st.lists(
        st.sampled_from([("a b", 1.0), (",", 1.0), ("long hair, smile", 1.2), ("BREAK", -1.0), ("x " * 30, 0.9)]),
        max_size=12,
    ),
    st.integers(0, 74),
)
def test_token_count_mirrors_the_chunker(runs: list[tuple[str, float]], backtrack: int) -> None:
    from naiprompt.tokens import chunk_segments, get_tokenizer

    tok = get_tokenizer("webui")
    expected = chunk_segments(runs, tok, comma_backtrack=backtrack).token_count
    assert _token_count(runs, tok.encode, tok.comma_id, backtrack) == expected


def test_pickles_are_canonical_and_equal_batches_are_one() -> None:
    a = Batch("apply", transforms=["dedupe", ("remove_tags", {"tags": ["a", "b"], "file": None})], dialect="nai")
    b = Batch("apply", dialect="nai", transforms=("dedupe", ("remove_tags", {"file": None, "tags": ("a", "b")})))
    assert a == b and hash(a) == hash(b)
    assert pickle.dumps(a) == pickle.dumps(b)
    a(["x, a, x"])  # caches and the compiled transforms are not part of the pickle
    assert pickle.dumps(a) == pickle.dumps(b)
    clone = pickle.loads(pickle.dumps(a))
    assert clone == a and clone(["x, a, x, y"]) == ["x, y"]
    assert Batch("convert", read="nai") == Batch("convert", read="nai", write="webui", errors="warn", decimals=4)
    assert Batch("convert", read="nai") != Batch("convert", read="webui")
    assert len({Batch("tags"), Batch("tags", dialect="webui"), Batch("detect")}) == 2
    assert repr(Batch("tags")) == "Batch('tags', dialect='webui')"


def test_usage_errors_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown batch operation"):
        Batch("frobnicate")
    with pytest.raises(TypeError, match="no option 'dialekt'"):
        Batch("tags", dialekt="nai")
    with pytest.raises(TypeError, match="not a spec"):
        Batch("apply", transforms=[lambda prompt: prompt])
    with pytest.raises(TypeError, match="integer"):
        Batch("count_tokens", steps="20")
    with pytest.raises(ValueError):
        Batch("count_tokens", comma_backtrack=80)
    with pytest.raises(Exception, match="nosuch"):
        Batch("convert", read="nosuch")


def test_results_are_not_shared_between_rows() -> None:
    batch = Batch("tags")
    first, second = batch(["a, b", "a, b"])
    first.append("c")
    assert second == ["a", "b"] and batch(["a, b"]) == [["a", "b"]]


def test_map_with_processes_equals_one_process() -> None:
    batch = Batch("convert", read="nai", write="webui")
    rows: list[Any] = [*CAPTIONS[:300], None, 7]
    assert batch.map(rows, jobs=2, chunk_size=64) == batch(rows)


def test_pyarrow_in_pyarrow_out() -> None:
    pa = pytest.importorskip("pyarrow")
    rows = ["{a}, b", None, "[c]"]
    out = Batch("convert", read="nai")(pa.array(rows))
    assert isinstance(out, pa.Array) and out.to_pylist() == ["(a:1.05), b", None, "(c:0.9524)"]
    chunked = Batch("count_tokens")(pa.chunked_array([["a, b"], [None, "c"]]))
    assert isinstance(chunked, pa.ChunkedArray) and chunked.to_pylist() == ["3/75", None, "1/75"]
    runs = Batch("attention")(pa.array(["a (b)"])).to_pylist()
    assert runs == [[{"text": "a ", "weight": 1.0}, {"text": "b", "weight": 1.1}]]
    bad = Batch("convert", read="webui", write="nai", errors="raise")(pa.array(["[a:b:5]", "a"]))
    assert bad.to_pylist() == [None, "a"]


def test_pyarrow_compute_udf() -> None:
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    batch = Batch("convert", read="nai", write="webui")

    def udf(context: Any, texts: Any) -> Any:
        return batch(texts)

    name = "naiprompt_nai_to_webui_test"
    pc.register_scalar_function(
        udf, name, {"summary": "nai -> webui", "description": "naiprompt batch"}, {"texts": pa.string()}, pa.string()
    )
    table = pa.table({"text": ["{a}", "[b], c", None]})
    result = pc.call_function(name, [table["text"]])
    assert result.to_pylist() == ["(a:1.05)", "(b:0.9524), c", None]


def test_fixture_captions_exist() -> None:
    assert Path(FIXTURES / "batch" / "captions.txt").stat().st_size > 10_000
