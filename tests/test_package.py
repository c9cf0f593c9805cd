"""The package as installed: grammar files shipped as package data, typed, with a CLI entry point."""

from __future__ import annotations

import os
import sys
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
