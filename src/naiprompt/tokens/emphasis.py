"""Emphasis modes: how token multipliers reach the conditioning, one registry for tokens, encode and the CLI.

A mode is an :class:`Emphasis`: its ``apply`` function (``None`` when weights are ignored), whether the
prompt is read as plain text (``literal``, WebUI's "None"), whether it needs the encoded empty prompt, and
optionally its own chunker. Built-in modes:

============  =======================================================================  ===============================
name          what it does                                                              aliases
============  =======================================================================  ===============================
``original``  multiply, then restore each chunk batch's mean (WebUI's default)          ``a1111``, ``webui``, ``lpw``
``no_norm``   multiply only                                                             ``no norm``, ``nonorm``
``ignore``    parse the emphasis, drop the weights                                      --
``none``      no emphasis syntax: brackets are text, BREAK is a word                    --
``comfy``     ComfyUI: ``empty + w * (z - empty)``, ComfyUI's chunking                  ``comfyui``
============  =======================================================================  ===============================

Names are case-insensitive and ``-``/space equal ``_``, so WebUI's display names ("No norm"), ComfyUI's
("A1111", "comfy") and the diffusers long-prompt-weighting pipeline's (``lpw``) all work. More modes plug in
with :func:`register_emphasis` or through the entry-point group ``naiprompt.emphasis``::

    [project.entry-points."naiprompt.emphasis"]
    squash = "mypackage.emphasis:squash"

The entry point names an :class:`Emphasis` or a plain function ``apply(z, multipliers, *, groups, empty)``.

Example:
    >>> get_emphasis("No norm").name, get_emphasis("A1111").name, get_emphasis("none").literal
    ('no_norm', 'original', True)
    >>> emphasis_names()[:5]
    ['original', 'no_norm', 'ignore', 'none', 'comfy']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from naiprompt import defaults
from naiprompt._plugins import PluginError, Registry

if TYPE_CHECKING:
    import torch

    from naiprompt.tokens.chunking import Layout

__all__ = [
    "EMPHASIS",
    "ENTRY_POINT_GROUP",
    "Emphasis",
    "UnknownEmphasisError",
    "emphasis_names",
    "get_emphasis",
    "register_emphasis",
]

#: Entry-point group scanned for third-party emphasis modes.
ENTRY_POINT_GROUP = "naiprompt.emphasis"

Apply = Callable[..., "torch.Tensor"]
"""``apply(z, multipliers, *, groups, empty) -> z``: ``z`` is (texts, chunks, ids, width), ``multipliers``
(texts, chunks, ids), ``groups[t]`` the WebUI call text ``t`` belongs to, ``empty`` the encoded empty chunk
(ids, width) or None."""


@dataclass(frozen=True)
class Emphasis:
    """One emphasis mode.

    ``apply`` is None when the weights do not reach the conditioning; the encoder calls it only when some
    multiplier of the batch differs from 1 (a mode must leave all-1 weights' output as it is). ``literal``
    modes tokenize the prompt as plain text (no brackets, no BREAK). ``needs_empty`` asks the encoder for the
    encoded empty prompt. ``chunker(segments, tokenizer) -> Layout``, when set, replaces WebUI's chunking in
    the encoder.

    Example:
        >>> mode = get_emphasis("comfy")
        >>> mode.needs_empty, mode.chunker is not None, get_emphasis("ignore").apply is None
        (True, True, True)
    """

    name: str
    apply: Apply | None = None
    literal: bool = False
    needs_empty: bool = False
    chunker: Callable[[Sequence[tuple[str, float]], Any], Layout] | None = None
    description: str = ""


class UnknownEmphasisError(PluginError, ValueError):
    """No emphasis mode has this name (a :class:`ValueError` too, as a bad argument value).

    Example:
        >>> get_emphasis("loud")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        naiprompt.tokens.emphasis.UnknownEmphasisError: unknown emphasis mode 'loud'; choose one of original, ...
    """


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _original(
    z: torch.Tensor, m: torch.Tensor, *, groups: Sequence[int], empty: torch.Tensor | None
) -> torch.Tensor:
    """WebUI's "Original": multiply, then restore each chunk batch's mean (one scalar per group and chunk).

    Singleton groups (the usual case) are reduced in one vectorised call; a group of several texts takes
    ``mean()`` of its contiguous (texts, ids, width) block, the same reduction WebUI runs, so that results
    agree to the last bits.
    """
    import torch

    z1 = z * m[..., None]
    mean0 = z.mean(dim=(2, 3))
    mean1 = z1.mean(dim=(2, 3))
    members: dict[int, list[int]] = {}
    for t, g in enumerate(groups):
        members.setdefault(g, []).append(t)
    for rows in members.values():
        if len(rows) == 1:
            continue
        sel = torch.tensor(rows, device=z.device)
        for k in range(z.shape[1]):
            mean0[sel, k] = z[sel, k].contiguous().mean()
            mean1[sel, k] = z1[sel, k].contiguous().mean()
    return z1 * (mean0 / mean1)[..., None, None]


def _no_norm(
    z: torch.Tensor, m: torch.Tensor, *, groups: Sequence[int], empty: torch.Tensor | None
) -> torch.Tensor:
    """WebUI's "No norm": multiply only."""
    return z * m[..., None]


def _comfy(
    z: torch.Tensor, m: torch.Tensor, *, groups: Sequence[int], empty: torch.Tensor | None
) -> torch.Tensor:
    """ComfyUI: move each weighted position away from the empty prompt's, ``empty + w * (z - empty)``."""
    import torch

    if empty is None:
        raise ValueError("the comfy emphasis needs the encoded empty prompt")
    e = empty.view(1, 1, *empty.shape)
    mm = m[..., None]
    return torch.where(mm == 1.0, z, e + mm * (z - e))


def _comfy_chunker(segments: Sequence[tuple[str, float]], tokenizer: Any) -> Layout:
    from naiprompt.tokens.comfy_chunking import comfy_chunk_segments

    return comfy_chunk_segments(segments, tokenizer)


ORIGINAL = Emphasis("original", _original, description="multiply, then restore the mean (WebUI's default)")
NO_NORM = Emphasis("no_norm", _no_norm, description="multiply only")
IGNORE = Emphasis("ignore", description="parse the emphasis, drop the weights")
NONE = Emphasis("none", literal=True, description="no emphasis syntax: brackets are text")
COMFY = Emphasis(
    defaults.COMFY_EMPHASIS,
    _comfy,
    needs_empty=True,
    chunker=_comfy_chunker,
    description="ComfyUI: empty + w * (z - empty)",
)

_ALIASES: dict[str, str] = dict(defaults.EMPHASIS_ALIASES)  # ComfyUI's, WebUI's and diffusers' names


def _check(name: str, obj: Any) -> Emphasis:
    if isinstance(obj, Emphasis):
        return obj
    if callable(obj):  # a bare apply function
        return Emphasis(name, obj)
    raise TypeError(f"emphasis {name!r} is a {type(obj).__name__}, not an Emphasis or a function")


#: The emphasis registry (name -> :class:`Emphasis`), built-ins first.
EMPHASIS: Registry[Emphasis] = Registry(
    ENTRY_POINT_GROUP,
    kind="emphasis mode",
    builtins={
        "original": f"{__name__}:ORIGINAL",
        "no_norm": f"{__name__}:NO_NORM",
        "ignore": f"{__name__}:IGNORE",
        "none": f"{__name__}:NONE",
        defaults.COMFY_EMPHASIS: f"{__name__}:COMFY",
    },
    check=_check,
)
_BUILTIN_ORDER = ("original", "no_norm", "ignore", "none", defaults.COMFY_EMPHASIS)


def get_emphasis(name: str | Emphasis) -> Emphasis:
    """The emphasis mode called ``name`` or one of its aliases (an :class:`Emphasis` is returned as is).

    Example:
        >>> get_emphasis("Original") is get_emphasis("webui") is get_emphasis("lpw")
        True
    """
    if isinstance(name, Emphasis):
        return name
    key = _key(name)
    key = _ALIASES.get(key, key)
    try:
        return EMPHASIS.get(key)
    except PluginError as exc:
        if key in EMPHASIS.names():
            raise  # a plugin that fails to load keeps its own message
        choices = ", ".join(emphasis_names())
        raise UnknownEmphasisError(f"unknown emphasis mode {name!r}; choose one of {choices}") from exc


def register_emphasis(
    name: str, mode: Emphasis | Apply, *, aliases: Sequence[str] = (), replace: bool = False
) -> None:
    """Register an emphasis mode (an :class:`Emphasis` or an ``apply`` function) and its aliases.

    Example:
        >>> register_emphasis("double", lambda z, m, *, groups, empty: 2 * z, aliases=["twice"], replace=True)
        >>> get_emphasis("Twice").name, "double" in emphasis_names()
        ('double', True)
    """
    key = _key(name)
    EMPHASIS.register(key, mode, replace=replace)
    for alias in aliases:
        _ALIASES[_key(alias)] = key


def emphasis_names() -> list[str]:
    """Canonical names of the emphasis modes: the built-ins in WebUI's order, then the others sorted.

    Example:
        >>> emphasis_names()[:4]
        ['original', 'no_norm', 'ignore', 'none']
    """
    others = sorted(set(EMPHASIS.names()) - set(_BUILTIN_ORDER))
    return [*_BUILTIN_ORDER, *others]
