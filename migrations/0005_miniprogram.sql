-- Mini-program login binding: platform identities bound to citizens, the
-- single-use tickets that bind them, and the sandbox platform's login codes.

-- A platform identity (WeChat or Alipay open id) belongs to at most one citizen.
CREATE TABLE miniprogram_bindings (
    platform    text NOT NULL CHECK (platform IN ('wechat', 'alipay')),
    open_id     text NOT NULL,
    union_id    text,
    citizen_id  uuid NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    bound_at    timestamptz NOT NULL,
    PRIMARY KEY (platform, open_id)
);
CREATE INDEX miniprogram_bindings_citizen ON miniprogram_bindings (citizen_id);

-- Issued to an unbound platform identity; a face registration or login spends it.
-- Only an HMAC of the ticket is kept.
CREATE TABLE miniprogram_binding_tickets (
    ticket_hmac  bytea PRIMARY KEY,
    platform     text NOT NULL CHECK (platform IN ('wechat', 'alipay')),
    open_id      text NOT NULL,
    union_id     text,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    citizen_id   uuid REFERENCES citizens (id) ON DELETE CASCADE,
    CHECK (expires_at > created_at)
);
CREATE INDEX miniprogram_binding_tickets_expiry ON miniprogram_binding_tickets (expires_at);

-- The sandbox platform's login codes (what wx.login / my.getAuthCode would return).
CREATE TABLE sandbox_miniprogram_codes (
    code_hmac   bytea PRIMARY KEY,
    platform    text NOT NULL CHECK (platform IN ('wechat', 'alipay')),
    open_id     text NOT NULL,
    union_id    text,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
