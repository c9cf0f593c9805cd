"""``read``: the generation metadata of one image, from a path, bytes, a binary file or a Pillow image.

Example:
    >>> from naiprompt.metadata.png import add_text, tiny_png
    >>> png = add_text(tiny_png(), "parameters", "a cat\\nSteps: 20, Sampler: Euler a, Size: 1x1")
    >>> info = read(png)
    >>> info.generator, info.prompt, info.sampler, list(info.raw)
    ('a1111', 'a cat', 'Euler a', ['png:parameters'])
"""

from __future__ import annotations

import io
import os
from typing import IO, TYPE_CHECKING, Any, Union

import attrs

from naiprompt.defaults import NOVELAI
from naiprompt.errors import MetadataError
from naiprompt.metadata import containers, png
from naiprompt.metadata.exif import read_exif
from naiprompt.metadata.extract import interpret
from naiprompt.metadata.model import GenerationInfo

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["Source", "read", "read_texts"]

#: What :func:`read` accepts.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], "Image"]


def _load(source: Any) -> tuple[bytes | None, Any]:
    """``(file bytes, Pillow image)``: one of them is set."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                return handle.read(), None
        except OSError as exc:
            raise MetadataError(f"cannot read {os.fspath(source)!r}: {exc.strerror or exc}") from exc
    if hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise MetadataError("the file object must be opened in binary mode")
        return bytes(data), None
    if hasattr(source, "getchannel") and hasattr(source, "info"):
        return None, source
    raise TypeError(f"read() takes a path, bytes, a binary file or a PIL image, not {type(source).__name__}")


def _exif_texts(exif: bytes | None, raw: dict[str, str]) -> None:
    if exif:
        for name, text in read_exif(exif).items():
            raw[f"exif:{name}"] = text


def read_texts(data: bytes) -> tuple[dict[str, str], str | None, tuple[int, int] | None, bool]:
    """Every metadata text of an image file, keyed by carrier, with its format, size and alpha flag.

    Example:
        >>> from naiprompt.metadata.png import add_text, tiny_png
        >>> read_texts(add_text(tiny_png(), "Title", "x"))
        ({'png:Title': 'x'}, 'png', (1, 1), False)
    """
    kind = containers.sniff(data)
    raw: dict[str, str] = {}
    if kind == "png":
        chunks = png.read_chunks(data)
        for key, text, _ in chunks.texts:
            raw[f"png:{key}"] = text
        _exif_texts(chunks.exif, raw)
        return raw, kind, chunks.size, chunks.has_alpha
    if kind is None:
        return raw, None, None, False
    reader = {"jpeg": containers.read_jpeg, "webp": containers.read_webp, "gif": containers.read_gif}[kind]
    found = reader(data)
    _exif_texts(found.exif, raw)
    for index, comment in enumerate(found.comments):
        raw[f"{kind}:comment" if index == 0 else f"{kind}:comment{index + 1}"] = comment
    return raw, kind, found.size, found.has_alpha


def _pillow_texts(image: Any) -> dict[str, str]:
    raw: dict[str, str] = {}
    prefix = str(image.format or "image").lower()
    text = getattr(image, "text", None)  # PNG: loads the chunks after the image data too
    for key, value in (text or {}).items():
        raw[f"png:{key}"] = str(value)
    for key, value in image.info.items():
        if key in ("comment", "Comment") and isinstance(value, (bytes, str)):
            comment = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
            raw.setdefault(f"{prefix}:comment", comment)
        elif key == "exif" and isinstance(value, bytes):
            _exif_texts(value, raw)
        elif isinstance(value, str) and prefix == "png":
            raw.setdefault(f"png:{key}", value)
    return raw


def _stealth(data: bytes | None, image: Any, raw: dict[str, str], notes: list[str], *, strict: bool = True) -> None:
    """Decode the stealth data into ``raw["stealth"]``.

    ``strict=False`` is the extra look at a NovelAI image whose chunks were read: alpha only (NovelAI's
    mode), and a damaged copy becomes a note instead of an error.
    """
    try:
        from PIL import Image as PILImage
    except ImportError:  # the `images` extra is not installed: no pixel access
        if strict:
            notes.append("stealth data not checked: Pillow is not installed")
        return
    from naiprompt.metadata.stealth import read_stealth

    try:
        if image is None:
            assert data is not None
            with PILImage.open(io.BytesIO(data)) as opened:
                found = read_stealth(opened, rgb=strict)
        else:
            found = read_stealth(image, rgb=strict)
    except MetadataError as exc:
        if strict:
            raise
        notes.append(f"stealth data not read: {exc}")  # the text chunks already gave the info
        return
    except Exception as exc:  # Pillow's many decode errors: the pixels are unreadable, the text chunks were not
        notes.append(f"stealth data not checked: {type(exc).__name__}: {exc}")
        return
    if found is not None:
        raw["stealth"] = found[1]
        notes.append(f"stealth data: {found[0]}")


def read(source: Source, *, stealth: bool | None = None) -> GenerationInfo | None:
    """The generation metadata of an image, or None when it has none.

    ``source`` is a path, the file's bytes, a binary file object or a
    ``PIL.Image.Image``. PNG text chunks (tEXt, zTXt, iTXt, anywhere in the
    file), JPEG and WebP EXIF, GIF and JPEG comments are read from the bytes;
    NovelAI's stealth data from the pixels (with Pillow). ``stealth=None``
    decodes the pixels only when no other carrier holds generation data or
    when the image is NovelAI's (which writes both; the pixels' copy goes to
    ``raw["stealth"]``), ``True`` always, ``False`` never.

    Raises :class:`~naiprompt.errors.MetadataError` (a ``ValueError``) when the
    file is not a readable image: an unknown format, a length past the end of
    the file, a text that decompresses past
    :data:`~naiprompt.metadata.limits.MAX_TEXT_BYTES`.

    Example:
        >>> from naiprompt.metadata.png import tiny_png
        >>> read(tiny_png()) is None
        True
        >>> try:
        ...     read(b"hello")
        ... except ValueError as exc:
        ...     print(exc)
        not a readable image (unknown format)
    """
    data, image = _load(source)
    notes: list[str] = []
    if image is not None:
        raw = _pillow_texts(image)
        size: tuple[int, int] | None = (int(image.size[0]), int(image.size[1]))
        pixels = True
    else:
        assert data is not None
        raw, kind, size, _ = read_texts(data)
        if kind is None:
            raw, size = _other_format(data)
        pixels = kind != "jpeg"
    info = interpret(raw, size=size)
    # NovelAI writes its chunks into the alpha channel too: read them into raw["stealth"] as well.
    also_novelai = stealth is None and info is not None and info.generator == NOVELAI
    if pixels and (stealth or (stealth is None and info is None) or also_novelai):
        _stealth(data, image, raw, notes, strict=not also_novelai)
        if "stealth" in raw:
            info = interpret(raw, size=size) if info is None else attrs.evolve(info, raw=raw)
    if info is None:
        return None
    if notes:
        info = attrs.evolve(info, notes=info.notes + tuple(notes))
    return info


def _other_format(data: bytes) -> tuple[dict[str, str], tuple[int, int] | None]:
    # Formats naiprompt does not walk itself (AVIF, TIFF, BMP...): Pillow's view, when Pillow knows it.
    try:
        from PIL import Image as PILImage
    except ImportError:
        raise MetadataError("not a readable image (unknown format)") from None
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            exif = image.getexif().tobytes() if image.getexif() else None
            raw = _pillow_texts(image)
            if exif:
                _exif_texts(exif, raw)
            return raw, (int(image.size[0]), int(image.size[1]))
    except Exception:
        raise MetadataError("not a readable image (unknown format)") from None
