"""``TextEncoder``: WebUI's prompt-to-conditioning path for SD 1.x (and NovelAI V1) models.

Example:
    >>> from naiprompt.encode import TextEncoder  # doctest: +SKIP
    >>> enc = TextEncoder.from_pretrained("animefull-final-pruned.safetensors")  # doctest: +SKIP
    >>> enc.encode("1girl, (smile:1.2), masterpiece").tensor.shape  # doctest: +SKIP
    torch.Size([1, 77, 768])
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any, Literal

import torch

from naiprompt import defaults
from naiprompt.encode._chunks import EOS, ChunkLike, TokenChunk, normalize_emphasis, text_chunks
from naiprompt.encode._core import Conditioning, PadMode, concat, encode_empty, pad_pair, run_groups
from naiprompt.encode._model import ClipRunner

MeanScope = Literal["prompt", "batch"]
"""Which texts share one mean restoration: each prompt alone, or the whole list (one WebUI call)."""

Schedule = list[tuple[int, Conditioning]]
"""``[(end_step, conditioning), ...]`` as WebUI's prompt editing produces."""


def schedule_at(schedule: Sequence[tuple[int, Conditioning]], step: int) -> Conditioning:
    """The conditioning WebUI uses at sampler call ``step`` (0-based): the first entry with ``step <= end``.

    Example:
        >>> sched = encoder.encode_schedule("[cat:dog:5]", 10)  # doctest: +SKIP
        >>> schedule_at(sched, 5) is sched[0][1], schedule_at(sched, 6) is sched[1][1]  # doctest: +SKIP
        (True, True)
    """
    if not schedule:
        raise ValueError("empty schedule")
    for end, cond in schedule:
        if step <= end:
            return cond
    return schedule[-1][1]


