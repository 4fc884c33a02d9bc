"""The cross-frame checks and the match as pure functions: no pool, no dlib."""

from __future__ import annotations

import numpy as np
import pytest

from haoban.identity.face import checks, errors
from haoban.identity.face.features import (
    FrameFailure,
    FrameFeatures,
    FrameHash,
    FrameResult,
    template_bytes,
    template_from_bytes,
)
from haoban.identity.face.settings import FaceSettings

S = FaceSettings(workers=1)


def fh(
    dhash: int = 0x0123_4567_89AB_CDEF, x: float = 0.5, y: float = 0.4, iod: float = 0.15, roll: float = 0.0
) -> FrameHash:
    return FrameHash(dhash=dhash, x=x, y=y, iod=iod, roll=roll)


def face(index: int, *, px: int = 150, sharpness: float = 500.0, h: FrameHash | None = None) -> FrameFeatures:
    return FrameFeatures(index=index, face_px=px, sharpness=sharpness, hash=h or fh(roll=index * 6.0), template=None)


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return v / np.linalg.norm(v)


class TestStageOrder:
    def test_a_decode_failure_anywhere_outranks_a_missing_face_earlier(self) -> None:
        results: list[FrameResult] = [
            FrameFailure(index=0, code="no_face", detail=""),
            face(1),
            FrameFailure(index=2, code="frame_undecodable", detail=""),
        ]
        with pytest.raises(errors.FrameUndecodable) as caught:
            checks.usable_faces(results, S)
        assert caught.value.index == 2

    def test_a_small_face_outranks_a_blurry_one_earlier(self) -> None:
        results: list[FrameResult] = [face(0, sharpness=1.0), face(1), face(2, px=S.min_face_px - 1)]
        with pytest.raises(errors.FaceTooSmall) as caught:
            checks.usable_faces(results, S)
        assert caught.value.field == "frames[2]"

    def test_blur_is_refused_below_the_threshold_only(self) -> None:
        checks.usable_faces([face(0, sharpness=S.min_sharpness)], S)
        with pytest.raises(errors.TooBlurry):
            checks.usable_faces([face(0, sharpness=S.min_sharpness - 0.1)], S)

    def test_a_reference_failure_names_the_reference(self) -> None:
        with pytest.raises(errors.MultipleFaces) as caught:
            checks.usable_faces([FrameFailure(index=0, code="multiple_faces", detail="")], S, reference=True)
        assert caught.value.field == "reference"
        assert caught.value.index is None


class TestMotion:
    def test_identical_frames_are_copies(self) -> None:
        with pytest.raises(errors.NoMotion) as caught:
            checks.check_motion([fh(), fh(roll=8.0), fh()], S)
        assert caught.value.field == "frames[2]"

    def test_landmark_jitter_and_a_few_flipped_bits_are_still_a_copy(self) -> None:
        a = fh()
        b = fh(dhash=a.dhash ^ 0b1011, x=0.5 + 0.004, roll=1.0, iod=0.15 * 1.03)
        assert checks.same_picture(a, b, S)

    @pytest.mark.parametrize(
        "other",
        [
            fh(roll=S.same_roll_deg + 0.1),
            fh(x=0.5 + 0.15 * (S.same_shift + 0.01)),
            fh(iod=0.15 * (1 + S.same_scale + 0.02)),
            fh(dhash=0x0123_4567_89AB_CDEF ^ ((1 << (S.same_bits + 1)) - 1)),
        ],
        ids=["rolled", "shifted", "closer", "looks different"],
    )
    def test_any_one_difference_beyond_jitter_is_not_a_copy(self, other: FrameHash) -> None:
        assert not checks.same_picture(fh(), other, S)

    def test_distinct_frames_that_never_moved_have_no_motion(self) -> None:
        rolls = (0.0, S.min_roll_deg / 2, S.min_roll_deg * 0.95)
        still = [fh(dhash=d, roll=r) for d, r in zip((0, 0xFFFF, 0xFFFF_0000), rolls, strict=True)]
        with pytest.raises(errors.NoMotion) as caught:
            checks.check_motion(still, S)
        assert caught.value.index is None

    @pytest.mark.parametrize(
        "moved",
        [fh(dhash=1, roll=S.min_roll_deg), fh(dhash=1, x=0.5 + 0.15 * S.min_shift * 1.01)],
        ids=["roll", "shift"],
    )
    def test_one_pair_that_rolled_or_shifted_is_motion(self, moved: FrameHash) -> None:
        checks.check_motion([fh(dhash=0xFFFF_0000), fh(dhash=0xFFFF, roll=2.0), moved], S)


class TestReplay:
    def test_a_frame_seen_before_is_a_replay(self) -> None:
        seen = [fh(roll=-9.0), fh(dhash=0xF0F0, x=0.3, roll=4.0)]
        with pytest.raises(errors.ReplayedFrame) as caught:
            checks.check_replay([fh(roll=9.0), fh(dhash=0xF0F1, x=0.301, roll=4.5)], seen, S)
        assert caught.value.field == "frames[1]"

    def test_new_frames_pass(self) -> None:
        checks.check_replay([fh(roll=9.0), fh(roll=0.0)], [fh(roll=-9.0), fh(roll=4.0)], S)

    def test_hashes_round_trip_through_24_bytes(self) -> None:
        h = fh(dhash=2**64 - 1, roll=-7.25)
        raw = h.to_bytes()
        assert len(raw) == 24
        back = FrameHash.from_bytes(raw)
        assert back.dhash == h.dhash
        assert back.roll == pytest.approx(h.roll)
        with pytest.raises(ValueError, match="24 or 92 bytes"):
            FrameHash.from_bytes(raw[:-1])


class TestMatch:
    def test_same_person_needs_every_encoded_pair_within_the_threshold(self) -> None:
        a = unit(1)
        near = a + 0.3 * unit(2) / np.sqrt(2)
        checks.check_same_person({0: a, 3: near}, S.match_threshold)
        with pytest.raises(errors.DifferentPeople) as caught:
            checks.check_same_person({0: a, 3: near, 4: unit(3)}, S.match_threshold)
        assert caught.value.field == "frames[4]"

    def test_the_mean_distance_decides_not_the_best_frame(self) -> None:
        """One frame at 0.3 and one at 0.7: best-of-N would match, the mean (0.5) does not."""
        ref = np.zeros(128)
        probes = [np.eye(128)[0] * 0.3, np.eye(128)[1] * 0.7]
        matched, mean = checks.match(probes, ref, 0.5)
        assert mean == pytest.approx(0.5)
        assert not matched
        assert checks.match(probes, ref, 0.51)[0]

    def test_match_needs_a_probe(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            checks.match([], np.zeros(128), 0.5)


class TestTemplate:
    def test_round_trip_is_512_little_endian_float32_bytes(self) -> None:
        encoding = unit(5) * 0.3
        raw = template_bytes(encoding)
        assert len(raw) == 512
        assert raw[:4] == np.float32(encoding[0]).astype("<f4").tobytes()
        back = template_from_bytes(raw)
        assert back.dtype == np.float64
        assert np.abs(back - encoding).max() < 1e-7

    @pytest.mark.parametrize("bad", [np.zeros(127), np.full(128, np.nan)], ids=["short", "nan"])
    def test_bad_encodings_are_refused(self, bad: np.ndarray) -> None:
        with pytest.raises(ValueError, match="128"):
            template_bytes(bad)

    def test_bad_bytes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="512 bytes"):
            template_from_bytes(bytes(511))
        with pytest.raises(ValueError, match="finite"):
            template_from_bytes(np.full(128, np.inf, dtype="<f4").tobytes())
