"""Tag tools for training captions: split on top-level commas, remove, replace, keep first, fit a budget.

A caption is a list of tags separated by commas. Splitting on every comma, as training scripts do, cuts
``(red eyes, smile:1.2)`` in two; :func:`split_tags` splits on the commas of the top level only, so a
weighted group, a prompt-editing schedule or an extra network stays one tag, spelled as in the source.

The transforms here (:func:`remove_tags`, :func:`replace_tags`, :func:`keep_first`, :func:`fit_budget`)
edit the top level of a prompt tag by tag, so everything they do not touch keeps its exact spelling. They
are registered by name, so they also work as specs (``"remove_tags:file=bad.txt"``) in
:func:`~naiprompt.transforms.apply`, the batch API and the command line.

Example:
    >>> import naiprompt
    >>> from naiprompt.transforms.tags import tags
    >>> tags("1girl, (red eyes, smile:1.2), [cat:dog:5]")
    ['1girl', '(red eyes, smile:1.2)', '[cat:dog:5]']
    >>> naiprompt.render(naiprompt.apply("a, b_c, a", "remove_tags:tags=b c"))
    'a, a'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from naiprompt import defaults
from naiprompt.ast import Prompt, Text
from naiprompt.transforms import Transform

__all__ = [
    "KeptTags",
    "fit_budget",
    "keep_first",
    "keep_split",
    "remove_tags",
    "replace_tags",
    "split_tags",
    "tag_key",
    "tags",
]


def _source_and_dialect(prompt: str | Prompt, dialect: str | None) -> tuple[str, str]:
    if isinstance(prompt, Prompt):
        from naiprompt.api import render

        name = dialect or prompt.dialect
        return (prompt.source if prompt.source is not None and name == prompt.dialect else render(prompt, name)), name
    if not isinstance(prompt, str):
        raise TypeError(f"expected a prompt string or tree, not {type(prompt).__name__}")
    return prompt, dialect or defaults.DIALECT


def _top_level_commas(text: str, dialect: str) -> list[int]:
    """Positions of the commas that lie in top-level text (not inside any bracket, network or schedule)."""
    from naiprompt.dialects import get_dialect

    if "," not in text:
        return []
    tree = get_dialect(dialect).parse(text)
    commas: list[int] = []
    for node in tree.body:
        if not isinstance(node, Text) or node.span is None:
            continue
        start, end = node.span.start, node.span.end
        at = text.find(",", start, end)
        while at != -1:
            commas.append(at)
            at = text.find(",", at + 1, end)
    return commas


def split_tags(prompt: str | Prompt, dialect: str | None = None) -> tuple[list[str], list[str]]:
    """Split a caption on its top-level commas: ``(tags, separators)``.

    ``separators`` has one more item than ``tags`` and the caption is
    ``separators[0] + tags[0] + separators[1] + ... + tags[-1] + separators[-1]``, exactly: each separator
    holds one comma (none for the outer two) and the whitespace around it, each tag is stripped and may be
    empty (``"a,,b"``). Commas inside brackets, schedules and extra networks do not split.

    Example:
        >>> split_tags(" a, (b, c:1.2) ,d")
        (['a', '(b, c:1.2)', 'd'], [' ', ', ', ' ,', ''])
        >>> split_tags("{x, y}, z", "nai")[0]
        ['{x, y}', 'z']
    """
    text, name = _source_and_dialect(prompt, dialect)
    cuts = _top_level_commas(text, name)
    pieces: list[str] = []
    start = 0
    for at in cuts:
        pieces.append(text[start:at])
        start = at + 1
    pieces.append(text[start:])
    tag_list: list[str] = []
    separators: list[str] = []
    pending = ""  # the comma (and whitespace) that precedes the next piece
    for piece in pieces:
        core = piece.strip()
        if core:
            lead = piece[: piece.index(core[0])]
            trail = piece[len(lead) + len(core) :]
        else:
            lead, trail = piece, ""
        separators.append(pending + lead)
        tag_list.append(core)
        pending = trail + ","
    separators.append(pending[:-1])
    return tag_list, separators


def tags(prompt: str | Prompt, dialect: str | None = None) -> list[str]:
    """The non-empty tags of a caption, split on top-level commas, weights and brackets intact.

    Example:
        >>> tags("masterpiece,, (long hair:1.2), {a, b}", "nai")
        ['masterpiece', '(long hair:1.2)', '{a, b}']
    """
    return [tag for tag in split_tags(prompt, dialect)[0] if tag]


def _join(tag_list: Sequence[str], separators: Sequence[str]) -> str:
    out = [separators[0]]
    for tag, separator in zip(tag_list, separators[1:], strict=True):
        out.append(tag)
        out.append(separator)
    return "".join(out)


def _plain(tag: str, dialect: str) -> str:
    """A tag's text without brackets and weights (what the tokenizer reads)."""
    from naiprompt.api import attention

    if not any(char in tag for char in "()[]{}<>:\\|"):
        return tag
    return "".join(text for text, weight in attention(tag, dialect) if weight != -1.0 or text != "BREAK")


