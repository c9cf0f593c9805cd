"""compel dialect speed: attention(), parse() and render() as ratios against yardsticks.

Yardsticks, run in the same process on the same prompts (compel's conformance corpus):
* ``compel``: compel 2.3's own ``PromptParser.parse_conjunction`` (pyparsing), when compel
  is installed (``pip install 'naiprompt[bench]'``); its ``prompt_parser`` module is loaded
  alone, without torch;
* ``scanner``: the WebUI-style emphasis scanner of ``bench_parse.py`` on the same text.

Lower is faster. Run: ``python benchmarks/bench_compel.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from naiprompt.contrib.compel import Compel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from webui_reference import reference_attention as scanner_attention  # noqa: E402


def _compel_parser() -> Any | None:
    spec = importlib.util.find_spec("compel")
    if spec is None or not spec.submodule_search_locations:
        return None
    location = next(iter(spec.submodule_search_locations)) + "/prompt_parser.py"
    module_spec = importlib.util.spec_from_file_location("_compel_prompt_parser", location)
    if module_spec is None or module_spec.loader is None:
        return None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.PromptParser()


def _time(run: Callable[[str], object], prompts: list[str], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for prompt in prompts:
            run(prompt)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer prompts and repeats")
    args = parser.parse_args()
    data = json.loads((ROOT / "tests" / "fixtures" / "conformance" / "compel_attention.json").read_text("utf-8"))
    prompts = [case["prompt"] for case in data["cases"]]
    if args.quick:
        prompts = prompts[:200]
    repeats = 3 if args.quick else 7
    dialect = Compel()
    trees = [dialect.parse(p) for p in prompts]
    ours: dict[str, Callable[[str], object]] = {"attention()": dialect.attention, "parse()": dialect.parse}
    rendering = _time(lambda _: [dialect.render(t) for t in trees], [""], repeats)
    yardsticks = {"scanner": _time(scanner_attention, prompts, repeats)}
    compel_parser = _compel_parser()
    if compel_parser is not None:
        yardsticks["compel"] = _time(compel_parser.parse_conjunction, prompts, repeats)
    timings = {name: _time(run, prompts, repeats) for name, run in ours.items()}
    timings["render()"] = rendering
    print(f"{len(prompts)} prompts, median of {repeats} runs")
    for label, base in yardsticks.items():
        print(f"  {label:12} {base * 1e3:8.1f} ms  (yardstick)")
    for name, seconds in timings.items():
        ratios = ", ".join(f"{seconds / base:.3f}x {label}" for label, base in yardsticks.items())
        print(f"  {name:12} {seconds * 1e3:8.1f} ms  ({ratios})")
    if compel_parser is None:
        print("  (compel is not installed: no compel yardstick)")


if __name__ == "__main__":
    main()
