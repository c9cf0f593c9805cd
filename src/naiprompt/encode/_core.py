"""The batched WebUI algorithm: chunks -> hidden states -> emphasis -> conditioning.

All rows of all texts go through the text encoder in one forward pass (identical
rows, such as the empty padding chunks, only once). The emphasis "original"
restores the mean over each *chunk batch*: the chunk index ``k`` of every text of
one WebUI call (webui.md §8). A "group" below is one such call: a prompt on its
own, or the texts of one prompt's schedule.

Example:
    >>> from naiprompt.encode import TextEncoder, TokenChunk  # doctest: +SKIP
    >>> enc = TextEncoder(model)  # doctest: +SKIP
    >>> enc.encode_chunks([[TokenChunk.from_tokens([320])]]).tensor.shape  # doctest: +SKIP
    torch.Size([1, 77, 768])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import torch

from naiprompt.encode._chunks import (
    CHUNK_LENGTH,
    EOS,
    ChunkLike,
    EmphasisMode,
    TokenChunk,
    as_token_chunk,
    empty_chunk,
    pad_after_first_eos,
)
from naiprompt.encode._model import ClipRunner
from naiprompt.tokens.emphasis import Emphasis, get_emphasis

PadMode = Literal["empty", "tile", "v0", "none"]
"""How a prompt and its negative are brought to one length (see :func:`pad_pair`)."""


@dataclass(frozen=True, eq=False)
class Conditioning:
    """Text-encoder conditioning for a batch of prompts.

    ``tensor`` has shape (batch, 77 x chunks, width). ``chunks`` holds, per prompt,
    the chunks the tokenizer built (the layout before padding); rows beyond them
    are encoded empty chunks. :attr:`empty` is the encoding of the empty prompt
    (77, width), used to pad; it is computed on first use when the batch did not
    already contain it. ``pooled`` is SDXL's pooled text embedding (batch, 1280)
    or None.

    Example:
        >>> cond = encoder.encode(["a cat", "a dog"])  # doctest: +SKIP
        >>> cond.tensor.shape, cond.chunk_count, len(cond)  # doctest: +SKIP
        (torch.Size([2, 77, 768]), 1, 2)
    """

    tensor: torch.Tensor
    chunks: tuple[tuple[TokenChunk, ...], ...]
    empty_source: torch.Tensor | Callable[[], torch.Tensor]
    pooled: torch.Tensor | None = None

    @property
    def empty(self) -> torch.Tensor:
        """The encoded empty prompt (77, width), in this conditioning's dtype and device.

        Example:
            >>> encoder.encode("a").empty.shape  # doctest: +SKIP
            torch.Size([77, 768])
        """
        source = self.empty_source
        if not isinstance(source, torch.Tensor):
            source = source().to(device=self.tensor.device, dtype=self.tensor.dtype)
            object.__setattr__(self, "empty_source", source)
        return source

    def __len__(self) -> int:
        return int(self.tensor.shape[0])

    @property
    def chunk_count(self) -> int:
        """Number of 77-token chunks in :attr:`tensor`.

        Example:
            >>> encoder.encode("a BREAK b").chunk_count  # doctest: +SKIP
            2
        """
        return int(self.tensor.shape[1]) // CHUNK_LENGTH

    def __getitem__(self, index: int) -> Conditioning:
        """The conditioning of one prompt of the batch (batch size 1).

        Example:
            >>> encoder.encode(["a", "b"])[1].tensor.shape[0]  # doctest: +SKIP
            1
        """
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        pooled = None if self.pooled is None else self.pooled[index : index + 1]
        return Conditioning(
            self.tensor[index : index + 1], (self.chunks[index],), self.empty_source, pooled
        )

    def padded(self, chunk_count: int) -> Conditioning:
        """Append encoded empty chunks up to ``chunk_count`` chunks (WebUI's "Pad prompt/negative prompt").

        Example:
            >>> encoder.encode("a").padded(3).tensor.shape[1]  # doctest: +SKIP
            231
        """
        extra = chunk_count - self.chunk_count
        if extra < 0:
            raise ValueError(f"cannot pad {self.chunk_count} chunks down to {chunk_count}")
        if extra == 0:
            return self
        fill = self.empty.to(self.tensor.dtype).repeat(extra, 1)
        fill = fill.unsqueeze(0).expand(len(self), -1, -1)
        return replace(self, tensor=torch.cat([self.tensor, fill], dim=1))

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Conditioning:
        """Move or cast the tensors.

        Example:
            >>> cond.to("cuda", torch.float16)  # doctest: +SKIP
        """
        pooled = None if self.pooled is None else self.pooled.to(device=device, dtype=dtype)
        source = self.empty_source
        if isinstance(source, torch.Tensor):
            source = source.to(device=device, dtype=dtype)
        else:
            inner = source

            def source() -> torch.Tensor:
                return inner().to(device=device, dtype=dtype)

        tensor = self.tensor.to(device=device, dtype=dtype)
        return replace(self, tensor=tensor, empty_source=source, pooled=pooled)


def concat(conds: Sequence[Conditioning]) -> Conditioning:
    """Join conditionings along the batch axis, padding them to one chunk count with empty chunks.

    Example:
        >>> concat([encoder.encode("a"), encoder.encode("b BREAK c")]).tensor.shape[:2]  # doctest: +SKIP
        torch.Size([2, 154])
    """
    if not conds:
        raise ValueError("nothing to concatenate")
    k = max(c.chunk_count for c in conds)
    padded = [c.padded(k) for c in conds]
    pooled: torch.Tensor | None = None
    if all(c.pooled is not None for c in padded):
        pooled = torch.cat([c.pooled for c in padded if c.pooled is not None])
    chunks = tuple(ch for c in padded for ch in c.chunks)
    return Conditioning(torch.cat([c.tensor for c in padded]), chunks, padded[0].empty_source, pooled)


def pad_pair(
    cond: Conditioning, uncond: Conditioning, mode: PadMode = "empty"
) -> tuple[Conditioning, Conditioning]:
    """Bring a prompt and its negative to one length as WebUI does.

    * ``"empty"``: append encoded empty chunks to the shorter one (WebUI's
      "Pad prompt/negative prompt", ``pad_cond_uncond``).
    * ``"v0"``: repeat the negative's last row, or cut the negative, to the prompt's
      length (``pad_cond_uncond_v0``).
    * ``"tile"``: repeat each whole tensor up to the least common multiple of the
      two lengths. Cross-attention gives the same result for a tiled tensor, so this
      reproduces WebUI's default (no padding, separate passes) in one batch.
    * ``"none"``: leave both as they are.

    Example:
        >>> c, u = pad_pair(encoder.encode("a BREAK b"), encoder.encode(""))  # doctest: +SKIP
        >>> c.tensor.shape == u.tensor.shape  # doctest: +SKIP
        True
    """
    a, b = cond.chunk_count, uncond.chunk_count
    if mode == "none" or a == b:
        return cond, uncond
    if mode == "empty":
        k = max(a, b)
        return cond.padded(k), uncond.padded(k)
    if mode == "v0":
        rows = cond.tensor.shape[1]
        t = uncond.tensor
        if t.shape[1] < rows:
            t = torch.cat([t, t[:, -1:].expand(-1, rows - t.shape[1], -1)], dim=1)
        return cond, replace(uncond, tensor=t[:, :rows])
    if mode == "tile":
        lcm = a * b // math.gcd(a, b)
        return (
            replace(cond, tensor=cond.tensor.repeat(1, lcm // a, 1)),
            replace(uncond, tensor=uncond.tensor.repeat(1, lcm // b, 1)),
        )
    raise ValueError(f"unknown pad mode {mode!r}; choose empty, tile, v0 or none")


def _check_chunk(chunk: TokenChunk) -> None:
    if len(chunk.tokens) != CHUNK_LENGTH:
        raise ValueError(f"a chunk must hold {CHUNK_LENGTH} tokens, got {len(chunk.tokens)}")


def run_groups(
    runner: ClipRunner,
    groups: Sequence[Sequence[Sequence[ChunkLike]]],
    *,
    clip_skip: int,
    emphasis: EmphasisMode | Emphasis,
    want_pooled: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, list[tuple[TokenChunk, ...]]]:
    """Encode texts grouped by WebUI call; return ``(z, empty, pooled, layouts)``.

    ``z`` is (texts, 77 x K, width) in float32, where K is the largest chunk count;
    ``empty`` is the encoded empty chunk (77, width) when the batch needed it (as
    padding or for the "comfy" emphasis), else None; ``pooled`` the first chunk's
    pooled output per text when ``want_pooled``; ``layouts`` the chunks per text.

    Nothing is cached between calls, so a patched model (LoRA) is always seen as it is.

    Example:
        >>> z, empty, _, _ = run_groups(runner, [[[empty_chunk()]]], clip_skip=2,
        ...                             emphasis="original")  # doctest: +SKIP
    """
    runner.check_skip(clip_skip)
    mode = get_emphasis(emphasis)
    pad = runner.pad_id
    layouts: list[tuple[TokenChunk, ...]] = []
    group_of: list[int] = []
    for g, group in enumerate(groups):
        if not group:
            raise ValueError("a group of texts is empty")
        for text in group:
            chunks = tuple(as_token_chunk(c) for c in text) or (empty_chunk(),)
            for c in chunks:
                _check_chunk(c)
            layouts.append(chunks)
            group_of.append(g)
    n_texts = len(layouts)
    k_max = max(len(c) for c in layouts)

    # Unique token rows: every text padded to K chunks with the empty chunk.
    empty_ids = pad_after_first_eos(empty_chunk().tokens, pad)
    row_of: dict[tuple[int, ...], int] = {}
    rows: list[tuple[int, ...]] = []
    if mode.needs_empty:
        row_of[empty_ids] = 0
        rows.append(empty_ids)
    index = torch.empty((n_texts, k_max), dtype=torch.long)
    mults = torch.ones((n_texts, k_max, CHUNK_LENGTH), dtype=torch.float32)
    any_weight = False
    for t, chunks in enumerate(layouts):
        for k in range(k_max):
            if k < len(chunks):
                ids = chunks[k].tokens if pad == EOS else pad_after_first_eos(chunks[k].tokens, pad)
                weights = chunks[k].multipliers
                if any(x != 1.0 for x in weights):
                    mults[t, k] = torch.tensor(weights, dtype=torch.float32)
                    any_weight = True
            else:
                ids = empty_ids
            r = row_of.get(ids)
            if r is None:
                r = row_of[ids] = len(rows)
                rows.append(ids)
            index[t, k] = r

    device = runner.device
    with torch.inference_mode():
        ids_t = torch.tensor(rows, dtype=torch.long, device=device)
        step = _rows_per_forward(device, len(rows))
        parts = [runner.hidden(ids_t[i : i + step], clip_skip) for i in range(0, len(rows), step)]
        z_rows = torch.cat([zp for zp, _ in parts]).float()
        pooled_parts = [pp for _, pp in parts if pp is not None]
        pooled_rows = torch.cat(pooled_parts) if len(pooled_parts) == len(parts) else None
        empty_row = row_of.get(empty_ids)
        empty = None if empty_row is None else z_rows[empty_row]
        idx = index.to(device)
        z = z_rows[idx]  # (T, K, 77, C)
        if any_weight and mode.apply is not None:
            z = mode.apply(z, mults.to(device), groups=group_of, empty=empty)
        z = z.reshape(n_texts, k_max * CHUNK_LENGTH, -1)
        pooled = None
        if want_pooled and pooled_rows is not None:
            pooled = pooled_rows[idx[:, 0]].float()
    # Return ordinary tensors (not inference tensors) so callers may use them freely.
    return (
        z.clone(),
        None if empty is None else empty.clone(),
        None if pooled is None else pooled.clone(),
        layouts,
    )


CPU_ROWS_PER_FORWARD = 32
"""On CPU, token rows go through the model in slices of this size (large batches thrash the cache)."""


def _rows_per_forward(device: torch.device, n_rows: int) -> int:
    return CPU_ROWS_PER_FORWARD if device.type == "cpu" else max(1, n_rows)


def encode_empty(runner: ClipRunner, clip_skip: int) -> torch.Tensor:
    """The encoding of the empty prompt (77, width) in float32: BOS, EOS, padding.

    Example:
        >>> encode_empty(runner, 2).shape  # doctest: +SKIP
        torch.Size([77, 768])
    """
    z, _, _, _ = run_groups(runner, [[[empty_chunk()]]], clip_skip=clip_skip, emphasis="ignore")
    return z[0]
