-- Issue 12: a request with an Idempotency-Key plans its application's id (the fund
-- centre's debit instruction id) when the key is first claimed, so a retry after a
-- crash between the fund centre's debit and our commit posts the same instruction.
ALTER TABLE idempotency_keys ADD COLUMN instruction_id uuid;
