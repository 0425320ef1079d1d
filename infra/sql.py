"""Raw SQL with fixed values written in: ``statuses(sql, accepted=BookingStatus.ACCEPTED)`` is ``text(sql)`` whose
``:accepted`` is rendered as the literal ``'accepted'`` when the statement runs, so the server's plans (generic
ones too) match partial indexes written with that literal, and the source names the enum, never the string."""

from __future__ import annotations

from sqlalchemy import TextClause, bindparam, text


def statuses(sql: str, **fixed: str) -> TextClause:
    """``text(sql)`` with each named value bound once and rendered inline (``literal_execute``)."""
    return text(sql).bindparams(*(bindparam(name, str(value), literal_execute=True) for name, value in fixed.items()))
