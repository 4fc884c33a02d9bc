"""Rate limits kept in PostgreSQL, so they hold across every API replica (docs/limits.md)."""
