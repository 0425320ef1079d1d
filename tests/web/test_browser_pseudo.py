"""Every screen in the pseudo-locale (``en-XA``: each text accented, 40% longer and bracketed, dates and numbers in
Japanese formats), at desktop and at phone size, in one browser: no English word left (a text that bypassed the
catalogue), nothing wider than its box or the page, no button's text cut. Then the main paths in Arabic and Japanese,
checked with axe and for overflow at phone size, and in German, whose long words are the widest.

What people wrote is never translated: the people, listings and programmes here are named in Greek, so that an
English word on a screen can only be one of the screens' own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.web.conftest import DESKTOP, PASSWORD, PHONE, Axe, Served, expect, new_page
from tests.web.pages import wait_for_session

# The checks run in the page: English words left, and boxes overflowed (``screen_checks.js``).
CHECKS = (Path(__file__).parent / "screen_checks.js").read_text().replace("export function", "function")
LEFTOVERS = f"() => {{ {CHECKS}; return leftovers(); }}"
OVERFLOWS = f"() => {{ {CHECKS}; return overflows(); }}"


def _world(served: Served, committed: sessionmaker[Session]) -> dict[str, str]:
    """An admin who coordinates a programme and mentors, a booking of theirs become a session, a programme with a
    pair: the paths of the screens that show them."""
    admin = served.register("Ωμέγα Δέλτα", "omega@example.com")
    mentee = served.register("Άλφα Βήτα", "alpha@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "omega@example.com").values(
            is_admin=True, email_verified_at=User.created_at))
    zone = "Europe/Athens"
    served.call("POST", "/mentor-profiles", admin, {"headline": "Μεταγλωττιστές", "timezone": zone,
                                                     "skills": ["πύθων"]}, status=201)
    listing = served.call("POST", "/listings", admin, {"title": "Μάθημα", "skill": "πύθων", "duration_minutes": 60,
                                                       "price_cents": 5000, "currency": "EUR"}, status=201)
    now = datetime.now(UTC)
    window = f"from={(now + timedelta(hours=2)).isoformat()}&to={(now + timedelta(days=2)).isoformat()}"
    slot = served.call("GET", f"/listings/{listing['id']}/slots?{window}".replace("+", "%2B"), admin)["items"][0]
    booking = served.call("POST", "/bookings", mentee, {"listing_id": listing["id"],
                                                        "start_time": slot["start_time"]}, status=201)
    served.call("POST", f"/bookings/{booking['id']}/accept", admin)
    session_id = wait_for_session(served, admin, booking["id"])
    me = served.call("GET", "/me", admin)
    programme = served.call("POST", "/programmes", admin, {"coordinator_user_ids": [me["id"]],
                                                           "name": "Φθινόπωρο", "session_count": 4}, status=201)
    url = f"/programmes/{programme['id']}"
    served.call("POST", f"{url}/open-enrolment", admin)
    expires = (now + timedelta(days=3)).isoformat()
    people = {"mentor": served.register("Γάμμα Ζήτα", "gamma@example.com"), "mentee": mentee}
    for role, headers in people.items():
        link = served.call("POST", f"{url}/join-links", admin, {"role": role, "max_uses": 5, "expires_at": expires},
                           status=201)
        served.call("POST", "/programmes/join", headers, {"token": link["token"]})
    served.call("PUT", f"{url}/intake", people["mentor"], {"answers": [], "windows": [
        {"weekday": day, "start_minute": 0, "end_minute": 1440} for day in range(7)]})
    ids = {p["role"]: p["id"] for p in served.call("GET", f"{url}/participants", admin)["items"]}
    served.call("POST", f"{url}/pairings", admin, {"mentor_participant_id": ids["mentor"],
                                                   "mentee_participant_id": ids["mentee"]}, status=201)
    return {"mentor": f"/mentors/{listing['mentor_profile_id']}", "listing": f"/listings/{listing['id']}",
            "session": f"/sessions/{session_id}", "programme": url}


# Every screen of the web app (``web/js/router.js``), those that need an id given one of the world's.
SCREENS = [
    "/", "{mentor}", "{listing}", "{listing}/team", "/bookings", "/requests", "{session}", "/bundles", "/mentor",
    "/notifications", "/conversations", "/settings", "/programmes", "{programme}", "{programme}/matching",
    "{programme}/report", "/admin", *(f"/admin/{tab}" for tab in ("users", "programmes", "reviews", "disputes",
                                                                  "audit", "webhooks", "outbox", "numbers", "sign-on",
                                                                  "notices")),
]
SIGNED_OUT = ["/signin", "/signup", "/forgot-password", "/reset-password", "/verify-email", "/signed-out",
              "/sign-on/failed", "/join", "/programme-invitation", "/coordinator-invitation", "/booking-link"]


def _shown(page: Any, path: str) -> None:
    """The screen at ``path``, once it has drawn what it loads (its live stream stays open: the network is never
    idle)."""
    page.goto(f"/#{path}")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("[aria-busy=true]:visible")).to_have_count(0)


def _sign_in(page: Any) -> None:
    """The world's admin signs in on the open sign-in screen, whatever its language (its fields by their type)."""
    page.locator("input[type=email]").fill("omega@example.com")
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#account button")).not_to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_screen_in_the_pseudo_locale_keeps_no_english_and_fits(web_server: Served, browser: Any,
                                                                    committed: sessionmaker[Session],
                                                                    viewport: dict[str, int]) -> None:
    paths = _world(web_server, committed)
    page = new_page(browser, web_server, "Europe/Athens", viewport=viewport, locale="en-XA")
    problems: dict[str, list[str]] = {}
    for path in SIGNED_OUT:
        _shown(page, path)
        expect(page.locator("html")).to_have_attribute("lang", "en-XA")
        problems[path] = page.evaluate(LEFTOVERS) + page.evaluate(OVERFLOWS)
    page.goto("/#/signin")
    _sign_in(page)
    for screen in SCREENS:
        path = screen.format(**paths)
        _shown(page, path)
        problems[path] = page.evaluate(LEFTOVERS) + page.evaluate(OVERFLOWS)
    found = {path: said for path, said in problems.items() if said}
    assert not found, "\n".join(f"{path}: {said}" for path, said in found.items())


