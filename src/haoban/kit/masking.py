"""Mask personal data for display and scrub it from anything we log.

The `mask_*` helpers are for values we know are personal (a phone number on a
receipt). `scrub` is defence in depth for free text: the log formatter runs it
over every message and extra string, so an ID number, mobile number or token
that slipped into a log call never reaches the log store in the clear.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"

# Digits next to ASCII letters or digits are part of a longer token (a hex id,
# a hash), not a number on its own; CJK text around a number still matches.
_SENSITIVE = re.compile(
    r"(?P<bearer>\b(?i:bearer)\s+)[A-Za-z0-9._~+/-]+=*"
    r"|(?P<jwt>eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"
    r"|(?P<refresh>hbr_[A-Za-z0-9_-]+)"
    r"|(?<![0-9A-Za-z])(?P<id>\d{17}[\dXx])(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z])(?P<cc>\+?86)?(?P<phone>1[3-9]\d{9})(?![0-9A-Za-z])"
)


def _keep(value: str, head: int, tail: int) -> str:
    """Keep `head` leading and `tail` trailing characters; star the rest."""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_number(value: str) -> str:
    """`410105199001011234` -> `410105********1234` (region code and last four kept)."""
    return _keep(value, 6, 4)


def mask_phone(value: str) -> str:
    """`13812345678` -> `138****5678`."""
    return _keep(value, 3, 4)


def mask_name(value: str) -> str:
    """`张三丰` -> `张**`; a one-character name is fully starred, since keeping it would show it all."""
    return _keep(value, 1, 0) if len(value) > 1 else "*" * len(value)


def _replace(found: re.Match[str]) -> str:
    if found.group("bearer") is not None:
        return found.group("bearer") + REDACTED
    if found.group("jwt") is not None or found.group("refresh") is not None:
        return REDACTED
    if (id_number := found.group("id")) is not None:
        return mask_id_number(id_number)
    return (found.group("cc") or "") + mask_phone(found.group("phone"))


def scrub(text: str) -> str:
    """Mask ID and mobile numbers, redact bearer tokens, JWTs and refresh tokens."""
    return _SENSITIVE.sub(_replace, text)


def mask_card(value: str) -> str:
    """A bank card number with only its last four digits: `**** 1234`."""
    digits = value.replace(" ", "")
    return "**** " + digits[-4:] if len(digits) >= 4 else "****"


def mask_url(url: str) -> str:
    """A URL without its password, for messages: `postgresql://app:***@db/haoban`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def mask_ref(value: object) -> str:
    """A record id in logs: the first 8 characters, enough to find the row, not to be the row's address."""
    return _keep(str(value), 8, 0)
