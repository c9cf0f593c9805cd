"""write() then read() for PNG, JPEG and WebP; WebUI's own EXIF reading path; to_infotext / to_novelai / to_comfy."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pytest

pytest.importorskip("PIL")
pytest.importorskip("piexif")
import piexif
import piexif.helper
from PIL import Image

from naiprompt.errors import ConversionError, MetadataError, PromptWarning
from naiprompt.metadata import (
    GenerationInfo,
    parse_infotext,
    read,
    to_comfy,
    to_infotext,
    to_novelai,
    write,
)
from naiprompt.metadata.png import read_chunks

try:
    from test_metadata_carriers import INFOTEXT, V4_CHARACTERS, comfy_api_graph, novelai_v4_fields, png_bytes, saved
except ImportError:  # pragma: no cover
    from tests.test_metadata_carriers import (
        INFOTEXT,
        V4_CHARACTERS,
        comfy_api_graph,
        novelai_v4_fields,
        png_bytes,
        saved,
    )


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes()


def _source(fmt: str) -> bytes:
    image = Image.effect_mandelbrot((32, 24), (-2, -1, 1, 1), 50).convert("RGB")
    return saved(image, fmt, **({"lossless": True} if fmt == "WEBP" else {}))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_write_then_read_gives_the_same_info(fmt: str) -> None:
    source = _source(fmt)
    written = write(source, INFOTEXT)
    info = read(written)
    assert info is not None and info.generator == "a1111"
    assert info.prompt == "masterpiece, (猫耳:1.2), 1girl"
    assert info.raw == {"png:parameters" if fmt == "PNG" else "exif:UserComment": INFOTEXT}
    assert to_infotext(info) == INFOTEXT  # an A1111 info writes back as itself
    assert _pixels(written) == _pixels(source)  # pixels untouched (not re-encoded)
    # writing a GenerationInfo (read back from another image) gives the same info again
    again = read(write(source, info))
    assert again == info


def test_png_chunks_other_than_the_text_are_copied_verbatim() -> None:
    source = png_bytes([("parameters", "old\nSteps: 1, Seed: 1, Size: 1x1", "tEXt"), ("Title", "t", "tEXt")])
    written = write(source, INFOTEXT)
    assert read_chunks(written).texts == [("Title", "t", "tEXt"), ("parameters", INFOTEXT, "iTXt")]
    idat = source[source.index(b"IDAT") - 4 : source.index(b"IEND") - 4]
    assert idat in written
    latin1 = write(source, "plain\nSteps: 1, Seed: 2, Size: 8x8")
    assert ("parameters", "plain\nSteps: 1, Seed: 2, Size: 8x8", "tEXt") in read_chunks(latin1).texts


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_exif_is_what_webui_reads(fmt: str) -> None:
    # WebUI's read_info_from_image: piexif.load, then piexif.helper.UserComment.load (UTF-16-BE).
    written = write(_source(fmt), INFOTEXT)
    with Image.open(io.BytesIO(written)) as image:
        exif = piexif.load(image.info["exif"])
    comment = exif["Exif"][piexif.ExifIFD.UserComment]
    assert isinstance(comment, bytes)  # type 7; Pillow's own writer would give a tuple (type 1)
    assert piexif.helper.UserComment.load(comment) == INFOTEXT


def test_write_to_paths_and_other_formats(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(_source("PNG"))
    for name in ("out.png", "out.jpg", "out.webp"):
        write(source, INFOTEXT, tmp_path / name)
        info = read(tmp_path / name)
        assert info is not None and info.seed == 123456789, name
    with Image.open(source) as image:
        buffer = io.BytesIO()
        write(image, INFOTEXT, buffer)
    assert read(buffer.getvalue()).seed == 123456789  # type: ignore[union-attr]
    with pytest.raises(MetadataError):
        write(b"not an image", INFOTEXT)


# --- conversions ---------------------------------------------------------------------------------


def test_novelai_to_infotext_maps_samplers_and_converts_weights() -> None:
    info = read(png_bytes([(k, v, "tEXt") for k, v in novelai_v4_fields().items()]))
    assert info is not None
    with pytest.warns(PromptWarning, match="characters"):
        text = to_infotext(info)
    parsed = parse_infotext(text)
    assert parsed["Prompt"] == "2girls, (masterpiece:1.1025), outdoors"
    assert parsed["Negative prompt"] == "lowres, (blurry:0.907)"
    assert (parsed["Sampler"], parsed["Schedule type"]) == ("DPM++ 2M SDE", "Karras")  # not WebUI's "Euler a"
    assert (parsed["Clip skip"], parsed["Size-1"], parsed["Size-2"], parsed["Seed"]) == (
        "2",
        "832",
        "1216",
        "3141592653",
    )
    with pytest.raises(ConversionError):
        to_infotext(info, errors="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = to_infotext(info, convert=False, errors="ignore")
    assert raw.startswith("2girls, {{masterpiece}}, outdoors\n") and "Sampler: k_dpmpp_2m_sde" in raw


def test_to_novelai_round_trips_v4_characters() -> None:
    info = read(png_bytes([(k, v, "tEXt") for k, v in novelai_v4_fields().items()]))
    assert info is not None
    comment = to_novelai(info)
    back = read(png_bytes([("Software", "NovelAI", "tEXt"), ("Comment", comment, "tEXt")]))
    assert back is not None
    assert (back.prompt, back.negative, back.characters) == (info.prompt, info.negative, V4_CHARACTERS)
    assert (back.steps, back.sampler, back.cfg_scale, back.seed, back.size) == (
        info.steps, info.sampler, info.cfg_scale, info.seed, info.size
    )  # fmt: skip


def test_to_novelai_from_webui() -> None:
    info = read(png_bytes([("parameters", INFOTEXT, "iTXt")]))
    assert info is not None
    comment = json.loads(to_novelai(info))
    assert comment["prompt"] == comment["v4_prompt"]["caption"]["base_caption"] == "masterpiece, 1.2::猫耳::, 1girl"
    assert (comment["sampler"], comment["noise_schedule"], comment["scale"]) == ("k_dpmpp_2m", "karras", 6.5)


def test_to_comfy_graph_walks_back_to_the_same_info() -> None:
    info = read(png_bytes([("parameters", INFOTEXT, "iTXt")]))
    assert info is not None
    graph = to_comfy(info)
    assert {node["class_type"] for node in graph.values()} == {
        "CheckpointLoaderSimple", "CLIPSetLastLayer", "CLIPTextEncode", "EmptyLatentImage", "KSampler",
        "VAEDecode", "SaveImage",
    }  # fmt: skip
    back = read(png_bytes([("prompt", json.dumps(graph), "tEXt")]))
    assert back is not None and back.generator == "comfyui"
    assert (back.prompt, back.negative) == ("masterpiece, (猫耳:1.2), 1girl", "lowres, bad hands")
    assert (back.steps, back.sampler, back.cfg_scale, back.seed, back.size) == (
        28, "dpmpp_2m", 6.5, 123456789, (832, 1216)
    )  # fmt: skip
    assert back.parameters["scheduler"] == "karras"
    # ComfyUI -> WebUI: sampler names and CLIP skip mapped
    comfy = read(png_bytes([("prompt", json.dumps(comfy_api_graph()), "tEXt")]))
    assert comfy is not None
    parsed = parse_infotext(to_infotext(comfy))
    assert (parsed["Sampler"], parsed["Schedule type"], parsed["Model"]) == ("DPM++ 2M SDE", "Karras", "sdxl")


def test_novelai_comfy_graph_has_clip_skip_2() -> None:
    info = GenerationInfo(generator="novelai", prompt="{cat}", dialect="nai", steps=28, sampler="k_euler")
    graph = to_comfy(info)
    assert graph["10"]["inputs"]["stop_at_clip_layer"] == -2
    assert graph["6"]["inputs"]["text"] == "(cat:1.05)"
    assert graph["3"]["inputs"]["sampler_name"] == "euler"


def test_other_uis_to_infotext_samples() -> None:
    images = Path(__file__).parent / "fixtures" / "images" / "parsers"
    expected = {
        "InvokeAI/invokeai_imeta1.png": "Steps: 35, Sampler: Euler, CFG scale: 8.0, Seed: 3293022630, "
        "Size: 1024x1024, Model: juggernautXL",
        "InvokeAI/invokeai_dream1.png": "Steps: 50, Sampler: LMS, CFG scale: 5.0, Seed: 2980747362, Size: 512x768",
        "Fooocus/fooocus1_cropped.png": "Steps: 30, Sampler: DPM++ 2M SDE, Schedule type: Karras, CFG scale: 4.0, "
        "Seed: 6952411511246973023, Size: 768x1280, Model: juggernautXL_v8Rundiffusion, Clip skip: 2",
    }
    for name, line in expected.items():
        info = read(images / name)
        assert info is not None
        assert to_infotext(info).rsplit("\n", 1)[-1] == line, name
