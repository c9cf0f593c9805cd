"""JPEG, WebP and GIF walked from bytes: where their EXIF and comments are, and how to replace the EXIF.

Every segment length is checked against the buffer; the image data is skipped,
never decoded.

Example:
    >>> sniff(b"GIF89a...")
    'gif'
"""

from __future__ import annotations

import struct

import attrs

from naiprompt.errors import MetadataError

__all__ = ["Container", "read_gif", "read_jpeg", "read_webp", "replace_jpeg_exif", "replace_webp_exif", "sniff"]


@attrs.define
class Container:
    """The metadata blocks of one non-PNG file: EXIF payload, comments, pixel size, alpha.

    Example:
        >>> Container().exif is None
        True
    """

    exif: bytes | None = None
    comments: list[str] = attrs.field(factory=list)
    size: tuple[int, int] | None = None
    has_alpha: bool = False


def sniff(data: bytes) -> str | None:
    """The file format from its first bytes: "png", "jpeg", "webp", "gif" or None.

    Example:
        >>> sniff(b"\\xff\\xd8\\xff\\xe0"), sniff(b"RIFF\\0\\0\\0\\0WEBPVP8 "), sniff(b"hello")
        ('jpeg', 'webp', None)
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# --- JPEG --------------------------------------------------------------------------------------------

_START_OF_FRAME = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """``(marker, start of segment, end of segment)`` for every segment before the scan data."""
    segments: list[tuple[int, int, int]] = []
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            raise MetadataError(f"JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > end:
            raise MetadataError(f"JPEG segment 0xFF{marker:02X} at byte {pos} runs past the end of the file")
        segments.append((marker, pos, pos + 2 + length))
        if marker in (0xDA, 0xD9):  # start of scan: metadata comes before it
            break
        pos += 2 + length
    return segments


def read_jpeg(data: bytes) -> Container:
    """EXIF (APP1 ``Exif\\0\\0``), comments (COM) and size (SOFn) of a JPEG.

    Example:
        >>> read_jpeg(b"\\xff\\xd8\\xff\\xfe\\x00\\x05hi!\\xff\\xd9").comments
        ['hi!']
    """
    found = Container()
    for marker, start, stop in _jpeg_segments(data):
        body = data[start + 4 : stop]
        if marker == 0xE1 and body.startswith(b"Exif\0\0") and found.exif is None:
            found.exif = body[6:]
        elif marker == 0xFE:
            found.comments.append(_text(body))
        elif marker in _START_OF_FRAME and len(body) >= 5:
            height, width = struct.unpack(">HH", body[1:5])
            found.size = (width, height)
    return found


def replace_jpeg_exif(data: bytes, exif: bytes) -> bytes:
    """The JPEG with its EXIF segment replaced (or added after SOI/APP0); everything else byte for byte.

    Example:
        >>> jpeg = b"\\xff\\xd8\\xff\\xd9"
        >>> replace_jpeg_exif(jpeg, b"MM\\0*")[:10]
        b'\\xff\\xd8\\xff\\xe1\\x00\\x0cExif'
    """
    payload = b"Exif\0\0" + exif
    if len(payload) + 2 > 0xFFFF:
        raise MetadataError("the EXIF block is larger than one JPEG segment (64 KB)")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    segments = _jpeg_segments(data)
    insert_at = 2
    out = [data[:2]]
    pos = 2
    for marker, start, stop in segments:
        if marker == 0xE1 and data[start + 4 : start + 10] == b"Exif\0\0":
            out.append(data[pos:start])
            pos = stop
        elif marker == 0xE0 and start == insert_at:  # keep JFIF first
            insert_at = stop
    out.append(data[pos:])
    joined = b"".join(out)
    # Positions before insert_at are unchanged by the removal (APP0 comes first).
    return joined[:insert_at] + segment + joined[insert_at:]


# --- WebP --------------------------------------------------------------------------------------------


def _webp_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(fourcc, start of payload, end of payload)`` of every RIFF chunk."""
    chunks: list[tuple[bytes, int, int]] = []
    pos = 12
    end = len(data)
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if length > end - pos - 8:
            raise MetadataError(f"WebP chunk {fourcc!r} at byte {pos} declares {length} bytes, past the end")
        chunks.append((fourcc, pos + 8, pos + 8 + length))
        pos += 8 + length + (length & 1)
    return chunks


