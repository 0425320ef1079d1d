"""A full group session's line on real worker processes: two workers sweep the offers at once, again and again, and
Redis is killed and started empty in between; each seat freed goes to exactly one person, in the order they joined,
and each place in line is offered a seat once. Then seats freed by mentees leaving at once, over HTTP, go to the
next in line, one each."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import get_settings
from models import ListingKind, MentorshipSession, OutboxEvent, SessionStatus, WaitlistEntry, WaitlistStatus
from tests.concurrency import concurrently, wait_until
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from tests.workers_fixtures import RedisServer, StartWorker

SEATS, IN_LINE = 3, 9


def statuses(committed: sessionmaker[Session], session_id: uuid.UUID) -> list[WaitlistStatus]:
    with committed() as db:
        return list(db.scalars(select(WaitlistEntry.status).where(WaitlistEntry.session_id == session_id)
                               .order_by(WaitlistEntry.line)))


def offers_per_entry(committed: sessionmaker[Session]) -> Counter[str]:
    with committed() as db:
        return Counter(p["id"] for p in db.scalars(select(OutboxEvent.payload).where(
            OutboxEvent.type == "waitlist.offered")))


def test_two_workers_sweeping_through_a_redis_restart_give_each_freed_seat_once_in_line_order(
        seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, start_worker: StartWorker,
) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=SEATS)
    now = datetime.now(UTC)
    session = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.GROUP, listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
        start_time=now + timedelta(days=2), end_time=now + timedelta(days=2, hours=1),
        status=SessionStatus.SCHEDULED, capacity=SEATS, seats_taken=0)
    seed.add(session)
    seed.flush()
    # Every seat offered to the first three in line, and each offer already run out; six more wait behind them.
    for place in range(IN_LINE):
        offered = place < SEATS
        seed.add(WaitlistEntry(id=uuid.uuid4(), session_id=session.id, user_id=UserFactory().id,
                               status=WaitlistStatus.OFFERED if offered else WaitlistStatus.WAITING,
                               offered_at=now - timedelta(hours=3) if offered else None,
                               offer_expires_at=now - timedelta(hours=1) if offered else None))
        seed.flush()  # one at a time: the line's order is the order they joined in
    seed.commit()

    settings = dataclasses.replace(get_settings(), redis_url=private_redis.url)
    env = {"REDIS_URL": private_redis.url}
    for _ in range(2):
        start_worker(queues="maintenance", env=env)
    sender = create_celery(settings)

    def sweep_many() -> None:
        for _ in range(10):
            sender.send_task("maintenance.expire_waitlist_offers")

    sweep_many()
    wait_until(lambda: statuses(committed, session.id)[:2 * SEATS] == [WaitlistStatus.EXPIRED] * SEATS
               + [WaitlistStatus.OFFERED] * SEATS, 30, "the first offers passed to the next three")
    # The next three offers run out too; Redis dies with sweeps queued, and comes back empty.
    with committed() as db:
        db.execute(update(WaitlistEntry).where(WaitlistEntry.session_id == session.id,
                                               WaitlistEntry.status == WaitlistStatus.OFFERED)
                   .values(offer_expires_at=now - timedelta(minutes=1)))
        db.commit()
    sweep_many()
    private_redis.kill()
    private_redis.start()
    sweep_many()
    wait_until(lambda: statuses(committed, session.id) == [WaitlistStatus.EXPIRED] * 2 * SEATS
               + [WaitlistStatus.OFFERED] * SEATS, 30, "the last three offered, after the restart")
    offers = offers_per_entry(committed)
    assert sorted(offers.values()) == [1] * 2 * SEATS  # the six later in line, once each (the first three were seeded)
    with committed() as db:
        held = db.scalar(select(MentorshipSession.seats_taken).where(MentorshipSession.id == session.id))
    assert held == 0  # offers hold seats; none was taken twice over


def test_seats_freed_at_once_by_mentees_leaving_go_to_the_next_in_line_one_each(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=SEATS)
    mentor = as_caller(listing.mentor_profile.user)
    seated = [as_caller(UserFactory()) for _ in range(SEATS)]
    waiting = [as_caller(UserFactory()) for _ in range(IN_LINE - SEATS)]
    seed.commit()
    http = live_app(committed).test_client()
    made = http.post(f"/api/v1/listings/{listing.id}/group-sessions", headers=mentor.headers,
                     json={"start_time": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
    assert made.status_code == 201, made.get_json()
    session_id = made.get_json()["id"]
    for mentee in seated:
        assert http.post(f"/api/v1/sessions/{session_id}/join", headers=mentee.headers).status_code == 201
    for mentee in waiting:
        joined = http.post(f"/api/v1/sessions/{session_id}/waitlist", headers=mentee.headers, json={})
        assert joined.status_code == 201, joined.get_json()
    assert [http.get(f"/api/v1/sessions/{session_id}/waitlist", headers=m.headers).get_json()["position"]
            for m in waiting] == list(range(1, len(waiting) + 1))

    leaves = concurrently([
        lambda m=mentee: http.post(f"/api/v1/sessions/{session_id}/cancel", headers=m.headers,
                                   json={"reason": "Something came up"}).status_code for mentee in seated])
    assert leaves == [200] * SEATS
    places = [http.get(f"/api/v1/sessions/{session_id}/waitlist", headers=m.headers).get_json() for m in waiting]
    assert [p["status"] for p in places] == ["offered"] * SEATS + ["waiting"] * (len(waiting) - SEATS)
    assert [p["position"] for p in places[SEATS:]] == list(range(1, len(waiting) - SEATS + 1))
    assert sorted(offers_per_entry(committed).values()) == [1] * SEATS
    # Every seat held for someone: the session reads full to anyone else.
    shown = http.get(f"/api/v1/sessions/{session_id}", headers=mentor.headers).get_json()
    assert (shown["seats_taken"], shown["seats_left"], shown["full"]) == (0, 0, True)
    # The offered take their seats, all at once: every one gets the seat held for them.
    joins = concurrently([lambda m=mentee: http.post(f"/api/v1/sessions/{session_id}/join", headers=m.headers,
                                                     json={}).status_code for mentee in waiting[:SEATS]])
    assert joins == [201] * SEATS
    with committed() as db:
        assert db.get_one(MentorshipSession, uuid.UUID(session_id)).seats_taken == SEATS
