"""CPU time of the public functions on hostile inputs at 10 kB, 100 kB and 1 MB.

The inputs are the ones that used to take quadratic time (``<a:`` repeated, ``((((a`` nested, digits,
crossing ``([``, openers, closed ``(a`` chains, edits and alternations). Linear work grows about 10x per
size step; the table shows each time and the growth ratio, and the yardstick (``str.count`` over the same
text, in the same process) so that figures from different machines compare.

Usage::

    python benchmarks/bench_hostile.py                 # 10 kB, 100 kB, 1 MB
    python benchmarks/bench_hostile.py --quick         # 10 kB and 100 kB only
    python benchmarks/bench_hostile.py --json out.json

Example (output shape)::

    input     function        10kB s   100kB s  1MB s    growth
    networks  parse           ...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import naiprompt  # noqa: E402
from naiprompt.dialects.webui.networks import extra_networks  # noqa: E402

FUNCTIONS: dict[str, Callable[[str], object]] = {
    "parse": naiprompt.parse,
    "render": lambda s: naiprompt.render(naiprompt.parse(s)),
    "attention": naiprompt.attention,
    "detect": naiprompt.detect,
    "extra_networks": extra_networks,
    "parse_nai": lambda s: naiprompt.parse(s, "nai"),
    "attention_nai": lambda s: naiprompt.attention(s, "nai"),
    "parse_nai4": lambda s: naiprompt.parse(s, "nai4"),
    "schedules": lambda s: naiprompt.schedules(s, 20),
}


def repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


INPUTS: dict[str, Callable[[int], str]] = {
    "networks": repeat("<a:"),
    "nested": repeat("((((a"),
    "digits": repeat("1"),
    "crossing": repeat("(["),
    "openers": repeat("("),
    "closed": lambda n: "(a" * (n // 3) + ")" * (n // 3),
    "edits": repeat("[a:"),
    "alternations": repeat("[a|"),
}


def cpu(function: Callable[[str], object], text: str) -> float:
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        function(text)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 kB and 100 kB only")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    yardstick = {size: cpu(lambda s: [s.count(c) for c in "()[]<>:|"], "a" * size) for size in sizes}
    rows = []
    print(f"{'input':13} {'function':15}" + "".join(f"{size // 1000:>8}kB s" for size in sizes) + "  growth")
    for input_name, make in INPUTS.items():
        for function_name, function in FUNCTIONS.items():
            times = [cpu(function, make(size)) for size in sizes]
            growth = times[-1] / max(times[-2], 1e-6)
            rows.append({"input": input_name, "function": function_name, "sizes": sizes, "cpu_s": times})
            print(f"{input_name:13} {function_name:15}" + "".join(f"{t:11.3f}" for t in times) + f"  {growth:6.1f}")
    if args.json:
        args.json.write_text(json.dumps({"yardstick_s": yardstick, "rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
