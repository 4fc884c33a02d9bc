"""Staff accounts and the manual lane: login, staff tokens, the review queue, decisions."""
