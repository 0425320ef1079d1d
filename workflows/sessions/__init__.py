"""Sessions: the lifecycle from accepted to completed, attendance and its disputes, sweeps of stale work,
reminders, reviews, analytics, group sessions, seats and waitlists.
"""
