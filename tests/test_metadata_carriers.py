"""Every carrier, in images the tests build themselves with Pillow and piexif (independent writers)."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest

PIL = pytest.importorskip("PIL")
piexif = pytest.importorskip("piexif")
from PIL import Image, PngImagePlugin  # noqa: E402

from naiprompt.metadata import Character, read  # noqa: E402

INFOTEXT = (
    "masterpiece, (猫耳:1.2), 1girl\nNegative prompt: lowres, bad hands\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, Size: 832x1216, "
    'Lora hashes: "ink: 1a2b3c", Version: v1.10.1'
)


# --- builders (shared with the other test_metadata_* files) ----------------------------------------


def png_bytes(texts: list[tuple[str, str, str]] = (), size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:  # type: ignore[assignment]
    """A PNG written by Pillow with text chunks of the given kinds ("tEXt", "zTXt", "iTXt", "iTXt-z")."""
    info = PngImagePlugin.PngInfo()
    for key, value, kind in texts:
        if kind == "tEXt":
            info.add_text(key, value)
        elif kind == "zTXt":
            info.add_text(key, value, zip=True)
        else:
            info.add_itxt(key, value, zip=kind == "iTXt-z")
    out = io.BytesIO()
    Image.new(mode, size, (10, 20, 30) if mode == "RGB" else None).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def exif_bytes(zeroth: dict[int, Any] | None = None, exif: dict[int, Any] | None = None) -> bytes:
    data: bytes = piexif.dump({"0th": zeroth or {}, "Exif": exif or {}})
    return data


def user_comment(text: str, order: str = "be") -> bytes:
    return b"UNICODE\0" + text.encode("utf-16-be" if order == "be" else "utf-16-le")


def saved(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def embed_stealth(image: Image.Image, text: str, *, compressed: bool, rgb: bool = False) -> Image.Image:
    """The stealth writer, written plainly per pixel (independent of naiprompt's bit packing)."""
    payload = text.encode("utf-8")
    if compressed:
        payload = gzip.compress(payload)
    magic = {(False, False): "stealth_pnginfo", (True, False): "stealth_pngcomp",
             (False, True): "stealth_rgbinfo", (True, True): "stealth_rgbcomp"}[compressed, rgb]  # fmt: skip
    data = magic.encode() + (len(payload) * 8).to_bytes(4, "big") + payload
    bits = "".join(f"{byte:08b}" for byte in data)
    image = image.convert("RGBA")
    pixels = image.load()
    width, height = image.size
    index = 0
    for x in range(width):
        for y in range(height):
            r, g, b, a = pixels[x, y]
            if rgb:
                channels = [r, g, b]
                for c in range(3):
                    if index < len(bits):
                        channels[c] = (channels[c] & ~1) | int(bits[index])
                        index += 1
                pixels[x, y] = (*channels, a)
            elif index < len(bits):
                pixels[x, y] = (r, g, b, (a & ~1) | int(bits[index]))
                index += 1
    assert index == len(bits), "image too small for the payload"
    return image


def novelai_v4_fields() -> dict[str, str]:
    comment = {
        "prompt": "2girls, {{masterpiece}}, outdoors",
        "steps": 28,
        "height": 1216,
        "width": 832,
        "scale": 5.5,
        "uncond_scale": 1.0,
        "cfg_rescale": 0.2,
        "seed": 3141592653,
        "n_samples": 1,
        "noise_schedule": "karras",
        "sampler": "k_dpmpp_2m_sde",
        "v4_prompt": {
            "caption": {
                "base_caption": "2girls, {{masterpiece}}, outdoors",
                "char_captions": [
                    {"char_caption": "girl, red hair, 1.2::smile::", "centers": [{"x": 0.3, "y": 0.5}]},
                    {"char_caption": "girl, blue hair", "centers": [{"x": 0.7, "y": 0.5}]},
                ],
            },
            "use_coords": True,
            "use_order": True,
        },
        "v4_negative_prompt": {
            "caption": {
                "base_caption": "lowres, [[blurry]]",
                "char_captions": [
                    {"char_caption": "bad hands", "centers": [{"x": 0.3, "y": 0.5}]},
                    {"char_caption": "", "centers": [{"x": 0.7, "y": 0.5}]},
                ],
            },
            "legacy_uc": False,
        },
        "uc": "lowres, [[blurry]]",
        "request_type": "PromptGenerateRequest",
    }
    return {
        "Title": "NovelAI generated image",
        "Description": "2girls, {{masterpiece}}, outdoors",
        "Software": "NovelAI",
        "Source": "NovelAI Diffusion V4.5 4BDE2A90",
        "Generation time": "7.5",
        "Comment": json.dumps(comment),
    }


V4_CHARACTERS = (
    Character("girl, red hair, 1.2::smile::", "bad hands", (0.3, 0.5)),
    Character("girl, blue hair", "", (0.7, 0.5)),
)


def comfy_api_graph() -> dict[str, Any]:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "11": {"class_type": "PrimitiveNode", "inputs": {"value": "a (red:1.2) fox"}},
        "6": {"class_type": "CLIPTextEncodeSDXL",
              "inputs": {"text_g": ["11", 0], "text_l": ["11", 0], "width": 1024, "height": 1024, "clip": ["4", 1]}},
        "12": {"class_type": "CLIPTextEncode", "inputs": {"text": "forest", "clip": ["4", 1]}},
        "13": {"class_type": "ConditioningCombine",
               "inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["12", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, lowres", "clip": ["4", 1]}},
        "20": {"class_type": "ControlNetApplyAdvanced",
               "inputs": {"positive": ["13", 0], "negative": ["7", 0], "control_net": ["21", 0], "image": ["22", 0],
                          "strength": 0.8}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
        "3": {"class_type": "KSampler",
              "inputs": {"seed": 42, "steps": 30, "cfg": 6.0, "sampler_name": "dpmpp_2m_sde_gpu", "scheduler": "karras",
                         "denoise": 1.0, "model": ["4", 0], "positive": ["20", 0], "negative": ["20", 1],
                         "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["8", 0]}},
    }  # fmt: skip


def comfy_ui_workflow() -> dict[str, Any]:
    # [link_id, from_node, from_slot, to_node, to_slot, type]
    links = [
        [1, 4, 1, 6, 0, "CLIP"], [2, 4, 1, 7, 0, "CLIP"], [3, 6, 0, 3, 1, "CONDITIONING"],
        [4, 7, 0, 3, 2, "CONDITIONING"], [5, 5, 0, 3, 3, "LATENT"], [6, 3, 0, 8, 0, "LATENT"],
        [7, 8, 0, 9, 0, "IMAGE"], [8, 10, 0, 6, 1, "STRING"],
    ]  # fmt: skip
    nodes = [
        {"id": 4, "type": "CheckpointLoaderSimple", "mode": 0, "inputs": [], "widgets_values": ["anime.safetensors"]},
        {"id": 10, "type": "PrimitiveNode", "mode": 0, "inputs": [], "widgets_values": ["1girl, smile"]},
        {"id": 6, "type": "CLIPTextEncode", "mode": 0,
         "inputs": [{"name": "clip", "link": 1}, {"name": "text", "link": 8, "widget": {"name": "text"}}],
         "widgets_values": ["1girl, smile"]},
        {"id": 7, "type": "CLIPTextEncode", "mode": 0, "inputs": [{"name": "clip", "link": 2}],
         "widgets_values": ["worst quality"]},
        {"id": 5, "type": "EmptyLatentImage", "mode": 0, "inputs": [], "widgets_values": [640, 960, 1]},
        {"id": 3, "type": "KSampler", "mode": 0,
         "inputs": [{"name": "model", "link": None}, {"name": "positive", "link": 3},
                    {"name": "negative", "link": 4}, {"name": "latent_image", "link": 5}],
         "widgets_values": [777, "randomize", 25, 7.5, "euler_ancestral", "normal", 1.0]},
        {"id": 8, "type": "VAEDecode", "mode": 0, "inputs": [{"name": "samples", "link": 6}]},
        {"id": 9, "type": "SaveImage", "mode": 0, "inputs": [{"name": "images", "link": 7}], "widgets_values": ["x"]},
        {"id": 30, "type": "KSampler", "mode": 2, "inputs": [],  # muted: never read
         "widgets_values": [1, "fixed", 5, 1, "euler", "normal", 1]},
    ]  # fmt: skip
    return {"last_node_id": 30, "last_link_id": 8, "nodes": nodes, "links": links, "version": 0.4}


# --- PNG text chunks -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt", "iTXt-z"])
def test_png_text_chunks(kind: str) -> None:
    text = INFOTEXT if kind.startswith("iTXt") else INFOTEXT.replace("猫耳", "cat ears")
    info = read(png_bytes([("parameters", text, kind)]))
    assert info is not None and info.generator == "a1111"
    assert info.prompt == text.split("\n")[0]
    assert info.negative == "lowres, bad hands"
    assert (info.steps, info.sampler, info.cfg_scale, info.seed, info.size) == (
        28, "DPM++ 2M", 6.5, 123456789, (832, 1216)
    )  # fmt: skip
    assert info.parameters["Lora hashes"] == "ink: 1a2b3c"
    assert info.parameters["Schedule type"] == "Karras"
    assert info.software == "v1.10.1"
    assert info.raw == {"png:parameters": text}


def test_utf8_in_text_chunk_is_not_mojibake() -> None:
    # Stability Matrix writes UTF-8 bytes into tEXt; naiprompt decodes them as UTF-8.
    from naiprompt.metadata.png import _chunk, read_chunks

    base = png_bytes()
    chunk = _chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode("utf-8"))
    at = base.index(b"IDAT") - 4
    info = read(base[:at] + chunk + base[at:])
    assert info is not None and "猫耳" in info.prompt
    assert read_chunks(base[:at] + chunk + base[at:]).texts[0][1] == INFOTEXT


def test_text_after_image_data_is_read() -> None:
    from naiprompt.metadata.png import text_chunk

    base = png_bytes()
    at = base.index(b"IEND") - 4
    info = read(base[:at] + text_chunk("parameters", INFOTEXT) + base[at:])
    assert info is not None and info.seed == 123456789


# --- EXIF: JPEG and WebP ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
@pytest.mark.parametrize("order", ["be", "le"])
def test_exif_user_comment_both_byte_orders(fmt: str, order: str) -> None:
    exif = exif_bytes(exif={piexif.ExifIFD.UserComment: user_comment(INFOTEXT, order)})
    data = saved(Image.new("RGB", (8, 8)), fmt, exif=exif)
    info = read(data)
    assert info is not None and info.generator == "a1111"
    assert info.prompt == "masterpiece, (猫耳:1.2), 1girl"
    assert info.raw["exif:UserComment"] == INFOTEXT


def test_swarmui_little_endian_json() -> None:
    params = {"sui_image_params": {"prompt": "a <lora:x:0.5> cat", "negativeprompt": "dog", "model": "sdxl",
                                   "seed": 9, "steps": 22, "cfgscale": 4.5, "width": 768, "height": 512,
                                   "sampler": "euler", "swarm_version": "0.9.4"}}  # fmt: skip
    exif = exif_bytes(exif={piexif.ExifIFD.UserComment: user_comment(json.dumps(params), "le")})
    info = read(saved(Image.new("RGB", (8, 8)), "JPEG", exif=exif))
    assert info is not None and info.generator == "swarmui"
    assert (info.prompt, info.negative, info.steps, info.cfg_scale, info.seed, info.size) == (
        "a <lora:x:0.5> cat", "dog", 22, 4.5, 9, (768, 512)
    )  # fmt: skip
    assert info.software == "SwarmUI 0.9.4"
    # and the same JSON in a PNG "parameters" chunk
    png_info = read(png_bytes([("parameters", json.dumps(params), "tEXt")]))
    assert png_info is not None and png_info.generator == "swarmui" and png_info.prompt == "a <lora:x:0.5> cat"


def test_novelai_webp_exif() -> None:
    fields = novelai_v4_fields()
    exif = exif_bytes(
        zeroth={
            piexif.ImageIFD.ImageDescription: b"\0\0" + fields["Description"].encode(),
            piexif.ImageIFD.Software: b"NovelAI",
            piexif.ImageIFD.DocumentName: b"NovelAI generated image",
        },
        exif={piexif.ExifIFD.UserComment: b"ASCII\0\0\0" + json.dumps(fields).encode()},
    )
    info = read(saved(Image.new("RGB", (8, 8)), "WEBP", exif=exif, lossless=True))
    _assert_novelai_v4(info)


# --- NovelAI ---------------------------------------------------------------------------------------


def _assert_novelai_v4(info: Any) -> None:
    assert info is not None and info.generator == "novelai"
    assert info.dialect == "nai4"
    assert info.prompt == "2girls, {{masterpiece}}, outdoors"
    assert info.negative == "lowres, [[blurry]]"
    assert info.characters == V4_CHARACTERS
    assert (info.steps, info.sampler, info.cfg_scale, info.seed, info.size) == (
        28, "k_dpmpp_2m_sde", 5.5, 3141592653, (832, 1216)
    )  # fmt: skip
    assert info.parameters["noise_schedule"] == "karras"
    assert info.parameters["steps"] == "28"


def test_novelai_v4_png_with_characters() -> None:
    fields = novelai_v4_fields()
    info = read(png_bytes([(k, v, "tEXt") for k, v in fields.items()]))
    _assert_novelai_v4(info)
    assert info is not None
    assert info.software == "NovelAI"
    assert set(info.raw) == {f"png:{key}" for key in fields}


@pytest.mark.parametrize("compressed", [True, False])
def test_novelai_stealth_alpha_without_chunks(compressed: bool) -> None:
    fields = novelai_v4_fields()
    del fields["Title"]
    image = embed_stealth(Image.new("RGBA", (96, 96), (200, 100, 50, 255)), json.dumps(fields), compressed=compressed)
    data = saved(image, "PNG")
    info = read(data)
    _assert_novelai_v4(info)
    assert info is not None
    assert json.loads(info.raw["stealth"]) == fields
    mode = "stealth_pngcomp" if compressed else "stealth_pnginfo"
    assert f"stealth data: {mode}" in info.notes
    # the same from a Pillow image and from a lossless WebP
    assert read(Image.open(io.BytesIO(data))) == info
    assert read(saved(image, "WEBP", lossless=True)) is not None


@pytest.mark.parametrize("compressed", [True, False])
def test_stealth_rgb_infotext(compressed: bool) -> None:
    image = embed_stealth(Image.new("RGB", (40, 40), (9, 8, 7)), INFOTEXT, compressed=compressed, rgb=True)
    info = read(saved(image.convert("RGB"), "PNG"))
    assert info is not None and info.generator == "a1111" and info.seed == 123456789
    assert info.raw == {"stealth": INFOTEXT}


def test_stealth_policy() -> None:
    image = embed_stealth(Image.new("RGBA", (64, 64)), INFOTEXT, compressed=True)
    info_png = png_bytes([("Title", "x", "tEXt")])
    assert read(saved(image, "PNG"), stealth=False) is None
    both = io.BytesIO()
    image.save(both, "PNG", pnginfo=_pnginfo({"parameters": "other\nSteps: 1, Seed: 2, Size: 3x4"}))
    assert read(both.getvalue()).prompt == "other"  # type: ignore[union-attr]
    assert "stealth" not in read(both.getvalue()).raw  # type: ignore[union-attr]
    assert read(both.getvalue(), stealth=True).raw["stealth"] == INFOTEXT  # type: ignore[union-attr]
    assert read(info_png) is None


def _pnginfo(texts: dict[str, str]) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    return info


# --- ComfyUI ---------------------------------------------------------------------------------------


def test_comfy_api_graph() -> None:
    graph = comfy_api_graph()
    info = read(png_bytes([("prompt", json.dumps(graph), "tEXt")]))
    assert info is not None and info.generator == "comfyui" and info.dialect == "comfy"
    # positive: the SDXL encoder's text (a primitive link) and the combined one, through ControlNet
    assert info.prompt == "a (red:1.2) fox\nforest"
    assert info.negative == "blurry, lowres"
    assert (info.steps, info.sampler, info.cfg_scale, info.seed, info.size) == (
        30, "dpmpp_2m_sde_gpu", 6.0, 42, (1024, 768)
    )  # fmt: skip
    assert info.parameters["ckpt_name"] == "sdxl.safetensors"
    assert info.parameters["scheduler"] == "karras"


def test_comfy_ui_workflow_only() -> None:
    info = read(png_bytes([("workflow", json.dumps(comfy_ui_workflow()), "iTXt")]))
    assert info is not None and info.generator == "comfyui"
    assert (info.prompt, info.negative) == ("1girl, smile", "worst quality")
    assert (info.steps, info.sampler, info.cfg_scale, info.seed, info.size) == (
        25, "euler_ancestral", 7.5, 777, (640, 960)
    )  # fmt: skip


def test_comfy_webp_exif_make_model() -> None:
    exif = exif_bytes(
        zeroth={
            piexif.ImageIFD.Make: ("workflow:" + json.dumps(comfy_ui_workflow())).encode(),
            piexif.ImageIFD.Model: ("prompt:" + json.dumps(comfy_api_graph())).encode(),
        }
    )
    info = read(saved(Image.new("RGB", (8, 8)), "WEBP", exif=exif))
    assert info is not None and info.generator == "comfyui"
    assert info.prompt == "a (red:1.2) fox\nforest"  # the API graph comes first


def test_comfy_saver_with_infotext_is_a1111() -> None:
    texts = [("parameters", INFOTEXT, "iTXt"), ("prompt", json.dumps(comfy_api_graph()), "tEXt")]
    info = read(png_bytes(texts))
    assert info is not None and info.generator == "a1111" and info.seed == 123456789


def test_comfy_deep_chain_is_iterative() -> None:
    graph: dict[str, Any] = {"0": {"class_type": "CLIPTextEncode", "inputs": {"text": "deep"}}}
    for index in range(1, 5000):
        graph[str(index)] = {"class_type": "ConditioningSetArea", "inputs": {"conditioning": [str(index - 1), 0]}}
    graph["s"] = {"class_type": "KSampler", "inputs": {"positive": ["4999", 0], "negative": ["0", 0]}}
    info = read(png_bytes([("prompt", json.dumps(graph), "zTXt")]))
    assert info is not None and info.prompt == "deep"


# --- others ----------------------------------------------------------------------------------------


def test_gif_comment() -> None:
    data = saved(Image.new("P", (4, 4)), "GIF", comment=INFOTEXT.encode("utf-8"))
    info = read(data)
    assert info is not None and info.generator == "a1111" and info.raw == {"gif:comment": INFOTEXT}


def test_jpeg_comment_needs_parameters() -> None:
    assert read(saved(Image.new("RGB", (4, 4)), "JPEG", comment=b"made with GIMP")) is None
    info = read(saved(Image.new("RGB", (4, 4)), "JPEG", comment=INFOTEXT.encode()))
    assert info is not None and info.seed == 123456789


def test_fooocus_a1111_scheme_is_an_infotext_writer() -> None:
    text = INFOTEXT.replace("Version: v1.10.1", "Version: Fooocus v2.5.0")
    info = read(png_bytes([("parameters", text, "iTXt"), ("fooocus_scheme", "a1111", "tEXt")]))
    assert info is not None and info.generator == "a1111" and info.software == "Fooocus v2.5.0"
    assert info.prompt == "masterpiece, (猫耳:1.2), 1girl"


def test_sdnext_names_itself() -> None:
    text = INFOTEXT.replace("Version: v1.10.1", "App: SD.Next, Version: 8c0dd7b")
    info = read(png_bytes([("parameters", text, "iTXt")]))
    assert info is not None and info.generator == "a1111" and info.software == "SD.Next 8c0dd7b"


def test_sources_path_file_and_pillow(tmp_path: Any) -> None:
    data = png_bytes([("parameters", INFOTEXT, "iTXt")])
    path = tmp_path / "x.png"
    path.write_bytes(data)
    from_bytes = read(data)
    assert read(path) == from_bytes == read(str(path)) == read(io.BytesIO(data))
    assert read(Image.open(path)) == from_bytes


def test_comfy_flux_custom_sampler_with_guider() -> None:
    graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}},
        "2": {"class_type": "CLIPTextEncodeFlux",
              "inputs": {"clip_l": "a fox", "t5xxl": "a red fox in the snow", "guidance": 3.5, "clip": ["9", 0]}},
        "3": {"class_type": "BasicGuider", "inputs": {"model": ["1", 0], "conditioning": ["2", 0]}},
        "4": {"class_type": "RandomNoise", "inputs": {"noise_seed": ["10", 0]}},
        "10": {"class_type": "Seed (rgthree)", "inputs": {"seed": 99}},
        "5": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "6": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 24, "denoise": 1.0,
                                                        "model": ["1", 0]}},
        "7": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 896, "height": 1152, "batch_size": 1}},
        "8": {"class_type": "SamplerCustomAdvanced",
              "inputs": {"noise": ["4", 0], "guider": ["3", 0], "sampler": ["5", 0], "sigmas": ["6", 0],
                         "latent_image": ["7", 0]}},
        "11": {"class_type": "VAEDecode", "inputs": {"samples": ["8", 0], "vae": ["12", 0]}},
        "13": {"class_type": "SaveImage", "inputs": {"images": ["11", 0], "filename_prefix": "flux"}},
    }  # fmt: skip
    info = read(png_bytes([("prompt", json.dumps(graph), "tEXt")]))
    assert info is not None and info.generator == "comfyui"
    assert (info.prompt, info.negative) == ("a fox\na red fox in the snow", "")
    assert (info.steps, info.sampler, info.seed, info.size) == (24, "euler", 99, (896, 1152))
    assert info.parameters["guidance"] == "3.5" and info.parameters["ckpt_name"] == "flux1-dev.safetensors"


