"""Dialect test helpers in the style of sqlglot's: a case is one line of a fixture file.

* :func:`validate_identity` -- ``render(parse(text, dialect), dialect) == text``, and the tree survives
  a second trip (``parse(render(tree)) == tree``).
* :func:`validate_all` -- one source in the dialect ``read``, the expected text in each target of
  ``write``.

The fixture files (``fixtures/dialects/identity.txt`` and ``convert.txt``) are read by
:func:`identity_cases` and :func:`convert_cases`; their headers say the format.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import naiprompt

DIALECT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dialects"


def validate_identity(text: str, dialect: str) -> None:
    """``text`` parses in ``dialect`` and renders back unchanged, and its tree is stable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbalanced brackets warn in lenient mode; the text must survive
        tree = naiprompt.parse(text, dialect)
        rendered = naiprompt.render(tree, dialect)
        assert rendered == text, f"{dialect}: {text!r} rendered as {rendered!r}"
        again = naiprompt.parse(rendered, dialect)
    assert naiprompt.render(again, dialect) == text
    assert naiprompt.attention(again, dialect) == naiprompt.attention(tree, dialect)


def validate_all(text: str, read: str, write: dict[str, str]) -> None:
    """``convert(text, read, target) == expected`` for every ``target: expected`` of ``write``."""
    problems = []
    for target, expected in write.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", naiprompt.PromptWarning)
            got = naiprompt.convert(text, read, target)
        if got != expected:
            problems.append(f"{read} -> {target}: {text!r} gave {got!r}, expected {expected!r}")
    assert not problems, "\n".join(problems)


def _lines(name: str) -> list[tuple[int, str]]:
    text = (DIALECT_FIXTURES / name).read_text(encoding="utf-8")
    return [
        (number, line)
        for number, line in enumerate(text.split("\n"), 1)
        if line and not line.startswith("# ") and line != "#"
    ]


def identity_cases() -> list[tuple[str, str]]:
    """``(dialect, text)`` for every line of ``identity.txt``."""
    cases: list[tuple[str, str]] = []
    dialect = None
    for number, line in _lines("identity.txt"):
        if line.startswith("[") and line.endswith("]") and line[1:-1] in naiprompt.dialects.DIALECTS.names():
            dialect = line[1:-1]
            continue
        assert dialect is not None, f"identity.txt:{number}: a case before the first [dialect] header"
        cases.append((dialect, line))
    return cases


def convert_cases() -> list[tuple[str, str, dict[str, str]]]:
    """``(read, text, {target: expected})`` for every line of ``convert.txt``."""
    cases = []
    for number, line in _lines("convert.txt"):
        read, text, *targets = line.split("\t")
        assert targets, f"convert.txt:{number}: no TARGET=EXPECTED"
        write = dict(target.split("=", 1) for target in targets)
        cases.append((read, text, write))
    return cases
