"""Build hook: compile the optional C speedup of the CLIP tokenizer (``naiprompt.tokens._bpe``).

The extension is an accelerator only: ``naiprompt.tokens.clip`` falls back to its pure-Python merge loop
when the module is missing, with identical results (``tests/test_tokens_compiled.py``). So a failed
compile never fails the build; it prints why and the wheel stays pure Python.

* ``NAIPROMPT_PURE_PYTHON=1`` at build time skips the compile (a ``py3-none-any`` wheel).
* The compiler and flags are the interpreter's own (``sysconfig``: ``CC``, ``LDSHARED``, ``EXT_SUFFIX``;
  the ``CC`` and ``LDSHARED`` environment variables override them, as with setuptools), so no setuptools and
  no network are needed. Platforms without them (MSVC builds) get the pure wheel.
* Editable installs compile next to the source, where the editable path hook finds the module.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/naiprompt/tokens/_bpe.c")
PACKAGE_PATH = "naiprompt/tokens"


def _compile(source: Path, target: Path) -> str | None:
    """Compile ``source`` into the extension module ``target``; the reason on failure, else ``None``."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC")
    ldshared = os.environ.get("LDSHARED") or sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths().get("include")
    if not cc or not ldshared or not include:
        return "this interpreter names no C compiler (sysconfig CC/LDSHARED)"
    cflags = shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    with tempfile.TemporaryDirectory() as scratch:
        obj = Path(scratch) / "_bpe.o"
        commands = [
            [*shlex.split(cc), *cflags, "-O2", "-std=c99", "-I", include, "-c", str(source), "-o", str(obj)],
            [*shlex.split(ldshared), str(obj), "-o", str(target)],
        ]
        for command in commands:
            try:
                done = subprocess.run(command, capture_output=True, text=True, check=False)
            except OSError as exc:
                return f"{command[0]}: {exc}"
            if done.returncode != 0:
                return f"{shlex.join(command)} failed:\n{done.stderr.strip()}"
    return None


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile ``_bpe.c`` for this interpreter and ship it in the wheel (or, editable, beside the source)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        if os.environ.get("NAIPROMPT_PURE_PYTHON"):
            self.app.display_info("naiprompt: NAIPROMPT_PURE_PYTHON is set; building a pure-Python wheel")
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        if not suffix:
            self.app.display_warning("naiprompt: no EXT_SUFFIX; building a pure-Python wheel")
            return
        root = Path(self.root)
        source = root / SOURCE
        if version == "editable":
            target = source.with_name("_bpe" + suffix)
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="naiprompt-ext-")
            target = Path(self._scratch.name) / ("_bpe" + suffix)
        problem = _compile(source, target)
        if problem is not None:
            self.app.display_warning(
                f"naiprompt: the C speedup of the tokenizer was not built ({problem}); "
                "the pure-Python tokenizer gives the same results, only slower"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = f"{PACKAGE_PATH}/{target.name}"
        print(f"naiprompt: built {target.name} for {sys.implementation.name}", file=sys.stderr)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            scratch.cleanup()
