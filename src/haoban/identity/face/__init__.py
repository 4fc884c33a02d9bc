"""Face engine: checks 3-5 login frames and matches them to a reference template.

Use `ProcessPoolFaceEngine(load_face_settings(os.environ))` through the `FaceEngine` port.
Every refusal is a `FaceError` with a stable code; a busy pool raises `FaceBusy` (503).
"""

from haoban.identity.face.checks import match
from haoban.identity.face.engine import FaceEngine, ProcessPoolFaceEngine, Verification
from haoban.identity.face.errors import FaceBusy, FaceEngineDown, FaceError
from haoban.identity.face.features import Encoding, FrameHash, template_bytes, template_from_bytes
from haoban.identity.face.settings import FaceSettings, load_face_settings

__all__ = [
    "Encoding",
    "FaceBusy",
    "FaceEngine",
    "FaceEngineDown",
    "FaceError",
    "FaceSettings",
    "FrameHash",
    "ProcessPoolFaceEngine",
    "Verification",
    "load_face_settings",
    "match",
    "template_bytes",
    "template_from_bytes",
]
