"""The small values a worker sends back for one frame, and the 512-byte face template."""

from __future__ import annotations

import struct

import msgspec
import numpy as np
import numpy.typing as npt

Encoding = npt.NDArray[np.float64]
"""A 128-d face_recognition encoding (unit-free; faces match when their Euclidean distance is small)."""

TEMPLATE_DIM = 128
TEMPLATE_BYTES = TEMPLATE_DIM * 4
_HASH_FORMAT = "<Q4f"
HASH_BYTES = struct.calcsize(_HASH_FORMAT)
_HASH_FORMAT_V2 = "<Q5f"  # with the face's brightness
HASH_BYTES_V2 = struct.calcsize(_HASH_FORMAT_V2)
FACE_HASH_BYTES = 64  # aligned.HASH_BYTES


class FrameHash(msgspec.Struct, frozen=True, kw_only=True):
    """What identifies a picture without keeping it: a 64-bit dHash of the face plus where the face sat.

    Positions and the eye distance are fractions of the frame width, so a resized copy hashes the same.
    Two frames are the same picture when the dHash is close AND the face is where it was
    (see `checks.same_picture`); the dHash alone cannot tell a copy from a new frame of a still
    face, because a 9x8 thumbnail does not change under a few degrees of rotation.
    """

    dhash: int
    x: float
    y: float
    iod: float
    roll: float
    face: bytes = b""  # aligned.face_hash: what a crop, rescale or mirror of the frame keeps (b"" in old rows)
    luma: float = 0.0  # mean brightness of the face, which those keep too

    def to_bytes(self) -> bytes:
        """For the 24-hour replay store: 24 bytes (old rows), or 28 bytes and the aligned face's hash."""
        if not self.face:
            return struct.pack(_HASH_FORMAT, self.dhash, self.x, self.y, self.iod, self.roll)
        return struct.pack(_HASH_FORMAT_V2, self.dhash, self.x, self.y, self.iod, self.roll, self.luma) + self.face

    @classmethod
    def from_bytes(cls, raw: bytes) -> FrameHash:
        if len(raw) == HASH_BYTES:
            dhash, x, y, iod, roll = struct.unpack(_HASH_FORMAT, raw)
            return cls(dhash=dhash, x=x, y=y, iod=iod, roll=roll)
        if len(raw) == HASH_BYTES_V2 + FACE_HASH_BYTES:
            dhash, x, y, iod, roll, luma = struct.unpack(_HASH_FORMAT_V2, raw[:HASH_BYTES_V2])
            return cls(dhash=dhash, x=x, y=y, iod=iod, roll=roll, luma=luma, face=raw[HASH_BYTES_V2:])
        raise ValueError(f"a frame hash is {HASH_BYTES} or {HASH_BYTES_V2 + FACE_HASH_BYTES} bytes, got {len(raw)}")


class FrameFailure(msgspec.Struct, frozen=True, kw_only=True):
    """The worker could not get one face out of the frame; `code` is an errors.BY_CODE key."""

    index: int
    code: str
    detail: str


class FrameFeatures(msgspec.Struct, frozen=True, kw_only=True):
    """Measurements of the one face in a frame, in the frame's own pixels (up to `decode_side`)."""

    index: int
    face_px: int
    sharpness: float
    hash: FrameHash
    template: bytes | None  # TEMPLATE_BYTES when this frame was chosen for encoding


FrameResult = FrameFailure | FrameFeatures


def template_bytes(encoding: Encoding) -> bytes:
    """float32 little-endian, 512 bytes: what the caller encrypts with FieldCipher."""
    array = np.asarray(encoding, dtype=np.float64)
    if array.shape != (TEMPLATE_DIM,) or not np.isfinite(array).all():
        raise ValueError(f"an encoding is {TEMPLATE_DIM} finite numbers")
    return array.astype("<f4").tobytes()


def template_from_bytes(raw: bytes) -> Encoding:
    if len(raw) != TEMPLATE_BYTES:
        raise ValueError(f"a face template is {TEMPLATE_BYTES} bytes, got {len(raw)}")
    array = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError("a face template holds only finite numbers")
    return array


def distance(a: Encoding, b: Encoding) -> float:
    return float(np.linalg.norm(a - b))
