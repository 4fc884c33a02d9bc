"""Citizen identity: face challenge, registration and login."""
