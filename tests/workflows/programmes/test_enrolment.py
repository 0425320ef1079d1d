"""Enrolment's events, called directly: who is told of a join, a leave and a removal, in which words, by email with a
link to the programme; whose webhooks and live streams carry them; and the history that keeps them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.channels import user_channel
from infra.config import get_settings
from models import Notification, OutboxEvent, ParticipantRole, User, WebhookMessage
from tests.database import notifications_read
from tests.factories.accounts import UserFactory, actor_of
from tests.mail import Mailbox
from workflows.events import from_outbox
from workflows.live import frames as live
from workflows.notifications import mail, messages
from workflows.programmes import enrolment, join_links
from workflows.programmes import lifecycle as programmes
from workflows.programmes.lifecycle import ProgrammeAction
from workflows.webhooks import endpoints, fanout


def _enrolling(db: Session, coordinator: User) -> programmes.ProgrammeView:
    made = programmes.create(db, actor_of(UserFactory(is_admin=True)), name="Spring cohort",
                             coordinator_user_ids=[coordinator.id])
    programmes.act(db, actor_of(coordinator), made.id, ProgrammeAction.OPEN_ENROLMENT)
    return made


def _events(db: Session, event_type: str) -> list[OutboxEvent]:
    return list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type)))


def test_a_join_a_leave_and_a_removal_tell_the_right_people_in_their_words(db: Session, mailbox: Mailbox) -> None:
    coordinator, person = UserFactory(), UserFactory(display_name="Lin Chen")
    made = _enrolling(db, coordinator)
    link = join_links.create_link(db, actor_of(coordinator), made.id, role=ParticipantRole.MENTOR, max_uses=3,
                                  expires_at=datetime.now(UTC) + timedelta(days=2), capacity=3)
    joined = join_links.join_by_link(db, actor_of(person), link.token)
    enrolment.leave(db, actor_of(person), made.id)
    messages.handle_events(db, _events(db, "enrolment.joined") + _events(db, "enrolment.left"))
    titles = sorted((n.user_id == person.id, n.title) for n in
                    notifications_read(db, Notification.type.like("enrolment.%")))
    # The person is told of their join (not of their own leave); the coordinator of the leave (not of the join).
    assert titles == [(False, "A participant left"), (True, "You joined a programme")]
    for notification_id in db.scalars(select(Notification.id).where(Notification.type.like("enrolment.%"))):
        assert mail.deliver_email(db, notification_id)
    text = {message["To"]: "".join(part.get_payload(decode=True).decode() for part in message.walk()
                                   if part.get_content_type() == "text/plain") for message in mailbox.inbox.messages}
    assert "You take part in \u201cSpring cohort\u201d as a mentor." in text[person.email]
    assert "Lin Chen left \u201cSpring cohort\u201d." in text[coordinator.email]
    assert all(f"#/programmes/{made.id}" in body for body in text.values())
    # Taken off: the person is told; the coordinator who did it is not.
    enrolment.remove(db, actor_of(coordinator), made.id, joined.id)
    (removed,) = _events(db, "enrolment.removed")
    messages.handle_events(db, [removed])
    (notice,) = notifications_read(db, Notification.type == "enrolment.removed")
    assert (notice.user_id, notice.title) == (person.id, "You were taken off a programme")


def test_an_enrolment_reaches_its_person_and_coordinators_webhooks_and_streams_only(db: Session) -> None:
    coordinator, person, stranger = UserFactory(), UserFactory(), UserFactory()
    made = _enrolling(db, coordinator)
    hooks = {user.id: endpoints.create_endpoint(db, actor_of(user), url=f"https://hooks.example.com/{user.id}")
             for user in (coordinator, person, stranger)}
    link = join_links.create_link(db, actor_of(coordinator), made.id, role=ParticipantRole.MENTEE, max_uses=3,
                                  expires_at=datetime.now(UTC) + timedelta(days=2))
    join_links.join_by_link(db, actor_of(person), link.token)
    (joined,) = _events(db, "enrolment.joined")
    assert joined.payload["participant_user_id"] == str(person.id) and joined.payload["via"] == "link"
    fanout.handle_events(db, [joined])
    reached = set(db.scalars(select(WebhookMessage.endpoint_id).where(WebhookMessage.event_id == joined.id)))
    assert reached == {hooks[coordinator.id].id, hooks[person.id].id}
    prefix = get_settings().redis_key_prefix
    assert sorted(live.channels_for(prefix, from_outbox(joined))) == sorted(
        [user_channel(prefix, coordinator.id), user_channel(prefix, person.id)])
    assert live.frames(from_outbox(joined), stranger.id, None, {}) == []
    assert uuid.UUID(joined.payload["programme_id"]) == made.id
