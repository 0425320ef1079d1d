"""Account links in Chromium: a forgotten password reset, and an address confirmed, through the mail a real SMTP
server received from a real worker (the links read out of it)."""

from __future__ import annotations

from typing import Any

from tests.mail import Mailbox
from tests.web.conftest import EXPECT_MS, PASSWORD, PHONE, Axe, Served, expect, new_page, shot, sign_up
from tests.web.pages import mailed_link


def test_a_forgotten_password_is_reset_from_the_sign_in_page(
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe) -> None:
    web_server.register("Katherine Johnson", "katherine@example.com")
    page = new_page(browser, web_server, "UTC")
    page.goto("/#/signin")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    axe.check(page, "forgot-password")
    page.get_by_label("Email").fill("katherine@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#main [role=status]")).to_contain_text("a link to reset its password is on its way")
    shot(page, "account-01-forgot-password")

    token = mailed_link(mailbox.inbox, "katherine@example.com", "reset-password")
    page.goto(f"/#/reset-password?token={token}")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert token not in page.url  # the token leaves the address bar once read
    axe.check(page, "reset-password")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("not the same one")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#main [role=alert]")).to_have_text("The two passwords differ.")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#main [role=status]")).to_contain_text("Your new password is set")
    shot(page, "account-02-new-password-set")

    page.get_by_role("link", name="Sign in with it").click()
    page.get_by_label("Email").fill("katherine@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#main [role=alert]")).to_have_text("Wrong email or password")  # a sentence on a page
    page.get_by_label("Password").fill("a brand new passphrase")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Spent: the page says so at once, asks for no password, and leads to a new link; at phone size too.
    phone = new_page(browser, web_server, "UTC", PHONE)
    for each in (page, phone):
        each.goto(f"/#/reset-password?token={token}")
        expect(each.locator("#main [role=alert]")).to_contain_text("invalid, used or expired")
        expect(each.get_by_label("New password", exact=True)).to_have_count(0)
    axe.check(phone, "phone: a spent reset link")
    shot(phone, "account-03-spent-link-phone")
    phone.get_by_role("link", name="Ask for a new link").click()
    expect(phone.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    phone.context.close()


def test_a_new_account_confirms_its_email_from_the_link(
        mailbox: Mailbox, web_server: Served, browser: Any, axe: Axe) -> None:
    page = new_page(browser, web_server, "UTC")
    sign_up(page, "Dorothy Vaughan", "dorothy@example.com")
    headers = web_server.token("dorothy@example.com")
    assert web_server.call("GET", "/me", headers)["email_verified"] is False
    # Until it is confirmed, every screen says that no email reaches the address.
    banner = page.locator("#notice")
    expect(banner).to_contain_text("Confirm your email (dorothy@example.com): no email reaches you until you do.")
    expect(banner.get_by_role("link", name="Send the link again")).to_have_attribute("href", "#/settings")
    axe.check(page, "a screen with the banner asking to confirm the email")
    token = mailed_link(mailbox.inbox, "dorothy@example.com", "verify-email")
    page.goto(f"/#/verify-email?token={token}")
    expect(page.locator("#main [role=status]")).to_have_text("dorothy@example.com is confirmed. Thank you.")
    expect(banner).to_be_hidden()
    axe.check(page, "verify-email")
    shot(page, "account-03-email-confirmed")
    assert web_server.call("GET", "/me", headers)["email_verified"] is True


def test_swagger_ui_works_under_its_content_security_policy(web_server: Served, browser: Any) -> None:
    page = new_page(browser, web_server, "UTC")
    policy_errors: list[str] = []
    page.on("console", lambda m: policy_errors.append(m.text) if "Policy" in m.text else None)
    answer = page.goto("/api/docs")
    assert answer is not None and "default-src 'none'" in answer.headers["content-security-policy"]
    # Swagger UI renders the whole document (over a hundred operations) in the page's one thread: on a busy
    # machine that takes longer than a screen of the web app, so its steps get longer.
    slow = 4 * EXPECT_MS
    expect(page.get_by_text("/api/v1/auth/token", exact=True).first).to_be_visible(timeout=slow)
    page.get_by_text("/api/v1/auth/token", exact=True).first.click(timeout=slow)  # an operation opens: its script runs
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible(timeout=slow)
    assert page.csp_errors == [] and policy_errors == []


def test_the_skip_link_moves_focus_to_the_screen_and_a_route_change_keeps_focus_on_the_page(
        web_server: Served, browser: Any) -> None:
    """Hashes are routes: the skip link once went to ``#main``, a screen that does not exist; the first
    screen once took the focus past it."""
    page = new_page(browser, web_server, "UTC")
    page.goto("/#/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.endswith("#/signin")
    page.keyboard.press("Tab")  # the next stop is inside the screen, not back in the header
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    page.get_by_role("link", name="Forgot password?").click()  # the link goes with its screen: focus does not
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_focused()


def test_a_reload_and_new_tabs_stay_signed_in_by_an_http_only_cookie_and_signing_out_ends_every_tab(
        web_server: Served, browser: Any) -> None:
    """The access token lives in the page's memory only, the refresh token in a cookie no script reads: a reload
    or a new tab signs in from it, four tabs opening at once too (they renew one at a time)."""
    page = new_page(browser, web_server, "UTC")
    sign_up(page, "Ada Lovelace", "ada@example.com")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "mentorship_refresh"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/api/v1/auth/refresh")
    stored = page.evaluate("() => document.cookie + JSON.stringify({...localStorage, ...sessionStorage})")
    assert "eyJ" not in stored and cookie["value"] not in stored  # no token where a script could read it

    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    tabs = [page.context.new_page() for _ in range(4)]
    for tab in tabs:
        tab.goto("/#/bookings", wait_until="commit")
    for tab in tabs:
        expect(tab.get_by_role("heading", level=1, name="My bookings")).to_be_visible()
        expect(tab.locator("#live")).to_have_text("Live")

    # The cookie cannot be spent from another site's page.
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "mentorship_refresh"]
    forged = web_server.http.post("/api/v1/auth/refresh", json={}, headers={
        "Origin": "https://attacker.example", "Cookie": f"mentorship_refresh={cookie['value']}"})
    assert forged.status_code == 403

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    for tab in tabs:  # told by the first tab, and their tokens stopped working anyway
        expect(tab.get_by_role("heading", name="Sign in")).to_be_visible()
    assert [c for c in page.context.cookies() if c["name"] == "mentorship_refresh"] == []
    fresh = page.context.new_page()
    fresh.goto("/#/bookings")
    expect(fresh.get_by_role("heading", name="Sign in")).to_be_visible()
    page.context.close()
