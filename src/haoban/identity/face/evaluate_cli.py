"""`haoban faces evaluate PHOTOS_DIR --pairs CSV`: the harness from the command line.

It reads the face settings from the environment exactly as `serve` does, so a deployment
evaluates the pipeline it runs. It prints the tables, and writes the DET plot and the trials
as JSON to `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import msgspec

from haoban.identity.face import evaluation
from haoban.identity.face.engine import ProcessPoolFaceEngine
from haoban.identity.face.settings import load_face_settings


def add_parser(faces: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = faces.add_parser("evaluate", help="FTA, FNMR and FMR of the production pipeline over a labelled pair list")
    run.add_argument("photos", type=Path, help="folder of photos named in the pair list")
    run.add_argument("--pairs", type=Path, required=True, help="CSV of file_x,file_y,Decision (Yes = same person)")
    run.add_argument("--out", type=Path, default=Path("var/face-eval"), help="where the DET plot and JSON go")
    run.add_argument("--frames", type=int, default=3, help="frames per attempt (3-5)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--side", type=int, default=1280, help="long side of the phone-like frames, px")
    run.add_argument("--margin", type=float, default=0.0, help="step the camera back: canvas margin per side")
    run.add_argument("--no-baseline", action="store_true", help="skip plain face_recognition")
    run.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    # The sandbox's camera, imported only when evaluating: serving never loads the sandbox.
    from haoban.sandbox.frames import make_frames  # noqa: PLC0415

    settings = load_face_settings(os.environ)
    pairs = evaluation.read_pairs(args.pairs)
    side: int = args.side
    margin: float = args.margin

    def frames(photo: bytes, n: int, seed: int) -> list[bytes]:
        return make_frames(photo, n, seed, max_side=side, margin=margin)

    async def run() -> evaluation.Report:
        engine = ProcessPoolFaceEngine(settings)
        try:
            return await evaluation.evaluate(
                engine,
                settings,
                args.photos,
                pairs,
                frames,
                frames=args.frames,
                seed=args.seed,
                baseline=not args.no_baseline,
                baseline_workers=settings.workers,
            )
        finally:
            await engine.close()

    report = asyncio.run(run())
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "trials.json").write_bytes(msgspec.json.encode(report))
    table = evaluation.markdown(report)
    (out / "report.md").write_text(table + "\n", encoding="utf-8")
    try:
        evaluation.plot_det(report, out / "det.png")
        table += f"\n\nDET plot: {out / 'det.png'}"
    except RuntimeError as exc:
        print(f"haoban: {exc}", file=sys.stderr)
    print(table)
    return 0
