"""Speed of naiprompt.metadata against Pillow's own metadata access, run in the same process.

Measured: ``read()`` on an A1111 PNG (1024x1024, infotext chunk), a JPEG and a WebP with an EXIF
UserComment, and a NovelAI PNG whose metadata is only in the alpha channel (stealth data, 832x1216,
pixels decoded); the yardstick is what other readers do, ``PIL.Image.open`` plus ``.text`` /
``getexif()`` (which, for stealth data, does not read the pixels at all). ``parse_infotext`` is
measured against WebUI's bare parameter regex on the same texts.
The ratio is yardstick/s over naiprompt/s: above 1, naiprompt is slower.

Usage::

    python benchmarks/bench_metadata.py            # a few seconds
    python benchmarks/bench_metadata.py --json out.json
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from naiprompt.metadata import parse_infotext, read, write  # noqa: E402
from naiprompt.metadata.stealth import embed_alpha  # noqa: E402

INFOTEXT = (
    "masterpiece, best quality, (1girl:1.2), solo, long hair, looking at viewer, smile, [blurry]\n"
    "Negative prompt: lowres, bad anatomy, bad hands, text, error, missing fingers, worst quality\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, Size: 1024x1024, "
    'Model hash: 15012c538f, Model: animagine-xl, Lora hashes: "ink: 1a2b3c4d5e6f", Version: v1.10.1'
)


def _timed(function: Callable[[], object], seconds: float) -> float:
    """Calls per second (best of three windows)."""
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            function()
            count += 1
        best = max(best, count / elapsed)
    return best


def _images() -> dict[str, bytes]:
    photo = Image.effect_mandelbrot((1024, 1024), (-2, -1.5, 1, 1.5), 60).convert("RGB")
    png = io.BytesIO()
    photo.save(png, "PNG", compress_level=1)
    jpeg, webp = io.BytesIO(), io.BytesIO()
    photo.save(jpeg, "JPEG", quality=90)
    photo.save(webp, "WEBP", quality=90)
    nai = Image.effect_mandelbrot((832, 1216), (-2, -1.5, 1, 1.5), 60).convert("RGBA")
    comment = {"prompt": "1girl", "uc": "lowres", "steps": 28, "scale": 5, "seed": 1}
    fields = {"Description": "1girl", "Software": "NovelAI", "Comment": json.dumps(comment)}
    nai.putalpha(Image.frombytes("L", nai.size, embed_alpha(json.dumps(fields), *nai.size)))
    stealth = io.BytesIO()
    nai.save(stealth, "PNG", compress_level=1, pnginfo=PngImagePlugin.PngInfo())
    return {
        "a1111 png": write(png.getvalue(), INFOTEXT),
        "a1111 jpeg": write(jpeg.getvalue(), INFOTEXT),
        "a1111 webp": write(webp.getvalue(), INFOTEXT),
        "novelai stealth png": stealth.getvalue(),
    }


def _pillow(data: bytes) -> object:
    with Image.open(io.BytesIO(data)) as image:
        return getattr(image, "text", None), image.getexif().get_ifd(0x8769)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name, data in _images().items():
        ours = _timed(lambda data=data: read(data), args.seconds)
        yardstick = _timed(lambda data=data: _pillow(data), args.seconds)
        row = {"case": f"read {name}", "naiprompt/s": ours, "yardstick/s": yardstick, "ratio": yardstick / ours}
        rows.append(row)
    regex = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
    ours = _timed(lambda: parse_infotext(INFOTEXT), args.seconds)
    yardstick = _timed(lambda: regex.findall(INFOTEXT.rsplit("\n", 1)[-1]), args.seconds)
    rows.append({"case": "parse_infotext", "naiprompt/s": ours, "yardstick/s": yardstick, "ratio": yardstick / ours})
    print(f"{'case':28} {'naiprompt/s':>12} {'yardstick/s':>12} {'ratio':>7}")
    for row in rows:
        print(f"{row['case']:28} {row['naiprompt/s']:12.0f} {row['yardstick/s']:12.0f} {row['ratio']:7.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