class BaseEncoder:
    """Text-level API shared by :class:`TextEncoder` and :class:`~naiprompt.encode.SDXLTextEncoder`.

    Subclasses implement :meth:`encode_groups`.

    Example:
        >>> issubclass(TextEncoder, BaseEncoder)
        True
    """

    default_clip_skip: int = 2

    def encode_groups(
        self,
        groups: Sequence[Sequence[Sequence[ChunkLike]]],
        *,
        clip_skip: int,
        emphasis: str,
    ) -> Conditioning:
        """Encode texts given as chunks, grouped by WebUI call (one mean restoration per group).

        Example:
            >>> enc.encode_groups([[[empty_chunk()]]], clip_skip=2, emphasis="original")  # doctest: +SKIP
        """
        raise NotImplementedError

    def _chunks(self, text: str, dialect: str, comma_backtrack: int, emphasis: str) -> list[TokenChunk]:
        return text_chunks(
            text, dialect=dialect, comma_backtrack=comma_backtrack, emphasis=normalize_emphasis(emphasis)
        )

    def encode_chunks(
        self,
        chunk_lists: Sequence[Sequence[ChunkLike]],
        *,
        clip_skip: int | None = None,
        emphasis: str = "original",
        mean_over: MeanScope = "prompt",
    ) -> Conditioning:
        """Encode prompts that are already chunked (one list of 77-token chunks per prompt).

        Example:
            >>> from naiprompt.encode import TokenChunk
            >>> enc.encode_chunks([[TokenChunk.from_tokens([320, 2368], [1.0, 1.3])]])  # doctest: +SKIP
        """
        skip = self.default_clip_skip if clip_skip is None else clip_skip
        if mean_over == "prompt":
            groups: list[list[Sequence[ChunkLike]]] = [[c] for c in chunk_lists]
        elif mean_over == "batch":
            groups = [list(chunk_lists)]
        else:
            raise ValueError(f"mean_over must be 'prompt' or 'batch', got {mean_over!r}")
        if not chunk_lists:
            raise ValueError("no prompts to encode")
        return self.encode_groups(groups, clip_skip=skip, emphasis=emphasis)

    def encode(
        self,
        prompts: str | Sequence[str],
        *,
        dialect: str = defaults.DIALECT,
        clip_skip: int | None = None,
        emphasis: str = "original",
        comma_backtrack: int = 20,
        mean_over: MeanScope = "prompt",
    ) -> Conditioning:
        """Encode one prompt or a list of prompts as WebUI does.

        The text goes through the attention parser of ``dialect`` (``"webui"``,
        ``"nai"``, ``"comfy"``), BREAK and 75-token chunking with the comma
        backtrack; no AND splitting (see :meth:`encode_and`). Prompts with fewer
        chunks are padded with encoded empty chunks. ``mean_over="prompt"``
        (default) gives every prompt the result it has when generated on its own;
        ``"batch"`` treats the list as one WebUI call whose texts share the mean
        restoration.

        A WebUI prompt with prompt editing or alternation (``[cat:dog:0.5]``,
        ``[a|b]``) has no single conditioning: it changes during sampling. Like
        :func:`naiprompt.diffusers.prompt_embeds`, ``encode`` raises
        :class:`ValueError` for it rather than encoding the brackets as words; use
        :meth:`encode_schedule` (or :meth:`encode_composable`) for such prompts.

        Example:
            >>> enc.encode(["1girl, (smile:1.2)", "1boy"]).tensor.shape  # doctest: +SKIP
            torch.Size([2, 77, 768])
            >>> enc.encode("a [cat:dog:0.5]")  # doctest: +SKIP
            Traceback (most recent call last):
            ...
            ValueError: 'a [cat:dog:0.5]' uses prompt editing or alternation ...
        """
        texts = [prompts] if isinstance(prompts, str) else list(prompts)
        if not texts:
            raise ValueError("no prompts to encode")
        if _schedules(dialect):
            for text in texts:
                _check_single_schedule(text)
        return self._encode_texts(texts, dialect, clip_skip, emphasis, comma_backtrack, mean_over)

    def _encode_texts(
        self,
        texts: list[str],
        dialect: str,
        clip_skip: int | None,
        emphasis: str,
        comma_backtrack: int,
        mean_over: MeanScope,
    ) -> Conditioning:
        chunk_lists = [self._chunks(t, dialect, comma_backtrack, emphasis) for t in texts]
        return self.encode_chunks(chunk_lists, clip_skip=clip_skip, emphasis=emphasis, mean_over=mean_over)

    def encode_pair(
        self,
        prompt: str,
        negative_prompt: str = "",
        *,
        pad: PadMode = "empty",
        strip_extra_networks: bool = True,
        **options: Any,
    ) -> tuple[Conditioning, Conditioning]:
        """Encode a prompt and its negative and bring them to one length (see :func:`pad_pair`).

        Extra-network tags (``<lora:x:1>``) are removed from the prompt, as WebUI
        does during generation; the negative prompt keeps them, as in WebUI.

        Example:
            >>> cond, uncond = enc.encode_pair("a BREAK b", "lowres")  # doctest: +SKIP
            >>> cond.tensor.shape == uncond.tensor.shape  # doctest: +SKIP
            True
        """
        if strip_extra_networks:
            prompt = _strip_extra_networks(prompt)
        cond = self.encode(prompt, **options)
        uncond = self.encode(negative_prompt, **options)
        return pad_pair(cond, uncond, pad)

    def encode_schedule(
        self,
        prompt: str,
        steps: int,
        *,
        hires_steps: int | None = None,
        old_scheduling: bool = False,
        **options: Any,
    ) -> Schedule:
        """Resolve prompt editing and alternation and encode each schedule entry.

        The texts of the schedule are encoded as one WebUI call: they share the
        chunk count and the mean restoration; each distinct text goes through the
        text encoder once.

        Example:
            >>> [end for end, _ in enc.encode_schedule("a [cat:dog:0.5]", 20)]  # doctest: +SKIP
            [10, 20]
        """
        entries = _core("schedules")(prompt, steps, hires_steps=hires_steps, old_scheduling=old_scheduling)
        texts = [text for _, text in entries]
        options.pop("mean_over", None)
        # The entries are resolved texts: encoded as they are, without encode()'s editing check.
        cond = self._encode_texts(
            texts,
            options.pop("dialect", defaults.DIALECT),
            options.pop("clip_skip", None),
            options.pop("emphasis", "original"),
            options.pop("comma_backtrack", 20),
            "batch",
        )
        if options:
            raise TypeError(f"unexpected option(s): {', '.join(sorted(options))}")
        by_text: dict[str, Conditioning] = {}
        out: Schedule = []
        for i, (end, text) in enumerate(entries):
            if text not in by_text:
                by_text[text] = cond[i]
            out.append((int(end), by_text[text]))
        return out

    def encode_and(self, prompt: str, **options: Any) -> list[tuple[Conditioning, float]]:
        """Split on AND (with ``:weight`` suffixes) and encode each subprompt on its own.

        Identical subprompt texts are encoded once. Combine the denoiser outputs as
        ``u + cfg * sum(w * (c - u))`` (webui.md §4).

        Example:
            >>> [w for _, w in enc.encode_and("a cat AND a dog :0.5")]  # doctest: +SKIP
            [1.0, 0.5]
        """
        parts = _core("subprompts")(prompt)
        distinct = list(dict.fromkeys(text for text, _ in parts))
        options.pop("mean_over", None)
        cond = self.encode(distinct, mean_over="prompt", **options)
        index = {text: i for i, text in enumerate(distinct)}
        return [(cond[index[text]], float(weight)) for text, weight in parts]

    def encode_composable(
        self, prompt: str, steps: int, **options: Any
    ) -> list[tuple[Schedule, float]]:
        """WebUI's whole positive-prompt path: extra networks out, AND split, a schedule per subprompt.

        Example:
            >>> parts = enc.encode_composable("<lora:x:1>[a:b:5] AND c :0.5", 20)  # doctest: +SKIP
            >>> [(len(s), w) for s, w in parts]  # doctest: +SKIP
            [(2, 1.0), (1, 0.5)]
        """
        parts = _core("subprompts")(_strip_extra_networks(prompt))
        cache: dict[str, Schedule] = {}
        out: list[tuple[Schedule, float]] = []
        for text, weight in parts:
            if text not in cache:
                cache[text] = self.encode_schedule(text, steps, **options)
            out.append((cache[text], float(weight)))
        return out


