from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin
from models.enums import BookingStatus, CreditStatus, NoShow, check_in, stored_as_text

if TYPE_CHECKING:
    from models.mentors.listings import Listing

# Constraints the workflows tell apart when a write runs into them.
ACCEPTED_OVERLAP = "ex_bookings_mentor_accepted_overlap"
MENTEE_OVERLAP = "ex_bookings_mentee_accepted_overlap"
GROUP_SEAT = "uq_bookings_group_seat"


class Booking(IdMixin, TimestampMixin, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(check_in("status", BookingStatus), name="status_values"),
        CheckConstraint("end_time > start_time", name="times_ordered"),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        # The last line of defence against double booking: a mentor's accepted
        # individual bookings never overlap, whatever the application does.
        # (Seats of one group session share its time; sessions have their own constraint.)
        ExcludeConstraint(
            ("mentor_profile_id", "="),
            (text("tstzrange(start_time, end_time, '[)')"), "&&"),
            name=ACCEPTED_OVERLAP,
            using="gist",
            where=text("status = 'accepted' AND group_session_id IS NULL"),
        ),
        # Nor can a mentee hold two accepted bookings at once. Seats of group sessions count:
        # a seat is an accepted booking with the session's times.
        ExcludeConstraint(
            ("mentee_user_id", "="),
            (text("tstzrange(start_time, end_time, '[)')"), "&&"),
            name=MENTEE_OVERLAP,
            using="gist",
            where=text("status = 'accepted'"),
        ),
        CheckConstraint(check_in("credit_status", CreditStatus), name="credit_status_values"),
        CheckConstraint("cancel_fee_cents IS NULL OR cancel_fee_cents >= 0", name="fee_non_negative"),
        CheckConstraint(check_in("no_show", NoShow), name="no_show_values"),
        CheckConstraint("no_show_fee_cents IS NULL OR no_show_fee_cents >= 0", name="no_show_fee_non_negative"),
        CheckConstraint("reschedule_count >= 0 AND (reschedule_count = 0) = (rescheduled_from_booking_id IS NULL)",
                        name="reschedule_chain"),
        CheckConstraint(
            "(bundle_purchase_id IS NULL) = (credit_status = 'none')", name="credit_needs_purchase"
        ),
        # One seat per mentee in a group session.
        Index(
            GROUP_SEAT,
            "group_session_id",
            "mentee_user_id",
            unique=True,
            postgresql_where=text("group_session_id IS NOT NULL AND status = 'accepted'"),
        ),
        # A mentor's no-shows, counted for their statistics.
        Index("ix_bookings_mentor_no_show", "mentor_profile_id", postgresql_where=text("no_show = 'mentor'")),
        # Findings waiting to become final, the oldest first (the beat confirms those past their window).
        Index("ix_bookings_no_show_unconfirmed", "no_show_at",
              postgresql_where=text("no_show IN ('mentee', 'mentor') AND no_show_confirmed_at IS NULL")),
        Index("ix_bookings_mentee_created", "mentee_user_id", "created_at", "id"),
        # The platform's numbers: a window of requests. BRIN: rows come in created_at order, and a summary per block
        # range costs the hot insert path next to nothing.
        Index("ix_bookings_created", "created_at", postgresql_using="brin"),
        Index("ix_bookings_mentor_created", "mentor_profile_id", "created_at", "id"),
        Index("ix_bookings_draft_start", "start_time", postgresql_where=text("status = 'draft'")),
        # A mentor's and a mentee's pending requests by start: what an accept settles (workflows.bookings.lifecycle).
        Index("ix_bookings_mentor_draft_start", "mentor_profile_id", "start_time",
              postgresql_where=text("status = 'draft'")),
        Index("ix_bookings_mentee_draft_start", "mentee_user_id", "start_time",
              postgresql_where=text("status = 'draft'")),
        Index("ix_bookings_series", "series_id", "start_time", postgresql_where=text("series_id IS NOT NULL")),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id"), index=True)
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id"))
    mentee_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    status: Mapped[BookingStatus] = mapped_column(stored_as_text(BookingStatus), default=BookingStatus.DRAFT)
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Made on a listing booked instantly: accepted by the system in the transaction that made the request.
    instant: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The answers to the listing's questions, as asked then: [{question_id, label, kind, value}]
    # (workflows.questions); the mentor reads them with the request.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    decline_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Set when an accepted booking (or a seat) ends by cancellation: late, and the fee it cost.
    cancel_late: Mapped[bool | None]
    cancel_fee_cents: Mapped[int | None]
    decided_at: Mapped[datetime | None]
    bundle_purchase_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bundle_purchases.id"), index=True)
    # A bundle credit reserved at request time: held, then returned or forfeited.
    credit_status: Mapped[CreditStatus] = mapped_column(
        stored_as_text(CreditStatus), default=CreditStatus.NONE, server_default=CreditStatus.NONE.value
    )
    # use_alter: bookings and sessions refer to each other.
    group_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", use_alter=True), index=True)
    # A seat that the group session's cancellation ended (not one its mentee gave up before): its mentee still reads
    # the session and its conversation.
    ended_with_session: Mapped[bool] = mapped_column(default=False, server_default="false")

    # A reschedule's new booking: the one it follows, the chain's first (its calendar UID), and how many moves
    # the chain has had (workflows.bookings.reschedules).
    rescheduled_from_booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    chain_booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"))
    reschedule_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The listing's buffers when requested (workflows.scheduling.rules): a later edit of the listing never moves them.
    buffer_before_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    buffer_after_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    # Attendance (workflows.sessions.attendance): when the mentee checked in, and, once the meeting's time came, who was
    # absent (NoShow; null when nobody was found absent) and the fee that cost the mentee.
    checked_in_at: Mapped[datetime | None]
    no_show: Mapped[NoShow | None] = mapped_column(stored_as_text(NoShow, 8))
    no_show_fee_cents: Mapped[int | None]
    no_show_at: Mapped[datetime | None]  # when it was found (a dispute is open to it for NO_SHOW_DISPUTE_HOURS)
    # When the finding became final (its window passed undisputed, or an administrator decided): only then do its
    # credit and fee move. One side's word alone (a check-in, a report) moves nothing before.
    no_show_confirmed_at: Mapped[datetime | None]

    # One occurrence of a series (``workflows.bookings.series``): answered with the series, then a booking like any
    # other.
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking_series.id"))

    listing: Mapped[Listing] = relationship()
