-- OAuth and mini-program gaps: revoked client-credentials tokens, the data
-- consents that citizens' approvals created, and the device proof of a
-- mini-program binding ticket.

-- RFC 7009 revocation of client-credentials access tokens (they have no token
-- family to revoke): a deny-list by `jti`, kept until the token would expire.
CREATE TABLE oauth_revoked_tokens (
    jti         text PRIMARY KEY,
    client_id   text NOT NULL REFERENCES oauth_clients (client_id),
    revoked_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX oauth_revoked_tokens_expiry ON oauth_revoked_tokens (expires_at);

-- A consent an approval created (the `profile` scope: the masked name comes from
-- the identity registry through a consented pull); withdrawing the approval revokes it.
CREATE TABLE oauth_approval_consents (
    citizen_id  uuid NOT NULL REFERENCES citizens (id),
    client_id   text NOT NULL REFERENCES oauth_clients (client_id),
    consent_id  uuid NOT NULL REFERENCES consents (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, client_id, consent_id)
);

-- A binding ticket is spent only with the verifier whose S256 challenge the
-- mini-program sent with its login code. Older tickets have none and are refused.
ALTER TABLE miniprogram_binding_tickets ADD COLUMN challenge text;
