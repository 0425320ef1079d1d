"""Accounts' routes: registration, sign-in, tokens, passwords, the caller's own account."""
