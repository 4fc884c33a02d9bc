"""HMAC-SHA256 signatures for the bank API: requests, responses and callbacks (see docs/bank.md).

A request (ours to the bank, or the bank's callback to us) carries

    X-Bank-Key-Id     which shared secret signed it
    X-Bank-Timestamp  Unix seconds; refused when more than 300 s from the receiver's clock
    X-Bank-Nonce      16 to 64 characters [A-Za-z0-9_-], never reused within the window
    X-Bank-Signature  base64(HMAC-SHA256(secret, string to sign))

    string to sign = METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(SHA-256(body))

A response carries the same headers; its string to sign starts with the status
and is bound to the request it answers by the request's nonce, so an old
answer replayed to a new request does not verify:

    string to sign = "response" \\n STATUS \\n REQUEST NONCE \\n TIMESTAMP \\n NONCE \\n hex(SHA-256(body))

Pure functions over bytes and a Unix time: no I/O, no clock of their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

KEY_ID = "x-bank-key-id"
TIMESTAMP = "x-bank-timestamp"
NONCE = "x-bank-nonce"
SIGNATURE = "x-bank-signature"

MAX_SKEW_S = 300
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class SignatureError(Exception):
    """A message that must not be trusted; `reason` is a stable code for logs and 401 bodies."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _mac(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def request_message(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> str:
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{_digest(body)}"


def response_message(status: int, request_nonce: str, timestamp: int, nonce: str, body: bytes) -> str:
    return f"response\n{status}\n{request_nonce}\n{timestamp}\n{nonce}\n{_digest(body)}"


def _headers(key_id: str, secret: str, message: str, timestamp: int, nonce: str) -> dict[str, str]:
    return {KEY_ID: key_id, TIMESTAMP: str(timestamp), NONCE: nonce, SIGNATURE: _mac(secret, message)}


def sign_request(
    *, key_id: str, secret: str, method: str, path: str, body: bytes, timestamp: int, nonce: str | None = None
) -> dict[str, str]:
    """The four signature headers for a request."""
    nonce = nonce or new_nonce()
    return _headers(key_id, secret, request_message(method, path, timestamp, nonce, body), timestamp, nonce)


def sign_response(
    *, key_id: str, secret: str, status: int, request_nonce: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """The four signature headers for the answer to the request whose nonce is `request_nonce`."""
    nonce = new_nonce()
    message = response_message(status, request_nonce, timestamp, nonce, body)
    return _headers(key_id, secret, message, timestamp, nonce)


def _parts(headers: Mapping[str, str], key_id: str) -> tuple[int, str, str]:
    """(timestamp, nonce, signature) from well-formed headers signed with `key_id`."""
    values = [headers.get(name) for name in (KEY_ID, TIMESTAMP, NONCE, SIGNATURE)]
    got_key, raw_ts, nonce, signature = values
    if got_key is None or raw_ts is None or nonce is None or signature is None:
        raise SignatureError("missing_signature")
    if not hmac.compare_digest(got_key.encode(), key_id.encode()):
        raise SignatureError("unknown_key")
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise SignatureError("bad_timestamp")
    if not _NONCE.match(nonce):
        raise SignatureError("bad_nonce")
    return int(raw_ts), nonce, signature


def _check(secret: str, message: str, signature: str) -> None:
    if not hmac.compare_digest(_mac(secret, message).encode(), signature.encode()):
        raise SignatureError("bad_signature")


def verify_request(
    headers: Mapping[str, str], *, key_id: str, secret: str, method: str, path: str, body: bytes, now: int
) -> str:
    """Check a signed request; returns its nonce, which the caller must refuse if seen before."""
    timestamp, nonce, signature = _parts(headers, key_id)
    _check(secret, request_message(method, path, timestamp, nonce, body), signature)
    if abs(now - timestamp) > MAX_SKEW_S:
        raise SignatureError("stale_timestamp")
    return nonce


def verify_response(
    headers: Mapping[str, str], *, key_id: str, secret: str, status: int, request_nonce: str, body: bytes
) -> None:
    """Check that this answer was signed by the bank for the request with `request_nonce`."""
    timestamp, nonce, signature = _parts(headers, key_id)
    _check(secret, response_message(status, request_nonce, timestamp, nonce, body), signature)
