-- A withdrawal the rules left to a person keeps its payee (bank card and account
-- name, AES-GCM encrypted like every card at rest) so a reviewer's approval can pay it.
ALTER TABLE applications ADD COLUMN payee_enc text;
