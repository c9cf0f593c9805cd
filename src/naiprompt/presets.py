"""NovelAI's server-side presets: the quality tags and the undesired-content (UC) presets.

NovelAI adds text the image depends on but the user never typed: with "Add
Quality Tags" on, a tag list is prepended (V1, V2) or appended (V3 and later);
the chosen UC preset is put before the user's negative prompt. A prompt copied
from NovelAI into another UI loses both unless they are added back, which
:func:`apply` does (and ``naiprompt.convert(..., nai_preset=...)``).

The strings are data, collected from public NovelAI clients (sources in
:data:`SOURCES` and in the conversion guide); each model version has its own.

Example:
    >>> apply("1girl, smile", "v3")
    '1girl, smile, best quality, amazing quality, very aesthetic, absurdres'
    >>> apply("1girl", "v1")
    'masterpiece, best quality, 1girl'
    >>> apply("blurry", "v1", negative=True)[:40]
    'lowres, bad anatomy, bad hands, text, er'
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MODELS", "SOURCES", "ModelPresets", "apply", "get"]


@dataclass(frozen=True)
class ModelPresets:
    """One NovelAI model version's quality tags and UC presets.

    ``prepend`` says where the quality tags go; ``uc`` maps preset names to their
    text, the first one being NovelAI's default.

    Example:
        >>> get("v4.5").quality
        'location, very aesthetic, masterpiece, no text'
    """

    model: str
    api_names: tuple[str, ...]
    quality: str
    prepend: bool
    uc: dict[str, str] = field(default_factory=dict)


_V1_LOW_QUALITY = (
    "lowres, text, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, "
    "username, blurry"
)
_MODERN_HEAVY = (
    "lowres, artistic error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, "
    "very displeasing, chromatic aberration, dithering, halftone, screentone, multiple views, logo, "
    "too many watermarks, negative space, blank page"
)

#: Every model version, by the short name :func:`get` takes.
MODELS: dict[str, ModelPresets] = {
    "v1": ModelPresets(
        model="NAI Diffusion Anime V1",
        api_names=("nai-diffusion", "safe-diffusion"),
        quality="masterpiece, best quality",
        prepend=True,
        uc={
            "low quality + bad anatomy": (
                "lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, "
                "cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, "
                "username, blurry"
            ),
            "low quality": _V1_LOW_QUALITY,
        },
    ),
    "v2": ModelPresets(
        model="NAI Diffusion Anime V2",
        api_names=("nai-diffusion-2",),
        quality="very aesthetic, best quality, absurdres",
        prepend=True,
        uc={
            "heavy": (
                "lowres, bad, text, error, missing, extra, fewer, cropped, jpeg artifacts, worst quality, "
                "bad quality, watermark, displeasing, unfinished, chromatic aberration, scan, scan artifacts"
            ),
            "light": "lowres, jpeg artifacts, worst quality, watermark, blurry, very displeasing",
        },
    ),
    "v3": ModelPresets(
        model="NAI Diffusion Anime V3",
        api_names=("nai-diffusion-3",),
        quality="best quality, amazing quality, very aesthetic, absurdres",
        prepend=False,
        uc={
            "heavy": (
                "lowres, {bad}, error, fewer, extra, missing, worst quality, jpeg artifacts, bad quality, "
                "watermark, unfinished, displeasing, chromatic aberration, signature, extra digits, "
                "artistic error, username, scan, [abstract]"
            ),
        },
    ),
    "v4": ModelPresets(
        model="NAI Diffusion V4 Full",
        api_names=("nai-diffusion-4-full",),
        quality="no text, best quality, very aesthetic, absurdres",
        prepend=False,
        uc={
            "heavy": (
                "blurry, lowres, error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, "
                "very displeasing, chromatic aberration, multiple views, logo, too many watermarks"
            ),
            "light": "blurry, lowres, error, worst quality, bad quality, jpeg artifacts, very displeasing",
        },
    ),
    "v4.5": ModelPresets(
        model="NAI Diffusion V4.5 Full",
        api_names=("nai-diffusion-4-5-full",),
        quality="location, very aesthetic, masterpiece, no text",
        prepend=False,
        uc={
            "heavy": _MODERN_HEAVY,
            "light": (
                "lowres, artistic error, scan artifacts, worst quality, bad quality, jpeg artifacts, "
                "multiple views, very displeasing, too many watermarks, negative space, blank page"
            ),
            "human focus": _MODERN_HEAVY + ", @_@, mismatched pupils, glowing eyes, bad anatomy",
        },
    ),
}

#: Where the strings were read (public clients of NovelAI's API; facts, no code).
SOURCES: dict[str, str] = {
    "quality tags V1-V3, V3 heavy UC": "Metachs/sdwebui-nai-api nai_api.py (quality toggle, ucPreset 0)",
    "V1 'Low Quality + Bad Anatomy'": "TapwaveZodiac/novelaiUKB wiki; animerl/novelai-2-local-prompt default negative",
    "V1 'Low Quality', V2 heavy/light": "aparmar/nai-api ImageGenerationRequest constants",
    "V4, V4.5 quality tags": "Metachs/sdwebui-nai-api qualPresets; LlmKira/novelai-python issue #109 (request body)",
    "V4, V4.5 UC presets": "public NovelAI web clients' preset tables (found by text search), agreeing with each other",
}

_ALIASES = {name: key for key, presets in MODELS.items() for name in (key, *presets.api_names)}
_ALIASES.update({"v4.5": "v4.5", "v45": "v4.5", "4.5": "v4.5", "1": "v1", "2": "v2", "3": "v3", "4": "v4"})


def get(model: str) -> ModelPresets:
    """The presets of ``model``: ``v1``, ``v2``, ``v3``, ``v4``, ``v4.5`` or an API model name.

    Example:
        >>> get("nai-diffusion-3").model
        'NAI Diffusion Anime V3'
        >>> get("v9")
        Traceback (most recent call last):
        ...
        ValueError: unknown NovelAI model 'v9'; choose one of v1, v2, v3, v4, v4.5
    """
    key = _ALIASES.get(model.strip().lower())
    if key is None:
        raise ValueError(f"unknown NovelAI model {model!r}; choose one of {', '.join(MODELS)}")
    return MODELS[key]


def apply(prompt: str, model: str, *, negative: bool = False, uc: str | None = None) -> str:
    """``prompt`` with what NovelAI adds for ``model``: quality tags, or with ``negative`` a UC preset.

    ``uc`` names the UC preset (default: the model's first, NovelAI's default).

    Example:
        >>> apply("", "v4")
        'no text, best quality, very aesthetic, absurdres'
        >>> apply("hat", "v2", negative=True, uc="light")
        'lowres, jpeg artifacts, worst quality, watermark, blurry, very displeasing, hat'
    """
    presets = get(model)
    if negative:
        name = uc if uc is not None else next(iter(presets.uc))
        if name not in presets.uc:
            raise ValueError(f"{presets.model} has no UC preset {name!r}; choose one of {', '.join(presets.uc)}")
        added, prepend = presets.uc[name], True
    else:
        added, prepend = presets.quality, presets.prepend
    body = prompt.strip().strip(",").strip()
    if not body:
        return added
    return f"{added}, {body}" if prepend else f"{body}, {added}"
