"""Any :class:`GenerationInfo` as a WebUI infotext, a NovelAI Comment or a minimal ComfyUI API graph.

Prompts are converted by value with naiprompt's own converter
(:func:`naiprompt.convert`); sampler and scheduler names are mapped between the
UIs' vocabularies (NovelAI's ``k_dpmpp_2m_sde`` is WebUI's "DPM++ 2M SDE", not
WebUI's own fallback "Euler a"). What the target cannot express (NovelAI V4
characters in WebUI) follows the usual ``errors`` policy.

Example:
    >>> from naiprompt.metadata.model import GenerationInfo
    >>> info = GenerationInfo(generator="novelai", prompt="{cat}", negative="lowres", dialect="nai",
    ...                       steps=28, sampler="k_dpmpp_2m_sde", cfg_scale=5.0, seed=7, width=832, height=1216)
    >>> print(to_infotext(info))
    (cat:1.05)
    Negative prompt: lowres
    Steps: 28, Sampler: DPM++ 2M SDE, CFG scale: 5.0, Seed: 7, Size: 832x1216, Clip skip: 2, ENSD: 31337
"""

from __future__ import annotations

import json
from typing import Any

from naiprompt.defaults import A1111, COMFYUI, GENERATOR_DIALECTS, INVOKEAI, NOVELAI, NOVELAI_DIALECTS
from naiprompt.errors import ConversionError, ErrorLevel, warn
from naiprompt.metadata._json import as_float, as_int
from naiprompt.metadata.infotext import format_infotext
from naiprompt.metadata.model import GenerationInfo
from naiprompt.metadata.novelai import SAMPLERS_TO_WEBUI, SCHEDULES_TO_WEBUI

__all__ = ["to_comfy", "to_infotext", "to_novelai"]

#: ComfyUI sampler names -> WebUI sampler names.
COMFY_SAMPLERS_TO_WEBUI: dict[str, str] = {
    "euler": "Euler",
    "euler_ancestral": "Euler a",
    "heun": "Heun",
    "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a",
    "lms": "LMS",
    "dpm_fast": "DPM fast",
    "dpm_adaptive": "DPM adaptive",
    "dpmpp_2s_ancestral": "DPM++ 2S a",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_3m_sde": "DPM++ 3M SDE",
    "ddim": "DDIM",
    "uni_pc": "UniPC",
    "lcm": "LCM",
    "restart": "Restart",
}
#: ComfyUI scheduler names -> WebUI "Schedule type" labels ("normal" is WebUI's "Automatic").
COMFY_SCHEDULERS_TO_WEBUI: dict[str, str] = {
    "karras": "Karras",
    "exponential": "Exponential",
    "sgm_uniform": "SGM Uniform",
    "simple": "Simple",
    "ddim_uniform": "DDIM",
    "beta": "Beta",
    "kl_optimal": "KL Optimal",
    "polyexponential": "Polyexponential",
}
#: InvokeAI scheduler names (without the "_k" Karras suffix) -> WebUI sampler names.
INVOKE_SCHEDULERS_TO_WEBUI: dict[str, str] = {
    "euler": "Euler",
    "euler_a": "Euler a",
    "heun": "Heun",
    "lms": "LMS",
    "ddim": "DDIM",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_2s": "DPM++ 2S a",
    "kdpm_2": "DPM2",
    "kdpm_2_a": "DPM2 a",
    "unipc": "UniPC",
    "lcm": "LCM",
}
_WEBUI_TO_COMFY = {webui: comfy for comfy, webui in COMFY_SAMPLERS_TO_WEBUI.items()}
_WEBUI_SCHEDULE_TO_COMFY = {webui: comfy for comfy, webui in COMFY_SCHEDULERS_TO_WEBUI.items()}
_WEBUI_TO_NAI = {webui: nai for nai, webui in SAMPLERS_TO_WEBUI.items() if nai != "ddim"}
_WEBUI_SCHEDULE_TO_NAI = {webui: nai for nai, webui in SCHEDULES_TO_WEBUI.items()}


def _convert(text: str, source: str, target: str, errors: ErrorLevel | str) -> str:
    if source == target or not text:
        return text
    from naiprompt.api import convert
    from naiprompt.dialects import get_dialect

    try:
        get_dialect(source)
    except (KeyError, LookupError, ValueError):
        return text  # a syntax naiprompt has no dialect for (InvokeAI's compel): passed through as is
    return convert(text, source, target, errors=errors)


