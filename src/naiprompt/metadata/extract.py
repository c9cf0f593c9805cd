"""From the metadata texts of one image (keyed by carrier) to a :class:`GenerationInfo`.

The order of the checks is the order in which the formats can be told apart:
NovelAI's chunks, then an infotext or a JSON document in "parameters"
(A1111 and its forks, Fooocus, SwarmUI), InvokeAI's chunks, ComfyUI's graphs,
then EXIF texts, comments and stealth data.

Example:
    >>> raw = {"png:parameters": "a cat\\nNegative prompt: dog\\nSteps: 20, Sampler: Euler, Size: 512x768"}
    >>> info = interpret(raw, size=None)
    >>> info.generator, info.prompt, info.negative, info.width
    ('a1111', 'a cat', 'dog', 512)
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

import attrs

from naiprompt.defaults import A1111, COMFYUI, GENERATOR_DIALECTS, INVOKEAI
from naiprompt.metadata import comfyui, invokeai, novelai
from naiprompt.metadata._json import as_float, as_int, load_object, raw_value
from naiprompt.metadata.infotext import infotext_items, parse_infotext, split_infotext
from naiprompt.metadata.model import GenerationInfo

__all__ = ["from_infotext", "interpret"]

_PAIR = re.compile(r"^\s*\(?\s*(\d+)\s*[,x×*]\s*(\d+)\s*\)?\s*$")
_INVOKE_NEGATIVE = re.compile(r"\[([^\[\]]*)\]")
#: Carriers UIs use for generation data: text found there that no reader understands gives "unknown".
_GENERATION_CARRIERS = frozenset(
    {
        "png:parameters",
        "png:prompt",
        "png:workflow",
        "png:Comment",
        "png:invokeai_metadata",
        "png:sd-metadata",
        "png:Dream",
        "png:invokeai_graph",
        "png:invokeai_workflow",
        "exif:UserComment",
        "stealth",
    }
)


def _wh(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        width, height = as_int(value[0]), as_int(value[1])
        return (width, height) if width is not None and height is not None else None
    match = _PAIR.match(value) if isinstance(value, str) and len(value) < 50 else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def from_infotext(
    text: str,
    *,
    raw: dict[str, str],
    size: tuple[int, int] | None,
    software: str | None = None,
    generator: str = A1111,
    notes: tuple[str, ...] = (),
) -> GenerationInfo:
    """A :class:`GenerationInfo` from a WebUI infotext: prompt and negative as WebUI parses them.

    ``parameters`` holds the parameters line's items, unquoted, ``WxH`` values whole.

    Example:
        >>> info = from_infotext("cat\\nSteps: 20, CFG scale: 7.5, Seed: 1, Size: 640x480", raw={}, size=None)
        >>> info.cfg_scale, info.seed, info.size, info.parameters["Size"]
        (7.5, 1, (640, 480), '640x480')
    """
    parsed = parse_infotext(text)
    _, _, line = split_infotext(text)
    items = infotext_items(line)
    dims = _wh(items.get("Size", "")) or size
    return GenerationInfo(
        generator=generator,
        software=software if software is not None else _infotext_software(items),
        prompt=parsed["Prompt"],
        negative=parsed["Negative prompt"],
        dialect=GENERATOR_DIALECTS[A1111],
        parameters=items,
        raw=raw,
        steps=as_int(items.get("Steps")),
        sampler=items.get("Sampler"),
        cfg_scale=as_float(items.get("CFG scale")),
        seed=as_int(items.get("Seed")),
        width=dims[0] if dims else None,
        height=dims[1] if dims else None,
        notes=notes,
    )


def _infotext_software(items: Mapping[str, str]) -> str | None:
    # SD.Next names itself in "App"; WebUI and Forge give their version ("v1.10.1", "f2.0.1v1.10.1-...").
    app, version = items.get("App"), items.get("Version")
    if app and version:
        return f"{app} {version}"
    return app or version


def _first(obj: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if obj.get(key) is not None:
            return obj[key]
    return None


def _from_json(
    obj: Mapping[str, Any],
    *,
    generator: str,
    raw: dict[str, str],
    size: tuple[int, int] | None,
    software: str | None,
    dialect: str = GENERATOR_DIALECTS[A1111],
    prompt_keys: tuple[str, ...],
    negative_keys: tuple[str, ...],
) -> GenerationInfo:
    prompt = _first(obj, *prompt_keys)
    negative = _first(obj, *negative_keys)
    dims = _wh(_first(obj, "resolution", "Resolution", "size")) or (
        (as_int(_first(obj, "width", "Width")), as_int(_first(obj, "height", "Height")))
    )
    width, height = dims
    if (width is None or height is None) and size is not None:
        width, height = size
    sampler = _first(obj, "sampler", "sampler_name", "Sampler", "scheduler")
    return GenerationInfo(
        generator=generator,
        software=software,
        prompt=prompt if isinstance(prompt, str) else "",
        negative=negative if isinstance(negative, str) else "",
        dialect=dialect,
        parameters={key: raw_value(value) for key, value in obj.items()},
        raw=raw,
        steps=as_int(_first(obj, "steps", "Steps")),
        sampler=sampler if isinstance(sampler, str) else None,
        cfg_scale=as_float(_first(obj, "guidance_scale", "cfg_scale", "cfgscale", "cfg", "CFG scale", "scale")),
        seed=as_int(_first(obj, "seed", "Seed")),
        width=width,
        height=height,
    )


def _swarm(obj: Mapping[str, Any], raw: dict[str, str], size: tuple[int, int] | None) -> GenerationInfo:
    params = obj.get("sui_image_params")
    params = params if isinstance(params, dict) else {}
    version = params.get("swarm_version")
    return _from_json(
        params,
        generator="swarmui",
        raw=raw,
        size=size,
        software=f"SwarmUI {version}" if isinstance(version, str) else "SwarmUI",
        prompt_keys=("prompt",),
        negative_keys=("negativeprompt", "negative_prompt"),
    )


def _fooocus(obj: Mapping[str, Any], raw: dict[str, str], size: tuple[int, int] | None) -> GenerationInfo:
    version = _first(obj, "version", "software", "Version")
    return _from_json(
        obj,
        generator="fooocus",
        raw=raw,
        size=size,
        software=str(version) if version is not None else "Fooocus",
        prompt_keys=("prompt", "Prompt"),
        negative_keys=("negative_prompt", "Negative", "negative"),
    )


def _split_invoke_prompt(text: str) -> tuple[str, str]:
    # InvokeAI 2.x writes the negative prompt in square brackets inside the prompt.
    negatives = [part.strip() for part in _INVOKE_NEGATIVE.findall(text)]
    positive = _INVOKE_NEGATIVE.sub("", text)
    return " ".join(positive.split()) if negatives else text, ", ".join(n for n in negatives if n)


def _dream(text: str, raw: dict[str, str], size: tuple[int, int] | None) -> GenerationInfo:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    prompt_text = words[0] if words else ""
    options: dict[str, str] = {}
    for flag, value in itertools.pairwise(words[1:]):
        if flag.startswith("-") and not value.startswith("-"):
            options.setdefault(flag, value)
    prompt, negative = _split_invoke_prompt(prompt_text)
    width, height = as_int(options.get("-W")), as_int(options.get("-H"))
    if (width is None or height is None) and size is not None:
        width, height = size
    return GenerationInfo(
        generator=INVOKEAI,
        software="InvokeAI",
        prompt=prompt,
        negative=negative,
        dialect=GENERATOR_DIALECTS[INVOKEAI],
        parameters=options,
        raw=raw,
        steps=as_int(options.get("-s")),
        sampler=options.get("-A"),
        cfg_scale=as_float(options.get("-C")),
        seed=as_int(options.get("-S")),
        width=width,
        height=height,
    )


def _invokeai(png: Mapping[str, str], raw: dict[str, str], size: tuple[int, int] | None) -> GenerationInfo | None:
    meta = load_object(png.get("invokeai_metadata"))
    if meta is not None:
        version = meta.get("app_version")
        return _from_json(
            meta,
            generator=INVOKEAI,
            raw=raw,
            size=size,
            software=f"InvokeAI {version}" if isinstance(version, str) else "InvokeAI",
            dialect=GENERATOR_DIALECTS[INVOKEAI],
            prompt_keys=("positive_prompt",),
            negative_keys=("negative_prompt",),
        )
    legacy = load_object(png.get("sd-metadata"))
    if legacy is not None:
        image = legacy.get("image")
        image = image if isinstance(image, dict) else {}
        prompt = image.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
        positive, negative = _split_invoke_prompt(prompt if isinstance(prompt, str) else "")
        base = _from_json(
            image,
            generator=INVOKEAI,
            raw=raw,
            size=size,
            software=str(legacy.get("app_version") or "InvokeAI"),
            dialect=GENERATOR_DIALECTS[INVOKEAI],
            prompt_keys=(),
            negative_keys=(),
        )
        return attrs.evolve(base, prompt=positive, negative=negative)
    if "Dream" in png:
        return _dream(png["Dream"], raw, size)
    for key in ("invokeai_graph", "invokeai_workflow"):  # made without a metadata node: the graph only
        graph = load_object(png.get(key))
        settings = invokeai.graph_settings(graph) if graph is not None else {}
        if settings:
            found = _from_json(
                settings,
                generator=INVOKEAI,
                raw=raw,
                size=size,
                software="InvokeAI",
                dialect=GENERATOR_DIALECTS[INVOKEAI],
                prompt_keys=("positive_prompt",),
                negative_keys=("negative_prompt",),
            )
            return attrs.evolve(found, notes=(f"no invokeai_metadata: prompts read from {key}",))
    if "invokeai_graph" in png or "invokeai_workflow" in png:
        return GenerationInfo(
            generator=INVOKEAI,
            software="InvokeAI",
            dialect=GENERATOR_DIALECTS[INVOKEAI],
            raw=raw,
            width=size[0] if size else None,
            height=size[1] if size else None,
            notes=("InvokeAI graph without a prompt naiprompt could follow",),
        )
    return None


def _graph_of(text: str | None) -> tuple[str, dict[str, Any]] | None:
    """("prompt", API graph) or ("workflow", UI graph) from a text with or without a ``prompt:`` prefix."""
    if not text:
        return None
    stripped = text.strip().strip("\0")
    head, sep, rest = stripped.partition(":")
    if sep and head.lower() in ("prompt", "workflow") and not stripped.startswith("{"):
        stripped = rest
    obj = load_object(stripped)
    if obj is None:
        return None
    if isinstance(obj.get("nodes"), list):
        return "workflow", obj
    nodes = sum(1 for v in obj.values() if isinstance(v, dict) and "class_type" in v)
    if nodes and 2 * nodes >= len(obj):  # an API graph (a stray non-node entry is tolerated)
        return "prompt", obj
    return None


def _comfy_graphs(raw: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    graphs: dict[str, dict[str, Any]] = {}
    candidates = [raw.get("png:prompt"), raw.get("png:workflow")]
    candidates += [raw.get(f"exif:{tag}") for tag in ("Model", "Make", "ImageDescription", "UserComment")]
    container = load_object(raw.get("exif:UserComment")) or {}
    for key in ("prompt", "workflow"):
        value = container.get(key)
        candidates.append(json.dumps(value) if isinstance(value, dict) else value if isinstance(value, str) else None)
    for text in candidates:
        found = _graph_of(text)
        if found is not None:
            graphs.setdefault(found[0], found[1])
    return graphs


def _comfy(graphs: dict[str, dict[str, Any]], raw: dict[str, str], size: tuple[int, int] | None) -> GenerationInfo:
    found = comfyui.walk(graphs["prompt"]) if "prompt" in graphs else None
    if (found is None or found.prompt is None) and "workflow" in graphs:
        from_ui = comfyui.walk(comfyui.api_from_workflow(graphs["workflow"]))
        if found is None or from_ui.prompt is not None:
            found = from_ui
    assert found is not None
    params = found.parameters
    width, height = as_int(params.get("width")), as_int(params.get("height"))
    if (width is None or height is None) and size is not None:
        width, height = size
    sampler = params.get("sampler_name")
    return GenerationInfo(
        generator=COMFYUI,
        software="ComfyUI",
        prompt=found.prompt or "",
        negative=found.negative or "",
        dialect=GENERATOR_DIALECTS[COMFYUI],
        parameters={key: raw_value(value) for key, value in params.items()},
        raw=raw,
        steps=as_int(params.get("steps")),
        sampler=sampler if isinstance(sampler, str) else None,
        cfg_scale=as_float(params.get("cfg")),
        seed=as_int(params.get("seed", params.get("noise_seed"))),
        width=width,
        height=height,
        notes=found.notes,
    )


def _has_parameters_line(text: str) -> bool:
    return bool(split_infotext(text)[2])


def _from_text(
    text: str, raw: dict[str, str], size: tuple[int, int] | None, software: str | None, *, loose: bool
) -> GenerationInfo | None:
    """A text that may be an infotext or a JSON document of a known UI."""
    obj = load_object(text)
    if obj is not None:
        if "sui_image_params" in obj:
            return _swarm(obj, raw, size)
        if novelai.is_novelai(obj) or ("Comment" in obj and "Description" in obj):
            return novelai.from_fields(obj, raw=raw, size=size)
        if novelai.is_comment(obj):  # a bare Comment JSON (the other chunks stripped)
            return novelai.from_fields({"Comment": obj}, raw=raw, size=size)
        if ("prompt" in obj or "Prompt" in obj) and not _graph_of(text):
            return _fooocus(obj, raw, size)
        return None
    if loose or _has_parameters_line(text):
        return from_infotext(text, raw=raw, size=size, software=software)
    return None


def interpret(raw: dict[str, str], *, size: tuple[int, int] | None) -> GenerationInfo | None:
    """The generation info of an image from its metadata texts, or None when none of them is one.

    Example:
        >>> interpret({"png:date:create": "2024-01-01"}, size=(1, 1)) is None
        True
    """
    png = {key[4:]: value for key, value in raw.items() if key.startswith("png:")}
    software: str | None = png.get("Software") or raw.get("exif:Software")
    if novelai.is_novelai(png):
        return novelai.from_fields(png, raw=raw, size=size)
    if "parameters" in png:
        text = png["parameters"]
        obj = load_object(text)
        if obj is not None and "fooocus_scheme" in png:
            return _fooocus(obj, raw, size)
        found = _from_text(text, raw, size, software, loose=True)
        if found is not None:
            return found
    invoke = _invokeai(png, raw, size)
    if invoke is not None:
        return invoke
    graphs = _comfy_graphs(raw)
    if graphs:
        return _comfy(graphs, raw, size)
    comment = raw.get("exif:UserComment")
    if comment and comment.strip():
        found = _from_text(comment, raw, size, software, loose=True)
        if found is not None:
            return found
    description = raw.get("exif:ImageDescription")
    if description and raw.get("exif:Software", "").strip() == "NovelAI":
        fields = {"Description": description, "Software": "NovelAI"}
        return novelai.from_fields(fields, raw=raw, size=size)
    for key in (
        "stealth", "jpeg:comment", "gif:comment", "webp:comment", "png:Comment", "png:Description",
        "exif:ImageDescription", "exif:XPComment",
    ):  # fmt: skip
        candidate = raw.get(key)
        if candidate and candidate.strip():
            found = _from_text(candidate, raw, size, software, loose=key == "stealth")
            if found is not None:
                return found
    unread = [key for key in raw if key in _GENERATION_CARRIERS and raw[key].strip()]
    if unread:  # a carrier UIs use for generation data, in a shape naiprompt does not know
        prompt = next((t for t in (png.get("prompt"), png.get("Description")) if t and load_object(t) is None), "")
        return GenerationInfo(
            generator="unknown",
            software=software,
            prompt=prompt,
            raw=raw,
            width=size[0] if size else None,
            height=size[1] if size else None,
            notes=(f"unrecognised generation metadata in {', '.join(unread)}",),
        )
    return None
