"""A replay fingerprint of the face itself: the face aligned on the eyes, hashed by random projections.

The frame's own geometry (where the face sits, how large the frame is, which way it faces)
is what a crop, a rescale or a mirror image changes; the aligned face is what they keep. So
the face is cut out by a similarity transform that puts the eyes at fixed points of a small
square chip, normalised for brightness and contrast, and reduced to 256 bits by the signs of
fixed random projections (SimHash: the share of differing bits estimates the angle between
two chips). A mirror image gives the mirrored chip, so each frame keeps the bits of both.
The bits cannot be turned back into a picture of the face, unlike the chip.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt
from PIL import Image

from haoban.identity.face.image import RGB

CHIP = 32  # side of the aligned face, px
EYE_ROW = 0.36  # the eyes sit at this height of the chip...
EYE_GAP = 0.42  # ...this share of its width apart
BITS = 256
HASH_BYTES = 2 * BITS // 8  # the chip's bits, then its mirror's
_OVERSAMPLE = 2  # the chip is sampled at twice its size, then box-reduced


@cache
def _projections() -> npt.NDArray[np.float32]:
    """Fixed random directions: every process and every release must draw the same ones."""
    rng = np.random.default_rng(20_261_207)
    return rng.standard_normal((BITS, CHIP * CHIP)).astype(np.float32)


def chip(
    rgb: RGB, left_eye: tuple[float, float], right_eye: tuple[float, float]
) -> tuple[npt.NDArray[np.float32], float]:
    """The face as a CHIP x CHIP grey square with the eyes level at fixed points, zero mean, unit
    variance; and its mean brightness before that."""
    (lx, ly), (rx, ry) = sorted((left_eye, right_eye))
    iod = max(1.0, math.hypot(rx - lx, ry - ly))
    cos, sin = (rx - lx) / iod, (ry - ly) / iod
    side = CHIP * _OVERSAMPLE
    scale = iod / (EYE_GAP * side)  # source pixels per chip pixel
    # Reduce the face's neighbourhood first, so large faces are averaged rather than aliased.
    half = 0.75 * side * scale * math.sqrt(2)
    mx, my = (lx + rx) / 2, (ly + ry) / 2
    box = (max(0, int(mx - half)), max(0, int(my - half)), int(mx + half) + 1, int(my + half) + 1)
    region = Image.fromarray(rgb).crop(box).convert("L")
    factor = max(1, int(scale))
    if factor > 1:
        region = region.reduce(factor)
    ox, oy = (mx - box[0]) / factor, (my - box[1]) / factor
    s = scale / factor
    cx, cy = side / 2, EYE_ROW * side
    a, b, d, e = s * cos, -s * sin, s * sin, s * cos
    coefficients = (a, b, ox - a * cx - b * cy, d, e, oy - d * cx - e * cy)
    aligned = region.transform((side, side), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR)
    pixels = np.asarray(aligned.reduce(_OVERSAMPLE), dtype=np.float32)
    luma = float(pixels.mean())
    centred: npt.NDArray[np.float32] = pixels - np.float32(luma)
    spread = float(centred.std())
    return (centred / np.float32(spread) if spread > 1e-3 else centred), luma


def _bits(values: npt.NDArray[np.float32]) -> bytes:
    return np.packbits(_projections() @ values.reshape(-1) > 0).tobytes()


def face_hash(rgb: RGB, left_eye: tuple[float, float], right_eye: tuple[float, float]) -> tuple[bytes, float]:
    """HASH_BYTES (the aligned face's bits, then its mirror image's) and the aligned face's brightness."""
    face, luma = chip(rgb, left_eye, right_eye)
    return _bits(face) + _bits(face[:, ::-1].copy()), luma


def distances(a: bytes, b: bytes) -> tuple[int, int]:
    """Differing bits between `a`'s face and `b`'s face, and between `a`'s face and `b`'s mirror image."""
    if len(a) != HASH_BYTES or len(b) != HASH_BYTES:
        raise ValueError(f"a face hash is {HASH_BYTES} bytes")
    half = HASH_BYTES // 2
    mine = int.from_bytes(a[:half], "big")
    same, mirrored = ((mine ^ int.from_bytes(b[i : i + half], "big")).bit_count() for i in (0, half))
    return same, mirrored
