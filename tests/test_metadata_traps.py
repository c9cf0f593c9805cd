"""The traps seen in real files (the metadata spec's list), each in an image built here with Pillow.

Every infotext trap is checked twice: through ``read`` on a real PNG/JPEG, and
against the expected values WebUI v1.10.1's ``parse_generation_parameters``
gives for the same text. The ComfyUI and InvokeAI cases are graph shapes real
savers write (ControlNet between encoder and sampler, Reroute nodes, zeroed
negatives, images carrying only InvokeAI's graph). ``webui_parse_generated.json``
holds generated infotexts (odd quoting, sizes, duplicated keys, CRLF, unicode...)
with WebUI's own output for each; see ``tests/fixtures/README.md``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from naiprompt.metadata import parse_infotext, read, to_comfy, to_infotext  # noqa: E402
from naiprompt.metadata.model import GenerationInfo  # noqa: E402
from test_metadata_carriers import embed_stealth, novelai_v4_fields, png_bytes, saved  # noqa: E402

GENERATED = Path(__file__).parent / "fixtures" / "images" / "webui_parse_generated.json"

# (infotext, expected prompt, expected negative, expected parameter items) -- the prompt and negative as WebUI
# v1.10.1 parses them (its parse_generation_parameters on the same text).
TRAPS: list[tuple[str, str, str, str, dict[str, str]]] = [
    (
        "empty negative line",
        "a cat\nNegative prompt: \nSteps: 20, Sampler: Euler a, CFG scale: 7",
        "a cat",
        "",
        {"Steps": "20", "Sampler": "Euler a", "CFG scale": "7"},
    ),
    (
        "'Negative prompt:' inside a prompt line stays prompt",
        "a cat, Negative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7",
        "a cat, Negative prompt: dog",
        "",
        {"Steps": "20", "Sampler": "Euler a", "CFG scale": "7"},
    ),
    (
        "a last line with two items is prompt text",
        "a cat\nNegative prompt: dog\nSteps: 20, Seed: 5",
        "a cat",
        "dog\nSteps: 20, Seed: 5",
        {},
    ),
    (
        "CRLF line ends and trailing spaces",
        "a cat,  \r\n(red:1.2) eyes \r\nNegative prompt: dog \r\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 3\r\n",
        "a cat,\n(red:1.2) eyes",
        "dog",
        {"Steps": "20", "Sampler": "Euler", "CFG scale": "7", "Seed": "3"},
    ),
    (
        "Civitai's unquoted JSON is cut at the first comma",
        'x\nSteps: 30, Sampler: Euler, CFG scale: 5, Civitai resources: [{"type":"checkpoint","modelVersionId":1}], '
        "Created Date: 2024-05-01T12:00:00.000Z",
        "x",
        "",
        {
            "Steps": "30",
            "Sampler": "Euler",
            "CFG scale": "5",
            "Civitai resources": '[{"type":"checkpoint"',
            "Created Date": "2024-05-01T12:00:00.000Z",
        },
    ),
    (
        "duplicated keys: the last value wins, the first position stays",
        "x\nSteps: 20, Seed: 1, Steps: 30, Sampler: Euler",
        "x",
        "",
        {"Steps": "30", "Seed": "1", "Sampler": "Euler"},
    ),
    (
        "quoted values with commas, colons and escapes",
        'x\nSteps: 20, Lora hashes: "a: 1, b: 2", Hires prompt: "say \\"hi\\"\\nthere", Seed: 1',
        "x",
        "",
        {"Steps": "20", "Lora hashes": "a: 1, b: 2", "Hires prompt": 'say "hi"\nthere', "Seed": "1"},
    ),
    (
        "a multi-line negative with empty lines",
        "a\n\nb\nNegative prompt: c\n\nd\nSteps: 1, Seed: 2, CFG scale: 3",
        "a\n\nb",
        "c\n\nd",
        {"Steps": "1", "Seed": "2", "CFG scale": "3"},
    ),
]


@pytest.mark.parametrize(("name", "text", "prompt", "negative", "items"), TRAPS, ids=[t[0] for t in TRAPS])
@pytest.mark.parametrize("carrier", ["png-tEXt", "png-iTXt", "jpeg"])
def test_infotext_traps_through_read(
    name: str, text: str, prompt: str, negative: str, items: dict[str, str], carrier: str
) -> None:
    if carrier == "jpeg":
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
        data = saved(Image.new("RGB", (8, 8)), "JPEG", exif=exif)
    else:
        data = png_bytes([("parameters", text, carrier[4:])])
    info = read(data)
    assert info is not None and info.generator == "a1111"
    assert (info.prompt, info.negative) == (prompt, negative)
    assert info.parameters == items
    parsed = parse_infotext(text)
    assert (parsed["Prompt"], parsed["Negative prompt"]) == (prompt, negative)


def test_non_latin1_prompt_in_text_chunk_written_as_utf8() -> None:
    # Stability Matrix: UTF-8 bytes in a tEXt chunk, which the PNG standard says is Latin-1.
    text = "猫耳, 少女 — ½\nNegative prompt: ぼやけ\nSteps: 20, Sampler: Euler, CFG scale: 7"
    body = b"parameters\0" + text.encode("utf-8")
    import struct
    import zlib

    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    plain = png_bytes()
    data = plain[:33] + chunk + plain[33:]  # after IHDR
    info = read(data)
    assert info is not None and (info.prompt, info.negative) == ("猫耳, 少女 — ½", "ぼやけ")


def test_generated_infotexts_equal_webui() -> None:
    cases = json.loads(GENERATED.read_text(encoding="utf-8"))
    assert len(cases) >= 200
    for case in cases:
        got = parse_infotext(case["text"])
        assert got == case["expected"], case["text"]
        assert list(got) == list(case["expected"]), case["text"]  # WebUI's key order too


# --- NovelAI: chunks and stealth data together ---------------------------------------------------------


def _novelai_png(image: Image.Image) -> bytes:
    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    for key, value in novelai_v4_fields().items():
        chunks.add_text(key, value)
    return saved(image, "PNG", pnginfo=chunks)


def test_novelai_png_with_chunks_also_reads_its_stealth_copy() -> None:
    fields = {key: value for key, value in novelai_v4_fields().items() if key != "Title"}
    image = embed_stealth(Image.new("RGBA", (64, 64), (5, 6, 7, 255)), json.dumps(fields), compressed=True)
    info = read(_novelai_png(image))
    assert info is not None and info.generator == "novelai" and len(info.characters) == 2
    assert json.loads(info.raw["stealth"]) == fields
    assert "stealth data: stealth_pngcomp" in info.notes
    assert "stealth" not in read(_novelai_png(image), stealth=False).raw  # type: ignore[union-attr]


def test_novelai_png_with_damaged_stealth_copy_still_reads() -> None:
    image = Image.new("RGBA", (64, 64), (5, 6, 7, 255))
    alpha = image.getchannel("A")
    pixels = alpha.load()
    bits = "".join(f"{byte:08b}" for byte in b"stealth_pngcomp" + (10**9).to_bytes(4, "big"))
    for index, bit in enumerate(bits):  # the magic, then a length the image cannot hold (column by column)
        x, y = divmod(index, 64)
        pixels[x, y] = 254 | int(bit)
    image.putalpha(alpha)
    info = read(_novelai_png(image))
    assert info is not None and info.generator == "novelai" and "stealth" not in info.raw
    assert any(note.startswith("stealth data not read") for note in info.notes)
    with pytest.raises(ValueError, match="stealth"):
        read(_novelai_png(image), stealth=True)


# --- ComfyUI --------------------------------------------------------------------------------------------


def _comfy_png(graph: dict[str, Any], key: str = "prompt") -> bytes:
    return png_bytes([(key, json.dumps(graph), "tEXt")])


BASE: dict[str, Any] = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
}


def test_comfy_controlnet_between_encoders_and_sampler_is_not_a_sampler() -> None:
    graph = {
        **BASE,
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 9,
                "steps": 25,
                "cfg": 6.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["11", 0],
                "negative": ["11", 1],
                "latent_image": ["5", 0],
            },
        },
        "11": {
            "class_type": "ControlNetApplyAdvanced",
            "inputs": {
                "positive": ["6", 0],
                "negative": ["7", 0],
                "control_net": ["12", 0],
                "image": ["13", 0],
                "strength": 1.0,
                "start_percent": 0.0,
                "end_percent": 1.0,
            },
        },
        # a saver whose class name naiprompt's hints only match case-insensitively
        "20": {"class_type": "easy imageSave", "inputs": {"images": ["8", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    }
    info = read(_comfy_png(graph))
    assert info is not None and info.generator == "comfyui"
    assert (info.prompt, info.negative, info.steps, info.seed, info.size) == ("a cat", "blurry", 25, 9, (832, 1216))
    assert info.parameters["sampler_node"] == "KSampler"
    assert not info.notes  # one sampler: no choice to report
    del graph["20"], graph["8"]  # no save node at all: still the KSampler
    info = read(_comfy_png(graph))
    assert info is not None and (info.steps, info.parameters["sampler_node"]) == (25, "KSampler")


def test_comfy_zeroed_negative_is_empty() -> None:
    graph = {
        **BASE,
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 1,
                "steps": 20,
                "cfg": 1.0,
                "sampler_name": "euler",
                "scheduler": "simple",
                "positive": ["6", 0],
                "negative": ["9", 0],
                "latent_image": ["5", 0],
            },
        },
        "9": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}},
    }
    info = read(_comfy_png(graph))
    assert info is not None and (info.prompt, info.negative) == ("a cat", "")


def _workflow(text_source: dict[str, Any]) -> dict[str, Any]:
    """A UI graph: a text source -> Reroute -> CLIPTextEncode.text; the encoder -> Reroute -> KSampler."""
    return {
        "nodes": [
            {**text_source, "id": 1, "outputs": [{"links": [10]}]},
            {"id": 2, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 10}]},
            {
                "id": 3,
                "type": "CLIPTextEncode",
                "inputs": [
                    {"name": "clip", "type": "CLIP", "link": None},
                    {"name": "text", "type": "STRING", "widget": {"name": "text"}, "link": 11},
                ],
                "widgets_values": ["a dog in the rain"],
            },
            {"id": 4, "type": "CLIPTextEncode", "inputs": [], "widgets_values": ["ugly"]},
            {"id": 6, "type": "Reroute", "inputs": [{"name": "", "link": 12}]},
            {
                "id": 5,
                "type": "KSampler",
                "inputs": [{"name": "positive", "link": 13}, {"name": "negative", "link": 14}],
                "widgets_values": [42, "fixed", 30, 5.5, "dpmpp_2m", "karras", 1],
            },
            {"id": 7, "type": "CLIPTextEncode", "mode": 2, "inputs": [], "widgets_values": ["muted, never read"]},
        ],
        "links": [
            [10, 1, 0, 2, 0, "STRING"],
            [11, 2, 0, 3, 1, "STRING"],
            [12, 3, 0, 6, 0, "CONDITIONING"],
            [13, 6, 0, 5, 0, "CONDITIONING"],
            [14, 4, 0, 5, 1, "CONDITIONING"],
        ],
    }


@pytest.mark.parametrize(
    "source",
    [
        {"type": "PrimitiveNode", "widgets_values": ["a dog in the rain"]},
        {"type": "PrimitiveStringMultiline", "widgets_values": ["a dog in the rain"]},
        # a custom node naiprompt knows nothing about: the encoder's last shown text is used
        {"type": "SomeWildcardNode|custom", "widgets_values": [7, "randomize"]},
    ],
    ids=["primitive", "string-node", "unknown-node"],
)
def test_comfy_workflow_text_through_reroute(source: dict[str, Any]) -> None:
    info = read(_comfy_png(_workflow(source), key="workflow"))
    assert info is not None and info.generator == "comfyui"
    assert (info.prompt, info.negative) == ("a dog in the rain", "ugly")
    assert (info.seed, info.steps, info.cfg_scale, info.sampler) == (42, 30, 5.5, "dpmpp_2m")
    assert "Schedule type: Karras" in to_infotext(info)


def test_comfy_workflow_flux_custom_sampler_widgets() -> None:
    # SamplerCustomAdvanced: its settings live in RandomNoise, BasicScheduler, KSamplerSelect and FluxGuidance.
    nodes = [
        {"id": 1, "type": "CLIPTextEncodeFlux", "inputs": [], "widgets_values": ["a fox", "a fox", 3.5]},
        {"id": 2, "type": "RandomNoise", "widgets_values": [1234, "fixed"]},
        {"id": 3, "type": "BasicScheduler", "inputs": [], "widgets_values": ["simple", 28, 1]},
        {"id": 4, "type": "KSamplerSelect", "widgets_values": ["euler"]},
        {"id": 5, "type": "BasicGuider", "inputs": [{"name": "conditioning", "link": 21}]},
        {
            "id": 6,
            "type": "SamplerCustomAdvanced",
            "inputs": [
                {"name": "noise", "link": 22},
                {"name": "guider", "link": 23},
                {"name": "sampler", "link": 24},
                {"name": "sigmas", "link": 25},
            ],
        },
    ]
    links = [[21, 1, 0, 5, 0, "CONDITIONING"], [22, 2, 0, 6, 0, "NOISE"], [23, 5, 0, 6, 1, "GUIDER"],
             [24, 4, 0, 6, 2, "SAMPLER"], [25, 3, 0, 6, 3, "SIGMAS"]]  # fmt: skip
    info = read(_comfy_png({"nodes": nodes, "links": links}, key="workflow"))
    assert info is not None
    assert (info.prompt, info.negative, info.seed, info.steps, info.sampler) == ("a fox", "", 1234, 28, "euler")


# --- InvokeAI without invokeai_metadata -----------------------------------------------------------------


def _invoke_graph() -> dict[str, Any]:
    def edge(src: str, field: str, dst: str, dfield: str) -> dict[str, Any]:
        return {"source": {"node_id": src, "field": field}, "destination": {"node_id": dst, "field": dfield}}

    return {
        "id": "g",
        "nodes": {
            "text": {"id": "text", "type": "string", "value": "a castle, sunset"},
            "pos": {"id": "pos", "type": "sdxl_compel_prompt", "style": "a castle, sunset"},
            "neg": {"id": "neg", "type": "sdxl_compel_prompt", "prompt": "blurry", "style": ""},
            "noise": {"id": "noise", "type": "noise", "seed": 77, "width": 1024, "height": 768},
            "loader": {"id": "loader", "type": "sdxl_model_loader", "model": {"key": "k1", "name": "juggernautXL"}},
            "denoise": {
                "id": "denoise",
                "type": "denoise_latents",
                "steps": 30,
                "cfg_scale": 6.5,
                "scheduler": "dpmpp_2m_k",
            },
        },
        "edges": [
            edge("text", "value", "pos", "prompt"),
            edge("pos", "conditioning", "denoise", "positive_conditioning"),
            edge("neg", "conditioning", "denoise", "negative_conditioning"),
            edge("noise", "noise", "denoise", "noise"),
        ],
    }


def _as_workflow(graph: dict[str, Any]) -> dict[str, Any]:
    nodes = [
        {"id": node_id, "type": "invocation",
         "data": {"id": node_id, "type": node["type"],
                  "inputs": {k: {"name": k, "value": v} for k, v in node.items() if k not in ("id", "type")}}}
        for node_id, node in graph["nodes"].items()
    ]  # fmt: skip
    edges = [
        {"source": e["source"]["node_id"], "sourceHandle": e["source"]["field"],
         "target": e["destination"]["node_id"], "targetHandle": e["destination"]["field"]}
        for e in graph["edges"]
    ]  # fmt: skip
    return {"name": "", "nodes": nodes, "edges": edges}


@pytest.mark.parametrize("key", ["invokeai_graph", "invokeai_workflow"])
def test_invokeai_graph_only(key: str) -> None:
    graph = _invoke_graph()
    payload = graph if key == "invokeai_graph" else _as_workflow(graph)
    info = read(png_bytes([(key, json.dumps(payload), "tEXt")]))
    assert info is not None and info.generator == "invokeai"
    assert (info.prompt, info.negative) == ("a castle, sunset", "blurry")
    assert (info.steps, info.cfg_scale, info.seed, info.size, info.sampler) == (30, 6.5, 77, (1024, 768), "dpmpp_2m_k")
    assert "Sampler: DPM++ 2M, Schedule type: Karras" in to_infotext(info)
    assert to_infotext(info).endswith("Model: juggernautXL")


def test_invokeai_metadata_wins_over_the_graph() -> None:
    meta = {"positive_prompt": "from metadata", "negative_prompt": "", "steps": 10, "app_version": "4.2.0"}
    texts = [("invokeai_metadata", json.dumps(meta), "tEXt"), ("invokeai_graph", json.dumps(_invoke_graph()), "tEXt")]
    info = read(png_bytes(texts))
    assert info is not None and (info.prompt, info.steps, info.software) == ("from metadata", 10, "InvokeAI 4.2.0")


# --- conversions -----------------------------------------------------------------------------------------

NAI_SAMPLERS = [
    ("k_euler", "native", "Euler", None),
    ("k_euler_ancestral", "karras", "Euler a", "Karras"),
    ("k_dpmpp_2s_ancestral", "exponential", "DPM++ 2S a", "Exponential"),
    ("k_dpmpp_2m", "polyexponential", "DPM++ 2M", "Polyexponential"),
    ("k_dpmpp_2m_sde", "karras", "DPM++ 2M SDE", "Karras"),
    ("k_dpmpp_sde", "native", "DPM++ SDE", None),
    ("ddim_v3", "native", "DDIM", None),
]


@pytest.mark.parametrize(("nai", "schedule", "sampler", "schedule_type"), NAI_SAMPLERS)
def test_novelai_samplers_and_schedules_to_webui(
    nai: str, schedule: str, sampler: str, schedule_type: str | None
) -> None:
    info = GenerationInfo(
        generator="novelai", prompt="cat", dialect="nai", sampler=nai, steps=28, cfg_scale=5.0, seed=1,
        width=832, height=1216, parameters={"sampler": nai, "noise_schedule": schedule, "steps": "28", "scale": "5"},
    )  # fmt: skip
    parsed = parse_infotext(to_infotext(info))
    assert parsed["Sampler"] == sampler
    assert parsed["Schedule type"] == (schedule_type or "Automatic")
    assert (parsed["Clip skip"], parsed["Size-1"], parsed["Size-2"]) == ("2", "832", "1216")


# Outputs per node class of the nodes to_comfy uses (ComfyUI's RETURN_TYPES lengths).
COMFY_OUTPUTS = {"CheckpointLoaderSimple": 3, "CLIPSetLastLayer": 1, "CLIPTextEncode": 1, "EmptyLatentImage": 1,
                 "KSampler": 1, "VAEDecode": 1, "SaveImage": 0}  # fmt: skip


@pytest.mark.parametrize(
    "info",
    [
        GenerationInfo(generator="a1111", prompt="(cat:1.2)", sampler="DPM++ 2M Karras", steps=20,
                       parameters={"Clip skip": "2", "Model": "m"}),
        GenerationInfo(generator="novelai", prompt="{cat}", dialect="nai", sampler="k_euler",
                       parameters={"noise_schedule": "karras"}),
        GenerationInfo(generator="comfyui", prompt="(cat:1.2)", dialect="comfy", sampler="euler",
                       parameters={"stop_at_clip_layer": "-2", "scheduler": "sgm_uniform"}),
        GenerationInfo(generator="invokeai", prompt="cat", dialect="compel", sampler="euler_a"),
    ],
    ids=["a1111", "novelai", "comfyui", "invokeai"],
)  # fmt: skip
def test_to_comfy_every_link_points_to_an_existing_output(info: GenerationInfo) -> None:
    graph = to_comfy(info)
    for node in graph.values():
        assert node["class_type"] in COMFY_OUTPUTS
        for value in node["inputs"].values():
            if isinstance(value, list):
                source, slot = value
                assert source in graph and 0 <= slot < COMFY_OUTPUTS[graph[source]["class_type"]]
    sampler = next(node for node in graph.values() if node["class_type"] == "KSampler")["inputs"]
    assert sampler["scheduler"] in ("normal", "karras", "sgm_uniform")
    assert sampler["sampler_name"] in ("euler", "euler_ancestral", "dpmpp_2m")


def test_comfy_loader_nodes_that_encode_their_own_texts() -> None:
    # Efficiency's loader encodes its texts (outputs 1 and 2) and holds the empty latent's size.
    efficient = {
        "1": {
            "class_type": "Efficient Loader",
            "inputs": {
                "ckpt_name": "m.safetensors",
                "positive": "a dog",
                "negative": "bad",
                "empty_latent_width": 512,
                "empty_latent_height": 768,
            },
        },
        "2": {
            "class_type": "KSampler (Efficient)",
            "inputs": {
                "model": ["1", 0],
                "positive": ["1", 1],
                "negative": ["1", 2],
                "latent_image": ["1", 3],
                "seed": 3,
                "steps": 20,
                "cfg": 7,
                "sampler_name": "euler",
                "scheduler": "karras",
                "denoise": 1,
            },
        },
    }
    info = read(_comfy_png(efficient))
    assert info is not None and (info.prompt, info.negative, info.size, info.steps) == ("a dog", "bad", (512, 768), 20)
    # easy-use: the sampler takes a pipe, not positive/negative; a text may come from a string node.
    easy = {
        "1": {
            "class_type": "easy fullLoader",
            "inputs": {
                "ckpt_name": "m.safetensors",
                "positive": "a cat, masterpiece",
                "negative": ["9", 0],
                "empty_latent_width": 896,
                "empty_latent_height": 1152,
                "batch_size": 1,
            },
        },
        "9": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "lowres"}},
        "2": {
            "class_type": "easy fullkSampler",
            "inputs": {
                "pipe": ["1", 0],
                "steps": 25,
                "cfg": 6,
                "sampler_name": "euler_ancestral",
                "scheduler": "normal",
                "denoise": 1.0,
                "seed": 11,
            },
        },
        "3": {"class_type": "easy imageSave", "inputs": {"images": ["2", 1]}},
    }
    info = read(_comfy_png(easy))
    assert info is not None and info.generator == "comfyui"
    assert (info.prompt, info.negative, info.size, info.seed) == ("a cat, masterpiece", "lowres", (896, 1152), 11)


def test_png_cut_short_inside_its_image_data_keeps_its_text() -> None:
    # A partial download: the "parameters" chunk sits before the image data, which is cut.
    text = "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7"
    data = png_bytes([("parameters", text, "tEXt")], size=(64, 64))
    idat = data.index(b"IDAT")
    info = read(data[: idat + 10])
    assert info is not None and info.prompt == "a cat" and info.steps == 20
    plain = png_bytes(size=(64, 64))
    with pytest.raises(ValueError, match="declares"):  # nothing read before the cut: still an error
        read(plain[: plain.index(b"IDAT") + 10])


def test_png_text_chunk_without_keyword_terminator_is_read_like_pillow() -> None:
    import struct
    import zlib

    body = b"no terminator here"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    plain = png_bytes([("parameters", "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7", "tEXt")])
    info = read(plain[:33] + chunk + plain[33:])
    assert info is not None and info.prompt == "a cat" and info.raw["png:no terminator here"] == ""


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        ("workflow", {"nodes": [{"id": 1, "type": "KSampler", "inputs": -1}], "links": 2.5}),
        ("workflow", {"nodes": [{"id": 1, "type": "CLIPTextEncode", "inputs": [{"name": "text", "link": [1]}]}],
                      "links": [[[1], 2, 0, 1, 0, "STRING"], {"id": {}, "origin_slot": "x"}]}),
        ("prompt", {"1": {"class_type": "KSampler", "inputs": True}, "2": {"class_type": "X", "inputs": [1, 2]}}),
        ("invokeai_graph", {"nodes": ["3", 2], "edges": 2.5}),
        ("invokeai_workflow", {"nodes": [{"data": {"inputs": 5}}, 7], "edges": [{"source": 1}, 3]}),
    ],
    ids=["links-not-a-list", "unhashable-link-ids", "inputs-not-a-dict", "invoke-edges-not-a-list", "invoke-junk"],
)  # fmt: skip
def test_malformed_graphs_never_raise(key: str, payload: dict[str, Any]) -> None:
    # Shapes found by fuzzing the graph readers: each once raised TypeError; now read leniently.
    info = read(png_bytes([(key, json.dumps(payload), "tEXt")]))
    assert info is not None and info.prompt == ""


def test_comfy_face_detailer_after_the_sampler_reads_the_sampler() -> None:
    # FaceDetailer re-samples the face in image space with its own steps; the image is the KSampler's.
    graph = {
        **BASE,
        "3": {
            "class_type": "KSampler",
            "inputs": {"seed": 1, "steps": 30, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
                       "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "12": {
            "class_type": "FaceDetailer",
            "inputs": {"image": ["8", 0], "seed": 99, "steps": 12, "cfg": 4.0, "sampler_name": "euler",
                       "scheduler": "normal", "denoise": 0.4, "positive": ["6", 0], "negative": ["7", 0]},
        },
        "9": {"class_type": "SaveImage", "inputs": {"images": ["12", 0]}},
    }  # fmt: skip
    info = read(_comfy_png(graph))
    assert info is not None and (info.prompt, info.seed, info.steps) == ("a cat", 1, 30)
    assert info.notes == ("2 samplers in the graph; read node 3 (KSampler)",)


@pytest.mark.parametrize("options", [{"lossless": True}, {"quality": 80}], ids=["lossless", "lossy"])
def test_write_into_animated_webp_keeps_every_frame(options: dict[str, Any]) -> None:
    from PIL import ImageSequence

    from naiprompt.metadata import write

    frames = [Image.new("RGBA", (16, 16), (40 * i, 10, 200, 128 + i)) for i in range(3)]
    source = saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50, **options)
    written = write(source, "猫 cat\nSteps: 20, Seed: 1, Size: 16x16")

    def pixels(data: bytes) -> list[bytes]:
        with Image.open(io.BytesIO(data)) as image:
            return [frame.convert("RGBA").tobytes() for frame in ImageSequence.Iterator(image)]

    assert pixels(written) == pixels(source) and len(pixels(written)) == 3
    info = read(written)
    assert info is not None and (info.prompt, info.seed, list(info.raw)) == ("猫 cat", 1, ["exif:UserComment"])


def test_comfy_string_nodes_that_double_their_text_are_capped() -> None:
    # Each concatenation joins the previous one with itself: 2**200 characters uncapped.
    from naiprompt.metadata.comfyui import MAX_TEXT_CHARS

    graph: dict[str, Any] = {
        f"t{i}": {
            "class_type": "StringConcatenate",
            "inputs": {"string_a": [f"t{i - 1}", 0] if i else "ab", "string_b": [f"t{i - 1}", 0] if i else "cd"},
        }
        for i in range(200)
    }
    graph |= {f"e{i}": {"class_type": "CLIPTextEncode", "inputs": {"text": ["t199", 0]}} for i in range(50)}
    graph |= {
        f"c{i}": {"class_type": "ConditioningCombine",
                  "inputs": {"conditioning_1": [f"c{i - 1}", 0] if i else ["e0", 0], "conditioning_2": [f"e{i}", 0]}}
        for i in range(50)
    }  # fmt: skip
    graph["k"] = {"class_type": "KSampler", "inputs": {"positive": ["c49", 0], "negative": ["e0", 0], "steps": 1}}
    info = read(_comfy_png(graph))
    assert info is not None and info.prompt.startswith("abcdabcd")
    assert MAX_TEXT_CHARS <= len(info.prompt) <= MAX_TEXT_CHARS + 50  # the cap, plus newlines between encoders
