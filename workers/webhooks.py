"""Tasks on the ``webhooks`` queue (being written)."""