def test_comfy_string_nodes_loaders_and_wildcards() -> None:
    graph = {
        "1": {"class_type": "Text Concatenate",
              "inputs": {"text_a": ["2", 0], "text_b": "smile", "delimiter": ", ", "clean_whitespace": "true"}},
        "2": {"class_type": "ImpactWildcardProcessor",
              "inputs": {"wildcard_text": "__hair__ girl", "populated_text": "red hair girl", "mode": "populate"}},
        "3": {"class_type": "Efficient Loader",
              "inputs": {"ckpt_name": "anime.safetensors", "positive": ["1", 0], "negative": "lowres, bad hands"}},
        "4": {"class_type": "KSampler (Efficient)",
              "inputs": {"positive": ["3", 1], "negative": ["3", 2], "seed": 5, "steps": 20, "cfg": 7,
                         "sampler_name": "euler", "scheduler": "normal", "latent_image": ["3", 3]}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 5]}},
    }  # fmt: skip
    info = read(png_bytes([("prompt", json.dumps(graph), "tEXt")]))
    assert info is not None
    assert (info.prompt, info.negative) == ("red hair girl, smile", "lowres, bad hands")


def test_comfy_cyclic_graph_terminates() -> None:
    graph = {
        "1": {"class_type": "StringConcat", "inputs": {"string_a": ["2", 0], "string_b": "x"}},
        "2": {"class_type": "StringConcat", "inputs": {"string_a": ["1", 0], "string_b": "y"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": ["1", 0]}},
        "4": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["4", 0], "conditioning_2": ["3", 0]}},
        "5": {"class_type": "KSampler", "inputs": {"positive": ["4", 0], "negative": ["3", 0]}},
    }  # fmt: skip
    info = read(png_bytes([("prompt", json.dumps(graph), "tEXt")]))
    assert info is not None and info.generator == "comfyui"
    assert "x" in info.prompt


