"""``naiprompt batch``, the installed command driven in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_SCRIPT = Path(sys.executable).with_name("naiprompt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "naiprompt"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*COMMAND, "batch", *args], input=stdin, capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_stdin_to_stdout_with_summary() -> None:
    result = run("convert", "--read", "nai", "-", "-j", "1", stdin="{a}, b\n[c]\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "(a:1.05), b\n(c:0.9524)\n"
    assert "2 rows, 0 errors" in result.stderr and "rows/s" in result.stderr


def test_failed_rows_go_to_the_errors_file_and_set_the_status(tmp_path: Path) -> None:
    errors = tmp_path / "errors.jsonl"
    args = ("convert", "--write", "nai", "--on-loss", "raise", "-", "--errors", str(errors), "-j", "1")
    result = run(*args, stdin="a\n[x:y:5]\nb\n")
    assert result.returncode == 1
    assert result.stdout == "a\n\nb\n"
    (record,) = [json.loads(line) for line in errors.read_text().splitlines()]
    assert record["key"] == 2 and record["row"] == "[x:y:5]" and record["kind"] == "ConversionError"
    assert "1 errors" in result.stderr
    assert run(*args, "--keep-going", stdin="[x:y:5]\n").returncode == 0


def test_caption_folder_with_processes(tmp_path: Path) -> None:
    src = tmp_path / "captions"
    src.mkdir()
    for index in range(40):
        (src / f"{index:03}.txt").write_text(f"{{tag_{index}}}, 1girl\n" if index % 2 else "plain, tags\n")
    out = tmp_path / "out"
    result = run("apply", "-t", "underscores", "-d", "nai", "--write", "webui", str(src), "-o", str(out), "-j", "2")
    assert result.returncode == 0, result.stderr
    assert (out / "001.txt").read_text() == "(tag 1:1.05), 1girl\n"
    assert (out / "000.txt").read_text() == "plain, tags\n"
    assert len(list(out.glob("*.txt"))) == 40


def test_inputs_by_option_and_formats(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text('{"caption": "a, b"}\n{"caption": "(c:1.2)"}\n')
    out = tmp_path / "o.jsonl"
    result = run("tags", "--in", str(source), "--field", "caption", "-o", str(out), "-j", "1", "-q")
    assert result.returncode == 0, result.stderr and result.stderr == ""
    assert [json.loads(line)["tags"] for line in out.read_text().splitlines()] == [["a", "b"], ["(c:1.2)"]]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("frobnicate", "-").returncode == 2
    assert run("convert", "--limit", "3", "-").returncode == 2
    assert run("convert", str(tmp_path / "missing.txt")).returncode == 2
    assert run("apply", "-t", "nosuch_transform", "-").returncode == 2
    folder = run("convert", str(tmp_path))
    assert folder.returncode == 2 and "-o OUT or --in-place" in folder.stderr
    assert "Traceback" not in folder.stderr


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("".join(f"{{tag{i}}}, x\n" for i in range(20000)))
    process = subprocess.Popen(
        [*COMMAND, "batch", "convert", "--read", "nai", str(rows), "-j", "1", "--chunk-size", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.close()  # `| head -1`
    _, stderr = process.communicate(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert process.returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_is_quiet(tmp_path: Path) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("".join(f"{{tag{i}}}, [x{i}], y\n" for i in range(200_000)))
    process = subprocess.Popen(
        [*COMMAND, "batch", "count_tokens", str(rows), "-o", str(tmp_path / "o.txt"), "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    if process.returncode == 0:  # finished before the signal on a fast machine
        return
    assert process.returncode == 130
    assert "Traceback" not in stderr and "interrupted" in stderr
