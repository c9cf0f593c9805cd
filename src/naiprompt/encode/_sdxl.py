"""SDXL conditioning as WebUI computes it: CLIP-L and OpenCLIP-G, concatenated on the feature axis.

Both encoders use hidden state ``-clip_skip`` **without** the final LayerNorm
(default 2, the penultimate layer); OpenCLIP-G pads with id 0 after the first EOS
of each chunk; emphasis is applied to each encoder's output separately (as WebUI's
two embedders do). The pooled embedding is OpenCLIP-G's projected output for the
first chunk of the parsed text, i.e. without syntax characters and unweighted.

Example:
    >>> from naiprompt.encode import SDXLTextEncoder  # doctest: +SKIP
    >>> enc = SDXLTextEncoder.from_pretrained("stable-diffusion-xl-base-1.0")  # doctest: +SKIP
    >>> cond = enc.encode("1girl, (smile:1.2)")  # doctest: +SKIP
    >>> cond.tensor.shape, cond.pooled.shape  # doctest: +SKIP
    (torch.Size([1, 77, 2048]), torch.Size([1, 1280]))
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from naiprompt.encode._chunks import EOS, ChunkLike, normalize_emphasis
from naiprompt.encode._core import Conditioning, encode_empty, run_groups
from naiprompt.encode._encoder import BaseEncoder
from naiprompt.encode._model import ClipRunner


class SDXLTextEncoder(BaseEncoder):
    """WebUI's SDXL conditioning from CLIP-L and OpenCLIP-G (a ``CLIPTextModelWithProjection``).

    Example:
        >>> enc = SDXLTextEncoder(pipe.text_encoder, pipe.text_encoder_2)  # doctest: +SKIP
        >>> enc.encode(["a cat", "a dog"]).pooled.shape  # doctest: +SKIP
        torch.Size([2, 1280])
    """

    def __init__(self, model_l: Any, model_g: Any, *, pad_id_g: int = 0) -> None:
        self.model_l = model_l.eval() if hasattr(model_l, "eval") else model_l
        self.model_g = model_g.eval() if hasattr(model_g, "eval") else model_g
        self._l = ClipRunner(self.model_l, final_norm=False, pad_id=EOS)
        self._g = ClipRunner(self.model_g, final_norm=False, pad_id=pad_id_g)

    def __repr__(self) -> str:
        return f"SDXLTextEncoder(width={self.width}, device={self.device}, dtype={self.dtype})"

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike[str],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> SDXLTextEncoder:
        """Load both encoders offline from a diffusers SDXL folder (``text_encoder/``, ``text_encoder_2/``).

        Example:
            >>> SDXLTextEncoder.from_pretrained("sdxl-base", dtype=torch.float16)  # doctest: +SKIP
        """
        from naiprompt.encode._load import load_text_model

        model_l = load_text_model(path, device=device, dtype=dtype, subfolder="text_encoder")
        model_g = load_text_model(
            path, device=device, dtype=dtype, subfolder="text_encoder_2", with_projection=True
        )
        return cls(model_l, model_g)

    @property
    def device(self) -> torch.device:
        """Device of the CLIP-L encoder.

        Example:
            >>> enc.device  # doctest: +SKIP
            device(type='cpu')
        """
        return self._l.device

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the CLIP-L encoder and of the returned conditioning.

        Example:
            >>> enc.dtype  # doctest: +SKIP
            torch.float16
        """
        return self._l.dtype

    @property
    def width(self) -> int:
        """Feature width: CLIP-L's plus OpenCLIP-G's (768 + 1280 = 2048 for SDXL).

        Example:
            >>> enc.width  # doctest: +SKIP
            2048
        """
        return self._l.width + self._g.width

    def encode_groups(
        self,
        groups: Sequence[Sequence[Sequence[ChunkLike]]],
        *,
        clip_skip: int,
        emphasis: str,
    ) -> Conditioning:
        """Encode chunked texts with both encoders; see :meth:`BaseEncoder.encode_groups`.

        Example:
            >>> enc.encode_groups([[[empty_chunk()]]], clip_skip=2, emphasis="original")  # doctest: +SKIP
        """
        mode = normalize_emphasis(emphasis)
        z_l, empty_l, _, layouts = run_groups(self._l, groups, clip_skip=clip_skip, emphasis=mode)
        z_g, empty_g, pooled, _ = run_groups(
            self._g, groups, clip_skip=clip_skip, emphasis=mode, want_pooled=True
        )
        if pooled is None:
            raise TypeError("the OpenCLIP-G encoder must be a CLIPTextModelWithProjection (for text_embeds)")
        dtype = self.dtype
        tensor = torch.cat([z_l, z_g.to(z_l.device)], dim=-1).to(dtype)
        runner_l, runner_g = self._l, self._g

        def compute_empty() -> torch.Tensor:
            e_l = empty_l if empty_l is not None else encode_empty(runner_l, clip_skip)
            e_g = empty_g if empty_g is not None else encode_empty(runner_g, clip_skip)
            return torch.cat([e_l, e_g.to(e_l.device)], dim=-1).to(dtype)

        source = compute_empty() if empty_l is not None and empty_g is not None else compute_empty
        return Conditioning(tensor, tuple(layouts), source, pooled.to(device=z_l.device, dtype=dtype))


__all__ = ["SDXLTextEncoder"]
