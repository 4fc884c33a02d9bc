"""The cross-frame checks and the match, as pure functions over the workers' small results.

`assess` runs them in the issue's order and fails closed on the first problem: every frame
decodes; exactly one face per frame; the face is large and sharp enough; the encoded frames
show one person; the frames are not copies and the face moved; no frame was seen before.
Only then may `match` compare against the reference.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from itertools import combinations
from typing import Literal

from haoban.identity.face import aligned, errors
from haoban.identity.face.features import (
    TEMPLATE_DIM,
    Encoding,
    FrameFailure,
    FrameFeatures,
    FrameHash,
    FrameResult,
    distance,
    template_from_bytes,
)
from haoban.identity.face.image import hamming
from haoban.identity.face.settings import FaceSettings

DECODE_CODES = ("frame_too_many_pixels", "frame_undecodable")
FACE_CODES = ("no_face", "multiple_faces")


def usable_faces(results: Sequence[FrameResult], s: FaceSettings, *, reference: bool = False) -> list[FrameFeatures]:
    """Stages 1-3: each frame decodes, then has exactly one face, then that face is big and sharp enough.

    With `reference=True` the one result is the reference photo and errors name `reference`.
    """

    def fail(error: type[errors.FaceError], index: int, detail: str) -> errors.FaceError:
        return error(None, detail, source="reference") if reference else error(index, detail)

    for stage in (DECODE_CODES, FACE_CODES):
        for result in results:
            if isinstance(result, FrameFailure) and result.code in stage:
                raise fail(errors.BY_CODE[result.code], result.index, result.detail)
    faces = [r for r in results if isinstance(r, FrameFeatures)]
    if len(faces) != len(results):  # a code outside the stages above: refuse rather than guess
        failure = next(r for r in results if isinstance(r, FrameFailure))
        raise fail(errors.FrameUndecodable, failure.index, failure.detail)
    for face in faces:
        if face.face_px < s.min_face_px:
            raise fail(errors.FaceTooSmall, face.index, f"face is {face.face_px} px, needs {s.min_face_px}")
    for face in faces:
        if face.sharpness < s.min_sharpness:
            raise fail(errors.TooBlurry, face.index, f"sharpness {face.sharpness:.0f} < {s.min_sharpness:.0f}")
    return faces


def encodings(faces: Sequence[FrameFeatures]) -> dict[int, Encoding]:
    return {f.index: template_from_bytes(f.template) for f in faces if f.template is not None}


def check_same_person(encoded: dict[int, Encoding], threshold: float) -> None:
    """Stage 4: every pair of encoded frames is within the match threshold of each other."""
    for (i, a), (j, b) in combinations(sorted(encoded.items()), 2):
        if (d := distance(a, b)) >= threshold:
            raise errors.DifferentPeople(j, f"frames[{i}] and frames[{j}] are {d:.2f} apart")


def shift(a: FrameHash, b: FrameHash) -> float:
    """How far the eye midpoint moved, in eye distances."""
    return math.hypot(a.x - b.x, a.y - b.y) / ((a.iod + b.iod) / 2)


def same_picture(a: FrameHash, b: FrameHash, s: FaceSettings) -> bool:
    """The same picture again, maybe recompressed or resized: same look, same place, same roll, same size."""
    return (
        hamming(a.dhash, b.dhash) <= s.same_bits
        and abs(a.roll - b.roll) <= s.same_roll_deg
        and shift(a, b) <= s.same_shift
        and abs(a.iod / b.iod - 1) <= s.same_scale
    )


def moved(a: FrameHash, b: FrameHash, s: FaceSettings) -> bool:
    return abs(a.roll - b.roll) >= s.min_roll_deg or shift(a, b) >= s.min_shift


def check_motion(hashes: Sequence[FrameHash], s: FaceSettings) -> None:
    """Stage 5: no frame repeats another, and somewhere in the set the face shifted or rolled."""
    for (i, a), (j, b) in combinations(enumerate(hashes), 2):
        if same_picture(a, b, s):
            raise errors.NoMotion(j, f"frames[{j}] repeats frames[{i}]")
    if not any(moved(a, b, s) for a, b in combinations(hashes, 2)):
        raise errors.NoMotion(None, "the face neither shifted nor rolled between frames")


def transformed(new: FrameHash, old: FrameHash, s: FaceSettings) -> bool:
    """`new` is `old` cropped, rescaled, mirrored or recompressed.

    None of those change the aligned face (aligned.face_hash), the head's roll (a mirror only
    flips its sign) or the face's brightness, so all three must agree.
    """
    if not (new.face and old.face) or old.luma <= 0 or abs(new.luma / old.luma - 1) > s.replay_luma:
        return False
    same, mirrored = aligned.distances(new.face, old.face)
    return (same <= s.replay_bits and abs(new.roll - old.roll) <= s.replay_roll_deg) or (
        mirrored <= s.replay_bits and abs(new.roll + old.roll) <= s.replay_roll_deg
    )


def check_replay(hashes: Sequence[FrameHash], seen: Sequence[FrameHash], s: FaceSettings) -> None:
    """Stage 6: the attempt does not reuse frames of an earlier attempt.

    It is refused when `replay_frames` of its frames repeat seen ones, recompressed, cropped,
    rescaled or mirrored (`transformed`). One such frame alone is not enough: a fresh capture
    of a still face can look like a seen frame now and then, while a replayed attempt repeats
    every frame, and fresh frames of the face would make a replayed one pointless. Rows stored
    before the aligned hash existed are compared by the frame geometry (`same_picture`).
    """
    legacy = [j for j, h in enumerate(hashes) if any(same_picture(h, old, s) for old in seen if not old.face)]
    repeats = [j for j, h in enumerate(hashes) if any(transformed(h, old, s) for old in seen if old.face)]
    if legacy or len(repeats) >= min(s.replay_frames, len(hashes)):
        j = (legacy or repeats)[0]
        raise errors.ReplayedFrame(j, f"frames[{j}] repeats a frame of an earlier attempt")


def assess(results: Sequence[FrameResult], s: FaceSettings, seen: Sequence[FrameHash] = ()) -> dict[int, Encoding]:
    """Run stages 1-6 in order; return the encodings of the frames chosen for matching."""
    faces = usable_faces(results, s)
    encoded = encodings(faces)
    check_same_person(encoded, s.match_threshold)
    hashes = [f.hash for f in faces]
    check_motion(hashes, s)
    check_replay(hashes, seen, s)
    return encoded


Fusion = Literal["mean", "median", "min"]


def fuse(distances: Sequence[float], fusion: Fusion) -> float:
    if fusion == "min":
        return min(distances)
    if fusion == "median":
        return float(statistics.median(distances))
    return sum(distances) / len(distances)


def match(
    probes: Sequence[Encoding], reference: Encoding, threshold: float, *, fusion: Fusion = "mean"
) -> tuple[bool, float]:
    """The probes' distances to the reference, fused; a match when that is below the threshold.

    The mean by default, not the best of N: the minimum of N distances gives an impostor N
    draws at the threshold, so it multiplies the false-match rate; the mean damps one odd
    frame either way (docs/identity.md has the measured comparison).
    """
    if not probes:
        raise ValueError("match needs at least one probe encoding")
    if reference.shape != (TEMPLATE_DIM,):
        raise ValueError(f"the reference is a {TEMPLATE_DIM}-d encoding")
    fused = fuse([distance(p, reference) for p in probes], fusion)
    return fused < threshold, fused
