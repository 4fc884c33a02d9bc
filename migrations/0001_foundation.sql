-- Foundation: citizens (opaque ids), signing keys, token families, refresh tokens, audit log.

CREATE TABLE citizens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- ES256 signing keys; the private key is AES-GCM encrypted with a field key id.
CREATE TABLE signing_keys (
    kid             text PRIMARY KEY,
    alg             text NOT NULL CHECK (alg = 'ES256'),
    private_key_enc text NOT NULL,
    public_jwk      jsonb NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'retiring', 'retired')),
    created_at      timestamptz NOT NULL,
    retire_after    timestamptz,
    CHECK (status <> 'retiring' OR retire_after IS NOT NULL)
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE status = 'active';

-- A login session: every access and refresh token of one sign-in shares it.
CREATE TABLE token_families (
    id             uuid PRIMARY KEY,
    citizen_id     uuid NOT NULL REFERENCES citizens (id),
    client_id      text NOT NULL,
    scope          text NOT NULL,
    acr            text NOT NULL,
    amr            text[] NOT NULL,
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoke_reason  text
);
CREATE INDEX token_families_citizen ON token_families (citizen_id);

-- Refresh tokens are stored only as an HMAC of the token.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL REFERENCES token_families (id),
    token_hmac  bytea NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Append-only audit trail of state changes.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    actor_type    text NOT NULL,
    actor_id      text NOT NULL,
    action        text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    request_id    text,
    details       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_subject ON audit_events (subject_type, subject_id);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
