"""``MAX_INVITATIONS``: the invitations one programme keeps, of every status (pending, accepted, declined, withdrawn,
expired); an upload or a list that would pass it is refused whole, naming the cap and the count, and invites no one."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import ProgrammeInvitation
from tests.factories.programmes import BASE, running_programme


def _invite(client: FlaskClient, headers: dict[str, str], programme_id: str, *emails: str) -> TestResponse:
    return client.post(f"{BASE}/{programme_id}/invitations", headers=headers, json={
        "invitees": [{"email": email, "role": "mentee"} for email in emails]})


def test_a_programme_keeps_at_most_max_invitations_of_any_status(
        client: FlaskClient, db: Session, configure: Callable[..., None]) -> None:
    configure(MAX_INVITATIONS="3")
    coordinator, programme = running_programme(client)
    first = _invite(client, coordinator.headers, programme["id"], "a@example.com", "b@example.com")
    assert first.status_code == 200, first.get_json()
    invitation = db.scalars(select(ProgrammeInvitation.id).where(
        ProgrammeInvitation.programme_id == programme["id"])).first()
    withdrawn = client.post(f"{BASE}/{programme['id']}/invitations/{invitation}/withdraw", headers=coordinator.headers)
    assert withdrawn.status_code == 200, withdrawn.get_json()
    refused = _invite(client, coordinator.headers, programme["id"], "c@example.com", "d@example.com")
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "a programme keeps at most 3 invitations; it has 2"
    assert db.scalar(select(func.count()).select_from(ProgrammeInvitation).where(
        ProgrammeInvitation.programme_id == programme["id"])) == 2
    assert _invite(client, coordinator.headers, programme["id"], "c@example.com").status_code == 200


def test_addresses_already_invited_do_not_count_towards_max_invitations(
        client: FlaskClient, db: Session, configure: Callable[..., None]) -> None:
    """As docs/configuration.md says: rows passed over (already invited or taking part) do not count, so the same list
    uploaded again at the cap is answered with them passed over, not refused."""
    configure(MAX_INVITATIONS="3")
    coordinator, programme = running_programme(client)
    assert _invite(client, coordinator.headers, programme["id"], "a@example.com", "b@example.com").status_code == 200
    again = _invite(client, coordinator.headers, programme["id"], "a@example.com", "b@example.com", "c@example.com")
    assert again.status_code == 200, again.get_json()
    assert db.scalar(select(func.count()).select_from(ProgrammeInvitation).where(
        ProgrammeInvitation.programme_id == programme["id"])) == 3
    refused = _invite(client, coordinator.headers, programme["id"], "a@example.com", "d@example.com")
    assert refused.status_code == 400, refused.get_json()
