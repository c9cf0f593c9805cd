"""Loading text encoders offline: diffusers/transformers folders, SD 1.x single files, unsafe pickles."""

from __future__ import annotations

import builtins
import pickle
import sys
import types
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

from encode_reference import tiny_clip  # noqa: E402
from naiprompt.encode import (  # noqa: E402
    TextEncoder,
    TokenChunk,
    UnsafeCheckpointError,
    extract_text_encoder,
    load_text_model,
)

CHUNKS = [
    [TokenChunk.from_tokens([320, 1125, 539, 320, 2368], [1.0, 1.3, 1.3, 1.0, 0.9])],
    [TokenChunk.from_tokens([272, 1611, 267]), TokenChunk.from_tokens([1538, 318, 2225], [1.21, 1.0, 1.0])],
]


@pytest.fixture(scope="module")
def model() -> Any:
    # width 64 -> one 64-wide head, which is what the single-file loader infers (CLIP's head width).
    return tiny_clip(11, hidden=64, heads=1, layers=3)


@pytest.fixture(scope="module")
def expected(model: Any) -> Any:
    return TextEncoder(model).encode_chunks(CHUNKS).tensor


def sd1_state(model: Any, *, with_text_model: bool = True) -> dict[str, Any]:
    """The text encoder as an SD 1.x checkpoint stores it, plus unrelated UNet/VAE tensors."""
    state: dict[str, Any] = {}
    for key, value in model.state_dict().items():
        bare = key.removeprefix("text_model.")
        if bare.endswith("position_ids"):
            continue
        name = ("text_model." + bare) if with_text_model else bare
        state["cond_stage_model.transformer." + name] = value.clone().contiguous()
    state["model.diffusion_model.input_blocks.0.0.weight"] = torch.zeros(4, 4)
    state["first_stage_model.decoder.conv_in.bias"] = torch.zeros(4)
    return state


def assert_same(enc: TextEncoder, expected: Any) -> None:
    got = enc.encode_chunks(CHUNKS).tensor
    assert torch.equal(got, expected), (got - expected).abs().max()


def test_single_file_safetensors(tmp_path: Path, model: Any, expected: Any) -> None:
    path = tmp_path / "animefull-tiny.safetensors"
    safetensors_torch.save_file(sd1_state(model), str(path))
    assert_same(TextEncoder.from_pretrained(path), expected)


def test_single_file_ckpt(tmp_path: Path, model: Any, expected: Any) -> None:
    path = tmp_path / "animefull-tiny.ckpt"
    torch.save({"state_dict": sd1_state(model), "global_step": 123}, path)
    assert_same(TextEncoder.from_pretrained(str(path)), expected)


def test_old_key_layout_without_text_model(tmp_path: Path, model: Any, expected: Any) -> None:
    path = tmp_path / "old.safetensors"
    safetensors_torch.save_file(sd1_state(model, with_text_model=False), str(path))
    assert_same(TextEncoder.from_pretrained(path), expected)


def test_ckpt_with_numpy_scalar_and_lightning_callback(tmp_path: Path, model: Any, expected: Any) -> None:
    np = pytest.importorskip("numpy")
    # Old SD checkpoints pickle a Lightning ModelCheckpoint callback and numpy scalars. Fake the module
    # while saving so the pickle names it, then load without it: the loader uses an inert stand-in.
    names = ["pytorch_lightning", "pytorch_lightning.callbacks"]
    names.append("pytorch_lightning.callbacks.model_checkpoint")
    saved = {n: sys.modules.get(n) for n in names}
    mod = types.ModuleType(names[-1])

    class ModelCheckpoint:
        def __init__(self) -> None:
            self.best_model_score = 0.5

    ModelCheckpoint.__module__ = names[-1]
    ModelCheckpoint.__qualname__ = "ModelCheckpoint"
    mod.ModelCheckpoint = ModelCheckpoint  # type: ignore[attr-defined]
    for n in names:
        sys.modules[n] = mod if n == names[-1] else types.ModuleType(n)
    try:
        obj = {
            "state_dict": sd1_state(model),
            "global_step": np.int64(470000),
            "callbacks": {"ModelCheckpoint": ModelCheckpoint()},
        }
        path = tmp_path / "legacy.ckpt"
        torch.save(obj, path)
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
    assert_same(TextEncoder.from_pretrained(path), expected)


