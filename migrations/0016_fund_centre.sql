-- The fund centre is the system of record (issue 12). The sandbox fund centre
-- keeps its own book of debit instructions here and debits the account it
-- publishes in the front-end database (shared.hpf_accounts, with a
-- shared.hpf_withdrawals row), as the real fund centre's own transaction would.
CREATE SCHEMA sandbox_fund;

CREATE TABLE sandbox_fund.debits (
    instruction_id        uuid PRIMARY KEY,
    account_no            text NOT NULL,
    kind                  text NOT NULL,
    amount_fen            bigint NOT NULL CHECK (amount_fen > 0),
    expected_balance_fen  bigint NOT NULL,
    status                text NOT NULL CHECK (status IN ('accepted', 'refused', 'reversed')),
    reason                text,
    balance_after_fen     bigint,
    received_at           timestamptz NOT NULL,
    reversed_at           timestamptz
);
CREATE INDEX sandbox_fund_debits_received ON sandbox_fund.debits (received_at);

-- The member mirror follows the fund centre: a `fund_sync` group moves it to the
-- balance the fund centre answered (deposits, counter withdrawals).
ALTER TABLE ledger_groups DROP CONSTRAINT ledger_groups_kind_check;
ALTER TABLE ledger_groups ADD CONSTRAINT ledger_groups_kind_check
    CHECK (kind IN ('opening', 'payout', 'settlement', 'reversal', 'fund_sync'));
