"""Throughput of naiprompt.encode against compel on a full-size CLIP ViT-L text encoder.

The encoder is randomly initialised with the real SD 1.x configuration (12 layers,
width 768, 12 heads, 77 positions): no download. Both libraries get the same model,
the same prompts (in their own weight syntax: ``(tag:1.2)`` and ``(tag)1.2``) and
CLIP skip 2 (compel: ``PENULTIMATE_HIDDEN_STATES_NORMALIZED``), long prompts not
truncated. Measured: prompts/s at batch 1, 16 and 128, and the latency of one
two-chunk prompt. Runs on CPU always, and on CUDA in fp16 when available.

Usage::

    python benchmarks/bench_encode.py                # CPU, then GPU if present
    python benchmarks/bench_encode.py --quick        # fewer prompts (a CI smoke run)
    python benchmarks/bench_encode.py --json out.json --threads 2 --no-compel

Example (output shape)::

    device  dtype    lib        batch  prompts/s
    cpu     float32  naiprompt  128    ...
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from naiprompt.encode import TextEncoder  # noqa: E402

FALLBACK_TAGS = [
    "1girl", "solo", "long_hair", "looking_at_viewer", "smile", "blush", "open_mouth", "short_hair",
    "blue_eyes", "simple_background", "shirt", "hair_ornament", "long_sleeves", "brown_hair",
    "black_hair", "dress", "holding", "bare_shoulders", "jewelry", "standing", "outdoors", "sky",
    "cloud", "day", "flower", "tree", "water", "night", "star_(sky)", "scenery", "masterpiece",
    "best_quality",
]


def load_tags(n: int = 400) -> list[str]:
    csv = ROOT.parent / "shared" / "data" / "danbooru.csv"
    if not csv.is_file():
        return list(FALLBACK_TAGS)
    tags = []
    for line in csv.read_text(encoding="utf-8").splitlines()[:n]:
        tag = line.split(",", 1)[0]
        if tag and "(" not in tag and ")" not in tag:
            tags.append(tag.replace("_", " "))
    return tags


def make_prompts(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Danbooru-style prompts, 8-45 tags, ~20% up-weighted: (webui syntax, compel syntax)."""
    rng = random.Random(seed)
    tags = load_tags()
    out = []
    for _ in range(count):
        chosen = rng.sample(tags, rng.randint(8, 45))
        webui, compel = [], []
        for tag in chosen:
            if rng.random() < 0.2:
                w = rng.choice([1.1, 1.2, 1.3, 1.4])
                webui.append(f"({tag}:{w})")
                compel.append(f"({tag}){w}")
            else:
                webui.append(tag)
                compel.append(tag)
        out.append((", ".join(webui), ", ".join(compel)))
    return out


def full_size_clip(device: str, dtype: torch.dtype) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=49408,
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    )
    torch.manual_seed(0)
    model = CLIPTextModel(config).eval()
    with torch.no_grad():  # a random final LayerNorm affine, so the mean restore is not 0/0
        ln = getattr(model, "text_model", model).final_layer_norm
        ln.weight.normal_(1.0, 0.2)
        ln.bias.normal_(0.05, 0.3)
    return model.to(device=device, dtype=dtype)


def clip_tokenizer(tmp: Path) -> Any:
    """A transformers CLIPTokenizer from naiprompt's shipped merges (no hub download)."""
    from transformers import CLIPTokenizer

    from naiprompt.tokens.clip import load_vocabulary

    vocab = load_vocabulary()
    (tmp / "vocab.json").write_text(json.dumps(vocab.encoder), encoding="utf-8")
    (tmp / "merges.txt").write_text("#version: 0.2\n" + "\n".join(vocab.merges) + "\n", encoding="utf-8")
    return CLIPTokenizer(
        str(tmp / "vocab.json"), str(tmp / "merges.txt"), pad_token="<|endoftext|>", model_max_length=77
    )


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def rates(fns: dict[str, Any], batches: dict[str, list[Any]], device: str, rounds: int) -> dict[str, float]:
    """Prompts per second of each library, measured in alternating passes so that load drift hits both."""
    for name, fn in fns.items():  # warm-up
        fn(batches[name][0])
    sync(device)
    spent = dict.fromkeys(fns, 0.0)
    done = dict.fromkeys(fns, 0)
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for batch in batches[name]:
                fn(batch)
                done[name] += len(batch)
            sync(device)
            spent[name] += time.perf_counter() - start
    return {name: done[name] / spent[name] for name in fns}


