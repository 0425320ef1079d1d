"""How a person is told, through the API: their choices per kind, account security locked at once, bad choices
refused with nothing changed; an email's unsubscribe link read without a change (as mail scanners do), used by its
page's button or a mail provider's one-click POST (RFC 8058), and refused when forged."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import EmailChoice, Telling
from tests.factories.accounts import UserFactory, as_caller
from workflows.notifications import preferences

URL = "/api/v1/me/notification-preferences"


def _choices(client: FlaskClient, headers: dict[str, str]) -> dict[str, str]:
    listed = client.get(URL, headers=headers)
    assert listed.status_code == 200, listed.get_json()
    return {one["kind"]: one["email"] for one in listed.get_json()["items"]}


def test_a_person_chooses_how_each_kind_is_emailed(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    assert _choices(client, caller.headers) == dict.fromkeys([kind.value for kind in Telling], "now")
    security = next(one for one in client.get(URL, headers=caller.headers).get_json()["items"]
                    if one["kind"] == "security")
    assert (security["locked"], security["described"]) == (True, "Account security")

    changed = client.put(URL, headers=caller.headers, json={"items": [
        {"kind": "messages", "email": "daily"}, {"kind": "announcements", "email": "off"},
        {"kind": "reminders", "email": "weekly"}]})
    assert changed.status_code == 200, changed.get_json()
    assert _choices(client, caller.headers) == {"bookings": "now", "reminders": "weekly", "messages": "daily",
                                                "announcements": "off", "programmes": "now", "security": "now"}
    for refused, status in (([{"kind": "security", "email": "off"}, {"kind": "bookings", "email": "off"}], 400),
                            ([{"kind": "gossip", "email": "off"}], 422),
                            ([{"kind": "bookings", "email": "hourly"}], 422), ([], 422), ([{"kind": "bookings"}], 422)):
        answer = client.put(URL, headers=caller.headers, json={"items": refused})
        assert answer.status_code == status, (refused, answer.get_json())
    assert _choices(client, caller.headers)["bookings"] == "now"  # nothing half-written
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={"items": [{"kind": "bookings", "email": "off"}]}).status_code == 401


def test_an_unsubscribe_link_changes_nothing_when_read_and_stops_its_kind_when_used(client: FlaskClient,
                                                                                 db: Session) -> None:
    user = UserFactory()
    token = preferences.unsubscribe_token(user.id, [Telling.MESSAGES])
    read = client.get("/api/v1/unsubscribe", query_string={"token": token})
    assert read.status_code == 200
    assert read.get_json() == {"kinds": ["messages"], "described": "messages", "off": False}
    page = client.get("/unsubscribe", query_string={"token": token})
    assert page.status_code == 200 and "Stop emails about messages" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert preferences.chosen(db, user.id)[Telling.MESSAGES] == EmailChoice.NOW  # opening it changed nothing

    # A mail provider's one-click POST, as RFC 8058 sends it: no cookie, the form body, the link's address.
    done = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Emails stopped" in done.get_data(as_text=True)
    assert preferences.chosen(db, user.id)[Telling.MESSAGES] == EmailChoice.OFF
    assert preferences.chosen(db, user.id)[Telling.BOOKINGS] == EmailChoice.NOW  # that kind only
    again = client.post("/api/v1/unsubscribe", query_string={"token": token})
    assert again.status_code == 200 and again.get_json()["off"] is True

    security = preferences.unsubscribe_token(user.id, [Telling.SECURITY])
    for bad in ("nonsense", token[:-4] + "AAAA", "x" * 5000, security):
        assert client.post("/unsubscribe", query_string={"token": bad}).status_code == 400
        assert client.post("/api/v1/unsubscribe", query_string={"token": bad}).status_code == 422
        assert client.get("/api/v1/unsubscribe", query_string={"token": bad}).status_code == 422
    assert client.post("/api/v1/unsubscribe").status_code == 422
