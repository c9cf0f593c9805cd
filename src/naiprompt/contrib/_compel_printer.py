"""Printing a tree as compel text, without recursion.

A tree parsed as compel prints its source spellings back (``raw`` hints), as
long as they still spell the node; anything else (edited nodes, trees of other
dialects) is written canonically: ``word+``, ``(several words)1.3``,
``withLora(name, 0.8)``, ``a.swap(b)``, ``("a", "b").blend(0.7, 0.3)``.

Example:
    >>> import naiprompt
    >>> from naiprompt.contrib.compel import Compel
    >>> naiprompt.convert("(a), [b], (c d:1.3)", "webui", Compel())
    'a+, (b)0.9091, (c d)1.3'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from naiprompt.ast import Alternate, And, Break, Emphasis, Network, Prompt, Schedule, SubpromptWeight, Text
from naiprompt.contrib._compel_nodes import Blend, CompelNode, Conjunction, Lora, Swap
from naiprompt.contrib._compel_reader import MINUS, PLUS, SYNTAX, Reader
from naiprompt.contrib._compel_tree import PAREN, QUOTE, WORD, text_value
from naiprompt.errors import ErrorLevel
from naiprompt.printer import Event, Printer
from naiprompt.weight_math import format_number

_KEYWORD = re.compile(r"[A-Za-z0-9_-]+\Z")
#: How many ``+`` or ``-`` a canonical weight may use before it is written as a number.
_MAX_SIGNS = 4

# Contexts: the top level reads free words; inside a group or quote every sign and bracket is syntax.
TOP, GROUP, QUOTED = "top", "group", "quote"


def suffix_weight(raw: str) -> float | None:
    """The weight a written suffix (``++``, ``1.3``, `` .attend(0.8)``) gives; None if none.

    Example:
        >>> suffix_weight("--"), suffix_weight(" .attend( 1.5 )"), suffix_weight("")
        (0.81, 1.5, 1.0)
    """
    text = raw.strip(" \t\n\r")
    if not text:
        return 1.0
    if text.startswith(".attend"):
        inner = text[len(".attend") :].strip(" \t\n\r")
        if not (inner.startswith("(") and inner.endswith(")")):
            return None
        text = inner[1:-1].strip(" \t\n\r")
    reader = Reader(text, loose=False)
    found = reader.operator(0, numbers=True)
    return found[1] if found is not None and found[0] == len(text) else None


def weight_suffix(weight: float, decimals: int | None) -> str:
    """compel's shortest spelling of a weight: ``+``/``-`` runs where exact, else the number.

    Example:
        >>> weight_suffix(1.1 * 1.1, None), weight_suffix(0.9, None), weight_suffix(1.3, None)
        ('++', '-', '1.3')
    """
    if weight == 1.0:
        return ""
    for count in range(1, _MAX_SIGNS + 1):
        if weight == pow(PLUS, count):
            return "+" * count
        if weight == pow(MINUS, count):
            return "-" * count
    return format_number(weight, decimals)


def escape(value: str, context: str) -> str:
    """Protect the characters compel would read as syntax in ``context``.

    Example:
        >>> escape('a (b) "c"', "top")
        'a \\\\(b\\\\) \\\\"c\\\\"'
    """
    out = value.replace("(", "\\(").replace(")", "\\)").replace('"', '\\"')
    if context != TOP:
        # A lone sign or '=' ends a group in compel; compel keeps the backslash of these escapes.
        out = re.sub(r"[+\-](?![^\s" + re.escape(SYNTAX) + r"])|=", lambda m: "\\" + m.group(), out)
    return out


def _break_parts(body: Sequence[CompelNode]) -> list[list[CompelNode]]:
    """The parts of WebUI's ``a BREAK b``, for compel's ``("a", "b").and()``.

    Both encode each part on its own and concatenate the results.
    """
    parts: list[list[CompelNode]] = [[]]
    for node in body:
        if isinstance(node, Break):
            parts.append([])
        else:
            parts[-1].append(node)
    kept = []
    for part in parts:
        if part and isinstance(part[0], Text):
            part[0] = Text(value=part[0].value.lstrip())
        if part and isinstance(part[-1], Text):
            part[-1] = Text(value=part[-1].value.rstrip())
        part = [node for node in part if not (isinstance(node, Text) and not node.value)]
        if part:
            kept.append(part)
    return kept


def _is_word(text: str) -> bool:
    reader = Reader(text, loose=False)
    return bool(text) and reader.word_end(0) == len(text)


_Work = list["tuple[CompelNode, str] | str"]


class CompelPrinter(Printer):
    """Writes a tree as compel text; what compel cannot say goes through :meth:`unsupported`.

    compel reads a word differently at the top level, inside a group and inside
    a quote, so this printer keeps its own walk (an explicit work stack that
    carries each node's context) instead of the event list; it still dispatches
    through the :class:`~naiprompt.Printer` hooks, ``print_<Node>(node, context,
    work)``, compel's own nodes included.

    Example:
        >>> import naiprompt
        >>> CompelPrinter(decimals=4).print(naiprompt.parse("(a), (b c:1.3)"))
        'a+, (b c)1.3'
    """

    dialect = "compel"
    label = "compel"

    def __init__(
        self, *, errors: ErrorLevel | str = ErrorLevel.WARN, source: Prompt | None = None, decimals: int | None = None
    ) -> None:
        super().__init__(errors=errors, source=source)
        self.decimals = decimals
        self.same = False  # parsed as compel: the raw spellings may be reused
        self.separate = False  # a canonical weight was just written: keep the next word off it

    def emit(self, text: str) -> None:
        """Append ``text``, a space first where it would fuse with a canonical weight just written.

        Example:
            >>> printer = CompelPrinter()
            >>> printer.emit("a"), printer.out
            (None, ['a'])
        """
        if not text:
            return
        if self.separate and not (text[0].isspace() or text[0] in ',)"'):
            self.out.append(" ")
        self.separate = False
        self.out.append(text)

    def print(self, prompt: Prompt) -> str:
        """Return ``prompt`` as compel text (a top-level BREAK becomes ``.and()``).

        Example:
            >>> import naiprompt
            >>> CompelPrinter().print(naiprompt.parse("a BREAK b"))
            '("a", "b").and()'
        """
        self.source = self.source or prompt
        self.same = prompt.dialect == self.dialect
        self.out = []
        self.separate = False
        body: Sequence[CompelNode] = prompt.body
        if any(isinstance(node, Break) for node in body) and not any(
            isinstance(node, (And, SubpromptWeight, Blend, Conjunction)) for node in body
        ):
            parts = _break_parts(body)
            body = (
                [Conjunction(parts=parts, weights=[1.0] * len(parts))]
                if len(parts) > 1
                else [*parts[0]]
                if parts
                else []
            )
        # Work items: a node to print (with its context), or literal text to emit.
        work: _Work = [(node, TOP) for node in reversed(body)]
        while work:
            item = work.pop()
            if isinstance(item, str):
                if item.startswith("\0"):  # a canonical weight suffix
                    self.emit(item[1:])
                    self.separate = True
                else:
                    self.emit(item)
                continue
            node, context = item
            hook = self.hook("print_", node)
            if hook is None:
                self.missing(Event("leaf", node))  # type: ignore[arg-type]
            else:
                hook(self, node, context, work)  # type: ignore[call-arg]
        return "".join(self.out)

    # -- hooks: print_<Node>(node, context, work) ---------------------------------------------------
    def print_Text(self, node: Text, context: str, work: _Work) -> None:  # noqa: N802 - named after the node
        """Text: its source spelling, or escaped for ``context``.

        Example:
            >>> print(CompelPrinter().print(Prompt(body=[Text(value="a (b)")])))
            a \\(b\\)
        """
        quoted = context == QUOTED
        if self.same and node.raw is not None and text_value(node.raw, quoted=quoted) == node.value:
            self.emit(node.raw)
        else:
            self.emit(escape(node.value, context))

    def print_Emphasis(self, node: Emphasis, context: str, work: _Work) -> None:  # noqa: N802
        """A weight: ``word+``, ``(words)1.3``, or the source spelling.

        Example:
            >>> import naiprompt
            >>> CompelPrinter().print(naiprompt.parse("(a b:1.3)"))
            '(a b)1.3'
        """
        self.emphasis(node, context, work)

    def print_Network(self, node: Network, context: str, work: _Work) -> None:  # noqa: N802
        """``withLora(name, w)`` for a LoRA; other networks are dropped (reported).

        Example:
            >>> import naiprompt
            >>> CompelPrinter().print(naiprompt.parse("<lora:ink:0.8>"))
            'withLora(ink, 0.8)'
        """
        if isinstance(node, Lora) or node.name == "lora":
            self.lora(node)
        else:
            self.unsupported("extra network", f"compel has no <{node.name}:...> network; dropped", node)

    def print_Swap(self, node: Swap, context: str, work: _Work) -> None:  # noqa: N802
        """``a.swap(b)``.

        Example:
            >>> from naiprompt.contrib.compel import Compel
            >>> CompelPrinter().print(Compel().parse("cat.swap(dog)"))
            'cat.swap(dog)'
        """
        self.swap(node, context, work)

    def print_Blend(self, node: Blend, context: str, work: _Work) -> None:  # noqa: N802
        """``("a", "b").blend(0.7, 0.3)``.

        Example:
            >>> from naiprompt.contrib.compel import Compel
            >>> CompelPrinter().print(Compel().parse('("a", "b").blend(0.7, 0.3)'))
            '("a", "b").blend(0.7, 0.3)'
        """
        self.multi(node, context, work)

    def print_Conjunction(self, node: Conjunction, context: str, work: _Work) -> None:  # noqa: N802
        """``("a", "b").and()``.

        Example:
            >>> from naiprompt.contrib.compel import Compel
            >>> CompelPrinter().print(Compel().parse('("a", "b").and()'))
            '("a", "b").and()'
        """
        self.multi(node, context, work)

    def print_Schedule(self, node: Schedule, context: str, work: _Work) -> None:  # noqa: N802
        """compel has no prompt editing: one branch stays (reported).

        Example:
            >>> import naiprompt
            >>> CompelPrinter(errors="ignore").print(naiprompt.parse("[a:b:2]"))
            'a'
        """
        self.unsupported("prompt editing", "compel has no prompt editing; keeping one branch", node)
        branch = node.before if node.before else node.after
        work.extend((child, context) for child in reversed(branch))

    def print_Alternate(self, node: Alternate, context: str, work: _Work) -> None:  # noqa: N802
        """compel has no alternation: the first option stays (reported).

        Example:
            >>> import naiprompt
            >>> CompelPrinter(errors="ignore").print(naiprompt.parse("[a|b]"))
            'a'
        """
        self.unsupported("alternation", "compel has no alternation; keeping the first option", node)
        option = node.options[0] if node.options else ()
        work.extend((child, context) for child in reversed(option))

    def print_Break(self, node: Break, context: str, work: _Work) -> None:  # noqa: N802
        """Inside a group BREAK is lost (at the top level it became ``.and()``).

        Example:
            >>> import naiprompt
            >>> CompelPrinter(errors="ignore").print(naiprompt.parse("a BREAK b AND c"))
            'a, b ,  c'
        """
        self.unsupported("BREAK", "compel has BREAK only as (...).and() of a whole prompt; parts joined", node)
        self.emit(", ")

    def print_And(self, node: And, context: str, work: _Work) -> None:  # noqa: N802
        """compel has no composable AND: the subprompts are joined (reported).

        Example:
            >>> import naiprompt
            >>> CompelPrinter(errors="ignore").print(naiprompt.parse("a AND b"))
            'a ,  b'
        """
        self.unsupported("AND", "compel has no composable diffusion AND; subprompts joined", node)
        self.emit(", ")

    def print_SubpromptWeight(self, node: SubpromptWeight, context: str, work: _Work) -> None:  # noqa: N802
        """compel has no subprompt weight: dropped (reported).

        Example:
            >>> import naiprompt
            >>> CompelPrinter(errors="ignore").print(naiprompt.parse("a :0.5"))
            'a '
        """
        self.unsupported("AND weight", f"compel has no subprompt weight (:{node.weight})", node)

    def emphasis(self, node: Emphasis, context: str, work: _Work) -> None:
        """Write a weight; see :meth:`print_Emphasis`."""
        weight = node.weight
        if not math.isfinite(weight) or weight < 0:
            self.unsupported("weight", f"compel cannot write the weight {weight!r}; it is dropped", node)
            work.extend((child, context) for child in reversed(node.body))
            return
        notation, _, raw = (node.notation or "").partition("|")
        if self.same and notation in (WORD, PAREN, QUOTE) and suffix_weight(raw) == weight:
            if notation == WORD and len(node.body) == 1 and isinstance(node.body[0], Text):
                inner = context
            elif notation == QUOTE:
                inner = QUOTED
            elif notation == PAREN:
                inner = GROUP if context != QUOTED else QUOTED
            else:
                inner = ""
            if inner:
                opener, closer = {WORD: ("", ""), PAREN: ("(", ")"), QUOTE: ('"', '"')}[notation]
                self.emit(opener)
                work.append(closer + raw)
                work.extend((child, inner) for child in reversed(node.body))
                return
        body = node.body
        while len(body) == 1 and isinstance(body[0], Emphasis) and math.isfinite(body[0].weight * weight):
            # one level for a chain ({{x}} is (x)1.1025), so that rounding happens once
            weight *= body[0].weight
            body = body[0].body
        if weight < 0:
            self.unsupported("weight", f"compel cannot write the weight {weight!r}; it is dropped", node)
            work.extend((child, context) for child in reversed(body))
            return
        suffix = weight_suffix(weight, self.decimals)
        if (
            suffix[:1] in ("+", "-")
            and len(body) == 1
            and isinstance(body[0], Text)
            and _is_word(escape(body[0].value, context))
            and (not self.out or self.out[-1][-1:].isspace() or self.out[-1][-1:] in '(,"')
            and not self.separate
        ):
            self.emit(escape(body[0].value, context))
            work.append("\0" + suffix)
            return
        self.emit("(")
        work.append("\0)" + suffix if suffix else ")")
        inner_context = QUOTED if context == QUOTED else GROUP
        work.extend((child, inner_context) for child in reversed(body))

    def lora(self, node: Network) -> None:
        """Write a LoRA; see :meth:`print_Network`."""
        raw = node.raw if isinstance(node, Lora) else None
        if self.same and raw is not None:
            found = Reader(raw, loose=False).lora(0)
            if found is not None and found[0] == len(raw):
                item = found[1]
                if (item.name, item.weight or "1") == tuple(node.args):
                    self.emit(raw)
                    return
        name = node.args[0] if node.args else ""
        weight = node.args[1] if len(node.args) > 1 else "1"
        if not _KEYWORD.match(name) or Reader(weight, loose=False).number(0) is None:
            self.unsupported("extra network", f"compel cannot name the LoRA {node.args!r}; dropped", node)
            return
        self.emit(f"withLora({name}, {weight})" if weight != "1" else f"withLora({name})")

    def swap(self, node: Swap, context: str, work: _Work) -> None:
        """Write a swap; see :meth:`print_Swap`."""
        if self.same and node.raw is not None and len(node.raw) == 3:
            before, middle, after = node.raw
            inner = QUOTED if before.endswith('"') or context == QUOTED else (GROUP if before else context)
            self.emit(before)
            work.append(after)
            work.extend((child, GROUP if context != QUOTED else QUOTED) for child in reversed(node.replacement))
            work.append(middle)
            work.extend((child, inner) for child in reversed(node.original))
            return
        options = "".join(f", {key}={value}" if value else f", {key}" for key, value in node.options)
        inner_context = QUOTED if context == QUOTED else GROUP
        original = node.original
        if len(original) == 1 and isinstance(original[0], Text) and _is_word(escape(original[0].value, context)):
            self.emit(escape(original[0].value, context))
        else:
            self.emit("(")
            work.append(")")
        work.append(f"{options})")
        work.extend((child, inner_context) for child in reversed(node.replacement))
        work.append(".swap(")
        if not (len(original) == 1 and isinstance(original[0], Text)):
            work.extend((child, inner_context) for child in reversed(original))

    def multi(self, node: Blend | Conjunction, context: str, work: _Work) -> None:
        """Write a blend or a conjunction; see :meth:`print_Blend`."""
        if context != TOP:
            kind = "blend" if isinstance(node, Blend) else "conjunction"
            self.unsupported(kind, f"compel reads a {kind} only as the whole prompt; parts joined", node)
            for index in range(len(node.parts) - 1, -1, -1):
                work.extend((child, context) for child in reversed(node.parts[index]))
                if index:
                    work.append(", ")
            return
        parts = node.parts
        raw = node.raw if self.same and node.raw is not None and len(node.raw) == len(parts) + 1 else None
        if raw is None:
            numbers = ", ".join(format_number(w, self.decimals) for w in node.weights)
            if isinstance(node, Blend):
                operator = "blend"
                if not node.normalize:
                    numbers = f"{numbers}, no_normalize" if numbers else "no_normalize"
            else:
                operator = node.operator if node.operator in ("and", "add") else "and"
                if all(w == 1.0 for w in node.weights):
                    numbers = ""
            raw = ('("', *(['", "'] * (len(parts) - 1)), f'").{operator}({numbers})')
        for index in range(len(parts) - 1, -1, -1):
            work.append(raw[index + 1])
            inner = QUOTED if raw[index].endswith('"') else GROUP
            work.extend((child, inner) for child in reversed(parts[index]))
        self.emit(raw[0])
