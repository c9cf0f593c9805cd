"""Plugins from a real installed distribution, not faked entry points.

A throwaway project (pyproject with ``naiprompt.transforms`` and ``naiprompt.dialects``
entry points) and a broken one are built and installed with pip, offline, into a fresh
virtual environment that sees this interpreter's packages (naiprompt included) through
a ``.pth`` file. Everything else runs in that environment's Python.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

GOOD = {
    "pyproject.toml": """
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "naiprompt-realplugin"
        version = "1.0"

        [project.entry-points."naiprompt.transforms"]
        shout_real = "naiprompt_realplugin:shout"

        [project.entry-points."naiprompt.dialects"]
        loud_real = "naiprompt_realplugin:Loud"
    """,
    "naiprompt_realplugin/__init__.py": '''
        import attrs
        from naiprompt.ast import Text
        from naiprompt.dialects import Dialect, get_dialect

        def shout():
            def run(prompt):
                body = [attrs.evolve(n, value=n.value.upper(), raw=None) if isinstance(n, Text) else n
                        for n in prompt.body]
                return attrs.evolve(prompt, body=body, source=None)
            return run

        class Loud(Dialect):
            name = "loud_real"
            bracket_weight = 1.1
            def parse(self, text, *, strict=False):
                return attrs.evolve(get_dialect("webui").parse(text.lower(), strict=strict), dialect=self.name)
            def render(self, prompt, *, errors="warn"):
                return get_dialect("webui").render(prompt, errors=errors).upper()
            def attention(self, prompt):
                text = prompt if isinstance(prompt, str) else self.render(prompt)
                return get_dialect("webui").attention(text.lower())
    ''',
}
BROKEN = {
    "pyproject.toml": """
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "naiprompt-brokenreal"
        version = "1.0"

        [project.entry-points."naiprompt.transforms"]
        broken_real = "naiprompt_brokenreal:factory"
    """,
    "naiprompt_brokenreal/__init__.py": "raise ImportError('missing dependency: torch9')\n",
}

CHECK = """
import sys
import naiprompt
assert "naiprompt_realplugin" not in sys.modules and "naiprompt_brokenreal" not in sys.modules
from naiprompt import get_dialect, get_transform
from naiprompt.dialects import PluginError
print(naiprompt.render(naiprompt.apply("cat, (dog)", get_transform("shout_real")())))
print(naiprompt.convert("(Cat:1.2)", "webui", "loud_real"), type(get_dialect("loud_real")).__module__)
try:
    get_transform("broken_real")
except PluginError as exc:
    print("PluginError:", exc)
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("hatchling") is None or importlib.util.find_spec("pip") is None:
        pytest.skip("pip and hatchling are needed to build the plugin offline")
    root = tmp_path_factory.mktemp("plugin")
    env = root / "venv"
    try:
        venv.EnvBuilder(with_pip=False).create(env)
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"cannot create a virtual environment: {exc}")
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    # This interpreter's packages (naiprompt, pip, hatchling), .pth files included, come after
    # the new environment's own: what --system-site-packages gives when naiprompt is system-wide.
    ours = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "outer.pth").write_text(f"import site; site.addsitedir({ours!r})\n", encoding="utf-8")
    good = _write(root / "good", GOOD)
    broken = _write(root / "broken", BROKEN)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", str(good), str(broken)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if install.returncode:
        pytest.skip(f"cannot install the plugin offline: {install.stderr[-500:]}")
    return python


def test_installed_plugin_is_found_and_a_broken_one_names_its_package(plugin_python: Path) -> None:
    result = subprocess.run([str(plugin_python), "-c", CHECK], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "CAT, (dog)"  # top-level text only
    assert lines[1] == "(CAT:1.2) naiprompt_realplugin"
    assert lines[2].startswith("PluginError: transform plugin 'broken_real' from naiprompt-brokenreal failed")
    assert "ImportError: missing dependency: torch9" in lines[2]


def test_command_line_uses_the_installed_plugin(plugin_python: Path) -> None:
    command = [str(plugin_python), "-m", "naiprompt", "apply", "shout_real", "-d", "webui", "-p", "cat, (dog)"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "CAT, (dog)"
    listed = subprocess.run([*command[:4], "--list"], capture_output=True, text=True, timeout=120, check=False)
    assert "shout_real" in listed.stdout.split()
    broken = subprocess.run(
        [*command[:4], "broken_real", "-p", "x"], capture_output=True, text=True, timeout=120, check=False
    )
    assert broken.returncode == 2
    assert "naiprompt-brokenreal" in broken.stderr and "Traceback" not in broken.stderr
