"""No module outside the dialects' own files names a dialect (issue 9): the core asks the dialect.

Every module under ``src/naiprompt`` is parsed with :mod:`ast`; the dialects' own files
(``dialects/``, ``contrib/``) and the one table of built-in names (``defaults.py``) are skipped.
No string constant other than a docstring may equal a registered dialect's name or one of the
aliases the dialects declare. (Docstrings and comments may mention dialects: they document, they
do not decide.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from naiprompt.dialects import DIALECTS, dialect_aliases

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "naiprompt"
OWN_FILES = ("dialects/", "contrib/")
DEFAULTS_TABLE = "defaults.py"


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _forbidden() -> set[str]:
    names = set(DIALECTS.names())
    return names | set(dialect_aliases())


def _core_modules() -> list[Path]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(OWN_FILES) or relative == DEFAULTS_TABLE:
            continue
        modules.append(path)
    return modules


def dialect_names_in(source: str, forbidden: set[str]) -> list[tuple[int, str]]:
    """``(line, constant)`` of every non-docstring string constant in ``source`` that names a dialect."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and node.value in forbidden
    ]


def test_the_scan_sees_what_it_must() -> None:
    # The checker itself: a name in code is found; the same name in a docstring is not.
    source = 'def f(d="webui"):\n    """In webui ..."""\n    return d == "novelai"\n'
    assert sorted(dialect_names_in(source, _forbidden())) == [(1, "webui"), (3, "novelai")]
    assert dialect_names_in('"""webui"""\nX = 1\n', _forbidden()) == []


def test_the_forbidden_names_include_the_aliases() -> None:
    forbidden = _forbidden()
    assert {"webui", "nai", "nai4", "comfy", "compel", "mixed"} <= forbidden
    assert {"a1111", "novelai", "comfyui"} <= forbidden


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_core_module_names_a_dialect(path: Path) -> None:
    found = dialect_names_in(path.read_text(encoding="utf-8"), _forbidden())
    assert not found, (
        f"{path.relative_to(PACKAGE)} names dialects {sorted(set(name for _, name in found))} "
        f"at lines {sorted(line for line, _ in found)}: ask the dialect (a Dialect capability) "
        f"or use naiprompt.defaults"
    )
