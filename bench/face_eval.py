"""The face pipeline on a labelled photo set, under two capture conditions, against plain face_recognition.

    uv run python bench/face_eval.py [--photos ../shared/data/faces-dev] [--pairs master.csv]

Runs `haoban faces evaluate` (the production pipeline with the server's settings, see
src/haoban/identity/face/evaluation.py) twice: phone-like frames of at most 1280 px, and
2048 px frames taken from further away (the photo on a canvas 0.6 of its size larger on
each side, so the face is smaller in a larger frame). It prints both reports and leaves
each run's DET plot, report and trials under bench/results/face-eval-<condition>/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDITIONS = {"phone-1280": ("1280", "0"), "far-2048": ("2048", "0.6")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "data" / "faces-dev")
    parser.add_argument("--pairs", type=Path, default=None, help="default: PHOTOS/master.csv")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    pairs = args.pairs or args.photos / "master.csv"
    for name, (side, margin) in CONDITIONS.items():
        out = ROOT / "bench" / "results" / f"face-eval-{name}"
        command = [sys.executable, "-m", "haoban.cli", "faces", "evaluate", str(args.photos), "--pairs", str(pairs)]
        command += ["--side", side, "--margin", margin, "--out", str(out)]
        if args.no_baseline:
            command.append("--no-baseline")
        print(f"## {name}: frames up to {side} px, margin {margin}\n", flush=True)
        done = subprocess.run(command, cwd=ROOT, check=False)
        if done.returncode:
            return done.returncode
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
