"""Hostile and broken files: refused with MetadataError, in bounded memory, never another exception."""

from __future__ import annotations

import contextlib
import gzip
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naiprompt.errors import MetadataError, PromptError
from naiprompt.metadata import read
from naiprompt.metadata.limits import MAX_TEXT_BYTES
from naiprompt.metadata.png import SIGNATURE, _chunk, tiny_png
from naiprompt.metadata.stealth import decode_alpha

IMAGES = Path(__file__).parent / "fixtures" / "images"
BOMB_SIZE = 4 * MAX_TEXT_BYTES  # what the bombs would expand to


def _zlib_bomb(size: int, *, wbits: int = zlib.MAX_WBITS) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, compressor.flush()])


@pytest.fixture(scope="module")
def zlib_bomb() -> bytes:
    return _zlib_bomb(BOMB_SIZE)


def _with_chunk(chunk: bytes) -> bytes:
    base = tiny_png()
    at = base.index(b"IDAT") - 4
    return base[:at] + chunk + base[at:]


def _refused_in_bounded_memory(call: Callable[[], object]) -> str:
    tracemalloc.start()
    try:
        with pytest.raises(MetadataError) as caught:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_TEXT_BYTES + (16 << 20), f"peak {peak >> 20} MiB"
    return str(caught.value)


def test_metadata_error_is_a_value_error_and_a_prompt_error() -> None:
    assert issubclass(MetadataError, ValueError) and issubclass(MetadataError, PromptError)


def test_huge_declared_png_chunk_length() -> None:
    chunk = struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + b"parameters\0x"
    message = _refused_in_bounded_memory(lambda: read(_with_chunk(chunk)))
    assert "declares 2147483647 bytes" in message


@pytest.mark.parametrize("kind", ["zTXt", "iTXt"])
def test_png_text_decompression_bomb(kind: str, zlib_bomb: bytes) -> None:
    body = b"parameters\0" + (b"\0" if kind == "zTXt" else b"\1\0\0\0") + zlib_bomb
    message = _refused_in_bounded_memory(lambda: read(_with_chunk(_chunk(kind.encode(), body))))
    assert "decompresses to more than" in message


def test_stealth_gzip_bomb() -> None:
    payload = _zlib_bomb(BOMB_SIZE, wbits=16 + zlib.MAX_WBITS)  # a gzip member
    data = b"stealth_pngcomp" + (len(payload) * 8).to_bytes(4, "big") + payload
    side = int((len(data) * 8) ** 0.5) + 1
    alpha = _alpha_plane(data, side)
    message = _refused_in_bounded_memory(lambda: decode_alpha(alpha, side, side))
    assert "decompresses to more than" in message


def _alpha_plane(data: bytes, side: int) -> bytes:
    """A square alpha plane whose LSBs, read column by column, are ``data``'s bits (then 255s)."""
    bits = bin(int.from_bytes(data, "big"))[2:].zfill(len(data) * 8).encode()
    column_major = bits.translate(bytes.maketrans(b"01", b"\xfe\xff")).ljust(side * side, b"\xff")
    return b"".join(column_major[y::side] for y in range(side))  # transpose to row-major


def test_stealth_length_beyond_the_image() -> None:
    alpha = _alpha_plane(b"stealth_pnginfo" + (10**9).to_bytes(4, "big"), 16)
    with pytest.raises(MetadataError, match="declares"):
        decode_alpha(alpha, 16, 16)


def test_gzip_helper_agrees() -> None:  # the bomb helper really builds what it claims
    assert len(gzip.decompress(_zlib_bomb(2 << 20, wbits=31))) == 2 << 20


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        SIGNATURE,  # a signature and nothing else: no text, no error
        b"\xff\xd8\xff\xe1\xff\xffExif\0\0",  # JPEG segment past the end
        b"RIFF\x20\0\0\0WEBPEXIF\xff\xff\xff\x7f",  # WebP chunk past the end
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00!\xfe\x50hi",  # GIF comment block past the end
    ],
    ids=["empty", "text", "png-signature", "jpeg", "webp", "gif"],
)
def test_broken_files(data: bytes) -> None:
    if data == SIGNATURE:
        assert read(data) is None
        return
    with pytest.raises(MetadataError):
        read(data)


def test_missing_file_is_a_metadata_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read"):
        read(tmp_path / "missing.png")


def test_deeply_nested_json_is_harmless() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for key, text in (
        ("Comment", '{"a": ' + deep + "}"),
        ("prompt", '{"1": ' + deep + "}"),
        ("parameters", "{" + deep),
    ):
        chunk = _chunk(b"tEXt", key.encode() + b"\0" + text.encode())
        read(_with_chunk(chunk))  # returns something or None; never RecursionError


def _built_samples() -> list[bytes]:
    from naiprompt.metadata.containers import replace_jpeg_exif, replace_webp_exif
    from naiprompt.metadata.exif import user_comment_exif

    exif = user_comment_exif("a cat\nSteps: 20, Seed: 1, Size: 1x1")
    webp = b"RIFF" + (22).to_bytes(4, "little") + b"WEBPVP8L" + (10).to_bytes(4, "little") + bytes(10)
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(6) + b"!\xfe\x05hello\x00,\0\0\0\0\1\0\1\0\0\2\2D\1\0;"
    return [replace_webp_exif(webp, exif), replace_jpeg_exif(b"\xff\xd8\xff\xd9", exif), gif]


_SAMPLES = sorted(p.read_bytes() for p in IMAGES.rglob("*") if p.suffix in (".png", ".jpg")) + _built_samples()


@settings(max_examples=150)
@given(
    sample=st.sampled_from(_SAMPLES),
    edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 1 << 16),
)
def test_mutated_files_raise_only_metadata_error(sample: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(sample)
    for where, value in edits:
        if data:
            data[where % len(data)] = value
    data = data[: max(8, len(data) - cut % max(1, len(data)))]
    with contextlib.suppress(MetadataError):  # anything else fails the test
        read(bytes(data))
