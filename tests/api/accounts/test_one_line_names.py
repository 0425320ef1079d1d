"""A person's display name and a programme's name are read inside other people's mails: a line break or another
control character in one would forge lines there. Every route that sets one refuses them with 422 and changes
nothing; an organisation's provider's claims are cleaned instead (a sign-in is never refused for its name)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Programme, User
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, create
from workflows.programmes import rows
from workflows.sign_on.accounts import display_name

FORGED = ["Ada\r\nBcc: everyone@example.com", "Ada\nYour session moved to 3am", "Ada\x0bLovelace", "Ada\u2028Admin",
          "Ada\x1b[31m"]


@pytest.mark.parametrize("name", FORGED)
def test_registration_and_a_profile_change_refuse_a_display_name_of_more_than_one_line(
        client: FlaskClient, db: Session, name: str) -> None:
    registered = client.post("/api/v1/auth/register", json={
        "email": "forged@example.com", "password": "correct horse battery staple", "display_name": name},
        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert registered.status_code == 422, registered.get_json()
    assert "display_name" in registered.get_json()["errors"]["json"]
    assert db.scalar(select(User.id).where(User.email == "forged@example.com")) is None
    me = as_caller(UserFactory(display_name="Ada Lovelace"))
    changed = client.patch("/api/v1/me", json={"display_name": name}, headers=me.headers)
    assert changed.status_code == 422, changed.get_json()
    db.refresh(me.user)
    assert me.user.display_name == "Ada Lovelace"


@pytest.mark.parametrize("name", FORGED[:2])
def test_a_programme_name_of_more_than_one_line_is_refused_at_creation_and_change(
        client: FlaskClient, db: Session, name: str) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    made = client.post(BASE, headers=admin.headers, json={"name": name, "coordinator_user_ids": []})
    assert made.status_code == 422, made.get_json()
    programme = create(client, admin)
    changed = client.patch(f"{BASE}/{programme['id']}", json={"name": name}, headers=admin.headers)
    assert changed.status_code == 422, changed.get_json()
    assert db.scalars(select(Programme.name).where(Programme.id == programme["id"])).one() == "Spring cohort"
    # The words of any script stay welcome.
    fine = client.patch(f"{BASE}/{programme['id']}", json={"name": "Zürich, 東京 cohort"}, headers=admin.headers)
    assert fine.status_code == 200, fine.get_json()


def test_a_provider_s_name_claims_lose_their_line_breaks() -> None:
    assert display_name({"name": "Grace\r\nBcc: x@example.com"}, "g@example.com") == "Grace Bcc: x@example.com"
    assert display_name({"name": "\u2028Grace\u2029Hopper"}, "g@example.com") == "Grace Hopper"


@pytest.mark.parametrize("name", FORGED)
def test_a_name_given_in_an_invitation_is_refused_on_its_own_line(name: str) -> None:
    """A name from a coordinator's list becomes the person's display name when they register without one."""
    sayeh = "\u0633\u0627\u06cc\u200c\u0647"  # Persian, with a zero-width non-joiner
    kept, errors = rows.read_list([{"email": "ada@example.com", "name": name, "role": "mentee"},
                                   {"email": "sayeh@example.com", "name": sayeh, "role": "mentee"}])
    assert [row.email for row in kept] == ["sayeh@example.com"]  # a zero-width non-joiner is part of a name
    assert [(error.line, error.message) for error in errors] == [(1, "the name holds a control character")]


def test_direction_overrides_are_dropped_from_a_name_and_the_joiners_stay(client: FlaskClient, db: Session) -> None:
    me = as_caller(UserFactory(display_name="Ada Lovelace"))
    # An override (U+202E) would turn the rest of the name around in every mail and page that shows it.
    for given, kept in (("Ada \u202egnp.exe", "Ada gnp.exe"), ("\u2066Lin\u2069 Chen\u202a", "Lin Chen"),
                        ("مهسا\u200cی \U0001F469\u200d\U0001F4BB", "مهسا\u200cی \U0001F469\u200d\U0001F4BB")):
        changed = client.patch("/api/v1/me", json={"display_name": given}, headers=me.headers)
        assert changed.status_code == 200, changed.get_json()
        assert changed.get_json()["display_name"] == kept
    only_marks = client.patch("/api/v1/me", json={"display_name": "\u202e\u2067"}, headers=me.headers)
    assert only_marks.status_code == 422  # nothing left: no name
    db.refresh(me.user)
    assert me.user.display_name == "مهسا\u200cی \U0001F469\u200d\U0001F4BB"
