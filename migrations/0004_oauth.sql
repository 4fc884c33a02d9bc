-- OAuth 2 / OpenID Connect provider: registered clients, pushed authorization
-- requests, authorization codes and remembered approvals. Tokens reuse
-- token_families / refresh_tokens (client_id = the OAuth client).

CREATE TABLE oauth_clients (
    client_id       text PRIMARY KEY CHECK (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    client_type     text NOT NULL CHECK (client_type IN ('public', 'confidential')),
    secret_hmac     bytea,
    display_name    text NOT NULL,
    purpose         text NOT NULL,
    redirect_uris   text[] NOT NULL,
    allowed_scopes  text[] NOT NULL,
    created_at      timestamptz NOT NULL,
    disabled_at     timestamptz,
    CHECK ((client_type = 'confidential') = (secret_hmac IS NOT NULL))
);

-- RFC 9126 pushed authorization requests; the request_uri holds only a keyed hash.
CREATE TABLE oauth_par_requests (
    id_hmac         bytea PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    redirect_uri    text NOT NULL,
    scope           text[] NOT NULL,
    state           text NOT NULL,
    nonce           text,
    code_challenge  text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX oauth_par_requests_expiry ON oauth_par_requests (expires_at);

-- Authorization codes, stored as a keyed hash; family_id is set on redemption so a
-- second redemption can revoke what the first one issued.
CREATE TABLE oauth_codes (
    code_hmac       bytea PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    citizen_id      uuid NOT NULL REFERENCES citizens (id),
    redirect_uri    text NOT NULL,
    scope           text[] NOT NULL,
    nonce           text,
    code_challenge  text NOT NULL,
    acr             text NOT NULL,
    amr             text[] NOT NULL,
    auth_time       timestamptz NOT NULL,
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    redeemed_at     timestamptz,
    family_id       uuid REFERENCES token_families (id),
    CHECK (expires_at > issued_at)
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- What a citizen approved, per client and scope set.
CREATE TABLE oauth_approvals (
    citizen_id      uuid NOT NULL REFERENCES citizens (id),
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    scope           text[] NOT NULL,
    scope_key       text NOT NULL,
    approved_at     timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, client_id, scope_key)
);

CREATE INDEX token_families_client ON token_families (client_id, citizen_id);
