"""A programme's lists at any size: participants, invitations and pairings paged, searched and filtered by the
database (a search's ``%`` taken as typed, an address searched only by those who run it), and the enrolment funnel,
whose counts are the lengths of the participants' list filtered by each step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Pairing
from models.reports import PairingTally
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme


def _all(client: FlaskClient, caller: Caller, url: str, **query: Any) -> list[dict[str, Any]]:
    """Every item of a list, read two at a time through its cursors."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(url, headers=caller.headers, query_string={"limit": 2, **query,
                                                                     **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.get_json()
        items += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            return items


def _person(name: str, email: str) -> Caller:
    return as_caller(UserFactory(display_name=name, email=email, timezone="Europe/Berlin"))


def _cohort(client: FlaskClient) -> tuple[Caller, dict[str, Any], dict[str, tuple[Caller, str]]]:
    coordinator, programme = running_programme(client)
    people = {
        "ada": joined(client, coordinator, programme, "mentor", person=_person("Ada Okafor", "ada@north.example")),
        "lin": joined(client, coordinator, programme, "mentor", person=_person("Lin Chen", "lin@south.example")),
        "zoe": joined(client, coordinator, programme, "mentee", person=_person("Zoë Müller", "zoe@north.example")),
        "sam": joined(client, coordinator, programme, "mentee", person=_person("Sam 100% Ready", "sam@west.example")),
        "kim": joined(client, coordinator, programme, "mentee", person=_person("Kim Park", "kim@west.example")),
    }
    return coordinator, programme, people


def test_participants_are_found_by_name_or_address_page_by_page(client: FlaskClient, db: Session) -> None:
    coordinator, programme, people = _cohort(client)
    url = f"{BASE}/{programme['id']}/participants"
    everyone = _all(client, coordinator, url)
    assert len(everyone) == 5 and len({p["id"] for p in everyone}) == 5  # pages neither skip nor repeat
    assert {p["display_name"] for p in _all(client, coordinator, url, q="north")} == {"Ada Okafor", "Zoë Müller"}
    assert {p["display_name"] for p in _all(client, coordinator, url, q="north", role="mentee")} == {"Zoë Müller"}
    assert [p["display_name"] for p in _all(client, coordinator, url, q="ZOË")] == ["Zoë Müller"]
    assert [p["display_name"] for p in _all(client, coordinator, url, q="100%")] == ["Sam 100% Ready"]
    assert _all(client, coordinator, url, q="_") == []  # a wildcard is a character, as typed
    # A participant finds the others by name, never by their address (which they cannot read).
    zoe = people["zoe"][0]
    assert [p["display_name"] for p in _all(client, zoe, url, q="Okafor")] == ["Ada Okafor"]
    assert _all(client, zoe, url, q="north.example") == []
    assert client.get(url, headers=zoe.headers, query_string={"step": "matched"}).status_code == 403
    too_long = client.get(url, headers=coordinator.headers, query_string={"q": "x" * 201})
    assert too_long.status_code == 422


def test_invitations_and_pairings_are_found_by_name(client: FlaskClient, db: Session) -> None:
    coordinator, programme, people = _cohort(client)
    base = f"{BASE}/{programme['id']}"
    invited = client.post(f"{base}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": "ravi@east.example", "name": "Ravi Shah", "role": "mentee"},
        {"email": "noor@east.example", "name": "Noor Ali", "role": "mentor"}]})
    assert invited.status_code == 200, invited.get_json()
    assert [i["email"] for i in _all(client, coordinator, f"{base}/invitations", q="Ravi")] == ["ravi@east.example"]
    assert len(_all(client, coordinator, f"{base}/invitations", q="east.example", status="pending")) == 2
    for mentor, mentee in (("ada", "zoe"), ("lin", "sam")):
        made = client.post(f"{base}/pairings", headers=coordinator.headers, json={
            "mentor_participant_id": people[mentor][1], "mentee_participant_id": people[mentee][1]})
        assert made.status_code == 201, made.get_json()
    found = _all(client, coordinator, f"{base}/pairings", q="müller")
    assert [(p["mentor_name"], p["mentee_name"]) for p in found] == [("Ada Okafor", "Zoë Müller")]
    assert [p["mentee_name"] for p in _all(client, coordinator, f"{base}/pairings", q="Lin")] == ["Sam 100% Ready"]


def test_each_count_of_the_funnel_is_the_list_of_its_step(client: FlaskClient, db: Session) -> None:
    coordinator, programme, people = _cohort(client)
    base = f"{BASE}/{programme['id']}"
    assert client.post(f"{base}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": "ravi@east.example", "role": "mentee"}]}).status_code == 200
    made = {}
    for mentor, mentee in (("ada", "zoe"), ("lin", "sam")):
        answer = client.post(f"{base}/pairings", headers=coordinator.headers, json={
            "mentor_participant_id": people[mentor][1], "mentee_participant_id": people[mentee][1]})
        assert answer.status_code == 201, answer.get_json()
        made[mentee] = answer.get_json()["id"]
    # Ada accepted Zoë (her pairing meets) and they held a session, as the programme's numbers record it.
    pairing = db.get(Pairing, made["zoe"])
    assert pairing is not None
    pairing.status = "active"
    db.merge(PairingTally(pairing_id=pairing.id, programme_id=pairing.programme_id, status="active",
                          paired_at=datetime.now(UTC), held=1, first_held_at=datetime.now(UTC)))
    db.flush()
    funnel = client.get(f"{base}/funnel", headers=coordinator.headers)
    assert funnel.status_code == 200, funnel.get_json()
    rows = {row["role"]: row for row in funnel.get_json()["roles"]}
    # Mentees: Zoë, Sam, Kim joined (Kim's intake asks nothing: done), Ravi invited; Zoë and Sam matched.
    assert rows["mentee"] == {"role": "mentee", "invited": 4, "joined": 3, "intake_done": 3, "matched": 2,
                              "meeting": 1, "met": 1}
    assert rows["mentor"] == {"role": "mentor", "invited": 2, "joined": 2, "intake_done": 2, "matched": 2,
                              "meeting": 1, "met": 1}
    for step in ("intake_done", "matched", "meeting", "met"):
        for role in ("mentee", "mentor"):
            listed = _all(client, coordinator, f"{base}/participants", step=step, role=role, status="active")
            assert len(listed) == rows[role][step], (step, role)
    unpaired = _all(client, coordinator, f"{base}/participants", step="unpaired", status="active")
    assert [p["display_name"] for p in unpaired] == ["Kim Park"]
    # Only those who run the programme read its funnel.
    assert client.get(f"{base}/funnel", headers=people["zoe"][0].headers).status_code == 403
    assert client.get(f"{base}/funnel", headers=as_caller(UserFactory()).headers).status_code == 404
