"""Errors and warnings raised by naiprompt.

Every error that points into a prompt carries the position, the 1-based line and
column, and a message that repeats the offending line with a caret under it.

Example:
    >>> import naiprompt
    >>> try:
    ...     naiprompt.parse("(a:1.2.3)", strict=True)
    ... except naiprompt.PromptSyntaxError as exc:
    ...     print(exc.line, exc.column)
    1 4
"""

from __future__ import annotations

import enum


def caret_context(text: str, position: int) -> tuple[int, int, str]:
    """Return ``(line, column, context)`` for a 0-based position in ``text``.

    ``context`` is the line holding the position followed by a caret line.

    Example:
        >>> caret_context("ab\\ncd", 4)
        (2, 2, 'cd\\n ^')
    """
    position = max(0, min(position, len(text)))
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    if line_end == -1:
        line_end = len(text)
    line = text.count("\n", 0, position) + 1
    column = position - line_start + 1
    source_line = text[line_start:line_end]
    # Tabs keep their width under the caret so it lines up in a terminal.
    pad = "".join("\t" if ch == "\t" else " " for ch in source_line[: column - 1])
    return line, column, f"{source_line}\n{pad}^"


class PromptError(Exception):
    """Base class of every naiprompt error.

    Example:
        >>> issubclass(PromptSyntaxError, PromptError)
        True
    """


class PromptSyntaxError(PromptError, ValueError):
    """A prompt that strict parsing rejects.

    Attributes ``position`` (0-based offset), ``line`` and ``column`` (1-based)
    locate the problem; ``text`` is the whole prompt; ``reason`` the bare message.

    Example:
        >>> err = PromptSyntaxError("unclosed '('", "a (b", 2)
        >>> (err.line, err.column)
        (1, 3)
        >>> print(err)
        unclosed '(' at line 1, column 3:
        a (b
          ^
    """

    def __init__(self, reason: str, text: str, position: int) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        self.line, self.column, self.context = caret_context(text, position)
        super().__init__(f"{reason} at line {self.line}, column {self.column}:\n{self.context}")


class ConversionError(PromptError, ValueError):
    """A construct the target dialect cannot express, under ``errors="raise"``.

    Example:
        >>> import naiprompt
        >>> try:
        ...     naiprompt.convert("[a:b:5]", "webui", "nai", errors="raise")
        ... except naiprompt.ConversionError as exc:
        ...     print(exc.construct, exc.position)
        prompt editing 0
    """

    def __init__(self, construct: str, detail: str, text: str | None, position: int | None) -> None:
        self.construct = construct
        self.detail = detail
        self.text = text
        self.position = position
        where = ""
        if text is not None and position is not None:
            line, column, context = caret_context(text, position)
            where = f" at line {line}, column {column}:\n{context}"
        super().__init__(f"{detail}{where}")


class PromptWarning(UserWarning):
    """Warning category for lossy conversions and inputs WebUI itself rejects.

    Example:
        >>> import warnings, naiprompt
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = naiprompt.convert("a AND b", "webui", "nai")
        >>> caught[0].category.__name__
        'PromptWarning'
    """


class ErrorLevel(str, enum.Enum):
    """What to do with a construct the target dialect cannot express.

    Example:
        >>> ErrorLevel("warn") is ErrorLevel.WARN
        True
    """

    IGNORE = "ignore"
    WARN = "warn"
    RAISE = "raise"


class MetadataError(PromptError, ValueError):
    """An image whose generation metadata cannot be read: not an image, truncated or hostile.

    Raised by :mod:`naiprompt.metadata` (``read``, ``write``) with a message that names
    what is wrong (a chunk length past the end of the file, a text that decompresses
    past the size cap, ...).

    Example:
        >>> issubclass(MetadataError, ValueError), issubclass(MetadataError, PromptError)
        (True, True)
    """
