"""Programmes and cohorts of an organisation's mentoring: a programme's life and its coordinators
(``lifecycle``); cohorts, matching and pairings go here too.
"""
