"""Raw SQL with fixed values written in: ``statuses(sql, accepted=BookingStatus.ACCEPTED)`` is ``text(sql)`` with
``:accepted`` replaced by the literal ``'accepted'`` once, when the statement is built, so the server's plans
(generic ones too) match partial indexes written with that literal, no execution pays for it, and the source names
the enum, never the string."""

from __future__ import annotations

import re

from sqlalchemy import TextClause, text

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


def statuses(sql: str, **fixed: str) -> TextClause:
    """``text(sql)`` with each ``:name`` in ``fixed`` written as its value, quoted; values are identifiers only
    (statuses and kinds), so nothing written in can be more than a word."""
    for name, value in fixed.items():
        if not _IDENTIFIER.fullmatch(str(value)):
            raise ValueError(f"{name}: only an identifier is written into SQL, not {value!r}")
        sql, found = re.subn(rf":{name}\b", f"'{value}'", sql)
        if not found:
            raise ValueError(f"the statement has no :{name}")
    return text(sql)