#: Keys whose raw values to_infotext copies, per generator.
_RAW_KEYS: dict[str, dict[str, str]] = {
    NOVELAI: {"Steps": "steps", "CFG scale": "scale", "Seed": "seed"},
    COMFYUI: {"Steps": "steps", "CFG scale": "cfg", "Seed": "seed"},
}


def _lossy(detail: str, errors: ErrorLevel | str) -> None:
    level = ErrorLevel(errors)
    if level is ErrorLevel.RAISE:
        raise ConversionError("characters", detail, None, None)
    if level is ErrorLevel.WARN:
        warn(detail, "lossy-conversion")


def _number(value: float | None) -> str | None:
    return None if value is None else repr(value)


def _split_old_sampler(name: str) -> tuple[str, str | None]:
    # WebUI before 1.9 wrote the scheduler into the sampler name ("DPM++ 2M Karras").
    for label in ("Karras", "Exponential", "SGM Uniform", "Polyexponential"):
        if name.endswith(" " + label):
            return name[: -len(label) - 1], label
    return name, None


def _webui_sampler(info: GenerationInfo, convert: bool) -> tuple[str | None, str | None]:
    """``(Sampler, Schedule type)`` in WebUI's names."""
    sampler = info.sampler
    if not convert or sampler is None:
        return sampler, None
    params = info.parameters
    if info.generator == NOVELAI:
        schedule = SCHEDULES_TO_WEBUI.get(params.get("noise_schedule", ""))
        return SAMPLERS_TO_WEBUI.get(sampler, sampler), schedule
    if info.generator in (COMFYUI, "fooocus", "swarmui"):  # ComfyUI's sampler names (Fooocus, SwarmUI run on it)
        name = sampler[:-4] if sampler.endswith("_gpu") else sampler
        return COMFY_SAMPLERS_TO_WEBUI.get(name, sampler), COMFY_SCHEDULERS_TO_WEBUI.get(params.get("scheduler", ""))
    if info.generator == INVOKEAI and sampler in SAMPLERS_TO_WEBUI:  # InvokeAI 2 used k-diffusion's names
        return SAMPLERS_TO_WEBUI[sampler], None
    if info.generator == INVOKEAI:  # diffusers schedulers; "_k" means Karras sigmas
        base, karras = (sampler[:-2], "Karras") if sampler.endswith("_k") else (sampler, None)
        return INVOKE_SCHEDULERS_TO_WEBUI.get(base, sampler), karras if base in INVOKE_SCHEDULERS_TO_WEBUI else None
    return sampler, None


def to_infotext(info: GenerationInfo, *, convert: bool = True, errors: ErrorLevel | str = "warn") -> str:
    """The generation info as a WebUI infotext: what to paste into WebUI's PNG Info or prompt box.

    An A1111 info is written back with its own parameters. For the other UIs,
    with ``convert`` the prompts are converted to WebUI syntax by value and the
    sampler names mapped to WebUI's; NovelAI images get ``Clip skip: 2`` and
    ``ENSD: 31337`` as WebUI's own import does. NovelAI V4 characters, which
    WebUI cannot express, are reported under ``errors`` and left out.

    Example:
        >>> from naiprompt.metadata.model import GenerationInfo
        >>> info = GenerationInfo(generator="comfyui", prompt="(cat:1.2)", dialect="comfy", steps=20,
        ...                       sampler="dpmpp_2m", parameters={"scheduler": "karras"}, seed=1)
        >>> to_infotext(info)
        '(cat:1.2)\\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, Seed: 1'
    """
    target = GENERATOR_DIALECTS[A1111]  # an infotext holds WebUI syntax
    if info.generator == A1111 and info.dialect == target:
        return format_infotext(info.prompt, info.negative, info.parameters)
    prompt, negative = info.prompt, info.negative
    if convert:
        prompt = _convert(prompt, info.dialect, target, errors)
        negative = _convert(negative, info.dialect, target, errors)
    if info.characters:
        _lossy(
            f"WebUI cannot express NovelAI V4 characters: {len(info.characters)} character prompt(s) left out",
            errors,
        )
    sampler, schedule = _webui_sampler(info, convert)
    # The UI's own spelling of the numbers where it has one ("scale": 5 stays "5", as in WebUI's own import).
    own = _RAW_KEYS.get(info.generator, {})
    raw = {name: info.parameters.get(key) for name, key in own.items()}
    params: dict[str, Any] = {
        "Steps": raw.get("Steps") or info.steps,
        "Sampler": sampler,
        "Schedule type": schedule,
        "CFG scale": raw.get("CFG scale") or _number(info.cfg_scale),
        "Seed": raw.get("Seed") or info.seed,
        "Size": f"{info.width}x{info.height}" if info.size else None,
    }
    model = _model_name(info)
    params["Model"] = model.rsplit(".", 1)[0] if model and model.endswith((".safetensors", ".ckpt")) else model
    if info.generator == COMFYUI:
        denoise = as_float(info.parameters.get("denoise"))
        params["Denoising strength"] = _number(denoise) if denoise is not None and denoise < 1 else None
        layer = as_int(info.parameters.get("stop_at_clip_layer"))
        params["Clip skip"] = -layer if layer is not None and layer < -1 else None
    clip_skip = as_int(info.parameters.get("clip_skip"))  # Fooocus
    if clip_skip is not None and clip_skip > 1:
        params["Clip skip"] = clip_skip
    if info.generator == NOVELAI:
        params["Clip skip"] = 2
        params["ENSD"] = 31337
    return format_infotext(prompt, negative, params)


