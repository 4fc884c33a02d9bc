"""Decoding limits and the pixel measurements, in-process (no dlib)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from haoban.identity.face import image
from tests.identity import frames

LIMITS = {"max_pixels": 20_000_000, "max_side": 640}


def refused(data: bytes) -> str:
    with pytest.raises(image.DecodeRefused) as caught:
        image.decode_frame(data, **LIMITS)
    return caught.value.code


class TestDecode:
    def test_a_bomb_is_refused_from_its_header_before_any_pixel_is_decoded(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The crafted PNG holds 64 bytes of pixels: decoding it would fail as undecodable instead."""

        def no_load(self: Image.Image) -> None:
            raise AssertionError("pixels were decoded")

        monkeypatch.setattr(Image.Image, "load", no_load)
        monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_load)
        assert refused(frames.png_bomb(6000, 4000)) == "frame_too_many_pixels"

    def test_a_bomb_beyond_pillows_own_guard_gets_the_same_code(self) -> None:
        assert refused(frames.png_bomb(40_000, 40_000)) == "frame_too_many_pixels"

    def test_the_same_png_under_the_limit_is_only_undecodable(self) -> None:
        assert refused(frames.png_bomb(4000, 4000)) == "frame_undecodable"

    @pytest.mark.parametrize(
        "data",
        [b"", b"hello", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, frames.photo("grace_hopper.jpg")[:5000]],
        ids=["empty", "text", "png-magic", "truncated-jpeg"],
    )
    def test_garbage_is_undecodable(self, data: bytes) -> None:
        assert refused(data) == "frame_undecodable"

    def test_formats_other_than_jpeg_and_png_are_refused(self) -> None:
        out = io.BytesIO()
        Image.new("RGB", (200, 200), (9, 9, 9)).save(out, format="GIF")
        assert refused(out.getvalue()) == "frame_undecodable"

    def test_large_frames_are_downscaled_to_the_long_side(self) -> None:
        big = frames.jpeg(Image.new("RGB", (2000, 1000), (200, 100, 50)))
        rgb = image.decode_frame(big, **LIMITS)
        assert rgb.shape == (320, 640, 3)
        assert rgb.dtype == np.uint8

    def test_small_png_and_grey_frames_come_back_as_rgb_at_their_size(self) -> None:
        grey = frames.png(Image.new("L", (300, 200), 77))
        rgb = image.decode_frame(grey, **LIMITS)
        assert rgb.shape == (200, 300, 3)
        assert int(rgb[0, 0, 0]) == 77

    def test_exif_orientation_is_applied(self) -> None:
        wide = Image.new("RGB", (300, 100), (10, 200, 10))
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to display
        out = io.BytesIO()
        wide.save(out, format="JPEG", exif=exif)
        assert image.decode_frame(out.getvalue(), **LIMITS).shape == (300, 100, 3)


class TestMeasures:
    def test_blur_lowers_the_laplacian_variance(self) -> None:
        sharp = image.to_gray(image.decode_frame(frames.photo("grace_hopper.jpg"), **LIMITS))
        soft = image.to_gray(image.decode_frame(frames.blurred(frames.photo("grace_hopper.jpg"), 2.0), **LIMITS))
        assert image.laplacian_variance(soft) < image.laplacian_variance(sharp) / 10
        assert image.laplacian_variance(np.full((50, 50), 128, dtype=np.float32)) == 0.0

    def test_dhash_survives_resizing_and_sees_different_pictures(self) -> None:
        grace = image.to_gray(image.decode_frame(frames.photo("grace_hopper.jpg"), **LIMITS))
        smaller = image.to_gray(image.decode_frame(frames.photo("grace_hopper.jpg"), max_pixels=10**8, max_side=300))
        other = image.to_gray(image.decode_frame(frames.photo("astronaut.jpg"), **LIMITS))
        assert image.hamming(image.dhash(grace), image.dhash(smaller)) <= 4
        assert image.hamming(image.dhash(grace), image.dhash(other)) > 16
        assert 0 <= image.dhash(grace) < 2**64

    def test_roll_is_the_angle_of_the_eye_line_whichever_eye_comes_first(self) -> None:
        assert image.roll_degrees((100.0, 100.0), (200.0, 100.0)) == 0.0
        assert image.roll_degrees((200.0, 200.0), (100.0, 100.0)) == pytest.approx(45.0)
        assert image.roll_degrees((100.0, 100.0), (200.0, 90.0)) == pytest.approx(-5.71, abs=0.01)

    def test_the_hashed_square_is_anchored_on_the_eyes(self) -> None:
        top, right, bottom, left = image.face_square((100.0, 100.0), (140.0, 100.0), 3.0)
        assert (right - left, bottom - top) == (120, 120)
        assert ((left + right) / 2, (top + bottom) / 2) == (120.0, 120.0)
        assert image.mean_point([(0, 0), (2, 4)]) == (1.0, 2.0)


def test_truncated_frames_are_refused_even_after_face_recognition_is_imported() -> None:
    """`import face_recognition` flips Pillow's LOAD_TRUNCATED_IMAGES for the whole process."""
    import face_recognition  # noqa: F401
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES  # the trap is real
    whole = frames.make_frames(frames.photo("grace_hopper.jpg"), 1, seed=3)[0]
    assert refused(whole[: len(whole) // 2]) == "frame_undecodable"
