"""A programme's life (``workflows/programmes/lifecycle.py``), called directly: an admin creates it with its
coordinators, they run it through its states, each move is told to them, and nobody else finds it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.channels import user_channel
from infra.config import get_settings
from models import Notification, OutboxEvent, ProgrammeStatus, User, WebhookMessage
from tests.database import events_of, notifications_read, refused
from tests.factories.accounts import PASSWORD, UserFactory, actor_of
from tests.mail import Mailbox
from workflows import history
from workflows.accounts import deletion
from workflows.errors import BusinessRuleViolation, Forbidden, InvalidTransition, NotFound
from workflows.events import from_outbox
from workflows.live import frames as live
from workflows.notifications import mail, messages
from workflows.programmes import lifecycle as programmes
from workflows.programmes.lifecycle import ProgrammeAction
from workflows.webhooks import endpoints, fanout


@pytest.fixture
def admin() -> User:
    return UserFactory(is_admin=True)


def new_programme(db: Session, admin: User, *coordinators: User, **settings: object) -> programmes.ProgrammeView:
    return programmes.create(db, actor_of(admin), name="Spring cohort",
                             coordinator_user_ids=[c.id for c in coordinators], **settings)


def test_an_admin_creates_a_draft_with_its_coordinators_and_they_are_told(db: Session, admin: User) -> None:
    first, second = UserFactory(), UserFactory()
    made = new_programme(db, admin, first, second, first, starts_on=date(2031, 3, 2), ends_on=date(2031, 5, 24),
                         session_minutes=45)
    assert made.status == ProgrammeStatus.DRAFT and made.session_minutes == 45 and made.session_count == 12
    # A repeat named once; listed in the order they were added, those added together by id.
    assert made.coordinator_user_ids == sorted([first.id, second.id])
    assert events_of(db, made.id) == [("programme.created", actor_of(admin).as_admin())]
    created = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id)).one()
    assert created.payload["coordinator_user_ids"] == [str(c) for c in sorted([first.id, second.id])]
    messages.handle_events(db, [created])
    for coordinator in (first, second):
        (told,) = notifications_read(db, Notification.user_id == coordinator.id)
        assert told.title == "You coordinate a programme"
        assert told.data["link"] == f"#/programmes/{made.id}"
    assert not db.scalars(select(Notification).where(Notification.user_id == admin.id)).all()


def test_only_an_admin_creates_and_names_coordinators_who_are_users(db: Session, admin: User) -> None:
    coordinator = UserFactory()
    assert refused(db, Forbidden, lambda: new_programme(db, coordinator)).message == \
        "only an administrator can create a programme"
    ghost = UserFactory()
    ghost.deleted_at = ghost.created_at
    db.flush()
    error = refused(db, BusinessRuleViolation, lambda: new_programme(db, admin, coordinator, ghost))
    assert error.message == f"no such user: {ghost.id}"
    error = refused(db, BusinessRuleViolation,
                    lambda: new_programme(db, admin, starts_on=date(2031, 3, 2), ends_on=date(2031, 3, 1)))
    assert error.message == "a programme cannot end before it starts"
    made = new_programme(db, admin, coordinator)
    error = refused(db, Forbidden, lambda: programmes.set_coordinators(db, actor_of(coordinator), made.id, []))
    assert error.message == "only an administrator can name a programme's coordinators"
    other = UserFactory()
    replaced = programmes.set_coordinators(db, actor_of(admin), made.id, [other.id])
    assert replaced.coordinator_user_ids == [other.id]
    assert refused(db, NotFound, lambda: programmes.get(db, actor_of(coordinator), made.id))  # no longer theirs


@pytest.mark.parametrize(("path", "ends"), [
    ((ProgrammeAction.OPEN_ENROLMENT, ProgrammeAction.START, ProgrammeAction.CLOSE), ProgrammeStatus.CLOSED),
    ((ProgrammeAction.START,), ProgrammeStatus.RUNNING),  # pairs made by hand need no enrolment
    ((ProgrammeAction.CLOSE,), ProgrammeStatus.CLOSED),  # a draft given up
])
def test_its_coordinators_move_it_through_the_table_and_each_move_is_recorded(
        db: Session, admin: User, path: tuple[ProgrammeAction, ...], ends: ProgrammeStatus) -> None:
    coordinator = UserFactory()
    made = new_programme(db, admin, coordinator)
    for action in path:
        programmes.act(db, actor_of(coordinator), made.id, action)
    shown = programmes.get(db, actor_of(coordinator), made.id)
    assert shown.status == ends and (shown.closed_at is not None) == (ends == ProgrammeStatus.CLOSED)
    expected = {ProgrammeAction.OPEN_ENROLMENT: "programme.enrolment_opened", ProgrammeAction.START:
                "programme.started", ProgrammeAction.CLOSE: "programme.closed"}
    assert events_of(db, made.id) == sorted([("programme.created", actor_of(admin).as_admin()),
                                             *((expected[a], str(actor_of(coordinator))) for a in path)])


def test_a_move_from_the_wrong_status_is_refused_and_a_closed_programme_changes_no_more(db: Session,
                                                                                       admin: User) -> None:
    coordinator = actor_of(UserFactory())
    made = programmes.create(db, actor_of(admin), name="Cohort", coordinator_user_ids=[coordinator.user_id])
    programmes.act(db, coordinator, made.id, ProgrammeAction.START)
    error = refused(db, InvalidTransition,
                    lambda: programmes.act(db, coordinator, made.id, ProgrammeAction.OPEN_ENROLMENT))
    assert (error.message, error.details) == ("cannot open enrolment of a programme that is running",
                                              {"current_status": "running", "action": "open_enrolment"})
    programmes.act(db, actor_of(admin), made.id, ProgrammeAction.CLOSE)
    for action in ProgrammeAction:
        refused(db, InvalidTransition, lambda a=action: programmes.act(db, coordinator, made.id, a))
    error = refused(db, InvalidTransition, lambda: programmes.update(db, coordinator, made.id, {"name": "Again"}))
    assert error.message == "cannot edit a programme that is closed"
    assert programmes.get(db, coordinator, made.id).name == "Cohort"


def test_a_coordinator_runs_their_programme_only_and_nobody_else_finds_one(db: Session, admin: User) -> None:
    mine, theirs = actor_of(UserFactory()), actor_of(UserFactory())
    programme = programmes.create(db, actor_of(admin), name="Mine", coordinator_user_ids=[mine.user_id])
    other = programmes.create(db, actor_of(admin), name="Theirs", coordinator_user_ids=[theirs.user_id])
    stranger = actor_of(UserFactory())
    for outsider in (theirs, stranger):
        assert refused(db, NotFound, lambda o=outsider: programmes.get(db, o, programme.id)).message == \
            "programme not found"
        refused(db, NotFound, lambda o=outsider: programmes.update(db, o, programme.id, {"name": "Taken"}))
        refused(db, NotFound, lambda o=outsider: programmes.act(db, o, programme.id, ProgrammeAction.CLOSE))
        refused(db, NotFound, lambda o=outsider: history.programme_timeline(db, o, programme.id, limit=10,
                                                                           cursor=None))
    updated = programmes.update(db, mine, programme.id, {"description": "Twelve weeks", "cadence_weeks": 2})
    assert (updated.description, updated.cadence_weeks, updated.name) == ("Twelve weeks", 2, "Mine")
    listed = programmes.list_programmes(db, mine, status=None, limit=50, cursor=None).items
    assert [p.id for p in listed] == [programme.id]
    assert programmes.list_programmes(db, stranger, status=None, limit=50, cursor=None).items == []
    everyone = {p.id for p in programmes.list_programmes(db, actor_of(admin), status=ProgrammeStatus.DRAFT,
                                                         limit=50, cursor=None).items}
    assert {programme.id, other.id} <= everyone


def test_its_history_names_a_coordinator_s_moves_and_an_admin_s(db: Session, admin: User) -> None:
    coordinator = actor_of(UserFactory())
    made = programmes.create(db, actor_of(admin), name="Cohort", coordinator_user_ids=[coordinator.user_id])
    programmes.act(db, coordinator, made.id, ProgrammeAction.OPEN_ENROLMENT)
    programmes.act(db, actor_of(admin), made.id, ProgrammeAction.START)
    seen = history.programme_timeline(db, coordinator, made.id, limit=10, cursor=None).items
    assert {(e.type, e.actor) for e in seen} == {("programme.created", "admin"),
                                                ("programme.enrolment_opened", "coordinator"),
                                                ("programme.started", "admin")}


def test_a_move_reaches_its_coordinators_webhooks_and_live_streams_whole_and_no_one_else_s(db: Session,
                                                                                          admin: User) -> None:
    coordinator, stranger = UserFactory(), UserFactory()
    theirs = endpoints.create_endpoint(db, actor_of(coordinator), url="https://hooks.example.com/in")
    endpoints.create_endpoint(db, actor_of(stranger), url="https://hooks.example.com/other")
    made = new_programme(db, admin, coordinator)
    programmes.act(db, actor_of(coordinator), made.id, ProgrammeAction.OPEN_ENROLMENT)
    opened = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id,
                                                  OutboxEvent.type == "programme.enrolment_opened")).one()
    fanout.handle_events(db, [opened])
    (message,) = db.scalars(select(WebhookMessage).where(WebhookMessage.event_id == opened.id))
    assert message.endpoint_id == theirs.id and message.payload == opened.payload
    prefix = get_settings().redis_key_prefix
    assert live.channels_for(prefix, from_outbox(opened)) == [user_channel(prefix, coordinator.id)]
    assert live.frames(from_outbox(opened), coordinator.id, None, {}) != []
    assert live.frames(from_outbox(opened), stranger.id, None, {}) == []


def test_a_coordinator_is_emailed_each_move_with_a_link_to_the_programme(db: Session, admin: User,
                                                                         mailbox: Mailbox) -> None:
    coordinator = UserFactory()
    made = new_programme(db, admin, coordinator)
    programmes.act(db, actor_of(admin), made.id, ProgrammeAction.OPEN_ENROLMENT)
    messages.handle_events(db, list(db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id))))
    for notification_id in db.scalars(select(Notification.id).where(Notification.user_id == coordinator.id)):
        assert mail.deliver_email(db, notification_id)
    subjects = sorted(message["Subject"] for message in mailbox.inbox.to(coordinator.email))
    assert subjects == ["Enrolment open", "You coordinate a programme"]
    text = "".join(part.get_payload(decode=True).decode() for message in mailbox.inbox.to(coordinator.email)
                   for part in message.walk() if part.get_content_type() == "text/plain")
    assert text.count(f"#/programmes/{made.id}") == 2


def test_naming_other_coordinators_tells_those_added_and_those_taken_off(db: Session, admin: User) -> None:
    kept, dropped, added = UserFactory(), UserFactory(), UserFactory()
    made = new_programme(db, admin, kept, dropped)
    programmes.set_coordinators(db, actor_of(admin), made.id, [kept.id, added.id])
    programmes.set_coordinators(db, actor_of(admin), made.id, [added.id, kept.id])  # the same people: no event
    changed = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id,
                                                   OutboxEvent.type == "programme.coordinators_changed")).one()
    assert (changed.payload["added_user_ids"], changed.payload["removed_user_ids"]) == ([str(added.id)],
                                                                                       [str(dropped.id)])
    messages.handle_events(db, [changed])
    told = set(db.scalars(select(Notification.user_id).where(Notification.event_id == changed.id)))
    assert told == {kept.id, added.id, dropped.id}
    assert refused(db, NotFound, lambda: programmes.get(db, actor_of(dropped), made.id))  # told, no longer in it


def test_a_coordinator_is_not_told_of_their_own_move_and_a_deleted_account_coordinates_nothing(
        db: Session, admin: User) -> None:
    mover, other = UserFactory(), UserFactory()
    made = new_programme(db, admin, mover, other)
    programmes.act(db, actor_of(mover), made.id, ProgrammeAction.START)
    started = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.id,
                                                   OutboxEvent.type == "programme.started")).one()
    messages.handle_events(db, [started])
    assert set(db.scalars(select(Notification.user_id).where(Notification.event_id == started.id))) == {other.id}
    deletion.delete_account(db, actor_of(other), current_password=PASSWORD)
    assert programmes.get(db, actor_of(mover), made.id).coordinator_user_ids == [mover.id]
