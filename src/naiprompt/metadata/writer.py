"""``write``: store an infotext in an image the way WebUI does, the pixels untouched.

PNG gets a "parameters" text chunk (iTXt when the text is not Latin-1), JPEG
and WebP an EXIF UserComment ``UNICODE\\0`` + UTF-16-BE with EXIF type 7. The
chunks and segments are edited in the file's bytes: the image data is copied
byte for byte, never re-encoded (a Pillow image is encoded once, losslessly
where the format allows).

Example:
    >>> from naiprompt.metadata.png import tiny_png
    >>> from naiprompt.metadata.reader import read
    >>> out = write(tiny_png(), "a cat\\nSteps: 20, Sampler: Euler, Seed: 3")
    >>> read(out).seed
    3
"""

from __future__ import annotations

import io
import os
from typing import IO, Any, Union

from naiprompt.errors import MetadataError
from naiprompt.metadata import containers, png
from naiprompt.metadata.convert import to_infotext
from naiprompt.metadata.exif import user_comment_exif
from naiprompt.metadata.model import GenerationInfo
from naiprompt.metadata.reader import Source, _load

__all__ = ["write"]

_FORMATS_BY_SUFFIX = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_PILLOW_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
Destination = Union[str, "os.PathLike[str]", IO[bytes], None]


def _encode(image: Any, kind: str) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 95} if kind == "jpeg" else {"lossless": True} if kind == "webp" else {}
    if kind == "jpeg" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    image.save(buffer, format=_PILLOW_NAMES[kind], **options)
    return buffer.getvalue()


def _target_kind(dest: Destination) -> str | None:
    if isinstance(dest, (str, os.PathLike)):
        return _FORMATS_BY_SUFFIX.get(os.path.splitext(os.fspath(dest))[1].lower())
    return None


def write(
    image: Source, info_or_infotext: GenerationInfo | str, dest: Destination = None, *, convert: bool = True
) -> bytes:
    """Store an infotext (or a :class:`GenerationInfo`, via :func:`to_infotext`) in an image.

    ``image`` is a path, bytes, a binary file or a Pillow image; ``dest`` a path
    or a binary file (or None). Returns the new file's bytes in every case. The
    format is the source's, unless ``dest``'s suffix names another one (then
    the image is re-encoded with Pillow: PNG and WebP losslessly, JPEG at
    quality 95). Any previous "parameters" chunk or EXIF block is replaced.

    Example:
        >>> from naiprompt.metadata.png import tiny_png
        >>> from naiprompt.metadata.reader import read_texts
        >>> read_texts(write(tiny_png(), "猫\\nSteps: 1, Seed: 2, Size: 1x1"))[0]
        {'png:parameters': '猫\\nSteps: 1, Seed: 2, Size: 1x1'}
    """
    text = info_or_infotext if isinstance(info_or_infotext, str) else to_infotext(info_or_infotext, convert=convert)
    data, pil_image = _load(image)
    target = _target_kind(dest)
    kind = containers.sniff(data) if data is not None else None
    if pil_image is not None or (target is not None and target != kind) or kind not in ("png", "jpeg", "webp"):
        try:
            from PIL import Image as PILImage
        except ImportError:
            raise MetadataError("converting between image formats needs Pillow (the `images` extra)") from None
        kind = target or kind or ("png" if pil_image is None else str(pil_image.format or "png").lower())
        if kind not in _PILLOW_NAMES:
            raise MetadataError(f"cannot write generation metadata into {kind!r} images (PNG, JPEG, WebP)")
        if pil_image is None:
            try:
                with PILImage.open(io.BytesIO(data or b"")) as opened:
                    data = _encode(opened, kind)
            except (OSError, SyntaxError) as exc:
                raise MetadataError(f"not a readable image: {exc}") from None
        else:
            data = _encode(pil_image, kind)
    assert data is not None
    if kind == "png":
        out = png.add_text(data, "parameters", text)
    elif kind == "jpeg":
        out = containers.replace_jpeg_exif(data, user_comment_exif(text))
    else:
        out = containers.replace_webp_exif(data, user_comment_exif(text))
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "wb") as handle:
            handle.write(out)
    elif dest is not None:
        dest.write(out)
    return out
