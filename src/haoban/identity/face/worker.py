"""What runs inside a pool worker process: one frame in, its small FrameResult out.

face_recognition loads every dlib model when it is imported, so `init_worker` imports it
once per process (the pool's initializer) and `analyze` reuses it for every frame.

The frame is decoded at up to `decode_side`; only detection runs on a copy shrunk to
`detect_side`, and its box is scaled back up, as face_recognition's own examples do. The
face is measured, landmarked and encoded in the frame as sent, so a high-resolution
portrait keeps its detail and its size.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import threading
import time
import warnings
from typing import Any

import msgspec

from haoban.identity.face import aligned, image
from haoban.identity.face.features import FrameFailure, FrameFeatures, FrameHash, FrameResult, template_bytes

_fr: Any = None  # the face_recognition module, once loaded (it has no type stubs)


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    max_pixels: int
    detect_side: int  # detection runs on a copy with this long side
    decode_side: int  # measuring and encoding run on the frame with up to this long side
    hash_scale: float


WORKER_NICENESS = 10


def _exit_with_parent(parent: int) -> None:
    """A server killed with SIGKILL leaves its pool's workers behind; they leave too, within a second."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def init_worker() -> None:
    """Load the dlib models (detector, landmark predictors, ResNet encoder) once in this process."""
    global _fr  # noqa: PLW0603 - one loaded model set per process is the point
    if _fr is None:  # the pool's initializer; the warm-up task may run it again in the same process
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    # Face work yields the CPU to the event loop and the database: other routes must not wait on it.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # face_recognition_models imports the deprecated pkg_resources
        _fr = importlib.import_module("face_recognition")


def _faces(rgb: image.RGB, detect_side: int) -> list[image.Box]:
    """HOG boxes on the shrunken copy, in the frame's pixels.

    The copy is searched without upsampling first (the HOG window is 80 px). Only when that
    finds nothing is it searched again at 2x, so a face that is small in the copy is still
    found and then judged by its size in the frame itself. The happy path never pays for
    the upsampled search (it costs about 4x the plain one).
    """
    long_side = max(rgb.shape[:2])
    passes = [(detect_side, 0), (detect_side, 1)]
    if long_side > detect_side:  # a large frame is searched once more at twice the size
        passes.append((2 * detect_side, 1))
    for side, upsample in passes:
        small, factor = image.shrink(rgb, side)
        boxes: list[image.Box] = _fr.face_locations(small, number_of_times_to_upsample=upsample, model="hog")
        if boxes:
            return [image.scale_box(box, factor, rgb.shape) for box in boxes]
    return []


REFITS = 3  # landmark passes after the first, each on a box made from the previous pass's eyes
REFIT_SCALE = 2.0  # that box is this many eye distances wide


def _eyes(rgb: image.RGB, box: image.Box) -> tuple[tuple[float, float], tuple[float, float]]:
    """Eye centres (means of the 68-point model's six points per eye), image-left first.

    The shape predictor starts from the detector box, and HOG boxes snap to the pyramid: a
    re-encoded copy of a frame can get a box 20 % larger and landmarks that differ by 2-3
    degrees of roll. Refitting on a box built from the eyes themselves converges to the same
    landmarks whatever box the detector gave: on re-encoded and resized copies, roll jitter
    fell from 2.5 to about 1.5 degrees and size jitter from 21 % to 5 % (bench/README.md).
    """
    for refit in range(REFITS + 1):
        marks: dict[str, list[image.Point]] = _fr.face_landmarks(rgb, [box], model="large")[0]
        left, right = sorted((image.mean_point(marks["left_eye"]), image.mean_point(marks["right_eye"])))
        if refit < REFITS:
            box = image.face_square(left, right, REFIT_SCALE)
    return left, right


SHARPNESS_SCALE = 2.0  # sharpness is judged on a square this many eye distances wide


DOMINANT = 2.0  # in a registry photo, a face this many times larger than any other is the holder's


def _one_face(boxes: list[image.Box], dominant: bool) -> image.Box | None:
    """The one face, or (for a registry photo) the face that dwarfs the others, such as a hologram's."""
    if len(boxes) == 1:
        return boxes[0]
    if dominant and len(boxes) > 1:
        ranked = sorted(boxes, key=image.box_short_side, reverse=True)
        if image.box_short_side(ranked[0]) >= DOMINANT * image.box_short_side(ranked[1]):
            return ranked[0]
    return None


def analyze(data: bytes, index: int, encode: bool, limits: Limits, *, dominant: bool = False) -> FrameResult:
    """Decode, detect on a shrunken copy, then landmark, measure and (when asked) encode at full size."""
    if _fr is None:
        init_worker()
    try:
        rgb = image.decode_frame(data, max_pixels=limits.max_pixels, max_side=limits.decode_side)
    except image.DecodeRefused as exc:
        return FrameFailure(index=index, code=exc.code, detail=str(exc))
    boxes = _faces(rgb, limits.detect_side)
    box = _one_face(boxes, dominant)
    if box is None:
        code = "no_face" if not boxes else "multiple_faces"
        return FrameFailure(index=index, code=code, detail=f"{len(boxes)} faces found")
    left, right = _eyes(rgb, box)
    template = None
    if encode:
        encoding = _fr.face_encodings(rgb, [box], num_jitters=1, model="small")[0]
        template = template_bytes(encoding)
    face_bits, luma = aligned.face_hash(rgb, left, right)
    hashed = image.face_square(left, right, limits.hash_scale)
    gray = image.to_gray(_region(rgb, hashed))
    face = _shift(image.face_square(left, right, SHARPNESS_SCALE), (max(hashed[0], 0), max(hashed[3], 0)))
    width = rgb.shape[1]
    return FrameFeatures(
        index=index,
        face_px=image.box_short_side(box),
        sharpness=image.face_sharpness(gray, face),
        hash=FrameHash(
            dhash=image.dhash(gray),
            x=(left[0] + right[0]) / 2 / width,
            y=(left[1] + right[1]) / 2 / width,
            iod=max(1.0, math.dist(left, right)) / width,
            roll=image.roll_degrees(left, right),
            face=face_bits,
            luma=luma,
        ),
        template=template,
    )


def _region(rgb: image.RGB, box: image.Box) -> image.RGB:
    """The pixels of `box` clipped to the frame (greying only the face, not a 4-megapixel frame)."""
    top, right, bottom, left = box
    height, width = rgb.shape[:2]
    return rgb[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]


def _shift(box: image.Box, offset: tuple[int, int]) -> image.Box:
    """`box` in the coordinates of a region whose top-left corner is `offset` (top, left)."""
    top, right, bottom, left = box
    dy, dx = offset
    return (top - dy, right - dx, bottom - dy, left - dx)