def read_webp(data: bytes) -> Container:
    """EXIF, size and alpha of a WebP (simple, lossless or extended).

    Example:
        >>> read_webp(b"RIFF\\x04\\x00\\x00\\x00WEBP").exif is None
        True
    """
    found = Container()
    for fourcc, start, stop in _webp_chunks(data):
        body = data[start:stop]
        if fourcc == b"EXIF" and found.exif is None:
            found.exif = body[6:] if body.startswith(b"Exif\0\0") else body
        elif fourcc == b"VP8X" and len(body) >= 10:
            found.has_alpha = bool(body[0] & 0x10)
            width = int.from_bytes(body[4:7], "little") + 1
            height = int.from_bytes(body[7:10], "little") + 1
            found.size = (width, height)
        elif fourcc == b"VP8L" and len(body) >= 5 and found.size is None:
            bits = int.from_bytes(body[1:5], "little")
            found.size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            found.has_alpha = bool(bits >> 28 & 1)
        elif fourcc == b"VP8 " and len(body) >= 10 and found.size is None:
            width, height = struct.unpack("<HH", body[6:10])
            found.size = (width & 0x3FFF, height & 0x3FFF)
    return found


def replace_webp_exif(data: bytes, exif: bytes) -> bytes:
    """The WebP with an EXIF chunk holding ``exif`` (a VP8X header is added when missing).

    The image chunks are copied byte for byte.

    Example:
        >>> webp = b"RIFF" + (22).to_bytes(4, "little") + b"WEBPVP8L" + (10).to_bytes(4, "little") + bytes(10)
        >>> out = replace_webp_exif(webp, b"MM\\0*")
        >>> [fourcc for fourcc, _, _ in _webp_chunks(out)]
        [b'VP8X', b'VP8L', b'EXIF']
    """
    chunks = _webp_chunks(data)
    info = read_webp(data)
    parts: list[bytes] = []
    has_vp8x = any(fourcc == b"VP8X" for fourcc, _, _ in chunks)
    if not has_vp8x:
        if info.size is None:
            raise MetadataError("WebP without a size")
        width, height = info.size
        flags = 0x08 | (0x10 if info.has_alpha else 0)  # EXIF present (+ alpha)
        body = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        parts.append(b"VP8X" + struct.pack("<I", 10) + body)
    for fourcc, start, stop in chunks:
        if fourcc == b"EXIF":
            continue
        whole = data[start - 8 : stop] + (b"\0" if (stop - start) & 1 else b"")
        if fourcc == b"VP8X":
            whole = whole[:8] + bytes([whole[8] | 0x08]) + whole[9:]  # the EXIF flag
        parts.append(whole)
    parts.append(b"EXIF" + struct.pack("<I", len(exif)) + exif + (b"\0" if len(exif) & 1 else b""))
    body = b"WEBP" + b"".join(parts)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- GIF ---------------------------------------------------------------------------------------------


def _sub_blocks(data: bytes, pos: int) -> tuple[bytes, int]:
    parts: list[bytes] = []
    while pos < len(data):
        size = data[pos]
        pos += 1
        if size == 0:
            return b"".join(parts), pos
        if pos + size > len(data):
            raise MetadataError("GIF data block runs past the end of the file")
        parts.append(data[pos : pos + size])
        pos += size
    raise MetadataError("GIF data blocks without a terminator")


def read_gif(data: bytes) -> Container:
    """Comment extensions and size of a GIF.

    Example:
        >>> gif = b"GIF89a\\x01\\x00\\x01\\x00\\x00\\x00\\x00!\\xfe\\x02hi\\x00;"
        >>> read_gif(gif).comments
        ['hi']
    """
    found = Container()
    if len(data) < 13:
        raise MetadataError("truncated GIF header")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    found.size = (width, height)
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21 and pos + 1 < len(data):
            label = data[pos + 1]
            body, pos = _sub_blocks(data, pos + 2)
            if label == 0xFE:
                found.comments.append(_text(body))
        elif block == 0x2C:
            if pos + 10 > len(data):
                raise MetadataError("truncated GIF image descriptor")
            local = data[pos + 9]
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            _, pos = _sub_blocks(data, pos + 1)  # LZW minimum code size, then the data
        else:
            raise MetadataError(f"GIF: unknown block 0x{block:02X} at byte {pos}")
    return found
