"""Conversion and ComfyUI speed, as ratios to WebUI's ``attention()`` on the same corpus.

Yardstick: ``naiprompt.attention(prompt)`` (WebUI's ``parse_prompt_attention``, itself measured
against a regex scanner in bench_parse.py). Rows: the ComfyUI reading (``segments``) and tree
(``parse``), ComfyUI's token chunks, and the conversions this project is used for. Then the
linear growth of the ComfyUI reading with nesting depth. Ratios are our time over the
yardstick's (lower is faster). Run: ``python benchmarks/bench_convert.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import naiprompt
from naiprompt.contrib.comfy import Comfy
from naiprompt.dialects import DIALECTS, register_dialect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import corpus

if "comfy" not in DIALECTS.names():  # a source checkout without installed entry points
    register_dialect(Comfy)


def median_time(func: Callable[[str], object], prompts: Sequence[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for prompt in prompts:
            func(prompt)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small corpus and few repeats")
    args = parser.parse_args(argv)
    size, repeats = (300, 3) if args.quick else (3000, 5)
    warnings.simplefilter("ignore")
    prompts = corpus(size)
    comfy = Comfy()
    print(f"corpus: {len(prompts)} prompts, {sum(map(len, prompts)) / len(prompts):.0f} chars on average; "
          f"median of {repeats} runs; Python {sys.version.split()[0]}")
    base = median_time(naiprompt.attention, prompts, repeats)
    rows = [
        ("attention() webui (yardstick)", base),
        ("comfy segments (token_weights)", median_time(comfy.segments, prompts, repeats)),
        ("comfy parse()", median_time(comfy.parse, prompts, repeats)),
        ("comfy chunks()", median_time(lambda p: naiprompt.chunks(p, "comfy"), prompts, repeats)),
        ("convert webui -> nai", median_time(lambda p: naiprompt.convert(p, "webui", "nai"), prompts, repeats)),
        ("convert webui -> nai4", median_time(lambda p: naiprompt.convert(p, "webui", "nai4"), prompts, repeats)),
        ("convert comfy -> webui", median_time(lambda p: naiprompt.convert(p, "comfy", "webui"), prompts, repeats)),
        ("convert mixed -> webui", median_time(lambda p: naiprompt.convert(p, "mixed", "webui"), prompts, repeats)),
    ]
    print(f"{'':34} {'prompts/s':>12} {'ratio':>8}")
    for name, seconds in rows:
        print(f"{name:34} {len(prompts) / seconds:12,.0f} {seconds / base:8.2f}")

    print("\nlinear growth: the ComfyUI reading of n nested brackets (time per 1,000 levels)")
    for depth in (1_000, 10_000, 100_000):
        text = "(" * depth + "a:1.5)" + ")" * (depth - 1)
        seconds = median_time(comfy.segments, [text], 3)
        print(f"{depth:8} levels: {seconds / depth * 1e6:8.2f} ms per 1,000 levels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
