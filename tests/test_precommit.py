"""The pre-commit hooks are valid and run the same lint, format and type commands as `.ci/run`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".pre-commit-config.yaml"
CI = ROOT / ".ci" / "run"
LINT_TOOLS = ("ruff", "mypy")


def ci_lint_commands(script: str, root: Path = ROOT) -> list[list[str]]:
    """The `uv run ruff …` and `uv run mypy …` lines of the CI script, with `lint_paths` expanded as bash would."""
    paths: list[str] = []
    commands: list[list[str]] = []
    for raw in script.splitlines():
        line = raw.strip()
        if m := re.fullmatch(r"lint_paths=\((.*)\)", line):
            paths = shlex.split(m[1])
        elif m := re.fullmatch(r"lint_paths\+=\((.*)\)", line):
            added = shlex.split(m[1])
            paths += [p for p in added if (root / p).is_dir()]  # .ci/run adds them under `[[ -d … ]]`
        elif line.startswith("uv run "):
            argv = shlex.split(line)
            if argv[2] in LINT_TOOLS:
                expanded: list[str] = []
                for arg in argv:
                    expanded += paths if arg == "${lint_paths[@]}" else [arg]
                commands.append(expanded)
    return commands


def hook_commands(config: dict[str, Any]) -> list[list[str]]:
    """What each hook runs: its entry and args (every hook is local and is given no file names)."""
    commands: list[list[str]] = []
    for repo in config["repos"]:
        assert repo["repo"] == "local", "hooks run the project's own tools, not downloaded ones"
        for hook in repo["hooks"]:
            assert hook["language"] == "system", hook["id"]
            assert hook.get("pass_filenames") is False, f"{hook['id']} checks the same paths as CI"
            commands.append([*shlex.split(hook["entry"]), *hook.get("args", [])])
    return commands


def test_the_config_validates() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_hooks_run_the_ci_lint_commands() -> None:
    ci = ci_lint_commands(CI.read_text(encoding="utf-8"))
    assert [c[:3] for c in ci] == [["uv", "run", "ruff"], ["uv", "run", "ruff"], ["uv", "run", "mypy"]], ci
    assert hook_commands(yaml.safe_load(CONFIG.read_text(encoding="utf-8"))) == ci


def test_a_drifted_hook_is_caught() -> None:
    """The comparison is not vacuous: a hook that checks fewer paths than CI differs."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["repos"][0]["hooks"][0]["entry"] = "uv run ruff check src"
    assert hook_commands(config) != ci_lint_commands(CI.read_text(encoding="utf-8"))


def test_ci_paths_expand_as_bash_does(tmp_path: Path) -> None:
    script = (
        "lint_paths=(src tests)\n"
        "if [[ -d bench ]]; then\n"
        "    lint_paths+=(bench)\n"
        "fi\n"
        'uv run ruff check "${lint_paths[@]}"\n'
    )
    assert ci_lint_commands(script, tmp_path) == [["uv", "run", "ruff", "check", "src", "tests"]]
    (tmp_path / "bench").mkdir()
    assert ci_lint_commands(script, tmp_path) == [["uv", "run", "ruff", "check", "src", "tests", "bench"]]
