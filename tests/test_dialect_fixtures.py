"""The one-line dialect cases of fixtures/dialects/: round trips and conversions (sqlglot style)."""

from __future__ import annotations

import pytest

import naiprompt
from dialect_reference import convert_cases, identity_cases, validate_all, validate_identity

IDENTITY = identity_cases()
CONVERT = convert_cases()


@pytest.mark.parametrize(("dialect", "text"), IDENTITY, ids=[f"{d}:{t}" for d, t in IDENTITY])
def test_identity(dialect: str, text: str) -> None:
    validate_identity(text, dialect)


@pytest.mark.parametrize(("read", "text", "write"), CONVERT, ids=[f"{r}:{t}" for r, t, _ in CONVERT])
def test_convert(read: str, text: str, write: dict[str, str]) -> None:
    validate_all(text, read=read, write=write)


def test_every_converted_text_is_its_own_identity() -> None:
    # What convert() writes is a prompt of the target dialect: it must round-trip there too.
    for _read, _text, write in CONVERT:
        for target, expected in write.items():
            validate_identity(expected, target)


def test_fixtures_cover_every_dialect() -> None:
    assert {d for d, _ in IDENTITY} == set(naiprompt.dialects.DIALECTS.names())
    assert {r for r, _, _ in CONVERT} == set(naiprompt.dialects.DIALECTS.names())
    assert len(IDENTITY) >= 35 and len(CONVERT) >= 20


def test_helpers_fail_on_a_wrong_case(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AssertionError, match=r"gave '\(x:1.05\)', expected '\(x:1.1\)'"):
        validate_all("{x}", read="nai", write={"webui": "(x:1.1)"})
    # Every prompt round-trips, so make render lossy to see the identity check fail.
    render = naiprompt.render
    monkeypatch.setattr(naiprompt, "render", lambda tree, dialect=None: render(tree, dialect).rstrip(")"))
    with pytest.raises(AssertionError, match=r"rendered as '\(a:1.2'"):
        validate_identity("(a:1.2)", "webui")
