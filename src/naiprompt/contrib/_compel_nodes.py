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

from typing import Any, TypeAlias

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
