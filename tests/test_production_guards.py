"""`haoban serve` refuses a production start with the sandbox on, demo secrets or an http issuer."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

from haoban import cli
from haoban.production_guards import production_problems
from haoban.settings import load_settings

DB = "postgresql://nobody@127.0.0.1:1/none"  # never reached: the guards run first


def key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def production_env(tmp_path: Path, **over: str) -> dict[str, str]:
    env = {
        "HAOBAN_MODE": "production",
        "DATABASE_URL": DB,
        "HAOBAN_DATA_DIR": str(tmp_path),
        "HAOBAN_FIELD_KEYS": f"prod1:{key()}",
        "HAOBAN_TOKEN_HMAC_KEY": key(),
        "HAOBAN_ISSUER": "https://haoban.example.gov.cn",
        **over,
    }
    return {k: v for k, v in env.items() if v}


def problems(tmp_path: Path, **over: str) -> list[str]:
    return production_problems(load_settings(production_env(tmp_path, **over)))


def test_a_clean_production_configuration_passes(tmp_path: Path) -> None:
    assert problems(tmp_path) == []


def test_the_sandbox_is_refused(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, HAOBAN_SANDBOX="true")
    assert problem.startswith("HAOBAN_SANDBOX=true")


def test_an_http_issuer_is_refused_even_when_settings_allow_it(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, HAOBAN_ISSUER="http://10.0.0.5:8000", HAOBAN_ALLOW_HTTP_ISSUER="true")
    assert problem.startswith("HAOBAN_ISSUER")


def test_made_up_keys_are_refused(tmp_path: Path) -> None:
    weak = base64.urlsafe_b64encode(b"k" * 32).decode()
    found = problems(tmp_path, HAOBAN_FIELD_KEYS=f"prod1:{weak}", HAOBAN_TOKEN_HMAC_KEY=weak)
    assert [p.split(":")[0].split(" ")[0] for p in found] == ["HAOBAN_FIELD_KEYS", "HAOBAN_TOKEN_HMAC_KEY"]


def test_the_demo_secrets_of_the_data_dir_are_refused(tmp_path: Path) -> None:
    field, hmac_key, department = f"demo1:{key()}", key(), "demo-departments:housing_fund:" + "s" * 24
    (tmp_path / "demo-secrets.json").write_text(
        json.dumps(
            {
                "HAOBAN_FIELD_KEYS": field,
                "HAOBAN_TOKEN_HMAC_KEY": hmac_key,
                "HAOBAN_DEPARTMENT_CREDENTIALS": department,
            }
        )
    )
    found = problems(
        tmp_path, HAOBAN_FIELD_KEYS=field, HAOBAN_TOKEN_HMAC_KEY=hmac_key, HAOBAN_DEPARTMENT_CREDENTIALS=department
    )
    assert len(found) == 3
    assert all("demo" in p for p in found)
    assert [p.split(" ")[0].rstrip(":") for p in found] == [
        "HAOBAN_FIELD_KEYS",
        "HAOBAN_TOKEN_HMAC_KEY",
        "HAOBAN_DEPARTMENT_CREDENTIALS",
    ]


def test_the_demo_mode_is_not_production(tmp_path: Path) -> None:
    settings = load_settings({"HAOBAN_MODE": "demo", "HAOBAN_DATA_DIR": str(tmp_path)})
    assert production_problems(settings) == []


@pytest.mark.parametrize(
    ("over", "variable"),
    [
        ({"HAOBAN_SANDBOX": "true"}, "HAOBAN_SANDBOX"),
        ({"HAOBAN_ISSUER": "http://haoban.internal", "HAOBAN_ALLOW_HTTP_ISSUER": "true"}, "HAOBAN_ISSUER"),
        ({"HAOBAN_TOKEN_HMAC_KEY": base64.urlsafe_b64encode(bytes(32)).decode()}, "HAOBAN_TOKEN_HMAC_KEY"),
        (
            {"HAOBAN_SANDBOX": "true", "HAOBAN_TEST_DEPLOYMENT": "true", "HAOBAN_HOST": "0.0.0.0"},  # noqa: S104
            "HAOBAN_TEST_DEPLOYMENT",
        ),
    ],
)
def test_serve_refuses_to_start_and_names_the_variable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    over: dict[str, str],
    variable: str,
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("HAOBAN_") or n == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    for name, value in production_env(tmp_path, **over).items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) != 0
    err = capsys.readouterr().err
    assert variable in err
    assert "refus" in err or "needs" in err
