-- Data-access log, digest version 2: a row's hash is
-- sha256(prev_hash || '\n' || seq || '\n' || content_hash), where content_hash
-- (computed in Python) covers the row's own fields. The chain part is then
-- computed in SQL, so an append is one statement holding the head lock only
-- while it runs. Existing rows keep version 1; every insert must name its version.
ALTER TABLE data_access_log ADD COLUMN hash_version smallint NOT NULL DEFAULT 1
    CHECK (hash_version IN (1, 2));
ALTER TABLE data_access_log ALTER COLUMN hash_version DROP DEFAULT;
