"""The raw work one face login needs, done with face_recognition directly: run_face.py's baseline.

    python bench/face_baseline.py FRAMES.msgpack --workers 2

Per frame: decode (up to 2048 px, the engine's `decode_frame`), HOG detection without upsampling
on a copy shrunk to 640 px with the box scaled back, one pass of the 68-point landmarks on the
frame itself; and the 128-d encoding of 2 of the frames (`HAOBAN_FACE_ENCODE_FRAMES`) from the
frame itself, chosen at random per attempt. Nothing else: no sharpness, hashes or landmark
refits, no checks, no HTTP, no database. Two ways, on the measured login sets:

- sequential: this process, one frame after another (one core);
- parallel: a pool of --workers processes like the server's, one attempt at a time, its frames
  spread over the pool with the encoded ones submitted first (the best schedule there is).

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import face_frames
from haoban.identity.face.image import decode_frame, scale_box, shrink

_fr: Any = None


def load() -> None:
    global _fr  # noqa: PLW0603 - one model set per process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # face_recognition_models imports pkg_resources
        import face_recognition

    _fr = face_recognition


DECODE_SIDE = 2048


def frame(data: bytes, encode: bool, max_side: int) -> None:
    rgb = decode_frame(data, max_pixels=100_000_000, max_side=DECODE_SIDE)
    small, factor = shrink(rgb, max_side)
    found = _fr.face_locations(small, number_of_times_to_upsample=0, model="hog")
    boxes = [scale_box(box, factor, rgb.shape) for box in found]
    _fr.face_landmarks(rgb, boxes, model="large")
    if encode:
        _fr.face_encodings(rgb, boxes, num_jitters=1, model="small")


def _started(pause: float) -> int:
    """Occupies one worker for a moment, so that N of these start N distinct workers."""
    if _fr is None:
        load()
    time.sleep(pause)
    return multiprocessing.current_process().pid or 0


def _chosen(count: int, n_frames: int, k: int) -> list[set[int]]:
    rng = random.Random(7)
    return [set(rng.sample(range(n_frames), k)) for _ in range(count)]


def sequential(sets: list[list[bytes]], chosen: list[set[int]], max_side: int) -> dict[str, Any]:
    for i, data in enumerate(sets[0]):  # warm caches and the allocator; not measured
        frame(data, i in chosen[0], max_side)
    times = []
    cpu = time.process_time()
    for frame_set, encode in zip(sets, chosen, strict=True):
        start = time.perf_counter()
        for i, data in enumerate(frame_set):
            frame(data, i in encode, max_side)
        times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    return {"seconds": times, "cpu_per_wall": cpu / sum(times)}


def parallel(sets: list[list[bytes]], chosen: list[set[int]], max_side: int, workers: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=load) as pool:
        pids = {f.result() for f in [pool.submit(_started, 0.3) for _ in range(workers)]}
        times = []
        for frame_set, encode in [(sets[0], chosen[0]), *zip(sets, chosen, strict=True)]:
            order = sorted(range(len(frame_set)), key=lambda i: i not in encode)  # encoded frames first
            start = time.perf_counter()
            futures = [pool.submit(frame, frame_set[i], i in encode, max_side) for i in order]
            done, _ = wait(futures)
            for future in done:
                future.result()
            times.append(time.perf_counter() - start)
    return {"seconds": times[1:], "distinct_workers_started": len(pids)}  # the first attempt warms the pool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frames", type=Path)
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args()
    file = face_frames.read(args.frames)
    sets = file.logins
    chosen = _chosen(len(sets), len(sets[0]), file.encode_frames)
    load()
    result = {
        "attempts": len(sets),
        "frames_per_attempt": len(sets[0]),
        "encoded_per_attempt": file.encode_frames,
        "sequential": sequential(sets, chosen, file.max_side),
        "parallel": parallel(sets, chosen, file.max_side, args.workers),
        "workers": args.workers,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
