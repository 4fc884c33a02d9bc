-- Applications for services (事项), their status history, idempotency keys
-- for POST /v1/applications, and the citizen's notification inbox.

CREATE TABLE applications (
    id             uuid PRIMARY KEY,
    citizen_id     uuid NOT NULL REFERENCES citizens (id) ON DELETE RESTRICT,
    service_code   text NOT NULL,
    period         text NOT NULL,
    department     text NOT NULL,
    status         text NOT NULL CHECK (status IN (
        'submitted', 'approved', 'rejected', 'pending_review', 'pending_materials',
        'paid', 'completed', 'cancelled')),
    status_reason  text,
    inputs         jsonb NOT NULL DEFAULT '{}'::jsonb,
    decision_id    uuid,
    outcome        text CHECK (outcome IN ('approve', 'reject', 'review', 'need_materials')),
    amount_fen     bigint CHECK (amount_fen IS NULL OR amount_fen >= 0),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
-- At most one live application per citizen, service and period.
CREATE UNIQUE INDEX applications_one_live
    ON applications (citizen_id, service_code, period)
    WHERE status NOT IN ('rejected', 'cancelled');
CREATE INDEX applications_citizen ON applications (citizen_id, created_at DESC, id DESC);
CREATE INDEX applications_queue ON applications (department, status, created_at)
    WHERE status IN ('pending_review', 'pending_materials');

-- Every transition, with who made it. Append-only.
CREATE TABLE application_events (
    id              bigserial PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE RESTRICT,
    from_status     text,
    to_status       text NOT NULL,
    actor_type      text NOT NULL,
    actor_id        text NOT NULL,
    reason          text,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX application_events_app ON application_events (application_id, id);

CREATE FUNCTION application_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'application_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER application_events_no_change BEFORE UPDATE OR DELETE ON application_events
    FOR EACH ROW EXECUTE FUNCTION application_events_append_only();

-- Idempotency-Key for POST /v1/applications: the first answer is kept and replayed.
CREATE TABLE idempotency_keys (
    citizen_id      uuid NOT NULL,
    key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    locked_until    timestamptz,
    application_id  uuid,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, key),
    CHECK (expires_at > created_at)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- The citizen's inbox: one notification per application status change.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    citizen_id      uuid NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    reference       text NOT NULL UNIQUE,
    application_id  uuid REFERENCES applications (id) ON DELETE CASCADE,
    status          text NOT NULL,
    title_zh        text NOT NULL,
    title_en        text NOT NULL,
    body_zh         text NOT NULL,
    body_en         text NOT NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    read_at         timestamptz
);
CREATE INDEX notifications_citizen ON notifications (citizen_id, id DESC);
