"""Identity use cases, one module per use case; callers import this package (`service.register(...)`).

- `verification`: the challenge, one face attempt end to end (`verify_face`), the references
  it is matched against, and the tokens a verified face opens;
- `accounts`: the three face flows (register, login, step-up) and the citizen's own face
  changes (withdrawing it, allowing one re-enrolment).
"""

from haoban.identity.service.accounts import (
    CONSENT_GRANTED,
    SELF_RESET_VALID,
    AlreadyRegistered,
    allow_reenrolment,
    face_enrolled,
    login,
    register,
    step_up,
    withdraw_face,
)
from haoban.identity.service.verification import (
    CHALLENGE_TTL,
    FACE_MODEL,
    FACE_SCOPE,
    FIRST_PARTY_APP,
    REPLAY_WINDOW,
    Attempt,
    AttestationRefused,
    ChallengeInvalid,
    FaceLocked,
    Reference,
    ReferenceLoader,
    SuccessHandler,
    UnknownClient,
    VerificationFailed,
    attestation_required,
    create_challenge,
    enrolled_reference,
    issue_face_tokens,
    issue_tokens,
    register_app_client,
    registration_reference,
    template_aad,
    verify_face,
)

__all__ = [
    "CHALLENGE_TTL",
    "CONSENT_GRANTED",
    "FACE_MODEL",
    "FACE_SCOPE",
    "FIRST_PARTY_APP",
    "REPLAY_WINDOW",
    "SELF_RESET_VALID",
    "AlreadyRegistered",
    "Attempt",
    "AttestationRefused",
    "ChallengeInvalid",
    "FaceLocked",
    "Reference",
    "ReferenceLoader",
    "SuccessHandler",
    "UnknownClient",
    "VerificationFailed",
    "allow_reenrolment",
    "attestation_required",
    "create_challenge",
    "enrolled_reference",
    "face_enrolled",
    "issue_face_tokens",
    "issue_tokens",
    "login",
    "register",
    "register_app_client",
    "registration_reference",
    "step_up",
    "template_aad",
    "verify_face",
    "withdraw_face",
]
