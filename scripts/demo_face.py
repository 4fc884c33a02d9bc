"""Register and log in a demo citizen by face against a running `haoban serve --demo`.

    uv run python scripts/demo_face.py [--base http://127.0.0.1:8000]

Frames are made from the shipped ID photo by small rotation, shift, scale,
brightness and recompression (what a phone's short capture would give), with a
fresh seed each time, and new frames when the engine finds them too like an earlier
capture (frames that opened a session are refused as replays for 24 h).
Run it again and the registration answers 409 `already_registered`: the script then
logs in, as the app would. It runs any number of times on one server
(tests/sandbox/test_demo_script.py runs it three times). It imports only the installed
package (`haoban.sandbox.frames`), never `tests`.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
import uuid

import httpx

from haoban.sandbox import frames
from haoban.sandbox.demo import ZHANG_SAN

ZHANG_SAN_CARD = "6217000000000000123"  # his fund account's bank card in the demo data

CLIENT = {"X-Client-ID": "haoban-app"}


def _frames(seed: int) -> list[str]:
    shots = frames.make_frames(frames.photo("grace_hopper.jpg"), 3, seed=seed)
    return [base64.b64encode(shot).decode() for shot in shots]


def _challenge(http: httpx.Client, purpose: str) -> str:
    response = http.post("/v1/auth/face/challenges", json={"id_number": ZHANG_SAN, "purpose": purpose}, headers=CLIENT)
    response.raise_for_status()
    challenge_id: str = response.json()["challenge_id"]
    return challenge_id


def _face(http: httpx.Client, path: str, purpose: str, body: dict[str, object]) -> httpx.Response:
    """Send fresh frames; when the engine finds them too like an earlier capture, take new ones (as a phone would)."""
    for attempt in range(10):
        if attempt:
            print(f"  {purpose}: the engine found the frames replayed; taking new ones")
        shots = _frames(secrets.randbelow(2**32))
        response = http.post(
            path, json={**body, "challenge_id": _challenge(http, purpose), "frames": shots}, headers=CLIENT
        )
        if not (response.status_code == 422 and response.json().get("code") == "replayed_frame"):
            break
    return response


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    with httpx.Client(base_url=args.base, timeout=60) as http:
        consent = {"biometric": True, "terms_version": "demo-2026-11"}
        registered = _face(
            http, "/v1/auth/register", "register", {"id_number": ZHANG_SAN, "name": "张三", "consent": consent}
        )
        if registered.status_code == 409 and registered.json().get("code") == "already_registered":
            print("register: 409 already registered; logging in instead")
        else:
            print("register:", registered.status_code, registered.json().get("acr") or registered.json())
        login = _face(http, "/v1/auth/face-login", "login", {"id_number": ZHANG_SAN})
        print("face login:", login.status_code, login.json().get("acr") or login.json())
        if login.status_code != 200:
            return 1
        token = login.json()["access_token"]
        linked = http.get("/v1/me/linked-data", headers={"Authorization": f"Bearer {token}"}).json()
        for source in linked["sources"]:
            print(f"  {source['source']:16} {source['status']}")
        print(f"TOKEN={token}")
        # 零跑腿、零材料、刷脸办、秒到账: the rent withdrawal, decided and paid in this request.
        applied = http.post(
            "/v1/applications",
            json={"service_code": "hpf.withdraw.rent", "inputs": {}},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"demo-rent-{uuid.uuid4()}"},
        )
        body = applied.json()
        if applied.status_code >= 400:
            # A second run in the same period: the rule allows one rent withdrawal per period.
            print("rent withdrawal:", applied.status_code, body.get("code"), body.get("detail"))
        else:
            payout = body.get("payout") or {}
            print(
                "rent withdrawal:",
                applied.status_code,
                body.get("status"),
                payout.get("amount_fen"),
                payout.get("status"),
            )
        received = http.get("/sandbox/bank/transfers", params={"card_no": ZHANG_SAN_CARD}).json()
        for transfer in received["transfers"]:
            print(f"  sandbox bank received {transfer['amount_fen']} fen, {transfer['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
