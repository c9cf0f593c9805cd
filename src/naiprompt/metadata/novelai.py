"""NovelAI's metadata: the text chunks (Description, Software, Source, Comment JSON) and V4 characters.

The same set of chunks arrives from PNG text chunks, from a WebP's EXIF
UserComment (a JSON object of the chunks) or from stealth data (the same JSON,
gzipped in the alpha channel).

Example:
    >>> fields = {"Software": "NovelAI", "Description": "1girl",
    ...           "Comment": '{"prompt": "1girl", "uc": "lowres", "steps": 28, "scale": 5.0}'}
    >>> info = from_fields(fields, raw={}, size=(832, 1216))
    >>> info.prompt, info.negative, info.steps, info.width
    ('1girl', 'lowres', 28, 832)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naiprompt.defaults import NOVELAI, NOVELAI_DIALECTS
from naiprompt.metadata._json import as_float, as_int, load_object, raw_value
from naiprompt.metadata.model import Character, GenerationInfo

__all__ = ["SAMPLERS_TO_WEBUI", "SCHEDULES_TO_WEBUI", "characters_of", "from_fields", "is_comment", "is_novelai"]

#: NovelAI sampler names -> WebUI sampler names (WebUI's own import maps unknown ones to "Euler a").
SAMPLERS_TO_WEBUI: dict[str, str] = {
    "k_euler": "Euler",
    "k_euler_ancestral": "Euler a",
    "k_dpmpp_2s_ancestral": "DPM++ 2S a",
    "k_dpmpp_2m": "DPM++ 2M",
    "k_dpmpp_2m_sde": "DPM++ 2M SDE",
    "k_dpmpp_sde": "DPM++ SDE",
    "k_dpm_2": "DPM2",
    "k_dpm_2_ancestral": "DPM2 a",
    "k_dpm_adaptive": "DPM adaptive",
    "k_dpm_fast": "DPM fast",
    "k_lms": "LMS",
    "k_heun": "Heun",
    "ddim": "DDIM",
    "ddim_v3": "DDIM",
    "plms": "PLMS",
}
#: NovelAI noise schedules -> WebUI "Schedule type" labels ("native" is the sampler's default).
SCHEDULES_TO_WEBUI: dict[str, str] = {
    "karras": "Karras",
    "exponential": "Exponential",
    "polyexponential": "Polyexponential",
}
_COMMENT_KEYS = frozenset({"uc", "steps", "scale", "sampler", "n_samples", "v4_prompt", "noise_schedule"})


def _comment(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    comment = fields.get("Comment")
    if isinstance(comment, dict):
        return comment
    return load_object(comment) if isinstance(comment, str) else None


def is_comment(obj: Mapping[str, Any]) -> bool:
    """Whether a JSON object looks like NovelAI's Comment (``uc`` or ``v4_prompt``, and more of its keys).

    Example:
        >>> is_comment({"prompt": "x", "uc": "y", "steps": 28}), is_comment({"prompt": "x", "steps": 28})
        (True, False)
    """
    return ("uc" in obj or "v4_prompt" in obj) and len(_COMMENT_KEYS & obj.keys()) >= 2


def is_novelai(fields: Mapping[str, Any]) -> bool:
    """Whether a set of text chunks was written by NovelAI (its Software tag, or its Comment's shape).

    Example:
        >>> is_novelai({"Software": "NovelAI"}), is_novelai({"Comment": "{}"})
        (True, False)
    """
    if str(fields.get("Software", "")).strip() == "NovelAI":
        return True
    comment = _comment(fields)
    return comment is not None and is_comment(comment)


def _captions(block: Any) -> tuple[str | None, list[tuple[str, tuple[float, float] | None]]]:
    caption = block.get("caption") if isinstance(block, dict) else None
    if not isinstance(caption, dict):
        return None, []
    base = caption.get("base_caption")
    chars: list[tuple[str, tuple[float, float] | None]] = []
    for entry in caption.get("char_captions") or []:
        if not isinstance(entry, dict):
            continue
        center: tuple[float, float] | None = None
        centers = entry.get("centers")
        if isinstance(centers, list) and centers and isinstance(centers[0], dict):
            x, y = as_float(centers[0].get("x")), as_float(centers[0].get("y"))
            if x is not None and y is not None:
                center = (x, y)
        chars.append((str(entry.get("char_caption", "")), center))
    return (base if isinstance(base, str) else None), chars


def characters_of(comment: Mapping[str, Any]) -> tuple[Character, ...]:
    """The V4 characters of a Comment JSON: prompts, negatives (by position) and centres.

    Example:
        >>> comment = {"v4_prompt": {"caption": {"base_caption": "2girls", "char_captions": [
        ...     {"char_caption": "girl, red hair", "centers": [{"x": 0.3, "y": 0.5}]}]}},
        ...     "v4_negative_prompt": {"caption": {"char_captions": [{"char_caption": "bad hands"}]}}}
        >>> characters_of(comment)
        (Character(prompt='girl, red hair', negative='bad hands', center=(0.3, 0.5)),)
    """
    _, positives = _captions(comment.get("v4_prompt"))
    _, negatives = _captions(comment.get("v4_negative_prompt"))
    out = []
    for index, (prompt, center) in enumerate(positives):
        negative = negatives[index][0] if index < len(negatives) else ""
        out.append(Character(prompt=prompt, negative=negative, center=center))
    return tuple(out)


def from_fields(fields: Mapping[str, Any], *, raw: dict[str, str], size: tuple[int, int] | None) -> GenerationInfo:
    """A :class:`GenerationInfo` from NovelAI's text chunks (values as strings, Comment as JSON text).

    Example:
        >>> from_fields({"Software": "NovelAI", "Description": "cat"}, raw={}, size=None).prompt
        'cat'
    """
    comment = _comment(fields) or {}
    base, _ = _captions(comment.get("v4_prompt"))
    prompt = comment.get("prompt")
    if not isinstance(prompt, str):
        prompt = base if base is not None else str(fields.get("Description", ""))
    negative = comment.get("uc")
    if not isinstance(negative, str):
        negative_base, _ = _captions(comment.get("v4_negative_prompt"))
        negative = negative_base or ""
    source = str(fields.get("Source", ""))
    v4 = "v4_prompt" in comment or " V4" in source
    width = as_int(comment.get("width"))
    height = as_int(comment.get("height"))
    if (width is None or height is None) and size is not None:
        width, height = size
    sampler = comment.get("sampler")
    software = fields.get("Software")
    return GenerationInfo(
        generator=NOVELAI,
        software=str(software) if software is not None else None,
        prompt=prompt,
        negative=negative,
        dialect=NOVELAI_DIALECTS[1 if v4 else 0],
        parameters={key: raw_value(value) for key, value in comment.items()},
        characters=characters_of(comment),
        raw=raw,
        steps=as_int(comment.get("steps")),
        sampler=sampler if isinstance(sampler, str) else None,
        cfg_scale=as_float(comment.get("scale")),
        seed=as_int(comment.get("seed")),
        width=width,
        height=height,
    )
