from __future__ import annotations

import os

import pytest

from haoban.identity.face.settings import FaceSettings, load_face_settings
from haoban.kit.settings_error import SettingsError


def test_defaults_leave_one_cpu_free_and_use_the_measured_threshold() -> None:
    settings = load_face_settings({})
    assert settings.workers == max(1, (os.cpu_count() or 1) - 1)
    assert settings == FaceSettings()
    assert settings.queue_frames == settings.workers * 4 * 5


def test_variables_are_read() -> None:
    settings = load_face_settings(
        {"HAOBAN_FACE_WORKERS": "3", "HAOBAN_FACE_MATCH_THRESHOLD": "0.42", "HAOBAN_FACE_ENCODE_FRAMES": "5"}
    )
    assert (settings.workers, settings.match_threshold, settings.encode_frames) == (3, 0.42, 5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HAOBAN_FACE_WORKERS", "0"),
        ("HAOBAN_FACE_WORKERS", "two"),
        ("HAOBAN_FACE_MATCH_THRESHOLD", "0.9"),
        ("HAOBAN_FACE_MATCH_THRESHOLD", "loose"),
        ("HAOBAN_FACE_ENCODE_FRAMES", "1"),
        ("HAOBAN_FACE_MIN_FACE_PX", "20"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_face_settings({name: value})
