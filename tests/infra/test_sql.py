"""Raw SQL with fixed values (``infra/sql.py``): an enum's value is written in once, as a quoted word; anything that
is not a word, or a name the statement lacks, is refused."""

from __future__ import annotations

import pytest

from infra.sql import statuses
from models import BookingStatus


def test_a_status_is_written_in_as_its_literal() -> None:
    built = statuses("SELECT 1 FROM bookings WHERE status = :accepted AND id <> :booking",
                     accepted=BookingStatus.ACCEPTED)
    assert built.text == "SELECT 1 FROM bookings WHERE status = 'accepted' AND id <> :booking"
    assert set(built._bindparams) == {"booking"}


@pytest.mark.parametrize("value", ["accepted' OR '1'='1", "Accepted", "", "a b"])
def test_only_a_word_is_written_into_sql(value: str) -> None:
    with pytest.raises(ValueError, match="only an identifier"):
        statuses("SELECT 1 WHERE status = :status", status=value)


def test_a_name_the_statement_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="no :draft"):
        statuses("SELECT 1 WHERE status = :accepted", draft=BookingStatus.DRAFT, accepted=BookingStatus.ACCEPTED)
