"""Printing trees: the public :class:`Printer` base every dialect's printer builds on.

A printer does not recurse. :func:`events` first lays the tree out, with an
explicit stack, as a flat list of :class:`Event` objects in source order:
``open``/``close`` around an :class:`~naiprompt.ast.Emphasis`, ``text`` for a
:class:`~naiprompt.ast.Text`, ``gopen``/``gsep``/``gclose`` around the parts of
any other node with children (a :class:`~naiprompt.ast.Schedule`, an
:class:`~naiprompt.ast.Alternate`, a plugin's own node) and ``leaf`` for the
rest. :meth:`Printer.print` then hands each event to a hook named after the
event and the node's class, in the spirit of LibCST's ``leave_<Node>``:

========================  ======================================================
event                     hook
========================  ======================================================
``text``, ``leaf``        ``print_Text(node)``, ``print_Break(node)``, ...
``open`` / ``close``      ``open_Emphasis(node)`` / ``close_Emphasis(node)``
``gopen``                 ``open_Schedule(node)``, ``open_Alternate(node)``, ...
``gsep`` / ``gclose``     ``sep_<Node>(node)`` / ``close_<Node>(node)``
========================  ======================================================

A hook returns the text to append (``None`` for nothing). A printer without a
hook for a node says so through the single :meth:`Printer.unsupported` path,
which obeys the :class:`~naiprompt.errors.ErrorLevel`: ``raise`` a
:class:`~naiprompt.errors.ConversionError`, ``warn`` with a
:class:`~naiprompt.errors.PromptWarning`, or ``ignore``. Without group hooks a
schedule or an alternation keeps one part (the ``before`` branch, the first
option) and reports the rest as lost.

Example:
    >>> import naiprompt
    >>> class Plain(Printer):
    ...     label = "plain text"
    ...     def print_Text(self, node):
    ...         return node.value
    >>> Plain(errors="ignore").print(naiprompt.parse("(a:1.2), [b|c] <lora:x:1>"))
    'a, b'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs

from naiprompt.ast import And, Emphasis, Node, Prompt, SubpromptWeight, Text, children
from naiprompt.dialects._tidy import DROPPED, JOINT, tidy, tree_markers_safe
from naiprompt.errors import ConversionError, ErrorLevel, warn

__all__ = ["Event", "Printer", "events", "mark_omissions"]


@attrs.define
class Event:
    """One step of printing: ``kind`` is open, close, text, leaf, gopen, gsep or gclose.

    For ``gsep`` ``index`` is the number of the part that starts; for ``gclose``
    the number of parts. ``omit`` marks a closer the source left out (see
    :func:`mark_omissions`).

    Example:
        >>> Event("text", Text(value="a")).kind
        'text'
    """

    kind: str
    node: Node
    index: int = 0
    omit: bool = False


def events(body: Sequence[Node], *, collapse: bool = False) -> list[Event]:
    """Lay a body out as print events, in source order, without recursion.

    ``collapse`` joins chains of emphasis with a single child into one level
    whose weight is their product (innermost first, as the UIs multiply):
    ``{{x}}`` printed for WebUI is ``(x:1.1025)``, not two nested weights.

    Example:
        >>> import naiprompt
        >>> [e.kind for e in events(naiprompt.parse("(a) [b|c]").body)]
        ['open', 'text', 'close', 'text', 'gopen', 'text', 'gsep', 'text', 'gclose']
        >>> from naiprompt.ast import Emphasis
        >>> [e.node.weight for e in events([Emphasis(body=[Emphasis(body=[Text(value="x")], weight=1.1)], weight=1.1)],
        ...                                  collapse=True) if e.kind == "open"]
        [1.2100000000000002]
    """
    out: list[Event] = []
    # Work items: a node to lay out, or a ready event to emit.
    work: list[Node | Event] = list(reversed(body))
    while work:
        item = work.pop()
        if isinstance(item, Event):
            out.append(item)
        elif isinstance(item, Text):
            out.append(Event("text", item))
        elif isinstance(item, Emphasis):
            if collapse and len(item.body) == 1 and isinstance(item.body[0], Emphasis):
                item = _collapsed(item)
            out.append(Event("open", item))
            work.append(Event("close", item))
            work.extend(reversed(item.body))
        else:
            parts = tuple(children(item))
            if not parts:
                out.append(Event("leaf", item))
                continue
            out.append(Event("gopen", item))
            work.append(Event("gclose", item, len(parts)))
            for index in range(len(parts) - 1, -1, -1):
                work.extend(reversed(parts[index]))
                if index:
                    work.append(Event("gsep", item, index))
    return out


def _collapsed(node: Emphasis) -> Emphasis:
    chain = [node]
    while len(chain[-1].body) == 1 and isinstance(chain[-1].body[0], Emphasis):
        chain.append(chain[-1].body[0])
    weight = 1.0
    for level in reversed(chain):
        weight *= level.weight
    return Emphasis(body=chain[-1].body, weight=weight, span=node.span)


def mark_omissions(
    laid_out: list[Event],
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
        >>> laid_out = events(naiprompt.parse("(a").body)
        >>> mark_omissions(laid_out, lambda node: True)
        >>> [e.omit for e in laid_out]
        [False, False, True]
    """
    # Scanning backwards: what comes next once closers and continuations are skipped
    # ("end", "content" or an opener), and the continuations met on the way there.
    ahead: object = "end"
    continuations: list[Emphasis] = []
    for event in reversed(laid_out):
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


