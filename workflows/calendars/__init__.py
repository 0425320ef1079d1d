"""Calendars: the iCalendar feeds the service serves, connected calendar accounts, their sync and busy times, and
the events written to them.
"""
