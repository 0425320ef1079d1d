"""Celery workers: ``celery -A workers worker`` consumes every queue."""

from infra.queues import QUEUES
from workers.celery_app import app

__all__ = ["QUEUES", "app"]
