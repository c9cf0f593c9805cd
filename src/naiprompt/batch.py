"""One operation over many prompts: a picklable, hashable callable that shares work across rows.

``Batch(op, **options)`` names an operation and its options; calling it on a list of strings (or a
``pyarrow`` string array) returns one result per row, each equal to what the per-call API returns for that
row. What makes it more than a loop:

* **Shared work.** Captions repeat tags heavily. Repeated rows are computed once; ``convert`` converts
  each distinct top-level comma piece once (only where that is provably the same as converting the
  whole caption: balanced brackets, no syntax that reaches across a comma), a hundred new pieces in one
  call; plain pieces (letters, digits, spaces, punctuation no dialect reads) are their own conversion,
  and pieces that differ only in their plain text (``{long hair}``, ``{smile}``) are filled in from one
  conversion of their shape. A row whose pieces are all known is a split, lookups and a join.
  ``count_tokens`` reads each distinct piece once and counts a caption from its pieces' sizes in ids
  (CLIP keeps a comma between letters apart), without encoding the caption or building the 77-id
  chunks. Transform specs are resolved once per batch, not once per row. Caches are bounded (two
  generations: what is still used survives a turn).
* **Bad rows stay rows.** ``None`` gives ``None``; a row that fails (not a string, a conversion error
  under ``errors="raise"``) gives a :class:`RowError` with the message the per-call API raised, and the
  other rows carry on.
* **Data, not closures.** A ``Batch`` holds its operation name and normalised options only, so the
  standard :mod:`pickle` ships it to worker processes, Dask workers and Hugging Face ``datasets``, and two
  equal batches pickle to the same bytes (``datasets`` fingerprints them for its cache). Caches and
  compiled transforms are rebuilt lazily in each process.
* **Many cores.** :meth:`Batch.map` with ``jobs=N`` runs chunks of rows in ``N`` processes (forked
  workers read them from the caller's list; see :mod:`naiprompt._batch_pool`). Each process keeps one
  batch per operation (unpickling an equal batch gives it back), so its caches stay warm from one chunk,
  Dask task or ``datasets`` shard to the next; ``count_tokens`` workers also pass on the piece sizes
  they work out.

Operations (see :data:`OPERATIONS` for the options of each):

============== ================================================================= ====================
op             result per row (the per-call equivalent)                          pyarrow type
============== ================================================================= ====================
convert        ``naiprompt.convert(row, read, write, errors=, decimals=)``        string
attention      ``naiprompt.attention(row, dialect)``                              list<struct>
count_tokens   ``naiprompt.count_tokens(row, dialect, ...)`` as a                string ("63/75")
               :class:`TokenCounter` (equal to both its ``str`` and the object)
budget         ``naiprompt.budget(row, limit, dialect, ...).over`` (0 when fits)  int64
apply          ``naiprompt.render(naiprompt.apply(row, *transforms, dialect=),    string
               write or dialect)``
tags           ``naiprompt.transforms.tags.tags(row, dialect)``                   list<string>
detect         ``naiprompt.detect(row)``                                         string
============== ================================================================= ====================

Example:
    >>> import pickle
    >>> from naiprompt.batch import Batch, RowError
    >>> to_webui = Batch("convert", read="nai", write="webui")
    >>> to_webui(["{masterpiece}, 1girl", None, "[blurry]"])
    ['(masterpiece:1.05), 1girl', None, '(blurry:0.9524)']
    >>> pickle.loads(pickle.dumps(to_webui)) == to_webui
    True
    >>> Batch("count_tokens")(["1girl, solo", 42])
    ['4/75', RowError(message='expected a string, not int', kind='TypeError')]
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from naiprompt import _batch_pool, defaults

if TYPE_CHECKING:
    from naiprompt.tokens.api import TokenCount

__all__ = ["OPERATIONS", "Batch", "ColumnFunction", "RowError", "TokenCounter"]

#: Rows per chunk sent to a worker process (large: one pickled message per chunk, not per row).
DEFAULT_CHUNK_SIZE = 5_000

#: Distinct fragments (tags, runs) remembered per cache before it starts over: bounds memory on endless input.
CACHE_LIMIT = 200_000

V = TypeVar("V")

#: Distinct whole rows remembered (rows are long: fewer of them, so memory stays flat).
ROW_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class RowError:
    """The result of a row that failed: the exception's message and its type name.

    Example:
        >>> Batch("convert", read="webui", write="nai", errors="raise")(["[a:b:5]"])[0].kind
        'ConversionError'
    """

    message: str
    kind: str = "Error"


class TokenCounter(str):
    """WebUI's counter text (``"63/75"``) carrying the :class:`~naiprompt.tokens.TokenCount` it came from.

    It is a ``str`` (so it prints, compares, and goes into a string column as ``"63/75"``) and it also
    compares equal to the ``TokenCount`` that :func:`naiprompt.count_tokens` returns for the row;
    ``count``, ``target`` and ``text`` are that object's fields (``count`` shadows ``str.count``).

    Example:
        >>> import naiprompt
        >>> counter = Batch("count_tokens")(["1girl, solo"])[0]
        >>> counter == "4/75", counter == naiprompt.count_tokens("1girl, solo"), counter.count
        (True, True, 4)
    """

    # Slots, not a __dict__ per counter: a batch makes one per row, and -j's parent makes them all.
    __slots__ = ("count", "target", "text")

    count: int  # type: ignore[assignment]  # the TokenCount field, not str.count
    target: int
    text: str

    def __new__(cls, count: int, target: int, text: str) -> TokenCounter:
        self = super().__new__(cls, f"{count}/{target}")
        self.count = count
        self.target = target
        self.text = text
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (TokenCounter, (self.count, self.target, self.text))

    def __eq__(self, other: object) -> bool:
        from naiprompt.tokens.api import TokenCount

        if isinstance(other, TokenCount):
            return (self.count, self.target, self.text) == (other.count, other.target, other.text)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    @property
    def token_count(self) -> TokenCount:
        """The :class:`~naiprompt.tokens.TokenCount` object itself.

        Example:
            >>> Batch("count_tokens")(["a BREAK b"])[0].token_count
            TokenCount(count=76, target=150, text='a BREAK b')
        """
        from naiprompt.tokens.api import TokenCount

        return TokenCount(count=self.count, target=self.target, text=self.text)


# --------------------------------------------------------------------------------------------------
# Options: every operation declares its options with defaults and a normaliser, so that equal batches
# hold equal (and identically pickled) option tuples.


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, not {type(value).__name__}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected True or False, not {value!r}")
    return value


def _plain(value: Any) -> Any:
    """Plain data with a canonical form: lists become tuples, mappings sorted tuples of pairs."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    if isinstance(value, Mapping):
        return tuple(sorted((_str(key), _plain(item)) for key, item in value.items()))
    raise TypeError(f"{value!r} is not plain data (str, number, bool, None, list, dict)")


