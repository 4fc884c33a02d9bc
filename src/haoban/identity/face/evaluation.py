"""The evaluation harness: the production face pipeline over a labelled pair list.

For each pair (registry photo, probe photo, same person or not) the registry photo goes
through `engine.reference`'s path and phone-like frames made from the probe photo through
`engine.verify`'s path: the same worker code, checks, settings and decision as the server.
Each probe photo's frames are analysed once and matched against every reference it is paired
with. Which frames are encoded is drawn per probe from a seed, as the server draws it per
attempt. Plain face_recognition on the same photo and frames is the baseline.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from haoban.identity.face import checks, errors
from haoban.identity.face.engine import ProcessPoolFaceEngine, decide
from haoban.identity.face.features import Encoding, FrameFeatures, FrameResult, distance, template_from_bytes
from haoban.identity.face.settings import FaceSettings

FrameMaker = Callable[[bytes, int, int], list[bytes]]  # (photo, frames, seed) -> frames


class Pair(msgspec.Struct, frozen=True, kw_only=True):
    reference: str  # the registry photo
    probe: str  # the photo the frames are made from
    genuine: bool


class Trial(msgspec.Struct, frozen=True, kw_only=True):
    pair: Pair
    refusal: str | None  # a failure to acquire: the reason code (reference:... for the registry photo)
    distance: float | None  # fused distance, when every check passed
    fused: dict[str, float]  # the same encoded frames' distances under each fusion
    matched: bool
    baseline: float | None  # plain face_recognition's mean distance (None: it found no face, or not run)


class Report(msgspec.Struct, frozen=True, kw_only=True):
    threshold: float
    fusion: str
    frames: int
    seed: int
    trials: list[Trial]


def read_pairs(path: Path) -> list[Pair]:
    """`file_x,file_y,Decision` rows (Decision Yes = same person), as in faces-dev/master.csv."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = []
    for n, row in enumerate(rows, start=2):
        decision = (row.get("Decision") or "").strip().lower()
        if decision not in ("yes", "no") or not row.get("file_x") or not row.get("file_y"):
            raise ValueError(f"{path}:{n}: expected file_x,file_y,Decision (Yes/No)")
        pairs.append(Pair(reference=row["file_x"], probe=row["file_y"], genuine=decision == "yes"))
    return pairs


def _seed(seed: int, name: str) -> int:
    return seed * 1_000_003 + int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def _keep_encoded(results: list[FrameResult], chosen: set[int]) -> list[FrameResult]:
    """Drop the templates of frames not chosen for matching, as if only those had been encoded."""
    return [
        msgspec.structs.replace(r, template=None) if isinstance(r, FrameFeatures) and r.index not in chosen else r
        for r in results
    ]


async def _references(
    engine: ProcessPoolFaceEngine, s: FaceSettings, photos: dict[str, bytes]
) -> dict[str, Encoding | str]:
    out: dict[str, Encoding | str] = {}
    for name, photo in photos.items():
        try:
            results = await engine.analyze([photo], encode={0}, reference=True)
            (face,) = checks.usable_faces(results, s, reference=True)
        except errors.FaceError as exc:
            out[name] = f"reference:{exc.code}"
            continue
        if face.template is None:
            raise RuntimeError("the worker did not encode the reference photo")
        out[name] = template_from_bytes(face.template)
    return out


