from __future__ import annotations

from typing import Literal

import msgspec

ActorType = Literal["citizen", "staff", "system", "client", "cli", "sandbox"]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who did something: kind and opaque id (never an ID number)."""

    type: ActorType
    id: str


SYSTEM = Actor(type="system", id="haoban")
