-- Staff accounts for the manual lane, and "1+1+N" materials with tolerant
-- acceptance (容缺受理): uploads, signed commitments, acceptance notices.

CREATE TABLE staff_accounts (
    id              uuid PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z][a-z0-9._-]{2,63}$'),
    display_name    text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 64),
    password_hash   text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- The staff member's own citizen account and ID number (blind index), so
    -- nobody decides their own application.
    citizen_id      uuid REFERENCES citizens (id),
    id_number_hmac  bytea,
    disabled_at     timestamptz,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE staff_roles (
    staff_id    uuid NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
    department  text NOT NULL CHECK (department ~ '^[a-z_]{2,32}$'),
    role        text NOT NULL CHECK (role IN ('reviewer', 'supervisor')),
    PRIMARY KEY (staff_id, department, role)
);

-- Failed logins per username, known or not, so a lockout says nothing about
-- whether the account exists.
CREATE TABLE staff_login_throttles (
    username              text PRIMARY KEY,
    consecutive_failures  integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    locked_until          timestamptz,
    updated_at            timestamptz NOT NULL
);

-- Self-certified uploads (trust level C), kept in the database with their hash.
CREATE TABLE application_materials (
    id              uuid PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE RESTRICT,
    citizen_id      uuid NOT NULL REFERENCES citizens (id),
    material_code   text NOT NULL,
    content_type    text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes      integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 5242880),
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content         bytea NOT NULL,
    trust_level     text NOT NULL CHECK (trust_level IN ('C', 'D')),
    uploaded_at     timestamptz NOT NULL,
    CHECK (octet_length(content) = size_bytes)
);
CREATE INDEX application_materials_app ON application_materials (application_id, material_code, uploaded_at);

-- Letters the applicant signs in the app: the one authorization and commitment
-- letter of "1+1+N" (with its consent record) and the tolerant-acceptance
-- commitment (容缺受理承诺书). One of each kind per application.
CREATE TABLE application_commitments (
    id              uuid PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE RESTRICT,
    citizen_id      uuid NOT NULL REFERENCES citizens (id),
    kind            text NOT NULL CHECK (kind IN ('authorization', 'tolerant')),
    version         text NOT NULL,
    text_sha256     text NOT NULL CHECK (text_sha256 ~ '^[0-9a-f]{64}$'),
    consent_id      uuid REFERENCES consents (id),
    signed_at       timestamptz NOT NULL,
    UNIQUE (application_id, kind)
);

-- The one tolerant-acceptance notice (容缺受理通知书) of an application.
CREATE TABLE tolerant_notices (
    id              uuid PRIMARY KEY,
    application_id  uuid NOT NULL UNIQUE REFERENCES applications (id) ON DELETE RESTRICT,
    missing         jsonb NOT NULL,
    deadline        date NOT NULL,
    deadline_at     timestamptz NOT NULL,
    text_zh         text NOT NULL,
    text_en         text NOT NULL,
    issued_at       timestamptz NOT NULL,
    fulfilled_at    timestamptz,
    expired_at      timestamptz,
    CHECK (deadline_at > issued_at),
    CHECK (fulfilled_at IS NULL OR expired_at IS NULL)
);
CREATE INDEX tolerant_notices_open ON tolerant_notices (deadline_at)
    WHERE fulfilled_at IS NULL AND expired_at IS NULL;
