"""Plugins: transform registry, spec strings, entry points faked at importlib.metadata level."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import attrs
import pytest

import naiprompt
from naiprompt._plugins import PluginError
from naiprompt.ast import Prompt, Text
from naiprompt.dialects import DIALECTS, Dialect, get_dialect, register_dialect
from naiprompt.transforms import TRANSFORMS, apply, get_transform, parse_spec, register_transform, resolve


def test_parse_spec() -> None:
    assert parse_spec("underscores:to=space") == ("underscores", [], {"to": "space"})
    assert parse_spec("step:-2,full=true") == ("step", [-2], {"full": True})
    assert parse_spec("round_weights:ndigits=2") == ("round_weights", [], {"ndigits": 2})
    assert parse_spec(" snap_weights : base=1.1 ") == ("snap_weights", [], {"base": 1.1})
    with pytest.raises(ValueError, match="no name"):
        parse_spec(":x=1")
    with pytest.raises(ValueError, match="positional"):
        parse_spec("step:full=true,2")


def test_named_pipeline() -> None:
    tree = apply("long_hair, long_hair, (a:1.23456)", "underscores:to=space", "dedupe", "round_weights:2")
    assert naiprompt.render(tree) == "long hair, (a:1.23)"
    assert naiprompt.render(apply("a, b", "step:2,full=yes")) == "((a)), ((b))"


def test_bad_names_and_options_are_clear() -> None:
    with pytest.raises(PluginError, match="did you mean 'dedupe'"):
        resolve("dedup")
    with pytest.raises(ValueError, match="bad options"):
        resolve("underscores:too=space")
    with pytest.raises(TypeError):
        apply(42, "dedupe")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returned str"):
        apply("a", lambda tree: "oops")  # type: ignore[arg-type,return-value]


def test_register_transform_in_code() -> None:
    @register_transform("upper_test")
    def upper() -> object:
        def run(prompt: Prompt) -> Prompt:
            body = [
                attrs.evolve(n, value=n.value.upper(), raw=None) if isinstance(n, Text) else n
                for n in prompt.body
            ]
            return attrs.evolve(prompt, body=body)

        return run

    try:
        assert get_transform("upper_test") is upper
        assert naiprompt.render(apply("(cat), dog", "upper_test")) == "(cat), DOG"
        with pytest.raises(PluginError, match="already registered"):
            register_transform("upper_test", upper)
        register_transform("upper_test", upper, replace=True)
        with pytest.raises(PluginError, match="already registered"):
            register_transform("dedupe", upper)  # built-ins are not shadowed by accident
    finally:
        TRANSFORMS.unregister("upper_test")
    assert "upper_test" not in TRANSFORMS.names()


# ---------------------------------------------------------------------------------------------
# Entry points, faked at the importlib.metadata level: a real module on sys.path, real
# EntryPoint objects with a distribution attached, metadata.entry_points patched.


class FakeDist:
    def __init__(self, name: str) -> None:
        self.name = name
        self.metadata = {"Name": name}


def _entry_point(name: str, value: str, group: str, dist: str) -> metadata.EntryPoint:
    point = metadata.EntryPoint(name, value, group)
    try:
        return point._for(FakeDist(dist))  # type: ignore[attr-defined,no-any-return]
    except AttributeError:  # pragma: no cover - older importlib.metadata
        object.__setattr__(point, "dist", FakeDist(dist))
        return point


@pytest.fixture
def plugin_module(tmp_path: Path) -> Iterator[str]:
    package = tmp_path / "naiprompt_testplugin"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''
            import attrs
            from naiprompt.ast import Text
            from naiprompt.dialects import Dialect, get_dialect

            def reverse_tags():
                """Reverse the characters of every text (a silly transform)."""
                def run(prompt):
                    body = [attrs.evolve(n, value=n.value[::-1], raw=None) if isinstance(n, Text) else n
                            for n in prompt.body]
                    return attrs.evolve(prompt, body=body)
                return run

            class Loud(Dialect):
                name = "loud"
                bracket_weight = 1.1
                def parse(self, text, *, strict=False):
                    tree = get_dialect("webui").parse(text.lower(), strict=strict)
                    return attrs.evolve(tree, dialect="loud")
                def render(self, prompt, *, errors="warn"):
                    return get_dialect("webui").render(prompt, errors=errors).upper()
                def attention(self, prompt):
                    text = prompt if isinstance(prompt, str) else self.render(prompt)
                    return get_dialect("webui").attention(text)

            NOT_A_DIALECT = 42
            '''
        ),
        encoding="utf-8",
    )
    (tmp_path / "naiprompt_brokenplugin.py").write_text("raise ImportError('missing dependency: torch9')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield "naiprompt_testplugin"
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("naiprompt_testplugin", "naiprompt_brokenplugin"):
            sys.modules.pop(name, None)


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch, plugin_module: str) -> Iterator[None]:
    points = [
        _entry_point("reverse_tags", f"{plugin_module}:reverse_tags", "naiprompt.transforms", "nap-reverse"),
        _entry_point("loud", f"{plugin_module}:Loud", "naiprompt.dialects", "nap-loud"),
        _entry_point("broken", "naiprompt_brokenplugin:thing", "naiprompt.transforms", "nap-broken"),
        _entry_point("notdialect", f"{plugin_module}:NOT_A_DIALECT", "naiprompt.dialects", "nap-bad"),
        _entry_point("twice", f"{plugin_module}:reverse_tags", "naiprompt.transforms", "nap-one"),
        _entry_point("twice", f"{plugin_module}:reverse_tags", "naiprompt.transforms", "nap-two"),
    ]
    real = metadata.entry_points

    def entry_points(**params: str) -> object:
        group = params.get("group")
        if group in ("naiprompt.transforms", "naiprompt.dialects"):
            return [point for point in points if point.group == group]
        return real(**params)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    TRANSFORMS.refresh()
    DIALECTS.refresh()
    yield
    monkeypatch.undo()
    TRANSFORMS.refresh()
    DIALECTS.refresh()


@pytest.mark.usefixtures("fake_entry_points")
def test_entry_point_transform_and_dialect() -> None:
    assert "reverse_tags" in TRANSFORMS.names()
    assert naiprompt.render(apply("abc, (de)", "reverse_tags")) == " ,cba(de)"
    assert "loud" in DIALECTS.names()
    assert naiprompt.convert("(Cat:1.2)", "webui", "loud") == "(CAT:1.2)"
    assert get_dialect("loud").attention("(CAT)") == [("CAT", 1.1)]


@pytest.mark.usefixtures("fake_entry_points")
def test_broken_plugin_names_the_package() -> None:
    with pytest.raises(PluginError, match=r"nap-broken.*ImportError: missing dependency: torch9"):
        resolve("broken")
    # The rest still works: one broken plugin does not break the registry.
    assert callable(resolve("dedupe"))


@pytest.mark.usefixtures("fake_entry_points")
def test_invalid_plugin_names_the_package() -> None:
    with pytest.raises(PluginError, match=r"dialect 'notdialect' from nap-bad is invalid"):
        get_dialect("notdialect")


@pytest.mark.usefixtures("fake_entry_points")
def test_clashing_plugins_name_both_packages() -> None:
    with pytest.raises(PluginError, match=r"more than one package: nap-one, nap-two"):
        resolve("twice")


def test_importing_naiprompt_loads_no_plugin() -> None:
    assert "naiprompt_testplugin" not in sys.modules
    assert isinstance(get_dialect("webui"), Dialect)


def test_register_dialect_in_code() -> None:
    class Shout(Dialect):
        name = "shout_test"

        def parse(self, text: str, *, strict: bool = False) -> Prompt:
            return get_dialect("webui").parse(text, strict=strict)

        def render(self, prompt: Prompt, *, errors: object = "warn") -> str:
            return get_dialect("webui").render(prompt).upper()

        def attention(self, prompt: str | Prompt) -> list[tuple[str, float]]:
            return get_dialect("webui").attention(prompt)

    register_dialect(Shout)
    try:
        assert naiprompt.convert("(a)", "webui", "shout_test") == "(A)"
    finally:
        DIALECTS.unregister("shout_test")
