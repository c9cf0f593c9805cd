"""What :func:`naiprompt.metadata.read` returns: :class:`GenerationInfo` and :class:`Character`.

Example:
    >>> info = GenerationInfo(generator="a1111", prompt="a cat", steps=20, width=512, height=768)
    >>> info.size
    (512, 768)
"""

from __future__ import annotations

import attrs

from naiprompt import defaults

__all__ = ["GENERATORS", "Character", "GenerationInfo"]

#: The generator families :attr:`GenerationInfo.generator` takes.
GENERATORS: tuple[str, ...] = defaults.GENERATORS


@attrs.frozen
class Character:
    """One NovelAI V4 character: its prompt, its negative and its position.

    ``center`` is ``(x, y)`` as fractions of the image (NovelAI's grid centres,
    0.1 to 0.9), or None when the file gives none.

    Example:
        >>> Character("1girl, red hair", "bad hands", (0.3, 0.5)).center
        (0.3, 0.5)
    """

    prompt: str
    negative: str = ""
    center: tuple[float, float] | None = None


@attrs.frozen
class GenerationInfo:
    """The generation settings found in one image, read by :func:`naiprompt.metadata.read`.

    ``generator`` is the family that wrote them ("a1111" for AUTOMATIC1111 and
    every UI that writes its infotext, "novelai", "comfyui", "invokeai",
    "fooocus", "swarmui", "unknown"); ``software`` the raw software string, if
    any; ``dialect`` the syntax of the prompt text ("webui", "nai", "nai4",
    "comfy", or "compel" for InvokeAI); ``parameters`` the UI's own keys and raw
    values in file order; ``characters`` NovelAI V4's characters; ``raw`` every
    metadata text found, keyed by carrier ("png:parameters", "png:Comment",
    "exif:UserComment", "stealth", ...). ``steps``, ``sampler`` (the UI's own
    name), ``cfg_scale``, ``seed``, ``width`` and ``height`` are typed
    conveniences, None when unknown. ``notes`` say what a reader chose or could
    not read (e.g. which of several ComfyUI samplers).

    Example:
        >>> info = GenerationInfo(generator="novelai", prompt="1girl", dialect="nai4", seed=42)
        >>> info.generator, info.seed, info.negative
        ('novelai', 42, '')
    """

    generator: str
    prompt: str = ""
    negative: str = ""
    dialect: str = defaults.DIALECT
    parameters: dict[str, str] = attrs.field(factory=dict)
    characters: tuple[Character, ...] = ()
    raw: dict[str, str] = attrs.field(factory=dict)
    software: str | None = None
    steps: int | None = None
    sampler: str | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` when both are known.

        Example:
            >>> GenerationInfo(generator="unknown", width=64).size is None
            True
        """
        if self.width is None or self.height is None:
            return None
        return (self.width, self.height)
