"""Dialects: each one owns a Lark grammar and a printer for the shared AST.

Built-in dialects are ``webui`` (AUTOMATIC1111), ``nai`` (NovelAI V1-V3) and
``nai4`` (NovelAI V4 numeric emphasis). Third-party packages add more through
the ``naiprompt.dialects`` entry-point group or :func:`register_dialect`.

A dialect is any object with the methods of :class:`Dialect`; subclassing it is
the easy way to get one.

Example:
    >>> from naiprompt.dialects import get_dialect
    >>> get_dialect("nai").name
    'nai'
"""

from __future__ import annotations

from typing import Any, ClassVar

from naiprompt._plugins import PluginError, Registry
from naiprompt.ast import Prompt
from naiprompt.errors import ErrorLevel


class Dialect:
    """Base class of a prompt dialect: parse text to the AST, print it back.

    Subclasses set ``name`` and ``bracket_weight`` (the factor of one plain
    emphasis level) and implement :meth:`parse`, :meth:`render` and
    :meth:`attention`.

    Example:
        >>> from naiprompt.dialects import get_dialect
        >>> webui = get_dialect("webui")
        >>> webui.render(webui.parse("(a:1.2)"))
        '(a:1.2)'
    """

    name: ClassVar[str] = ""
    bracket_weight: ClassVar[float] = 1.1

    def parse(self, text: str, *, strict: bool = False) -> Prompt:
        """Parse ``text`` into a :class:`~naiprompt.ast.Prompt`.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> get_dialect("nai").parse("{a}").dialect
            'nai'
        """
        raise NotImplementedError

    def render(self, prompt: Prompt, *, errors: ErrorLevel = ErrorLevel.WARN) -> str:
        """Print ``prompt`` in this dialect; losses go through ``errors``.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> get_dialect("nai").render(get_dialect("nai").parse("[a]"))
            '[a]'
        """
        raise NotImplementedError

    def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """The flat weighted text runs of ``prompt`` in this dialect.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> get_dialect("nai").attention("{a}")
            [('a', 1.05)]
        """
        raise NotImplementedError

    def lower(self, prompt: Prompt, *, errors: ErrorLevel = ErrorLevel.WARN) -> Prompt:
        """Rewrite this dialect's own node types into the shared ones, before another dialect prints the tree.

        The default has no own node types and returns ``prompt`` unchanged. A plugin
        dialect with nodes of its own (compel's ``.and()``, ``.blend()``, ``.swap()``)
        overrides it and reports what it cannot keep through ``errors``;
        :func:`naiprompt.render` and :func:`naiprompt.convert` call it whenever the
        target is another dialect.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> webui = get_dialect("webui")
            >>> tree = webui.parse("(a:1.2)")
            >>> webui.lower(tree) is tree
            True
        """
        return prompt

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"


def _check_dialect(name: str, obj: Any) -> Dialect:
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as exc:
            raise TypeError(f"cannot instantiate {obj!r}: {exc}") from exc
    for method in ("parse", "render", "attention"):
        if not callable(getattr(obj, method, None)):
            raise TypeError(f"{obj!r} has no {method}() method, so it is not a dialect")
    return obj  # type: ignore[no-any-return]


DIALECTS: Registry[Dialect] = Registry(
    "naiprompt.dialects",
    kind="dialect",
    builtins={
        "webui": "naiprompt.dialects.webui:WebUI",
        "nai": "naiprompt.dialects.nai:NovelAI",
        "nai4": "naiprompt.dialects.nai:NovelAIV4",
        "mixed": "naiprompt.dialects.mixed:Mixed",
    },
    check=_check_dialect,
)


def get_dialect(dialect: str | Dialect) -> Dialect:
    """Return the dialect named ``dialect`` (or ``dialect`` itself if it is one).

    Example:
        >>> get_dialect("webui").bracket_weight
        1.1
        >>> get_dialect("webiu")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        naiprompt._plugins.PluginError: no dialect named 'webiu' (known: ...); did you mean 'webui'?
    """
    if isinstance(dialect, str):
        return DIALECTS.get(dialect)
    return dialect


def register_dialect(dialect: Dialect | type[Dialect], name: str | None = None, *, replace: bool = False) -> None:
    """Register a dialect (an instance or a class) under ``name`` (default: its ``name``).

    Example:
        >>> class Shouting(Dialect):
        ...     name = "shouting"
        ...     def parse(self, text, *, strict=False):
        ...         return get_dialect("webui").parse(text.lower(), strict=strict)
        ...     def render(self, prompt, *, errors=ErrorLevel.WARN):
        ...         return get_dialect("webui").render(prompt, errors=errors).upper()
        ...     def attention(self, prompt):
        ...         return get_dialect("webui").attention(prompt)
        >>> register_dialect(Shouting)
        >>> import naiprompt
        >>> naiprompt.convert("(cat)", "webui", "shouting")
        '(CAT)'
        >>> DIALECTS.unregister("shouting")
    """
    key = name or getattr(dialect, "name", "")
    if not key:
        raise PluginError("a dialect needs a name")
    DIALECTS.register(key, dialect, replace=replace)


__all__ = ["DIALECTS", "Dialect", "PluginError", "get_dialect", "register_dialect"]
