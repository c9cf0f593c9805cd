"""Printing the AST: a flat event stream, and the one ``unsupported()`` path.

A tree is first turned (without recursion) into :func:`events`: ``open``/``close``
around an emphasis, ``text``, ``leaf`` for the other nodes, and ``group`` events
for schedules and alternations. A printer then writes the events; seeing them
in order lets it decide what the source left out (an unclosed bracket's closer)
and what must be protected (text that would read as syntax).

Example:
    >>> import naiprompt
    >>> [e.kind for e in events(naiprompt.parse("(a)").body)]
    ['open', 'text', 'close']
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import attrs

from naiprompt.ast import Alternate, And, Emphasis, Node, Prompt, Schedule, SubpromptWeight, Text
from naiprompt.errors import ConversionError, ErrorLevel, PromptWarning


@attrs.define
class Event:
    """One step of printing: ``kind`` is open, close, text, leaf, gopen, gsep, gclose.

    For ``gsep`` ``index`` is the number of the part that starts; for ``gclose``
    the number of parts.

    Example:
        >>> Event("text", Text(value="a")).kind
        'text'
    """

    kind: str
    node: Node
    index: int = 0
    omit: bool = False


def events(body: Sequence[Node], *, collapse: bool = False) -> list[Event]:
    """A body as print events, in source order.

    ``collapse`` joins chains of emphasis with a single child into one level
    whose weight is their product (innermost first, as the UIs multiply):
    ``{{x}}`` printed for WebUI is ``(x:1.1025)``, not two nested weights.

    Example:
        >>> from naiprompt.ast import Emphasis, Text
        >>> [e.kind for e in events([Emphasis(body=[Text(value="x")], weight=1.1)])]
        ['open', 'text', 'close']
    """
    out: list[Event] = []
    # Work items: a node to expand, or a ready event to emit.
    work: list[Node | Event] = list(reversed(body))
    while work:
        item = work.pop()
        if isinstance(item, Event):
            out.append(item)
            continue
        if isinstance(item, Emphasis):
            if collapse and len(item.body) == 1 and isinstance(item.body[0], Emphasis):
                item = _collapsed(item)
            out.append(Event("open", item))
            work.append(Event("close", item))
            work.extend(reversed(item.body))
        elif isinstance(item, (Schedule, Alternate)):
            parts = (
                ([item.before] if item.before is not None else []) + [item.after]
                if isinstance(item, Schedule)
                else list(item.options)
            )
            out.append(Event("gopen", item))
            work.append(Event("gclose", item, len(parts)))
            for index in range(len(parts) - 1, -1, -1):
                work.extend(reversed(parts[index]))
                if index:
                    work.append(Event("gsep", item, index))
        elif isinstance(item, Text):
            out.append(Event("text", item))
        else:
            out.append(Event("leaf", item))
    return out


def _collapsed(node: Emphasis) -> Emphasis:
    chain = [node]
    while len(chain[-1].body) == 1 and isinstance(chain[-1].body[0], Emphasis):
        chain.append(chain[-1].body[0])
    weight = 1.0
    for level in reversed(chain):
        weight *= level.weight
    return Emphasis(body=chain[-1].body, weight=weight, span=node.span)


class Printer:
    """Base of the dialect printers: collects output, reports losses.

    ``errors`` decides what :meth:`unsupported` does: ``raise`` a
    :class:`~naiprompt.errors.ConversionError`, ``warn`` with a
    :class:`~naiprompt.errors.PromptWarning`, or ``ignore``.

    Example:
        >>> p = Printer(errors="ignore")
        >>> p.unsupported("BREAK", "NovelAI has no BREAK", None)
        >>> p.losses
        ['NovelAI has no BREAK']
    """

    dialect = ""

    def __init__(self, *, errors: ErrorLevel | str = ErrorLevel.WARN, source: Prompt | None = None) -> None:
        self.errors = ErrorLevel(errors)
        self.source = source
        self.losses: list[str] = []

    def unsupported(self, construct: str, detail: str, node: Node | None) -> None:
        """Report a construct the target cannot express, under the error level.

        Example:
            >>> Printer(errors="raise").unsupported("AND", "no AND here", None)
            Traceback (most recent call last):
            ...
            naiprompt.errors.ConversionError: no AND here
        """
        self.losses.append(detail)
        if self.errors is ErrorLevel.IGNORE:
            return
        span = getattr(node, "span", None) if node is not None else None
        text = self.source.source if self.source is not None else None
        position = span.start if span is not None and text is not None else None
        if self.errors is ErrorLevel.RAISE:
            raise ConversionError(construct, detail, text, position)
        where = f" (at position {position})" if position is not None else ""
        warnings.warn(f"{detail}{where}", PromptWarning, stacklevel=4)


def mark_omissions(
    events: list[Event],
    runs_to_end: Callable[[Emphasis], bool],
    implicit_close: Callable[[Emphasis, Emphasis], bool] | None = None,
) -> None:
    """Mark the closers an unclosed range left out, where leaving them out is exact.

    A closer may be left out when only closers follow it up to the end of the
    subprompt and ``runs_to_end(node)`` (the range then runs to the end, as the
    source had it), or when the next opener continues the same range, or when
    ``implicit_close(node, next_open)`` says the next opener ends it.

    Example:
        >>> import naiprompt
        >>> stream = events(naiprompt.parse("(a").body)
        >>> mark_omissions(stream, lambda node: True)
        >>> [e.omit for e in stream]
        [False, False, True]
    """
    # Scanning backwards: what comes next once closers and continuations are skipped
    # ("end", "content" or an opener), and the continuations met on the way there.
    ahead: object = "end"
    continuations: list[Emphasis] = []
    for event in reversed(events):
        node = event.node
        if event.kind == "close":
            assert isinstance(node, Emphasis)
            if node.closed:
                continue
            if any(c.weight == node.weight and c.notation == node.notation for c in continuations):
                event.omit = True
            elif ahead == "end":
                event.omit = runs_to_end(node)
            elif implicit_close is not None and isinstance(ahead, Emphasis):
                event.omit = implicit_close(node, ahead)
        elif event.kind == "open":
            assert isinstance(node, Emphasis)
            if node.opened:
                ahead, continuations = node, []
            else:
                continuations.append(node)
        elif event.kind == "leaf" and isinstance(node, (And, SubpromptWeight)):
            ahead, continuations = "end", []
        else:
            ahead, continuations = "content", []
