"""A thin, version-proof view of a transformers CLIP text model.

transformers 4.x wraps the layers in ``model.text_model``; 5.6 and later put
``embeddings``, ``encoder`` and ``final_layer_norm`` on the model itself. Everything
here reads through :func:`text_transformer` so that both layouts work.

Example:
    >>> from transformers import CLIPTextConfig, CLIPTextModel  # doctest: +SKIP
    >>> model = CLIPTextModel(CLIPTextConfig(hidden_size=32, intermediate_size=37,
    ...     num_hidden_layers=2, num_attention_heads=2))  # doctest: +SKIP
    >>> text_transformer(model).final_layer_norm  # doctest: +SKIP
    LayerNorm((32,), eps=1e-05, elementwise_affine=True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


def text_transformer(model: Any) -> Any:
    """Return the module that holds ``embeddings``, ``encoder`` and ``final_layer_norm``.

    Example:
        >>> class Flat:  # transformers >= 5.6 layout
        ...     final_layer_norm = "ln"
        >>> text_transformer(Flat()).final_layer_norm
        'ln'
    """
    inner = getattr(model, "text_model", None)
    if inner is not None and hasattr(inner, "final_layer_norm"):
        return inner
    if hasattr(model, "final_layer_norm"):
        return model
    raise TypeError(f"{type(model).__name__} is not a CLIP text model (no final_layer_norm)")


def num_layers(model: Any) -> int:
    """Number of transformer layers of a CLIP text model.

    Example:
        >>> class Cfg:
        ...     num_hidden_layers = 12
        >>> class M:
        ...     config = Cfg()
        ...     final_layer_norm = None
        >>> num_layers(M())
        12
    """
    return int(model.config.num_hidden_layers)


@dataclass
class ClipRunner:
    """Runs one CLIP text model on token rows and picks the requested hidden state.

    ``final_norm`` says whether a skipped layer goes through the final LayerNorm
    (SD 1.x: yes; SDXL: no). ``pad_id`` is the id written after the first EOS
    (49407 for CLIP-L, 0 for OpenCLIP-G).

    Example:
        >>> runner = ClipRunner(model, final_norm=True, pad_id=49407)  # doctest: +SKIP
        >>> runner.hidden(ids, clip_skip=2)[0].shape  # doctest: +SKIP
        torch.Size([1, 77, 768])
    """

    model: Any
    final_norm: bool
    pad_id: int

    @property
    def device(self) -> torch.device:
        """Device of the model's weights.

        Example:
            >>> runner.device  # doctest: +SKIP
            device(type='cpu')
        """
        return next(self.model.parameters()).device  # type: ignore[no-any-return]

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the model's weights.

        Example:
            >>> runner.dtype  # doctest: +SKIP
            torch.float32
        """
        return next(self.model.parameters()).dtype  # type: ignore[no-any-return]

    @property
    def width(self) -> int:
        """Width of the hidden states (768 for CLIP ViT-L).

        Example:
            >>> runner.width  # doctest: +SKIP
            768
        """
        return int(self.model.config.hidden_size)

    def check_skip(self, clip_skip: int) -> None:
        """Raise ``ValueError`` unless ``1 <= clip_skip <= number of layers``.

        Example:
            >>> runner.check_skip(13)  # doctest: +SKIP
            Traceback (most recent call last):
            ValueError: clip_skip must be between 1 and 12, got 13
        """
        n = num_layers(self.model)
        if isinstance(clip_skip, bool) or not isinstance(clip_skip, int) or not 1 <= clip_skip <= n:
            raise ValueError(f"clip_skip must be between 1 and {n}, got {clip_skip!r}")

    def hidden(self, ids: torch.Tensor, clip_skip: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(z, pooled)`` for token rows ``ids`` of shape (rows, 77).

        ``z`` is hidden state ``-clip_skip``; with ``clip_skip == 1`` and a final norm
        that is transformers' ``last_hidden_state``, otherwise the layer output,
        passed through ``final_layer_norm`` when ``final_norm`` is set. ``pooled`` is
        the projected text embedding when the model has a projection, else None.

        Example:
            >>> z, pooled = runner.hidden(ids, 2)  # doctest: +SKIP
        """
        want_states = not (clip_skip == 1 and self.final_norm)
        out = self.model(input_ids=ids, output_hidden_states=want_states, return_dict=True)
        if not want_states:
            z = out.last_hidden_state
        else:
            z = out.hidden_states[-clip_skip]
            if self.final_norm and clip_skip > 1:
                z = text_transformer(self.model).final_layer_norm(z)
        pooled = getattr(out, "text_embeds", None)
        return z, pooled
