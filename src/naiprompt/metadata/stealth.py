"""NovelAI's stealth data: metadata hidden in the least significant bits of the pixels.

Implemented from NovelAI's published description (novelai-image-metadata, MIT)
and the WebUI stealth extension's modes: bits are read column by column (x
outer, y inner), most significant bit first; a 15-byte magic, a 32-bit
big-endian length in bits, then the payload. ``stealth_pnginfo`` and
``stealth_pngcomp`` use the alpha channel (one bit per pixel),
``stealth_rgbinfo`` and ``stealth_rgbcomp`` the red, green and blue channels
(three bits per pixel); the ``comp`` modes gzip the payload.

The functions work on raw channel bytes so that they need no imaging library;
:func:`read_stealth` takes a Pillow image.

Example:
    >>> alpha = embed_alpha("hello", width=32, height=32)
    >>> decode_alpha(alpha, 32, 32)
    ('stealth_pngcomp', 'hello')
"""

from __future__ import annotations

import gzip
import zlib
from typing import TYPE_CHECKING

from naiprompt.errors import MetadataError
from naiprompt.metadata.limits import MAX_PIXELS_FOR_STEALTH, MAX_TEXT_BYTES, inflate

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["decode_alpha", "decode_rgb", "embed_alpha", "read_stealth"]

_ALPHA_MAGICS = {b"stealth_pnginfo": False, b"stealth_pngcomp": True}
_RGB_MAGICS = {b"stealth_rgbinfo": False, b"stealth_rgbcomp": True}
_MAGIC_BITS = 15 * 8
_HEADER_BITS = _MAGIC_BITS + 32
_LSB = bytes(value & 1 for value in range(256))
_AS_DIGIT = bytes.maketrans(b"\0\1", b"01")


def _pack(bits: bytes) -> bytes:
    """Bytes of 0/1 values, most significant first, packed 8 to a byte."""
    if not bits:
        return b""
    # int(..., 2) runs in linear time (power-of-two base), unlike a Python loop per bit.
    return int(bits.translate(_AS_DIGIT), 2).to_bytes(len(bits) // 8, "big")


def _column_major(plane: bytes, width: int, height: int, channels: int, columns: int) -> bytes:
    """The LSBs of the first ``columns`` columns, x outer, y inner, channels interleaved."""
    stride = width * channels
    out = bytearray()
    for x in range(columns):
        if channels == 1:
            out += plane[x::stride]
        else:
            column = bytearray(height * channels)
            for c in range(channels):
                column[c::channels] = plane[x * channels + c :: stride]
            out += column
    return bytes(out).translate(_LSB)


def _decode(plane: bytes, width: int, height: int, channels: int, magics: dict[bytes, bool]) -> tuple[str, str] | None:
    per_column = height * channels
    total = width * per_column
    if total < _HEADER_BITS or len(plane) < width * height * channels:
        return None
    header_columns = -(-_HEADER_BITS // per_column)
    bits = _column_major(plane, width, height, channels, header_columns)
    magic = _pack(bits[:_MAGIC_BITS])
    if magic not in magics:
        return None
    length = int.from_bytes(_pack(bits[_MAGIC_BITS:_HEADER_BITS]), "big")
    if length % 8 or length > total - _HEADER_BITS:
        raise MetadataError(f"stealth data ({magic.decode()}) declares {length} bits, the image holds fewer")
    if length > MAX_TEXT_BYTES * 8:
        raise MetadataError(f"stealth data ({magic.decode()}) is larger than {MAX_TEXT_BYTES} bytes")
    columns = -(-(_HEADER_BITS + length) // per_column)
    bits = _column_major(plane, width, height, channels, columns)
    payload = _pack(bits[_HEADER_BITS : _HEADER_BITS + length])
    if magics[magic]:
        payload = inflate(payload, wbits=16 + zlib.MAX_WBITS, what=f"stealth data ({magic.decode()})")
    return magic.decode(), payload.decode("utf-8", errors="replace")


def decode_alpha(alpha: bytes, width: int, height: int) -> tuple[str, str] | None:
    """``(mode, text)`` from an alpha plane (row-major bytes), or None when it holds no stealth data.

    Example:
        >>> decode_alpha(bytes([255]) * 256, 16, 16) is None
        True
    """
    return _decode(alpha, width, height, 1, _ALPHA_MAGICS)


def decode_rgb(rgb: bytes, width: int, height: int) -> tuple[str, str] | None:
    """``(mode, text)`` from interleaved RGB bytes (row-major), or None when they hold no stealth data.

    Example:
        >>> decode_rgb(bytes(3 * 256), 16, 16) is None
        True
    """
    return _decode(rgb, width, height, 3, _RGB_MAGICS)


def embed_alpha(text: str, width: int, height: int, *, compressed: bool = True) -> bytes:
    """An alpha plane (row-major) carrying ``text`` as NovelAI writes it; unused pixels stay 255.

    Example:
        >>> len(embed_alpha("x", 32, 32))
        1024
    """
    payload = text.encode("utf-8")
    if compressed:
        payload = gzip.compress(payload, mtime=0)
    magic = b"stealth_pngcomp" if compressed else b"stealth_pnginfo"
    data = magic + (len(payload) * 8).to_bytes(4, "big") + payload
    bits = bin(int.from_bytes(data, "big"))[2:].zfill(len(data) * 8)
    if len(bits) > width * height:
        raise ValueError(f"{len(bits)} bits do not fit in {width}x{height} pixels")
    alpha = bytearray([255]) * (width * height)
    for index, bit in enumerate(bits):
        x, y = divmod(index, height)
        alpha[y * width + x] = 254 | (bit == "1")
    return bytes(alpha)


def read_stealth(image: Image, *, rgb: bool = True) -> tuple[str, str] | None:
    """``(mode, text)`` of the stealth data in a Pillow image (alpha first, then RGB unless ``rgb=False``), or None.

    Images over :data:`~naiprompt.metadata.limits.MAX_PIXELS_FOR_STEALTH` pixels are not decoded.

    Example:
        >>> from PIL import Image
        >>> image = Image.new("RGBA", (32, 32))
        >>> image.putalpha(Image.frombytes("L", (32, 32), embed_alpha("hi", 32, 32)))
        >>> read_stealth(image)
        ('stealth_pngcomp', 'hi')
    """
    width, height = image.size
    if width * height > MAX_PIXELS_FOR_STEALTH or width * height == 0:
        return None
    bands = image.getbands()
    if "A" in bands:
        found = decode_alpha(image.getchannel("A").tobytes(), width, height)
        if found is not None:
            return found
    if not rgb or image.mode not in ("RGB", "RGBA"):
        return None
    colour = image.convert("RGB") if image.mode == "RGBA" else image
    return decode_rgb(colour.tobytes(), width, height)
