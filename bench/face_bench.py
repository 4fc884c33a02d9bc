"""Face engine: the match threshold's evidence, and attempt latency as a ratio to raw dlib work.

    uv run python bench/face_bench.py [--seeds 12] [--attempts 20] [--workers N] [--only speed]

1. Distances. Genuine pairs: frames made from each shipped photo (tests/identity/frames.py)
   against that photo's reference encoding, plus harder "degraded" copies of the photo.
   Impostor pairs: one person's frames against the other's reference, and the 100 LFW faces
   that ship inside scikit-image (25x25 grey crops) against both references.
2. Checks. Face sizes and sharpness of the frames (and of blurred ones); how far re-encoded
   and resized copies of a frame drift in roll, position, size and dHash; how often distinct
   frames would be taken for copies or replays.
3. Speed. The same frames, one attempt at a time: face_recognition called in this process
   (the baseline) versus `engine.verify` through the process pool.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.identity.frames

from tests.identity import frames as gen  # noqa: E402

from haoban.identity.face import checks, worker  # noqa: E402
from haoban.identity.face.engine import ProcessPoolFaceEngine, limits_of  # noqa: E402
from haoban.identity.face.features import FrameFeatures, FrameHash, distance, template_from_bytes  # noqa: E402
from haoban.identity.face.image import decode_frame, hamming  # noqa: E402
from haoban.identity.face.settings import FaceSettings  # noqa: E402

DEFAULTS = FaceSettings()
LIMITS = limits_of(DEFAULTS)
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6)


def encode(data: bytes) -> np.ndarray:
    result = worker.analyze(data, 0, True, LIMITS)
    if not isinstance(result, FrameFeatures) or result.template is None:
        raise SystemExit(f"bench frame was refused: {result}")
    return template_from_bytes(result.template)


def encode_whole(rgb: np.ndarray) -> np.ndarray:
    """Encode a tight face crop with the whole image as the face box (LFW crops are too small to detect)."""
    fr: Any = worker._fr  # loaded by init_worker
    height, width = rgb.shape[:2]
    return np.asarray(fr.face_encodings(rgb, [(0, width, height, 0)])[0], dtype=np.float64)


def lfw_like(data: bytes) -> np.ndarray:
    """The photo's face box as a 25x25 grey crop, upscaled: what an LFW-subset face looks like."""
    fr: Any = worker._fr
    rgb = decode_frame(data, max_pixels=DEFAULTS.max_pixels, max_side=DEFAULTS.max_side)
    top, right, bottom, left = fr.face_locations(rgb, 0)[0]
    face = Image.fromarray(rgb).crop((left, top, right, bottom)).convert("L").resize((25, 25), Image.Resampling.BOX)
    return encode_whole(np.asarray(face.resize((150, 150), Image.Resampling.BICUBIC).convert("RGB")))


