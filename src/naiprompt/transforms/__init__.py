"""Transforms: functions from a prompt tree to a prompt tree, and pipelines of them.

A *transform* is any callable ``Prompt -> Prompt``. The built-ins are
*factories*: ``underscores(to="space")`` returns the transform. Factories are
registered by name in :data:`TRANSFORMS`, so a pipeline can also be written as
data, ``"underscores:to=space"``, which is what the command line does.

Third-party packages add factories through the ``naiprompt.transforms``
entry-point group, or with :func:`register_transform` in code.

Example:
    >>> import naiprompt
    >>> from naiprompt.transforms import apply, step, underscores
    >>> tree = apply("long_hair, red_eyes", underscores(), step(0.9))
    >>> naiprompt.render(tree)
    '(long hair, red eyes:0.9)'
    >>> naiprompt.render(apply("long_hair, long_hair", "underscores:to=space", "dedupe"))
    'long hair'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from naiprompt import defaults
from naiprompt._plugins import PluginError, Registry
from naiprompt.ast import Prompt

Transform: TypeAlias = Callable[[Prompt], Prompt]
"""A function from a prompt tree to a prompt tree."""

TransformFactory: TypeAlias = Callable[..., Transform]
"""A callable taking options and returning a :data:`Transform`."""


def _check_factory(name: str, obj: Any) -> TransformFactory:
    if not callable(obj):
        raise TypeError(f"{obj!r} is not callable, so it is not a transform factory")
    return obj  # type: ignore[no-any-return]


_BUILTINS = {
    name: f"naiprompt.{module}:{name}"
    for module, names in {
        "research.step": ("step",),  # the research note's tool, outside the grammar core
        "transforms.text": ("underscores", "dedupe", "strip_extra_networks", "canonical"),
        "transforms.tags": ("remove_tags", "replace_tags", "keep_first", "fit_budget"),
        "transforms.weights": (
            "flatten",
            "expand",
            "round_weights",
            "snap_weights",
            "sort_by_weight",
            "strip_weights",
        ),
    }.items()
    for name in names
}

TRANSFORMS: Registry[TransformFactory] = Registry(
    "naiprompt.transforms",
    kind="transform",
    builtins=_BUILTINS,
    check=_check_factory,
)
"""Every transform factory by name: registered, built-in, then installed plugins.

Example:
    >>> "underscores" in TRANSFORMS.names()
    True
"""


def register_transform(
    name: str, factory: TransformFactory | None = None, *, replace: bool = False
) -> Any:
    """Register a transform factory under ``name``; usable as a decorator.

    The factory takes the options (positional or keyword) and returns the
    transform. Registering a name that exists raises :class:`PluginError`
    unless ``replace=True``.

    Example:
        >>> import attrs, naiprompt
        >>> from naiprompt.ast import Text
        >>> @register_transform("shout")
        ... def shout():
        ...     def run(prompt):
        ...         body = [attrs.evolve(n, value=n.value.upper(), raw=None)
        ...                 if isinstance(n, Text) else n for n in prompt.body]
        ...         return attrs.evolve(prompt, body=body)
        ...     return run
        >>> naiprompt.render(apply("(cat), dog", "shout"))
        '(cat), DOG'
        >>> TRANSFORMS.unregister("shout")
    """
    if factory is None:

        def decorator(func: TransformFactory) -> TransformFactory:
            TRANSFORMS.register(name, func, replace=replace)
            return func

        return decorator
    TRANSFORMS.register(name, factory, replace=replace)
    return factory


def get_transform(name: str) -> TransformFactory:
    """The transform factory registered under ``name`` (built-in or plugin).

    Example:
        >>> import naiprompt
        >>> underscores = get_transform("underscores")
        >>> naiprompt.render(apply("long_hair", underscores(to="space")))
        'long hair'
    """
    return TRANSFORMS.get(name)


def _convert_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Split ``"name:opt=value,opt=value"`` into name, positional and keyword options.

    Values become ``bool`` (true/false/yes/no/on/off), ``None``, ``int`` or
    ``float`` when they read as one, else stay strings.

    Example:
        >>> parse_spec("underscores:to=space")
        ('underscores', [], {'to': 'space'})
        >>> parse_spec("step:-2,full=true")
        ('step', [-2], {'full': True})
    """
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if not name:
        raise ValueError(f"transform spec {spec!r} has no name")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if rest.strip():
        for part in rest.split(","):
            key, eq, value = part.partition("=")
            if eq:
                key = key.strip().replace("-", "_")
                if not key.isidentifier():
                    raise ValueError(f"transform spec {spec!r}: {key!r} is not an option name")
                kwargs[key] = _convert_value(value.strip())
            else:
                if kwargs:
                    raise ValueError(f"transform spec {spec!r}: positional value {part!r} after options")
                args.append(_convert_value(part.strip()))
    return name, args, kwargs


