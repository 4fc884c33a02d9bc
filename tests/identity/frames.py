"""Make login frames from a still photo, deterministically by seed.

A real login sends 3-5 camera frames of a moving face. Here each frame is the photo
rotated by 3-8 degrees (alternating direction), shifted, scaled by 0.9-1.1, brightened or
darkened, and recompressed as JPEG. Also: images that must be refused (no face, two
faces, blur, a tiny face, a decompression bomb).
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from importlib import resources

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

PHOTOS = ("grace_hopper.jpg", "astronaut.jpg")


def photo(name: str) -> bytes:
    """One of the demo ID photos shipped in haoban.sandbox (public domain, one face each)."""
    return resources.files("haoban.sandbox").joinpath("photos", name).read_bytes()


def _open(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _angles(rng: random.Random, n: int) -> list[float]:
    """Alternating tilts of 3-8 degrees; tilts in the same direction are spread over the range."""
    angles = [0.0] * n
    for sign, indices in ((1, range(0, n, 2)), (-1, range(1, n, 2))):
        count = len(indices)
        spots = [3.0 + 5.0 * k / max(count - 1, 1) for k in range(count)]
        rng.shuffle(spots)
        for i, spot in zip(indices, spots, strict=True):
            angles[i] = sign * min(8.0, max(3.0, spot + rng.uniform(-0.4, 0.4)))
    return angles


def _spread(rng: random.Random, n: int, limit: float) -> list[float]:
    """N sideways shifts within +-limit, evenly spaced and shuffled.

    Two frames tilted the same way a degree apart and shifted alike differ by less than
    landmark jitter, and the engine rightly calls them copies; spacing the shifts prevents that.
    """
    spots = [-limit + 2 * limit * k / max(n - 1, 1) + rng.uniform(-0.002, 0.002) for k in range(n)]
    rng.shuffle(spots)
    return spots


def make_frames(base: bytes, n: int = 5, seed: int = 0) -> list[bytes]:
    """N distinct frames of the face in `base`: small rotation, shift, scale, brightness, JPEG quality.

    A seed is also a session: where the face sits in the picture (up to 7 % off) and how close
    the camera is (up to 12 % closer) are drawn once per seed, as two logins frame a face
    differently. Without that, every attempt would be the same photo within a few pixels, and
    frames of two attempts would look like replays of each other far more often than real ones.
    """
    rng = random.Random(seed)
    source = _open(base)
    width, height = source.size
    fill = tuple(int(v) for v in np.asarray(source).reshape(-1, 3).mean(axis=0))
    session_x, session_y = rng.uniform(-0.07, 0.07) * width, rng.uniform(-0.07, 0.07) * height
    zoom = rng.uniform(1.0, 1.12)
    view = (width * (1 - 1 / zoom) / 2, height * (1 - 1 / zoom) / 2)
    view_box = (view[0], view[1], width - view[0], height - view[1])
    frames = []
    for angle, shift in zip(_angles(rng, n), _spread(rng, n, 0.05), strict=True):
        dx = round(session_x + shift * width)
        dy = round(session_y + rng.uniform(-0.05, 0.05) * height)
        moved = source.rotate(angle, resample=Image.Resampling.BICUBIC, translate=(dx, dy), fillcolor=fill)
        scale = rng.uniform(0.9, 1.1)
        size = (round(width * scale), round(height * scale))
        moved = moved.resize(size, Image.Resampling.LANCZOS, box=view_box)
        moved = ImageEnhance.Brightness(moved).enhance(rng.uniform(0.85, 1.15))
        frames.append(jpeg(moved, quality=rng.randint(75, 92)))
    return frames


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
