-- Sandbox knobs for testers (issue 19): faults per exchange source, and a clock offset.
-- Read only in sandbox mode; production never writes them.
CREATE SCHEMA IF NOT EXISTS sandbox_bank;

CREATE TABLE sandbox_bank.source_faults (
    source       text PRIMARY KEY
                 CHECK (source IN ('identity', 'household', 'housing_fund', 'estate', 'marriage', 'social_security')),
    latency_ms   integer NOT NULL CHECK (latency_ms BETWEEN 0 AND 60000),
    failure_rate double precision NOT NULL CHECK (failure_rate BETWEEN 0 AND 1),
    updated_at   timestamptz NOT NULL
);

CREATE TABLE sandbox_bank.clock (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    offset_s   bigint NOT NULL CHECK (offset_s BETWEEN 0 AND 315360000),
    updated_at timestamptz NOT NULL
);
