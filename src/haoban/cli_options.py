"""Options every `haoban` command that opens the database shares."""

from __future__ import annotations

import argparse

DEMO_HELP = "use the demo's database (found by itself when the data folder is a demo's)"
DATA_DIR_HELP = "the data folder (default HAOBAN_DATA_DIR or ./var); a demo's folder selects demo mode"


def add_demo_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true", help=DEMO_HELP)
    parser.add_argument("--data-dir", help=DATA_DIR_HELP)
