"""Frame sets for the face-login bench: made by seed, screened so that none looks like a replay.

The server refuses a login whose frames look like those of an earlier *successful* attempt of
the same identity (24 h). Synthetic sessions collide now and then (bench/README.md: about 0.1 %
of frame pairs), and with dozens of logins stored that would refuse a real share of the
measured attempts. So every candidate set is analysed here with the engine's own worker code,
and a set is kept only if no frame is the same picture as a frame of a set kept before it, and
the set itself passes the motion check. What the server later computes from the same bytes is
identical, so the kept sets do not trip the replay check.
"""

from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from haoban.identity.face import checks, errors, worker
from haoban.identity.face.engine import limits_of
from haoban.identity.face.features import FrameFeatures, FrameHash
from haoban.identity.face.settings import FaceSettings
from haoban.sandbox import frames as gen

DEFAULTS = FaceSettings()
LIMITS = limits_of(DEFAULTS)
GRACE, ASTRONAUT = gen.PHOTOS


class FrameFile(msgspec.Struct, kw_only=True):
    """What the run hands to the baseline and load processes (msgpack, bytes kept as bytes)."""

    register: list[bytes]  # the registration attempt
    warmups: list[list[bytes]]  # logins before measuring (they start the pool's workers)
    logins: list[list[bytes]]  # the measured logins; every set here and above is screened
    saturate: list[list[bytes]]  # for attempts on unknown ID numbers: never stored, reusable
    encode_frames: int
    max_side: int  # detection copy
    decode_side: int  # measuring and encoding


def photo(name: str) -> bytes:
    return gen.photo(name)


def _made(name: str, seed: int, n: int) -> tuple[list[bytes], list[FrameHash] | None]:
    """One candidate set and its frame hashes (None when a frame is refused)."""
    frame_set = gen.make_frames(gen.photo(name), n, seed=seed)
    hashes = []
    for data in frame_set:
        result = worker.analyze(data, 0, False, LIMITS)
        if not isinstance(result, FrameFeatures):
            return frame_set, None
        hashes.append(result.hash)
    return frame_set, hashes


def _motion_ok(hashes: list[FrameHash]) -> bool:
    pairs = list(itertools.combinations(hashes, 2))
    no_copies = not any(checks.same_picture(a, b, DEFAULTS) for a, b in pairs)
    return no_copies and any(checks.moved(a, b, DEFAULTS) for a, b in pairs)


def _clashes(hashes: list[FrameHash], kept: list[FrameHash]) -> bool:
    try:
        checks.check_replay(hashes, kept, DEFAULTS)
    except errors.ReplayedFrame:
        return True
    return False


def build(
    *, logins: int, warmups: int, frames: int, saturate_sets: int, processes: int
) -> tuple[FrameFile, dict[str, int]]:
    """Registration, warm-up and login sets of Grace Hopper (screened), and astronaut sets for load."""
    wanted = warmups + logins
    ctx = multiprocessing.get_context("spawn")
    kept: list[FrameHash] = []
    accepted: list[list[bytes]] = []
    counts = {"candidates": 0, "refused_frame": 0, "motion": 0, "replay_clash": 0}
    with ProcessPoolExecutor(processes, mp_context=ctx, initializer=worker.init_worker) as pool:
        load = [pool.submit(gen.make_frames, gen.photo(ASTRONAUT), frames, 500 + i) for i in range(saturate_sets)]
        seed, register = 0, None
        while len(accepted) < wanted:
            batch = max(8, round((wanted - len(accepted)) * 1.25))
            futures = [pool.submit(_made, GRACE, s, frames) for s in range(seed, seed + batch)]
            seed += batch
            for future in futures:
                frame_set, hashes = future.result()
                counts["candidates"] += 1
                if hashes is None:
                    counts["refused_frame"] += 1
                elif not _motion_ok(hashes):
                    counts["motion"] += 1
                elif _clashes(hashes, kept):
                    counts["replay_clash"] += 1
                else:
                    kept += hashes
                    if register is None:
                        register = frame_set
                    elif len(accepted) < wanted:
                        accepted.append(frame_set)
            if seed > 20 * (wanted + 1):
                raise RuntimeError(f"could not find {wanted} distinct frame sets: {counts}")
        saturate = [f.result() for f in load]
    if register is None:
        raise RuntimeError("no frame set passed the checks")
    file = FrameFile(
        register=register,
        warmups=accepted[:warmups],
        logins=accepted[warmups:],
        saturate=saturate,
        encode_frames=DEFAULTS.encode_frames,
        max_side=DEFAULTS.max_side,
        decode_side=DEFAULTS.decode_side,
    )
    return file, counts


def write(file: FrameFile, path: Path) -> None:
    path.write_bytes(msgspec.msgpack.encode(file))


def read(path: Path) -> FrameFile:
    return msgspec.msgpack.decode(path.read_bytes(), type=FrameFile)
