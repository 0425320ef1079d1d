"""The bookings' tables: bookings, series, bundles and reschedule proposals."""
