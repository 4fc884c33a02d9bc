"""Face engine settings: frozen, read once from the environment, every bad value named.

The defaults come from bench/face_bench.py runs on the shipped photos; bench/README.md says
what each number was chosen against.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import msgspec

from haoban.kit.settings_error import SettingsError


def _cpus() -> int:
    """One face worker per core but one, so the event loop and the database keep a core."""
    return max(1, (os.cpu_count() or 1) - 1)


class FaceSettings(msgspec.Struct, frozen=True, kw_only=True):
    workers: int = msgspec.field(default_factory=_cpus)
    queue_per_worker: int = 4  # attempts of max_frames each may wait per worker before FaceBusy
    match_threshold: float = 0.5  # fused encoding distance below this is a match
    fusion: Literal["mean", "median", "min"] = "mean"  # how the encoded frames' distances combine
    encode_frames: int = 2  # frames of an attempt encoded (chosen at random); the rest only give motion evidence
    min_frames: int = 3
    max_frames: int = 5
    max_frame_bytes: int = 1_048_576
    max_reference_bytes: int = 16 * 1_048_576  # the registry's own photo: trusted, but still bounded
    max_pixels: int = 20_000_000  # refused from the header, before any pixel is decoded
    max_side: int = 640  # detection runs on a copy with this long side; its boxes are scaled back
    decode_side: int = 2048  # the face is measured and encoded in the frame at up to this long side
    min_face_px: int = 64  # short side of the detector box, in the frame's own pixels (bench: distances rise below)
    min_sharpness: float = 60.0  # variance of the Laplacian of the face at 112 px (image.face_sharpness)
    hash_scale: float = 3.0  # the hashed face square is this many eye distances wide
    min_roll_deg: float = 3.0  # motion: some pair of frames differs this much in roll...
    min_shift: float = 0.15  # ...or its eye midpoints are this many eye distances apart
    same_bits: int = 12  # same picture: dHash within this many bits...
    same_roll_deg: float = 1.8  # ...and roll, position and size within landmark jitter
    same_shift: float = 0.05
    same_scale: float = 0.06
    replay_bits: int = 40  # replay: the aligned face within this many of 256 bits of a seen frame's...
    replay_roll_deg: float = 1.2  # ...the roll within this (mirror-aware)...
    replay_luma: float = 0.02  # ...and the aligned face's brightness within this share...
    replay_frames: int = 2  # ...for this many frames of the attempt

    @property
    def queue_frames(self) -> int:
        """Frame tasks allowed in flight (running or queued) before new attempts get FaceBusy."""
        return self.workers * self.queue_per_worker * self.max_frames


def _number(env: Mapping[str, str], name: str, default: float, lo: float, hi: float, *, integer: bool) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def load_face_settings(env: Mapping[str, str]) -> FaceSettings:
    """Build FaceSettings from HAOBAN_FACE_* variables; raise SettingsError naming the bad one."""
    base = FaceSettings()

    def integer(suffix: str, default: int, lo: int, hi: int) -> int:
        return int(_number(env, f"HAOBAN_FACE_{suffix}", default, lo, hi, integer=True))

    def real(suffix: str, default: float, lo: float, hi: float) -> float:
        return _number(env, f"HAOBAN_FACE_{suffix}", default, lo, hi, integer=False)

    max_frames = base.max_frames
    return FaceSettings(
        workers=integer("WORKERS", base.workers, 1, 64),
        queue_per_worker=integer("QUEUE_PER_WORKER", base.queue_per_worker, 1, 100),
        match_threshold=real("MATCH_THRESHOLD", base.match_threshold, 0.2, 0.8),
        encode_frames=integer("ENCODE_FRAMES", base.encode_frames, 2, max_frames),
        max_frame_bytes=integer("MAX_FRAME_BYTES", base.max_frame_bytes, 10_000, 8 * 1_048_576),
        max_pixels=integer("MAX_PIXELS", base.max_pixels, 1_000_000, 100_000_000),
        min_face_px=integer("MIN_FACE_PX", base.min_face_px, 40, 400),
        min_sharpness=real("MIN_SHARPNESS", base.min_sharpness, 0.0, 10_000.0),
        min_roll_deg=real("MIN_ROLL_DEG", base.min_roll_deg, 1.0, 30.0),
        min_shift=real("MIN_SHIFT", base.min_shift, 0.05, 2.0),
    )
