"""Why a face attempt was refused: one typed error per stable code, naming the frame where it applies."""

from __future__ import annotations

from typing import ClassVar

from haoban.kit.errors import FieldError, Unavailable, ValidationFailed


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
        super().__init__(
            detail or self.code,
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


# Problem titles for kit/messages.TITLES (zh, en); kept here until the lead merges them.
TITLES: dict[str, tuple[str, str]] = {
    "frame_count": ("照片数量不正确", "Wrong number of frames"),
    "frame_too_large": ("照片文件过大", "Frame file too large"),
    "frame_too_many_pixels": ("照片像素过多", "Frame has too many pixels"),
    "frame_undecodable": ("照片无法解析", "Frame is not a readable JPEG or PNG"),
    "no_face": ("未检测到人脸", "No face found"),
    "multiple_faces": ("检测到多张人脸", "More than one face found"),
    "face_too_small": ("人脸过小", "Face too small; move closer"),
    "too_blurry": ("照片模糊", "Frame too blurry; hold still"),
    "different_people": ("照片中不是同一个人", "Frames show different people"),
    "no_motion": ("未检测到头部动作", "No head movement between frames"),
    "replayed_frame": ("照片已被使用过", "Frame was already used"),
    "face_busy": ("人脸服务繁忙", "Face service busy; retry shortly"),
    "face_engine_down": ("人脸服务正在重启", "Face service restarting; retry shortly"),
}