def _schedules(dialect: str) -> bool:
    """Whether ``dialect`` writes prompt editing or alternation (``Dialect.notations``)."""
    from naiprompt.dialects import Notation, get_dialect

    notations: frozenset[Notation] = getattr(get_dialect(dialect), "notations", frozenset())
    return Notation.EDITING in notations or Notation.ALTERNATION in notations


def _check_single_schedule(text: str) -> None:
    """Raise ValueError when a WebUI prompt uses prompt editing or alternation (the rule of prompt_embeds)."""
    if "[" not in text:
        return
    entries = _core("schedules")(text, 1000)
    # More than one entry, or one that is not the text itself ([a:b:1500] is "a" for 1000 steps).
    if len(entries) > 1 or entries[0][1] != text:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValueError(
            f"{shown!r} uses prompt editing or alternation ([a:b:n], [a|b]), which changes the conditioning "
            "during sampling; use encode_schedule(prompt, steps) or encode_composable(prompt, steps)"
        )


_CORE_HOMES = {"schedules": "editing", "subprompts": "composable", "extra_networks": "networks"}


def _core(name: str) -> Any:
    """A function of the core package (AND split, schedules, extra networks), typed loosely."""
    package = importlib.import_module("naiprompt")
    found = getattr(package, name, None)
    if found is None:
        found = getattr(importlib.import_module(f"naiprompt.{_CORE_HOMES[name]}"), name)
    return found


def _strip_extra_networks(text: str) -> str:
    result = _core("extra_networks")(text)
    # The lead's API returns (text, networks); accept a bare string too.
    if isinstance(result, str):
        return result
    return str(result[0])


class TextEncoder(BaseEncoder):
    """WebUI's conditioning for an SD 1.x CLIP ViT-L text encoder (NovelAI V1 uses the same path).

    Wrap an in-memory transformers ``CLIPTextModel`` or load one with
    :meth:`from_pretrained`. Defaults: CLIP skip 2 (NovelAI's), emphasis
    "original" (WebUI's default and NovelAI V1's).

    Example:
        >>> from transformers import CLIPTextConfig, CLIPTextModel  # doctest: +SKIP
        >>> enc = TextEncoder(CLIPTextModel(CLIPTextConfig()))  # doctest: +SKIP
        >>> enc.encode("a photo of a cat", clip_skip=1).tensor.shape  # doctest: +SKIP
        torch.Size([1, 77, 768])
    """

    def __init__(self, model: Any, *, pad_id: int = EOS) -> None:
        self.model = model.eval() if hasattr(model, "eval") else model
        self._runner = ClipRunner(self.model, final_norm=True, pad_id=pad_id)

    def __repr__(self) -> str:
        name = type(self.model).__name__
        return f"TextEncoder({name}, width={self.width}, device={self.device}, dtype={self.dtype})"

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike[str],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        config: Any = None,
    ) -> TextEncoder:
        """Load offline from a diffusers folder, a transformers folder, or a single-file SD 1.x checkpoint.

        ``.ckpt`` files are read only with torch's weights-only unpickler; anything
        that needs more is refused with :class:`~naiprompt.encode.UnsafeCheckpointError`.
        ``config`` overrides the configuration inferred from a single file.

        Example:
            >>> enc = TextEncoder.from_pretrained("models/animefull-final-pruned.ckpt",
            ...                                   device="cuda", dtype=torch.float16)  # doctest: +SKIP
        """
        from naiprompt.encode._load import load_text_model

        model = load_text_model(path, device=device, dtype=dtype, config=config)
        return cls(model)

    @property
    def device(self) -> torch.device:
        """Device of the text encoder.

        Example:
            >>> enc.device  # doctest: +SKIP
            device(type='cpu')
        """
        return self._runner.device

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the text encoder and of the returned conditioning.

        Example:
            >>> enc.dtype  # doctest: +SKIP
            torch.float32
        """
        return self._runner.dtype

    @property
    def width(self) -> int:
        """Feature width of the conditioning (768 for SD 1.x).

        Example:
            >>> enc.width  # doctest: +SKIP
            768
        """
        return self._runner.width

    def encode_groups(
        self,
        groups: Sequence[Sequence[Sequence[ChunkLike]]],
        *,
        clip_skip: int,
        emphasis: str,
    ) -> Conditioning:
        """Encode chunked texts grouped by WebUI call; see :meth:`BaseEncoder.encode_groups`.

        Example:
            >>> enc.encode_groups([[[empty_chunk()]]], clip_skip=2, emphasis="original")  # doctest: +SKIP
        """
        z, empty, _, layouts = run_groups(
            self._runner, groups, clip_skip=clip_skip, emphasis=normalize_emphasis(emphasis)
        )
        dtype = self.dtype
        runner = self._runner

        def compute_empty() -> torch.Tensor:
            return encode_empty(runner, clip_skip)

        source = compute_empty if empty is None else empty.to(dtype)
        return Conditioning(z.to(dtype), tuple(layouts), source)


__all__ = ["BaseEncoder", "Conditioning", "MeanScope", "Schedule", "TextEncoder", "concat", "schedule_at"]
