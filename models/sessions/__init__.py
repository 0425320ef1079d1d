"""The sessions' tables: sessions, attendance, waitlists, reminders and engagement."""
