"""Operators' work: administration (and administrators' actions on accounts), the platform's numbers, the state of
the outbox and retention of old rows."""
