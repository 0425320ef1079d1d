"""Reviews: unlocked per mentee when a session completes; one per mentee and session.

The public list names no one's id: each review shows its author as a first name and an initial
("Grace H."), or "A mentee" when they chose to stay anonymous (or their account is deleted).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import MentorProfile, OutboxEvent, Review, ReviewEligibility, User
from models.sessions.engagement import ONE_REVIEW_PER_SESSION
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Conflict, Forbidden, NotFound, add_or_conflict
from workflows.events import EventType, from_outbox, record
from workflows.pagination import Page, paginate
from workflows.payloads import review_payload
from workflows.roles import Role
from workflows.sessions.lifecycle import SESSIONS

log = structlog.get_logger(__name__)


def handle_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """The reviews handler: a completed session makes each of its mentees eligible to review (one insert a batch)."""
    eligible = [{"session_id": event.aggregate_id, "mentee_user_id": mentee}
                for event in events if event.type == EventType.SESSION_COMPLETED
                for mentee in from_outbox(event).participants.mentee_user_ids]
    if not eligible:
        return
    db.execute(insert(ReviewEligibility).values(eligible).on_conflict_do_nothing())
    log.info("review.unlocked", sessions=len({row["session_id"] for row in eligible}), mentees=len(eligible))


def handle_event(db: Session, event: OutboxEvent) -> None:
    """:func:`handle_events` for one event."""
    handle_events(db, [event])


def create_review(db: Session, actor: Actor, session_id: uuid.UUID, *, rating: int, comment: str,
                  anonymous: bool = False) -> Review:
    session = SESSIONS.get_visible(db, actor, session_id)
    if SESSIONS.role_of(db, actor, session) != Role.MENTEE:
        raise Forbidden("only the session's mentee can review it")
    eligible = db.get(ReviewEligibility, (session_id, actor.user_id))
    if eligible is None:
        raise Forbidden("not eligible yet: reviews open once the session is completed")
    # Serialise reviews of one mentor so the average is computed over every committed review
    # (FOR NO KEY UPDATE: rows that only reference the mentor are not waited for).
    profile = db.get(MentorProfile, session.mentor_profile_id, with_for_update={"key_share": True})
    assert profile is not None
    review = Review(id=uuid.uuid4(), session_id=session_id, mentor_profile_id=profile.id,
                    mentee_user_id=actor.user_id, rating=rating, comment=comment, anonymous=anonymous)
    add_or_conflict(db, review, {ONE_REVIEW_PER_SESSION: Conflict("you already reviewed this session",
                                                                  reason="reviewed_already")})
    refresh_rating(db, profile)
    record(db, EventType.REVIEW_CREATED, review_payload(review), actor=str(actor))
    log.info(EventType.REVIEW_CREATED, review_id=str(review.id), session_id=str(session_id), actor=str(actor))
    return review


def refresh_rating(db: Session, profile: MentorProfile) -> None:
    """The mentor's average and count over their visible reviews; the caller holds the profile's row lock."""
    average, count = db.execute(
        select(func.avg(Review.rating), func.count())
        .where(Review.mentor_profile_id == profile.id, Review.hidden_at.is_(None))
    ).one()
    profile.rating_average = Decimal(average).quantize(Decimal("0.01")) if average is not None else None
    profile.rating_count = count


def hide_review(db: Session, review_id: uuid.UUID, *, reason: str, now: datetime | None = None) -> Review:
    """Take a review out of public lists and of its mentor's rating (an admin's decision; idempotent)."""
    review = db.get(Review, review_id)
    if review is None:
        raise NotFound("review not found")
    if review.hidden_at is not None:
        return review
    profile = db.get(MentorProfile, review.mentor_profile_id, with_for_update={"key_share": True})
    assert profile is not None
    review.hidden_at = now or utcnow()
    review.hidden_reason = reason
    db.flush()
    refresh_rating(db, profile)
    return review


ANONYMOUS = "A mentee"


def public_name(display_name: str | None, *, anonymous: bool, deleted: bool) -> str:
    """How a review names its author in public: "Grace H." for Grace Hopper, "Grace" alone, else "A mentee"."""
    words = (display_name or "").split()
    if anonymous or deleted or not words:
        return ANONYMOUS
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0].upper()}."


@dataclass(frozen=True)
class PublicReview:
    review: Review
    reviewer: str


def as_posted(db: Session, review: Review) -> PublicReview:
    """A review as its author sees it once posted: with the name it shows in public."""
    return reviewer_of(review, db.get(User, review.mentee_user_id))


def reviewer_of(review: Review, author: User | None) -> PublicReview:
    return PublicReview(review, public_name(author.display_name if author else None, anonymous=review.anonymous,
                                            deleted=author is None or author.deleted_at is not None))


def list_reviews(db: Session, mentor_profile_id: uuid.UUID, *, limit: int, cursor: str | None
                 ) -> Page[PublicReview]:
    if db.get(MentorProfile, mentor_profile_id) is None:
        raise NotFound("mentor profile not found")
    query = select(Review).where(Review.mentor_profile_id == mentor_profile_id, Review.hidden_at.is_(None))
    page = paginate(db, query, Review.created_at, Review.id, limit=limit, cursor=cursor, descending=True)
    ids = {review.mentee_user_id for review in page.items}
    authors = {user.id: user for user in db.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return Page([reviewer_of(review, authors.get(review.mentee_user_id)) for review in page.items], page.next_cursor)
