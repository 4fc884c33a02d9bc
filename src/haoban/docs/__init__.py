"""Offline interactive API docs (Swagger UI) at /docs."""
