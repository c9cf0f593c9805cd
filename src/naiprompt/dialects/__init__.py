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

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from naiprompt._plugins import PluginError, Registry
from naiprompt.ast import Prompt
from naiprompt.errors import ErrorLevel

if TYPE_CHECKING:  # naiprompt.tokens is imported when a dialect is first asked to count
    from naiprompt.tokens.chunking import Layout
    from naiprompt.tokens.registry import Tokenizer


class Notation(enum.Enum):
    """A construct a dialect can write, beyond plain text: the members of :attr:`Dialect.notations`.

    Example:
        >>> from naiprompt.dialects import get_dialect
        >>> Notation.NUMERIC_WEIGHT in get_dialect("nai").notations
        False
        >>> sorted(n.name for n in get_dialect("nai4").notations)
        ['NESTED_LEVELS', 'NUMERIC_WEIGHT']
    """

    #: An explicit weight on any text: ``(x:1.2)``, ``1.2::x::``, ``(x)1.2``.
    NUMERIC_WEIGHT = "numeric weight"
    #: Emphasis by nesting one bracket per level: ``((x))``, ``{{x}}``, ``x++``.
    NESTED_LEVELS = "nested levels"
    #: Prompt editing, a change during sampling: ``[a:b:10]``.
    EDITING = "prompt editing"
    #: Alternation, one choice per sampling step: ``[a|b]``.
    ALTERNATION = "alternation"
    #: Composable diffusion: ``a AND b:1.2``.
    AND = "AND"
    #: A forced chunk boundary: ``BREAK``.
    BREAK = "BREAK"
    #: Extra networks: ``<lora:name:0.8>``.
    NETWORKS = "extra networks"


