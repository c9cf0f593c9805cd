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
import sys
import warnings
from collections.abc import Iterable


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
    locate the problem; ``text`` is the whole prompt; ``reason`` the bare message;
    ``code`` a warning code: ``unclosed-bracket`` for a bracket left open, the
    lenient reader's own code where the reader finds the problem, and
    ``syntax-error`` where the strict grammar rejects a token.

    Example:
        >>> err = PromptSyntaxError("unclosed '('", "a (b", 2)
        >>> (err.line, err.column)
        (1, 3)
        >>> print(err)
        unclosed '(' at line 1, column 3:
        a (b
          ^
    """

    def __init__(self, reason: str, text: str, position: int, *, code: str = "syntax-error") -> None:
        self.reason = reason
        self.code = code
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


class PluginError(PromptError, LookupError):
    """An unknown name, or a plugin that fails to load or clashes with another.

    Raised by the registries of dialects, transforms and tokenizers; also
    importable as ``naiprompt.PluginError``.

    Example:
        >>> str(PluginError("no dialect named 'x'"))
        "no dialect named 'x'"
        >>> issubclass(PluginError, LookupError)
        True
    """


class PromptWarning(UserWarning):
    """One thing naiprompt read or wrote that the user likely did not mean.

    The same class is the object listed on :attr:`naiprompt.ast.Prompt.warnings`
    and the category of the Python warnings naiprompt emits, so
    ``warnings.simplefilter("error", PromptWarning)`` turns them all into errors.

    ``code`` is a stable kebab-case id (the table is in the docs' error page),
    ``message`` the human sentence, ``offset`` the 0-based position in the
    original text with ``line`` and ``column`` (1-based), all None when the
    warning points at no text. ``count`` says how many identical warnings
    (same code, message and position) it stands for. Two warnings are equal
    when all of these are.

    Example:
        >>> import naiprompt
        >>> (note,) = naiprompt.parse("a\\n(b", "webui").warnings
        >>> note.code, note.offset, note.line, note.column
        ('unclosed-bracket', 2, 2, 1)
        >>> print(note)
        2:1: unclosed bracket
        >>> note == PromptWarning.at("a\\n(b", 2, "unclosed-bracket", "unclosed bracket")
        True
    """

    def __init__(
        self,
        message: str,
        code: str = "prompt-warning",
        *,
        offset: int | None = None,
        line: int | None = None,
        column: int | None = None,
        count: int = 1,
    ) -> None:
        # ``warnings.warn("text", PromptWarning)`` builds one from the message alone.
        super().__init__(message)
        self.message = message
        self.code = code
        self.offset = offset
        self.line = line
        self.column = column
        self.count = count

    @classmethod
    def at(cls, text: str, offset: int, code: str, message: str) -> PromptWarning:
        """A warning about ``text`` at the 0-based ``offset`` (line and column computed).

        Example:
            >>> PromptWarning.at("ab\\ncd", 4, "unclosed-bracket", "unclosed bracket")
            PromptWarning('unclosed bracket', code='unclosed-bracket', offset=4, line=2, column=2)
        """
        line, column = _line_column(text, offset)
        return cls(message, code, offset=offset, line=line, column=column)

    def _key(self) -> tuple[object, ...]:
        return (self.code, self.message, self.offset, self.line, self.column, self.count)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PromptWarning):
            return NotImplemented
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line is not None else ""
        times = f" ({self.count} times)" if self.count > 1 else ""
        return f"{where}{self.message}{times}"

    def __repr__(self) -> str:
        parts = [repr(self.message), f"code={self.code!r}"]
        if self.offset is not None:
            parts.append(f"offset={self.offset}, line={self.line}, column={self.column}")
        if self.count != 1:
            parts.append(f"count={self.count}")
        return f"{type(self).__name__}({', '.join(parts)})"


# The last position located: a printer that warns about node after node of one text
# asks for increasing offsets, and counting on from the last one keeps that linear.
_last_located: list[tuple[str, int, int, int]] = [("", 0, 1, 0)]  # text, offset, line, line start


def _line_column(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    known, start, line, line_start = _last_located[0]  # one read: the tuple is replaced whole
    if known is not text or offset < start:
        start, line, line_start = 0, 1, 0
    newlines = text.count("\n", start, offset)
    if newlines:
        line, line_start = line + newlines, text.rfind("\n", start, offset) + 1
    _last_located[0] = (text, offset, line, line_start)
    return line, offset - line_start + 1


#: What a lenient reader found: ``(offset, code, message)``, offsets into the original text.
Problem = tuple[int, str, str]


def collect(text: str, problems: Iterable[Problem], *, strict: bool = False) -> tuple[PromptWarning, ...]:
    """The warnings of a lenient reading, or with ``strict`` the error for the first problem.

    Problems are sorted by position; identical ones (same offset, code and
    message) collapse into one warning with a ``count``. Lines and columns are
    counted in one pass over the text, so any number of problems costs linear time.

    Example:
        >>> collect("(a) b) c)", [(5, "unmatched-closer", "')' closes nothing")] * 2)
        (PromptWarning("')' closes nothing", code='unmatched-closer', offset=5, line=1, column=6, count=2),)
        >>> collect("a (b", [(2, "unclosed-bracket", "unclosed bracket")], strict=True)
        Traceback (most recent call last):
        ...
        naiprompt.errors.PromptSyntaxError: unclosed bracket at line 1, column 3:
        a (b
          ^
    """
    counts: dict[Problem, int] = {}
    for problem in problems:
        counts[problem] = counts.get(problem, 0) + 1
    if not counts:
        return ()
    ordered = sorted(counts)
    if strict:
        offset, code, message = ordered[0]
        raise PromptSyntaxError(message, text, offset, code=code)
    found: list[PromptWarning] = []
    line, line_start, scanned = 1, 0, 0
    for problem in ordered:
        offset, code, message = problem
        offset = max(0, min(offset, len(text)))
        # Walk forward from the last offset only: the offsets are sorted.
        newline = text.find("\n", scanned, offset)
        while newline != -1:
            line, line_start = line + 1, newline + 1
            newline = text.find("\n", line_start, offset)
        scanned = offset
        found.append(
            PromptWarning(
                message, code, offset=offset, line=line, column=offset - line_start + 1, count=counts[problem]
            )
        )
    return tuple(found)


def warn(
    warning: PromptWarning | str,
    code: str = "prompt-warning",
    *,
    text: str | None = None,
    offset: int | None = None,
) -> None:
    """Emit ``warning`` as a Python warning that points at the caller's line.

    The line is the first frame outside the naiprompt package, so the file and
    line a warning shows are the user's, not the library's. A plain string
    becomes a :class:`PromptWarning` with ``code``, located at ``offset`` in
    ``text`` when both are given (the way a printer reports a construct the
    target cannot write).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn("NovelAI has no BREAK", "lossy-conversion")
        >>> caught[0].message.code, caught[0].category.__name__
        ('lossy-conversion', 'PromptWarning')
    """
    if isinstance(warning, str):
        if text is not None and offset is not None:
            warning = PromptWarning.at(text, offset, code, warning)
        else:
            warning = PromptWarning(warning, code)
    warnings.warn(warning, stacklevel=caller_stacklevel())


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside naiprompt.

    It is meant for a ``warnings.warn`` call in the function that calls this
    one: level 1 is that function, and each frame whose module belongs to the
    package adds one. (Python 3.12's ``skip_file_prefixes`` does the same by
    file name; this works on 3.10 too.)

    Example:
        >>> caller_stacklevel() >= 1
        True
    """
    frame = sys._getframe(1)
    level = 1
    while _ours(frame.f_globals.get("__name__", "")) and frame.f_back is not None:
        frame = frame.f_back
        level += 1
    return level


def _ours(module: str) -> bool:
    return module == "naiprompt" or module.startswith("naiprompt.")


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
