"""Two-step sign-in in Chromium. At desktop size a mentee adds an authenticator app in Settings (its QR code and key),
keeps the recovery codes shown once, and signs in again with a code of the app; the mail she receives says so. At phone
size an admin requires a second step of a university's domain on the console's Sign-on screen; a student of it signs
in with her password, sets up her app inside the sign-in, keeps her codes, and later signs in with a recovery code.
A security key (Chromium's virtual authenticator, the service at ``localhost``) is added in Settings and signs in;
forged answers are refused. Every screen passes axe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port
from models import SecurityKey, User
from tests.concurrency import wait_until
from tests.mail import Mailbox
from tests.web.conftest import PASSWORD, PHONE, Axe, Served, expect, new_page, serving_web, shot, sign_up
from tests.web.pages import mailed_link, sign_in


def code_after(secret: str, steps: int) -> str:
    """The code of the step ``steps`` after now: a code already used (the confirmation's) never counts again."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps))


def password_sign_in(page: Any, email: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Second step")).to_be_visible()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out", exact=True, include_hidden=True).dispatch_event("click")
    expect(page.get_by_role("button", name="Sign out", exact=True, include_hidden=True)).to_have_count(0)


def test_a_mentee_adds_an_authenticator_and_signs_in_with_its_code(mailbox: Mailbox, web_server: Served,
                                                                    browser: Any, axe: Axe) -> None:
    page = new_page(browser, web_server, "Europe/Paris")
    sign_up(page, "Ada Lovelace", "ada@example.com")
    # Her address confirmed from its mail: a security notice goes to a confirmed address only.
    web_server.call("POST", "/auth/verify-email", {}, {"token": mailed_link(mailbox.inbox, "ada@example.com",
                                                                             "verify-email")})
    page.get_by_role("link", name="Settings").click()
    section = page.get_by_role("region", name="Second step")
    expect(section.get_by_text("No authenticator yet: a password alone signs you in.")).to_be_visible()
    section.get_by_label("Name").fill("My phone")
    section.get_by_role("button", name="Add an authenticator app").click()
    check = section.get_by_role("form", name="Confirm the authenticator")
    qr = check.get_by_role("img", name="QR code of your authenticator key")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    secret = check.locator("code.key").inner_text().replace(" ", "")
    assert check.get_by_role("link", name="Open in an authenticator app on this device").get_attribute("href") \
        .startswith("otpauth://totp/")
    axe.check(page, "settings: an authenticator's key")
    check.get_by_label("Code from your authenticator app").fill(code_after(secret, 0))
    check.get_by_role("button", name="Confirm").click()
    codes = page.get_by_role("region", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10)
    expect(section.get_by_text("My phone")).to_be_visible()
    expect(section.get_by_text("You have 10 recovery codes left.")).to_be_visible()
    axe.check(page, "settings: recovery codes shown once")
    shot(page, "second-step-01-recovery-codes")

    sign_out(page)
    password_sign_in(page, "ada@example.com")
    axe.check(page, "sign-in: the second step")
    page.get_by_label("Code from your authenticator app").fill("000000" if code_after(secret, 1) != "000000"
                                                               else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.get_by_label("Code from your authenticator app").fill(code_after(secret, 1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    wait_until(lambda: any("Authenticator added" in str(message["Subject"])
                           for message in mailbox.inbox.to("ada@example.com")), 30, "the security notice's mail")
    mail = next(m for m in mailbox.inbox.to("ada@example.com") if "Authenticator added" in str(m["Subject"]))
    text = next(part.get_payload(decode=True).decode() for part in mail.walk()
                if part.get_content_type() == "text/plain")
    assert "The authenticator “My phone” now signs in to your account as a second step." in text


def test_an_admin_requires_it_of_a_domain_and_a_student_sets_it_up_at_sign_in_then_recovers(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    web_server.register("Mary Jackson", "mary@example.com")
    web_server.register("Sofia Student", "sofia@uni.example.edu")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    admin = new_page(browser, web_server, "UTC", PHONE)
    sign_in(admin, "mary@example.com")
    admin.goto("/#/admin/sign-on")
    rule = admin.get_by_role("form", name="Second step for password sign-ins")
    rule.get_by_label("Required of these email domains").fill("uni.example.edu")
    rule.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Saved: where a second step is required.")).to_be_visible()
    axe.check(admin, "admin: where a second step is required (phone)")

    page = new_page(browser, web_server, "Europe/Madrid", PHONE)
    password_sign_in(page, "sofia@uni.example.edu")
    expect(page.get_by_text("Your organisation asks for a second step")).to_be_visible()
    secret = page.locator("code.key").inner_text().replace(" ", "")
    axe.check(page, "sign-in: setting up the second step (phone)")
    shot(page, "second-step-02-set-up-at-sign-in-phone")
    page.get_by_label("Code from your authenticator app").fill(code_after(secret, 0))
    page.get_by_role("button", name="Sign in").click()
    codes = page.get_by_role("region", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10)
    kept = codes.first.inner_text()
    page.get_by_role("button", name="I have kept them: go on").click()
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    # The phone is lost: a recovery code signs her in, once.
    sign_out(page)
    password_sign_in(page, "sofia@uni.example.edu")
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(kept)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    page.goto("/#/settings")
    expect(page.get_by_text("You have 9 recovery codes left.")).to_be_visible()
    expect(page.get_by_text("Your organisation requires a second step when you sign in")).to_be_visible()


def test_a_security_key_is_added_in_settings_and_signs_in(browser: Any, axe: Axe, committed: sessionmaker[Session],
                                                          configure: Callable[..., None]) -> None:
    """A relying party is a host name, never an IP address: the service and the page are at ``localhost``."""
    port = free_port()
    configure(PUBLIC_URL=f"http://localhost:{port}")
    with serving_web(committed, port) as served:
        served.register("Kofi Mensah", "kofi@example.com")
        context = browser.new_context(base_url=f"http://localhost:{port}", timezone_id="Africa/Accra", locale="en-GB")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": False,
            "automaticPresenceSimulation": True}})
        page.goto("/#/signin")
        page.get_by_label("Email").fill("kofi@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Settings").click()
        section = page.get_by_role("region", name="Second step")
        section.get_by_label("Name").fill("Blue key")
        section.get_by_role("button", name="Add a security key").click()
        expect(page.get_by_role("region", name="Recovery codes").locator("li")).to_have_count(10)
        expect(section.get_by_text("Blue key")).to_be_visible()
        axe.check(page, "settings: a security key")

        sign_out(page)
        password_sign_in(page, "kofi@example.com")
        expect(page.get_by_text("Use your security key, or one of your recovery codes.")).to_be_visible()
        axe.check(page, "sign-in: a security key's second step")
        page.get_by_role("button", name="Use your security key").click()
        expect(page.get_by_role("button", name="Sign out", exact=True, include_hidden=True)).to_be_attached()
        with committed() as db:
            used = db.scalars(select(SecurityKey.last_used_at).join(User, User.id == SecurityKey.user_id)
                              .where(User.email == "kofi@example.com")).all()
        assert len(used) == 1 and used[0] is not None

        # Hostile answers: a made-up signature, and a key of no one, each refused and counted; nothing signs in.
        due = served.http.post("/api/v1/auth/token", json={"email": "kofi@example.com", "password": PASSWORD}).json()
        assert due["second_step"]["methods"] == ["webauthn", "recovery_code"]
        allowed = due["second_step"]["webauthn"]["allowCredentials"][0]["id"]
        for forged in ({"id": allowed, "rawId": allowed, "type": "public-key", "response": {
                            "clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"}},
                       {"id": "bm9ib2R5", "rawId": "bm9ib2R5", "type": "public-key", "response": {}}):
            refused = served.http.post("/api/v1/auth/token/second-step",
                                       json={"challenge": due["second_step"]["challenge"], "webauthn": forged})
            assert (refused.status_code, refused.json()["reason"]) == (401, "second_step_failed")
        context.close()
