"""An admin's routes: the console's users, audit, outbox, disputes and numbers."""
