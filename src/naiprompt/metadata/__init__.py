"""Generation metadata in images: read any AI image's prompt and settings, convert them, write them back.

Reads AUTOMATIC1111 WebUI and its forks (the infotext), NovelAI (PNG chunks,
WebP EXIF, stealth data in the alpha channel, V4 characters), ComfyUI (API and
UI graphs), InvokeAI, Fooocus and SwarmUI, from PNG, JPEG, WebP and GIF files.
Needs the ``images`` extra (Pillow) only for stealth data, formats beyond those
four and Pillow images; the infotext functions are plain text.

Example:
    >>> from naiprompt import metadata
    >>> text = metadata.format_infotext("a cat", "blurry", {"Steps": 20, "Sampler": "Euler a"})
    >>> metadata.parse_infotext(text + ", Seed: 1")["Sampler"]
    'Euler a'
"""

from __future__ import annotations

from naiprompt.errors import MetadataError
from naiprompt.metadata.convert import to_comfy, to_infotext, to_novelai
from naiprompt.metadata.infotext import format_infotext, parse_infotext
from naiprompt.metadata.model import Character, GenerationInfo
from naiprompt.metadata.reader import read
from naiprompt.metadata.writer import write

__all__ = [
    "Character",
    "GenerationInfo",
    "MetadataError",
    "format_infotext",
    "parse_infotext",
    "read",
    "to_comfy",
    "to_infotext",
    "to_novelai",
    "write",
]
