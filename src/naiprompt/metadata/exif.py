"""EXIF (TIFF) read and written by hand: the text tags of IFD0 and the Exif IFD, and WebUI's UserComment.

Only the tags that carry generation metadata are decoded; every offset and
count is checked against the buffer, and only IFD0 and the Exif IFD are visited
(no recursion a crafted file could drive).

Example:
    >>> tags = read_exif(user_comment_exif("a cat\\nSteps: 20"))
    >>> tags["UserComment"]
    'a cat\\nSteps: 20'
"""

from __future__ import annotations

import struct

__all__ = ["TEXT_TAGS", "decode_user_comment", "read_exif", "user_comment_exif"]

#: Tags whose text naiprompt reads, by id (IFD0 and Exif IFD alike).
TEXT_TAGS: dict[int, str] = {
    0x010D: "DocumentName",
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
    0x9286: "UserComment",
    0x9C9C: "XPComment",
}
_EXIF_IFD = 0x8769
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def _plausibility(text: str) -> int:
    # Characters prompts are made of: ASCII, Latin, kana, CJK, Hangul. The wrong byte order gives mostly others.
    return sum(
        1
        for ch in text
        if ch < "\u0250" or "\u3000" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"
    )


def _utf16(data: bytes) -> str:
    # Tell the byte order by where the zero bytes of ASCII-range characters fall.
    if data[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return data.decode("utf-16", errors="replace")
    if len(data) % 2:
        data = data[:-1]
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    if even != odd:
        return data.decode("utf-16-le" if odd > even else "utf-16-be", errors="replace")
    # No ASCII at all (an all-CJK prompt): keep the order whose characters look like text.
    big = data.decode("utf-16-be", errors="replace")
    little = data.decode("utf-16-le", errors="replace")
    return little if _plausibility(little) > _plausibility(big) else big


def decode_user_comment(value: bytes) -> str:
    """Decode an EXIF UserComment: its 8-byte character code, then the text.

    ``UNICODE\\0`` is UTF-16 in either byte order (WebUI writes big-endian,
    SwarmUI little-endian), ``ASCII\\0\\0\\0`` and undefined codes are read as
    UTF-8 when valid. Trailing NULs are dropped.

    Example:
        >>> decode_user_comment(b"UNICODE\\0" + "猫 cat".encode("utf-16-le"))
        '猫 cat'
        >>> decode_user_comment(b"ASCII\\0\\0\\0{}")
        '{}'
    """
    code, body = value[:8], value[8:]
    if code == b"UNICODE\0":
        text = _utf16(body) if body else ""
    elif code == b"JIS\0\0\0\0\0":
        text = body.decode("shift_jis", errors="replace")
    else:
        if code not in (b"ASCII\0\0\0", b"\0" * 8):
            body = value  # no character code at all: the whole value is text
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("latin-1")
    return text.rstrip("\0")


def _decode(tag: int, kind: int, value: bytes) -> str:
    if tag == 0x9286:
        return decode_user_comment(value)
    if tag == 0x9C9C:  # Windows XP tags: UTF-16-LE
        return value.decode("utf-16-le", errors="replace").rstrip("\0")
    # ASCII tags: some writers store UTF-8; NovelAI's WebP prompt can start with NUL bytes.
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = value.decode("latin-1")
    return text.strip("\0")


def read_exif(data: bytes) -> dict[str, str]:
    """The text tags of a TIFF/EXIF block (with or without the ``Exif\\0\\0`` prefix), by tag name.

    Malformed structures yield what could be read, never an exception.

    Example:
        >>> read_exif(b"not exif")
        {}
    """
    if data.startswith(b"Exif\0\0"):
        data = data[6:]
    if len(data) < 8 or data[:4] not in (b"II*\0", b"MM\0*"):
        return {}
    endian = "<" if data[:2] == b"II" else ">"
    found: dict[str, str] = {}
    (ifd0,) = struct.unpack(endian + "I", data[4:8])
    exif_ifd = _read_ifd(data, endian, ifd0, found)
    if exif_ifd is not None and exif_ifd != ifd0:
        _read_ifd(data, endian, exif_ifd, found)
    return found


def _read_ifd(data: bytes, endian: str, offset: int, found: dict[str, str]) -> int | None:
    if offset + 2 > len(data):
        return None
    (count,) = struct.unpack(endian + "H", data[offset : offset + 2])
    exif_ifd: int | None = None
    for index in range(count):
        entry = offset + 2 + 12 * index
        if entry + 12 > len(data):
            break
        tag, kind, number = struct.unpack(endian + "HHI", data[entry : entry + 8])
        size = _TYPE_SIZES.get(kind, 1) * number
        if size <= 4:
            value = data[entry + 8 : entry + 8 + size]
        else:
            (where,) = struct.unpack(endian + "I", data[entry + 8 : entry + 12])
            if where + size > len(data):
                continue
            value = data[where : where + size]
        if tag == _EXIF_IFD and kind in (4, 13) and len(value) == 4:
            (exif_ifd,) = struct.unpack(endian + "I", value)
        elif tag in TEXT_TAGS and kind in (1, 2, 7):
            name = TEXT_TAGS[tag]
            # The Exif IFD's UserComment wins over an IFD0 one (it is read second).
            found[name] = _decode(tag, kind, value)
    return exif_ifd


def user_comment_exif(text: str) -> bytes:
    """A TIFF block holding only an Exif IFD with UserComment = ``UNICODE\\0`` + UTF-16-BE, EXIF type 7.

    This is the layout WebUI writes (piexif): its reader decodes it; Pillow's own
    writer would store type 1, which WebUI's reader then crashes on.

    Example:
        >>> block = user_comment_exif("hi")
        >>> block[:4], block.endswith(b"UNICODE\\0\\0h\\0i")
        (b'MM\\x00*', True)
    """
    comment = b"UNICODE\0" + text.encode("utf-16-be")
    ifd0 = 8
    exif_ifd = ifd0 + 2 + 12 + 4
    value_at = exif_ifd + 2 + 12 + 4
    return b"".join(
        (
            b"MM\0*",
            struct.pack(">I", ifd0),
            struct.pack(">HHHII", 1, _EXIF_IFD, 4, 1, exif_ifd),
            struct.pack(">I", 0),
            struct.pack(">HHHII", 1, 0x9286, 7, len(comment), value_at),
            struct.pack(">I", 0),
            comment,
        )
    )