def degraded(data: bytes) -> dict[str, bytes]:
    with Image.open(io.BytesIO(data)) as opened:
        photo = opened.convert("RGB")
    small = photo.resize((photo.width // 2, photo.height // 2), Image.Resampling.LANCZOS)
    return {
        "grey": gen.jpeg(ImageOps.grayscale(photo).convert("RGB")),
        "jpeg q20": gen.jpeg(photo, quality=20),
        "blur r1": gen.jpeg(photo.filter(ImageFilter.GaussianBlur(1))),
        "half size": gen.jpeg(small.resize(photo.size, Image.Resampling.BICUBIC)),
    }


def lfw_faces() -> list[np.ndarray]:
    from skimage import data

    faces = data.lfw_subset()[:100]  # type: ignore[no-untyped-call]  # the first 100 are faces
    return [
        encode_whole(np.asarray(Image.fromarray((f * 255).astype(np.uint8)).resize((150, 150)).convert("RGB")))
        for f in faces
    ]


def stats_row(name: str, values: list[float]) -> str:
    v = np.array(values)
    cells = [f"{x:.3f}" for x in (v.min(), np.percentile(v, 5), np.median(v), np.percentile(v, 95), v.max())]
    return f"| {name} | {len(v)} | " + " | ".join(cells) + " |"


def distances(seeds: int) -> None:
    rng = random.Random(0)
    names = gen.PHOTOS
    refs = {n: encode(gen.photo(n)) for n in names}
    per_frame: dict[str, list[np.ndarray]] = {n: [] for n in names}
    attempts: dict[str, list[list[np.ndarray]]] = {n: [] for n in names}
    for n, seed in itertools.product(names, range(seeds)):
        encs = [encode(f) for f in gen.make_frames(gen.photo(n), 5, seed=seed)]
        per_frame[n] += encs
        attempts[n].append(rng.sample(encs, DEFAULTS.encode_frames))  # what the engine matches

    def mean_to(ref: np.ndarray, probes: list[np.ndarray]) -> float:
        return sum(distance(p, ref) for p in probes) / len(probes)

    grace, astro = names
    genuine = [mean_to(refs[n], a) for n in names for a in attempts[n]]
    genuine_frames = [distance(e, refs[n]) for n in names for e in per_frame[n]]
    hard = [distance(encode(d), refs[n]) for n in names for d in degraded(gen.photo(n)).values()]
    hard += [distance(lfw_like(gen.photo(n)), refs[n]) for n in names]
    impostor = [mean_to(refs[astro], a) for a in attempts[grace]] + [mean_to(refs[grace], a) for a in attempts[astro]]
    impostor_frames = [distance(e, refs[astro]) for e in per_frame[grace]]
    impostor_frames += [distance(e, refs[grace]) for e in per_frame[astro]]
    lfw = [distance(e, refs[n]) for e in lfw_faces() for n in names]

    print("\n### Distances to the reference encoding\n")
    print("| set | n | min | p5 | median | p95 | max |\n|---|---|---|---|---|---|---|")
    print(stats_row("genuine attempts (mean of 2 frames)", genuine))
    print(stats_row("genuine single frames", genuine_frames))
    print(stats_row("genuine, degraded copies of the photo", hard))
    print(stats_row("impostor attempts (Grace <-> astronaut)", impostor))
    print(stats_row("impostor single frames (Grace <-> astronaut)", impostor_frames))
    print(stats_row("impostor LFW faces vs both references", lfw))
    impostors = impostor + lfw
    print("\n| threshold | FNMR genuine attempts | FNMR degraded | FMR impostors (attempts + LFW) |")
    print("|---|---|---|---|")
    for t in THRESHOLDS:
        chosen = " (default)" if t == DEFAULTS.match_threshold else ""
        fnmr = sum(d >= t for d in genuine) / len(genuine)
        hard_fnmr = sum(d >= t for d in hard) / len(hard)
        false_matches = sum(d < t for d in impostors)
        fmr = f"{false_matches}/{len(impostors)}"
        if not false_matches:
            fmr += f" (rule of 3: FMR < {3 / len(impostors):.1%} at 95%)"
        print(f"| {t}{chosen} | {fnmr:.1%} | {hard_fnmr:.1%} | {fmr} |")


def features(data: bytes) -> FrameFeatures:
    result = worker.analyze(data, 0, False, LIMITS)
    if not isinstance(result, FrameFeatures):
        raise SystemExit(f"bench frame was refused: {result}")
    return result


def liveness_checks(seeds: int) -> None:
    """What the size, blur, motion and replay thresholds were chosen against."""
    s = DEFAULTS
    sharp: dict[str, list[float]] = {"frames": [], "blur r1": [], "blur r2": []}
    px: list[float] = []
    copies: list[tuple[FrameHash, FrameHash]] = []  # re-encoded or resized copies of one frame
    within: list[tuple[FrameHash, FrameHash]] = []  # distinct frames of one attempt
    across: list[tuple[FrameHash, FrameHash]] = []  # frames of two attempts of the same person
    set_motion: list[bool] = []
    for name in gen.PHOTOS:
        attempts = []
        for seed in range(seeds):
            frame_set = gen.make_frames(gen.photo(name), 5, seed=seed)
            feats = [features(f) for f in frame_set]
            sharp["frames"] += [f.sharpness for f in feats]
            px += [f.face_px for f in feats]
            for radius in (1, 2):
                sharp[f"blur r{radius}"].append(features(gen.blurred(frame_set[0], radius)).sharpness)
            hashes = [f.hash for f in feats]
            within += list(itertools.combinations(hashes, 2))
            set_motion.append(any(checks.moved(a, b, s) for a, b in itertools.combinations(hashes, 2)))
            one = frame_set[seed % 5]
            variants = [gen.recompress(one, q) for q in (95, 85, 75, 65)] + [resized(one, 0.8), resized(one, 1.25)]
            copies += [(hashes[seed % 5], features(v).hash) for v in variants]
            attempts.append(hashes)
        for a, b in itertools.combinations(attempts, 2):
            across += list(itertools.product(a, b))
    print("\n### Size, blur, motion and replay checks\n")
    print("| measure | n | min | p5 | median | p95 | max |\n|---|---|---|---|---|---|---|")
    print(stats_row("face box short side, px (minimum 80)", px))
    for key, values in sharp.items():
        print(stats_row(f"sharpness, {key} (minimum {s.min_sharpness:.0f})", values))
    print(stats_row("copies: roll difference, degrees", [abs(a.roll - b.roll) for a, b in copies]))
    print(stats_row("copies: eye-midpoint shift, eye distances", [checks.shift(a, b) for a, b in copies]))
    print(stats_row("copies: size change", [abs(a.iod / b.iod - 1) for a, b in copies]))
    print(stats_row("copies: dHash bits", [float(hamming(a.dhash, b.dhash)) for a, b in copies]))
    same = checks.same_picture
    print(f"\n- copies recognised as the same picture: {sum(same(a, b, s) for a, b in copies)}/{len(copies)}")
    print(f"- distinct frames of one attempt taken for copies: {sum(same(a, b, s) for a, b in within)}/{len(within)}")
    print(f"- frames of two attempts taken for a replay: {sum(same(a, b, s) for a, b in across)}/{len(across)}")
    print(f"- attempts showing motion: {sum(set_motion)}/{len(set_motion)}")


def resized(data: bytes, factor: float) -> bytes:
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    return gen.jpeg(image.resize((round(image.width * factor), round(image.height * factor))), quality=88)


def baseline(frame_set: list[bytes], *, upsample: int, encode_n: int) -> float:
    """face_recognition in this process, one frame after another: decode, detect, encode."""
    fr: Any = worker._fr
    start = time.perf_counter()
    for i, data in enumerate(frame_set):
        rgb = fr.load_image_file(io.BytesIO(data)) if upsample else decode_frame(data, max_pixels=10**8, max_side=640)
        boxes = fr.face_locations(rgb, number_of_times_to_upsample=upsample, model="hog")
        if i < encode_n:
            fr.face_encodings(rgb, boxes)
    return time.perf_counter() - start


async def engine_latency(settings: FaceSettings, attempts: list[tuple[list[bytes], np.ndarray]]) -> list[float]:
    engine = ProcessPoolFaceEngine(settings)
    try:
        await engine.warm_up()
        await engine.verify(*attempts[0])
        times = []
        for frame_set, ref in attempts:
            start = time.perf_counter()
            result = await engine.verify(frame_set, ref)
            times.append(time.perf_counter() - start)
            if not result.matched:
                raise SystemExit("a genuine bench attempt did not match")
        return times
    finally:
        await engine.close()


def speed(count: int, workers: int) -> None:
    names = gen.PHOTOS
    refs = {n: encode(gen.photo(n)) for n in names}
    attempts = [(gen.make_frames(gen.photo(names[i % 2]), 5, seed=100 + i), refs[names[i % 2]]) for i in range(count)]
    rows: list[tuple[str, list[float]]] = []
    measure: Callable[..., list[float]] = lambda **kw: [baseline(f, **kw) for f, _ in attempts]  # noqa: E731
    rows.append(("baseline: in-process, detect 5 frames (no upsample) + encode 2", measure(upsample=0, encode_n=2)))
    rows.append(
        ("in-process, face_recognition defaults (upsample 1), detect + encode 5", measure(upsample=1, encode_n=5))
    )
    for k in (DEFAULTS.encode_frames, 5):
        settings = FaceSettings(workers=workers, encode_frames=k)
        rows.append(
            (f"engine.verify, {workers} workers, encode {k} of 5", asyncio.run(engine_latency(settings, attempts)))
        )
    base = statistics.median(rows[0][1])
    print(f"\n### Attempt latency ({count} attempts of 5 frames, one at a time; {os.cpu_count()} CPUs)\n")
    print("| what | p50 ms | p95 ms | p50 ratio to baseline |\n|---|---|---|---|")
    for name, times in rows:
        p50, p95 = statistics.median(times), float(np.percentile(times, 95))
        print(f"| {name} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | {p50 / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="frame sets per photo for the distances")
    parser.add_argument("--attempts", type=int, default=20, help="timed attempts per row")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", choices=("distances", "checks", "speed"), action="append", help="repeatable")
    args = parser.parse_args()
    only = set(args.only or ("distances", "checks", "speed"))
    worker.init_worker()
    print(f"match threshold (default): {DEFAULTS.match_threshold}")
    if "distances" in only:
        distances(args.seeds)
    if "checks" in only:
        liveness_checks(args.seeds)
    if "speed" in only:
        speed(args.attempts, args.workers)


if __name__ == "__main__":
    main()