def _model_name(info: GenerationInfo) -> str | None:
    params = info.parameters
    for key in ("ckpt_name", "base_model", "model", "Model"):
        value = params.get(key)
        if value and not value.startswith("{"):
            return value
    model = params.get("model")
    if model:  # InvokeAI: {"model_name": ...} or {"name": ...}
        try:
            parsed = json.loads(model)
        except ValueError:
            return None
        name = parsed.get("model_name") or parsed.get("name") if isinstance(parsed, dict) else None
        return name if isinstance(name, str) else None
    return None


def _infotext_clip_skip(info: GenerationInfo) -> int:
    if info.generator == NOVELAI:
        return 2
    if info.generator == COMFYUI:
        layer = as_int(info.parameters.get("stop_at_clip_layer"))
        return -layer if layer is not None and layer < 0 else 1
    skip = as_int(info.parameters.get("Clip skip") or info.parameters.get("clip_skip"))
    return skip if skip is not None and skip > 0 else 1


def to_novelai(
    info: GenerationInfo,
    *,
    convert: bool = True,
    dialect: str = GENERATOR_DIALECTS[NOVELAI],
    errors: ErrorLevel | str = "warn",
) -> str:
    """The info as the Comment JSON NovelAI writes (``dialect`` "nai4": with V4's ``v4_prompt`` blocks).

    Example:
        >>> from naiprompt.metadata.model import GenerationInfo
        >>> info = GenerationInfo(generator="a1111", prompt="(cat:1.1025)", steps=28, sampler="Euler a",
        ...                       cfg_scale=5.0, seed=3, width=832, height=1216)
        >>> comment = json.loads(to_novelai(info, dialect="nai"))
        >>> comment["prompt"], comment["sampler"], comment["scale"], comment["width"]
        ('{{cat}}', 'k_euler_ancestral', 5.0, 832)
    """
    v3, v4 = NOVELAI_DIALECTS
    if dialect not in NOVELAI_DIALECTS:
        raise ValueError(f"dialect must be {v3!r} or {v4!r}, not {dialect!r}")
    prompt, negative = info.prompt, info.negative
    if convert and info.generator != NOVELAI:
        prompt = _convert(prompt, info.dialect, dialect, errors)
        negative = _convert(negative, info.dialect, dialect, errors)
    sampler = info.sampler
    noise_schedule = "native"
    if info.generator == NOVELAI:
        noise_schedule = info.parameters.get("noise_schedule", "native")
    elif convert and sampler is not None:
        webui_sampler, schedule = _webui_sampler(info, True)
        base, old_schedule = _split_old_sampler(webui_sampler or sampler)
        schedule = schedule or old_schedule or info.parameters.get("Schedule type")
        sampler = _WEBUI_TO_NAI.get(base, sampler)
        noise_schedule = _WEBUI_SCHEDULE_TO_NAI.get(schedule or "", "native")
    comment: dict[str, Any] = {
        "prompt": prompt,
        "steps": info.steps,
        "height": info.height,
        "width": info.width,
        "scale": info.cfg_scale,
        "seed": info.seed,
        "n_samples": 1,
        "sampler": sampler,
        "noise_schedule": noise_schedule,
        "uc": negative,
    }
    if dialect == v4:
        chars = info.characters
        centers = [[{"x": c.center[0], "y": c.center[1]}] if c.center else [{"x": 0.5, "y": 0.5}] for c in chars]
        comment["v4_prompt"] = {
            "caption": {
                "base_caption": prompt,
                "char_captions": [
                    {"char_caption": c.prompt, "centers": ctr} for c, ctr in zip(chars, centers, strict=True)
                ],
            },
            "use_coords": any(c.center is not None for c in chars),
            "use_order": True,
        }
        comment["v4_negative_prompt"] = {
            "caption": {
                "base_caption": negative,
                "char_captions": [
                    {"char_caption": c.negative, "centers": ctr} for c, ctr in zip(chars, centers, strict=True)
                ],
            },
            "legacy_uc": False,
        }
    elif info.characters:
        _lossy("NovelAI V3 cannot express V4 characters: they are left out", errors)
    return json.dumps({key: value for key, value in comment.items() if value is not None}, ensure_ascii=False)


