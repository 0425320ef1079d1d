"""Notifications: what each event tells whom, the inbox and email delivery."""
