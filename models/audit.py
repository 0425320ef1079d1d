from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class AdminAction(IdMixin, Base):
    """What an administrator did to someone else's account, session or review, and why: the audit trail."""

    __tablename__ = "admin_actions"
    __table_args__ = (
        Index("ix_admin_actions_created", "created_at", "id"),
        Index("ix_admin_actions_target", "target_id", "created_at"),
    )

    # Kept when the admin's account goes: the trail outlives the people in it.
    admin_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
