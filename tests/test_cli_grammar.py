"""One command-line grammar: the installed ``naiprompt`` in a subprocess, for every shared behaviour."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_SCRIPT = Path(sys.executable).with_name("naiprompt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "naiprompt"]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
SUBCOMMANDS = ("parse", "render", "fmt", "convert", "detect", "step", "apply", "size", "tokens", "completion")


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], input=stdin, capture_output=True, text=True, encoding="utf-8",
        timeout=60, env=ENV, check=False,
    )  # fmt: skip


def ok(*args: str, stdin: str = "") -> str:
    result = run(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


# ---- input flags -----------------------------------------------------------------------------


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("{a}\n", encoding="utf-8")
    second.write_text("[b]\n{{c}}\n", encoding="utf-8")
    return first, second


def test_repeated_in_reads_every_file_in_order(two_files: tuple[Path, Path]) -> None:
    a, b = (str(path) for path in two_files)
    assert ok("convert", "--from", "nai", "--to", "webui", "--in", a, "--in", b) == (
        "(a:1.05)\n(b:0.9524)\n(c:1.1025)\n"
    )
    assert ok("detect", "--in", a, "--in", b) == "nai\nwebui\nnai\n"  # [b] alone reads as WebUI
    assert ok("tokens", "--brief", "--in", a, "--in", b) == "1/75\t{a}\n1/75\t[b]\n1/75\t{{c}}\n"
    assert ok("apply", "strip_weights", "--in", a, "--in", b) == "a\nb\nc\n"


def test_in_takes_folders_globs_and_stdin(two_files: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("not a prompt\n", encoding="utf-8")
    assert ok("detect", "--in", str(tmp_path)) == "nai\nwebui\nnai\n"  # *.txt of the folder, sorted
    assert ok("detect", "--in", str(tmp_path / "*.txt")) == "nai\nwebui\nnai\n"
    assert ok("detect", "--in", "-", stdin="a\n1.5::b::\n") == "webui\nnai4\n"
    assert ok("tokens", "--brief", "--in", "-", stdin="a b c\n") == "3/75\n"
    assert ok("detect", "x", "-", stdin="{y}\n") == "webui\nnai\n"  # arguments and stdin together
    result = run("detect", "--in", str(tmp_path / "*.nothing"))
    assert result.returncode == 2 and "no file matches" in result.stderr


def test_whole_reads_each_file_as_one_prompt(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("masterpiece,\nbest quality\n", encoding="utf-8")
    assert ok("tokens", "--brief", "--whole", "--in", str(path)) == "4/75\n"
    assert ok("tokens", "--brief", "--in", str(path)) == "2/75\tmasterpiece,\n2/75\tbest quality\n"
    assert ok("render", "--whole", "--in", str(path)) == "masterpiece,\nbest quality\n"


def test_old_tokens_flag_still_works(two_files: tuple[Path, Path]) -> None:
    assert ok("tokens", "--brief", "-f", str(two_files[0])) == "1/75\n"


# ---- dialects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WebUI", "(a:1.05)"), ("a1111", "(a:1.05)"), ("AUTO1111", "(a:1.05)"), ("automatic1111", "(a:1.05)"),
        ("NovelAI", "{a}"), ("nai3", "{a}"), ("NAI", "{a}"), ("nai4", "{a}"), ("NovelAI-V4", "{a}"),
        ("ComfyUI", "(a:1.05)"), ("comfy", "(a:1.05)"),
    ],
)  # fmt: skip
def test_dialect_names_are_case_insensitive_with_aliases(name: str, expected: str) -> None:
    assert ok("convert", "--from", "novelai", "--to", name, "{a}") == expected + "\n"


@pytest.mark.parametrize("command", ["parse", "render", "convert", "step", "apply", "tokens"])
def test_unknown_dialect_is_a_usage_error_everywhere(command: str) -> None:
    args = {
        "parse": ["parse", "-d", "klingon", "a"],
        "render": ["render", "-d", "klingon", "a"],
        "convert": ["convert", "--from", "klingon", "--to", "webui", "a"],
        "step": ["step", "2", "-d", "klingon", "a"],
        "apply": ["apply", "dedupe", "-d", "klingon", "-p", "a"],
        "tokens": ["tokens", "-d", "klingon", "a"],
    }[command]
    result = run(*args)
    assert result.returncode == 2 and "unknown dialect 'klingon'" in result.stderr
    assert "Traceback" not in result.stderr


def test_tokens_detects_the_dialect() -> None:
    prompt = "{{{masterpiece}}}, [[blurry]], 1girl"
    # NovelAI's braces are weights, not words: 6 tokens (the WebUI reading counts the braces: 12).
    assert ok("tokens", "--brief", prompt) == "6/75\n"
    assert ok("tokens", "--brief", "--dialect", "WebUI", prompt) == "12/75\n"
    assert ok("tokens", "--brief", "-d", "novelai", prompt) == "6/75\n"


def test_parse_and_render_detect_too() -> None:
    assert ok("parse", "{a}").splitlines()[0] == "Prompt (nai)"
    assert ok("render", "--to", "a1111", "{a}") == "(a:1.05)\n"


# ---- exit statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["tokens", "--emphasis", "foo", "a"],
        ["tokens", "--limit", "-1", "a"],
        ["tokens", "--in", "/nonexistent/prompts.txt"],
        ["tokens", "--comma-backtrack", "99", "a"],
        ["tokens", "--steps", "0", "a"],
        ["convert", "--to", "nai", "--in", "/nonexistent/prompts.txt"],
        ["size", "4", "3", "2"],
        ["size", "4:x"],
        ["size", "--table", "4", "3"],
        ["completion", "powershell"],
        ["render", "--errors", "loud", "a"],
        ["--no-such-flag"],
    ],
)
def test_every_usage_error_exits_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "error" in result.stderr and "Traceback" not in result.stderr


def test_version() -> None:
    import naiprompt

    assert ok("--version") == f"naiprompt {naiprompt.__version__}\n"


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    # `naiprompt render --in big.txt | head -c1`: the reader goes away after one byte.
    big = tmp_path / "big.txt"
    big.write_text("(a:1.2), b\n" * 50_000, encoding="utf-8")
    for args in (["render", "--in", str(big)], ["tokens", "--brief", "--in", str(big)]):
        with subprocess.Popen(
            [*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            first = process.stdout.read(1)
            process.stdout.close()
            err = process.stderr.read().decode()
            status = process.wait(timeout=120)
        assert first in (b"(", b"3")
        assert status in (0, 141), err
        assert err == "", err


def test_ctrl_c_is_quiet() -> None:
    read, write = os.pipe()  # stdin stays open: the command waits for input
    with subprocess.Popen(
        [*COMMAND, "convert", "--to", "nai"], stdin=read, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    ) as process:
        os.close(read)
        _wait_until_idle(process.pid)  # imported and blocked on stdin, however loaded the machine is
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        os.close(write)
    assert process.returncode == 130
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err


def _wait_until_idle(pid: int, timeout: float = 60) -> None:
    """Wait until the process has used no CPU for half a second (it is blocked reading its input)."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + timeout
    time.sleep(0.5)
    previous = None
    while time.monotonic() < deadline:
        if not stat.exists():  # not Linux: a generous fixed wait
            time.sleep(3)
            return
        fields = stat.read_text().rsplit(")", 1)[1].split()
        used = int(fields[11]) + int(fields[12])  # utime + stime
        if used == previous:
            return
        previous = used
        time.sleep(0.5)


