"""Real images from sd-parsers (MIT): every expected value of fixtures/images/expected.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from naiprompt.metadata import parse_infotext, read

IMAGES = Path(__file__).parent / "fixtures" / "images"
ENTRIES = json.loads((IMAGES / "expected.json").read_text(encoding="utf-8"))["images"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["file"] for entry in ENTRIES])
def test_sample_image(entry: dict[str, Any]) -> None:
    path = IMAGES / entry["file"]
    assert path.stat().st_size == entry["bytes"]
    expected = entry["expected"]
    info = read(path)
    if expected.get("none"):
        assert info is None
        return
    if info is None:
        assert expected.get("accept_none")
        return
    generators = expected["generator"] if isinstance(expected["generator"], list) else [expected["generator"]]
    assert info.generator in generators
    for field in ("prompt", "negative"):
        if expected.get(field) is not None:
            got = getattr(info, field)
            assert (got.strip() if expected.get("strip") else got) == expected[field]
    params = expected.get("parameters", {})
    typed = {"Steps": info.steps, "Sampler": info.sampler, "CFG scale": info.cfg_scale, "Seed": info.seed}
    for key, value in params.items():
        if key == "Size":
            assert f"{info.width}x{info.height}" == value
        elif key == "CFG scale":
            assert info.cfg_scale == float(value)
        else:
            assert str(typed[key]) == value
    if "dialect" in expected:
        assert info.dialect == expected["dialect"]
    if "characters" in expected:
        assert [c.prompt for c in info.characters] == expected["characters"]
    if "carrier_text" in expected:
        assert info.raw[expected["carrier"]] == expected["carrier_text"]
    elif "carrier" in expected:
        assert expected["carrier"] in info.raw
    if "a1111_parse" in expected:
        assert parse_infotext(info.raw[expected["carrier"]]) == expected["a1111_parse"]


def test_the_bytes_are_the_documented_ones() -> None:
    import hashlib

    for entry in ENTRIES:
        assert hashlib.sha256((IMAGES / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


def test_comfy_samples_pick_the_final_sampler() -> None:
    info = read(IMAGES / "parsers/ComfyUI/unclip_2pass_cropped.png")
    assert info is not None
    assert info.prompt == "beautiful scenery landscape outdoors mountains"  # the hires pass's own encoder
    assert info.size == (1920, 1088)  # the upscaled latent it samples
    assert any("2 samplers" in note for note in info.notes)
    img2img = read(IMAGES / "parsers/ComfyUI/img2img_cropped.png")
    assert img2img is not None
    assert img2img.prompt.strip() == "photograph of victorian woman with wings, sky clouds, meadow grass"
    assert img2img.negative.strip() == "watermark, text"


def test_novelai_v1_sample_to_infotext_matches_webui_view() -> None:
    from naiprompt.metadata import to_infotext

    info = read(IMAGES / "parsers/NovelAI/novelai1_cropped.png")
    assert info is not None
    entry = next(e for e in ENTRIES if e["file"].endswith("novelai1_cropped.png"))
    # WebUI's own view of the same file (its NovelAI import): same text, byte for byte.
    assert to_infotext(info) == entry["a1111_read_info_from_image"]["geninfo"]
