-- Issue 12: the housing-fund account carries the fund centre's city, its name and its
-- GB/T 2260 code beside it, as households, properties and social security do (0015).
-- Nullable: an account written before, or sent without a city, has no place.
ALTER TABLE shared.hpf_accounts ADD COLUMN city text;
ALTER TABLE shared.hpf_accounts ADD COLUMN division_code text CHECK (division_code ~ '^[0-9]{6}$');
