"""What runs inside a pool worker process: one frame in, its small FrameResult out.

face_recognition loads every dlib model when it is imported, so `init_worker` imports it
once per process (the pool's initializer) and `analyze` reuses it for every frame.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import warnings
from typing import Any

import msgspec

from haoban.identity.face import image
from haoban.identity.face.features import FrameFailure, FrameFeatures, FrameHash, FrameResult, template_bytes

_fr: Any = None  # the face_recognition module, once loaded (it has no type stubs)


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    max_pixels: int
    max_side: int
    hash_scale: float


WORKER_NICENESS = 10


def init_worker() -> None:
    """Load the dlib models (detector, landmark predictors, ResNet encoder) once in this process."""
    global _fr  # noqa: PLW0603 - one loaded model set per process is the point
    # Face work yields the CPU to the event loop and the database: other routes must not wait on it.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # face_recognition_models imports the deprecated pkg_resources
        _fr = importlib.import_module("face_recognition")


def _faces(rgb: image.RGB) -> list[image.Box]:
    """HOG boxes without upsampling: its 80 px window matches the minimum face size.

    Only when that finds nothing is the frame searched again at 2x, so a face that is merely
    too far away is reported as `face_too_small` rather than `no_face`. The happy path never
    pays for the upsampled search (it costs about 4x the plain one).
    """
    boxes: list[image.Box] = _fr.face_locations(rgb, number_of_times_to_upsample=0, model="hog")
    if not boxes:
        boxes = _fr.face_locations(rgb, number_of_times_to_upsample=1, model="hog")
    return boxes


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


def analyze(data: bytes, index: int, encode: bool, limits: Limits) -> FrameResult:
    """Decode, downscale, detect, landmark, measure and (when asked) encode one frame."""
    if _fr is None:
        init_worker()
    try:
        rgb = image.decode_frame(data, max_pixels=limits.max_pixels, max_side=limits.max_side)
    except image.DecodeRefused as exc:
        return FrameFailure(index=index, code=exc.code, detail=str(exc))
    boxes = _faces(rgb)
    if len(boxes) != 1:
        code = "no_face" if not boxes else "multiple_faces"
        return FrameFailure(index=index, code=code, detail=f"{len(boxes)} faces found")
    box = boxes[0]
    left, right = _eyes(rgb, box)
    gray = image.to_gray(rgb)
    width = rgb.shape[1]
    template = None
    if encode:
        encoding = _fr.face_encodings(rgb, boxes, num_jitters=1, model="small")[0]
        template = template_bytes(encoding)
    return FrameFeatures(
        index=index,
        face_px=image.box_short_side(box),
        sharpness=image.laplacian_variance(image.crop(gray, box)),
        hash=FrameHash(
            dhash=image.dhash(image.crop(gray, image.face_square(left, right, limits.hash_scale))),
            x=(left[0] + right[0]) / 2 / width,
            y=(left[1] + right[1]) / 2 / width,
            iod=max(1.0, math.dist(left, right)) / width,
            roll=image.roll_degrees(left, right),
        ),
        template=template,
    )
