"""A pairing's goals (with a few milestones each), the action items its sessions raise, and the goal a session
works towards (``workflows.programmes.goals``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import GoalStatus, check_in, stored_as_text

MAX_TITLE = 200
MAX_ITEM = 1000  # as long as an item a session's completion carries
MAX_MILESTONES = 10
MAX_GOALS = 20  # a pairing's
MAX_OPEN_ITEMS = 100  # a pairing's, not done


class PairingGoal(IdMixin, Base):
    """What a pair works towards: a title, a target date if any, where it stands, and a few milestones
    (``[{"title": …, "done": bool}]``)."""

    __tablename__ = "pairing_goals"
    __table_args__ = (
        CheckConstraint(check_in("status", GoalStatus), name="status_values"),
        CheckConstraint(f"length(title) BETWEEN 1 AND {MAX_TITLE}", name="title_length"),
        CheckConstraint(f"jsonb_array_length(milestones) <= {MAX_MILESTONES}", name="milestones_count"),
        CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="done_at_when_done"),
        Index("ix_pairing_goals_pairing_created", "pairing_id", "created_at"),
    )

    pairing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    target_date: Mapped[date | None]
    status: Mapped[GoalStatus] = mapped_column(stored_as_text(GoalStatus), default=GoalStatus.OPEN)
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    done_at: Mapped[datetime | None]


class ActionItem(IdMixin, Base):
    """Something one of the pair is to do: its owner, the session that raised it (if any: the items its mentor wrote
    on completing it are these), the goal it serves (if any), when it is due (if said); carried to the pair's next
    sessions until done."""

    __tablename__ = "action_items"
    __table_args__ = (
        CheckConstraint(f"length(title) BETWEEN 1 AND {MAX_ITEM}", name="title_length"),
        Index("ix_action_items_pairing_open", "pairing_id", "created_at"),
        Index("ix_action_items_session_id", "session_id"),
    )

    pairing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(MAX_ITEM))
    owner_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    goal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pairing_goals.id", ondelete="SET NULL"))
    due_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    done_at: Mapped[datetime | None]


class SessionGoal(Base):
    """The goal a session of a pairing works towards."""

    __tablename__ = "session_goals"
    __table_args__ = (Index("ix_session_goals_goal_id", "goal_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pairing_goals.id", ondelete="CASCADE"))