def tag_key(tag: str, dialect: str = defaults.DIALECT) -> str:
    """What two tags share when they are "the same tag": plain text, ``_`` as space, case and spacing folded.

    Example:
        >>> tag_key("(Long_Hair:1.2)") == tag_key("long  hair")
        True
    """
    return " ".join(_plain(tag, dialect).replace("_", " ").split()).lower()


def _tag_weight(tag: str, dialect: str) -> float:
    """The strongest weight inside a tag (1.0 for a plain tag)."""
    from naiprompt.api import attention

    if not any(char in tag for char in "()[]{}:"):
        return 1.0
    weights = [weight for text, weight in attention(tag, dialect) if text.strip() and weight != -1.0]
    return max(weights, default=1.0)


def _rewrite(prompt: Prompt, dialect: str | None, edit: _Edit) -> Prompt:
    """Split ``prompt`` into top-level tags, let ``edit`` change the lists, parse the result back."""
    from naiprompt.dialects import get_dialect

    text, name = _source_and_dialect(prompt, dialect)
    tag_list, separators = split_tags(text, name)
    new_tags, new_separators = edit(tag_list, separators, name)
    if new_tags == tag_list and new_separators == separators:
        return prompt
    tree = get_dialect(name).parse(_join(new_tags, new_separators))
    return tree


class _Edit:
    """A tag-list edit: ``(tags, separators, dialect) -> (tags, separators)``."""

    def __call__(self, tag_list: list[str], separators: list[str], dialect: str) -> tuple[list[str], list[str]]:
        raise NotImplementedError  # pragma: no cover


def _drop(tag_list: list[str], separators: list[str], doomed: set[int]) -> tuple[list[str], list[str]]:
    """Remove the tags at ``doomed`` with one separator each (the one after; before for the last tag)."""
    if not doomed:
        return tag_list, separators
    kept_tags: list[str] = []
    kept_seps: list[str] = [separators[0]]
    for index, tag in enumerate(tag_list):
        if index in doomed:
            continue
        kept_tags.append(tag)
        kept_seps.append(separators[index + 1])
    if not kept_tags:
        return [""], [separators[0], separators[-1]]
    if len(tag_list) - 1 in doomed:  # the last tag went: the prompt ends as the original did
        kept_seps[-1] = separators[-1]
    return kept_tags, kept_seps


def _read_list(tags_option: str | Iterable[str] | None, file: str | None) -> list[str]:
    """Tags from an option (a list, or one string split on ``|``) and from a file (one tag per line)."""
    found: list[str] = []
    if isinstance(tags_option, str):
        found.extend(part for part in tags_option.split("|") if part.strip())
    elif tags_option is not None:
        found.extend(tags_option)
    if file is not None:
        with open(Path(file), encoding="utf-8") as handle:
            found.extend(line.rstrip("\n") for line in handle if line.strip() and not line.startswith("#"))
    return found


class _Remove(_Edit):
    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys

    def __call__(self, tag_list: list[str], separators: list[str], dialect: str) -> tuple[list[str], list[str]]:
        doomed = {index for index, tag in enumerate(tag_list) if tag and tag_key(tag, dialect) in self.keys}
        return _drop(tag_list, separators, doomed)


def remove_tags(
    tags: str | Iterable[str] | None = None, *, file: str | None = None, dialect: str | None = None
) -> Transform:
    """Remove top-level tags named in ``tags`` (a list, or a string split on ``|``) or in ``file``.

    A tag matches whatever its weight and spelling (see :func:`tag_key`): removing ``long hair`` removes
    ``(long_hair:1.2)``. The file holds one tag per line (``#`` comments and blank lines skipped). The
    comma after a removed tag goes with it.

    Example:
        >>> import naiprompt
        >>> drop = remove_tags(["simple_background"])
        >>> naiprompt.render(naiprompt.apply("1girl, (simple background:1.2), smile", drop))
        '1girl, smile'
    """
    keys = frozenset(tag_key(tag) for tag in _read_list(tags, file))
    edit = _Remove(keys)

    def run(prompt: Prompt) -> Prompt:
        return _rewrite(prompt, dialect, edit)

    return run


