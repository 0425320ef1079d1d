"""Programmes and cohorts of an organisation's mentoring: the place for programmes, cohorts, matching and pairings
(nothing here yet).
"""
