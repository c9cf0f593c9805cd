"""``naiprompt tokens``: counter, per-chunk view, --json, --limit, many prompts, errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from naiprompt.cli import main

LONG = "w " * 60 + ", " + "very " * 14 + "long hair, smile"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["tokens", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_counter_and_chunk_view(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "masterpiece, best quality, (long_hair:1.2)")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "8/75"
    assert lines[1] == "chunk 1: 8 tokens"
    assert lines[2] == "  masterpiece (1) | best quality (2) | long_hair (3)"
    assert "\x1b[" not in out  # plain when piped


def test_comma_backtrack_padding_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, LONG)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "93/150"
    assert lines[1] == "chunk 1: 61 tokens + 14 padding"
    assert lines[3].startswith("chunk 2: 18 tokens")


def test_cut_tag_is_marked(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--comma-backtrack", "0", LONG)
    assert status == 0
    assert "very very very very ve … ry very very long hair (14 of 16) ✂" in out
    assert "✂ very" in out and "(2 of 16)" in out
    assert out.splitlines()[-1].startswith("cut by a chunk boundary: very very")


def test_colour_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--color", "always", "--comma-backtrack", "0", LONG)
    assert "\x1b[1;31m" in out and "\x1b[0m" in out


def test_limit_sets_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--limit", "75", LONG)
    assert status == 1 and "over the limit of 75 by 18" in out
    status, out, _ = run(capsys, "--limit", "100", LONG)
    assert status == 0 and "within the limit of 100" in out
    status, out, _ = run(capsys, "--brief", "--limit", "3", "a b c d")
    assert (status, out) == (1, "4/75\n")


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--json", "--limit", "75", LONG, "a BREAK b")
    assert status == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["counter"] == "93/150" and first["over"] == 18 and first["ok"] is False
    assert first["chunk_lengths"] == [61, 18]
    assert [tag["chunk"] for tag in first["tags"]] == [0, 1, 1]
    assert second["prompt"] == "a BREAK b" and second["count"] == 76


def test_negative_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--brief", "a AND b c d e")[1] == "4/75\n"
    assert run(capsys, "--brief", "--negative", "a AND b c d e")[1] == "6/75\n"
    assert run(capsys, "--brief", "--steps", "10", "a [b c d:e:10] f")[1] == "5/75\n"


def test_nai_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--brief", "--dialect", "nai", "{{masterpiece}}, [blurry]")[1] == "3/75\n"


def test_many_prompts_from_file_and_stdin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("a cat\n\n1girl, solo\n", encoding="utf-8")
    status, out, _ = run(capsys, "--brief", "-f", str(path))
    assert status == 0 and out == "2/75\ta cat\n4/75\t1girl, solo\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("a\nb c\n"))
    status, out, _ = run(capsys, "--brief")
    assert out == "1/75\ta\n2/75\tb c\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("x y z\n"))
    assert run(capsys, "--brief", "-f", "-")[1] == "3/75\n"


def test_progress_bar_for_large_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text("a photo of a cat\n" * 300, encoding="utf-8")
    status, out, err = run(capsys, "--brief", "--progress", "always", "-f", str(path))
    assert status == 0 and len(out.splitlines()) == 300
    assert "300/300 prompts" in err
    _, _, err = run(capsys, "--brief", "-f", str(path))
    assert err == ""  # auto: not a terminal


def test_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "-f", str(tmp_path / "missing.txt"))
    assert status == 2 and "missing.txt" in err  # a file that is not there is a usage error
    status, _, err = run(capsys, "--comma-backtrack", "75", "a")
    assert status == 2
    status, _, err = run(capsys, "--tokenizer", "no-such-tokenizer", "a")
    assert status == 2 and "no-such-tokenizer" in err
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "--emphasis", "loud", "a")
    assert exit_info.value.code == 2 and "emphasis" in capsys.readouterr().err
