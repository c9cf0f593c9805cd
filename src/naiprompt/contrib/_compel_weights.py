"""compel's flat fragments: what ``PromptParser.flatten`` makes of a reading.

compel multiplies weights from the outside in, turns every word into a
``Fragment`` (whose constructor turns ``\\(``, ``\\)`` and ``\\"`` into the bare
characters, and is called again each time a fragment is copied or fused), and
fuses neighbours of equal weight with one space. The dialect's ``attention()``
then drops empty fragments and fuses once more.

Example:
    >>> from naiprompt.contrib._compel_reader import read
    >>> runs(read("a b+ c"))
    [('a', 1.0), ('b', 1.1), ('c', 1.0)]
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from naiprompt.contrib._compel_reader import Att, Blank, Group, Item, Lora, Multi, Reader, Reading, Swap, Word


def unescape_once(text: str) -> str:
    """compel's ``Fragment`` constructor: ``\\(``, ``\\)``, ``\\"`` become the bare characters.

    Example:
        >>> unescape_once(r"a \\(b\\) \\\\(c")
        'a (b) \\\\(c'
    """
    if '\\"' in text or "\\(" in text or "\\)" in text:
        return text.replace("\\(", "(").replace("\\)", ")").replace('\\"', '"')
    return text


def _unescape(text: str, times: int) -> str:
    for _ in range(times):
        changed = unescape_once(text)
        if changed == text:
            break  # nothing left to turn: further calls change nothing
        text = changed
    return text


@attrs.define
class _Fragment:
    text: str
    weight: float


@attrs.define
class _Swapped:
    original: list[_Fragment]
    edited: list[_Fragment]


def _words(item: Item, reader: Reader, scale: float, out: list[_Fragment | _Swapped]) -> None:
    """Append the fragments of ``item`` (read by ``reader``) at ``scale``, without recursion."""
    stack: list[tuple[Iterator[Item], Reader, float, list[_Fragment | _Swapped]]] = []
    pending: list[tuple[Item, Reader, float, list[_Fragment | _Swapped]]] = [(item, reader, scale, out)]
    while pending or stack:
        if pending:
            node, source, weight, sink = pending.pop()
        else:
            iterator, source, weight, sink = stack[-1]
            following = next(iterator, None)
            if following is None:
                stack.pop()
                continue
            node = following
        if isinstance(node, Word):
            # created (one unescape) and copied by flatten (a second one)
            sink.append(_Fragment(_unescape(source.text[node.start : node.end], 2), 1.0 * weight))
        elif isinstance(node, Blank):
            sink.append(_Fragment("", 1.0 * weight))
        elif isinstance(node, Group):
            stack.append((iter(node.items), node.reader or source, weight, sink))
        elif isinstance(node, Att):
            pending.append((node.target, source, weight * node.weight, sink))
        elif isinstance(node, Swap):
            swapped = _Swapped([], [])
            sink.append(swapped)
            stack.append((iter(node.replacement), source, weight, swapped.edited))  # type: ignore[arg-type]
            pending.append((node.target, source, weight, swapped.original))  # type: ignore[arg-type]
        # Lora: no text; Multi never nests


def fuse(fragments: list[_Fragment | _Swapped]) -> list[_Fragment | _Swapped]:
    """compel's ``fuse_fragments``: equal-weight neighbours joined with one space.

    Each fuse builds a new ``Fragment`` from the joined text, unescaping it once
    more; the join's space keeps that from reaching across pieces.
    """
    out: list[_Fragment | _Swapped] = []
    runs: list[list[str]] = []  # the pieces of each fused fragment in ``out``
    for item in fragments:
        if isinstance(item, _Swapped):
            out.append(_Swapped(_fused(item.original), _fused(item.edited)))
            runs.append([])
            continue
        last = out[-1] if out else None
        if isinstance(last, _Fragment) and last.weight == item.weight:
            runs[-1].append(item.text)
        else:
            out.append(_Fragment(item.text, item.weight))
            runs.append([item.text])
    for index, pieces in enumerate(runs):
        if len(pieces) > 1:
            # piece 0 and piece 1 are unescaped by every fuse; piece k (k >= 1) by all from the k-th on
            merges = len(pieces) - 1
            texts = [_unescape(pieces[0], merges)]
            texts.extend(_unescape(piece, merges - k + 1) for k, piece in enumerate(pieces[1:], 1))
            fragment = out[index]
            assert isinstance(fragment, _Fragment)
            fragment.text = " ".join(texts)
    return out


def _fused(fragments: list[_Fragment]) -> list[_Fragment]:
    return [f for f in fuse(list(fragments)) if isinstance(f, _Fragment)]


def normalise(fragments: list[_Fragment | _Swapped]) -> list[tuple[str, float]]:
    """Runs as the conformance data states them: a swap reads as its original (what compel
    conditions on), empty fragments dropped, equal neighbours joined with one space."""
    runs: list[tuple[str, float]] = []
    flat: list[_Fragment] = []
    for item in fragments:
        flat.extend(item.original if isinstance(item, _Swapped) else [item])
    for fragment in flat:
        if not fragment.text:
            continue
        if runs and runs[-1][1] == fragment.weight:
            runs[-1] = (runs[-1][0] + " " + fragment.text, fragment.weight)
        else:
            runs.append((fragment.text, fragment.weight))
    return runs


def part_runs(reading: Reading) -> list[list[tuple[str, float]]]:
    """The runs of each prompt compel conditions on: one, or one per ``.and()``/``.blend()`` part.

    Example:
        >>> from naiprompt.contrib._compel_reader import read
        >>> part_runs(read('("a+", "b").and()'))
        [[('a', 1.1)], [('b', 1.0)]]
    """
    reader = Reader(reading.text, loose=True)  # only its text is used
    items: list[Item] = []
    multi: Multi | None = None
    for item in reading.items:
        if isinstance(item, Multi):
            multi = item
        elif not isinstance(item, Lora):
            items.append(item)
    if multi is not None:
        out = []
        for part in multi.parts:
            fragments: list[_Fragment | _Swapped] = []
            _words(part, reader, 1.0, fragments)
            if fragments:
                out.append(normalise(fuse(fragments)))
        return out
    fragments = []
    for item in items:
        _words(item, reader, 1.0, fragments)
    return [normalise(fuse(fragments))] if fragments else []


def runs(reading: Reading) -> list[tuple[str, float]]:
    """All runs in order, the parts of a conjunction or blend one after another.

    Example:
        >>> from naiprompt.contrib._compel_reader import read
        >>> runs(read('"a \\\\"b\\\\" c"'))
        [('a "b" c', 1.0)]
    """
    return [run for part in part_runs(reading) for run in part]