def _transforms(value: Any) -> tuple[Any, ...]:
    """Transform specs: ``"name:opt=value"`` strings or ``(name, {option: value})`` pairs."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError("transforms must be a list of specs")
    specs: list[Any] = []
    for spec in value:
        if isinstance(spec, str):
            specs.append(spec)
        elif isinstance(spec, (list, tuple)) and len(spec) == 2 and isinstance(spec[0], str):
            options = spec[1]
            if isinstance(options, (list, tuple)):  # the normalised form: pairs
                options = dict(options)
            if not isinstance(options, Mapping):
                raise TypeError(f"transform spec {spec!r}: the options must be a mapping")
            specs.append((spec[0], _plain(options)))
        else:
            raise TypeError(
                f"transform {spec!r} is not a spec; give 'name:opt=value' or (name, {{options}}) so that "
                "the batch pickles (register a factory for custom transforms)"
            )
    return tuple(specs)


_COUNT_OPTIONS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "dialect": (defaults.DIALECT, _str),
    "steps": (20, _int),
    "negative": (False, _bool),
    "comma_backtrack": (20, _int),
    "emphasis": ("original", _str),
    "tokenizer": (None, _opt_str),  # None: the dialect's own, as the per-call API
}

#: Every operation's options: ``{op: {option: (default, normaliser)}}``.
OPERATIONS: dict[str, dict[str, tuple[Any, Callable[[Any], Any]]]] = {
    "convert": {
        "read": (defaults.DIALECT, _str),
        "write": (defaults.DIALECT, _str),
        "errors": ("warn", _str),
        "decimals": (4, _int),
    },
    "attention": {"dialect": (defaults.DIALECT, _str)},
    "count_tokens": dict(_COUNT_OPTIONS),
    "budget": {"limit": (75, _int), **_COUNT_OPTIONS},
    "apply": {"transforms": ((), _transforms), "dialect": (defaults.DIALECT, _str), "write": (None, _opt_str)},
    "tags": {"dialect": (defaults.DIALECT, _str)},
    "detect": {},
}


def _normalise(op: str, options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    declared = OPERATIONS.get(op)
    if declared is None:
        raise ValueError(f"unknown batch operation {op!r}; choose one of {', '.join(OPERATIONS)}")
    unknown = sorted(set(options) - set(declared))
    if unknown:
        raise TypeError(f"Batch({op!r}) takes no option {unknown[0]!r}; its options: {', '.join(declared) or 'none'}")
    normalised: list[tuple[str, Any]] = []
    for name in sorted(declared):
        default, check = declared[name]
        value = options.get(name, default)
        try:
            normalised.append((name, check(value) if value is not default else value))
        except TypeError as exc:
            raise TypeError(f"Batch({op!r}) option {name!r}: {exc}") from exc
    return tuple(normalised)


# --------------------------------------------------------------------------------------------------
# Row functions. Each builder takes the options and returns ``str -> result``; Batch wraps it with the
# None/RowError handling and the repeated-row cache.

RowFunction = Callable[[str], Any]


class _Pieces(Generic[V]):
    """Converted pieces in two generations: bounded memory that keeps the pieces still in use.

    When the young generation holds ``limit`` pieces it becomes the old one (the previous old one is
    dropped); a piece found in the old generation moves back to the young one. Frequent tags survive
    every turn, rare ones go, and at most ``2 * limit`` pieces are held.
    """

    __slots__ = ("limit", "old", "young")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.young: dict[str, V] = {}
        self.old: dict[str, V] = {}

    def __contains__(self, piece: str) -> bool:
        return piece in self.young or piece in self.old

    def get(self, piece: str) -> V | None:
        done = self.young.get(piece)
        if done is None and self.old:
            done = self.old.get(piece)
            if done is not None:
                self[piece] = done
        return done

    def __setitem__(self, piece: str, done: V) -> None:
        if len(self.young) >= self.limit:
            self.old, self.young = self.young, {}
        self.young[piece] = done

    def update(self, pairs: Iterable[tuple[str, V]]) -> None:
        for piece, done in pairs:
            self[piece] = done

    def __len__(self) -> int:
        return len(self.young) + len(self.old)


def _convert_function(read: str, write: str, errors: str, decimals: int) -> RowFunction:
    from naiprompt.api import convert
    from naiprompt.dialects import get_dialect

    get_dialect(read), get_dialect(write)  # unknown names fail when the batch is made

    def whole(text: str) -> str:
        return convert(text, read, write, errors=errors, decimals=decimals)

    if not (_comma_fragments(read) and _comma_fragments(write)):
        return whole
    # One cache per position: a piece converts with the context it has in the caption. Every piece in
    # them is a piece that fragments() cut out of a safe caption: balanced brackets, nothing unsafe.
    firsts: _Pieces[str] = _Pieces(CACHE_LIMIT // 4)
    middles: _Pieces[str] = _Pieces(CACHE_LIMIT // 2)
    lasts: _Pieces[str] = _Pieces(CACHE_LIMIT // 4)
    # Whether a caption with brackets and a colon anywhere is read as a whole (WebUI's prompt editing).
    colon_brackets_whole = fragments("[a],b:", read) is None
    # Plain text (letters, digits, spaces, punctuation no dialect here reads) converts to itself; checked
    # once on a piece holding every such character, so a dialect that starts reading one turns this off.
    probe = "," + _PLAIN_PROBE + ","
    plain_is_plain = whole(probe) == probe

    def fresh(piece: str, cache: _Pieces[str]) -> str:
        # Commas around a piece keep it from being the start or the end of a prompt where it is neither
        # (printers treat both ends specially: a trailing ":3" would read as a subprompt weight).
        before = cache is not firsts
        after = cache is not lasts
        done = whole(("," if before else "") + piece + ("," if after else ""))
        if (before and not done.startswith(",")) or (after and not done.endswith(",")):
            raise ValueError("the piece does not convert on its own")  # the row falls back to the whole
        cache[piece] = done = done[1 if before else 0 : -1 if after else None]
        return done

    def row(text: str) -> str:
        # The common case first: every comma piece already converted as a middle piece. Those pieces are
        # balanced and safe, so fragments() would cut the caption at exactly these commas.
        parts = text.split(",")
        if len(parts) > 1 and ":" not in parts[-1] and not (colon_brackets_whole and ":" in text and "[" in text):
            out = list(map(middles.young.get, parts))
            if None in out and middles.old:  # the pieces that went to the old generation
                out = [done if done is not None else middles.get(part) for done, part in zip(out, parts, strict=True)]
            if None not in out:
                return ",".join(out)  # type: ignore[arg-type]  # no None in it
        return cut(text)

    def cut(text: str) -> str:
        """The caption cut where fragments() says, each piece from its cache or converted in place."""
        parts = fragments(text, read)
        if parts is None or len(parts) < 2:
            return whole(text)
        out = list(map(middles.get, parts))
        if None in out or ":" in parts[-1]:
            try:
                _fill(parts, out)
            except Exception:
                return whole(text)  # the per-call result or error, with positions in the whole caption
        return ",".join(out)  # type: ignore[arg-type]  # no None is left

    def _fill(parts: list[str], out: list[str | None]) -> None:
        """The pieces no cache answered, each converted in its own position."""
        last = len(parts) - 1
        for index, part in enumerate(parts):
            if out[index] is not None and (index < last or ":" not in part):
                continue
            if index == 0:
                # A first piece reads and prints as it does between commas (nothing in these dialects
                # looks at the start of a prompt), so a middle result serves it; else its own.
                done = firsts.get(part)
                out[index] = fresh(part, firsts) if done is None else done
            elif index == last:
                # The end of a prompt is special only through WebUI's subprompt weight (a trailing ":3").
                done = lasts.get(part)
                out[index] = fresh(part, lasts) if done is None else done
            else:
                out[index] = fresh(part, middles)

    def learn(splits: Sequence[tuple[str, list[str]]]) -> None:
        """Convert the new middle pieces of many rows together: one parse for a hundred pieces."""
        seen: set[str] = set()
        for text, parts in splits:
            if len(parts) > 1 and not (colon_brackets_whole and ":" in text and "[" in text):
                seen.update(parts)
        new = seen.difference(middles.young, middles.old)
        # Only whole pieces may be cached; a caption holding a part of a piece ("{a" of "{a, b}") is cut
        # by fragments(), whose pieces are whole.
        broken = {piece for piece in new if not _whole_piece(piece)}
        todo = new - broken
        if broken:
            for text, parts in splits:
                if len(parts) > 1 and not broken.isdisjoint(parts):
                    todo.update(piece for piece in fragments(text, read) or () if piece not in middles)
        if plain_is_plain:  # most tags: no conversion needed, and none is done
            plain = {piece for piece in todo if _PLAIN.fullmatch(piece)}
            middles.update((piece, piece) for piece in plain)
            todo -= plain
            todo = fill_shapes(todo)
        # A piece that warns makes its whole group go round again in halves: leave the pieces known to
        # warn ({1girl:1.2} slips in NovelAI syntax) to the per-piece path from the start.
        slips = getattr(get_dialect(read), "slips", None)  # Dialect.slips: [] where nothing slips
        if slips is not None:
            pieces = [piece for piece in todo if "{" not in piece or ":" not in piece or not slips(piece)]
        else:
            pieces = list(todo)
        # The same groups in every run; pieces with a colon (weights, or slips that warn) in groups of
        # their own, so that the halving a warning costs stays there.
        pieces.sort(key=lambda piece: (":" in piece, piece))
        together(pieces)

    def together(pieces: list[str]) -> None:
        for start in range(0, len(pieces), _BULK):
            _convert_together(pieces[start : start + _BULK], whole, middles)

    def fill_shapes(todo: set[str]) -> set[str]:
        """Fill the pieces that differ only in their plain text ("{long hair}", "{smile}") from one shape.

        A shape is a piece with each run of plain text (letters, digits, ``_`` at both ends) replaced by
        a placeholder of the same kind at its ends. It is converted twice, with two placeholders of
        different letters, lengths and spaces; where both give the same text around the placeholders
        (conversion carries plain text over as it is), every piece of that shape is that text around
        its own runs. Other pieces are returned, to be converted.
        """
        shapes: dict[str, list[tuple[str, list[str]]]] = {}
        for piece in todo:
            if ":" not in piece and "\0" not in piece:  # colons are weights, slips, editing: converted
                runs: list[str] = []
                shape = _RUN.sub(functools.partial(_placeholder, runs=runs), piece)
                if 0 < len(runs) <= len(_PLACEHOLDER_LETTERS):
                    shapes.setdefault(shape, []).append((piece, runs))
        if not shapes:
            return todo
        spelled = {shape: (_spell(shape, 0), _spell(shape, 1)) for shape in shapes}
        together(sorted({text for pair in spelled.values() for text in pair} - middles.young.keys()))
        rest = set(todo)
        for shape, found in shapes.items():
            first, second = (middles.get(text) for text in spelled[shape])
            if first is None or second is None:
                continue
            around = _around(first, shape, 0)
            if around is None or around != _around(second, shape, 1):
                continue
            for piece, runs in found:
                middles[piece] = "".join(
                    itertools.chain.from_iterable(itertools.zip_longest(around, runs, fillvalue=""))
                )
                rest.discard(piece)
        return rest

    def many(texts: Sequence[str]) -> list[Any]:
        """``row`` over many rows (results, or :class:`RowError`), the new pieces converted together first."""
        results: list[Any] = []
        for start in range(0, len(texts), _SPLIT_ROWS):  # the split rows of a slice at a time: flat memory
            splits = [(text, text.split(",")) for text in texts[start : start + _SPLIT_ROWS]]
            learn(splits)
            young, old = middles.young.get, middles.get
            for text, parts in splits:
                if (
                    len(parts) > 1
                    and ":" not in parts[-1]
                    and not (colon_brackets_whole and ":" in text and "[" in text)
                ):
                    out = list(map(young, parts))
                    if None in out and middles.old:  # the pieces that went to the old generation
                        out = [done if done is not None else old(part) for done, part in zip(out, parts, strict=True)]
                    if None not in out:
                        results.append(",".join(out))  # type: ignore[arg-type]  # no None in it
                        continue
                try:
                    results.append(cut(text))
                except Exception as exc:  # one bad caption never ends the batch
                    results.append(RowError(str(exc), type(exc).__name__))
        return results

    row.many = many  # type: ignore[attr-defined]
    return row


#: Text that reads and prints as itself in every fragment dialect (no brackets, colons, escapes, pipes...).
_PLAIN = re.compile(r"[A-Za-z0-9 _'.!?/+&*;~=#@%^-]*")
_PLAIN_PROBE = " Az09_'.!?/+&*;~=#@%^- "

#: A run of plain text in a piece: plain characters, a letter, digit or underscore at both ends.
_RUN = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_ '.!?/+&*;~=#@%^-]*[A-Za-z0-9_])?")
_PLACEHOLDER_LETTERS = "abcdefghijklmnop"


def _placeholder(match: re.Match[str], runs: list[str], wordy: bool = False) -> str:
    """A shape's mark for a run: its number and whether it starts and ends with a digit.

    ``wordy``: only a run with a letter is marked (a number stays in the shape: it may be a weight).
    """
    run = match.group()
    if wordy and not _LETTER.search(run):
        return run
    runs.append(run)
    return f"\0{len(runs) - 1:x}{'d' if run[0].isdigit() else 'w'}{'d' if run[-1].isdigit() else 'w'}\0"


_MARK = re.compile(r"\0([0-9a-f])([dw])([dw])\0")


def _spell(shape: str, which: int) -> str:
    """``shape`` with its marks spelled as placeholders (two sets: letters, lengths and spaces differ)."""

    def spell(match: re.Match[str]) -> str:
        letter = _PLACEHOLDER_LETTERS[int(match.group(1), 16)]
        body = f"q{letter}z" if which == 0 else f"k{letter}v jx"
        digit = "0" if which == 0 else "7"
        return (digit if match.group(2) == "d" else "") + body + (digit if match.group(3) == "d" else "")

    return _MARK.sub(spell, shape)


def _around(done: str, shape: str, which: int) -> list[str] | None:
    """The text of converted ``done`` around its placeholders (each once, in order), or None."""
    placeholders = [_spell(match.group(), which) for match in _MARK.finditer(shape)]
    around: list[str] = []
    start = 0
    for placeholder in placeholders:
        if done.count(placeholder) != 1:
            return None
        at = done.find(placeholder, start)
        if at < 0:
            return None
        around.append(done[start:at])
        start = at + len(placeholder)
    around.append(done[start:])
    return around


_LETTER = re.compile(r"[A-Za-z]")
#: Shapes remembered by ``count_tokens`` (a few hundred in real captions).
_SHAPE_LIMIT = 10_000


def _run_template(shape: str, read: Callable[[str], list[tuple[str, float]]]) -> tuple[list[str], list[float]] | None:
    """The runs of ``shape`` as the text around its placeholders and the runs' weights, or None.

    The shape is read with both sets of placeholders; the template holds only where both give the same
    weights and the same text around the placeholders (the runs joined by NUL, which no piece holds).
    """
    first, second = read(_spell(shape, 0)), read(_spell(shape, 1))
    weights = [weight for _, weight in first]
    if weights != [weight for _, weight in second] or any(math.isnan(weight) for weight in weights):
        return None
    around = _around("\0".join(text for text, _ in first), shape, 0)
    if around is None or around != _around("\0".join(text for text, _ in second), shape, 1):
        return None
    return around, weights


#: Middle pieces converted together in one call (see :func:`_convert_together`).
_BULK = 100
#: Rows split at a time by ``convert``'s ``many`` (their pieces are held until the rows are joined).
_SPLIT_ROWS = 10_000
_SEPARATOR = ",§,"  # a short plain tag: a piece whose output holds it fails the split and is left alone


def _convert_together(pieces: list[str], whole: Callable[[str], str], cache: _Pieces[str]) -> None:
    """Convert ``pieces`` (middle pieces: a comma on each side) as one prompt and split the result.

    Each piece sits between commas there, as in its caption, with a plain tag between neighbours. A group
    that raises or warns is halved and tried again; single pieces that still do are left to the per-piece
    path, so errors and warnings come from there as before. A piece whose output holds the separator
    makes the split fail, and the group is left alone too.
    """
    import warnings

    groups = [pieces]
    while groups:
        group = groups.pop()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                done = whole("," + _SEPARATOR.join(group) + ",")
            except Exception:
                caught.append(None)  # type: ignore[arg-type]  # treated as a warning: halve the group
                done = ""
        if caught:
            if len(group) > 1:
                groups += [group[: len(group) // 2], group[len(group) // 2 :]]
            continue
        if not (done.startswith(",") and done.endswith(",")):
            continue
        results = done[1:-1].split(_SEPARATOR)
        if len(results) != len(group):
            continue
        cache.update(zip(group, results, strict=True))


def _comma_fragments(dialect: str) -> bool:
    """Whether ``dialect`` converts tag by tag exactly as whole (``Dialect.comma_fragments``; tests compare rows)."""
    from naiprompt.dialects import get_dialect

    return bool(getattr(get_dialect(dialect), "comma_fragments", False))


def _edits(dialect: str) -> bool:
    """Whether ``dialect`` reads prompt editing (``Notation.EDITING``)."""
    from naiprompt.dialects import Notation, get_dialect

    return Notation.EDITING in getattr(get_dialect(dialect), "notations", frozenset())


_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_UNSAFE = re.compile(r"[\\<>|\n\r]|::|AND|BREAK")
_BRACKET = re.compile(r"[()\[\]{}]")


def fragments(text: str, dialect: str) -> list[str] | None:
    """``text`` cut at its top-level commas (``",".join`` gives it back), or ``None`` when that is unsafe.

    Safe means each piece converts on its own exactly as it does inside the whole: every piece has
    balanced, nested brackets, and nothing reaches across a comma or changes how the whole is read
    (escapes, extra networks, alternation, ``::`` weights, AND, BREAK, newlines; in ``webui``, brackets
    together with a colon, which may be prompt editing: all or nothing for the whole prompt).

    Example:
        >>> fragments("{a, b}, c", "nai")
        ['{a, b}', ' c']
        >>> fragments("(a, c", "webui") is None
        True
    """
    if "," not in text or _UNSAFE.search(text) is not None:
        return None
    if _BRACKET.search(text) is None:
        return text.split(",")
    if ":" in text and "[" in text and _edits(dialect):
        return None
    # Fast path: brackets balanced and no outermost pair holding a comma: every comma is a cut.
    pairs: list[tuple[str, int]] = []
    crossing = False
    for match in _BRACKET.finditer(text):  # the few brackets only
        char = match.group()
        if char in _CLOSERS:
            pairs.append((_CLOSERS[char], match.start()))
        else:
            if not pairs:
                return None
            closer, at = pairs.pop()
            if closer != char:
                return None
            if not pairs and not crossing:
                crossing = text.find(",", at, match.start()) != -1
    if pairs:
        return None
    if not crossing:
        return text.split(",")
    stack: list[str] = []
    cuts: list[int] = []
    for match in _SYNTAX.finditer(text):  # one pass over the brackets and commas only
        char = match.group()
        if char == ",":
            if not stack:
                cuts.append(match.start())
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif not stack or stack.pop() != char:
            return None
    if stack:
        return None
    pieces: list[str] = []
    start = 0
    for at in cuts:
        pieces.append(text[start:at])
        start = at + 1
    pieces.append(text[start:])
    return pieces


_SYNTAX = re.compile(r"[()\[\]{},]")


def _whole_piece(piece: str) -> bool:
    """Whether ``piece`` is safe and its brackets balanced, so that it is cut out whole wherever it sits."""
    if _UNSAFE.search(piece) is not None:
        return False
    stack: list[str] = []
    for match in _BRACKET.finditer(piece):
        char = match.group()
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif not stack or stack.pop() != char:
            return False
    return not stack


def _attention_function(dialect: str) -> RowFunction:
    from naiprompt.api import attention
    from naiprompt.dialects import get_dialect

    get_dialect(dialect)
    return lambda text: attention(text, dialect)


def _count_function(**options: Any) -> Callable[[str], TokenCounter]:
    from naiprompt._batch_count import count_function

    return count_function(**options)


def _budget_function(limit: int, **options: Any) -> RowFunction:
    from naiprompt.tokens.api import budget

    dialect = options.pop("dialect")
    return lambda text: budget(text, limit, dialect, **options).over


def _apply_function(transforms: tuple[Any, ...], dialect: str, write: str | None) -> RowFunction:
    from naiprompt.api import render
    from naiprompt.dialects import get_dialect
    from naiprompt.transforms import apply, get_transform, resolve

    get_dialect(dialect), get_dialect(write or dialect)
    resolved = []
    for spec in transforms:
        if isinstance(spec, str):
            resolved.append(resolve(spec))
        else:
            name, options = spec
            resolved.append(get_transform(name)(**dict(options)))
    return lambda text: render(apply(text, *resolved, dialect=dialect), write or dialect)


def _tags_function(dialect: str) -> RowFunction:
    from naiprompt.dialects import get_dialect
    from naiprompt.transforms.tags import tags

    get_dialect(dialect)
    return lambda text: tags(text, dialect)


def _detect_function() -> RowFunction:
    from naiprompt.api import detect

    return detect


_BUILDERS: dict[str, Callable[..., RowFunction]] = {
    "convert": _convert_function,
    "attention": _attention_function,
    "count_tokens": _count_function,
    "budget": _budget_function,
    "apply": _apply_function,
    "tags": _tags_function,
    "detect": _detect_function,
}

#: Operations whose results are lists (copied out of the cache so callers may change them).
_LIST_RESULTS = frozenset({"attention", "tags"})


#: Batches unpickled in this process, by identity: a worker that gets the same batch with every chunk
#: (a process pool, Dask tasks) keeps one, whose caches stay warm from chunk to chunk.
_LIVE: dict[tuple[str, tuple[tuple[str, Any], ...]], Batch] = {}
_LIVE_LIMIT = 8


def _rebuild(op: str, options: tuple[tuple[str, Any], ...]) -> Batch:
    """Unpickle a :class:`Batch` (module level, so pickles name it and nothing else).

    An equal batch unpickled before in this process is returned again, caches and all: a batch is
    immutable and its caches only ever hold what its operation gives, so sharing one changes no result.
    """
    key = (op, options)
    batch = _LIVE.pop(key, None)
    if batch is None:
        batch = Batch(op, **dict(options))
        while len(_LIVE) >= _LIVE_LIMIT:
            del _LIVE[next(iter(_LIVE))]  # the least recently unpickled
    _LIVE[key] = batch
    return batch


class Batch:
    """An operation over many prompts: ``Batch(op, **options)(rows) -> results``.

    ``rows`` is a sequence of strings (``None`` allowed) or a ``pyarrow`` string array; the result is a
    list of the same length (a ``pyarrow`` array for ``pyarrow`` input, failed rows as nulls there). Options
    not given take their defaults, so ``Batch("convert", read="nai")`` equals
    ``Batch("convert", read="nai", write="webui")``. Unknown operations and options fail at once.

    Example:
        >>> from naiprompt.batch import Batch
        >>> Batch("apply", transforms=["underscores", "dedupe"])(["long_hair, long hair, smile"])
        ['long hair, smile']
        >>> Batch("tags", dialect="nai")(["{a, b}, c"])
        [['{a, b}', 'c']]
        >>> Batch("convert", read="nai") == Batch("convert", read="nai", write="webui", errors="warn")
        True
    """

    __slots__ = ("_cache", "_function", "op", "options")

    op: str
    options: tuple[tuple[str, Any], ...]
    _function: RowFunction | None
    _cache: dict[str, Any]

    def __init__(self, op: str, **options: Any) -> None:
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "options", _normalise(op, options))
        object.__setattr__(self, "_function", None)
        object.__setattr__(self, "_cache", {})
        self._row_function()  # fail now on a bad dialect, transform or option value, not on every row

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Batch is immutable")

    # -- identity: data only ---------------------------------------------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.op, self.options))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Batch):
            return NotImplemented
        return (self.op, self.options) == (other.op, other.options)

    def __hash__(self) -> int:
        return hash((self.op, self.options))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.options)
        return f"Batch({self.op!r}{', ' if shown else ''}{shown})"

    # -- running ---------------------------------------------------------------------------------
    def _row_function(self) -> RowFunction:
        function = self._function
        if function is None:
            function = _BUILDERS[self.op](**dict(self.options))
            object.__setattr__(self, "_function", function)
        return function

    def row(self, row: object) -> Any:
        """The result of one row: the operation's value, ``None`` for ``None``, or a :class:`RowError`.

        Example:
            >>> Batch("detect").row("{a}"), Batch("detect").row(3.5)
            ('nai', RowError(message='expected a string, not float', kind='TypeError'))
        """
        if row is None or isinstance(row, RowError):  # a reader's error (bad JSON line) stays as it is
            return row
        if not isinstance(row, str):
            return RowError(f"expected a string, not {type(row).__name__}", "TypeError")
        cache: dict[str, Any] = self._cache
        result = cache.get(row, cache)
        if result is cache:
            try:
                result = self._row_function()(row)
            except Exception as exc:  # one bad caption never ends the batch
                result = RowError(str(exc), type(exc).__name__)
            if len(cache) >= ROW_CACHE_LIMIT:
                cache.clear()
            cache[row] = result
        return list(result) if self.op in _LIST_RESULTS and isinstance(result, list) else result

    def __call__(self, rows: Any) -> Any:
        """Run over ``rows``: a list in, a list out; a ``pyarrow`` array in, a ``pyarrow`` array out."""
        if _is_arrow(rows):
            return self._arrow(rows)
        return self._rows(list(rows))

    def _rows(self, rows: list[Any]) -> list[Any]:
        """Every row's result; an operation that shares work across rows gets the new ones together."""
        many = getattr(self._row_function(), "many", None)
        if many is not None:
            cache = self._cache
            new = [row for row in dict.fromkeys(row for row in rows if isinstance(row, str)) if row not in cache]
            if new:
                if len(cache) + len(new) > ROW_CACHE_LIMIT:
                    cache.clear()  # (a chunk larger than the limit stays whole until the next chunk)
                cache.update(zip(new, many(new), strict=True))
        return [self.row(row) for row in rows]

    def map(self, rows: Iterable[Any], *, jobs: int | None = 1, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Any]:
        """Run over ``rows`` in ``jobs`` processes (``None``: every core); results in input order.

        Rows go to the workers in chunks of at most ``chunk_size``, each worker with its own caches (and, for
        ``count_tokens``, what the others learned). Where processes fork, the workers read the chunks
        from the caller's rows instead of having them sent.

        Example:
            >>> Batch("detect").map(["{a}", "(a:1.2)"], jobs=1)
            ['nai', 'webui']
        """
        workers = _workers(jobs)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if workers == 1:
            chunks: Iterable[list[Any]] = map(self, _batch_pool.chunked(rows, chunk_size))
        else:
            listed = rows if isinstance(rows, list) else list(rows)
            chunks = _batch_pool.map_rows(self, listed, workers, chunk_size)
        results: list[Any] = []
        for chunk in chunks:
            results.extend(chunk)
        return results

    def imap(self, chunks: Iterable[Sequence[Any]], *, jobs: int | None = 1) -> Iterator[list[Any]]:
        """Results of each chunk of rows, in order, computed in ``jobs`` processes.

        At most two chunks per process are in flight, so a stream of any length runs in bounded memory.

        Example:
            >>> list(Batch("detect").imap([["{a}"], ["a"]]))
            [['nai'], ['webui']]
        """
        workers = _workers(jobs)
        if workers == 1:
            for chunk in chunks:
                yield self(list(chunk))
            return
        yield from _batch_pool.imap_chunks(self, chunks, workers)

    def on_column(self, column: str, output: str | None = None, *, error_column: str | None = None) -> ColumnFunction:
        """A picklable function for ``datasets.Dataset.map(..., batched=True)``: column in, column out.

        Example:
            >>> fn = Batch("convert", read="nai").on_column("text", "webui")
            >>> fn({"text": ["{a}", None]})
            {'webui': ['(a:1.05)', None]}
        """
        return ColumnFunction(self, column, output or column, error_column)

    # -- pyarrow ---------------------------------------------------------------------------------
    def arrow_type(self) -> Any:
        """The ``pyarrow`` type of this operation's results.

        Example:
            >>> str(Batch("tags").arrow_type())
            'list<item: string>'
        """
        import pyarrow as pa

        if self.op == "attention":
            return pa.list_(pa.struct([("text", pa.string()), ("weight", pa.float64())]))
        if self.op == "tags":
            return pa.list_(pa.string())
        if self.op == "budget":
            return pa.int64()
        return pa.string()

    def to_arrow(self, results: Sequence[Any]) -> Any:
        """Results as a ``pyarrow`` array (``RowError`` rows become nulls).

        Example:
            >>> Batch("tags").to_arrow([["a"], None]).to_pylist()
            [['a'], None]
        """
        import pyarrow as pa

        values: list[Any] = []
        for result in results:
            if result is None or isinstance(result, RowError):
                values.append(None)
            elif self.op == "attention":
                values.append([{"text": text, "weight": weight} for text, weight in result])
            elif isinstance(result, str):
                values.append(str(result))
            else:
                values.append(result)
        return pa.array(values, type=self.arrow_type())

    def _arrow(self, array: Any) -> Any:
        import pyarrow as pa

        if isinstance(array, pa.ChunkedArray):
            return pa.chunked_array([self._arrow(chunk) for chunk in array.chunks], type=self.arrow_type())
        return self.to_arrow(self._rows(array.to_pylist()))