# The main paths of each person: a visitor signing in, a mentee finding a time, a mentor and coordinator at work.
MAIN_PATHS = ["/", "{listing}", "/bookings", "{session}", "/notifications", "/settings", "/programmes", "{programme}"]


@pytest.mark.parametrize(("locale", "zone", "axe_checked"), [("ar-SA", "Asia/Riyadh", True),
                                                             ("ja-JP", "Asia/Tokyo", True),
                                                             ("de-DE", "Europe/Berlin", False)],
                         ids=["arabic", "japanese", "german"])
def test_the_main_paths_in_arabic_japanese_and_german_fit_a_phone_and_pass_axe(
        web_server: Served, browser: Any, committed: sessionmaker[Session], axe: Axe, locale: str, zone: str,
        axe_checked: bool) -> None:
    """At phone size: nothing wider than its box (German's long words, Japanese without spaces, Arabic right to
    left), and every WCAG A and AA rule of axe holds in Arabic and Japanese."""
    paths = _world(web_server, committed)
    page = new_page(browser, web_server, zone, viewport=PHONE, locale=locale)
    page.goto("/#/signin")
    expect(page.locator("html")).to_have_attribute("lang", locale[:2])
    problems = {"/signin": page.evaluate(OVERFLOWS)}
    if axe_checked:
        axe.check(page, f"signin-{locale}")
    _sign_in(page)
    for screen in MAIN_PATHS:
        path = screen.format(**paths)
        _shown(page, path)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale.startswith("ar") else "ltr")
        problems[path] = page.evaluate(OVERFLOWS)
        if axe_checked:
            axe.check(page, f"{screen.strip('/{}') or 'home'}-{locale}")
    found = {path: said for path, said in problems.items() if said}
    assert not found, "\n".join(f"{path}: {said}" for path, said in found.items())