def test_diffusers_folder(tmp_path: Path, model: Any, expected: Any) -> None:
    model.save_pretrained(tmp_path / "text_encoder")
    (tmp_path / "model_index.json").write_text("{}")
    assert_same(TextEncoder.from_pretrained(tmp_path), expected)


def test_transformers_folder(tmp_path: Path, model: Any, expected: Any) -> None:
    model.save_pretrained(tmp_path / "clip")
    assert_same(TextEncoder.from_pretrained(tmp_path / "clip"), expected)


def test_dtype_and_device_are_the_callers(tmp_path: Path, model: Any, expected: Any) -> None:
    path = tmp_path / "m.safetensors"
    safetensors_torch.save_file(sd1_state(model), str(path))
    enc = TextEncoder.from_pretrained(path, device="cpu", dtype=torch.bfloat16)
    assert enc.dtype == torch.bfloat16 and enc.device.type == "cpu"
    got = enc.encode_chunks(CHUNKS).tensor
    assert got.dtype == torch.bfloat16
    assert (got.float() - expected).abs().max().item() < 0.25  # bf16 keeps ~3 significant digits


def test_missing_and_mismatched_checkpoints(tmp_path: Path, model: Any) -> None:
    path = tmp_path / "unet-only.safetensors"
    safetensors_torch.save_file({"model.diffusion_model.x": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="no CLIP text encoder"):
        TextEncoder.from_pretrained(path)
    state = sd1_state(model)
    del state["cond_stage_model.transformer.text_model.final_layer_norm.bias"]
    path = tmp_path / "broken.safetensors"
    safetensors_torch.save_file(state, str(path))
    with pytest.raises(ValueError, match="missing"):
        TextEncoder.from_pretrained(path)
    with pytest.raises(FileNotFoundError):
        TextEncoder.from_pretrained(tmp_path / "nope.ckpt")


def test_extract_accepts_bare_transformers_keys(model: Any) -> None:
    state = extract_text_encoder(model.state_dict())
    assert "embeddings.token_embedding.weight" in state
    assert "embeddings.position_ids" not in state


class _Payload:
    """Pickles to a call of ``exec`` that creates a marker file: code that runs when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize("zipfile", [True, False])
def test_malicious_ckpt_is_refused_and_never_runs(tmp_path: Path, model: Any, zipfile: bool) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save(
        {"state_dict": sd1_state(model), "x": _Payload(marker)}, path, _use_new_zipfile_serialization=zipfile
    )
    with pytest.raises(UnsafeCheckpointError, match="not executed"):
        TextEncoder.from_pretrained(path)
    with pytest.raises(UnsafeCheckpointError):
        load_text_model(path)
    assert not marker.exists()

    # The payload is live: an ordinary unpickling would have run it.
    proof = tmp_path / "proof"
    torch.save({"x": _Payload(proof)}, tmp_path / "proof.ckpt", _use_new_zipfile_serialization=zipfile)
    torch.load(tmp_path / "proof.ckpt", weights_only=False)
    assert proof.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_raw_pickle_renamed_ckpt_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "raw.ckpt"
    path.write_bytes(pickle.dumps({"x": _Payload(marker)}))
    with pytest.raises((UnsafeCheckpointError, ValueError, RuntimeError)):
        TextEncoder.from_pretrained(path)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["runwayml/stable-diffusion-v1-5", "stabilityai/stable-diffusion-xl-base-1.0"])
def test_hub_model_id_says_local_files_only(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # so that no folder of that name happens to exist
    with pytest.raises(FileNotFoundError) as info:
        TextEncoder.from_pretrained(name)
    message = str(info.value)
    assert "Hugging Face Hub model id" in message and "local files only" in message
    assert f"huggingface-cli download {name}" in message


def test_plain_missing_path_has_no_hub_advice(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        TextEncoder.from_pretrained(tmp_path / "nope.safetensors")
    assert "Hub" not in str(info.value)
    with pytest.raises(FileNotFoundError) as info:
        TextEncoder.from_pretrained("models/sd15.safetensors")
    assert "Hub" not in str(info.value)