#: The hook-name prefix of each event kind.
_PREFIX = {
    "text": "print_",
    "leaf": "print_",
    "open": "open_",
    "close": "close_",
    "gopen": "open_",
    "gsep": "sep_",
    "gclose": "close_",
}
_GROUP_KINDS = frozenset({"gopen", "gsep", "gclose"})
_UNKNOWN: Any = object()  # a hook not looked up yet
_Hook = Callable[[Any, Any], "str | None"]
#: Per printer class: (prefix or event kind, node class) -> the hook, or None; looked up once.
_HOOKS: dict[type, dict[tuple[str, type], _Hook | None]] = {}


def _hook_table(cls: type) -> dict[tuple[str, type], _Hook | None]:
    table = _HOOKS.get(cls)
    if table is None:
        table = _HOOKS[cls] = {}
    return table


class _Group:
    """A node with parts being printed: the part kept (None: all) and the current one."""

    __slots__ = ("current", "keep")

    def __init__(self, keep: int | None) -> None:
        self.keep = keep
        self.current = 0

    @property
    def dropping(self) -> bool:
        return self.keep is not None and self.current != self.keep


class Printer:
    """Base of the dialect printers: walks the events, calls the hooks, reports losses.

    Subclasses define hooks (see the module docstring) and may override
    :meth:`begin` (set up per-print state), :meth:`layout` (the events to
    print: collapsed, re-marked), :meth:`write` (around every event) and
    :meth:`end` (the final text). :attr:`out` holds the pieces printed so far.

    ``errors`` decides what :meth:`unsupported` does; ``source`` is the parsed
    prompt positions are reported against (the printed one by default).
    ``label`` names the target in the messages of the default hooks.

    Example:
        >>> import naiprompt
        >>> class Upper(Printer):
        ...     label = "Upper"
        ...     def print_Text(self, node):
        ...         return node.value.upper()
        ...     def open_Emphasis(self, node):
        ...         return "<"
        ...     def close_Emphasis(self, node):
        ...         return ">"
        >>> printer = Upper(errors="ignore")
        >>> printer.print(naiprompt.parse("a (b) BREAK [c:d:2]"))
        'A <B>C'
        >>> printer.losses
        ['Upper cannot print Break; it is dropped', 'Upper has no prompt editing; keeping one branch']
    """

    #: The dialect this printer writes (its ``name``).
    dialect: str = ""
    #: How the messages of the default hooks name the target ("NovelAI has no ...").
    label: ClassVar[str] = ""

    def __init__(self, *, errors: ErrorLevel | str = ErrorLevel.WARN, source: Prompt | None = None) -> None:
        self.errors = ErrorLevel(errors)
        self.source = source
        #: Every loss reported, in order, whatever the error level.
        self.losses: list[str] = []
        #: The pieces printed so far; :meth:`end` joins them.
        self.out: list[str] = []
        #: The event being printed (hooks read ``omit`` and ``index`` from it).
        self.event: Event | None = None
        self._groups: list[_Group] = []
        self._dropping = 0  # groups on the stack whose current part is not printed
        self._prompt: Prompt | None = None
        self._marked: bool | None = None  # seams are marked (then tidied); None: not decided yet

    # -- the walk ----------------------------------------------------------------------------
    def print(self, prompt: Prompt) -> str:
        """Return ``prompt`` as text: :meth:`begin`, :meth:`write` per event, :meth:`end`.

        Example:
            >>> import naiprompt
            >>> class Words(Printer):
            ...     def print_Text(self, node):
            ...         return node.value
            >>> Words().print(naiprompt.parse("red, eyes"))
            'red, eyes'
        """
        self.source = self.source or prompt
        self.out = []
        self._groups = []
        self._dropping = 0
        self._prompt = prompt
        self._marked = None
        self.begin(prompt)
        laid_out = self.layout(prompt)
        if type(self).write is Printer.write:
            self._write_all(laid_out)
        else:
            for event in laid_out:
                self.write(event)
        self.event = None
        return self.end(prompt)

    def _write_all(self, laid_out: list[Event]) -> None:
        """:meth:`write` for every event, inlined: printing is a hot path (``convert`` of a batch)."""
        append = self.out.append
        lookup = _hook_table(type(self)).get
        groups = _GROUP_KINDS
        for event in laid_out:
            kind = event.kind
            if kind in groups:
                self.event = event
                self._write_group(event)
                continue
            if self._dropping:
                continue
            self.event = event
            node = event.node
            hook = lookup((kind, node.__class__), _UNKNOWN)
            if hook is _UNKNOWN:
                hook = self.hook(_PREFIX[kind], node)
            piece = self.missing(event) if hook is None else hook(self, node)
            if piece is not None:
                append(piece)

    def begin(self, prompt: Prompt) -> None:
        """Set up before the first event (default: nothing).

        Example:
            >>> Printer().begin(Prompt(body=())) is None
            True
        """

    def layout(self, prompt: Prompt) -> list[Event]:
        """The events to print (default: :func:`events` of the body, uncollapsed).

        Example:
            >>> import naiprompt
            >>> [e.kind for e in Printer().layout(naiprompt.parse("(a)"))]
            ['open', 'text', 'close']
        """
        return events(prompt.body)

    def end(self, prompt: Prompt) -> str:
        """The final text once every event is written: :attr:`out` joined, its seams tidied.

        Example:
            >>> Printer().end(Prompt(body=()))
            ''
        """
        text = "".join(self.out)
        return tidy(text) if self._marked else text

    # -- seams: where a dropped construct leaves a gap ------------------------------------------------
    def joint(self) -> str:
        """What to print where a dropped construct joined two parts (``AND``, ``BREAK``).

        A marker that :meth:`end` turns into ``", "``, or closes where a comma
        is already there; plainly ``", "`` when the prompt's own text holds the marker.

        Example:
            >>> import naiprompt
            >>> class Joined(Printer):
            ...     def print_Text(self, node):
            ...         return node.value
            ...     def print_And(self, node):
            ...         return self.joint()
            >>> Joined().print(naiprompt.parse("a, AND b"))
            'a, b'
        """
        return JOINT if self._seams_marked() else ", "

    def dropped(self) -> str:
        """What to print where a construct was dropped: a marker whose gap :meth:`end` closes.

        Example:
            >>> import naiprompt
            >>> class NoNetworks(Printer):
            ...     def print_Text(self, node):
            ...         return node.value
            ...     def print_Network(self, node):
            ...         return self.dropped()
            >>> NoNetworks().print(naiprompt.parse("a, <lora:x:1>, b"))
            'a, b'
        """
        return DROPPED if self._seams_marked() else ""

    def _seams_marked(self) -> bool:
        if self._marked is None:
            prompt = self._prompt
            source = self.source or prompt
            self._marked = (source is None or tree_markers_safe(source)) and (
                prompt is None or tree_markers_safe(prompt)
            )
        return self._marked

    def write(self, event: Event) -> str | None:
        """Print one event through its hook; return what was appended (None: nothing).

        Events inside a part that a schedule or an alternation without hooks
        drops are skipped.

        Example:
            >>> class Words(Printer):
            ...     def print_Text(self, node):
            ...         return node.value
            >>> printer = Words()
            >>> printer.write(Event("text", Text(value="a"))), printer.out
            ('a', ['a'])
        """
        self.event = event
        kind = event.kind
        node = event.node
        if kind in _GROUP_KINDS:
            return self._write_group(event)
        if self._dropping:
            return None
        hook = self.hook(_PREFIX[kind], node)
        piece = self.missing(event) if hook is None else hook(self, node)
        if piece is not None:
            self.out.append(piece)
        return piece

    def _write_group(self, event: Event) -> str | None:
        kind, node = event.kind, event.node
        hook = self.hook(_PREFIX[kind], node)
        if kind == "gopen":
            # A printer with an opening hook prints every part; without one, one part stays.
            # Inside a part already dropped nothing more is reported.
            keep = None if hook is not None else 0 if self._dropping else self.keep_part(node)
            group = _Group(keep)
            self._groups.append(group)
            self._dropping += group.dropping
        elif kind == "gsep":
            group = self._groups[-1]
            self._dropping -= group.dropping
            group.current = event.index
            self._dropping += group.dropping
        else:
            group = self._groups.pop()
            self._dropping -= group.dropping
        if hook is None or self._dropping:
            return None
        piece = None if hook is None else hook(self, node)
        if piece is not None:
            self.out.append(piece)
        return piece

    @classmethod
    def hook(cls, prefix: str, node: object) -> _Hook | None:
        """The hook ``prefix + ClassName`` for ``node``, along its class's bases; None if absent.

        Example:
            >>> class P(Printer):
            ...     def print_Text(self, node):
            ...         return node.value
            >>> P.hook("print_", Text(value="a")) is P.print_Text
            True
            >>> P.hook("print_", Emphasis(body=(), weight=1.0)) is None
            True
        """
        table = _hook_table(cls)
        key = (prefix, type(node))
        if key in table:
            return table[key]
        found: _Hook | None = None
        for base in type(node).__mro__:
            found = getattr(cls, prefix + base.__name__, None)
            if found is not None:
                break
        table[key] = found
        for kind, kind_prefix in _PREFIX.items():  # the same entry under each event kind, for _write_all
            if kind_prefix == prefix:
                table[(kind, type(node))] = found
        return found

    # -- defaults for what a printer has no hook for ---------------------------------------------
    def missing(self, event: Event) -> str | None:
        """What an event without a hook prints: reported through :meth:`unsupported`, then dropped.

        A leaf leaves a :meth:`dropped` seam; an emphasis without hooks keeps its
        text, unweighted (reported at the opener).

        Example:
            >>> from naiprompt.ast import Break
            >>> printer = Printer(errors="ignore")
            >>> printer.missing(Event("leaf", Break())) == printer.dropped(), printer.losses
            (True, ['this printer cannot print Break; it is dropped'])
        """
        node = event.node
        name = type(node).__name__
        target = self.label or self.dialect or "this printer"
        if event.kind == "open":
            self.unsupported("weight", f"{target} cannot print {name}; the text is kept unweighted", node)
        elif event.kind in ("text", "leaf"):
            self.unsupported(name, f"{target} cannot print {name}; it is dropped", node)
            return self.dropped()
        return None

    def keep_part(self, node: Node) -> int:
        """The one part a node with parts keeps when the printer has no hooks for it.

        A schedule keeps its ``before`` branch (the ``after`` branch if that one
        is empty), anything else its first part; the loss is reported.

        Example:
            >>> import naiprompt
            >>> printer = Printer(errors="ignore")
            >>> printer.keep_part(naiprompt.parse("[:b:2]").body[0]), printer.losses
            (1, ['this printer has no prompt editing; keeping one branch'])
        """
        target = self.label or self.dialect or "this printer"
        kind = type(node).__name__
        if kind == "Schedule":
            before = getattr(node, "before", None)
            self.unsupported("prompt editing", f"{target} has no prompt editing; keeping one branch", node)
            return 1 if before is not None and not before else 0
        if kind == "Alternate":
            self.unsupported("alternation", f"{target} has no alternation; keeping the first option", node)
        else:
            self.unsupported(kind, f"{target} cannot print {kind}; keeping its first part", node)
        return 0

    # -- the one loss path -----------------------------------------------------------------------
    def unsupported(self, construct: str, detail: str, node: object) -> None:
        """Report a construct the target cannot express, under the error level.

        Every loss is recorded in :attr:`losses`; then ``raise`` raises a
        :class:`~naiprompt.errors.ConversionError` pointing at the node in the
        source, ``warn`` emits a :class:`~naiprompt.errors.PromptWarning` (code
        ``lossy-conversion``, located in the source) that points at the caller's
        line, and ``ignore`` does nothing more.

        Example:
            >>> Printer(errors="raise").unsupported("AND", "no AND here", None)
            Traceback (most recent call last):
            ...
            naiprompt.errors.ConversionError: no AND here
            >>> import warnings
            >>> with warnings.catch_warnings(record=True) as caught:
            ...     warnings.simplefilter("always")
            ...     Printer(errors="warn").unsupported("AND", "no AND here", None)
            >>> str(caught[0].message)
            'no AND here'
            >>> printer = Printer(errors="ignore")
            >>> printer.unsupported("AND", "no AND here", None)
            >>> printer.losses
            ['no AND here']
        """
        self.losses.append(detail)
        if self.errors is ErrorLevel.IGNORE:
            return
        span = getattr(node, "span", None)
        text = self.source.source if self.source is not None else None
        position = span.start if span is not None and text is not None else None
        if self.errors is ErrorLevel.RAISE:
            raise ConversionError(construct, detail, text, position)
        warn(detail, "lossy-conversion", text=text, offset=position)
