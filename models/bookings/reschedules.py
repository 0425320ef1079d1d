from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import ProposalStatus, check_in, stored_as_text

ONE_OPEN_PROPOSAL = "uq_reschedule_proposals_open"
PROPOSAL, REQUEST = "times", "request"
MAX_PROPOSED_TIMES = 3


class RescheduleProposal(IdMixin, TimestampMixin, Base):
    """One participant's proposal to move an accepted one-to-one booking to one of 1-3 new times
    (``workflows.bookings.reschedules``); the other accepts one, or declines."""

    __tablename__ = "reschedule_proposals"
    __table_args__ = (
        CheckConstraint(check_in("status", ProposalStatus), name="status_values"),
        CheckConstraint("proposed_by IN ('mentor', 'mentee')", name="proposed_by_values"),
        CheckConstraint("kind IN ('times', 'request')", name="kind_values"),
        # A proposal names its times; the mentor's request to move leaves the choice to the mentee.
        CheckConstraint(f"(kind = 'times' AND cardinality(start_times) BETWEEN 1 AND {MAX_PROPOSED_TIMES}) "
                        "OR (kind = 'request' AND cardinality(start_times) = 0 AND proposed_by = 'mentor')",
                        name="start_times_count"),
        CheckConstraint("length(message) <= 1000", name="message_length"),
        CheckConstraint("(status = 'accepted') = (new_booking_id IS NOT NULL AND chosen_start IS NOT NULL)",
                        name="accepted_has_booking"),
        # At most one open proposal per booking, whatever arrives at once.
        Index(ONE_OPEN_PROPOSAL, "booking_id", unique=True, postgresql_where=text("status = 'open'")),
        Index("ix_reschedule_proposals_open_expiry", "expires_at", postgresql_where=text("status = 'open'")),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    proposed_by: Mapped[str] = mapped_column(String(16))
    # ``times``: one to three times to choose from; ``request``: the mentor asks the mentee to choose any free time.
    kind: Mapped[str] = mapped_column(String(16), default=PROPOSAL, server_default=PROPOSAL)
    proposer_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    start_times: Mapped[list[datetime]] = mapped_column(ARRAY(DateTime(timezone=True)))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[ProposalStatus] = mapped_column(stored_as_text(ProposalStatus), default=ProposalStatus.OPEN)
    expires_at: Mapped[datetime]
    chosen_start: Mapped[datetime | None]
    new_booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"))
    decided_at: Mapped[datetime | None]
