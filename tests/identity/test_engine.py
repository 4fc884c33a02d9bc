"""The engine end to end: real face_recognition on the real photos, through the process pool."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import pytest
from PIL import Image, ImageOps

from haoban.identity.face import errors
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.identity.face.features import Encoding
from haoban.identity.face.settings import FaceSettings
from tests.identity import frames
from tests.identity.conftest import SETTINGS


async def test_genuine_frames_pass_every_check_and_match_the_reference(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    result = await engine.verify(grace_frames, grace_reference)
    assert result.matched
    assert result.distance < 0.5 * SETTINGS.match_threshold  # a clear match, not a near miss
    assert len(result.encoded_frames) == SETTINGS.encode_frames
    assert len(result.frame_hashes) == len(grace_frames)
    assert engine.in_flight == 0


async def test_impostor_frames_do_not_match(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, astronaut_frames: list[bytes]
) -> None:
    result = await engine.verify(astronaut_frames, grace_reference)
    assert not result.matched
    assert result.distance >= SETTINGS.match_threshold


async def test_one_frame_sent_five_times_has_no_motion(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    with pytest.raises(errors.NoMotion) as caught:
        await engine.verify([grace_frames[0]] * 5, grace_reference)
    assert caught.value.field == "frames[1]"


async def test_recompressed_copies_of_one_frame_have_no_motion(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    copies = [frames.recompress(grace_frames[2], quality) for quality in (93, 85, 77, 70)]
    assert len(set(copies)) == len(copies)  # different bytes
    with pytest.raises(errors.NoMotion):
        await engine.verify(copies, grace_reference)


async def test_one_copy_among_moving_frames_is_caught(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    attempt = [*grace_frames[:3], frames.recompress(grace_frames[1], 80)]
    with pytest.raises(errors.NoMotion) as caught:
        await engine.verify(attempt, grace_reference)
    assert caught.value.field == "frames[3]"


BAD_FRAMES: dict[str, tuple[Callable[[], bytes], type[errors.FaceError], int]] = {
    "no_face": (frames.no_face, errors.NoFace, 2),
    "two_faces": (frames.two_faces, errors.MultipleFaces, 0),
    "undecodable": (lambda: b"\xff\xd8\xff\xe0 not really a jpeg", errors.FrameUndecodable, 1),
    "bomb": (lambda: frames.png_bomb(6000, 4000), errors.FrameTooManyPixels, 3),
    "blurry": (lambda: frames.blurred(frames.photo("grace_hopper.jpg"), 4.0), errors.TooBlurry, 1),
    "tiny": (lambda: frames.tiny_face(frames.photo("grace_hopper.jpg")), errors.FaceTooSmall, 4),
}


@pytest.mark.parametrize("case", BAD_FRAMES)
async def test_a_bad_frame_is_refused_with_its_code_and_index(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes], case: str
) -> None:
    make_bad, error, position = BAD_FRAMES[case]
    attempt = list(grace_frames)
    attempt[position] = make_bad()
    with pytest.raises(error) as caught:
        await engine.verify(attempt, grace_reference)
    assert type(caught.value) is error
    assert caught.value.field == f"frames[{position}]"
    assert caught.value.errors[0].reason == error.code


async def test_checks_run_in_order_whatever_the_frame_order(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    """A later frame that does not decode outranks an earlier frame without a face."""
    attempt = [frames.no_face(), grace_frames[1], b"garbage", grace_frames[3]]
    with pytest.raises(errors.FrameUndecodable) as caught:
        await engine.verify(attempt, grace_reference)
    assert caught.value.field == "frames[2]"


async def test_encoded_frames_of_two_people_are_different_people(
    engine: ProcessPoolFaceEngine,
    grace_reference: Encoding,
    grace_frames: list[bytes],
    astronaut_frames: list[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "_choose", lambda n, k: {0, 2})
    attempt = [grace_frames[0], grace_frames[1], astronaut_frames[2]]
    with pytest.raises(errors.DifferentPeople) as caught:
        await engine.verify(attempt, grace_reference)
    assert caught.value.field == "frames[2]"


async def test_frames_from_an_earlier_attempt_are_replays(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    earlier = await engine.verify(grace_frames, grace_reference)
    later = frames.make_frames(frames.photo("grace_hopper.jpg"), 4, seed=7)
    fresh = await engine.verify(later, grace_reference, seen=earlier.frame_hashes)  # new frames pass
    assert fresh.matched
    for copy in (lambda f: f, lambda f: frames.recompress(f, 85)):
        with pytest.raises(errors.ReplayedFrame) as caught:
            await engine.verify([later[0], *map(copy, grace_frames[3:5])], grace_reference, seen=earlier.frame_hashes)
        assert caught.value.field == "frames[1]"
    # One seen frame among fresh ones is not a replay: a still face's new frame can look like a seen one.
    mixed = await engine.verify([*later[:2], grace_frames[3]], grace_reference, seen=earlier.frame_hashes)
    assert mixed.matched


COPIES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "cropped by 6 px": lambda im: im.crop((6, 6, im.width - 6, im.height - 6)),
    "cropped by a tenth": lambda im: im.crop((im.width // 10, 0, im.width, im.height - im.height // 20)),
    "rescaled to 80 %": lambda im: im.resize((im.width * 4 // 5, im.height * 4 // 5)),
    "rescaled to 150 %": lambda im: im.resize((im.width * 3 // 2, im.height * 3 // 2)),
    "mirrored": ImageOps.mirror,
    "mirrored and cropped": lambda im: ImageOps.mirror(im).crop((10, 0, im.width, im.height - 10)),
}


@pytest.mark.parametrize("copy", COPIES)
async def test_crops_rescales_and_mirror_images_of_seen_frames_are_replays(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes], copy: str
) -> None:
    earlier = await engine.verify(grace_frames, grace_reference)
    copied = [frames.jpeg(COPIES[copy](frames.open_rgb(f)), quality=80) for f in grace_frames[:3]]
    with pytest.raises(errors.ReplayedFrame):
        await engine.verify(copied, grace_reference, seen=earlier.frame_hashes)


async def test_wrong_frame_count_and_oversized_frames_are_refused_before_the_pool(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    with pytest.raises(errors.FrameCount):
        await engine.verify(grace_frames[:2], grace_reference)
    with pytest.raises(errors.FrameCount):
        await engine.verify([*grace_frames, grace_frames[0]], grace_reference)
    oversized = b"\xff\xd8" + bytes(SETTINGS.max_frame_bytes)
    with pytest.raises(errors.FrameTooLarge) as caught:
        await engine.verify([*grace_frames[:2], oversized], grace_reference)
    assert caught.value.field == "frames[2]"
    assert caught.value.status == 413


async def test_a_reference_photo_without_a_face_is_refused(engine: ProcessPoolFaceEngine) -> None:
    with pytest.raises(errors.NoFace) as caught:
        await engine.reference(frames.no_face())
    assert caught.value.field == "reference"


async def test_a_full_queue_answers_face_busy_and_drains(
    engine: ProcessPoolFaceEngine, grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    """The test engine holds two 5-frame attempts in flight; a third is refused at once."""
    others = frames.make_frames(frames.photo("grace_hopper.jpg"), 5, seed=11)
    first = asyncio.create_task(engine.verify(grace_frames, grace_reference))
    second = asyncio.create_task(engine.verify(others, grace_reference))
    await asyncio.sleep(0)  # both tasks have submitted their frames; no frame can be done yet
    assert engine.in_flight == 10
    with pytest.raises(errors.FaceBusy) as caught:
        await engine.verify(grace_frames, grace_reference)
    assert caught.value.status == 503
    assert caught.value.headers["Retry-After"] == "1"
    assert (await first).matched
    assert (await second).matched
    assert engine.in_flight == 0
    assert (await engine.verify(grace_frames, grace_reference)).matched


async def test_a_dead_worker_is_reported_and_the_pool_is_rebuilt(
    grace_reference: Encoding, grace_frames: list[bytes]
) -> None:
    engine = ProcessPoolFaceEngine(FaceSettings(workers=1))
    try:
        await engine.warm_up()
        for pid in list(engine._pool._processes):  # the pool's own bookkeeping: the only way to find its workers
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(errors.FaceEngineDown) as caught:
            await engine.verify(grace_frames, grace_reference)
        assert caught.value.status == 503
        assert engine.in_flight == 0
        assert (await engine.verify(grace_frames, grace_reference)).matched
    finally:
        await engine.close()
    with pytest.raises(errors.FaceEngineDown):  # closed stays closed: no pool is started again
        await engine.verify(grace_frames, grace_reference)


def test_face_workers_run_at_a_lower_priority() -> None:
    """Face work must not take the CPU from the event loop and the database."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    from haoban.identity.face import worker

    with ProcessPoolExecutor(1, initializer=worker.init_worker) as pool:
        niceness = pool.submit(os.nice, 0).result(timeout=60)
    assert niceness >= os.nice(0) + worker.WORKER_NICENESS