class Dialect:
    """Base class of a prompt dialect: parse text to the AST, print it back, and say what it can do.

    Subclasses set ``name`` and implement :meth:`parse`, :meth:`render` and
    :meth:`attention`. Everything else the rest of the package needs to know
    about a dialect is one of the documented **capabilities** below: a class
    attribute with a default, or a method. Transforms, ``convert``, the token
    counter, the encoder and the command line ask the dialect; none of them
    names one. A plugin that declares its capabilities gets ``step``,
    ``flatten``, ``expand``, ``round_weights``, ``convert`` and
    ``count_tokens`` right with no change to naiprompt.

    Factors:
      * ``bracket_weight`` -- the factor of one emphasis level (``(x)``: 1.1,
        ``{x}``: 1.05, ``x+``: 1.1).
      * ``deemphasis_weight`` -- the factor of one de-emphasis level (``[x]``:
        1/1.1, compel's ``x-``: 0.9), or ``None`` when the dialect has no
        de-emphasis bracket (ComfyUI, where ``[x]`` is text).

    What it can write:
      * ``notations`` -- a frozenset of :class:`Notation` members.
      * ``level_spelling`` -- the ``Emphasis.notation`` hints ``(up, down)`` of
        one bracket level (``("paren", "bracket")``); ``None``: the printer picks.
        A dialect whose levels are spelled ``"paren"`` reads ``(x)`` as
        emphasis, so a literal parenthesis is written escaped.
      * ``weight_spelling`` -- the hint of an explicit weight (``"explicit"``
        for ``(x:1.2)``, ``"numeric"`` for ``1.2::x::``; ``None``: the printer picks).

    Weight formatting:
      * ``render_decimals`` -- whether :meth:`render` takes a ``decimals=``
        keyword (``convert(..., decimals=4)`` passes it on only then).
      * ``default_decimals`` -- the places ``render`` rounds a computed weight
        to when not told (``None``: the shortest text that reads back equal).

    Counting (``naiprompt.tokens``):
      * ``tokenizer`` -- the registered tokenizer its UI counts with.
      * ``count_variants`` -- whether the UI's counter removes extra networks,
        splits on ``AND``, resolves prompt editing and shows the largest
        variant (WebUI's "63/75"), or counts the text as one line.
      * :meth:`segments` and :meth:`chunk_segments` -- the runs that get
        tokenized and how they are cut into chunks (default: the attention
        runs, WebUI's 75-token chunks with the comma backtrack).

    Names and habits:
      * ``aliases`` -- other names :func:`get_dialect` and the command line
        accept (``a1111``, ``novelai``); compared lower-case, ``_``/``.`` as ``-``.
      * ``comma_fragments`` -- whether a prompt without risky syntax converts
        tag by tag exactly as whole (``naiprompt.batch`` then converts each tag once).
      * :meth:`slips` -- warnings for habits from other UIs the dialect reads
        differently; :meth:`with_preset` -- text the UI adds server-side.

    Example:
        >>> from naiprompt.dialects import get_dialect
        >>> webui = get_dialect("webui")
        >>> webui.render(webui.parse("(a:1.2)"))
        '(a:1.2)'
        >>> nai = get_dialect("nai")
        >>> nai.bracket_weight, nai.deemphasis_weight, nai.level_spelling
        (1.05, 0.9523809523809523, ('brace', 'bracket'))
        >>> Notation.NUMERIC_WEIGHT in nai.notations, get_dialect("nai4").weight_spelling
        (False, 'numeric')
        >>> get_dialect("comfy").deemphasis_weight is None
        True
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    bracket_weight: ClassVar[float] = 1.1
    deemphasis_weight: ClassVar[float | None] = 1 / 1.1
    notations: ClassVar[frozenset[Notation]] = frozenset({Notation.NUMERIC_WEIGHT, Notation.NESTED_LEVELS})
    level_spelling: ClassVar[tuple[str | None, str | None]] = (None, None)
    weight_spelling: ClassVar[str | None] = None
    render_decimals: ClassVar[bool] = False
    default_decimals: ClassVar[int | None] = None
    tokenizer: ClassVar[str] = "webui"
    count_variants: ClassVar[bool] = False
    comma_fragments: ClassVar[bool] = False

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

    def segments(self, prompt: str | Prompt) -> list[tuple[str, float]]:
        """The ``(text, weight)`` runs its UI tokenizes (default: :meth:`attention`).

        ComfyUI overrides it: it tokenizes its pieces one by one, unmerged.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> get_dialect("nai").segments("{a}b")
            [('a', 1.05), ('b', 1.0)]
        """
        return self.attention(prompt)

    def chunk_segments(
        self, segments: Sequence[tuple[str, float]], tokenizer: str | Tokenizer, *, comma_backtrack: int = 20
    ) -> Layout:
        """Cut :meth:`segments` into chunks as its UI does (default: WebUI's rule, with the comma backtrack).

        The chunk geometry (window, BOS/EOS) is the tokenizer's.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> nai = get_dialect("nai")
            >>> nai.chunk_segments(nai.segments("{a}"), nai.tokenizer).chunks[0].tokens[:3]
            (49406, 320, 49407)
        """
        from naiprompt.tokens.chunking import chunk_segments

        return chunk_segments(segments, tokenizer, comma_backtrack=comma_backtrack)

    def slips(self, text: str) -> list[str]:
        """Warnings for habits of other UIs that this dialect reads differently (default: none).

        :func:`naiprompt.convert` issues them when converting from this dialect.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> get_dialect("webui").slips("{1girl:1.2}")
            []
            >>> len(get_dialect("nai").slips("{1girl:1.2}"))
            1
        """
        return []

    def with_preset(self, text: str, preset: str, *, negative: bool = False) -> str:
        """``text`` with what the UI adds server-side under ``preset`` (default: nothing).

        NovelAI overrides it with its quality tags and undesired-content presets
        (:mod:`naiprompt.presets`); ``convert(..., nai_preset=...)`` calls it.

        Example:
            >>> from naiprompt.dialects import get_dialect
            >>> get_dialect("webui").with_preset("cat", "v3")
            'cat'
        """
        return text

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
    _check_capabilities(obj)
    return obj  # type: ignore[no-any-return]


def _check_capabilities(obj: Any) -> None:
    """A declared capability of the wrong type fails at registration, not deep inside a transform."""
    for attribute, optional in (("bracket_weight", False), ("deemphasis_weight", True)):
        factor = getattr(obj, attribute, 1.0)
        if factor is None and optional:
            continue
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < float("inf"):
            raise TypeError(f"{attribute} must be a positive finite number, not {factor!r}")
    notations: object = getattr(obj, "notations", frozenset())
    if not isinstance(notations, (set, frozenset)) or not all(isinstance(n, Notation) for n in notations):
        raise TypeError(f"notations must be a frozenset of Notation members, not {notations!r}")
    aliases = getattr(obj, "aliases", ())
    if isinstance(aliases, str) or not all(isinstance(alias, str) for alias in aliases):
        raise TypeError(f"aliases must be a tuple of names, not {aliases!r}")


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


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def dialect_aliases() -> dict[str, str]:
    """Every alias the registered dialects declare (``Dialect.aliases``), as ``{alias: name}``.

    Aliases are compared lower-case with ``_`` and ``.`` read as ``-``; a plugin
    that fails to load contributes none.

    Example:
        >>> dialect_aliases()["a1111"], dialect_aliases()["novelai-v4"]
        ('webui', 'nai4')
    """
    table: dict[str, str] = {}
    for name in DIALECTS.names():
        try:
            dialect = DIALECTS.get(name)
        except PluginError:
            continue
        for alias in getattr(dialect, "aliases", ()):
            table.setdefault(_key(alias), name)
    return table


def dialect_name(name: str) -> str:
    """The registered dialect ``name`` means: the name itself, another spelling of it, or an alias.

    Raises :class:`PluginError` (with a suggestion) for a name nothing declares.

    Example:
        >>> dialect_name("A1111"), dialect_name("NovelAI"), dialect_name("nai_v4")
        ('webui', 'nai', 'nai4')
    """
    names = DIALECTS.names()
    if name in names:
        return name
    key = _key(name)
    spelled = {_key(known): known for known in names}
    if key in spelled:
        return spelled[key]
    alias = dialect_aliases().get(key)
    if alias is None:
        DIALECTS.get(name)  # raises the registry's error, with its "did you mean"
    return alias or name


def get_dialect(dialect: str | Dialect) -> Dialect:
    """Return the dialect named ``dialect`` (or ``dialect`` itself if it is one).

    A name may be any alias a dialect declares (``Dialect.aliases``).

    Example:
        >>> get_dialect("webui").bracket_weight
        1.1
        >>> get_dialect("novelai").name
        'nai'
        >>> get_dialect("webiu")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        naiprompt.errors.PluginError: no dialect named 'webiu' (known: ...); did you mean 'webui'?
    """
    if isinstance(dialect, str):
        try:
            return DIALECTS.get(dialect)
        except PluginError:
            if dialect in DIALECTS.names():
                raise  # a plugin that fails to load keeps its own message
            return DIALECTS.get(dialect_name(dialect))
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


__all__ = [
    "DIALECTS",
    "Dialect",
    "Notation",
    "PluginError",
    "dialect_aliases",
    "dialect_name",
    "get_dialect",
    "register_dialect",
]
