"""diffusers integration: tiny random pipelines built offline, two sampling steps on CPU."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
# diffusers takes seconds to import: the tests that build a pipeline import it, collection does not.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("diffusers") is None, reason="diffusers is not installed")

from encode_reference import reference_webui, tiny_clip  # noqa: E402
from naiprompt.diffusers import prompt_embeds, sdxl_prompt_embeds  # noqa: E402


def _diffusers() -> Any:
    import diffusers

    return diffusers


def tokens_chunks(text: str) -> list[tuple[list[int], list[float]]]:
    from naiprompt.tokens import chunks

    return [(list(c.tokens), list(c.multipliers)) for c in chunks(text)]


def tiny_vae() -> Any:
    torch.manual_seed(0)
    return _diffusers().AutoencoderKL(
        block_out_channels=[8, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=4,
    )


def tiny_unet(cross: int, *, sdxl: bool = False) -> Any:
    torch.manual_seed(0)
    extra: dict[str, Any] = {}
    if sdxl:
        extra = {
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "projection_class_embeddings_input_dim": 6 * 8 + 32,
        }
    return _diffusers().UNet2DConditionModel(
        block_out_channels=(16, 32),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross,
        attention_head_dim=4,
        norm_num_groups=4,
        **extra,
    )


class Recorder:
    """Wraps the UNet forward to record the conditioning it receives."""

    def __init__(self, unet: Any) -> None:
        self.seen: list[Any] = []
        self.added: list[Any] = []
        original = unet.forward

        def forward(*args: Any, **kwargs: Any) -> Any:
            self.seen.append(kwargs["encoder_hidden_states"].detach().clone())
            if kwargs.get("added_cond_kwargs"):
                self.added.append({k: v.clone() for k, v in kwargs["added_cond_kwargs"].items()})
            return original(*args, **kwargs)

        unet.forward = forward


def test_stable_diffusion_pipeline_two_steps() -> None:
    text_encoder = tiny_clip(3, hidden=32, layers=2, heads=2)
    unet = tiny_unet(32)
    pipe = _diffusers().StableDiffusionPipeline(
        vae=tiny_vae(),
        text_encoder=text_encoder,
        tokenizer=None,
        unet=unet,
        scheduler=_diffusers().DDIMScheduler(steps_offset=1, clip_sample=False),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    recorder = Recorder(pipe.unet)
    prompt = "<lora:style:0.7>1girl, (smile:1.3) BREAK [blue sky]"
    kwargs = prompt_embeds(pipe, prompt, "lowres, bad anatomy")
    assert set(kwargs) == {"prompt_embeds", "negative_prompt_embeds"}
    assert kwargs["prompt_embeds"].shape == kwargs["negative_prompt_embeds"].shape == (1, 154, 32)

    want_cond = reference_webui(text_encoder, [tokens_chunks("1girl, (smile:1.3) BREAK [blue sky]")])
    assert (kwargs["prompt_embeds"] - want_cond).abs().max().item() <= 1e-6
    want_neg = reference_webui(text_encoder, [tokens_chunks("lowres, bad anatomy")])
    assert (kwargs["negative_prompt_embeds"][:, :77] - want_neg).abs().max().item() <= 1e-6

    result = pipe(
        **kwargs,
        num_inference_steps=2,
        guidance_scale=7.0,
        height=16,
        width=16,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
    )
    image = result.images[0]
    assert image.shape == (16, 16, 3)
    assert len(recorder.seen) == 2
    expected = torch.cat([kwargs["negative_prompt_embeds"], kwargs["prompt_embeds"]])
    for seen in recorder.seen:
        assert torch.equal(seen, expected)


def test_prompt_embeds_rejects_what_one_tensor_cannot_express() -> None:
    pipe = type("Pipe", (), {"text_encoder": tiny_clip(4, hidden=32, layers=2, heads=2)})()
    with pytest.raises(ValueError, match="AND"):
        prompt_embeds(pipe, "a AND b")
    with pytest.raises(ValueError, match="editing"):
        prompt_embeds(pipe, "a [cat:dog:0.5]")
    with pytest.raises(ValueError, match="differ"):
        prompt_embeds(pipe, "a BREAK b", "c", pad="none")
    with pytest.warns(UserWarning, match="guidance"):
        out = prompt_embeds(pipe, "photo, aspect 16:9")
    assert out["prompt_embeds"].shape == (1, 77, 32)
    out = prompt_embeds(pipe, ["a", "b BREAK c"], "low", pad="tile")
    assert out["prompt_embeds"].shape == out["negative_prompt_embeds"].shape == (2, 154, 32)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_stable_diffusion_xl_pipeline_two_steps() -> None:
    te1 = tiny_clip(6, hidden=32, layers=2, heads=2)
    te2 = tiny_clip(7, hidden=32, layers=2, heads=2, projection=True, act="gelu")
    unet = tiny_unet(64, sdxl=True)
    pipe = _diffusers().StableDiffusionXLPipeline(
        vae=tiny_vae(),
        text_encoder=te1,
        text_encoder_2=te2,
        tokenizer=None,
        tokenizer_2=None,
        unet=unet,
        scheduler=_diffusers().EulerDiscreteScheduler(),
    )
    pipe.set_progress_bar_config(disable=True)
    recorder = Recorder(pipe.unet)
    kwargs = sdxl_prompt_embeds(pipe, "1girl, (smile:1.3), " * 30, "")
    assert set(kwargs) == {
        "prompt_embeds",
        "negative_prompt_embeds",
        "pooled_prompt_embeds",
        "negative_pooled_prompt_embeds",
    }
    assert kwargs["prompt_embeds"].shape == (1, 154, 64)
    assert kwargs["pooled_prompt_embeds"].shape == (1, 32)
    # force_zeros_for_empty_prompt is on for SDXL pipelines: the empty negative is zeros.
    assert not kwargs["negative_prompt_embeds"].any() and not kwargs["negative_pooled_prompt_embeds"].any()

    result = pipe(**kwargs, num_inference_steps=2, height=16, width=16, output_type="latent")
    side = 16 // pipe.vae_scale_factor
    assert result.images.shape == (1, 4, side, side)
    assert len(recorder.seen) == 2
    expected = torch.cat([kwargs["negative_prompt_embeds"], kwargs["prompt_embeds"]])
    assert torch.equal(recorder.seen[0], expected)
    pooled = recorder.added[0]["text_embeds"]
    both = torch.cat([kwargs["negative_pooled_prompt_embeds"], kwargs["pooled_prompt_embeds"]])
    assert torch.equal(pooled, both)

    kwargs = sdxl_prompt_embeds(pipe, "a cat", "lowres", zero_empty_negative=True)
    assert kwargs["negative_prompt_embeds"].abs().sum() > 0  # only an empty negative is zeroed
