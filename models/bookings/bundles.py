"""Bundles: N sessions of a listing for one price, valid D days; purchases hold the credits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class Bundle(IdMixin, Base):
    __tablename__ = "bundles"
    __table_args__ = (
        CheckConstraint("sessions_count BETWEEN 1 AND 100", name="sessions_count_range"),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
        CheckConstraint("valid_days BETWEEN 1 AND 730", name="valid_days_range"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    sessions_count: Mapped[int]
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    valid_days: Mapped[int]
    # A withdrawn offer (``active`` false) can no longer be bought; purchases keep their credits.
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class BundlePurchase(IdMixin, Base):
    __tablename__ = "bundle_purchases"
    __table_args__ = (
        # Never below zero, whatever the concurrency: the last line of defence against overspending.
        CheckConstraint("remaining_sessions >= 0", name="remaining_non_negative"),
        CheckConstraint("valid_until > valid_from", name="validity_ordered"),
        Index("ix_bundle_purchases_mentee_created", "mentee_user_id", "created_at", "id"),
    )

    bundle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bundles.id", ondelete="CASCADE"), index=True)
    mentee_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    remaining_sessions: Mapped[int]
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # Credits pay for sessions starting in [valid_from, valid_until).
    valid_from: Mapped[datetime] = mapped_column(server_default=func.now())
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
