"""Rules as data: versioned CEL rule sets, a pure engine, facts, stored decisions and replay."""
