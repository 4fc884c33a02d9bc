"""Test images: the sandbox's frame maker, plus images that must be refused.

Login frames come from `haoban.sandbox.frames` (the demo script and the bench use it too).
Here: copies of a frame, and images the engine must refuse (no face, two faces, blur, a tiny
face, a decompression bomb).
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageFilter

from haoban.sandbox.frames import PHOTOS, jpeg, make_frames, open_rgb, photo

_open = open_rgb
__all__ = ["PHOTOS", "jpeg", "make_frames", "open_rgb", "photo"]


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def recompress(data: bytes, quality: int) -> bytes:
    """The same picture saved again: different bytes, (nearly) the same pixels."""
    return jpeg(_open(data), quality=quality)


def blurred(data: bytes, radius: float = 4.0) -> bytes:
    return jpeg(_open(data).filter(ImageFilter.GaussianBlur(radius)))


def no_face() -> bytes:
    """A real photo with no face in it (scikit-image's coffee cup)."""
    from skimage import data

    return jpeg(Image.fromarray(data.coffee()))  # type: ignore[no-untyped-call]


def two_faces() -> bytes:
    """Grace Hopper and the astronaut side by side, both faces well above the minimum size."""
    grace = _open(photo("grace_hopper.jpg"))
    astronaut = _open(photo("astronaut.jpg"))
    astronaut = astronaut.resize((round(astronaut.width * grace.height / astronaut.height), grace.height))
    both = Image.new("RGB", (grace.width + astronaut.width, grace.height))
    both.paste(grace, (0, 0))
    both.paste(astronaut, (grace.width, 0))
    return jpeg(both)


def tiny_face(data: bytes, factor: float = 0.25, canvas: int = 480) -> bytes:
    """The photo shrunk by `factor` in the middle of a grey canvas: a face far from the camera."""
    small = _open(data)
    small = small.resize((round(small.width * factor), round(small.height * factor)), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", (canvas, canvas), (128, 128, 128))
    frame.paste(small, ((canvas - small.width) // 2, (canvas - small.height) // 2))
    return jpeg(frame, quality=95)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but holds a few bytes of pixels.

    If a decoder trusted it and started decoding it would fail on truncated data, so a refusal
    that names the pixel count proves the size was checked before any pixel was read.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
