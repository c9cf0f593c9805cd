"""``naiprompt info``, the installed command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PIL")

from naiprompt.metadata import parse_infotext, read

try:
    from test_metadata_carriers import INFOTEXT, novelai_v4_fields, png_bytes
except ImportError:  # pragma: no cover
    from tests.test_metadata_carriers import INFOTEXT, novelai_v4_fields, png_bytes

IMAGES = Path(__file__).parent / "fixtures" / "images"
_SCRIPT = Path(sys.executable).with_name("naiprompt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "naiprompt"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*COMMAND, "info", *args], input=stdin, capture_output=True, text=True, encoding="utf-8",
        timeout=60, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a1111.png").write_bytes(png_bytes([("parameters", INFOTEXT, "iTXt")]))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nai.png").write_bytes(png_bytes([(k, v, "tEXt") for k, v in novelai_v4_fields().items()]))
    (tmp_path / "plain.png").write_bytes(png_bytes())
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_summary_of_one_image(folder: Path) -> None:
    result = run(str(folder / "a1111.png"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "generator: a1111 (v1.10.1)"
    assert "prompt:    masterpiece, (猫耳:1.2), 1girl" in lines
    assert "settings:  steps 28  sampler DPM++ 2M  cfg 6.5  seed 123456789  size 832x1216" in lines


def test_folder_recursive_json(folder: Path) -> None:
    result = run("--json", str(folder))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["file"]).name for r in records] == ["a1111.png", "plain.png", "nai.png"]
    assert [r["generator"] for r in records] == ["a1111", None, "novelai"]
    nai = records[2]
    first = {"prompt": "girl, red hair, 1.2::smile::", "negative": "bad hands", "center": [0.3, 0.5]}
    assert nai["characters"][0] == first
    assert nai["seed"] == 3141592653 and nai["parameters"]["sampler"] == "k_dpmpp_2m_sde"


def test_infotext_for_webui(folder: Path) -> None:
    result = run("--infotext", str(folder / "sub" / "nai.png"))
    assert result.returncode == 0
    parsed = parse_infotext(result.stdout)
    assert parsed["Sampler"] == "DPM++ 2M SDE" and parsed["Clip skip"] == "2"
    assert "characters" in result.stderr  # the lossy V4 characters are reported


def test_to_novelai_and_comfy(folder: Path) -> None:
    comment = json.loads(run("--to", "novelai", str(folder / "a1111.png")).stdout)
    assert comment["sampler"] == "k_dpmpp_2m" and comment["seed"] == 123456789
    graph = json.loads(run("--to", "comfy", str(folder / "a1111.png")).stdout)
    assert graph["3"]["inputs"]["sampler_name"] == "dpmpp_2m"


def test_glob_and_unreadable_files(folder: Path) -> None:
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n\x7f\xff\xff\xfftEXt")
    result = run("--json", str(folder / "*.png"), str(folder / "missing.webp"))
    assert result.returncode == 1
    names = [Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()]
    assert names == ["a1111.png", "plain.png"]
    assert "broken.png" in result.stderr and "missing.webp" in result.stderr
    assert "Traceback" not in result.stderr


def test_write_then_read(folder: Path) -> None:
    infotext = folder / "params.txt"
    infotext.write_text(INFOTEXT, encoding="utf-8")
    for name in ("out.png", "out.jpg", "out.webp"):
        result = run("--write", str(infotext), str(folder / "plain.png"), "-o", str(folder / name))
        assert result.returncode == 0, result.stderr
        info = read(folder / name)
        assert info is not None and info.raw and info.seed == 123456789
    stdin = run("--write", "-", str(folder / "plain.png"), "-o", str(folder / "s.png"), stdin=INFOTEXT)
    assert stdin.returncode == 0 and read(folder / "s.png") is not None


@pytest.mark.parametrize(
    "args",
    [[], ["--write", "x.txt", "a.png"], ["--write", "x.txt", "a.png", "b.png", "-o", "c.png"], ["-o", "x", "a.png"],
     ["--to", "webui", "a.png"], ["--json", "--infotext", "a.png"]],
)  # fmt: skip
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_sample_folder_reads_cleanly() -> None:
    result = run("--json", str(IMAGES))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    generators = {Path(record["file"]).name: record["generator"] for record in records}
    assert generators["novelai1_cropped.png"] == "novelai" and generators["automatic1111_stealth.png"] == "a1111"
    assert len(generators) == 12


def test_closed_pipe_is_quiet(folder: Path) -> None:
    command = [*COMMAND, "info", "--json", *[str(folder / "a1111.png")] * 2000]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr


def test_progress_bar_and_ctrl_c(folder: Path) -> None:
    import signal

    command = [*COMMAND, "info", "--json", "--progress", "always", str(folder / "a1111.png")]
    small = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert "1/1 images" in small.stderr  # the bar, on stderr only
    assert json.loads(small.stdout)["generator"] == "a1111"
    listing = folder / "many"
    listing.mkdir()
    for index in range(300):
        (listing / f"{index:03}.png").write_bytes((folder / "plain.png").read_bytes())
    process = subprocess.Popen(
        [*COMMAND, "info", "--progress", "always", "--stealth", "always", *[str(listing)] * 50],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    assert process.stderr.read(1) == b"\r"  # running: the first progress update is out
    process.send_signal(signal.SIGINT)
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def test_import_does_not_load_pillow() -> None:
    code = (
        "import sys, naiprompt, naiprompt.metadata, naiprompt.cli.info\n"
        "from naiprompt.metadata import read\n"
        f"read({str(IMAGES / 'parsers/AUTOMATIC1111/automatic1111_cropped.png')!r})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'piexif')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # PNG, JPEG, WebP and GIF metadata are read from the bytes
