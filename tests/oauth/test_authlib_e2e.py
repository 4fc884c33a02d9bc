"""A real OAuth client library (Authlib's httpx client) against a `haoban serve` process.

The server-side rules are proven in-process elsewhere and not repeated here:
PAR validation and the redirect-URI variants in test_par.py; wrong/short/missing
verifiers, code reuse, expired and foreign codes, foreign refresh tokens and
client credentials in test_token.py; unknown-token revocation and
unauthenticated introspection in test_revoke_introspect_userinfo.py; forged
tokens on scoped routes there too; concurrent refreshes and redemptions over
HTTP in test_live_server.py. What this module adds is interoperability: the
parameters Authlib builds (S256 challenge, state, client authentication) are
accepted, and the responses (problem+json errors included) parse as Authlib
expects, end to end over real HTTP.

Authlib has no PAR support, so the parameters of its authorization URL are
pushed to `/oauth/par` as they are; the citizen's approval is the app's own
call with a face-verified token, as in the other tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import jwt
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.conftest import TEST_ISSUER, LiveServer
from tests.factories import bearer
from tests.oauth import flows

pytestmark = pytest.mark.slow

DEPT_REDIRECT = "https://dept.example/cb"


class Live:
    """A server process, its endpoints as discovery lists them (rebased on the loopback URL), a citizen."""

    def __init__(self, base_url: str, metadata: dict[str, Any], citizen_access: str) -> None:
        self.base_url, self.metadata, self.citizen_access = base_url, metadata, citizen_access

    def url(self, name: str) -> str:
        """The issuer is https://haoban.test; the process listens on 127.0.0.1, so keep only the path."""
        advertised = str(self.metadata[name])
        assert advertised.startswith(TEST_ISSUER + "/")
        return self.base_url + urlsplit(advertised).path

    def public_client(self, **kwargs: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=flows.PUBLIC_ID,
            token_endpoint_auth_method="none",
            revocation_endpoint_auth_method="none",
            redirect_uri=flows.REDIRECT,
            scope="openid profile hpf.read",
            code_challenge_method="S256",
            timeout=30,
            **kwargs,
        )

    def department_client(self, secret: str = flows.SECRET) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=flows.CONF_ID,
            client_secret=secret,
            token_endpoint_auth_method="client_secret_basic",
            revocation_endpoint_auth_method="client_secret_basic",
            redirect_uri=DEPT_REDIRECT,
            scope="openid identity.verified",
            code_challenge_method="S256",
            timeout=30,
        )

    async def authorize(
        self, oauth: AsyncOAuth2Client, verifier: str, *, confidential: bool = False, **params: str
    ) -> tuple[str, str]:
        """Authlib builds the request, PAR carries it, the citizen approves: (redirect_to, state)."""
        url, state = oauth.create_authorization_url(
            self.url("authorization_endpoint"), code_verifier=verifier, **params
        )
        form = flows.query(url)
        if confidential:
            del form["client_id"]
            pushed = await oauth.post(
                self.url("pushed_authorization_request_endpoint"),
                data=form,
                auth=oauth.client_auth("client_secret_basic"),
            )
        else:
            pushed = await oauth.request(
                "POST", self.url("pushed_authorization_request_endpoint"), data=form, withhold_token=True
            )
        assert pushed.status_code == 201, pushed.text
        uri = pushed.json()["request_uri"]
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as app:  # the citizen's Haoban app
            shown = await app.get("/oauth/authorize", params={"client_id": oauth.client_id, "request_uri": uri})
            assert shown.status_code == 200, shown.text
            decided = await flows.decide(app, self.citizen_access, uri)
        assert decided.status_code == 200, decided.text
        return str(decided.json()["redirect_to"]), state


