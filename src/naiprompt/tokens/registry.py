"""The tokenizer protocol and the ``naiprompt.tokenizers`` registry.

Built-in names are ``"webui"`` (transformers 4.x slow ``CLIPTokenizer`` + ftfy, what AUTOMATIC1111 WebUI uses)
and ``"openai"`` (OpenAI's original CLIP tokenizer). Other backends plug in either at run time with
:func:`register_tokenizer` or from an installed package through the entry-point group
``naiprompt.tokenizers``, e.g. in its ``pyproject.toml``::

    [project.entry-points."naiprompt.tokenizers"]
    mytok = "mypackage.tok:MyTokenizer"

The entry point may name a tokenizer object or a zero-argument factory (a class, a function) returning one.

Example:
    >>> get_tokenizer("webui").encode("1girl")
    [272, 1611]
    >>> "openai" in tokenizer_names()
    True
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol, runtime_checkable

from naiprompt import defaults
from naiprompt._plugins import Registry

__all__ = [
    "DEFAULT_WINDOW",
    "DEFAULT_WRAPS",
    "ENTRY_POINT_GROUP",
    "Tokenizer",
    "get_tokenizer",
    "register_tokenizer",
    "tokenizer_names",
]

#: Entry-point group scanned for third-party tokenizers.
ENTRY_POINT_GROUP = "naiprompt.tokenizers"


@runtime_checkable
class Tokenizer(Protocol):
    """What a tokenizer backend provides.

    ``encode`` returns the ids of a text without BOS/EOS and without truncation. The chunk geometry is the
    tokenizer's too, so that counting, chunking, budgets and the CLI adapt to it:

    * ``bos_id``, ``eos_id``, ``pad_id``: the special ids (WebUI pads CLIP chunks with ``eos_id``);
    * ``comma_id``: the standalone comma the comma backtrack looks for;
    * ``window``: content tokens per chunk (75 for CLIP, whose chunks are BOS + 75 + EOS = 77 ids);
    * ``wraps``: whether each chunk is wrapped as BOS + content + EOS (CLIP) or is ``window`` ids padded
      with ``pad_id``.

    A registered tokenizer that lacks ``window`` or ``wraps`` gets CLIP's (75, True).

    Optional: ``comma_separable = True`` promises that ``encode(a + "," + b) == encode(a) + [comma_id] +
    encode(b)`` whenever ``a`` and ``b`` are printable ASCII without ``&`` and the characters beside the
    comma are letters, digits or spaces (CLIP's pre-tokenizer). ``Batch("count_tokens")`` then counts a
    caption from the sizes of its comma pieces. Without it, each caption's text is encoded.

    Example:
        >>> tok = get_tokenizer("webui")
        >>> isinstance(tok, Tokenizer), tok.window, tok.wraps, (tok.bos_id, tok.eos_id, tok.pad_id)
        (True, 75, True, (49406, 49407, 49407))
    """

    name: str
    bos_id: int
    eos_id: int
    pad_id: int
    comma_id: int
    window: int
    wraps: bool

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` without BOS/EOS.

        Example:
            >>> get_tokenizer("openai").encode("cat")
            [2368]
        """
        ...


#: CLIP's geometry, given to tokenizers that do not state their own.
DEFAULT_WINDOW = 75
DEFAULT_WRAPS = True


def _with_geometry(obj: Any) -> Any:
    """Give a tokenizer written before ``window``/``wraps`` existed CLIP's values (75 tokens, wrapped)."""
    for attribute, default in (("window", DEFAULT_WINDOW), ("wraps", DEFAULT_WRAPS)):
        if not hasattr(obj, attribute):
            # __slots__ or a frozen object cannot take the default: then it must state its own.
            with contextlib.suppress(AttributeError, TypeError):
                setattr(obj, attribute, default)
    return obj


def _check(name: str, obj: Any) -> Tokenizer:
    if isinstance(obj, type) or (not hasattr(obj, "encode") and callable(obj)):
        obj = obj()  # a class or factory
    obj = _with_geometry(obj)
    if not isinstance(obj, Tokenizer):
        raise TypeError(
            f"tokenizer {name!r} is a {type(obj).__name__}, "
            "which lacks name/bos_id/eos_id/pad_id/comma_id/window/wraps/encode"
        )
    window = obj.window
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise TypeError(f"tokenizer {name!r} has window {window!r}; it must be a positive int")
    return obj


def _webui() -> Tokenizer:
    from naiprompt.tokens.clip import ClipTokenizer

    return ClipTokenizer(defaults.TOKENIZER)


def _openai() -> Tokenizer:
    from naiprompt.tokens.clip import ClipTokenizer

    return ClipTokenizer("openai")


_REGISTRY: Registry[Tokenizer] = Registry(
    ENTRY_POINT_GROUP,
    kind="tokenizer",
    builtins={
        defaults.TOKENIZER: "naiprompt.tokens.registry:_webui",
        "openai": "naiprompt.tokens.registry:_openai",
    },
    check=_check,
)


def get_tokenizer(name: str | Tokenizer = defaults.TOKENIZER) -> Tokenizer:
    """The tokenizer registered as ``name`` (instances are created once and shared).

    A :class:`Tokenizer` instance is returned unchanged, so APIs can accept either.

    Example:
        >>> get_tokenizer("webui") is get_tokenizer("webui")
        True
        >>> get_tokenizer("zzz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        naiprompt.errors.PluginError: no tokenizer named 'zzz' (known: ...)
    """
    if not isinstance(name, str):
        return _with_geometry(name)  # type: ignore[no-any-return]
    return _REGISTRY.get(name)


def register_tokenizer(name: str, tokenizer: Any, *, replace: bool = False) -> None:
    """Register a tokenizer (or a zero-argument factory of one) under ``name``.

    Example:
        >>> from naiprompt.tokens.clip import ClipTokenizer
        >>> register_tokenizer("clip-openai-copy", ClipTokenizer("openai"), replace=True)
        >>> get_tokenizer("clip-openai-copy").encode("cat")
        [2368]
    """
    _REGISTRY.register(name, tokenizer, replace=replace)


def tokenizer_names() -> list[str]:
    """Names of the built-in, registered and installed tokenizers, sorted.

    Example:
        >>> {"webui", "openai"} <= set(tokenizer_names())
        True
    """
    return _REGISTRY.names()
