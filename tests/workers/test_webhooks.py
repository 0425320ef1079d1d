"""The webhook worker's recorder of deliveries (``workers/webhooks.py``): deliveries heard within its linger are
written together, in one transaction, not one each, and each one heard is recorded."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import WebhookMessage, WebhookMessageStatus
from tests.webhook_domain import make_endpoint, make_message
from workers import webhooks
from workflows.webhooks import leases, outcomes, sending


def test_deliveries_heard_together_are_written_in_one_transaction(
        monkeypatch: pytest.MonkeyPatch, seed: Session, committed: sessionmaker[Session]) -> None:
    endpoint = make_endpoint(seed)
    made = [make_message(seed, endpoint) for _ in range(20)]
    heard = leases.lease_batch(seed, made[0].id, settings=get_settings(), limit=len(made))  # one batch of them all
    seed.commit()
    assert len(heard) == len(made)
    writes: list[int] = []
    real = outcomes.record_delivered

    def record_delivered(db: Session, sent: Sequence[tuple[sending.Delivery, sending.Outcome]]) -> None:
        writes.append(len(sent))
        real(db, sent)

    monkeypatch.setattr(webhooks.outcomes, "record_delivered", record_delivered)
    monkeypatch.setattr(webhooks, "session_factory", lambda: committed)  # the test's database
    recorder = webhooks.DeliveredRecorder()
    for delivery in heard:  # heard before its thread starts: all within one linger, however busy the machine
        recorder.hear(delivery, sending.Outcome(status_code=204, duration_ms=1))
    with recorder:
        pass
    assert writes == [20]
    assert recorder.recorded == {delivery.message_id for delivery in heard}
    with committed() as db:
        statuses = db.scalars(select(WebhookMessage.status).where(WebhookMessage.endpoint_id == endpoint.id)).all()
    assert statuses == [WebhookMessageStatus.DELIVERED] * 20
