"""Reviews: unlocked per mentee when a session completes; one per mentee and session."""

from __future__ import annotations

import uuid
from decimal import Decimal

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import MentorProfile, OutboxEvent, Review, ReviewEligibility
from workflows import outbox
from workflows.actors import Actor
from workflows.errors import Conflict, Forbidden, NotFound
from workflows.pagination import Page, paginate
from workflows.roles import Role
from workflows.sessions import get_visible_session, role_of

log = structlog.get_logger(__name__)


def mentees_of(payload: dict[str, object]) -> list[uuid.UUID]:
    """The mentees an event is about: one for an individual session, each participant of a group one."""
    many = payload.get("mentee_user_ids")
    if isinstance(many, list):
        return [uuid.UUID(str(user)) for user in many]
    one = payload.get("mentee_user_id")
    return [uuid.UUID(str(one))] if one else []


def handle_event(db: Session, event: OutboxEvent) -> None:
    """The reviews handler: a completed session makes each of its mentees eligible to review."""
    if event.type != "session.completed":
        return
    for mentee in mentees_of(event.payload):
        db.execute(
            insert(ReviewEligibility)
            .values(session_id=event.aggregate_id, mentee_user_id=mentee)
            .on_conflict_do_nothing()
        )
        log.info("review.unlocked", session_id=str(event.aggregate_id), mentee_user_id=str(mentee))


def create_review(db: Session, actor: Actor, session_id: uuid.UUID, *, rating: int, comment: str) -> Review:
    session = get_visible_session(db, actor, session_id)
    if role_of(db, actor, session) != Role.MENTEE:
        raise Forbidden("only the session's mentee can review it")
    eligible = db.get(ReviewEligibility, (session_id, actor.user_id))
    if eligible is None:
        raise Forbidden("not eligible yet: reviews open once the session is completed")
    # Serialise reviews of one mentor so the average is computed over every committed review.
    profile = db.get(MentorProfile, session.mentor_profile_id, with_for_update=True)
    assert profile is not None
    review = Review(id=uuid.uuid4(), session_id=session_id, mentor_profile_id=profile.id,
                    mentee_user_id=actor.user_id, rating=rating, comment=comment)
    try:
        with db.begin_nested():
            db.add(review)
            db.flush()
    except IntegrityError:
        raise Conflict("you already reviewed this session") from None
    average, count = db.execute(
        select(func.avg(Review.rating), func.count()).where(Review.mentor_profile_id == profile.id)
    ).one()
    profile.rating_average = Decimal(average).quantize(Decimal("0.01"))
    profile.rating_count = count
    outbox.record_event(db, "review.created", aggregate_type="review", aggregate_id=review.id, actor=str(actor),
                        payload={"id": str(review.id), "session_id": str(session_id),
                                 "mentor_profile_id": str(profile.id), "mentee_user_id": str(actor.user_id),
                                 "rating": rating, "comment": comment})
    log.info("review.created", review_id=str(review.id), session_id=str(session_id), actor=str(actor))
    return review


def list_reviews(db: Session, mentor_profile_id: uuid.UUID, *, limit: int, cursor: str | None) -> Page[Review]:
    if db.get(MentorProfile, mentor_profile_id) is None:
        raise NotFound("mentor profile not found")
    query = select(Review).where(Review.mentor_profile_id == mentor_profile_id)
    return paginate(db, query, Review.created_at, Review.id, limit=limit, cursor=cursor, descending=True)
