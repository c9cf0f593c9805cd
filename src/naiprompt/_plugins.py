"""One registry mechanism for everything users name in strings.

Dialects, transforms and tokenizers are looked up by name: first the explicit
``register()`` calls, then the built-in table (imported lazily), then the
installed entry points of the group (``naiprompt.dialects``, ...), loaded once
and type-checked. A broken or clashing plugin raises :class:`PluginError`
naming the distribution that provides it; nothing is loaded at import time.

Example:
    >>> reg = Registry("naiprompt.example", kind="example", builtins={})
    >>> reg.register("shout", str.upper)
    >>> reg.get("shout")("hi")
    'HI'
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from naiprompt.errors import PluginError  # defined with the other errors; importable here as before

if TYPE_CHECKING:  # importlib.metadata is imported when plugins are first looked up
    from importlib import metadata

__all__ = ["PluginError", "Registry"]

T = TypeVar("T")


def _entry_points(group: str) -> Iterable[metadata.EntryPoint]:
    from importlib import metadata

    return metadata.entry_points(group=group)


def _distribution_name(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    return str(name) if name else f"the package providing {entry_point.value!r}"


class Registry(Generic[T]):
    """Name -> object lookup with explicit registration and entry points.

    ``builtins`` maps names to ``"module:attribute"`` strings, imported on first use.
    ``check`` validates (and may adapt) a loaded object; it raises ``TypeError``
    for objects of the wrong kind.

    Example:
        >>> reg = Registry("naiprompt.example", kind="thing", builtins={"len": "builtins:len"})
        >>> reg.get("len")("abc")
        3
        >>> "len" in reg.names()
        True
    """

    def __init__(
        self,
        group: str,
        *,
        kind: str,
        builtins: dict[str, str],
        check: Callable[[str, Any], T] | None = None,
    ) -> None:
        self.group = group
        self.kind = kind
        self._builtins = dict(builtins)
        self._check = check
        self._registered: dict[str, T] = {}
        self._loaded: dict[str, T] = {}
        self._entry_points: dict[str, list[metadata.EntryPoint]] | None = None

    def register(self, name: str, obj: Any, *, replace: bool = False) -> None:
        """Register ``obj`` under ``name``; refuse to shadow another unless ``replace``.

        Example:
            >>> reg = Registry("naiprompt.example", kind="thing", builtins={})
            >>> reg.register("a", 1)
            >>> reg.register("a", 2)
            Traceback (most recent call last):
            ...
            naiprompt.errors.PluginError: a thing named 'a' is already registered
        """
        if not replace and (name in self._registered or name in self._builtins):
            raise PluginError(f"a {self.kind} named {name!r} is already registered")
        checked = self._validate(name, obj, origin="register()")
        self._registered[name] = checked
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        """Forget an explicitly registered name (built-ins stay).

        Example:
            >>> reg = Registry("naiprompt.example", kind="thing", builtins={})
            >>> reg.register("a", 1); reg.unregister("a"); "a" in reg.names()
            False
        """
        self._registered.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        """All names: registered, built-in and installed plugins, sorted.

        Example:
            >>> Registry("naiprompt.example", kind="thing", builtins={"b": "x:y"}).names()
            ['b']
        """
        return sorted(set(self._registered) | set(self._builtins) | set(self._plugin_table()))

    def get(self, name: str) -> T:
        """Return the object registered under ``name``, loading it if needed.

        Example:
            >>> Registry("naiprompt.example", kind="thing", builtins={}).get("nope")
            Traceback (most recent call last):
            ...
            naiprompt.errors.PluginError: no thing named 'nope' (known: none)
        """
        if name in self._registered:
            return self._registered[name]
        if name in self._loaded:
            return self._loaded[name]
        if name in self._builtins:
            module_name, _, attr = self._builtins[name].partition(":")
            obj = getattr(importlib.import_module(module_name), attr)
            loaded = self._validate(name, obj, origin="naiprompt")
        else:
            loaded = self._load_plugin(name)
        self._loaded[name] = loaded
        return loaded

    def _plugin_table(self) -> dict[str, list[metadata.EntryPoint]]:
        if self._entry_points is None:
            table: dict[str, list[metadata.EntryPoint]] = {}
            for entry_point in _entry_points(self.group):
                table.setdefault(entry_point.name, []).append(entry_point)
            self._entry_points = table
        return self._entry_points

    def refresh(self) -> None:
        """Forget cached entry points (after installing a plugin at run time).

        Example:
            >>> Registry("naiprompt.example", kind="thing", builtins={}).refresh()
        """
        self._entry_points = None
        self._loaded.clear()

    def _load_plugin(self, name: str) -> T:
        candidates = self._plugin_table().get(name)
        if not candidates:
            known = ", ".join(self.names()) or "none"
            close = difflib.get_close_matches(name, self.names(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PluginError(f"no {self.kind} named {name!r} (known: {known}){hint}")
        if len(candidates) > 1:
            owners = ", ".join(sorted(_distribution_name(ep) for ep in candidates))
            raise PluginError(f"{self.kind} {name!r} is provided by more than one package: {owners}")
        entry_point = candidates[0]
        owner = _distribution_name(entry_point)
        try:
            obj = entry_point.load()
        except Exception as exc:  # a plugin's own import error must not crash us
            raise PluginError(
                f"{self.kind} plugin {name!r} from {owner} failed to load ({entry_point.value}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return self._validate(name, obj, origin=owner)

    def _validate(self, name: str, obj: Any, *, origin: str) -> T:
        if self._check is None:
            return obj  # type: ignore[no-any-return]
        try:
            return self._check(name, obj)
        except TypeError as exc:
            raise PluginError(f"{self.kind} {name!r} from {origin} is invalid: {exc}") from exc
