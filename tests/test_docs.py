"""The documentation: api.md names every public name, and every console example runs as shown."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "src" / "naiprompt"

#: Public modules whose names api.md must cover (read from the source, so torch is not needed). Any
#: other top-level module that declares __all__ is public too, unless it is listed in INTERNAL.
PUBLIC_MODULES = (
    "__init__", "ast", "errors", "dialects", "research", "research/sizes", "tokens", "transforms", "encode",
    "diffusers", "contrib/comfy",
)  # fmt: skip
#: Implementation modules: their public names are re-exported by the packages above.
INTERNAL = ("api", "weight_math", "grammar", "cli", "__main__", "contrib")


def _source(module: str) -> Path:
    path = PACKAGE / f"{module}.py"
    return path if path.is_file() else PACKAGE / module / "__init__.py"


def _public_names(module: str) -> list[str]:
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    # No __all__: the classes and functions the module defines.
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and not node.name.startswith("_")
    ]


def _modules() -> list[str]:
    found = list(PUBLIC_MODULES)
    for path in sorted(PACKAGE.iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        if name.startswith("_") or name in INTERNAL or name in found or not (
            path.suffix == ".py" or (path / "__init__.py").is_file()
        ):
            continue
        found.append(name)
    return found


@pytest.mark.parametrize("module", _modules())
def test_api_md_names_every_public_name(module: str) -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [name for name in _public_names(module) if not re.search(rf"`[^`\n]*\b{re.escape(name)}\b", text)]
    assert not missing, f"docs/api.md does not mention these public names of naiprompt.{module}: {missing}"


#: Pages being rewritten under other issues at the time of writing; remove a name once its page is checked.
PAGES_PENDING: frozenset[str] = frozenset()


def test_docs_name_no_path_outside_the_repository() -> None:
    for page in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        if page.name in PAGES_PENDING:
            continue
        text = page.read_text(encoding="utf-8")
        for banned in ("../shared", "nai_and_seed", "/work/", "the seed's", "step.js §"):
            assert banned not in text, (page.name, banned)


# ---- console examples ------------------------------------------------------------------------

CONSOLE = re.compile(r"```console\n(.*?)```", re.S)
#: Files the console examples read, created in the folder they run in.
SAMPLE_FILES = {
    "prompts.txt": "{{masterpiece}}, 1girl, [bad hands]\n(red eyes:1.2), smile\n",
    "negative.txt": "lowres, bad anatomy, bad hands, text, error\n",
}


def _examples() -> list[tuple[str, str, str]]:
    """``(where, command, expected output)`` for every ``$ ...`` line of a console block."""
    out = []
    for page in sorted([*DOCS.glob("*.md"), ROOT / "README.md"]):
        text = page.read_text(encoding="utf-8")
        for block in CONSOLE.finditer(text):
            line_number = text[: block.start()].count("\n") + 2
            command: str | None = None
            expected: list[str] = []
            where = page.name
            for offset, line in enumerate(block.group(1).splitlines()):
                if line.startswith("$ "):
                    if command is not None:
                        out.append((where, command, "\n".join(expected)))
                    command, expected, where = line[2:], [], f"{page.name}:{line_number + offset}"
                else:
                    expected.append(line)
            if command is not None:
                out.append((where, command, "\n".join(expected)))
    return out


EXAMPLES = _examples()


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1",
           "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}  # fmt: skip
    if env.get("PYTHONPATH"):  # a relative PYTHONPATH=src must still point at this checkout from tmp_path
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(part) for part in env["PYTHONPATH"].split(os.pathsep))
    if not (Path(bindir) / "naiprompt").exists():  # a source checkout without the console script
        command = re.sub(r"(^|\| )naiprompt ", rf"\1{shlex.quote(sys.executable)} -m naiprompt ", command)
    return subprocess.run(
        ["bash", "-c", "exec 2>&1\n" + command], cwd=cwd, env=env, capture_output=True, text=True,
        encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip


def test_there_are_console_examples() -> None:
    assert len(EXAMPLES) >= 20
    assert all("..." not in command for _, command, _ in EXAMPLES)  # every line can be pasted


@pytest.mark.parametrize(("where", "command", "expected"), EXAMPLES, ids=[w for w, _, _ in EXAMPLES])
def test_console_example(where: str, command: str, expected: str, tmp_path: Path) -> None:
    for name, content in SAMPLE_FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    result = _run(command, tmp_path)
    status = re.search(r"# exit (\d+)", command)
    assert result.returncode == (int(status.group(1)) if status else 0), (where, result.stdout)
    assert "Traceback" not in result.stdout, (where, result.stdout)
    assert result.stdout.rstrip("\n") == expected, where


# ---- the plugin example of plugins.md --------------------------------------------------------


def _block_after(text: str, marker: str) -> str:
    start = text.index("```python\n", text.index(marker)) + len("```python\n")
    return text[start : text.index("```", start)]


def _session_after(text: str, marker: str) -> str:
    """The code of the ``pycon`` session after ``marker``: its ``>>>`` and ``...`` lines, unprompted."""
    start = text.index("```pycon\n", text.index(marker)) + len("```pycon\n")
    lines = text[start : text.index("```", start)].splitlines()
    return "\n".join(line[4:] for line in lines if line.startswith((">>> ", "... ")) or line in (">>>", "..."))


def test_plugins_md_example_runs_as_written() -> None:
    import naiprompt
    from naiprompt.dialects import DIALECTS
    from naiprompt.transforms import TRANSFORMS

    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "naiprompt_shout"}
    exec(_session_after(text, "`src/naiprompt_shout/__init__.py` is"), namespace)  # the package's module
    exec(_block_after(text, "register the same objects in code:"), namespace)
    try:
        # The results the page shows for the command line, through the API.
        assert naiprompt.convert("{{smile}}, [blurry]", "nai", "shout") == "(SMILE:1.1025), (BLURRY:0.9524)"
        assert naiprompt.render(naiprompt.transforms.apply("b, c, a", "alphabetical:reverse=true")) == "c, b, a"
        # The Python snippet: each `expression  # 'result'` line.
        scope: dict[str, object] = {}
        for line in _block_after(text, "its transform from the command line.)").splitlines():
            expression, _, shown = line.partition("#")
            if shown:
                assert repr(eval(expression, scope)) == shown.strip(), line
            else:
                exec(line, scope)
    finally:
        DIALECTS.unregister("shout")
        TRANSFORMS.unregister("alphabetical")
