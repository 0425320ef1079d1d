"""The broker connection of workers and beat: after an outage, they reconnect within a second.

kombu's ``Connection.ensure_connection`` waits 2 s, 4 s, 6 s, … up to 30 s
between attempts, and Celery's worker consumer and beat call it without
intervals of their own: after a long Redis outage, a worker could sit idle for
up to 30 s with Redis back. Trying a local Redis every second costs nothing.
"""

from __future__ import annotations

from typing import Any

import kombu
from celery.app.amqp import AMQP

#: Between attempts to reconnect: half a second, then a second, for as long as it takes.
RECONNECT_INTERVALS = {"interval_start": 0.5, "interval_step": 0.5, "interval_max": 1.0}


class Connection(kombu.Connection):
    def ensure_connection(self, *args: Any, **kwargs: Any) -> Any:
        """kombu's, with :data:`RECONNECT_INTERVALS` unless the caller gives its own."""
        for name, seconds in RECONNECT_INTERVALS.items():
            kwargs.setdefault(name, seconds)
        return super().ensure_connection(*args, **kwargs)


class BrokerAMQP(AMQP):
    """Celery's AMQP layer, making its connections with :class:`Connection`."""

    Connection = Connection
