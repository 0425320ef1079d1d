"""Operators' work: administration, the state of the outbox and retention of old rows."""
