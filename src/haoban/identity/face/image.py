"""Pure image measurements over numpy arrays: decoding with limits, sharpness, dHash, roll.

Nothing here touches dlib, so every function is unit-testable in-process and cheap.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

RGB = npt.NDArray[np.uint8]
Gray = npt.NDArray[np.float32]
Box = tuple[int, int, int, int]  # (top, right, bottom, left), face_recognition's order
Point = tuple[int, int]  # (x, y)

FORMATS = ("JPEG", "PNG", "WEBP")  # what phone cameras and registries hand over


class DecodeRefused(ValueError):
    """The bytes are not an acceptable image; `code` is the stable error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def decode_frame(data: bytes, *, max_pixels: int, max_side: int) -> RGB:
    """Decode a JPEG, PNG or WebP into upright RGB, refusing decompression bombs before any pixel is decoded.

    `Image.open` reads only the header, so the pixel count is checked on the declared size.
    The long side is kept up to `max_side`: large JPEGs are decoded at a reduced DCT scale
    (`draft`, never below `max_side`) and then downscaled. Faces are measured and encoded at
    this resolution; only detection runs on a smaller copy (`shrink`).
    """
    # `import face_recognition` sets Pillow's LOAD_TRUNCATED_IMAGES for the whole
    # process; a truncated frame must be refused, not padded with grey.
    lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise DecodeRefused("frame_too_many_pixels", f"{width}x{height} is more than {max_pixels} pixels")
            if image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except DecodeRefused:
        raise
    except Image.DecompressionBombError:
        raise DecodeRefused("frame_too_many_pixels", "declared size trips Pillow's bomb guard") from None
    except UnidentifiedImageError:
        raise DecodeRefused("frame_undecodable", "not a JPEG, PNG or WebP image") from None
    except Exception as exc:  # noqa: BLE001 - any failure on untrusted bytes (struct.error, EOFError...) is the same refusal
        raise DecodeRefused("frame_undecodable", f"could not decode ({type(exc).__name__})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(upright, dtype=np.uint8)


def shrink(rgb: RGB, side: int) -> tuple[RGB, float]:
    """A copy whose long side is at most `side`, and the factor from the original to it (<= 1)."""
    height, width = rgb.shape[:2]
    factor = min(1.0, side / max(height, width))
    if factor >= 1.0:
        return rgb, 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(small, dtype=np.uint8), factor


def scale_box(box: Box, factor: float, shape: tuple[int, ...]) -> Box:
    """A box found on a shrunken copy, in the original's pixels (clipped to it)."""
    top, right, bottom, left = (v / factor for v in box)
    height, width = shape[:2]
    return (max(0, round(top)), min(width, round(right)), min(height, round(bottom)), max(0, round(left)))


def to_gray(rgb: RGB) -> Gray:
    """ITU-R 601 luma as float32, the same weights Pillow's "L" mode uses."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gray: Gray = rgb.astype(np.float32) @ weights
    return gray


def crop(gray: Gray, box: Box) -> Gray:
    """The face box clipped to the image."""
    top, right, bottom, left = box
    height, width = gray.shape
    return gray[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]


SHARPNESS_SIDE = 112  # the face square is judged at this size, whatever its size in the frame


def face_sharpness(gray: Gray, square: Box) -> float:
    """Laplacian variance of the face square resampled to SHARPNESS_SIDE px: blur relative to the face.

    Per-pixel sharpness falls as a face gets larger (a studio portrait's smooth skin spreads
    each edge over many pixels), so it is measured on the face at one fixed size.
    """
    face = crop(gray, square)
    if face.shape[0] < 3 or face.shape[1] < 3:
        return 0.0
    thumb = Image.fromarray(np.clip(face, 0, 255).astype(np.uint8)).resize(
        (SHARPNESS_SIDE, SHARPNESS_SIDE), Image.Resampling.BOX
    )
    return laplacian_variance(np.asarray(thumb, dtype=np.float32))


def laplacian_variance(gray: Gray) -> float:
    """Variance of the 4-neighbour Laplacian: low means few edges, i.e. blur or defocus."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    lap = gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4.0 * gray[1:-1, 1:-1]
    return float(lap.var())


def dhash(gray: Gray) -> int:
    """64-bit difference hash: each bit says whether a pixel of a 9x8 thumbnail is brighter than its right neighbour."""
    if gray.size == 0:
        return 0
    thumb = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).resize((9, 8), Image.Resampling.BOX)
    pixels = np.asarray(thumb, dtype=np.int16)
    bits = (pixels[:, 1:] > pixels[:, :-1]).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def mean_point(points: Sequence[Point]) -> tuple[float, float]:
    if not points:
        raise ValueError("no landmark points")
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def roll_degrees(left_eye: tuple[float, float], right_eye: tuple[float, float]) -> float:
    """Head roll: the angle of the line from the image-left eye to the image-right eye (0 = level)."""
    (lx, ly), (rx, ry) = sorted((left_eye, right_eye))
    return math.degrees(math.atan2(ry - ly, rx - lx))


def face_square(left_eye: tuple[float, float], right_eye: tuple[float, float], scale: float) -> Box:
    """A square of `scale` eye distances around the face, anchored on the eyes rather than the detector box.

    HOG boxes snap to the detector's pyramid, so a re-encoded copy can get a box 20 % larger;
    eye centres (means of six landmarks each) move by about a pixel.
    """
    iod = math.dist(left_eye, right_eye)
    cx = (left_eye[0] + right_eye[0]) / 2
    cy = (left_eye[1] + right_eye[1]) / 2 + 0.5 * iod  # the eyes sit above the middle of the face
    half = scale * iod / 2
    return (round(cy - half), round(cx + half), round(cy + half), round(cx - half))


def box_short_side(box: Box) -> int:
    top, right, bottom, left = box
    return min(bottom - top, right - left)
