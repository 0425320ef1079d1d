"""Accounts: users, their email addresses, sign-ins, refresh tokens, deletion and the audit trail of each."""
