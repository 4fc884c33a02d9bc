"""Applications for services: submit, decide, pay, notify."""
