-- Shared-data exchange: the front-end database that departments fill, consents,
-- and the hash-chained data-access log.

-- Citizens are found by a keyed hash of their ID number; the number itself is
-- stored only encrypted.
ALTER TABLE citizens ADD COLUMN id_number_hmac bytea UNIQUE;
ALTER TABLE citizens ADD COLUMN id_number_enc text;
ALTER TABLE citizens ADD CONSTRAINT citizens_id_number_pair
    CHECK ((id_number_hmac IS NULL) = (id_number_enc IS NULL));

-- The front-end database (前置库): one schema the source departments write to.
CREATE SCHEMA shared;

CREATE TABLE shared.identities (
    id_number     text PRIMARY KEY,
    name          text NOT NULL,
    sex           text NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date    date NOT NULL,
    address       text NOT NULL,
    status        text NOT NULL CHECK (status IN ('normal', 'deceased', 'cancelled')),
    photo         bytea NOT NULL,
    photo_sha256  text NOT NULL,
    updated_at    timestamptz NOT NULL,
    updated_by    text NOT NULL
);

CREATE TABLE shared.households (
    household_no      text PRIMARY KEY,
    city              text NOT NULL,
    address           text NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by        text NOT NULL
);

CREATE TABLE shared.household_members (
    household_no      text NOT NULL REFERENCES shared.households (household_no) ON DELETE CASCADE,
    id_number         text NOT NULL,
    name              text NOT NULL,
    relation          text NOT NULL,
    registered_since  date NOT NULL,
    PRIMARY KEY (household_no, id_number)
);
-- A person is registered in one household at a time.
CREATE UNIQUE INDEX household_members_person ON shared.household_members (id_number);

CREATE TABLE shared.hpf_accounts (
    account_no            text PRIMARY KEY,
    id_number             text NOT NULL UNIQUE,
    status                text NOT NULL CHECK (status IN ('normal', 'sealed', 'closed')),
    balance_fen           bigint NOT NULL CHECK (balance_fen >= 0),
    monthly_deposit_fen   bigint NOT NULL CHECK (monthly_deposit_fen >= 0),
    contribution_months   integer NOT NULL CHECK (contribution_months >= 0),
    employer              text,
    bank_name             text NOT NULL,
    card_no               text NOT NULL,
    loan_outstanding_fen  bigint NOT NULL DEFAULT 0 CHECK (loan_outstanding_fen >= 0),
    updated_at            timestamptz NOT NULL,
    updated_by            text NOT NULL
);

CREATE TABLE shared.hpf_withdrawals (
    account_no   text NOT NULL REFERENCES shared.hpf_accounts (account_no) ON DELETE CASCADE,
    withdrawn_on date NOT NULL,
    kind         text NOT NULL,
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    reference    text NOT NULL,
    PRIMARY KEY (account_no, reference)
);

CREATE TABLE shared.estate_properties (
    certificate_no  text PRIMARY KEY,
    city            text NOT NULL,
    address         text NOT NULL,
    area_m2         numeric(10, 2) NOT NULL CHECK (area_m2 > 0),
    mortgaged       boolean NOT NULL,
    seized          boolean NOT NULL,
    updated_at      timestamptz NOT NULL,
    updated_by      text NOT NULL
);

CREATE TABLE shared.estate_owners (
    certificate_no  text NOT NULL REFERENCES shared.estate_properties (certificate_no) ON DELETE CASCADE,
    id_number       text NOT NULL,
    PRIMARY KEY (certificate_no, id_number)
);
CREATE INDEX estate_owners_person ON shared.estate_owners (id_number);

CREATE TABLE shared.marriages (
    id_number          text PRIMARY KEY,
    status             text NOT NULL CHECK (status IN ('unmarried', 'married', 'divorced', 'widowed')),
    spouse_id_number   text,
    spouse_name        text,
    registered_on      date,
    updated_at         timestamptz NOT NULL,
    updated_by         text NOT NULL
);

CREATE TABLE shared.social_security (
    id_number            text PRIMARY KEY,
    city                 text NOT NULL,
    contribution_months  integer NOT NULL CHECK (contribution_months >= 0),
    updated_at           timestamptz NOT NULL,
    updated_by           text NOT NULL
);

-- Consents: what a citizen allows to be pulled, for which purpose.
CREATE TABLE consents (
    id             uuid PRIMARY KEY,
    citizen_id     uuid NOT NULL REFERENCES citizens (id),
    purpose_kind   text NOT NULL CHECK (purpose_kind IN ('self_view', 'service', 'application')),
    purpose_ref    text NOT NULL DEFAULT '',
    items          text[] NOT NULL CHECK (cardinality(items) > 0),
    terms_version  text NOT NULL,
    granted_at     timestamptz NOT NULL,
    expires_at     timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX consents_live ON consents (citizen_id, purpose_kind, purpose_ref) WHERE revoked_at IS NULL;

-- The data-access log: one row per pull, hash-chained in `seq` order.
CREATE TABLE data_access_log (
    seq             bigint PRIMARY KEY,
    at              timestamptz NOT NULL,
    requester_type  text NOT NULL,
    requester_id    text NOT NULL,
    subject_id      uuid NOT NULL,
    source          text NOT NULL,
    items           text[] NOT NULL,
    purpose_kind    text NOT NULL,
    purpose_ref     text NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'no_record', 'unavailable')),
    request_hash    text NOT NULL,
    response_hash   text,
    request_id      text,
    prev_hash       text NOT NULL,
    row_hash        text NOT NULL
);
CREATE INDEX data_access_log_subject ON data_access_log (subject_id, seq DESC);

CREATE TRIGGER data_access_log_append_only
    BEFORE UPDATE OR DELETE ON data_access_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The head of the chain; its row lock serialises writers.
CREATE TABLE data_access_log_head (
    id         integer PRIMARY KEY CHECK (id = 1),
    last_seq   bigint NOT NULL,
    last_hash  text NOT NULL
);
INSERT INTO data_access_log_head (id, last_seq, last_hash) VALUES (1, 0, repeat('0', 64));
