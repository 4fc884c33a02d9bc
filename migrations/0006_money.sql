-- Money: a double-entry ledger in integer fen, payout orders, the sandbox
-- bank and the transactional outbox.

-- Accounts. Member accounts keep their balance on the row (credits minus
-- debits) so a withdrawal is one conditional UPDATE; the CHECK is the last
-- line of defence against a negative balance. System accounts do not keep a
-- balance column (it would be one hot row under every payout): their balance
-- is the sum of their entries.
CREATE TABLE ledger_accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('member', 'contributions', 'clearing', 'settlement')),
    citizen_id   uuid UNIQUE REFERENCES citizens (id),
    balance_fen  bigint NOT NULL DEFAULT 0,
    opened_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    CHECK ((kind = 'member') = (citizen_id IS NOT NULL)),
    CHECK (kind <> 'member' OR balance_fen >= 0),
    CHECK (kind = 'member' OR balance_fen = 0)
);

INSERT INTO ledger_accounts (code, kind, opened_at) VALUES
    ('hpf:contributions', 'contributions', now()),
    ('hpf:clearing', 'clearing', now()),
    ('bank:settlement', 'settlement', now());

-- A group is one movement of money; (kind, ref) makes each movement happen once
-- (one opening per member, one settlement or reversal per payout).
CREATE TABLE ledger_groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('opening', 'payout', 'settlement', 'reversal')),
    ref         text NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (kind, ref)
);

CREATE TABLE ledger_entries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id    bigint NOT NULL REFERENCES ledger_groups (id),
    account_id  bigint NOT NULL REFERENCES ledger_accounts (id),
    direction   text NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
    created_at  timestamptz NOT NULL
);
CREATE INDEX ledger_entries_group ON ledger_entries (group_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);

CREATE TRIGGER ledger_groups_append_only
    BEFORE UPDATE OR DELETE ON ledger_groups
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_entries_no_truncate
    BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- At commit, every group touched must have at least two entries and balance.
CREATE FUNCTION ledger_check_group() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gid bigint;
    n integer;
    net bigint;
BEGIN
    IF TG_TABLE_NAME = 'ledger_groups' THEN
        gid := NEW.id;
    ELSE
        gid := NEW.group_id;
    END IF;
    SELECT count(*), coalesce(sum(CASE direction WHEN 'debit' THEN amount_fen ELSE -amount_fen END), 0)
      INTO n, net FROM ledger_entries WHERE group_id = gid;
    IF n < 2 OR net <> 0 THEN
        RAISE EXCEPTION 'ledger group % is unbalanced (% entries, net %)', gid, n, net
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_groups_balanced
    AFTER INSERT ON ledger_groups DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_group();
CREATE CONSTRAINT TRIGGER ledger_entries_balanced
    AFTER INSERT ON ledger_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_group();

-- Payout orders: requested -> sent -> settled | failed -> reversed.
CREATE TABLE payouts (
    id               uuid PRIMARY KEY,
    application_id   uuid NOT NULL UNIQUE,
    citizen_id       uuid NOT NULL REFERENCES citizens (id),
    amount_fen       bigint NOT NULL CHECK (amount_fen > 0),
    status           text NOT NULL CHECK (status IN ('requested', 'sent', 'settled', 'failed', 'reversed')),
    bank_name        text NOT NULL,
    card_enc         text NOT NULL,
    card_masked      text NOT NULL,
    account_name_enc text NOT NULL,
    close_account    boolean NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    bank_ref         text,
    failure_reason   text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    final_at         timestamptz,
    CHECK ((status IN ('settled', 'reversed')) = (final_at IS NOT NULL))
);
CREATE INDEX payouts_open ON payouts (created_at) WHERE status IN ('requested', 'sent', 'failed');
CREATE INDEX payouts_citizen ON payouts (citizen_id, created_at DESC);

-- Every status change of a payout, with who made it.
CREATE TABLE payout_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payout_id    uuid NOT NULL REFERENCES payouts (id),
    from_status  text,
    to_status    text NOT NULL,
    actor_type   text NOT NULL,
    actor_id     text NOT NULL,
    reason       text,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX payout_events_payout ON payout_events (payout_id, id);
CREATE TRIGGER payout_events_append_only
    BEFORE UPDATE OR DELETE ON payout_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The transactional outbox: side effects written with the change that causes
-- them, run after commit by the worker. (kind, ref) makes enqueueing idempotent.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    ref           text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    available_at  timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    done_at       timestamptz,
    UNIQUE (kind, ref)
);
CREATE INDEX outbox_due ON outbox (available_at) WHERE done_at IS NULL;

-- The sandbox bank: another system's tables, written in its own transactions.
CREATE SCHEMA sandbox_bank;

CREATE TABLE sandbox_bank.transfers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payout_id       uuid NOT NULL UNIQUE,
    bank_ref        text NOT NULL UNIQUE,
    card_no         text NOT NULL,
    account_name    text NOT NULL,
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    status          text NOT NULL CHECK (status IN ('settled', 'failed')),
    failure_reason  text,
    received_at     timestamptz NOT NULL
);
CREATE INDEX sandbox_bank_transfers_card ON sandbox_bank.transfers (card_no, id DESC);

-- One row: the fault knobs testers turn with POST /sandbox/bank/faults.
CREATE TABLE sandbox_bank.faults (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    latency_ms    integer NOT NULL DEFAULT 0 CHECK (latency_ms BETWEEN 0 AND 30000),
    failure_rate  double precision NOT NULL DEFAULT 0 CHECK (failure_rate BETWEEN 0 AND 1),
    timeout_rate  double precision NOT NULL DEFAULT 0 CHECK (timeout_rate BETWEEN 0 AND 1),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sandbox_bank.faults (id) VALUES (true);
