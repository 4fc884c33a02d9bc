"""Staff use cases, one module per use case; callers import this package (`service.login(...)`).

- `accounts`: staff accounts (create from the CLI, disable, sign in);
- `lane`: the manual review lane (the queue, one application for review, a decision).
"""

from haoban.staff.service.accounts import (
    InvalidCredentials,
    StaffSpecError,
    create_staff,
    has_account,
    login,
    normalize_username,
    set_disabled,
)
from haoban.staff.service.lane import (
    MAX_LIMIT,
    UNKNOWN_NAME,
    MaterialsIncomplete,
    NotPendingReview,
    OwnApplication,
    application,
    clamp,
    decide,
    decode_cursor,
    encode_cursor,
    is_own,
    queue,
    scrub_deep,
    staff_actor,
)

__all__ = [
    "MAX_LIMIT",
    "UNKNOWN_NAME",
    "InvalidCredentials",
    "MaterialsIncomplete",
    "NotPendingReview",
    "OwnApplication",
    "StaffSpecError",
    "application",
    "clamp",
    "create_staff",
    "decide",
    "decode_cursor",
    "encode_cursor",
    "has_account",
    "is_own",
    "login",
    "normalize_username",
    "queue",
    "scrub_deep",
    "set_disabled",
    "staff_actor",
]
