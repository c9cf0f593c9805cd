"""The tree nodes compel has and the shared AST lacks (re-exported by ``naiprompt.contrib.compel``).

``.swap()``, ``.blend()`` and ``.and()`` change how compel builds the
conditioning, not the weight of a word, so they are nodes of their own. Other
dialects cannot print them: :func:`naiprompt.contrib.compel.lower` replaces them
by the nearest shared nodes and reports what is lost.

Example:
    >>> from naiprompt.ast import Text
    >>> Blend(parts=((Text(value="cat"),), (Text(value="dog"),)), weights=(0.7, 0.3)).weights
    (0.7, 0.3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar

import attrs

from naiprompt.ast import Network, Node, Span


def _hint() -> Any:
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)


def _nodes(value: Any) -> tuple[Any, ...]:
    return tuple(value)


def _parts(value: Any) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(part) for part in value)


def _floats(value: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


def _options(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(val)) for key, val in value)


def _same(new: Sequence[Any], old: Sequence[Any]) -> bool:
    return len(new) == len(old) and all(a is b for a, b in zip(new, old, strict=True))


_Multi = TypeVar("_Multi", "Blend", "Conjunction")


def _replace_parts(node: _Multi, parts: Sequence[Sequence[CompelNode]]) -> _Multi:
    if len(parts) != len(node.parts):
        raise ValueError(f"{type(node).__name__} has {len(node.parts)} parts, got {len(parts)}")
    if all(_same(new, old) for new, old in zip(parts, node.parts, strict=True)):
        return node
    return attrs.evolve(node, parts=parts)


@attrs.frozen(kw_only=True)
class Swap:
    """``cat.swap(dog)``: draw ``replacement`` with the attention maps of ``original``.

    compel conditions on the original and hands the replacement to its
    cross-attention control (prompt-to-prompt); ``options`` are its
    ``(key, value)`` settings such as ``("t_end", "0.6")`` (a flag has value ``""``).
    ``raw`` keeps the source around the two parts.

    Example:
        >>> from naiprompt.contrib.compel import Compel
        >>> swap = Compel().parse("a cat.swap(dog, t_end=0.6)").body[1]
        >>> swap.original, swap.options
        ((Text(value='cat'),), (('t_end', '0.6'),))
    """

    original: tuple[CompelNode, ...] = attrs.field(converter=_nodes)
    replacement: tuple[CompelNode, ...] = attrs.field(converter=_nodes)
    options: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_options)
    raw: tuple[str, str, str] | None = _hint()
    span: Span | None = _hint()

    def children(self) -> tuple[tuple[CompelNode, ...], ...]:
        """``(original, replacement)``, the tree kit's child protocol (:meth:`naiprompt.ast.Text.children`).

        Example:
            >>> from naiprompt.ast import Text
            >>> Swap(original=[Text(value="cat")], replacement=[Text(value="dog")]).children()
            ((Text(value='cat'),), (Text(value='dog'),))
        """
        return (self.original, self.replacement)

    def replace(self, *children: Sequence[CompelNode]) -> Swap:
        """A copy with a new original and replacement; itself when both hold the very same nodes.

        Example:
            >>> from naiprompt.ast import Text
            >>> swap = Swap(original=[Text(value="cat")], replacement=[Text(value="dog")])
            >>> swap.replace(swap.original, [Text(value="fox")]).replacement
            (Text(value='fox'),)
            >>> swap.replace(*swap.children()) is swap
            True
        """
        original, replacement = children
        if _same(original, self.original) and _same(replacement, self.replacement):
            return self
        return attrs.evolve(self, original=original, replacement=replacement)


@attrs.frozen(kw_only=True)
class Blend:
    """``("a", "b").blend(0.7, 0.3)``: a weighted mix of the parts' conditionings.

    ``normalize`` is false for ``no_normalize``. ``raw`` keeps the source between
    the parts (one more string than there are parts).

    Example:
        >>> from naiprompt.contrib.compel import Compel
        >>> blend = Compel().parse('("a", "b").blend(0.7, 0.3)').body[0]
        >>> len(blend.parts), blend.weights, blend.normalize
        (2, (0.7, 0.3), True)
    """

    parts: tuple[tuple[CompelNode, ...], ...] = attrs.field(converter=_parts)
    weights: tuple[float, ...] = attrs.field(converter=_floats)
    normalize: bool = True
    raw: tuple[str, ...] | None = _hint()
    span: Span | None = _hint()

    def children(self) -> tuple[tuple[CompelNode, ...], ...]:
        """The parts, the tree kit's child protocol (:meth:`naiprompt.ast.Text.children`).

        Example:
            >>> from naiprompt.ast import Text
            >>> Blend(parts=[[Text(value="a")], [Text(value="b")]], weights=[1, 1]).children()
            ((Text(value='a'),), (Text(value='b'),))
        """
        return self.parts

    def replace(self, *children: Sequence[CompelNode]) -> Blend:
        """A copy with new parts (as many as before); itself when each holds the very same nodes.

        Example:
            >>> from naiprompt.ast import Text
            >>> node = Blend(parts=[[Text(value="a")], [Text(value="b")]], weights=[1, 1])
            >>> node.replace([Text(value="c")], node.parts[1]).parts
            ((Text(value='c'),), (Text(value='b'),))
            >>> node.replace(*node.parts) is node
            True
        """
        return _replace_parts(self, children)


@attrs.frozen(kw_only=True)
class Conjunction:
    """``("a", "b").and()``: each part encoded on its own, the results concatenated.

    ``weights`` are the numbers in ``.and(...)`` (all 1 when left out);
    ``operator`` is ``"and"`` or compel's synonym ``"add"``.

    Example:
        >>> from naiprompt.contrib.compel import Compel
        >>> Compel().parse('("a", "b").and()').body[0].weights
        (1.0, 1.0)
    """

    parts: tuple[tuple[CompelNode, ...], ...] = attrs.field(converter=_parts)
    weights: tuple[float, ...] = attrs.field(converter=_floats)
    operator: str = attrs.field(default="and", eq=False)
    raw: tuple[str, ...] | None = _hint()
    span: Span | None = _hint()

    def children(self) -> tuple[tuple[CompelNode, ...], ...]:
        """The parts, the tree kit's child protocol (:meth:`naiprompt.ast.Text.children`).

        Example:
            >>> from naiprompt.ast import Text
            >>> Conjunction(parts=[[Text(value="a")], [Text(value="b")]], weights=[1, 1]).children()
            ((Text(value='a'),), (Text(value='b'),))
        """
        return self.parts

    def replace(self, *children: Sequence[CompelNode]) -> Conjunction:
        """A copy with new parts (as many as before); itself when each holds the very same nodes.

        Example:
            >>> from naiprompt.ast import Text
            >>> node = Conjunction(parts=[[Text(value="a")], [Text(value="b")]], weights=[1, 1])
            >>> node.replace([Text(value="c")], node.parts[1]).parts
            ((Text(value='c'),), (Text(value='b'),))
            >>> node.replace(*node.parts) is node
            True
        """
        return _replace_parts(self, children)


@attrs.frozen(kw_only=True)
class Lora(Network):
    """``withLora(name, 0.8)``: an extra network, ``<lora:name:0.8>`` in WebUI.

    A :class:`~naiprompt.ast.Network` that remembers its compel spelling in ``raw``.

    Example:
        >>> from naiprompt.contrib.compel import Compel
        >>> Compel().parse("withLora(ink, 0.8) a cat").body[0]
        Lora(name='lora', args=('ink', '0.8'))
    """

    raw: str | None = _hint()


CompelNode: TypeAlias = Node | Swap | Blend | Conjunction
"""Any node of a compel tree: the shared nodes and compel's own."""
