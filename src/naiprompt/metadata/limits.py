"""Caps that keep hostile files cheap, and the one bounded decompressor every reader uses.

Example:
    >>> import zlib
    >>> inflate(zlib.compress(b"hello"), what="zTXt 'x'")
    b'hello'
"""

from __future__ import annotations

import zlib

from naiprompt.errors import MetadataError

__all__ = ["MAX_PIXELS_FOR_STEALTH", "MAX_TEXT_BYTES", "inflate"]

#: Largest decompressed size of one metadata text (real ComfyUI workflows stay under a few MB).
MAX_TEXT_BYTES = 32 * 1024 * 1024
#: Images larger than this are not decoded to look for stealth data.
MAX_PIXELS_FOR_STEALTH = 20_000_000  # an 8K-wide upscale; 80 MB of RGBA at most


def inflate(data: bytes, *, wbits: int = zlib.MAX_WBITS, what: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """Decompress zlib (or gzip with ``wbits=31``) data, refusing to produce more than ``limit`` bytes.

    A decompression bomb costs at most ``limit`` bytes of memory and the time to
    produce them before :class:`~naiprompt.errors.MetadataError` is raised.

    Example:
        >>> import zlib
        >>> try:
        ...     inflate(zlib.compress(bytes(1000)), what="zTXt 'x'", limit=100)
        ... except ValueError as exc:
        ...     print(exc)
        zTXt 'x' decompresses to more than 100 bytes
    """
    decompressor = zlib.decompressobj(wbits)
    out = bytearray()
    step = 1 << 20
    try:
        # Small steps: a bomb is stopped one step past the cap instead of after a cap-sized buffer and its copy.
        while True:
            out += decompressor.decompress(data, step)
            if len(out) > limit:
                raise MetadataError(f"{what} decompresses to more than {limit} bytes")
            data = decompressor.unconsumed_tail
            if not data or decompressor.eof:
                break
        if not decompressor.eof:
            out += decompressor.flush()
            if len(out) > limit:
                raise MetadataError(f"{what} decompresses to more than {limit} bytes")
    except zlib.error as exc:
        raise MetadataError(f"{what} is not valid compressed data: {exc}") from None
    return bytes(out)
