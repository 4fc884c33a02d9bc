"""Client registration: `haoban oauth client create`, only a keyed hash of a secret stored, Basic auth checked."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban import cli
from haoban.oauth.clients import secret_hmac
from haoban.settings import Settings
from tests.conftest import server_env
from tests.oauth import flows


def _row(db_url: str, client_id: str) -> asyncpg.Record | None:
    async def fetch() -> asyncpg.Record | None:
        conn = await asyncpg.connect(db_url)
        try:
            return await conn.fetchrow(
                "SELECT client_type, secret_hmac FROM oauth_clients WHERE client_id = $1",
                client_id,
            )
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_cli_creates_a_confidential_client_storing_only_a_keyed_hash(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEPT_SECRET", "s3cret-from-the-environment")
    argv = ["oauth", "client", "create", "hpf-center", "--type", "confidential", "--name", "公积金中心"]
    argv += ["--purpose", "Department system", "--scope", "hpf.read", "--secret-env", "DEPT_SECRET"]
    assert cli.main(argv) == 0
    row = _row(db_url, "hpf-center")
    assert row is not None
    assert row["client_type"] == "confidential"
    assert b"s3cret" not in row["secret_hmac"]
    expected = secret_hmac(settings.security.token_hmac_key, "hpf-center", "s3cret-from-the-environment")
    assert row["secret_hmac"] == expected
    assert "s3cret" not in capsys.readouterr().out


def test_cli_generates_a_secret_and_refuses_bad_specs(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(db_url).items():
        monkeypatch.setenv(name, value)
    base = ["oauth", "client", "create", "mp-one", "--name", "MP", "--purpose", "p", "--scope", "openid"]
    assert cli.main([*base, "--type", "confidential"]) == 0
    assert "shown once" in capsys.readouterr().out
    assert cli.main([*base, "--type", "public", "--redirect-uri", "http://mp.example/cb"]) == 1
    assert "https" in capsys.readouterr().err
    assert cli.main([*base, "--type", "public", "--redirect-uri", "https://mp.example/cb", "--scope", "admin"]) == 1
    assert cli.main([*base, "--type", "public"]) == 1  # a public client needs a redirect URI
    row = _row(db_url, "mp-one")
    assert row is not None
    assert row["client_type"] == "confidential"  # none of the refused specs replaced it


@pytest.mark.parametrize(
    "headers",
    [
        flows.basic(secret="wrong"),
        flows.basic(client_id=flows.PUBLIC_ID, secret=""),
        {"Authorization": "Basic !!!not-base64"},
        {},
    ],
    ids=["wrong-secret", "public-client-with-basic", "malformed", "no-auth"],
)
async def test_confidential_client_must_authenticate(oauth: AsyncTestClient[Litestar], headers: dict[str, str]) -> None:
    form = flows.par_form(client_id=flows.CONF_ID, redirect_uri="https://dept.example/cb")
    if not headers:
        response = await oauth.post("/oauth/par", data=form)
    else:
        form.pop("client_id")
        response = await oauth.post("/oauth/par", data=form, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"


async def test_confidential_client_with_its_secret_may_push(oauth: AsyncTestClient[Litestar]) -> None:
    form = flows.par_form(redirect_uri="https://dept.example/cb", client_id=None)
    response = await oauth.post("/oauth/par", data=form, headers=flows.basic())
    assert response.status_code == 201, response.text
