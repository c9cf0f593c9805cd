"""The top-level functions: parse, render, convert, attention, detect.

Example:
    >>> from naiprompt.api import parse, render
    >>> render(parse("((masterpiece)), [blurry]"))
    '((masterpiece)), [blurry]'
"""

from __future__ import annotations

from naiprompt import defaults
from naiprompt.ast import Prompt
from naiprompt.dialects import Dialect, get_dialect
from naiprompt.errors import ErrorLevel, PromptWarning, warn


def parse(
    text: str,
    dialect: str | Dialect = defaults.DIALECT,
    *,
    strict: bool = False,
    errors: ErrorLevel | str | None = None,
) -> Prompt:
    """Parse ``text`` written in ``dialect`` into a :class:`~naiprompt.ast.Prompt`.

    Lenient by default: it never raises, keeps every character, and reads
    unbalanced brackets the way the UI does (an unclosed opener runs to the end,
    a stray closer is text); what it had to guess is listed in
    ``Prompt.warnings`` as :class:`~naiprompt.errors.PromptWarning` objects.
    ``strict=True`` raises :class:`~naiprompt.errors.PromptSyntaxError` instead.

    ``errors`` says the same with the :class:`~naiprompt.errors.ErrorLevel` that
    printing takes: ``"raise"`` is ``strict=True``; ``"warn"`` also emits each
    warning as a Python warning pointing at the caller's line; ``"ignore"``
    and the default (None) only list them.

    Example:
        >>> parse("{a}", "nai").body[0].weight
        1.05
        >>> parse("(a").warnings
        (PromptWarning('unclosed bracket', code='unclosed-bracket', offset=0, line=1, column=1),)
        >>> parse("(a:1.2.3)", strict=True)
        Traceback (most recent call last):
        ...
        naiprompt.errors.PromptSyntaxError: malformed weight '1.2.3' at line 1, column 4:
        (a:1.2.3)
           ^
    """
    level = ErrorLevel(errors) if errors is not None else ErrorLevel.IGNORE
    prompt = get_dialect(dialect).parse(text, strict=strict or level is ErrorLevel.RAISE)
    if level is ErrorLevel.WARN:
        for note in prompt.warnings:
            warn(note)
    return prompt


def render(prompt: Prompt, dialect: str | Dialect | None = None, *, errors: ErrorLevel | str = "warn") -> str:
    """Print ``prompt`` in ``dialect`` (default: the dialect it was parsed with).

    ``render(parse(s, d), d) == s`` for every string ``s``: spelling, spacing and
    bracket style survive. Printing in another dialect converts.

    Example:
        >>> render(parse("{{a}}", "nai"))
        '{{a}}'
        >>> render(parse("{{a}}", "nai"), "webui")
        '(a:1.1025)'
    """
    target = get_dialect(dialect if dialect is not None else prompt.dialect)
    prompt = _lowered(prompt, target, ErrorLevel(errors))
    return target.render(prompt, errors=ErrorLevel(errors))


def _lowered(prompt: Prompt, target: Dialect, errors: ErrorLevel) -> Prompt:
    """``prompt`` with its dialect's own node types rewritten, when ``target`` is another dialect."""
    if prompt.dialect == target.name:
        return prompt
    try:
        origin = get_dialect(prompt.dialect)
    except LookupError:  # a tree built in code for a dialect that is not registered
        return prompt
    lower = getattr(origin, "lower", None)  # duck-typed plugin dialects may not have it
    return prompt if lower is None else lower(prompt, errors=errors)


