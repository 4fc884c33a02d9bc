"""The rules slice's public surface for stored decisions: other slices read and write them here, never its repository.

(Rule sets in effect are reached through `rules.registry`, which the composition root wires.)
"""

from __future__ import annotations

from haoban.rules.repository import add_decision, applicant_names, get_decision, get_decisions

__all__ = ["add_decision", "applicant_names", "get_decision", "get_decisions"]
