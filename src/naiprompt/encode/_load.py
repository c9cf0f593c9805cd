"""Offline loading of CLIP text encoders: diffusers folders, transformers folders, single files.

A ``.ckpt`` (pickle) is only ever opened with torch's weights-only unpickler. A
pickle that needs anything beyond tensors and plain containers is refused with
:class:`UnsafeCheckpointError` before any of its code can run.

Example:
    >>> from naiprompt.encode import load_text_model  # doctest: +SKIP
    >>> model = load_text_model("animefull-final-pruned.ckpt", dtype=torch.float16)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

SD1_PREFIXES = ("cond_stage_model.transformer.", "cond_stage_model.model.transformer.")
"""Key prefixes of the text encoder inside SD 1.x single-file checkpoints."""

_LAYER = re.compile(r"^encoder\.layers\.(\d+)\.")


class UnsafeCheckpointError(ValueError):
    """A pickle checkpoint that torch's weights-only loader refuses; none of its code was run.

    Example:
        >>> issubclass(UnsafeCheckpointError, ValueError)
        True
    """


class _InertObject:
    """Stand-in for harmless classes some old checkpoints pickle (e.g. Lightning's ModelCheckpoint).

    It only stores the state it is given; it has no behaviour.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state


_INERT_NAMES = (
    "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
    "pytorch_lightning.callbacks.early_stopping.EarlyStopping",
)


def _extra_safe_globals() -> list[Any]:
    """Data-only globals old SD checkpoints contain (numpy scalars, Lightning callbacks, stubbed)."""
    extra: list[Any] = [(_InertObject, name) for name in _INERT_NAMES]
    try:
        import numpy as np

        scalar: Any
        try:
            scalar = importlib.import_module("numpy._core.multiarray").scalar
        except ImportError:  # pragma: no cover - numpy < 2
            scalar = importlib.import_module("numpy.core.multiarray").scalar
        extra += [
            (scalar, "numpy.core.multiarray.scalar"),
            (scalar, "numpy._core.multiarray.scalar"),
            np.dtype,
        ]
        extra += [type(np.dtype(code)) for code in ("i8", "i4", "f8", "f4", "u1", "b1")]
    except ImportError:  # pragma: no cover - numpy is optional
        pass
    return extra


def _transformers() -> Any:
    """The transformers module, typed loosely (its stubs vary between 4.x and 5.x)."""
    return importlib.import_module("transformers")


def safe_torch_load(path: str | os.PathLike[str]) -> Any:
    """Load a torch pickle with the weights-only unpickler, or raise :class:`UnsafeCheckpointError`.

    Example:
        >>> safe_torch_load("model.ckpt")["state_dict"]  # doctest: +SKIP
    """
    try:
        with torch.serialization.safe_globals(_extra_safe_globals()):
            return torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeCheckpointError(
            f"refusing to load {os.fspath(path)!r}: its pickle needs more than tensors and plain data, "
            f"so it could run code. It was not executed. Convert the checkpoint to .safetensors with a "
            f"tool you trust, or load it only if you trust its source. (torch said: {_first_line(exc)})"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if "GLOBAL" in line or "Unsupported" in line:
            return line.strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read all tensors of a single-file checkpoint (``.safetensors``, or a pickle read weights-only).

    Example:
        >>> sd = read_state_dict("v1-5-pruned-emaonly.safetensors")  # doctest: +SKIP
    """
    p = Path(path)
    if p.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        return dict(load_file(os.fspath(p), device="cpu"))
    obj = safe_torch_load(p)
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise ValueError(f"{os.fspath(p)!r} holds a {type(obj).__name__}, not a state dict")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def extract_text_encoder(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Pick the CLIP text encoder's tensors out of a checkpoint, with canonical names.

    Canonical names have no ``text_model.`` prefix (``embeddings.token_embedding.weight``).
    SD 1.x keys (``cond_stage_model.transformer.[text_model.]...``) and bare
    transformers keys are both understood.

    Example:
        >>> prefix = "cond_stage_model.transformer.text_model."
        >>> state = {prefix + "embeddings.token_embedding.weight": 0, prefix + "final_layer_norm.bias": 0}
        >>> sorted(extract_text_encoder(state))
        ['embeddings.token_embedding.weight', 'final_layer_norm.bias']
    """
    out: dict[str, torch.Tensor] = {}
    for prefix in (*SD1_PREFIXES, ""):
        for key, value in state.items():
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            if rest.startswith("text_model."):
                rest = rest[len("text_model.") :]
            if rest.startswith(("embeddings.", "encoder.", "final_layer_norm.")):
                out[rest] = value
        if out:
            break
    out.pop("embeddings.position_ids", None)
    if "embeddings.token_embedding.weight" not in out:
        raise ValueError(
            "no CLIP text encoder found: expected keys such as "
            "'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight'"
        )
    return out


def infer_config(state: Mapping[str, torch.Tensor]) -> Any:
    """Build a ``CLIPTextConfig`` from canonical text-encoder tensors (SD 1.x: OpenAI CLIP ViT-L/14).

    The head count is not stored in the weights; CLIP uses 64-wide heads.

    Example:
        >>> infer_config(extract_text_encoder(sd)).num_hidden_layers  # doctest: +SKIP
        12
    """
    CLIPTextConfig = _transformers().CLIPTextConfig  # noqa: N806

    vocab, hidden = state["embeddings.token_embedding.weight"].shape
    positions = state["embeddings.position_embedding.weight"].shape[0]
    layers = 1 + max(int(m.group(1)) for k in state if (m := _LAYER.match(k)))
    intermediate = state["encoder.layers.0.mlp.fc1.weight"].shape[0]
    if hidden % 64:
        raise ValueError(f"cannot infer the head count for width {hidden}; pass config=")
    return CLIPTextConfig(
        vocab_size=int(vocab),
        hidden_size=int(hidden),
        intermediate_size=int(intermediate),
        num_hidden_layers=layers,
        num_attention_heads=int(hidden) // 64,
        max_position_embeddings=int(positions),
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        projection_dim=int(hidden),
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    )


#: Sizes a CLIP-family text encoder may have (OpenAI CLIP L/14: 49408 x 768, 12 layers, 77 positions;
#: OpenCLIP bigG: 1280 wide, 32 layers, 5120 MLP), with generous room above them.
CONFIG_BOUNDS: dict[str, tuple[int, int]] = {
    "vocab_size": (1, 1_048_576),
    "hidden_size": (1, 8192),
    "intermediate_size": (1, 32768),
    "num_hidden_layers": (1, 128),
    "num_attention_heads": (1, 256),
    "max_position_embeddings": (1, 4096),
    "projection_dim": (1, 8192),
}
#: The most parameters a configuration may describe (bigG's text tower has about 0.7 billion).
MAX_PARAMETERS = 4_000_000_000


def validate_config(config: Mapping[str, Any], source: str = "config") -> None:
    """Check a text-encoder configuration before any tensor is allocated.

    Every size in :data:`CONFIG_BOUNDS` that is present must be a whole number
    within its bounds, the width must split into the heads, and the whole model
    must stay under :data:`MAX_PARAMETERS`. A ``config.json`` saying
    ``hidden_size: 1e9`` would otherwise try to allocate gigabytes, or hang.
    Raises :class:`ValueError` naming the field.

    Example:
        >>> validate_config({"hidden_size": 768, "num_attention_heads": 12})
        >>> validate_config({"hidden_size": 1e9})
        Traceback (most recent call last):
        ...
        ValueError: config: hidden_size must be a whole number from 1 to 8192, got 1000000000.0
    """
    for field, (low, high) in CONFIG_BOUNDS.items():
        if field not in config:
            continue
        value = config[field]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{source}: {field} must be a whole number from {low} to {high}, got {value!r}")
    hidden = config.get("hidden_size")
    heads = config.get("num_attention_heads")
    if hidden is not None and heads is not None and hidden % heads:
        raise ValueError(
            f"{source}: num_attention_heads ({heads}) must divide hidden_size ({hidden})"
        )
    width = int(config.get("hidden_size", 768))
    parameters = (
        int(config.get("vocab_size", 49408)) * width
        + int(config.get("max_position_embeddings", 77)) * width
        + int(config.get("num_hidden_layers", 12))
        * (4 * width * width + 2 * width * int(config.get("intermediate_size", 4 * width)))
    )
    if parameters > MAX_PARAMETERS:
        raise ValueError(
            f"{source}: the configuration describes {parameters:,} parameters "
            f"(vocab_size x hidden_size, num_hidden_layers x hidden_size and intermediate_size); "
            f"at most {MAX_PARAMETERS:,}"
        )


def _read_config(path: Path) -> Mapping[str, Any]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{os.fspath(path)}: not a readable JSON configuration ({error})") from error
    if not isinstance(data, dict):
        raise ValueError(f"{os.fspath(path)}: the configuration is not a JSON object")
    text_config = data.get("text_config")  # a full CLIP config nests the text tower's sizes
    return text_config if isinstance(text_config, dict) else data


def load_state_into(model: Any, state: Mapping[str, torch.Tensor]) -> None:
    """Load canonical text-encoder tensors into a transformers CLIP text model of either layout.

    Raises ``ValueError`` naming missing or unexpected tensors.

    Example:
        >>> load_state_into(CLIPTextModel(config), extract_text_encoder(sd))  # doctest: +SKIP
    """
    own = model.state_dict()
    wrapped = any(k.startswith("text_model.") for k in own)
    target = {("text_model." + k if wrapped else k): v for k, v in state.items()}
    own_keys = {k for k in own if not k.endswith("position_ids")}
    missing = sorted(own_keys - set(target))
    unexpected = sorted(set(target) - set(own))
    if missing or unexpected:
        raise ValueError(
            f"checkpoint does not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for key, value in target.items():
        if tuple(own[key].shape) != tuple(value.shape):
            raise ValueError(
                f"shape mismatch for {key}: checkpoint {tuple(value.shape)}, model {tuple(own[key].shape)}"
            )
    model.load_state_dict(target, strict=False)


_CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _missing_message(path: str | os.PathLike[str]) -> str:
    """What to say for a path that is not there; a Hub model id gets how to fetch the files."""
    text = os.fspath(path)
    if _HUB_ID.fullmatch(text) and Path(text).suffix.lower() not in _CHECKPOINT_SUFFIXES:
        folder = text.rsplit("/", 1)[1]
        return (
            f"no such file or folder: {text!r}. It looks like a Hugging Face Hub model id, but naiprompt "
            "loads local files only and never downloads. Fetch the text encoder first, for example "
            f"'huggingface-cli download {text} --include \"text_encoder/*\" --local-dir {folder}', "
            f"then pass the folder ({folder!r}) or a .safetensors checkpoint file"
        )
    return f"no such file or folder: {text!r}"


def load_text_model(
    path: str | os.PathLike[str],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    config: Any = None,
    subfolder: str = "text_encoder",
    with_projection: bool = False,
) -> Any:
    """Load a CLIP text model offline from a diffusers folder, a transformers folder or a single file.

    * diffusers folder: ``path/<subfolder>/config.json`` (``tokenizer/`` is not needed);
    * transformers folder: ``path/config.json``;
    * single file: ``.safetensors`` or ``.ckpt``/``.pt``/``.pth``/``.bin`` with SD 1.x keys.

    Example:
        >>> load_text_model("stable-diffusion-v1-5", dtype=torch.float16)  # doctest: +SKIP
    """
    tf = _transformers()
    cls = tf.CLIPTextModelWithProjection if with_projection else tf.CLIPTextModel
    p = Path(path)
    if p.is_dir():
        folder = p / subfolder if (p / subfolder / "config.json").is_file() else p
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"no config.json in {os.fspath(p)!r} or its {subfolder}/ folder")
        validate_config(_read_config(folder / "config.json"), os.fspath(folder / "config.json"))
        model = cls.from_pretrained(os.fspath(folder), local_files_only=True)
        if dtype is not None:
            model = model.to(dtype)
    elif p.is_file():
        state = extract_text_encoder(read_state_dict(p))
        if config is None:
            config = infer_config(state)
        elif isinstance(config, Mapping):
            validate_config(config)
            config = tf.CLIPTextConfig(**config)
        validate_config(config.to_dict() if hasattr(config, "to_dict") else config)
        model = cls(config)
        load_state_into(model, state)
        if dtype is not None:
            model = model.to(dtype)
    else:
        raise FileNotFoundError(_missing_message(path))
    if device is not None:
        model = model.to(device)
    return model.eval()
