"""Parsing speed: attention(), schedules() and parse() against yardsticks run in the same process.

Yardsticks (written here from the WebUI spec, not copied from WebUI):
* ``scanner``: a single-regex emphasis scanner of WebUI's kind: one compiled regex, two
  bracket stacks, a ``re.split`` on BREAK per text run, multiply-to-the-end on every closer,
  and the pop-based merge of equal neighbours.
* ``earley``: WebUI's prompt-editing grammar as a Lark Earley parser (WebUI parses
  ``[a:b:N]`` / ``[a|b]`` that way), plus the per-step text collection.

Ratios are our time over the scanner's time on the same corpus (lower is faster); the
medians of several runs are quoted. Run: ``python benchmarks/bench_parse.py [--quick]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lark

import naiprompt
from naiprompt.dialects._strict import word_splitter
from naiprompt.grammar import lark_parser

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# -- yardstick 1: a WebUI-style emphasis scanner -------------------------------------------
# The literal reading of the spec that the test suite compares attention() with: one regex of
# WebUI's lexemes, two bracket stacks, a BREAK split per text run, multiply to the end on every
# closer, the merge of equal neighbours.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from webui_reference import reference_attention as scanner_attention  # noqa: E402

# -- yardstick 2: the prompt-editing grammar with Lark's Earley parser -----------------------
_EARLEY_GRAMMAR = r"""
!start: (prompt | /[][():]/+)*
prompt: (emphasized | scheduled | alternate | plain | WHITESPACE)*
!emphasized: "(" prompt ")" | "(" prompt ":" prompt ")" | "[" prompt "]"
scheduled: "[" [prompt ":"] prompt ":" [WHITESPACE] NUMBER [WHITESPACE] "]"
alternate: "[" prompt ("|" [prompt])+ "]"
WHITESPACE: /\s+/
plain: /([^\\\[\]():|]|\\.)+/
%import common.SIGNED_NUMBER -> NUMBER
"""
_EARLEY = lark.Lark(_EARLEY_GRAMMAR)


def earley_schedules(text: str, steps: int) -> list[tuple[int, str]]:
    try:
        tree = _EARLEY.parse(text)
    except lark.exceptions.LarkError:
        return [(steps, text)]
    points = {steps}
    for node in tree.iter_subtrees():
        if node.data == "scheduled":
            number = str(node.children[-2])
            value = float(number) * steps if "." in number else float(number)
            when = min(steps, int(value))
            if when >= 1:
                points.add(when)
        elif node.data == "alternate":
            points.update(range(1, steps + 1))

    def text_at(step: int) -> str:
        out: list[str] = []
        stack: list[Any] = [tree]
        while stack:
            item = stack.pop()
            if isinstance(item, lark.Token):
                out.append(str(item))
            elif item is None:
                continue
            elif item.data == "scheduled":
                number = str(item.children[-2])
                value = float(number) * steps if "." in number else float(number)
                parts = [c for c in item.children if isinstance(c, lark.Tree) and c.data == "prompt"]
                before = parts[0] if len(parts) == 2 else None
                stack.append(before if step <= min(steps, int(value)) else parts[-1])
            elif item.data == "alternate":
                options = [c for c in item.children if c is None or isinstance(c, lark.Tree)]
                stack.append(options[(step - 1) % len(options)])
            else:
                stack.extend(reversed(item.children))
        return "".join(out)

    return [(step, text_at(step)) for step in sorted(points)]


# -- the corpus -----------------------------------------------------------------------------
def corpus(size: int, seed: int = 1) -> list[str]:
    """Real prompts from ../shared/data plus synthetic ones of real danbooru tags with weights."""
    prompts: list[str] = []
    tags = [f"tag{i}_(series)" for i in range(2000)]
    if SHARED.is_dir():
        data = SHARED / "data"
        for entry in json.loads((data / "yuansufadian_magic.json").read_text(encoding="utf-8")).values():
            pair = (entry["tags"], entry["ntags"])
            prompts.extend(naiprompt.convert(p, "nai", "webui", errors="ignore") for p in pair)
        for line in (data / "seed_repo_prompts.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            prompts.extend(row[k] for k in ("positive", "negative") if row.get(k))
        with (data / "danbooru.csv").open(encoding="utf-8") as handle:
            tags = [row[0] for row, _ in zip(csv.reader(handle), range(20000), strict=False) if row]
    rng = random.Random(seed)
    while len(prompts) < size:
        pieces = []
        for _ in range(rng.randint(8, 40)):
            tag = tag_text(rng.choice(tags))
            roll = rng.random()
            if roll < 0.15:
                tag = f"({tag}:{rng.choice(['0.8', '1.1', '1.2', '1.35', '0.564'])})"
            elif roll < 0.22:
                tag = "(" * rng.randint(1, 3) + tag + ")" * rng.randint(1, 3)
            elif roll < 0.27:
                tag = f"[{tag}]"
            elif roll < 0.29:
                tag = f"[{tag}:{tag_text(rng.choice(tags))}:0.{rng.randint(2, 8)}]"
            elif roll < 0.30:
                tag = f"<lora:{rng.choice(tags)}:0.8>"
            pieces.append(tag)
        if rng.random() < 0.1:
            pieces.insert(rng.randrange(len(pieces)), "BREAK")
        prompts.append(", ".join(pieces))
    return prompts[:size]


def tag_text(tag: str) -> str:
    return tag.replace("_", " ").replace("(", "\\(").replace(")", "\\)")


# -- timing ---------------------------------------------------------------------------------
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
    size, repeats = (400, 3) if args.quick else (3000, 7)
    warnings.simplefilter("ignore")
    prompts = corpus(size)
    print(f"corpus: {len(prompts)} prompts, {sum(map(len, prompts)) / len(prompts):.0f} chars on average; "
          f"median of {repeats} runs; Python {sys.version.split()[0]}")
    # Correctness first: the fast path must equal the yardstick on every prompt.
    for prompt in prompts:
        assert naiprompt.attention(prompt) == scanner_attention(prompt), prompt
    base = median_time(scanner_attention, prompts, repeats)
    rows = [("scanner (yardstick)", base)]
    rows.append(("attention()", median_time(naiprompt.attention, prompts, repeats)))
    rows.append(("schedules(steps=20)", median_time(lambda p: naiprompt.schedules(p, 20), prompts, repeats)))
    rows.append(("parse() lenient", median_time(naiprompt.parse, prompts, repeats)))
    strict = lark_parser("webui", postlex=word_splitter())

    def lark_lalr(prompt: str) -> object:
        try:
            return strict.parse(prompt)
        except lark.exceptions.LarkError:
            return None

    rows.append(("Lark LALR (strict grammar)", median_time(lark_lalr, prompts, repeats)))
    few = prompts[: max(20, len(prompts) // 50)]
    earley = median_time(lambda p: earley_schedules(p, 20), few, 1) * len(prompts) / len(few)
    rows.append(("Earley schedules (WebUI's way)", earley))
    print(f"{'':32} {'prompts/s':>12} {'ratio':>8}")
    for name, seconds in rows:
        print(f"{name:32} {len(prompts) / seconds:12,.0f} {seconds / base:8.2f}")
    ours = dict(rows)
    print(f"schedules() is {earley / ours['schedules(steps=20)']:.0f}x faster than the Earley way")

    print("\nlinear growth: parse() and attention() time per kB as the prompt grows")
    unit = ", ".join(prompts[:50])
    for kilobytes in (1, 10, 100, 1000):
        text = (unit * (kilobytes * 1024 // len(unit) + 1))[: kilobytes * 1024]
        reps = 3 if kilobytes < 1000 else 1
        parse_s = median_time(naiprompt.parse, [text], reps)
        attention_s = median_time(naiprompt.attention, [text], reps)
        print(f"{kilobytes:6} kB: parse {parse_s / kilobytes * 1e3:7.3f} ms/kB, "
              f"attention {attention_s / kilobytes * 1e3:7.3f} ms/kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
