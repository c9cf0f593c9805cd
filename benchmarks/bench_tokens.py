"""Throughput of ``naiprompt.tokenize`` against transformers' slow CLIPTokenizer and the Rust ``tokenizers``.

Run from the repository root (needs ../shared/data; transformers < 5 and tokenizers for the yardsticks)::

    python benchmarks/bench_tokens.py [--runs 5] [--slow-sample 20000]

Corpora:

* **tags**: every tag of ../shared/data/danbooru.csv (140k, as written, with underscores);
* **prompts**: the positive and negative prompts of ../shared/data/yuansufadian_magic.json and
  seed_repo_prompts.jsonl (non-empty ones).

All tokenizers run in this process, one call per text, on the same texts. naiprompt is measured as
``ClipTokenizer("webui").encode`` ("cold", "warm") and through the public ``naiprompt.tokenize`` ("tokenize()
cold": the shared tokenizer with its caches emptied first). With the compiled merge loop built, the
pure-Python fallback is measured too ("pure Python cold"). Each run starts **cold**: a fresh
naiprompt cache, a freshly built slow tokenizer (its BPE cache empty; called through its public
``encode(text, add_special_tokens=False)``); the Rust tokenizer (the backend of ``CLIPTokenizerFast``) keeps
nothing between calls. Numbers are medians over ``--runs`` runs (``--slow-runs`` for the slow tokenizer,
which needs ~15 s a pass over the tags). "warm" repeats naiprompt on the same texts without clearing its
caches (a UI or a long CLI run). ``encode_batch`` lets Rust use every core.

It also reports the time of ``import naiprompt`` plus the first ``count_tokens`` call in a fresh
interpreter (best of 3).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "src"))

from naiprompt.tokens.clip import COMPILED, ClipTokenizer, _merger, load_vocabulary  # noqa: E402

Encode = Callable[[str], Sequence[int]]


def load_tags() -> list[str]:
    with (SHARED / "data" / "danbooru.csv").open(encoding="utf-8", newline="") as handle:
        return [row[0] for row in csv.reader(handle) if row]


def load_prompts() -> list[str]:
    prompts: list[str] = []
    magic = json.loads((SHARED / "data" / "yuansufadian_magic.json").read_text(encoding="utf-8"))
    for entry in magic.values():
        prompts += [entry.get("tags", ""), entry.get("ntags", "")]
    with (SHARED / "data" / "seed_repo_prompts.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            prompts += [row.get("positive") or "", row.get("negative") or ""]
    return [p for p in prompts if p.strip()]


def write_vocab(directory: Path) -> tuple[str, str]:
    vocab = load_vocabulary()
    vocab_file = directory / "vocab.json"
    merges_file = directory / "merges.txt"
    vocab_file.write_text(
        json.dumps({t: i for i, t in enumerate(vocab.decoder)}, ensure_ascii=False), encoding="utf-8"
    )
    merges_file.write_text("#version: 0.2\n" + "\n".join(vocab.merges) + "\n", encoding="utf-8")
    return str(vocab_file), str(merges_file)


def time_pass(make: Callable[[], Encode], texts: Sequence[str]) -> tuple[float, int]:
    encode = make()
    start = time.perf_counter()
    total = 0
    for text in texts:
        total += len(encode(text))
    return time.perf_counter() - start, total


def median_rate(make: Callable[[], Encode], texts: Sequence[str], runs: int) -> tuple[float, int]:
    rates = []
    total = 0
    for _ in range(runs):
        seconds, total = time_pass(make, texts)
        rates.append(total / seconds)
    return statistics.median(rates), total


def fresh_naiprompt() -> Encode:
    tok = ClipTokenizer("webui")
    return tok.encode


def fresh_tokenize() -> Encode:
    # The public function the issue names: the shared "webui" tokenizer, its caches emptied first.
    from naiprompt import tokenize
    from naiprompt.tokens.registry import get_tokenizer

    shared = get_tokenizer("webui")
    assert isinstance(shared, ClipTokenizer)
    shared.clear_cache()
    return tokenize


def fresh_pure_python() -> Encode:
    # The fallback of a wheel built without a C compiler: the same caches, the pure-Python merge loop.
    tok = ClipTokenizer("webui")
    tok._pieces._merge = _merger(load_vocabulary(), compiled=False)
    return tok.encode


def make_warm() -> Callable[[], Encode]:
    tok = ClipTokenizer("webui")
    return lambda: tok.encode


def startup_time() -> float:
    code = (
        "import time; t = time.perf_counter(); import naiprompt; "
        "naiprompt.count_tokens('masterpiece, best quality, (long_hair:1.2), [blurry]'); "
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    best = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        best.append(float(out.stdout.strip()))
    return min(best)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--slow-runs", type=int, default=1, help="runs of the slow tokenizer (~15 s each)")
    args = parser.parse_args(argv)
    if not SHARED.exists():
        print("../shared is not available; nothing to measure", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        measure(args, Path(tmp))
    print(f"\nimport naiprompt + first count_tokens: {startup_time() * 1000:.0f} ms (best of 3)")
    return 0


def measure(args: argparse.Namespace, tmp: Path) -> None:
    corpora = {"tags": load_tags(), "prompts": load_prompts()}
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"merge loop: {'compiled (naiprompt.tokens._bpe)' if COMPILED else 'pure Python (extension not built)'}")
    print(f"tags: {len(corpora['tags'])}, prompts: {len(corpora['prompts'])}")

    yardsticks: dict[str, tuple[Callable[[], Encode], int]] = {}
    rust: Any = None
    vocab_file, merges_file = write_vocab(tmp)
    try:
        from transformers import CLIPTokenizer, CLIPTokenizerFast
    except ImportError as exc:  # pragma: no cover - yardsticks are optional
        print(f"(yardsticks unavailable: {exc})")
    else:

        def make_slow() -> Encode:
            slow = CLIPTokenizer(vocab_file, merges_file)
            return lambda text: slow.encode(text, add_special_tokens=False)  # type: ignore[no-any-return]

        rust = CLIPTokenizerFast(vocab_file, merges_file)._tokenizer
        yardsticks["transformers slow CLIPTokenizer"] = (make_slow, args.slow_runs)
        yardsticks["tokenizers (Rust), one call/text"] = (
            lambda: lambda text: rust.encode(text, add_special_tokens=False).ids,
            args.runs,
        )

    for corpus, texts in corpora.items():
        print(f"\n{corpus} (median of {args.runs} runs; each run starts with empty caches)")
        rates: dict[str, float] = {}

        def row(name: str, rate: float, tokens: int, rates: dict[str, float] = rates) -> None:
            rates[name] = rate
            print(f"  {name:<34} {rate:>12,.0f} tokens/s   ({tokens:,} tokens)")

        ours = {
            "cold": fresh_naiprompt,
            "tokenize() cold": fresh_tokenize,
            "warm": make_warm(),
        }
        if COMPILED:
            ours["pure Python cold"] = fresh_pure_python
        for label, make in ours.items():
            rate, tokens = median_rate(make, texts, args.runs)
            row(f"naiprompt {label}", rate, tokens)
        for name, (make, runs) in yardsticks.items():
            rate, tokens = median_rate(make, texts, runs)
            row(name, rate, tokens)
        if rust is not None:
            batch = []
            for _ in range(args.runs):
                start = time.perf_counter()
                encoded = rust.encode_batch(list(texts), add_special_tokens=False)
                batch.append(sum(len(e.ids) for e in encoded) / (time.perf_counter() - start))
            row("tokenizers (Rust), encode_batch", statistics.median(batch), tokens)
        print(f"  {'ratio: naiprompt ... vs':<34} " + "".join(f"{label:>18}" for label in ours))
        for name in [*yardsticks, "tokenizers (Rust), encode_batch"]:
            if name in rates:
                cells = "".join(f"{rates[f'naiprompt {label}'] / rates[name]:17.2f}x" for label in ours)
                print(f"  {name:<34} {cells}")

if __name__ == "__main__":
    raise SystemExit(main())
