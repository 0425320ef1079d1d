"""The domain: plain functions that take a database session and ids.

They enforce the state machines and write outbox events; they never import
Flask or Celery and never commit.

The modules at this level are the kernel every package may import (errors, actors, roles, clock, pagination,
state_machine, wording, people, skills, lookups, inbox, events and their payloads), and the two that stand on
all the packages (handlers, which routes events to them, and history); each package holds one domain and says
what in its docstring. Packages import one way (``tests/test_architecture.py``).
"""