class _Replace(_Edit):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def __call__(self, tag_list: list[str], separators: list[str], dialect: str) -> tuple[list[str], list[str]]:
        out: list[str] = []
        doomed: set[int] = set()
        for index, tag in enumerate(tag_list):
            new = self.mapping.get(tag_key(tag, dialect)) if tag else None
            if new is None:
                out.append(tag)
                continue
            if not new:
                doomed.add(index)
                out.append(tag)
                continue
            plain = _plain(tag, dialect).strip()
            # Keep the tag's brackets and weight when its text appears once, as typed.
            out.append(tag.replace(plain, new) if plain and tag.count(plain) == 1 else new)
        return _drop(out, separators, doomed)


def _read_mapping(mapping: str | dict[str, str] | None, file: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    if isinstance(mapping, str):
        for part in mapping.split("|"):
            old, _, new = part.partition("=")
            if old.strip():
                pairs[old] = new.strip()
    elif mapping is not None:
        pairs.update(mapping)
    if file is not None:
        import csv

        with open(Path(file), encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if row and row[0].strip() and not row[0].startswith("#"):
                    pairs[row[0]] = row[1].strip() if len(row) > 1 else ""
    return {tag_key(old): new for old, new in pairs.items()}


def replace_tags(
    mapping: str | dict[str, str] | None = None, *, file: str | None = None, dialect: str | None = None
) -> Transform:
    """Replace top-level tags: ``{old: new}``, a string ``"old=new|old2=new2"``, or a two-column CSV ``file``.

    Tags match as in :func:`remove_tags`. The replacement keeps the tag's brackets and weight when the old
    text appears in it as typed; an empty replacement removes the tag.

    Example:
        >>> import naiprompt
        >>> naiprompt.render(naiprompt.apply("(long_hair:1.2), smile", replace_tags({"long hair": "very long hair"})))
        '(very long hair:1.2), smile'
    """
    edit = _Replace(_read_mapping(mapping, file))

    def run(prompt: Prompt) -> Prompt:
        return _rewrite(prompt, dialect, edit)

    return run


class _KeepFirst(_Edit):
    def __init__(self, keys: list[str], separator: str | None) -> None:
        self.keys = keys
        self.separator = separator

    def __call__(self, tag_list: list[str], separators: list[str], dialect: str) -> tuple[list[str], list[str]]:
        by_key: dict[str, int] = {}
        for index, tag in enumerate(tag_list):
            if tag:
                by_key.setdefault(tag_key(tag, dialect), index)
        front = [by_key[key] for key in dict.fromkeys(self.keys) if key in by_key]
        taken = set(front)
        rest = [index for index, tag in enumerate(tag_list) if index not in taken and tag]
        ordered = [tag_list[index] for index in front]
        if self.separator and (self.separator not in tag_list):
            ordered.append(self.separator)
        ordered.extend(tag_list[index] for index in rest)
        if ordered == [tag for tag in tag_list if tag]:
            return tag_list, separators
        return ordered, [separators[0], *[", "] * (len(ordered) - 1), separators[-1]]


def keep_first(
    tags: str | Iterable[str] | None = None,
    *,
    file: str | None = None,
    separator: str | None = None,
    dialect: str | None = None,
) -> Transform:
    """Move the named tags to the front, in the order given; optionally mark them with ``separator``.

    sd-scripts keeps the first ``keep_tokens`` tags in place when it shuffles a caption, or everything before
    ``keep_tokens_separator`` (such as ``|||``); this puts the tags that must stay there, and with
    ``separator`` writes the marker after them. Tags not present are skipped. When anything moves, the
    caption is rewritten with ``", "`` between tags (empty tags dropped).

    Example:
        >>> import naiprompt
        >>> naiprompt.render(naiprompt.apply("smile, 1girl, solo", keep_first(["solo", "1girl"], separator="|||")))
        'solo, 1girl, |||, smile'
    """
    edit = _KeepFirst([tag_key(tag) for tag in _read_list(tags, file)], separator)

    def run(prompt: Prompt) -> Prompt:
        return _rewrite(prompt, dialect, edit)

    return run


@dataclass(frozen=True)
class KeptTags:
    """A caption as sd-scripts reads it for shuffling: fixed tags, shuffled tags, fixed suffix.

    Example:
        >>> keep_split("a, b ||| c, d ||| e", separator="|||")
        KeptTags(fixed=('a', 'b'), flex=('c', 'd'), suffix=('e',))
    """

    fixed: tuple[str, ...]
    flex: tuple[str, ...]
    suffix: tuple[str, ...] = ()


def keep_split(
    caption: str, keep_tokens: int = 0, *, separator: str | None = None, dialect: str = defaults.DIALECT
) -> KeptTags:
    """Which tags sd-scripts keeps in place (``keep_tokens``, ``keep_tokens_separator``), split bracket-aware.

    As sd-scripts reads a caption: with ``separator`` present, the tags before its first occurrence are
    fixed, those after a second occurrence form a fixed suffix, the rest shuffle (empty tags dropped);
    otherwise the first ``keep_tokens`` tags are fixed. Unlike sd-scripts, commas inside brackets do not
    split a tag.

    Example:
        >>> keep_split("1girl, (red, blue:1.2), smile", keep_tokens=2)
        KeptTags(fixed=('1girl', '(red, blue:1.2)'), flex=('smile',), suffix=())
    """
    if separator and separator in caption:
        fixed_part, flex_part = caption.split(separator, 1)
        suffix_part = ""
        if separator in flex_part:
            flex_part, suffix_part = flex_part.split(separator, 1)
        return KeptTags(
            tuple(tags(fixed_part, dialect)), tuple(tags(flex_part, dialect)), tuple(tags(suffix_part, dialect))
        )
    all_tags = split_tags(caption.strip(), dialect)[0]
    keep = max(keep_tokens, 0)
    return KeptTags(tuple(all_tags[:keep]), tuple(all_tags[keep:]))


class _FitBudget(_Edit):
    def __init__(self, limit: int, options: dict[str, object]) -> None:
        self.limit = limit
        self.options = options

    def _count(self, text: str, dialect: str) -> int:
        from naiprompt.tokens import count_tokens

        return count_tokens(text, dialect, **self.options).count  # type: ignore[arg-type]

    def __call__(self, tag_list: list[str], separators: list[str], dialect: str) -> tuple[list[str], list[str]]:
        if self._count(_join(tag_list, separators), dialect) <= self.limit:
            return tag_list, separators
        # Drop order: lowest weight first; among equals, the last tag first.
        order = sorted(
            (index for index, tag in enumerate(tag_list) if tag),
            key=lambda index: (_tag_weight(tag_list[index], dialect), -index),
        )

        def fits(count: int) -> bool:
            kept, seps = _drop(tag_list, separators, set(order[:count]))
            return self._count(_join(kept, seps), dialect) <= self.limit

        # Binary search for the fewest drops that fit (counts grow with the tags kept), so a long caption
        # costs O(log n) counts, not one per tag.
        low, high = 0, len(order)
        while low < high:
            middle = (low + high) // 2
            if fits(middle):
                high = middle
            else:
                low = middle + 1
        return _drop(tag_list, separators, set(order[:low]))


def fit_budget(
    limit: int = 75,
    *,
    steps: int = 20,
    negative: bool = False,
    comma_backtrack: int = 20,
    emphasis: str = "original",
    tokenizer: str | None = None,
    dialect: str | None = None,
) -> Transform:
    """Drop the lowest-weight top-level tags (the last first among equals) until the prompt fits ``limit`` tokens.

    Tokens are counted as :func:`~naiprompt.tokens.count_tokens` counts them, with the same options. A
    prompt that fits is returned unchanged. To find the rows over a budget without changing them, use the
    batch operation ``"budget"`` or :func:`~naiprompt.tokens.budget`.

    Example:
        >>> import naiprompt
        >>> naiprompt.render(naiprompt.apply("(a:1.3), b, c, [d]", fit_budget(3)))
        '(a:1.3), b'
    """
    options: dict[str, object] = {
        "steps": steps,
        "negative": negative,
        "comma_backtrack": comma_backtrack,
        "emphasis": emphasis,
        "tokenizer": tokenizer,
    }
    edit = _FitBudget(limit, options)

    def run(prompt: Prompt) -> Prompt:
        return _rewrite(prompt, dialect, edit)

    return run
