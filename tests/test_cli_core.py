"""The installed ``naiprompt`` command, driven in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import naiprompt

try:  # tests/ on sys.path (pytest's default rootdir insertion) or tests as a package
    from test_sizes import ASPECT512_ROWS
    from test_transforms_step import SEED_ROWS
except ImportError:  # pragma: no cover
    from tests.test_sizes import ASPECT512_ROWS
    from tests.test_transforms_step import SEED_ROWS

_SCRIPT = Path(sys.executable).with_name("naiprompt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "naiprompt"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*COMMAND, *args], input=stdin if stdin is not None else "", capture_output=True,
        text=True, encoding="utf-8", timeout=60, env=env, check=False,
    )  # fmt: skip


def ok(*args: str, stdin: str | None = None) -> str:
    result = run(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_module_entry_point_works_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "naiprompt", "size", "4", "3"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "576x384\n")


def test_help_shows_examples_for_every_subcommand() -> None:
    top = ok("--help")
    for name in ("parse", "render", "convert", "detect", "step", "apply", "size"):
        assert name in top
        assert "examples:" in ok(name, "--help"), name
    assert "examples:" in ok("fmt", "--help")


# ---- the seed's tables --------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "expected"), SEED_ROWS, ids=[" ".join(a) or "(none)" for a, _ in SEED_ROWS])
def test_step_seed_compat_rows(argv: list[str], expected: str) -> None:
    # `node step` with no ratio: "x" reads as NaN, which gives the same default (1).
    args = ["step", "--seed-compat", argv[0] if argv else "x"]
    if len(argv) > 1 and argv[1]:
        args.append("--full")
    assert ok(*args) == expected + "\n"


@pytest.mark.parametrize(("argv", "raw"), ASPECT512_ROWS)
def test_size_rows(argv: tuple[float, ...], raw: tuple[int, int]) -> None:
    w, h = (*argv, 1, 1)[:2]
    assert json.loads(ok("size", str(w), str(h), "--multiple", "1", "--json")) == list(raw)
    assert json.loads(ok("size", str(w), str(h), "--json")) == [raw[0] // 64 * 64, raw[1] // 64 * 64]


def test_size_plain_and_cfg() -> None:
    assert ok("size", "4", "3") == "576x384\n"
    assert ok("size", "16", "9", "--multiple", "1") == "682x384\n"
    assert ok("size", "1", "1", "--cfg") == "512x512\nCFG 12~16, recommended 10.5\n"
    data = json.loads(ok("size", "3", "2", "--area", str(768 * 512), "--cfg", "--json"))
    assert data["cfg"]["row"] == [768, 512] and data["cfg"]["exact"] is True


@pytest.mark.parametrize("args", [["0", "1"], ["-4", "3"], ["nan", "1"], ["x", "1"], ["4", "3", "--multiple", "0"]])
def test_size_bad_ratios_are_usage_errors(args: list[str]) -> None:
    result = run("size", *args)
    assert result.returncode == 2
    assert "error:" in result.stderr and result.stdout == ""


# ---- prompts --------------------------------------------------------------------------------


def test_step() -> None:
    assert ok("step", "0.9", "bad, comic") == "(bad, comic:0.9)\n"
    assert ok("step", "-2", "--full", "bad, comic") == "[[bad]], [[comic]]\n"
    assert ok("step", "2", "-d", "nai", "bad, comic") == "{{bad, comic}}\n"
    assert ok("step", "0.9", "-d", "nai4", "--full", "bad, comic") == "0.9::bad::, 0.9::comic::\n"
    result = run("step", "0.9", "-d", "nai", "bad")
    assert (result.returncode, result.stdout) == (0, "[[bad]]\n")
    assert "warning: weight 0.9 has no exact bracket form" in result.stderr
    assert ok("step", "2", stdin="a, b\nc\n") == "((a, b))\n((c))\n"


@pytest.mark.parametrize("ratio", ["inf", "nan", "1e21", "abc"])
def test_step_bad_ratios(ratio: str) -> None:
    result = run("step", ratio, "bad")
    assert result.returncode == 2 and "error:" in result.stderr


def test_convert_detect_render_fmt() -> None:
    assert ok("convert", "--from", "nai", "--to", "nai4", "{{smile}}") == "{{smile}}\n"
    assert ok("convert", "--to", "webui", "1.5::smile::") == "(smile:1.5)\n"  # detected nai4
    converted = ok("convert", "--from", "comfy", "--to", "webui", "((a:1.5)), [b]").strip()
    assert naiprompt.attention(converted) == [("a", pytest.approx(1.5, rel=1e-4)), (", [b]", 1.0)]
    assert converted.endswith(", \\[b\\]")
    assert ok("detect", "{{masterpiece}}, 1girl") == "nai\n"
    assert ok("detect", "--json", stdin="a\n1.2::b::\n") == '"webui"\n"nai4"\n'
    assert ok("render", "(a:1.20), [b]") == "(a:1.20), [b]\n"
    assert ok("fmt", "(a:1.20), (b") == "(a:1.2), (b)\n"
    assert ok("render", "-d", "nai", "--to", "webui", "{a}") == "(a:1.05)\n"


def test_parse() -> None:
    out = ok("parse", "(red eyes:1.2), smile")
    assert out.splitlines()[0] == "Prompt (webui)"
    assert "Emphasis weight=1.2 notation=explicit" in out and "Text 'red eyes'" in out
    data = json.loads(ok("parse", "--json", "-d", "nai", "{a}"))
    assert data["type"] == "Prompt" and data["dialect"] == "nai"
    assert data["body"][0]["type"] == "Emphasis" and data["body"][0]["weight"] == 1.05


def test_input_errors_exit_1_with_caret_and_keep_going(tmp_path: Path) -> None:
    result = run("parse", "--strict", "(unclosed")
    assert result.returncode == 1
    assert "unclosed '(' at line 1, column 1:\n(unclosed\n^" in result.stderr
    source = tmp_path / "prompts.txt"
    source.write_text("a, b\n(bad\nc\n", encoding="utf-8")
    result = run("render", "--strict", "--in", str(source))
    assert result.returncode == 1
    assert result.stdout == "a, b\nc\n"
    assert f"{source}:2:" in result.stderr
    result = run("convert", "--to", "nai", "--errors", "raise", "[a:b:5]")
    assert result.returncode == 1 and "prompt editing" in result.stderr


def test_files_stdin_and_whole(tmp_path: Path) -> None:
    source = tmp_path / "p.txt"
    source.write_text("{a}\n[b]\n", encoding="utf-8")
    assert ok("convert", "--from", "nai", "--to", "webui", "--in", str(source)) == "(a:1.05)\n(b:0.9524)\n"
    assert ok("convert", "--from", "nai", "--to", "webui", "--in", str(source), "--whole") == (
        "(a:1.05)\n(b:0.9524)\n"
    )
    assert ok("convert", "--from", "nai", "--to", "webui", "-", stdin="{a}\n") == "(a:1.05)\n"
    assert json.loads(ok("convert", "--from", "nai", "--to", "webui", "--json", "{a}")) == "(a:1.05)"


def test_apply() -> None:
    assert ok("apply", "underscores:to=space", "dedupe", "-p", "long_hair, long_hair, red_eyes") == (
        "long hair, red eyes\n"
    )
    assert ok("apply", "flatten", "round_weights:2", "-p", "((a)), [b]") == "(a:1.21), (b:0.91)\n"
    assert ok("apply", "strip_weights", "--to", "nai", stdin="(a:1.2), b\n") == "a, b\n"
    names = ok("apply", "--list").split()
    assert {"underscores", "step", "flatten", "expand", "dedupe", "sort_by_weight"} <= set(names)


@pytest.mark.parametrize(
    "args",
    [
        ["apply", "nope", "-p", "x"],
        ["apply", "round_weights:digits=2", "-p", "x"],
        ["apply", "-p", "x"],
        ["convert", "--to", "klingon", "x"],
        ["parse", "--in", "/nonexistent/file"],
        ["convert", "x"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr


def test_command_is_on_path_of_the_environment() -> None:
    assert _SCRIPT.exists() or shutil.which("naiprompt") is not None or COMMAND[0] == sys.executable
