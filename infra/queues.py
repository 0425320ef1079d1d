"""The Celery queues, by name: a task named ``<queue>.<verb>`` runs on ``<queue>`` (``infra/celery_config.py``)."""

QUEUES = ("sessions", "events", "reviews", "notifications", "analytics", "webhooks", "maintenance", "calendars",
          "matching")
