"""Programmes and cohorts of an organisation's mentoring: where programmes, cohorts, matching and pairings go."""
