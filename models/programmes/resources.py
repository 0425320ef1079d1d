"""Libraries of resources: a programme's, and the platform's that admins share with every programme
(``workflows.programmes.resources``). A resource is a link or a short Markdown document, never a file."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin

MAX_RESOURCE_TITLE = 200
MAX_DOCUMENT = 20_000  # Markdown source
MAX_RESOURCE_URL = 2000
MAX_TAGS = 10
MAX_TAG = 40
MAX_RESOURCES = 2000  # a library's


class Resource(IdMixin, Base):
    """A resource of a programme's library (``programme_id``), or of the platform's (none): a title, a link or a
    Markdown document (one of them), and a few tags. ``search`` is its words as PostgreSQL's full-text search reads
    them, kept by the database."""

    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint(f"length(title) BETWEEN 1 AND {MAX_RESOURCE_TITLE}", name="title_length"),
        CheckConstraint("(url IS NULL) <> (body IS NULL)", name="link_or_document"),
        CheckConstraint(f"url IS NULL OR (length(url) <= {MAX_RESOURCE_URL} AND url ~* '^https?://')",
                        name="url_web"),
        CheckConstraint(f"body IS NULL OR length(body) BETWEEN 1 AND {MAX_DOCUMENT}", name="body_length"),
        CheckConstraint(f"cardinality(tags) <= {MAX_TAGS}", name="tags_count"),
        Index("ix_resources_programme_title", "programme_id", "title", "id"),
        Index("ix_resources_search", "search", postgresql_using="gin"),
        Index("ix_resources_tags", "tags", postgresql_using="gin"),
    )

    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(MAX_RESOURCE_TITLE))
    url: Mapped[str | None] = mapped_column(String(MAX_RESOURCE_URL))
    body: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(MAX_TAG)), default=list, server_default="{}")
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(
        text("to_tsvector('simple', title || ' ' || coalesce(body, ''))"), persisted=True), deferred=True)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
