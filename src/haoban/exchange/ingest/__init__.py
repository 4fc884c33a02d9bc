"""Department ingestion: source systems push their records into the front-end database."""
