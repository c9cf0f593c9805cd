"""An independent, straightforward WebUI emphasis parser, written from the spec's words.

It follows ``spec/webui.md`` §1 literally: one regular expression of WebUI's lexemes tried in the
spec's order, two bracket stacks, multiply-to-the-end on every closer, BREAK split per text run, and
the merge of equal neighbours. naiprompt's ``attention()`` is built differently (from the grammar's
terminals, with eager runs); the tests compare the two on arbitrary strings.
"""

from __future__ import annotations

import re
from typing import Any

LEXEMES = re.compile(
    r"""
    \\[()\[\]\\]              # 1 escape
  | \\                        # 2 lone backslash
  | \(                        # 3 open round
  | \[                        # 4 open square
  | :\s*([+-]?[.\d]+)\s*\)    # 5 weight-close
  | \)                        # 6 close round
  | ]                         # 7 close square
  | [^\\()\[\]:]+             # 8 text run
  | :                         # 9 colon
    """,
    re.VERBOSE,
)
BREAK = re.compile(r"\s*\bBREAK\b\s*")


def reference_attention(text: str) -> list[tuple[str, float]]:
    """WebUI's runs for ``text``; raises ValueError where WebUI does."""
    res: list[list[Any]] = []
    rounds: list[int] = []
    squares: list[int] = []

    def multiply(start: int, factor: float) -> None:
        for item in res[start:]:
            item[1] *= factor

    for match in LEXEMES.finditer(text):
        lexeme, number = match.group(0), match.group(1)
        if lexeme.startswith("\\"):
            res.append([lexeme[1:], 1.0])
        elif lexeme == "(":
            rounds.append(len(res))
        elif lexeme == "[":
            squares.append(len(res))
        elif number is not None and rounds:
            multiply(rounds.pop(), float(number))
        elif lexeme == ")" and rounds:
            multiply(rounds.pop(), 1.1)
        elif lexeme == "]" and squares:
            multiply(squares.pop(), 1 / 1.1)
        else:
            for index, part in enumerate(BREAK.split(lexeme)):
                if index:
                    res.append(["BREAK", -1.0])
                res.append([part, 1.0])
    for start in rounds:
        multiply(start, 1.1)
    for start in squares:
        multiply(start, 1 / 1.1)
    if not res:
        return [("", 1.0)]
    merged = [res[0]]
    for item in res[1:]:
        if item[1] == merged[-1][1]:
            merged[-1][0] += item[0]
        else:
            merged.append(item)
    return [(t, w) for t, w in merged]
