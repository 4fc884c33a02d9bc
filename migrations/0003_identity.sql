-- Face-verified identity: app clients, challenges, face templates, throttles,
-- frame hashes for replay detection, one-time codes.

ALTER TABLE citizens ADD COLUMN phone_enc text;

-- First-party app builds (and later mini-programs) that call the face routes.
CREATE TABLE app_clients (
    client_id        text PRIMARY KEY,
    name             text NOT NULL,
    attestation      text NOT NULL CHECK (attestation IN ('required', 'optional')),
    attestation_jwk  jsonb,
    created_at       timestamptz NOT NULL,
    CHECK (attestation = 'optional' OR attestation_jwk IS NOT NULL)
);

CREATE TABLE face_challenges (
    id              uuid PRIMARY KEY,
    nonce           text NOT NULL,
    id_number_hmac  bytea NOT NULL,
    purpose         text NOT NULL CHECK (purpose IN ('register', 'login', 'step_up')),
    client_id       text NOT NULL REFERENCES app_clients (client_id),
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX face_challenges_expiry ON face_challenges (expires_at);

-- Kept apart from identity data; the template is AES-GCM encrypted with a key id.
CREATE TABLE face_templates (
    citizen_id      uuid PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    template_enc    text NOT NULL,
    model           text NOT NULL,
    terms_version   text NOT NULL,
    consented_at    timestamptz NOT NULL,
    enrolled_at     timestamptz NOT NULL
);

-- Per identity (by keyed hash, so unknown ID numbers are throttled the same way).
CREATE TABLE face_throttles (
    id_number_hmac        bytea PRIMARY KEY,
    consecutive_failures  integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    locked_until          timestamptz,
    disabled_at           timestamptz,
    updated_at            timestamptz NOT NULL
);

-- Perceptual hashes of accepted frames, to refuse replays for 24 h.
CREATE TABLE face_frame_hashes (
    id_number_hmac  bytea NOT NULL,
    frame_hash      bytea NOT NULL,
    seen_at         timestamptz NOT NULL
);
CREATE INDEX face_frame_hashes_identity ON face_frame_hashes (id_number_hmac, seen_at);

-- Bad input (no face, broken image) per calling client, in one-minute windows.
CREATE TABLE client_bad_input (
    client_id     text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (client_id, window_start)
);

-- One-time codes for the non-face login path; only a hash of the code is kept.
CREATE TABLE otp_requests (
    id           uuid PRIMARY KEY,
    citizen_id   uuid REFERENCES citizens (id) ON DELETE CASCADE,
    code_hmac    bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    used_at      timestamptz
);

-- Messages sent through the sandbox notification channel (what a phone would receive).
CREATE TABLE sandbox_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     text NOT NULL,
    recipient   text NOT NULL,
    body        text NOT NULL,
    sent_at     timestamptz NOT NULL
);
CREATE INDEX sandbox_messages_recipient ON sandbox_messages (recipient, id DESC);
