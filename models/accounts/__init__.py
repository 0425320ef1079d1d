"""The accounts' tables: users, their tokens, one-use account tokens and the admin audit trail."""