def convert(
    text: str,
    read: str | Dialect,
    write: str | Dialect,
    *,
    errors: ErrorLevel | str = "warn",
    decimals: int = 4,
    nai_preset: str | None = None,
    negative: bool = False,
) -> str:
    """Parse ``text`` as ``read`` and print it as ``write``, mapping weights by value.

    NovelAI ``{x}`` becomes ``(x:1.05)`` in WebUI; WebUI ``(x:1.21)`` becomes
    ``{{{{x}}}}`` (nearest power of 1.05) in ``nai`` and ``1.21::x::`` in
    ``nai4``. What the target cannot express goes through ``errors``:
    ``"raise"`` (:class:`~naiprompt.errors.ConversionError`), ``"warn"``
    (a :class:`~naiprompt.errors.PromptWarning` and best-effort output) or
    ``"ignore"``. Weights are printed in plain decimal, at most ``decimals`` places.

    ``nai_preset`` (``"v1"`` ... ``"v4.5"``, off by default) adds what NovelAI
    adds server-side when ``read`` is ``nai``/``nai4``: the quality tags, or with
    ``negative=True`` the default undesired-content preset (:mod:`naiprompt.presets`).
    The dialects decide: ``read``'s :meth:`~naiprompt.dialects.Dialect.with_preset`
    adds the preset and its :meth:`~naiprompt.dialects.Dialect.slips` warns of
    habits it reads differently; ``decimals`` reaches ``write`` when it declares
    ``render_decimals``.

    Example:
        >>> convert("{1girl}", "nai", "webui", nai_preset="v3")
        '(1girl:1.05), best quality, amazing quality, very aesthetic, absurdres'
        >>> convert("{{{{x}}}}, (y)", "nai", "webui")
        '(x:1.2155), \\\\(y\\\\)'
        >>> convert("(x:1.21), ganyu \\\\(genshin impact\\\\)", "webui", "nai")
        '{{{{x}}}}, ganyu (genshin impact)'
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    source = get_dialect(read)
    target = get_dialect(write)
    if target is not source:
        slips = getattr(source, "slips", None)  # duck-typed plugin dialects may not have the hooks
        if slips is not None and ErrorLevel(errors) is not ErrorLevel.IGNORE:
            for slip in slips(text):  # {1girl:1.2}: a WebUI habit that NovelAI reads as text
                warn(PromptWarning(slip, "weight-slip"))
        with_preset = getattr(source, "with_preset", None)
        if nai_preset is not None and with_preset is not None:
            text = with_preset(text, nai_preset, negative=negative)
    tree = source.parse(text)
    if target is source:
        return target.render(tree, errors=ErrorLevel(errors))
    tree = _lowered(tree, target, ErrorLevel(errors))
    if getattr(target, "render_decimals", False):  # declared: plugin dialects may not round weights
        return target.render(tree, errors=ErrorLevel(errors), decimals=decimals)  # type: ignore[call-arg]
    return target.render(tree, errors=ErrorLevel(errors))


def attention(text_or_prompt: str | Prompt, dialect: str | Dialect | None = None) -> list[tuple[str, float]]:
    """The flat weighted text runs ``[(text, weight), ...]`` of a prompt.

    For ``webui`` this is WebUI's ``parse_prompt_attention`` exactly: the same
    strings, the same float weights bit for bit, equal-weight runs merged,
    ``BREAK`` as ``("BREAK", -1.0)``. For ``nai``/``nai4`` the same shape with
    NovelAI's weights. A tree uses the dialect it was parsed with unless
    ``dialect`` says otherwise; in its own dialect its runs are computed from
    its nodes (not printed and scanned again), equal to the text's bit for bit.

    Example:
        >>> attention("a (b) [c]")
        [('a ', 1.0), ('b', 1.1), (' ', 1.0), ('c', 0.9090909090909091)]
        >>> attention("{a}", "nai")
        [('a', 1.05)]
    """
    if dialect is None:
        dialect = text_or_prompt.dialect if isinstance(text_or_prompt, Prompt) else defaults.DIALECT
    return get_dialect(dialect).attention(text_or_prompt)


def detect(text: str) -> str:
    """Guess the dialect a prompt is written in: ``"webui"``, ``"nai"``, ``"nai4"`` or ``"mixed"``.

    ``w::x::`` at the start of a tag means NovelAI V4; curly braces without
    stronger WebUI evidence (extra networks, AND, BREAK, escapes, prompt
    editing) mean NovelAI; both NovelAI braces and WebUI weights, neither with
    three times the other's evidence, mean ``mixed``
    (:func:`naiprompt.dialects.mixed.detect_evidence` says why); anything else is WebUI.
    The weighing of the built-ins' evidence lives with the ``mixed`` reading
    (:func:`naiprompt.dialects.mixed.detect`).

    Example:
        >>> detect("{masterpiece}, 1girl, [bad hands]")
        'nai'
        >>> detect("1girl, -1::hat::, 2::smile::")
        'nai4'
        >>> detect("(masterpiece:1.2), <lora:ink:0.8>")
        'webui'
        >>> detect("masterpiece, {{1girl}}, [[[bad hands]]], (red eyes:1.3)")
        'mixed'
    """
    from naiprompt.dialects.mixed import detect as detect_dialect

    return detect_dialect(text)