async def _probes(
    engine: ProcessPoolFaceEngine, s: FaceSettings, photos: dict[str, bytes], frames: dict[str, list[bytes]], seed: int
) -> dict[str, list[FrameResult] | str]:
    room = asyncio.Semaphore(max(1, s.queue_frames // s.max_frames))  # stay within the engine's queue

    async def one(name: str) -> tuple[str, list[FrameResult] | str]:
        shots = frames[name]
        try:
            async with room:
                results = await engine.analyze(shots, encode=set(range(len(shots))))
        except errors.FaceError as exc:
            return name, exc.code
        rng = random.Random(_seed(seed, name) + 1)  # noqa: S311 - which frames are encoded, reproducibly
        chosen = set(rng.sample(range(len(shots)), min(s.encode_frames, len(shots))))
        return name, _keep_encoded(results, chosen)

    return dict(await asyncio.gather(*(one(name) for name in photos)))


def _trial(pair: Pair, reference: Encoding | str, probe: list[FrameResult] | str, s: FaceSettings) -> Trial:
    def refused(reason: str) -> Trial:
        return Trial(pair=pair, refusal=reason, distance=None, fused={}, matched=False, baseline=None)

    if isinstance(reference, str):
        return refused(reference)
    if isinstance(probe, str):
        return refused(probe)
    try:
        verdict = decide(probe, reference, s)
    except errors.FaceError as exc:
        return refused(exc.code)
    encoded = checks.encodings([r for r in probe if isinstance(r, FrameFeatures)])
    distances = [distance(e, reference) for e in encoded.values()]
    fused = {f: checks.fuse(distances, f) for f in ("mean", "median", "min")}
    return Trial(
        pair=pair, refusal=None, distance=verdict.distance, fused=fused, matched=verdict.matched, baseline=None
    )


def plain_encoding(image: bytes) -> list[float] | None:
    """Plain face_recognition at its defaults (upsample 1, HOG): the first face's encoding."""
    import io  # noqa: PLC0415 - runs in a baseline worker process

    import face_recognition  # noqa: PLC0415 - loaded only in the baseline's processes

    found = face_recognition.face_encodings(face_recognition.load_image_file(io.BytesIO(image)))
    return [float(v) for v in found[0]] if found else None


async def _baseline(
    trials: list[Trial],
    photos: dict[str, bytes],
    frames: dict[str, list[bytes]],
    probes: dict[str, object],
    workers: int,
) -> list[Trial]:
    """Plain face_recognition on the same registry photos and the same encoded frames."""
    import multiprocessing  # noqa: PLC0415

    wanted: dict[str, bytes] = {}
    for t in trials:
        wanted[f"ref:{t.pair.reference}"] = photos[t.pair.reference]
        results = probes.get(t.pair.probe)
        for i, shot in enumerate(frames[t.pair.probe]):
            encoded = not isinstance(results, list) or any(
                isinstance(r, FrameFeatures) and r.index == i and r.template is not None for r in results
            )
            if encoded:
                wanted[f"probe:{t.pair.probe}:{i}"] = shot
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        keys = list(wanted)
        found = await asyncio.gather(*(loop.run_in_executor(pool, plain_encoding, wanted[k]) for k in keys))
    plain = dict(zip(keys, found, strict=True))
    out = []
    for t in trials:
        ref = plain[f"ref:{t.pair.reference}"]
        probes_plain = [v for k, v in plain.items() if k.startswith(f"probe:{t.pair.probe}:") and v is not None]
        value = None
        if ref is not None and probes_plain:
            import numpy as np  # noqa: PLC0415

            value = sum(distance(np.asarray(p), np.asarray(ref)) for p in probes_plain) / len(probes_plain)
        out.append(msgspec.structs.replace(t, baseline=value))
    return out


async def evaluate(
    engine: ProcessPoolFaceEngine,
    s: FaceSettings,
    photos_dir: Path,
    pairs: Sequence[Pair],
    make_frames: FrameMaker,
    *,
    frames: int = 3,
    seed: int = 0,
    baseline: bool = True,
    baseline_workers: int = 1,
) -> Report:
    """Every pair through the production pipeline (and, with `baseline`, plain face_recognition)."""
    names = {p.reference for p in pairs} | {p.probe for p in pairs}
    photos = {name: (photos_dir / name).read_bytes() for name in sorted(names)}
    probe_names = sorted({p.probe for p in pairs})
    shots = {name: make_frames(photos[name], frames, _seed(seed, name)) for name in probe_names}
    references = await _references(engine, s, {n: photos[n] for n in sorted({p.reference for p in pairs})})
    probes = await _probes(engine, s, {n: photos[n] for n in probe_names}, shots, seed)
    trials = [_trial(p, references[p.reference], probes[p.probe], s) for p in pairs]
    if baseline:
        trials = await _baseline(trials, photos, shots, dict(probes), baseline_workers)
    return Report(threshold=s.match_threshold, fusion=s.fusion, frames=frames, seed=seed, trials=trials)


# --- figures ---------------------------------------------------------------------


class Rates(msgspec.Struct, frozen=True, kw_only=True):
    genuine: int
    impostor: int
    fta: int  # genuine pairs refused before matching
    false_non_matches: int  # genuine pairs that reached the match and failed it
    false_matches: int
    impostor_fta: int

    @property
    def fnmr(self) -> float:
        """False non-matches over the genuine pairs that were matched (ISO/IEC 19795-1)."""
        matched = self.genuine - self.fta
        return self.false_non_matches / matched if matched else 0.0

    @property
    def fta_plus_fnm(self) -> float:
        """Failures to acquire plus false non-matches, over every genuine pair: what a person feels."""
        return (self.fta + self.false_non_matches) / self.genuine if self.genuine else 0.0

    @property
    def fmr(self) -> float:
        compared = self.impostor - self.impostor_fta
        return self.false_matches / compared if compared else 0.0


def rates(trials: Sequence[Trial], threshold: float, *, use_baseline: bool = False) -> Rates:
    genuine = [t for t in trials if t.pair.genuine]
    impostor = [t for t in trials if not t.pair.genuine]

    def value(t: Trial) -> float | None:
        return t.baseline if use_baseline else t.distance

    return Rates(
        genuine=len(genuine),
        impostor=len(impostor),
        fta=sum(1 for t in genuine if value(t) is None),
        false_non_matches=sum(1 for t in genuine if (v := value(t)) is not None and v >= threshold),
        false_matches=sum(1 for t in impostor if (v := value(t)) is not None and v < threshold),
        impostor_fta=sum(1 for t in impostor if value(t) is None),
    )


def refusals(trials: Sequence[Trial]) -> Counter[str]:
    """Failures to acquire of genuine pairs, by reason."""
    return Counter(t.refusal for t in trials if t.pair.genuine and t.refusal is not None)


ACTIONABLE = frozenset(
    {"face_too_small", "too_blurry", "no_face", "multiple_faces", "no_motion", "frame_too_large", "different_people"}
)


def lost_to_baseline(trials: Sequence[Trial], threshold: float) -> list[Trial]:
    """Genuine pairs plain face_recognition matches that the pipeline refuses without a reason a person can act on."""
    return [
        t
        for t in trials
        if t.pair.genuine
        and t.baseline is not None
        and t.baseline < threshold
        and not t.matched
        and (t.refusal is None or t.refusal not in ACTIONABLE)
    ]


def histogram(
    values: Sequence[float], *, lo: float = 0.0, hi: float = 1.2, step: float = 0.05
) -> list[tuple[float, int]]:
    bins = [round(lo + i * step, 4) for i in range(round((hi - lo) / step))]
    counts = Counter(min(len(bins) - 1, max(0, int((v - lo) // step))) for v in values)
    return [(edge, counts.get(i, 0)) for i, edge in enumerate(bins)]


def det_points(trials: Sequence[Trial], *, use_baseline: bool = False) -> list[tuple[float, float, float]]:
    """(threshold, FMR, FTA+FNM rate) from 0.20 to 0.80 in steps of 0.01."""
    points = []
    for step in range(20, 81):
        t = step / 100
        r = rates(trials, t, use_baseline=use_baseline)
        points.append((t, r.fmr, r.fta_plus_fnm))
    return points


def markdown(report: Report) -> str:
    """The tables a closing note or docs/identity.md quotes."""
    t = report.threshold
    lines = [
        f"threshold {t}, fusion {report.fusion}, {report.frames} frames per trial, seed {report.seed}",
        "",
        "| pipeline | genuine | FTA | FNM | FTA+FNM rate | FNMR | impostor | FM | FMR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, base in (("production", False), ("plain face_recognition", True)):
        if base and all(tr.baseline is None for tr in report.trials):
            continue
        r = rates(report.trials, t, use_baseline=base)
        lines.append(
            f"| {label} | {r.genuine} | {r.fta} | {r.false_non_matches} | {r.fta_plus_fnm:.1%} | {r.fnmr:.1%}"
            f" | {r.impostor} | {r.false_matches} | {r.fmr:.2%} |"
        )
    reasons = refusals(report.trials)
    lines += ["", "failures to acquire (genuine): " + (", ".join(f"{k} {v}" for k, v in reasons.items()) or "none")]
    genuine = [tr.distance for tr in report.trials if tr.pair.genuine and tr.distance is not None]
    impostor = [tr.distance for tr in report.trials if not tr.pair.genuine and tr.distance is not None]
    if genuine and impostor:
        lines.append(f"genuine distances {min(genuine):.3f}-{max(genuine):.3f}, impostor from {min(impostor):.3f}")
    lines += ["", "| fusion | FTA+FNM rate | FMR |", "|---|---:|---:|"]
    for fusion in ("mean", "median", "min"):
        g = [tr.fused[fusion] for tr in report.trials if tr.pair.genuine and tr.fused]
        i = [tr.fused[fusion] for tr in report.trials if not tr.pair.genuine and tr.fused]
        gen = sum(1 for tr in report.trials if tr.pair.genuine)
        missed = (gen - len(g)) + sum(1 for v in g if v >= t)
        lines.append(
            f"| {fusion} | {missed / gen if gen else 0:.1%} | {sum(1 for v in i if v < t) / len(i) if i else 0:.2%} |"
        )
    lost = lost_to_baseline(report.trials, t)
    lines += [
        "",
        f"genuine pairs plain face_recognition matches, refused without an actionable reason: {len(lost)}",
    ]
    lines += [f"- {tr.pair.reference} vs {tr.pair.probe}: {tr.refusal or round(tr.distance or 0, 3)}" for tr in lost]
    lines += ["", "| distance | genuine | impostor |", "|---|---:|---:|"]
    for (edge, g_count), (_, i_count) in zip(histogram(genuine), histogram(impostor), strict=True):
        if g_count or i_count:
            lines.append(f"| {edge:.2f} | {g_count} | {i_count} |")
    return "\n".join(lines)


def plot_det(report: Report, path: Path) -> None:
    """The DET curve (FTA+FNM rate against FMR over thresholds) for the pipeline and the baseline, as a PNG."""
    try:
        import matplotlib  # noqa: PLC0415 - plotting is optional: a server install need not carry matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as exc:
        raise RuntimeError("the DET plot needs matplotlib (uv sync --group dev)") from exc
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for label, base, style in (("production pipeline", False, "-"), ("plain face_recognition", True, "--")):
        if base and all(t.baseline is None for t in report.trials):
            continue
        points = det_points(report.trials, use_baseline=base)
        axes[0].plot([p[1] for p in points], [p[2] for p in points], style, marker=".", label=label)
    impostors = max(1, sum(1 for t in report.trials if not t.pair.genuine))
    genuine_count = max(1, sum(1 for t in report.trials if t.pair.genuine))
    # Log scales down to one trial: zero is drawn on the linear stretch below that.
    axes[0].set_xscale("symlog", linthresh=1 / impostors)
    axes[0].set_yscale("symlog", linthresh=1 / genuine_count)
    axes[0].set_xlabel("false match rate")
    axes[0].set_ylabel("failures to acquire + false non-matches (share of genuine pairs)")
    axes[0].set_title("DET over thresholds 0.20-0.80")
    axes[0].legend()
    genuine = [t.distance for t in report.trials if t.pair.genuine and t.distance is not None]
    impostor = [t.distance for t in report.trials if not t.pair.genuine and t.distance is not None]
    axes[1].hist([genuine, impostor], bins=[i / 40 for i in range(49)], label=["genuine", "impostor"])
    axes[1].axvline(report.threshold, color="black", ls=":", label=f"threshold {report.threshold}")
    axes[1].set_xlabel("fused distance to the registry photo")
    axes[1].set_title("distances through the production pipeline")
    axes[1].legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
