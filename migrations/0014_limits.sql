-- Rate limits shared by every replica (haoban.limits, docs/limits.md), one-time codes
-- for phone changes, and staff-verified face resets.

-- Fixed-window counters. `key` is an HMAC of the scope and the limited value (an
-- address, an ID number, a phone number), never the value itself.
CREATE TABLE rate_limit_hits (
    scope         text NOT NULL,
    key           bytea NOT NULL,
    window_s      integer NOT NULL CHECK (window_s > 0),
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL CHECK (count >= 0),  -- a refused hit is taken back
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key, window_s, window_start)
);
CREATE INDEX rate_limit_hits_expiry ON rate_limit_hits (expires_at);

-- Consecutive failures (e.g. wrong one-time codes) and the growing wait they earned.
CREATE TABLE rate_limit_streaks (
    scope         text NOT NULL,
    key           bytea NOT NULL,
    failures      integer NOT NULL CHECK (failures > 0),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX rate_limit_streaks_idle ON rate_limit_streaks (updated_at);

-- Unusable frames were counted per app client, so one client could lock out every
-- citizen of the app; haoban.limits counts them per address and per identity now.
DROP TABLE client_bad_input;

-- A code is for a login or for confirming a new phone number (sealed here until
-- confirmed); the identity that asked (keyed hash) carries the failure streak.
ALTER TABLE otp_requests
    ADD COLUMN purpose text NOT NULL DEFAULT 'login' CHECK (purpose IN ('login', 'phone_change')),
    ADD COLUMN id_number_hmac bytea,
    ADD COLUMN new_phone_enc text,
    ADD CONSTRAINT otp_requests_phone_change CHECK (
        purpose = 'login' OR (citizen_id IS NOT NULL AND new_phone_enc IS NOT NULL)
    );
CREATE INDEX otp_requests_open ON otp_requests (citizen_id) WHERE used_at IS NULL;

-- A staff member checked the person at a counter and allowed one new face enrolment
-- of an existing account (`haoban faces reset`); registration spends it.
CREATE TABLE face_resets (
    id          uuid PRIMARY KEY,
    citizen_id  uuid NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    staff_id    text NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX face_resets_citizen ON face_resets (citizen_id, expires_at) WHERE used_at IS NULL;
