"""Why a face attempt was refused: one typed error per stable code, naming the frame where it applies."""

from __future__ import annotations

import logging
from typing import ClassVar

from haoban.kit.errors import FieldError, Unavailable, ValidationFailed

log = logging.getLogger(__name__)


class FaceError(ValidationFailed):
    """A frame (or the reference photo) cannot be used; never a match failure.

    `index` is the position of the offending frame (None when the whole set is at fault) and
    `field` names it the way the request does, e.g. `frames[2]`.
    """

    status: ClassVar[int] = 422
    code: ClassVar[str] = "face_invalid"

    def __init__(self, index: int | None = None, detail: str | None = None, *, source: str = "frames") -> None:
        self.index = index
        self.field = source if index is None else f"{source}[{index}]"
        # What the engine saw stays with operators (DEBUG); the person reads the catalogue sentence for the code.
        self.diagnostic = detail or ""
        if detail:
            log.debug("face refusal %s at %s: %s", self.code, self.field, detail)
        super().__init__(
            self.code,
            errors=[FieldError(field=self.field, reason=self.code)],
            extra={} if index is None else {"frame": index},
        )


class FrameCount(FaceError):
    code = "frame_count"


class FrameTooLarge(FaceError):
    status = 413
    code = "frame_too_large"


class FrameTooManyPixels(FaceError):
    status = 413
    code = "frame_too_many_pixels"


class FrameUndecodable(FaceError):
    code = "frame_undecodable"


class NoFace(FaceError):
    code = "no_face"


class MultipleFaces(FaceError):
    code = "multiple_faces"


class FaceTooSmall(FaceError):
    code = "face_too_small"


class TooBlurry(FaceError):
    code = "too_blurry"


class DifferentPeople(FaceError):
    code = "different_people"


class NoMotion(FaceError):
    code = "no_motion"


class ReplayedFrame(FaceError):
    code = "replayed_frame"


BY_CODE: dict[str, type[FaceError]] = {
    cls.code: cls for cls in (FrameTooManyPixels, FrameUndecodable, NoFace, MultipleFaces, FaceTooSmall, TooBlurry)
}


class FaceBusy(Unavailable):
    """Every worker is busy and the queue is full: answer 503 and let the client retry soon."""

    code = "face_busy"

    def __init__(self, retry_after_s: int = 1) -> None:
        super().__init__("face engine is busy", headers={"Retry-After": str(retry_after_s)})


class FaceEngineDown(Unavailable):
    """A worker process died (the pool is rebuilt); the attempt was not evaluated."""

    code = "face_engine_down"

    def __init__(self) -> None:
        super().__init__("face engine restarted", headers={"Retry-After": "1"})