@pytest.mark.parametrize("command", [["convert", "--to", "nai"], ["tokens", "--brief"]])
def test_terminal_stdin_gets_a_message_not_a_silent_wait(command: list[str]) -> None:
    master, slave = pty.openpty()
    with subprocess.Popen(
        [*COMMAND, *command], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    ) as process:
        os.close(slave)
        time.sleep(1.5)
        os.write(master, b"{a}\n\x04")  # a line, then Ctrl-D (end of input on a terminal)
        out, err = process.communicate(timeout=60)
        os.close(master)
    assert b"reading prompts from the terminal" in err and b"Ctrl-D" in err
    assert process.returncode == 0
    assert out.strip() in (b"{a}", b"1/75")


# ---- help and completion ---------------------------------------------------------------------


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_has_no_markup(command: str) -> None:
    text = ok(command, "--help")
    for markup in ("``", ":func:", ":class:", ":mod:", ":data:"):
        assert markup not in text, (command, markup)


def test_top_help_lists_every_subcommand() -> None:
    text = ok("--help")
    for command in SUBCOMMANDS:
        assert command in text


def _bash_complete(line: str, script: str) -> list[str]:
    words = line.split(" ")
    program = (
        script
        + f"\nCOMP_WORDS=({' '.join(repr(word) for word in words)})\nCOMP_CWORD={len(words) - 1}\n"
        + '_naiprompt\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_commands_options_and_dialects() -> None:
    script = ok("completion", "bash")
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0
    assert "convert" in _bash_complete("naiprompt con", script)
    assert "--comma-backtrack" in _bash_complete("naiprompt tokens --com", script)
    assert set(_bash_complete("naiprompt convert --to nai", script)) >= {"nai", "nai4", "nai3"}
    assert set(_bash_complete("naiprompt tokens -d comf", script)) == {"comfy", "comfyui"}
    assert _bash_complete("naiprompt tokens --emphasis no", script) == ["no_norm", "none"]


def test_zsh_and_fish_scripts() -> None:
    zsh = ok("completion", "zsh")
    assert zsh.startswith("#compdef naiprompt\n")
    assert "'--to[print in this dialect (default: the input's)]:value:(auto comfy nai nai4 webui" not in zsh
    assert "--emphasis[WebUI emphasis mode\\: original (default), no_norm, ignore, none]:value:(original no_norm" in zsh
    fish = ok("completion", "fish")
    assert "complete -c naiprompt -n '__fish_seen_subcommand_from tokens' -l emphasis -x -a 'original no_norm" in fish
    assert "-a convert -d 'Convert a prompt between dialects'" in fish
    # The shells check their own syntax where they are installed (they are not in every CI image).
    for shell, text in (("zsh", zsh), ("fish", fish)):
        if shutil.which(shell):
            assert subprocess.run([shell, "-n"], input=text, text=True, check=False).returncode == 0


# ---- size ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [["4", "3"], ["4:3"], ["4x3"], ["4/3"], ["1024", "768"], ["1024x768"]])
def test_size_spellings(spelling: list[str]) -> None:
    result = run("size", *spelling)
    assert (result.returncode, result.stdout) == (0, "576x384\n")
    # 576x384 is 3:2: the command says so, and why.
    assert "576x384 is 3:2 (1.5), not the requested" in result.stderr
    assert "floored to a multiple of 64" in result.stderr


def test_size_without_a_ratio_change_says_nothing() -> None:
    result = run("size", "1:1")
    assert (result.stdout, result.stderr) == ("512x512\n", "")
    assert run("size", "4:3", "--quiet").stderr == ""


def test_cfg_for_a_chosen_size_is_its_row() -> None:
    for spelling in (["768", "512"], ["768x512"]):
        assert ok("size", *spelling, "--cfg") == "768x512\nCFG 18~24, recommended 16\n"
    # A ratio (W:H) is fitted first, as without --cfg.
    # 576x384 is nearest to 640x384 in area and shape together (not to 896x256, which is only close in area).
    assert ok("size", "3:2", "--cfg", "--quiet") == "576x384\nCFG 12~16, recommended 10.5 (nearest row 640x384)\n"
    data = json.loads(ok("size", "1000x600", "--cfg", "--json"))
    assert data["cfg"]["row"] == [1024, 576] and data["cfg"]["exact"] is False


def test_size_table() -> None:
    lines = ok("size", "--table").splitlines()
    assert lines[0].split() == ["Dimension", "CFG", "range", "recommended"]
    assert lines[1].split() == ["512x512", "12~16", "10.5"]
    assert any(line.startswith("Dimension (area fixed) ") for line in lines)
    from naiprompt.research.sizes import CFG_TABLE

    assert len([line for line in lines if line[:1].isdigit()]) == len(CFG_TABLE)
    rows = json.loads(ok("size", "--table", "--json"))
    assert {(row["width"], row["height"]) for row in rows} == set(CFG_TABLE)


# ---- budgets ---------------------------------------------------------------------------------


def test_limit_names_the_tags_past_it() -> None:
    result = run("tokens", "--limit", "5", "masterpiece, best quality, 1girl, smile")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "9/75  over the limit of 5 by 4: past it: 1girl, smile"
    record = json.loads(ok("tokens", "--json", "--limit", "75", "a cat"))
    assert record["past_limit"] == [] and record["ok"] is True
    result = run("tokens", "--json", "--limit", "2", "a, cat, dog")
    assert json.loads(result.stdout)["past_limit"] == ["cat", "dog"]
