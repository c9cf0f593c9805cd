"""Text transforms: underscores, duplicate tags, extra networks, canonical spelling.

Example:
    >>> import naiprompt
    >>> from naiprompt.transforms import apply
    >>> naiprompt.render(apply("long_hair, ^_^, (red_eyes:1.2)", "underscores"))
    'long hair, ^_^, (red eyes:1.2)'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable, Sequence

import attrs

from naiprompt.ast import (
    Break,
    Emphasis,
    Network,
    Node,
    Prompt,
    Schedule,
    SubpromptWeight,
    Text,
    Transformer,
    _kids,
    _plain,
)
from naiprompt.transforms import Transform
from naiprompt.transforms._tree import (
    bracket_weight,
    close,
    groups,
    join_items,
    level_notations,
    map_sequences,
    merge_texts,
    remove_items,
    split_items,
    with_body,
)

__all__ = ["EMOTICONS", "canonical", "dedupe", "normalize_tag", "strip_extra_networks", "underscores"]

#: Tags whose underscores are part of the picture, after the tag-autocomplete
#: extension's default exclusion list. Tags with no letter or digit are kept too.
EMOTICONS: frozenset[str] = frozenset(
    {
        "^_^", ">_<", "0_0", "o_o", "u_u", "x_x", "@_@", "=_=", "+_+", "._.", "3_3", "6_9",
        ">_o", "|_|", "||_||", "(o)_(o)", "<o>_<o>", "<|>_<|>", "+_-",
    }
)  # fmt: skip

_DIRECTIONS = ("space", "underscore")
_TAG_SPLIT = re.compile(r"([,\n]+)")
_WHITESPACE_RUN = re.compile(r"[ \t]+")


def _keep(tag: str) -> bool:
    return tag in EMOTICONS or not any(char.isalnum() for char in tag)


def _convert_piece(piece: str, to: str) -> str:
    """Convert one tag (with the whitespace around it)."""
    core = piece.strip()
    if not core or _keep(core):
        return piece
    start = piece.index(core[0])
    new = core.replace("_", " ") if to == "space" else _WHITESPACE_RUN.sub("_", core)
    return piece[:start] + new + piece[start + len(core) :]


def normalize_tag(tag: str, to: str = "space") -> str:
    """Convert one tag's underscores to spaces (or back), keeping emoticons.

    This is plain text in, plain text out: escape it for the dialect by putting
    it in a tree (:class:`~naiprompt.ast.Text`) and rendering, or use the
    :func:`underscores` transform on a parsed prompt.

    Example:
        >>> normalize_tag("ganyu_(genshin_impact)")
        'ganyu (genshin impact)'
        >>> normalize_tag("^_^"), normalize_tag("o_o"), normalize_tag(";_;")
        ('^_^', 'o_o', ';_;')
        >>> normalize_tag("long hair", to="underscore")
        'long_hair'
    """
    if to not in _DIRECTIONS:
        raise ValueError(f"to must be one of {', '.join(_DIRECTIONS)}, not {to!r}")
    return _convert_piece(tag, to)


def _convert_text(value: str, to: str) -> str:
    return "".join(
        part if index % 2 else _convert_piece(part, to) for index, part in enumerate(_TAG_SPLIT.split(value))
    )


def _literal_parens(seq: tuple[Node, ...], factor: float) -> tuple[Node, ...]:
    """WebUI: ``name_(qualifier)`` typed without escapes is a tag, not emphasis (one level is ``factor``).

    A one-level ``(...)`` glued to text ending in ``_`` whose body is plain text
    (danbooru's qualifier pattern, ``ganyu_(genshin_impact)``) becomes literal
    text again, so the printer escapes its parentheses.
    """
    out: list[Node] = []
    changed = False
    for node in seq:
        prev = out[-1] if out else None
        if (
            isinstance(node, Emphasis)
            and node.notation in (None, "paren")
            and node.opened
            and node.closed
            and close(node.weight, factor)
            and len(node.body) == 1
            and isinstance(node.body[0], Text)
            and node.body[0].value.strip()
            and "," not in node.body[0].value
            and isinstance(prev, Text)
            and prev.value.endswith("_")
            and prev.value.rstrip("_")[-1:].isalnum()
        ):
            out[-1] = Text(value=prev.value + "(" + node.body[0].value + ")")
            changed = True
            continue
        out.append(node)
    return merge_texts(out) if changed else seq


def underscores(to: str = "space", *, dialect: str | None = None) -> Transform:
    """Danbooru ``_`` to spaces (``to="space"``, the default) or back (``"underscore"``).

    Works tag by tag (tags end at commas and newlines) on every piece of text;
    extra networks (LoRA names) are left alone. Emoticon tags (:data:`EMOTICONS`,
    the tag-autocomplete convention) and tags with no letter or digit keep their
    underscores. Literal parentheses stay literal: in webui (and comfy), a tag
    typed as ``ganyu_(genshin_impact)`` is read as the danbooru tag, not as
    emphasis, and prints as ``ganyu \\(genshin impact\\)``.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("ganyu_(genshin_impact), >_<", underscores()))
        'ganyu \\\\(genshin impact\\\\), >_<'
        >>> naiprompt.render(apply("{long hair}", underscores("underscore"), dialect="nai"))
        '{long_hair}'
    """
    if to not in _DIRECTIONS:
        raise ValueError(f"to must be one of {', '.join(_DIRECTIONS)}, not {to!r}")

    class Convert(Transformer):
        def leave_Text(self, node: Text) -> Text:  # noqa: N802 - a Transformer hook
            value = _convert_text(node.value, to)
            return node if value == node.value else Text(value=value)

    def run(prompt: Prompt) -> Prompt:
        body = prompt.body
        # Where (x) is emphasis, a danbooru tag's literal parentheses must stay literal.
        name = dialect or prompt.dialect
        if to == "space" and level_notations(name)[0] == "paren":
            body = map_sequences(body, functools.partial(_literal_parens, factor=bracket_weight(name)))
        return with_body(prompt, Convert().transform_sequence(body))

    return run


class _Keys:
    """What makes two tags the same: text (whitespace-normalised) and weights.

    A key is a flat tuple; a nested sequence appears in it as a small integer
    that stands for that sequence's own key (equal keys, equal numbers), so
    keys hash and compare in constant depth. The parts of bracketed nodes are
    remembered, and nodes are keyed after the nodes inside them (dedupe runs
    innermost first), so keying a whole tree takes linear time at any depth.
    """

    def __init__(self) -> None:
        self._numbers: dict[Hashable, int] = {}
        self._parts: dict[int, tuple[Node, Hashable]] = {}  # id -> (node kept alive, part)

    def key(self, nodes: Sequence[Node]) -> Hashable:
        """The key of a tag made of ``nodes``."""
        # Post-order over the bracketed nodes not yet known, with an explicit stack.
        work: list[tuple[Node, bool]] = [(node, False) for node in nodes if _kids(node)]
        while work:
            node, ready = work.pop()
            if id(node) in self._parts:
                continue
            if ready:
                self._parts[id(node)] = (node, self._part(node))
                continue
            work.append((node, True))
            for branch in _kids(node):
                work.extend((child, False) for child in branch if _kids(child) and id(child) not in self._parts)
        return self._sequence(nodes)

    def _sequence(self, nodes: Sequence[Node]) -> Hashable:
        parts: list[Hashable] = []
        for node in merge_texts(nodes):
            if isinstance(node, Text):
                parts.append(("text", " ".join(node.value.split())))
            elif _kids(node):
                parts.append(self._parts[id(node)][1])
            else:
                parts.append(node)
        return tuple(parts)

    def _number(self, nodes: Sequence[Node]) -> int:
        return self._numbers.setdefault(self._sequence(nodes), len(self._numbers))

    def _part(self, node: Node) -> Hashable:
        # Any node with children (a plugin's too): its class, its plain fields, its parts' numbers;
        # an emphasis compares its weight up to float noise.
        numbers = tuple(self._number(seq) for seq in _kids(node))
        if isinstance(node, Emphasis):
            return (Emphasis, round(node.weight, 9), numbers)
        return (type(node), _plain(node), numbers)


def dedupe() -> Transform:
    """Drop repeated tags, keeping the first; the separator before a dropped tag goes too.

    Tags are compared by their text (whitespace-normalised, case-sensitive) and
    weights, so ``smile`` and ``(smile:1.2)`` are different tags; run
    :func:`underscores` first to unify ``long_hair`` and ``long hair``. Works in
    every bracket group and ``AND`` subprompt separately; ``BREAK`` also
    separates.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("a, b, a, (b:1.2), b", dedupe()))
        'a, b, (b:1.2)'
    """

    keys = _Keys()

    def on_sequence(seq: tuple[Node, ...]) -> tuple[Node, ...]:
        segments = split_items(seq)
        doomed: set[int] = set()
        for group in groups(segments):
            seen: set[Hashable] = set()
            for index in group:
                key = keys.key(segments[index].nodes)
                if key in seen:
                    doomed.add(index)
                seen.add(key)
        if not doomed:
            return seq
        return join_items(remove_items(segments, doomed))

    def run(prompt: Prompt) -> Prompt:
        nonlocal keys
        keys = _Keys()
        try:
            return with_body(prompt, map_sequences(prompt.body, on_sequence))
        finally:
            keys = _Keys()  # let go of the tree


    return run


def strip_extra_networks() -> Transform:
    """Remove extra networks (``<lora:x:0.8>``, ``<hypernet:...>``) and tidy the commas.

    A tag that was only a network goes with its separator; a network inside a
    tag leaves one space, not two.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("a, <lora:x:0.8>, b <lora:y:1> c", strip_extra_networks()))
        'a, b c'
    """

    def on_sequence(seq: tuple[Node, ...]) -> tuple[Node, ...]:
        if not any(isinstance(node, Network) for node in seq):
            return seq
        segments = split_items(seq)
        doomed = {
            index
            for index, segment in enumerate(segments)
            if not segment.is_sep
            and any(isinstance(n, Network) for n in segment.nodes)
            and segment.only_networks
        }
        segments = remove_items(segments, doomed)
        out: list[Node] = []
        nodes = [node for segment in segments for node in segment.nodes]
        for index, node in enumerate(nodes):
            if isinstance(node, Network):
                continue
            if (
                isinstance(node, Text)
                and index > 0
                and isinstance(nodes[index - 1], Network)
                and out
                and isinstance(out[-1], Text)
                and out[-1].value[-1:].isspace()
                and node.value[:1].isspace()
            ):
                node = Text(value=node.value.lstrip())
            out.append(node)
        return merge_texts(out)

    def run(prompt: Prompt) -> Prompt:
        body = map_sequences(prompt.body, on_sequence)
        # A prompt that was only networks keeps no stray separators.
        if body and all(isinstance(n, Text) and not n.value.strip(", \t\n") for n in body):
            body = ()
        return with_body(prompt, body)

    return run


def canonical() -> Transform:
    """Forget the source spelling: escapes, number spellings, missing brackets.

    Rendering afterwards gives each dialect's canonical form: ``( a :1.20)``
    prints ``( a :1.2)``, an unclosed ``(a`` prints ``(a)``. Notation hints
    (``(x:1.1)`` versus ``(x)``) are kept.

    Example:
        >>> import naiprompt
        >>> from naiprompt.transforms import apply
        >>> naiprompt.render(apply("(a:1.50), (b", canonical()))
        '(a:1.5), (b)'
    """

    def run(prompt: Prompt) -> Prompt:
        return with_body(prompt, merge_texts(_Canonical().transform_sequence(prompt.body)))

    return run


class _Canonical(Transformer):
    """:func:`canonical`'s hooks: each node forgets its spelling hints."""

    def leave_Text(self, node: Text) -> Text:  # noqa: N802 - Transformer hooks are named after the node
        return node if node.raw is None else Text(value=node.value)

    def leave_Emphasis(self, node: Emphasis) -> Emphasis:  # noqa: N802
        if node.raw_weight is None and node.opened and node.closed:
            return node
        return attrs.evolve(node, raw_weight=None, opened=True, closed=True)

    def leave_Schedule(self, node: Schedule) -> Schedule:  # noqa: N802
        return node if node.raw_when is None else attrs.evolve(node, raw_when=None)

    def leave_SubpromptWeight(self, node: SubpromptWeight) -> SubpromptWeight:  # noqa: N802
        return node if node.raw is None else attrs.evolve(node, raw=None)

    def leave_Break(self, node: Break) -> Break:  # noqa: N802
        return node if node.raw is None else attrs.evolve(node, raw=None)
