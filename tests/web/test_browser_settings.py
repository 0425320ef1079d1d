"""The Settings screen and a listing's team screen in Chromium, each change checked through the API afterwards."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from models import Telling
from tests.concurrency import wait_until
from tests.mail import Mailbox
from tests.web.conftest import PASSWORD, PHONE, Axe, Served, expect, new_page, shot, sign_up
from tests.web.pages import mailed_link
from workflows.notifications import preferences


def confirm_email(served: Served, mailbox: Mailbox, address: str) -> None:
    token = mailed_link(mailbox.inbox, address, "verify-email")
    served.call("POST", "/auth/verify-email", {}, {"token": token})


def test_settings_change_the_account_end_other_sign_ins_share_the_feed_and_delete_the_account(  # noqa: PLR0915
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    page = new_page(browser, served, "America/New_York")
    sign_up(page, "Ada Lovelace", "ada@example.com")
    # Signing up kept the browser's zone and language: what she is told speaks her time from the start.
    signed_up = served.call("GET", "/me", served.token("ada@example.com"))
    assert (signed_up["timezone"], signed_up["locale"]) == ("America/New_York", page.evaluate("navigator.language"))
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    expect(page.get_by_role("form", name="Account").get_by_label("Timezone")).to_have_value("America/New_York")
    axe.check(page, "settings")

    # Name, timezone, language and region: saved, and the header shows the new name at once.
    account = page.get_by_role("form", name="Account")
    account.get_by_label("Display name").fill("Ada King")
    account.get_by_label("Timezone").select_option("Asia/Tokyo")
    # The locale is chosen as a language (each named in its own words) and a region (named in the reader's).
    expect(account.get_by_label("Language").locator("option", has_text="Français")).to_have_count(1)
    account.get_by_label("Language").select_option("en")
    account.get_by_label("Region").select_option(label="United Kingdom")
    account.get_by_role("button", name="Save account").click()
    expect(account.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator("#account .who")).to_have_text("Ada King")
    ada = served.token("ada@example.com")
    me = served.call("GET", "/me", ada)
    assert (me["display_name"], me["timezone"], me["locale"]) == ("Ada King", "Asia/Tokyo", "en-GB")

    # A new email: a wrong password is refused beside the button; then the link to the new address confirms it.
    email = page.get_by_role("form", name="Change email")
    email.get_by_label("New email").fill("ada@newmail.example")
    email.get_by_label("Current password").fill("not my password")
    email.get_by_role("button", name="Change email").click()
    expect(email.get_by_role("alert")).to_be_visible()
    assert served.call("GET", "/me", ada)["pending_email"] is None
    email.get_by_label("Current password").fill(PASSWORD)
    email.get_by_role("button", name="Change email").click()
    expect(email.get_by_role("status")).to_contain_text("A link is on its way to ada@newmail.example")
    confirm_email(served, mailbox, "ada@newmail.example")
    assert served.call("GET", "/me", ada)["email"] == "ada@newmail.example"

    # The calendar feed: made, its address works; revoked, it answers 404.
    page.get_by_role("button", name="Make a new feed address").click()
    feed_url = page.get_by_label(re.compile("^Your private feed address")).input_value()
    assert re.fullmatch(rf"{re.escape(served.url)}/api/v1/calendar/[\w-]{{43}}\.ics", feed_url), feed_url
    assert httpx.get(feed_url).status_code == 200
    expect(page.get_by_text(re.compile("^Your feed address works"))).to_be_visible()
    page.get_by_role("button", name="Revoke the feed address").click()
    expect(page.get_by_text("The feed address no longer works.")).to_be_visible()
    assert httpx.get(feed_url).status_code == 404
    expect(page.get_by_text("Google Calendar:")).to_be_visible()

    # Another sign-in (a script's) is listed and ended from here: its token stops working.
    other = served.http.post("/api/v1/auth/token", json={"email": "ada@newmail.example", "password": PASSWORD},
                             headers={"User-Agent": "ada-laptop-script/1.0"}).json()
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    page.goto("/#/")
    page.get_by_role("link", name="Settings").click()
    sign_ins = page.get_by_role("region", name="Sign-ins")
    expect(sign_ins.get_by_text("ada-laptop-script/1.0")).to_be_visible()
    expect(sign_ins.get_by_role("listitem").filter(has_text="(this browser)")).to_contain_text("Chrome on Linux")
    expect(page.get_by_text("null")).to_have_count(0)
    shot(page, "settings-01")
    sign_ins.get_by_role("button", name=re.compile("^Sign out ada-laptop-script")).click()
    expect(sign_ins.get_by_role("status")).to_have_text("Signed out there.")
    served.call("GET", "/me", other_headers, status=401)

    # The password: the two new ones must match; then the change keeps this page signed in.
    password = page.get_by_role("form", name="Change password")
    password.get_by_label("Current password").fill(PASSWORD)
    password.get_by_label("New password", exact=True).fill("an even longer passphrase")
    password.get_by_label("New password again").fill("a different one")
    password.get_by_role("button", name="Change password").click()
    expect(password.get_by_role("alert")).to_have_text("The two new passwords differ.")
    password.get_by_label("New password again").fill("an even longer passphrase")
    password.get_by_role("button", name="Change password").click()
    expect(password.get_by_role("status")).to_contain_text("Your password is changed")
    served.call("GET", "/me", ada, status=401)  # the earlier token ended with the change
    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()  # still signed in

    # Deleting the account: confirmed with the password, then signed out, and the account cannot sign in.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Delete my account…").click()
    deletion = page.get_by_role("form", name="Confirm account deletion")
    expect(deletion.get_by_label("Current password")).to_be_focused()
    axe.check(page, "settings, deleting the account")
    deletion.get_by_label("Current password").fill("an even longer passphrase")
    deletion.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    refused = served.http.post("/api/v1/auth/token", json={"email": "ada@newmail.example",
                                                           "password": "an even longer passphrase"})
    assert refused.status_code == 401
    assert page.csp_errors == []
    page.context.close()


def test_a_mentor_edits_the_profile_and_builds_a_listing_team_from_invitation_to_removal(  # noqa: PLR0915
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    grace_page, margaret_page = new_page(browser, served, "UTC"), new_page(browser, served, "UTC")
    sign_up(grace_page, "Grace Hopper", "grace@example.com")
    grace = served.token("grace@example.com")
    served.call("POST", "/mentor-profiles", grace, {"headline": "Compilers", "timezone": "UTC", "skills": ["cobol"]},
                status=201)
    listing = served.call("POST", "/listings", grace, {"title": "COBOL clinic", "skill": "cobol",
                                                       "duration_minutes": 60, "price_cents": 5000}, status=201)
    sign_up(margaret_page, "Margaret Hamilton", "margaret@example.com")
    margaret = served.token("margaret@example.com")
    served.call("POST", "/mentor-profiles", margaret, {"headline": "Flight software", "timezone": "UTC",
                                                       "skills": ["cobol"]}, status=201)
    confirm_email(served, mailbox, "margaret@example.com")  # only confirmed mentors may be invited

    # The profile: headline, bio, skills and timezone, saved from Settings.
    grace_page.reload()
    grace_page.get_by_role("link", name="Settings").click()
    profile = grace_page.get_by_role("form", name="Mentor profile")
    profile.get_by_label("Headline").fill("Compilers and code review")
    profile.get_by_label("Bio").fill("Rear admiral; wrote the first compiler.")
    profile.get_by_label("Skills").fill("cobol, compilers")
    profile.get_by_label("Profile timezone").fill("America/New_York")
    profile.get_by_role("button", name="Save mentor profile").click()
    expect(profile.get_by_role("status")).to_have_text("Mentor profile saved.")
    saved = served.call("GET", f"/mentor-profiles/{served.call('GET', '/me', grace)['mentor_profile_id']}", grace)
    assert (saved["headline"], saved["bio"], saved["skills"], saved["timezone"]) == (
        "Compilers and code review", "Rear admiral; wrote the first compiler.", ["cobol", "compilers"],
        "America/New_York")
    profile.get_by_label("Profile timezone").fill("Mars/Olympus")
    profile.get_by_role("button", name="Save mentor profile").click()
    expect(profile.get_by_role("alert")).to_be_visible()

    # The team: Margaret found by skill and invited; she accepts in her Settings; then removed.
    grace_page.get_by_role("navigation", name="Main").get_by_role("link", name="Mentor setup").click()
    grace_page.get_by_role("link", name="Team of COBOL clinic").click()
    expect(grace_page.get_by_role("heading", level=1, name="Team of “COBOL clinic”")).to_be_visible()
    expect(grace_page.get_by_text("You teach this listing alone.")).to_be_visible()
    grace_page.get_by_role("button", name="Find mentors").click()
    grace_page.get_by_role("button", name="Invite Margaret Hamilton").click()
    team = grace_page.get_by_role("region", name="Who teaches it")
    row = team.get_by_role("listitem").filter(has_text="Margaret Hamilton")
    expect(row).to_contain_text("Invited, not answered yet")
    axe.check(grace_page, "listing team")

    margaret_page.get_by_role("link", name="Settings").click()
    margaret_page.reload()  # she became a mentor over the API: the screen reads her profile again
    invitations = margaret_page.get_by_role("region", name="Team invitations")
    expect(invitations).to_contain_text("Grace Hopper invites you to teach “COBOL clinic”")
    invitations.get_by_role("button", name="Accept the invitation to teach COBOL clinic").click()
    expect(invitations.get_by_role("status")).to_have_text("You teach “COBOL clinic” now.")

    grace_page.reload()
    expect(row).to_contain_text("Teaches")
    expect(team.get_by_role("listitem").filter(has_text="Grace Hopper (you)")).to_contain_text("Teaches")
    shot(grace_page, "settings-02-team")
    members = served.call("GET", f"/listings/{listing['id']}/team", grace)["members"]
    assert [m["display_name"] for m in members] == ["Grace Hopper", "Margaret Hamilton"]
    grace_page.get_by_label("I teach this listing too").uncheck()
    expect(team.get_by_role("status")).to_have_text("You no longer teach this listing; your team does.")
    members = served.call("GET", f"/listings/{listing['id']}/team", grace)["members"]
    assert [m["display_name"] for m in members] == ["Margaret Hamilton"]
    grace_page.get_by_role("button", name="Remove Margaret Hamilton from the team").click()
    expect(team.get_by_role("status")).to_have_text("Margaret Hamilton is off the team.")
    expect(grace_page.get_by_text("You teach this listing alone.")).to_be_visible()
    assert served.call("GET", f"/listings/{listing['id']}/team", grace)["is_team"] is False
    for page in (grace_page, margaret_page):
        assert page.csp_errors == []
        page.context.close()


def test_a_change_of_email_is_cancelled_in_settings_or_from_the_link_to_the_old_address_at_phone_size(
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    page = new_page(browser, served, "UTC", PHONE)
    # A password the lists of breached passwords know is refused, and the page says why.
    page.goto("/#/signup")
    page.get_by_label("Display name").fill("Bo")
    page.get_by_label("Email").fill("bo@example.com")
    page.get_by_label("Password").fill("password1234")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_contain_text("too easy to guess")
    shot(page, "signup-weak-password-phone")
    sign_up(page, "Bo Ng", "bo@example.com")
    confirm_email(served, mailbox, "bo@example.com")
    bo = served.token("bo@example.com")

    def ask(new: str) -> None:
        page.goto("/#/settings")
        email = page.get_by_role("form", name="Change email")
        email.get_by_label("New email").fill(new)
        email.get_by_label("Current password").fill(PASSWORD)
        email.get_by_role("button", name="Change email").click()
        expect(email.get_by_role("status")).to_contain_text(f"A link is on its way to {new}")

    # In settings: the change waiting for confirmation is shown, and cancelled with one button.
    ask("bo@elsewhere.example")
    page.reload()
    expect(page.get_by_text("Waiting for confirmation: bo@elsewhere.example.")).to_be_visible()
    axe.check(page, "settings-pending-email-phone")
    shot(page, "settings-pending-email-phone")
    page.get_by_role("button", name="Cancel this change").click()
    expect(page.get_by_text("The change to bo@elsewhere.example is cancelled")).to_be_visible()
    assert served.call("GET", "/me", bo)["pending_email"] is None

    # From the mail to the address being left: the page changes nothing until its button is pressed.
    ask("bo@taker.example")
    subject = "Your email is being changed"  # the second one: the first link ended when it was sent
    expect_mails = lambda: sum(m["Subject"] == subject for m in mailbox.inbox.to("bo@example.com")) == 2  # noqa: E731
    wait_until(expect_mails, 30, "the second link to the address being left")
    token = mailbox.inbox.link("bo@example.com", "cancel-email-change")
    other = new_page(browser, served, "UTC", PHONE)
    other.goto(f"/#/cancel-email-change?token={token}")
    expect(other.get_by_role("heading", level=1, name="Cancel the change of your email")).to_be_visible()
    assert served.call("GET", "/me", bo)["pending_email"] == "bo@taker.example"
    axe.check(other, "cancel-email-change-phone")
    shot(other, "cancel-email-change-phone")
    other.get_by_role("button", name="Cancel the change of my email").click()
    expect(other.locator("main").get_by_role("status")).to_contain_text("every sign-in has ended")
    served.call("GET", "/me", bo, status=401)
    assert served.call("GET", "/me", served.token("bo@example.com"))["pending_email"] is None


def test_a_person_chooses_how_they_are_told_and_an_emails_link_stops_one_kind_at_phone_size(
        web_server: Served, browser: Any, axe: Axe) -> None:
    served = web_server
    page = new_page(browser, served, "Europe/Paris")
    sign_up(page, "Cy Young", "cy@example.com")
    page.goto("/#/settings")
    telling = page.get_by_role("form", name="How you are told")
    expect(telling.get_by_label("Messages")).to_have_value("now")
    expect(telling.get_by_label("Account security")).to_be_disabled()
    axe.check(page, "settings-telling")
    telling.get_by_label("Messages").select_option(label="Daily digest")
    telling.get_by_label("Reminders before a session").select_option(label="No email")
    telling.get_by_role("button", name="Save how you are told").click()
    expect(telling.get_by_role("status")).to_have_text("Saved.")
    cy = served.token("cy@example.com")
    chosen = {one["kind"]: one["email"] for one in served.call("GET", "/me/notification-preferences", cy)["items"]}
    assert chosen == {"bookings": "now", "reminders": "off", "messages": "daily", "announcements": "now",
                      "programmes": "now", "security": "now"}
    page.reload()
    expect(page.get_by_role("form", name="How you are told").get_by_label("Messages")).to_have_value("daily")
    shot(page, "settings-telling")

    # An email's link, opened on a phone: the page says what it stops and changes nothing until its button.
    me = served.call("GET", "/me", cy)
    token = preferences.unsubscribe_token(uuid.UUID(me["id"]), [Telling.PROGRAMMES])
    phone = new_page(browser, served, "Europe/Paris", PHONE)
    phone.goto(f"/unsubscribe?token={token}")
    expect(phone.get_by_role("heading", level=1, name="Stop these emails?")).to_be_visible()
    assert served.call("GET", "/me/notification-preferences", cy)["items"][4]["email"] == "now"
    axe.check(phone, "unsubscribe-phone")
    shot(phone, "unsubscribe-phone")
    phone.get_by_role("button", name="Stop emails about programme changes").click()
    expect(phone.get_by_role("heading", level=1, name="Emails stopped")).to_be_visible()
    expect(phone.get_by_role("status")).to_contain_text("no longer get emails about programme changes")
    chosen = {one["kind"]: one["email"] for one in served.call("GET", "/me/notification-preferences", cy)["items"]}
    assert (chosen["programmes"], chosen["messages"], chosen["bookings"]) == ("off", "daily", "now")
    phone.goto("/unsubscribe?token=not-a-link")
    expect(phone.get_by_role("alert")).to_contain_text("not valid or has expired")
