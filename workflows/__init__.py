"""The domain: plain functions that take a database session and ids.

They enforce the state machines and write outbox events; they never import
Flask or Celery and never commit.
"""
