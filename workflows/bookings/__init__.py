"""Bookings: the request-to-accept lifecycle, request limits, bundles, reschedule proposals and series."""
