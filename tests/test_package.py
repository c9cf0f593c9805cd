"""The package as installed: grammar files shipped as package data, typed, with a CLI entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata, resources
from pathlib import Path

import pytest

import naiprompt

REPO = Path(__file__).resolve().parents[1]


def test_grammars_are_package_data() -> None:
    installed_from_source = Path(naiprompt.__file__).resolve().is_relative_to(REPO / "src")
    grammars = resources.files("naiprompt").joinpath("grammars")
    if installed_from_source:
        pytest.skip("running from the source tree (editable install): the wheel check runs in CI")
    for name in ("webui.lark", "nai.lark", "nai4.lark"):
        assert grammars.joinpath(name).is_file(), name
    assert resources.files("naiprompt").joinpath("py.typed").is_file()


@pytest.mark.skipif(
    os.environ.get("CI") != "true", reason="CI installs a non-editable wheel; locally it may be editable"
)
def test_ci_tests_the_installed_wheel_not_the_source_tree() -> None:
    assert not Path(naiprompt.__file__).resolve().is_relative_to(REPO / "src")
    assert "site-packages" in Path(naiprompt.__file__).resolve().parts


def test_entry_points_declared() -> None:
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("naiprompt") == "naiprompt.cli:main"


def test_version() -> None:
    assert naiprompt.__version__ == metadata.version("naiprompt")
    assert sys.version_info >= (3, 10)


def _build_wheel(tmp_path: Path, **env: str) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (the build backend) is not installed")
    if not (REPO / "hatch_build.py").is_file():
        pytest.skip("not running from a source checkout")
    out = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, text=True, env={**os.environ, **env},
    )
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.mark.skipif(not sysconfig.get_config_var("CC"), reason="this interpreter names no C compiler")
def test_wheel_carries_the_compiled_tokenizer(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    assert f"naiprompt/tokens/_bpe{suffix}" in names
    assert "naiprompt/grammars/webui.lark" in names
    assert not wheel.name.endswith("-py3-none-any.whl"), wheel.name


def test_wheel_falls_back_to_pure_python_without_a_compiler(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path, CC="/nonexistent/cc")
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    assert not [name for name in names if name.endswith((".so", ".pyd"))]
    assert "naiprompt/tokens/clip.py" in names
