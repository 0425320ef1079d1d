"""The Celery configuration both sides share: the workers' app and the API's producer.

JSON only, late acks, queues and routes by task name. The API builds a
publisher-only app from it (``publisher=True``), so it never imports the workers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery
from kombu import Queue

from infra.broker_connection import RECONNECT_INTERVALS, BrokerAMQP
from infra.config import Settings, get_settings
from infra.queues import QUEUES


def celery_config(settings: Settings, *, publisher: bool = False) -> dict[str, Any]:
    transport_options: dict[str, Any] = {
        # Lost messages are redelivered from the outbox long before this; it only
        # bounds how long an unacknowledged message stays invisible in Redis.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
    if publisher:
        # The API gives up publishing quickly when Redis is down instead of retrying
        # for ever: the request has committed, and the relay sends the work later.
        # (Workers keep reconnecting for as long as it takes: they cannot work without Redis anyway.)
        transport_options.update({"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5})
    else:
        # Reconnect within a second once Redis is back, however long it was away (see infra/broker_connection.py).
        transport_options.update(RECONNECT_INTERVALS)
    if settings.redis_key_prefix:
        transport_options["global_keyprefix"] = settings.redis_key_prefix
    return {
        "broker_url": settings.redis_url,
        # kombu's Redis transport, keeping one client per connection pool (see the module).
        "broker_transport": "infra.redis_transport:Transport",
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "task_soft_time_limit": settings.task_soft_time_limit,
        "task_time_limit": settings.task_time_limit,
        # Publishing happens after the database commit; a broker outage must not
        # hold the request: the outbox relay sends what could not be sent.
        "task_publish_retry": False,
        "worker_prefetch_multiplier": 4,
        "worker_send_task_events": True,
        # No "task-sent" event: it would double the Redis commands of every publish, and Flower
        # shows every task from the workers' own events (received, started, succeeded, failed).
        "task_send_sent_event": False,
        "worker_hijack_root_logger": False,
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_default_queue": "events",
        "task_routes": {f"{name}.*": {"queue": name, "routing_key": name} for name in QUEUES},
        "imports": [
            "workers.handlers", "workers.maintenance", "workers.notifications", "workers.webhooks", "workers.calendars",
            "workers.metrics", "workers.matching",
        ],
        # Each periodic copy expires before the next is sent, so an outage never leaves a pile of them.
        "beat_schedule": {
            "outbox-relay": {"task": "maintenance.relay_outbox", "schedule": timedelta(seconds=5),
                             "options": {"expires": 5}},
            "expire-drafts": {"task": "maintenance.expire_drafts", "schedule": timedelta(seconds=60),
                              "options": {"expires": 60}},
            "mark-missed": {"task": "maintenance.mark_missed", "schedule": timedelta(seconds=60),
                            "options": {"expires": 60}},
            "confirm-attendance": {"task": "maintenance.confirm_attendance", "schedule": timedelta(minutes=5),
                                   "options": {"expires": 300}},
            "auto-complete": {"task": "maintenance.auto_complete", "schedule": timedelta(seconds=60),
                              "options": {"expires": 60}},
            "webhooks-due": {"task": "webhooks.dispatch_due", "schedule": timedelta(seconds=5),
                             "options": {"expires": 5}},
            "send-reminders": {"task": "maintenance.send_reminders",
                               "schedule": timedelta(seconds=settings.reminder_check_seconds),
                               "options": {"expires": settings.reminder_check_seconds}},
            "emails-due": {"task": "notifications.send_due_emails", "schedule": timedelta(seconds=30),
                           "options": {"expires": 30}},
            "waitlist-offers": {"task": "maintenance.expire_waitlist_offers", "schedule": timedelta(seconds=30),
                                "options": {"expires": 30}},
            "calendars-due": {"task": "calendars.sync_due", "schedule": timedelta(seconds=15),
                              "options": {"expires": 15}},
            "prune-history": {"task": "maintenance.prune_history", "schedule": timedelta(minutes=5),
                              "options": {"expires": 300}},
            "matching-due": {"task": "matching.sweep", "schedule": timedelta(seconds=60),
                             "options": {"expires": 60}},
            "message-emails-due": {"task": "notifications.send_due_message_emails",
                                   "schedule": timedelta(seconds=min(30, settings.message_email_delay_seconds)),
                                   "options": {"expires": min(30, settings.message_email_delay_seconds)}},
            "digests-due": {"task": "notifications.send_due_digests", "schedule": timedelta(minutes=5),
                            "options": {"expires": 300}},
            "send-nudges": {"task": "maintenance.send_nudges", "schedule": timedelta(minutes=10),
                            "options": {"expires": 600}},
            "resume-pairings": {"task": "maintenance.resume_pairings", "schedule": timedelta(minutes=10),
                                "options": {"expires": 600}},
        },
        "timezone": "UTC",
    }


def create_celery(settings: Settings | None = None, *, publisher: bool = False) -> Celery:
    """The worker app, or (``publisher=True``) the API's app, which only sends tasks and fails fast."""
    app = Celery("workers", amqp=BrokerAMQP)
    app.config_from_object(celery_config(settings or get_settings(), publisher=publisher))
    return app
