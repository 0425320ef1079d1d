from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import ConnectionStatus, check_in, stored_as_text

CALDAV, SUBSCRIPTION = "caldav", "ics"
SEALED_HREF = "sealed"  # a subscription's href: its address is kept in the connection's sealed credentials only
MAX_CONNECTIONS_PER_MENTOR = 5
MAX_SOURCES_PER_CONNECTION = 50


class CalendarConnection(IdMixin, TimestampMixin, Base):
    """A mentor's own calendar account (``caldav``: a server, a user and an app password) or a secret iCalendar
    address (``ics``, read-only), whose busy times the scheduling rules honour (``workflows.calendars.sync``).

    The address and the credentials are kept encrypted (``credentials``: a Fernet token of their JSON, under
    ``CREDENTIALS_KEYS``); only the host is kept in the clear, to be shown.

    ``connecting`` while its server is asked what calendars it holds (outside any transaction: at most one per mentor
    at once, a partial unique index); then ``active``, or ``broken`` once the server refuses its credentials. A sync
    runs under a lease (``sync_lease_id`` until ``sync_leased_until``): a sync asked for while one runs is that one.
    """

    __tablename__ = "calendar_connections"
    __table_args__ = (
        CheckConstraint("kind IN ('caldav', 'ics')", name="kind_values"),
        CheckConstraint(check_in("status", ConnectionStatus), name="status_values"),
        CheckConstraint("length(host) <= 255", name="host_length"),
        CheckConstraint("last_error IS NULL OR length(last_error) <= 500", name="error_length"),
        # The sync beat's queue: connections due, soonest first.
        Index("ix_calendar_connections_due", "next_sync_at", postgresql_where=text("status = 'active'")),
        # One connect of a mentor's talks to a server at a time.
        Index("uq_calendar_connections_connecting", "mentor_profile_id", unique=True,
              postgresql_where=text("status = 'connecting'")),
    )

    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"),
                                                         index=True)
    kind: Mapped[str] = mapped_column(String(8))
    host: Mapped[str] = mapped_column(String(255))
    credentials: Mapped[str] = mapped_column(Text)
    status: Mapped[ConnectionStatus] = mapped_column(stored_as_text(ConnectionStatus), default=ConnectionStatus.ACTIVE,
                                                     server_default=ConnectionStatus.ACTIVE.value)
    # The last sync that read every busy calendar, and what the last failure said (kept until a sync succeeds).
    synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    next_sync_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    # A subscription's validators (ETag, Last-Modified), to be told "not modified".
    validators: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # The sync under way, if any (its lease), and when a sync was last asked for (a change while one ran: again).
    sync_lease_id: Mapped[uuid.UUID | None]
    sync_leased_until: Mapped[datetime | None]
    sync_requested_at: Mapped[datetime | None]


class CalendarSource(IdMixin, TimestampMixin, Base):
    """One calendar of a connection: whether its events make the mentor busy, and whether sessions are written to
    it (one such calendar per mentor). A subscription is one source."""

    __tablename__ = "calendar_sources"
    __table_args__ = (
        CheckConstraint("length(name) <= 200", name="name_length"),
        CheckConstraint("length(href) <= 2048", name="href_length"),
        Index("uq_calendar_sources_connection_href", "connection_id", "href", unique=True),
        # Sessions go to one calendar of the mentor's.
        Index("uq_calendar_sources_one_target", "mentor_profile_id", unique=True, postgresql_where=text("target")),
    )

    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calendar_connections.id", ondelete="CASCADE"))
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    href: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(200))
    busy: Mapped[bool] = mapped_column(default=True, server_default="true")
    target: Mapped[bool] = mapped_column(default=False, server_default="false")
    writable: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The server's getctag when last read: unchanged, the calendar is not read again.
    ctag: Mapped[str | None] = mapped_column(Text)


class BusyInterval(Base):
    """A time a mentor's own calendar is busy, as last read (``workflows.calendars.sync``): slots and checks read
    these, never the remote server."""

    __tablename__ = "busy_intervals"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="times_ordered"),
        Index("ix_busy_intervals_mentor_range", "mentor_profile_id",
              text("tstzrange(start_time, end_time, '[)')"), postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)  # rewritten at each change
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calendar_sources.id", ondelete="CASCADE"), index=True)
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]


# A write is owed while its newest state has not landed, or while an event it wrote must be taken away.
OWED = "retire OR written_sequence IS NULL OR written_sequence < sequence"


class CalendarWrite(IdMixin, TimestampMixin, Base):
    """A session owed to the mentor's target calendar (``workflows.calendars.writes``): one row per event there (its
    UID, a moved booking's chain keeping one), the session whose state it must show, and what was written last.
    ``retire``: the calendar is no longer the target, and the event written there is to be deleted (then the row)."""

    __tablename__ = "calendar_writes"
    __table_args__ = (
        Index("uq_calendar_writes_source_uid", "source_id", "uid", unique=True),
        # Writes not landed yet, the next attempt first.
        Index("ix_calendar_writes_owed", "next_attempt_at",
              postgresql_where=text(OWED)),
        CheckConstraint("last_error IS NULL OR length(last_error) <= 500", name="error_length"),
    )

    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calendar_sources.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(100))
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    written_sequence: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_error: Mapped[str | None] = mapped_column(Text)
    retire: Mapped[bool] = mapped_column(default=False, server_default="false")
    # A write under way (its PUT or DELETE, outside any transaction) until then: another write of the event waits.
    sending_until: Mapped[datetime | None]
