"""The citizen's consents, the consent-gated pull of linked data, and the data-access log."""