@pytest.mark.parametrize("order", ["be", "le"])
def test_user_comment_without_any_ascii(order: str) -> None:
    # No zero bytes to tell the order by: the order that gives text-like characters wins.
    text = "猫耳少女、夕焼け"
    exif = exif_bytes(exif={piexif.ExifIFD.UserComment: user_comment(text, order)})
    info = read(saved(Image.new("RGB", (8, 8)), "JPEG", exif=exif))
    assert info is not None and info.prompt == text


def test_unrecognised_generation_carrier_is_unknown() -> None:
    info = read(png_bytes([("prompt", "just a prompt, no graph", "tEXt"), ("Comment", '{"x": 1}', "tEXt")]))
    assert info is not None and info.generator == "unknown"
    assert info.prompt == "just a prompt, no graph"
    assert "png:prompt" in info.notes[0] and "png:Comment" in info.notes[0]
    assert read(png_bytes([("Title", "holiday", "tEXt"), ("Software", "GIMP", "tEXt")])) is None


def test_novelai_comment_without_the_other_chunks() -> None:
    comment = json.loads(novelai_v4_fields()["Comment"])
    info = read(png_bytes([("Comment", json.dumps(comment), "tEXt")]))
    assert info is not None and info.generator == "novelai" and info.characters == V4_CHARACTERS
    fooocus_like = {"prompt": "a", "negative_prompt": "b", "steps": 30, "sampler": "dpmpp_2m"}
    other = read(png_bytes([("parameters", json.dumps(fooocus_like), "tEXt")]))
    assert other is not None and other.generator == "fooocus"


def test_avif_exif_through_pillow() -> None:
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    exif = exif_bytes(exif={piexif.ExifIFD.UserComment: user_comment(INFOTEXT)})
    info = read(saved(Image.new("RGB", (8, 8)), "AVIF", exif=exif))
    assert info is not None and info.generator == "a1111" and info.raw == {"exif:UserComment": INFOTEXT}