@pytest.fixture
async def live(
    live_server: Callable[..., LiveServer], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> Live:
    await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
    server = live_server()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        metadata = (await http.get("/.well-known/openid-configuration")).json()
        citizen_id = await flows.citizen(http)
    access = await flows.face_token(db, settings, clock, citizen_id)
    return Live(server.base_url, metadata, access)


def _verified_id_token(live: Live, jwks: dict[str, Any], id_token: str, audience: str) -> dict[str, Any]:
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = jwt.PyJWK.from_dict(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims: dict[str, Any] = jwt.decode(
        id_token, key.key, algorithms=["ES256"], audience=audience, issuer=live.metadata["issuer"]
    )
    return claims


async def test_authlib_code_flow_with_par_and_pkce_reaches_userinfo(live: Live) -> None:
    verifier = generate_token(64)
    async with live.public_client() as oauth:
        redirect_to, state = await live.authorize(oauth, verifier, nonce="n-authlib")
        assert flows.query(redirect_to)["iss"] == live.metadata["issuer"]  # RFC 9207; Authlib does not check it
        token = await oauth.fetch_token(
            live.url("token_endpoint"), authorization_response=redirect_to, state=state, code_verifier=verifier
        )
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "openid profile hpf.read"
        assert token["refresh_token"].startswith("hbo_")
        assert not token.is_expired()

        jwks = (await oauth.request("GET", live.url("jwks_uri"), withhold_token=True)).json()
        claims = _verified_id_token(live, jwks, token["id_token"], flows.PUBLIC_ID)
        assert claims["nonce"] == "n-authlib"

        info = await oauth.get(live.url("userinfo_endpoint"))  # Authlib attaches the bearer token
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == claims["sub"]


async def test_authlib_s256_of_the_rfc_7636_appendix_b_verifier_is_accepted(live: Live) -> None:
    assert create_s256_code_challenge(flows.VERIFIER) == flows.CHALLENGE
    async with live.public_client() as oauth:
        redirect_to, state = await live.authorize(oauth, flows.VERIFIER)
        token = await oauth.fetch_token(
            live.url("token_endpoint"), authorization_response=redirect_to, state=state, code_verifier=flows.VERIFIER
        )
        assert token["access_token"]


async def test_authlib_reads_the_servers_oauth_errors(live: Live) -> None:
    """Errors are problem+json with RFC 6749 `error` on top: Authlib raises them as OAuthError."""
    verifier = generate_token(64)
    async with live.public_client() as oauth:
        redirect_to, state = await live.authorize(oauth, verifier)
        with pytest.raises(OAuthError) as wrong:
            await oauth.fetch_token(
                live.url("token_endpoint"),
                authorization_response=redirect_to,
                state=state,
                code_verifier=verifier[::-1],
            )
        assert wrong.value.error == "invalid_grant"
        with pytest.raises(OAuthError) as password:
            await oauth.fetch_token(live.url("token_endpoint"), grant_type="password", username="a", password="b")
        assert password.value.error == "unsupported_grant_type"
        with pytest.raises(OAuthError) as credentials:
            await oauth.fetch_token(live.url("token_endpoint"), grant_type="client_credentials")
        assert credentials.value.error == "unauthorized_client"
    async with live.department_client(secret="not-the-secret") as department:
        with pytest.raises(OAuthError) as unknown:
            await department.fetch_token(live.url("token_endpoint"), grant_type="client_credentials")
        assert unknown.value.error == "invalid_client"


async def test_authlib_refresh_rotates_and_replaying_the_old_one_ends_the_family(live: Live) -> None:
    verifier = generate_token(64)
    async with live.public_client() as oauth:
        redirect_to, state = await live.authorize(oauth, verifier)
        first = dict(
            await oauth.fetch_token(
                live.url("token_endpoint"), authorization_response=redirect_to, state=state, code_verifier=verifier
            )
        )
        second = dict(await oauth.refresh_token(live.url("token_endpoint")))
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert second["scope"] == "openid profile hpf.read"
        assert (await oauth.get(live.url("userinfo_endpoint"))).status_code == 200  # now with the new token

        with pytest.raises(OAuthError) as replay:
            await oauth.refresh_token(live.url("token_endpoint"), refresh_token=first["refresh_token"])
        assert replay.value.error == "invalid_grant"
        gone = await oauth.get(live.url("userinfo_endpoint"), headers=bearer(second["access_token"]))
        assert gone.status_code == 401


async def test_authlib_revoking_a_refresh_token_ends_the_grant(live: Live) -> None:
    verifier = generate_token(64)
    async with live.public_client() as oauth:
        redirect_to, state = await live.authorize(oauth, verifier)
        token = dict(
            await oauth.fetch_token(
                live.url("token_endpoint"), authorization_response=redirect_to, state=state, code_verifier=verifier
            )
        )
        revoked = await oauth.revoke_token(
            live.url("revocation_endpoint"), token=token["refresh_token"], token_type_hint="refresh_token"
        )
        assert revoked.status_code == 200
        assert revoked.headers["cache-control"] == "no-store"
        assert (await oauth.get(live.url("userinfo_endpoint"))).status_code == 401
        with pytest.raises(OAuthError) as refresh:
            await oauth.refresh_token(live.url("token_endpoint"), refresh_token=token["refresh_token"])
        assert refresh.value.error == "invalid_grant"


async def test_authlib_confidential_client_introspects_then_revokes_to_exactly_inactive(live: Live) -> None:
    verifier = generate_token(64)
    async with live.department_client() as department:
        machine = await department.fetch_token(live.url("token_endpoint"), grant_type="client_credentials")
        own = await department.introspect_token(live.url("introspection_endpoint"), token=machine["access_token"])
        assert own.status_code == 200
        assert own.json()["active"] is True
        assert own.json()["client_id"] == flows.CONF_ID

        redirect_to, state = await live.authorize(department, verifier, confidential=True)
        token = dict(
            await department.fetch_token(
                live.url("token_endpoint"), authorization_response=redirect_to, state=state, code_verifier=verifier
            )
        )
        for kind in ("access_token", "refresh_token"):
            before = await department.introspect_token(live.url("introspection_endpoint"), token=token[kind])
            assert before.json()["active"] is True, kind
        revoked = await department.revoke_token(
            live.url("revocation_endpoint"), token=token["access_token"], token_type_hint="access_token"
        )
        assert revoked.status_code == 200
        for kind in ("access_token", "refresh_token"):
            after = await department.introspect_token(live.url("introspection_endpoint"), token=token[kind])
            assert after.status_code == 200
            assert after.content == b'{"active":false}', kind