def to_comfy(info: GenerationInfo, *, convert: bool = True, errors: ErrorLevel | str = "warn") -> dict[str, Any]:
    """A minimal ComfyUI API graph that regenerates the image's settings.

    Checkpoint loader, CLIP skip as a ``CLIPSetLastLayer`` node, two text
    encoders, an empty latent, ``KSampler``, VAE decode and save; prompts
    converted to ComfyUI's syntax with ``convert``.

    Example:
        >>> from naiprompt.metadata.model import GenerationInfo
        >>> info = GenerationInfo(generator="a1111", prompt="cat", sampler="DPM++ 2M Karras", steps=20,
        ...                       cfg_scale=7.0, seed=1, width=512, height=512,
        ...                       parameters={"Clip skip": "2", "Model": "anything-v3"})
        >>> graph = to_comfy(info)
        >>> graph["3"]["inputs"]["sampler_name"], graph["3"]["inputs"]["scheduler"]
        ('dpmpp_2m', 'karras')
        >>> graph["10"]["inputs"]["stop_at_clip_layer"], graph["4"]["inputs"]["ckpt_name"]
        (-2, 'anything-v3.safetensors')
    """
    prompt, negative = info.prompt, info.negative
    if convert:
        target = GENERATOR_DIALECTS[COMFYUI]
        prompt = _convert(prompt, info.dialect, target, errors)
        negative = _convert(negative, info.dialect, target, errors)
    if info.characters:
        _lossy("ComfyUI's text encoders cannot express NovelAI V4 characters: they are left out", errors)
    sampler_name, scheduler = "euler", "normal"
    if info.generator == COMFYUI:
        sampler_name = info.sampler or sampler_name
        scheduler = info.parameters.get("scheduler", scheduler)
        ckpt = info.parameters.get("ckpt_name", "model.safetensors")
    else:
        webui_sampler, schedule = _webui_sampler(info, True)
        base, old_schedule = _split_old_sampler(webui_sampler or "Euler")
        sampler_name = _WEBUI_TO_COMFY.get(base, sampler_name)
        schedule = schedule or old_schedule or info.parameters.get("Schedule type")
        scheduler = _WEBUI_SCHEDULE_TO_COMFY.get(schedule or "", scheduler)
        model = info.parameters.get("Model")
        ckpt = f"{model}.safetensors" if model else "model.safetensors"
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "10": {
            "class_type": "CLIPSetLastLayer",
            "inputs": {"stop_at_clip_layer": -_infotext_clip_skip(info), "clip": ["4", 1]},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["10", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": negative, "clip": ["10", 0]}},
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": info.width or 512, "height": info.height or 512, "batch_size": 1},
        },
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": info.seed if info.seed is not None else 0,
                "steps": info.steps or 20,
                "cfg": info.cfg_scale if info.cfg_scale is not None else 7.0,
                "sampler_name": sampler_name,
                "scheduler": scheduler,
                "denoise": 1.0,  # an empty latent: a txt2img pass
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "naiprompt", "images": ["8", 0]}},
    }
