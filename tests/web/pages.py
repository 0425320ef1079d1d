"""What the browser tests share: finding a listing and its slots, a live redraw, a bookable listing, a mailed link.

Fixtures and the browser itself are ``conftest.py``'s."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.mail import Inbox
from tests.web.conftest import PASSWORD, Served, expect

LIVE_MS = 1500  # a change made elsewhere shows within this, without a reload

# Pixels of a colour on a canvas (its RGB within 8 of each channel): the bars drawn, seen from the page.
PAINTED = """([canvas, rgb]) => {
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let found = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 200 && rgb.every((c, k) => Math.abs(data[i + k] - c) <= 8)) found += 1;
  }
  return found;
}"""


def rerendered(page: Any, selector: str) -> None:
    """Send the page's live stream a ``reset`` frame, and wait until the screen's ``selector`` is drawn anew."""
    page.locator(selector).first.evaluate("(el) => { el.dataset.old = '1'; }")
    page.route("**/api/v1/events/stream*", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body="event: reset\ndata: {}\n\n"), times=1)
    page.evaluate("import('/web/js/live.js').then((m) => m.live.reconnect())")
    expect(page.locator(f"{selector}[data-old]")).to_have_count(0)
    expect(page.locator(selector).first).to_be_visible()


def sign_in(page: Any, email: str) -> None:
    """Sign in through the web app's form (an account made over the API), and wait until it has."""
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()


def open_listing(page: Any, title: str, skill: str) -> None:
    page.get_by_role("link", name="Mentors", exact=True).click()
    page.get_by_label("Skill").fill(skill)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def slot_button(page: Any, start: datetime) -> Any:
    """The slot starting at ``start`` (local), its day's tab chosen first if another day is shown."""
    region = page.get_by_role("region", name="Free slots")
    expect(region.get_by_role("tablist", name="Days")).to_be_visible()
    day = f"{start:%a} {start.day} {start:%b}"  # en-GB: "Mon 23 Nov"
    tab = region.get_by_role("tab", name=re.compile(f"^{day} · "))
    if tab.count() and tab.get_attribute("aria-selected") != "true":
        tab.click()
    # The name starts with the local start time, and ends with the day.
    # Another year's day names its year.
    return region.get_by_role("button", name=re.compile(f"^{start:%H:%M}.*, {day}( \\d{{4}})?$"))


def clinic(served: Served, zone: str, *, bundle_of: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grace's one-to-one listing, bookable at any time, with its free slots of the next two days."""
    grace = served.register("Grace Hopper", "grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": zone, "skills": ["cobol"]},
                status=201)
    listing = served.call("POST", "/listings", grace, {"title": "COBOL clinic", "skill": "cobol",
                                                       "duration_minutes": 60, "price_cents": 5000, "currency": "USD"},
                          status=201)
    if bundle_of:
        served.call("POST", f"/listings/{listing['id']}/bundles", grace,
                    {"sessions_count": bundle_of, "price_cents": 12000, "valid_days": 30}, status=201)
    now = datetime.now(UTC)
    window = f"from={(now + timedelta(hours=2)).isoformat()}&to={(now + timedelta(days=2)).isoformat()}"
    slots = served.call("GET", f"/listings/{listing['id']}/slots?{window}".replace("+", "%2B"), grace)["items"]
    return listing, slots


def local(slot: dict[str, Any], zone: str) -> datetime:
    return datetime.fromisoformat(slot["start_time"]).astimezone(ZoneInfo(zone))


MAIL_WAIT_S = 20


def mailed_link(inbox: Inbox, address: str, route: str, label: str = "") -> str:
    """The token of the newest ``route`` link (on a line starting ``label``) the worker mailed to ``address``, waiting
    for it."""
    deadline = time.monotonic() + MAIL_WAIT_S
    while True:
        try:
            return inbox.link(address, route, label)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_for_session(served: Served, headers: dict[str, str], booking_id: str) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        session_id = served.call("GET", f"/bookings/{booking_id}", headers)["session_id"]
        if session_id:
            return str(session_id)
        time.sleep(0.1)
    raise AssertionError("the worker never made the session")


def open_settings(page: Any) -> None:
    """Unfold a programme's settings (what its pairings agree, its intake forms): a panel of their own."""
    page.locator("details.settings > summary").click()



def katherines_programme(served: Served, committed: sessionmaker[Session], **body: Any) -> tuple[dict[str, str], str]:
    """Mary Jackson, an admin, makes a programme (``body``: its name and settings) that Katherine Johnson coordinates
    (her address confirmed, as a coordinator's must be), taking participants: Katherine's headers and its path."""
    admin = served.register("Mary Jackson", "mary@example.com")
    coordinator = served.register("Katherine Johnson", "katherine@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
        db.execute(update(User).where(User.email == "katherine@example.com").values(
            email_verified_at=User.created_at))
    me = served.call("GET", "/me", coordinator)
    programme = served.call("POST", "/programmes", admin, {"coordinator_user_ids": [me["id"]], **body}, status=201)
    url = f"/programmes/{programme['id']}"
    served.call("POST", f"{url}/open-enrolment", coordinator)
    return coordinator, url


def paired_programme(served: Served, committed: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, Any], str,
                                                                             dict[str, Any]]:
    """Katherine's "Autumn cohort" (four sessions), where Dorothy Vaughan (a mentor, free at every hour) and Lin Chen
    (a mentee) joined by link and she paired them: her headers, their headers by role, its path and the pairing."""
    coordinator, url = katherines_programme(served, committed, name="Autumn cohort", session_count=4)
    people: dict[str, Any] = {}
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for name, email, role in (("Dorothy Vaughan", "dorothy@example.com", "mentor"),
                              ("Lin Chen", "lin@example.com", "mentee")):
        people[role] = served.register(name, email)
        link = served.call("POST", f"{url}/join-links", coordinator,
                           {"role": role, "max_uses": 5, "expires_at": expires}, status=201)
        served.call("POST", "/programmes/join", people[role], {"token": link["token"]})
    served.call("PUT", f"{url}/intake", people["mentor"], {"answers": [], "windows": [
        {"weekday": day, "start_minute": 0, "end_minute": 1440} for day in range(7)]})
    ids = {p["role"]: p["id"] for p in served.call("GET", f"{url}/participants", coordinator)["items"]}
    made = served.call("POST", f"{url}/pairings", coordinator, {
        "mentor_participant_id": ids["mentor"], "mentee_participant_id": ids["mentee"]}, status=201)
    return coordinator, people, url, made


def post_announcement(page: Any, audience: str, title: str, words: str) -> Any:
    """A coordinator posts an announcement from the programme page shown (``audience``: the To list's label); its
    composer."""
    composer = page.get_by_role("form", name="New announcement")
    composer.get_by_label("To").select_option(label=audience)
    composer.get_by_label("Title").fill(title)
    composer.get_by_label("Announcement").fill(words)
    composer.get_by_role("button", name="Post the announcement").click()
    return composer


def write_first_message(page: Any, path: str, button: str, words: str) -> None:
    """From the page at ``path``, open a conversation by its button (``button``: "Message Dorothy Vaughan") and write
    its first message with Enter; wait until it is shown."""
    page.goto(f"/#{path}")
    page.get_by_role("button", name=button).click()
    box = page.get_by_label("Message", exact=True)
    box.fill(words)
    box.press("Enter")
    expect(page.get_by_role("log").locator("li")).to_have_count(1)
