"""PNG chunks read from bytes: text chunks (tEXt, zTXt, iTXt) wherever they are, eXIf, and writing a text chunk.

Reading the chunks directly (rather than through Pillow) sees text stored after
the image data, bounds every length by the file and caps decompression.

Example:
    >>> png = add_text(tiny_png(), "parameters", "a cat\\nSteps: 20, Seed: 1, Size: 1x1")
    >>> [(key, kind) for key, _, kind in read_chunks(png).texts]
    [('parameters', 'tEXt')]
"""

from __future__ import annotations

import struct
import zlib

import attrs

from naiprompt.errors import MetadataError
from naiprompt.metadata.limits import inflate

__all__ = ["SIGNATURE", "PngChunks", "add_text", "read_chunks", "text_chunk", "tiny_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")


@attrs.frozen
class PngChunks:
    """What :func:`read_chunks` found: ``(key, text, chunk type)`` triples, the eXIf payload and the size.

    Example:
        >>> read_chunks(tiny_png()).size
        (1, 1)
    """

    texts: list[tuple[str, str, str]]
    exif: bytes | None
    size: tuple[int, int] | None
    has_alpha: bool


def _decode_latin1_text(data: bytes) -> str:
    # The standard says Latin-1, but some UIs (Stability Matrix) store UTF-8 there: prefer UTF-8 when valid.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _text_of(kind: bytes, data: bytes) -> tuple[str, str]:
    key_bytes, sep, rest = data.partition(b"\0")
    if not sep and kind == b"tEXt":
        return data.decode("latin-1"), ""  # as Pillow reads it: all keyword, no text
    if not sep:
        raise MetadataError(f"PNG {kind.decode()} chunk without a keyword terminator")
    key = key_bytes.decode("latin-1")
    what = f"PNG {kind.decode()} {key!r}"
    if kind == b"tEXt":
        return key, _decode_latin1_text(rest)
    if kind == b"zTXt":
        if not rest or rest[0] != 0:
            raise MetadataError(f"{what}: unknown compression method")
        return key, _decode_latin1_text(inflate(rest[1:], what=what))
    # iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text
    if len(rest) < 2:
        raise MetadataError(f"{what}: truncated header")
    compressed, method = rest[0], rest[1]
    _language, _, rest = rest[2:].partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if compressed:
        if method != 0:
            raise MetadataError(f"{what}: unknown compression method")
        text = inflate(text, what=what)
    return key, text.decode("utf-8", errors="replace")


def read_chunks(data: bytes) -> PngChunks:
    """Walk the chunks of a PNG file, raising :class:`MetadataError` on a length past the end.

    Example:
        >>> read_chunks(tiny_png()).texts
        []
    """
    if not data.startswith(SIGNATURE):
        raise MetadataError("not a PNG file")
    texts: list[tuple[str, str, str]] = []
    exif: bytes | None = None
    size: tuple[int, int] | None = None
    has_alpha = False
    pos = len(SIGNATURE)
    end = len(data)
    while pos + 8 <= end:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        start = pos + 8
        if length > end - start and kind == b"IDAT" and texts:
            break  # a file cut short inside its image data (a partial download): the texts before it stand
        if length > end - start:
            raise MetadataError(f"PNG chunk {kind!r} at byte {pos} declares {length} bytes, only {end - start} remain")
        body = data[start : start + length]
        pos = start + length + 4  # skip the CRC
        if kind == b"IHDR" and length >= 13:
            width, height, _depth, colour = struct.unpack(">IIBB", body[:10])
            size = (width, height)
            has_alpha = colour in (4, 6)
        elif kind == b"tRNS":
            has_alpha = True
        elif kind in _TEXT_TYPES:
            key, text = _text_of(kind, body)
            texts.append((key, text, kind.decode()))
        elif kind == b"eXIf":
            exif = body
        elif kind == b"IEND":
            break
    return PngChunks(texts=texts, exif=exif, size=size, has_alpha=has_alpha)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def text_chunk(key: str, text: str) -> bytes:
    """One text chunk as Pillow (and so WebUI) writes it: tEXt for Latin-1 text, iTXt otherwise.

    Example:
        >>> text_chunk("parameters", "a")[4:8], text_chunk("parameters", "猫")[4:8]
        (b'tEXt', b'iTXt')
    """
    keyword = key.encode("latin-1")
    try:
        return _chunk(b"tEXt", keyword + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return _chunk(b"iTXt", keyword + b"\0\0\0\0\0" + text.encode("utf-8"))


def add_text(data: bytes, key: str, text: str, *, drop: tuple[str, ...] = ()) -> bytes:
    """Insert a text chunk before the first IDAT, removing text chunks whose key is in ``drop`` (and ``key``).

    Every other chunk, the pixels included, is copied byte for byte.

    Example:
        >>> png = add_text(add_text(tiny_png(), "parameters", "one"), "parameters", "two")
        >>> [text for _, text, _ in read_chunks(png).texts]
        ['two']
    """
    read_chunks(data)  # validates the lengths
    removed = {key, *drop}
    out = [SIGNATURE]
    pos = len(SIGNATURE)
    inserted = False
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        whole = data[pos : pos + 12 + length]
        pos += 12 + length
        if kind in _TEXT_TYPES:
            name = data[pos - 4 - length : pos - 4].partition(b"\0")[0].decode("latin-1")
            if name in removed:
                continue
        if kind in (b"IDAT", b"IEND") and not inserted:
            out.append(text_chunk(key, text))
            inserted = True
        out.append(whole)
        if kind == b"IEND":
            break
    return b"".join(out)


def tiny_png(width: int = 1, height: int = 1, *, alpha: bool = False) -> bytes:
    """A valid black (or transparent-black) PNG built without Pillow, for examples and tests.

    Example:
        >>> tiny_png().startswith(SIGNATURE)
        True
    """
    colour = 6 if alpha else 2
    channels = 4 if alpha else 3
    raw = b"".join(b"\0" + bytes(width * channels) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