def _is_arrow(rows: Any) -> bool:
    module = type(rows).__module__
    return module.startswith("pyarrow") and "pyarrow" in sys.modules


def _workers(jobs: int | None) -> int:
    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise ValueError(f"jobs must be at least 1, got {workers}")
    return workers


def default_jobs() -> int:
    """The number of cores this process may use (the default of ``jobs=None``).

    Example:
        >>> default_jobs() >= 1
        True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ColumnFunction:
    """``examples -> {output: results}`` for ``datasets.Dataset.map(batched=True)``; pickles as data.

    Failed rows give ``None`` in ``output`` and, with ``error_column``, their message there.

    Example:
        >>> fn = ColumnFunction(Batch("detect"), "text", "dialect", "error")
        >>> fn({"text": ["{a}", 1]})
        {'dialect': ['nai', None], 'error': [None, 'expected a string, not int']}
    """

    batch: Batch
    column: str
    output: str
    error_column: str | None = None

    def __call__(self, examples: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        results = self.batch(list(examples[self.column]))
        values = [None if isinstance(result, RowError) else _plain_result(result) for result in results]
        out: dict[str, list[Any]] = {self.output: values}
        if self.error_column is not None:
            out[self.error_column] = [result.message if isinstance(result, RowError) else None for result in results]
        return out


def _plain_result(result: Any) -> Any:
    """Results as plain Python data for table libraries (a TokenCounter becomes its string)."""
    if isinstance(result, str):
        return str(result)
    if isinstance(result, list) and result and isinstance(result[0], tuple):
        return [{"text": text, "weight": weight} for text, weight in result]
    return result
