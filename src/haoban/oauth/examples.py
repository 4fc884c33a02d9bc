"""OpenAPI examples for the OAuth routes (kept out of routes.py so it stays HTTP only)."""

from __future__ import annotations

from typing import Any

import msgspec

from haoban.oauth.metadata import provider_metadata

REQUEST_URI = "urn:ietf:params:oauth:request_uri:Jx3h0kq1mW6y2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF"

METADATA: dict[str, Any] = msgspec.to_builtins(provider_metadata("https://haoban.example.cn"))

PAR_FORM = {
    "client_id": "demo-miniprogram",
    "response_type": "code",
    "redirect_uri": "https://miniprogram.example/callback",
    "scope": "openid profile",
    "state": "af0ifjsldkj",
    "nonce": "n-0S6_WzA2Mj",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
}
PAR_RESPONSE = {"request_uri": REQUEST_URI, "expires_in": 60}

VIEW = {
    "client_id": "demo-miniprogram",
    "client_name": "好办小程序 (demo)",
    "purpose": "Show your housing fund balance in the mini-program",
    "scopes": ["openid", "profile"],
    "request_uri": REQUEST_URI,
    "expires_at": "2026-11-28T10:31:00Z",
}
DECISION = {"request_uri": REQUEST_URI, "decision": "approve"}
REDIRECT = {
    "redirect_to": "https://miniprogram.example/callback?code=hbc_SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj"
    "&iss=https%3A%2F%2Fhaoban.example.cn"
}
APPROVALS = {
    "items": [
        {
            "client_id": "demo-miniprogram",
            "client_name": "好办小程序 (demo)",
            "purpose": "Show your housing fund balance in the mini-program",
            "scopes": ["openid", "profile"],
            "approved_at": "2026-11-28T10:30:12Z",
        }
    ]
}
TOKEN_FORM = {
    "grant_type": "authorization_code",
    "client_id": "demo-miniprogram",
    "code": "hbc_SplxlOBeZQQYbYS6WxSbIA",
    "redirect_uri": "https://miniprogram.example/callback",
    "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
}
TOKEN_RESPONSE = {
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
    "token_type": "Bearer",
    "expires_in": 600,
    "scope": "openid profile",
    "refresh_token": "hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE",
    "id_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6IkpXVCJ9...",
}

REVOKE_FORM = {"token": "hbo_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9Uu4n2b5cF1sE", "token_type_hint": "refresh_token"}
LOGOUT_FORM = {
    "id_token_hint": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6IkpXVCJ9...",
    "post_logout_redirect_uri": "https://miniprogram.example/callback",
    "state": "af0ifjsldkj",
}
INTROSPECT_FORM = {"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9..."}
INTROSPECTION = {
    "active": True,
    "scope": "hpf.read",
    "client_id": "demo-department",
    "token_type": "Bearer",
    "exp": 1795860000,
    "iat": 1795859400,
    "sub": "demo-department",
    "aud": "haoban-api",
    "iss": "https://haoban.example.cn",
}
INACTIVE = {"active": False}
USERINFO = {
    "sub": "3q2-7wEjq0h1v8k5Yd9V0bS2s3QeRjZx4mWn6Xc1pTg",
    "name": "张*",
    "real_name_verified": True,
    "real_name_level": "face",
}
