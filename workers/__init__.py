"""Celery workers: ``celery -A workers worker`` consumes every queue."""

from workers.celery_app import QUEUES, app

__all__ = ["QUEUES", "app"]
