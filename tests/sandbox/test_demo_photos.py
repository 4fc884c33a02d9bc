"""The committed demo ID photos are small JPEGs with exactly one face each.

This also proves face_recognition (with dlib-bin) loads and runs here.
"""

from __future__ import annotations

import io

import face_recognition
import pytest
from PIL import Image

from haoban.sandbox.demo import demo_photo

PHOTOS = ("grace_hopper.jpg", "astronaut.jpg")


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_has_exactly_one_face(name: str) -> None:
    pixels = face_recognition.load_image_file(io.BytesIO(demo_photo(name)))
    assert len(face_recognition.face_locations(pixels)) == 1


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_is_a_small_jpeg(name: str) -> None:
    data = demo_photo(name)
    assert len(data) < 100_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert max(image.size) <= 640
