-- Rules as data: rule-set versions loaded from the YAML files in
-- src/haoban/rules/sets/, and the decisions made with them.

-- One row per rule-set version. A version is immutable: the loader refuses a
-- file whose document differs from the row of the same version.
CREATE TABLE rule_sets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_code    text NOT NULL,
    version         text NOT NULL UNIQUE,
    effective_from  date NOT NULL,
    effective_to    date,
    document        jsonb NOT NULL,
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    loaded_at       timestamptz NOT NULL,
    CHECK (effective_to IS NULL OR effective_to >= effective_from)
);
CREATE INDEX rule_sets_service ON rule_sets (service_code, effective_from DESC);

-- Every decision with the facts it was made on, for replay. Append-only.
-- application_id has no foreign key: applications come in a later migration.
CREATE TABLE decisions (
    id                uuid PRIMARY KEY,
    application_id    uuid,
    service_code      text NOT NULL,
    rule_set_version  text NOT NULL REFERENCES rule_sets (version),
    facts             jsonb NOT NULL,
    decision          jsonb NOT NULL,
    decided_at        timestamptz NOT NULL
);
CREATE INDEX decisions_application ON decisions (application_id) WHERE application_id IS NOT NULL;

CREATE TRIGGER decisions_append_only
    BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TRIGGER rule_sets_append_only
    BEFORE UPDATE OR DELETE ON rule_sets
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