def resolve(transform: Transform | str) -> Transform:
    """Turn a spec string into a transform (callables are returned as they are).

    Example:
        >>> callable(resolve("round_weights:ndigits=2"))
        True
        >>> resolve("round_weights:digits=2")
        Traceback (most recent call last):
        ...
        ValueError: transform 'round_weights:digits=2': bad options: round_weights() got an \
unexpected keyword argument 'digits'
    """
    if not isinstance(transform, str):
        if not callable(transform):
            raise TypeError(f"{transform!r} is neither a transform nor a transform name")
        return transform
    name, args, kwargs = parse_spec(transform)
    factory = TRANSFORMS.get(name)
    try:
        result = factory(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"transform {transform!r}: bad options: {exc}") from exc
    if not callable(result):
        raise PluginError(f"transform factory {name!r} returned {result!r}, which is not callable")
    return result


def apply(prompt: Prompt | str, *transforms: Transform | str, dialect: str | None = None) -> Prompt:
    """Run ``transforms`` over ``prompt`` in order and return the new tree.

    ``prompt`` is a tree, or text parsed with ``dialect`` (default ``"webui"``).
    Each transform is a callable or a spec string naming a registered factory
    with options (``"underscores:to=space"``, ``"step:-2,full=true"``).

    Example:
        >>> import naiprompt
        >>> tree = apply("{smile}, (hat:1.2)", "strip_weights", dialect="nai")
        >>> naiprompt.render(tree)
        'smile, (hat:1.2)'
        >>> naiprompt.render(apply("(a:1.23456)", "round_weights:2"))
        '(a:1.23)'
    """
    if isinstance(prompt, str):
        from naiprompt.dialects import get_dialect

        tree = get_dialect(dialect or defaults.DIALECT).parse(prompt)
    elif isinstance(prompt, Prompt):
        tree = prompt
    else:
        raise TypeError(f"apply() needs a Prompt or a string, not {type(prompt).__name__}")
    for spec in transforms:
        func = resolve(spec)
        result = func(tree)
        if not isinstance(result, Prompt):
            raise TypeError(f"transform {spec!r} returned {type(result).__name__}, not a Prompt")
        tree = result
    return tree


from naiprompt.transforms.text import (  # noqa: E402
    EMOTICONS,
    canonical,
    dedupe,
    normalize_tag,
    strip_extra_networks,
    underscores,
)
from naiprompt.transforms.weights import (  # noqa: E402
    expand,
    flatten,
    round_weights,
    snap_weights,
    sort_by_weight,
    strip_weights,
)

__all__ = [
    "EMOTICONS",
    "SEED_TAGS",
    "TRANSFORMS",
    "Transform",
    "TransformFactory",
    "apply",
    "canonical",
    "dedupe",
    "expand",
    "flatten",
    "get_transform",
    "js_parse_float",
    "normalize_tag",
    "parse_spec",
    "register_transform",
    "resolve",
    "round_weights",
    "seed_step",
    "snap_weights",
    "sort_by_weight",
    "step",
    "strip_extra_networks",
    "strip_weights",
    "underscores",
]

# The research note's step tool lives in naiprompt.research.step, which builds on this
# package; it is re-exported here on first use, so that neither package needs the other
# to be loaded first.
_RESEARCH_STEP = frozenset({"SEED_TAGS", "js_parse_float", "seed_step", "step"})

if TYPE_CHECKING:  # pragma: no cover
    from naiprompt.research.step import SEED_TAGS, js_parse_float, seed_step, step


def __getattr__(name: str) -> Any:
    if name not in _RESEARCH_STEP:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from naiprompt.research import step as research_step

    value = getattr(research_step, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _RESEARCH_STEP)