def latency_ms(fn: Any, device: str, repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_device(device: str, dtype: torch.dtype, args: argparse.Namespace) -> list[dict[str, Any]]:
    model = full_size_clip(device, dtype)
    enc = TextEncoder(model)
    n = 128 if args.quick else 256
    prompts = make_prompts(n)
    chunk_counts = [enc.encode(p).chunk_count for p, _ in prompts[:64]]
    print(f"# {device} {dtype}: {n} prompts, mean chunks {statistics.mean(chunk_counts):.2f}", flush=True)

    compel_fn = None
    if not args.no_compel:
        try:
            from compel import Compel, ReturnedEmbeddingsType

            tmp = Path(tempfile.mkdtemp())
            compel = Compel(
                tokenizer=clip_tokenizer(tmp),
                text_encoder=model,
                truncate_long_prompts=False,
                returned_embeddings_type=ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NORMALIZED,
                device=device,
            )

            def compel_fn(batch: list[str]) -> Any:
                with torch.inference_mode():
                    return compel(batch)
        except Exception as exc:  # compel missing or incompatible: report and go on
            print(f"# compel unavailable: {exc!r}", flush=True)

    rows: list[dict[str, Any]] = []
    for batch_size in (1, 16, 128):
        count = batch_size * max(1, 16 // batch_size) if args.quick else batch_size * max(2, 64 // batch_size)
        webui = [p for p, _ in prompts[:count]]
        comp = [c for _, c in prompts[:count]]
        fns: dict[str, Any] = {"naiprompt": enc.encode}
        batches = {"naiprompt": [webui[i : i + batch_size] for i in range(0, count, batch_size)]}
        if compel_fn is not None:
            fns["compel"] = compel_fn
            batches["compel"] = [comp[i : i + batch_size] for i in range(0, count, batch_size)]
        measured = rates(fns, batches, device, args.rounds)
        for name, r in measured.items():
            rows.append({"device": device, "dtype": str(dtype), "batch": batch_size, "lib": name, "prompts_s": r})
            print(f"{device:6} {dtype!s:14} {name:10} {batch_size:5}  {r:9.2f}", flush=True)

    words = make_prompts(1, seed=1)[0][0].split(", ")
    two_chunk = ", ".join(words)
    while enc.encode(two_chunk).chunk_count < 2:
        words += words
        two_chunk = ", ".join(words)
    while enc.encode(two_chunk).chunk_count > 2:
        words = words[:-1]
        two_chunk = ", ".join(words)
    ms = latency_ms(lambda: enc.encode(two_chunk), device, 10 if device == "cpu" else 50)
    rows.append({"device": device, "dtype": str(dtype), "lib": "naiprompt", "latency_two_chunk_ms": ms})
    print(f"{device:6} {dtype!s:14} naiprompt  one two-chunk prompt: {ms:.2f} ms (median)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer prompts")
    parser.add_argument("--no-compel", action="store_true", help="skip the compel comparison")
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating passes per measurement")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    try:
        import compel

        info["compel"] = getattr(compel, "__version__", "installed")
    except ImportError:
        info["compel"] = None
    print("# " + json.dumps(info), flush=True)
    rows = bench_device("cpu", torch.float32, args)
    if torch.cuda.is_available() and not args.cpu_only:
        info["gpu"] = torch.cuda.get_device_name(0)
        rows += bench_device("cuda", torch.float16, args)
    else:
        print("# no CUDA device: GPU numbers not measured", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"info": info, "results": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
