"""Phone-like login frames made from a still photo, by seed: the sandbox's camera.

A real login sends 3-5 camera frames of a moving face. Each frame here is the photo rotated
by 3-8 degrees (alternating direction), shifted, scaled by 0.9-1.1, brightened or darkened,
and recompressed as JPEG. A seed is also a session: where the face sits, how close the
camera is, a slight turn of the head and the light falling across the face are drawn once per
seed, as two logins in two places would differ. `max_side` caps the long side the way a
phone's capture size does. Used by the demo script, the bench and the evaluation harness.
"""

from __future__ import annotations

import io
import random
from importlib import resources

import numpy as np
from PIL import Image, ImageEnhance

PHOTOS = ("grace_hopper.jpg", "astronaut.jpg")
PHONE_SIDE = 1280  # a phone's 720p capture: the long side of every frame the harness makes


def photo(name: str) -> bytes:
    """One of the demo ID photos shipped in haoban.sandbox (public domain, one face each)."""
    return resources.files("haoban.sandbox").joinpath("photos", name).read_bytes()


def open_rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
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


def _turn(image: Image.Image, yaw: float) -> Image.Image:
    """A slight turn of the head, as a horizontal perspective: one side narrows by `yaw` of the height."""
    width, height = image.size
    inset = abs(yaw) * height
    # The source quad mapped onto the output: upper-left, lower-left, lower-right, upper-right.
    if yaw >= 0:
        quad = [(0, 0), (0, height), (width, height + inset), (width, -inset)]
    else:
        quad = [(0, -inset), (0, height + inset), (width, height), (width, 0)]
    return image.transform(image.size, Image.Transform.QUAD, [c for xy in quad for c in xy], Image.Resampling.BICUBIC)


def _light(image: Image.Image, angle: float, strength: float) -> Image.Image:
    """Light falling across the picture from one side: a linear gain from 1-strength to 1+strength."""
    width, height = image.size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    along = (xs / width - 0.5) * np.cos(angle) + (ys / height - 0.5) * np.sin(angle)
    gain = 1.0 + 2.0 * strength * along
    pixels = np.asarray(image, dtype=np.float32) * gain[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _step_back(image: Image.Image, margin: float) -> Image.Image:
    """The camera further away: the picture on a canvas `margin` of its size larger on each side."""
    width, height = image.size
    fill = tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(axis=0))
    canvas = Image.new("RGB", (round(width * (1 + 2 * margin)), round(height * (1 + 2 * margin))), fill)
    canvas.paste(image, (round(width * margin), round(height * margin)))
    return canvas


def make_frames(
    base: bytes, n: int = 5, seed: int = 0, *, max_side: int | None = None, margin: float = 0.0
) -> list[bytes]:
    """N distinct frames of the face in `base`: small rotation, shift, scale, brightness, JPEG quality.

    Per seed (a session): where the face sits in the picture (up to 7 % off), how close the
    camera is (up to 12 % closer), a head turn and the light across the face. Without that,
    every attempt would be the same photo within a few pixels, and frames of two attempts would
    be replays of each other, which the engine rightly refuses. `margin` steps the camera back
    (the face smaller in the frame).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test frames, not secrets
    source = open_rgb(base)
    if margin > 0:
        source = _step_back(source, margin)
    if max_side is not None:
        source.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    width, height = source.size
    source = _light(_turn(source, rng.uniform(-0.04, 0.04)), rng.uniform(0, 2 * np.pi), rng.uniform(0.12, 0.22))
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
        if max_side is not None:
            scale = min(scale, max_side / max(width, height))
        size = (round(width * scale), round(height * scale))
        moved = moved.resize(size, Image.Resampling.LANCZOS, box=view_box)
        moved = ImageEnhance.Brightness(moved).enhance(rng.uniform(0.8, 1.2))
        frames.append(jpeg(moved, quality=rng.randint(75, 92)))
    return frames
