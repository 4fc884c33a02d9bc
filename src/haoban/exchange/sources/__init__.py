"""Source systems: a typed port per department, the adapters (front-end database, HTTP), records, vocabularies."""
