-- Places as GB/T 2260 administrative division codes (issue 12). Ingestion and
-- the sandbox store the 6-digit code beside the display name; a row written
-- without one (a department writing the front-end database directly) is
-- resolved from its name or address when read, and refused when it names no
-- division.
ALTER TABLE shared.households ADD COLUMN division_code text CHECK (division_code ~ '^[0-9]{6}$');
ALTER TABLE shared.estate_properties ADD COLUMN division_code text CHECK (division_code ~ '^[0-9]{6}$');
ALTER TABLE shared.social_security ADD COLUMN division_code text CHECK (division_code ~ '^[0-9]{6}$');
