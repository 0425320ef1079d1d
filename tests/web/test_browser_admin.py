"""The admin console in Chromium, at desktop and phone size: an administrator finds a user, disables their account
with a reason (their sign-in is refused), reads it in the audit log, and enables it again; every screen of the
console passes axe; she posts a notice to everyone, which the workers tell each account; anyone else who opens it
reads that it is for administrators only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import User, WebhookEndpoint, WebhookMessage
from tests.web.conftest import DESKTOP, PASSWORD, PHONE, Axe, Served, expect, new_page, shot
from tests.web.pages import sign_in

SCREENS = [("programmes", "Programmes", "Programmes and their coordinators"), ("reviews", "Reviews", "Reviews"),
           ("disputes", "Disputes", "Attendance disputes"),
           ("webhooks", "Webhooks", "Webhook endpoints and their failures"), ("outbox", "Outbox", "Outbox backlog"),
           ("numbers", "Numbers", "Platform numbers")]


def people(served: Served, committed: sessionmaker[Session]) -> None:
    """An administrator, the user they act on, and a webhook endpoint of that user's that keeps failing."""
    served.register("Mary Jackson", "mary@example.com")
    served.register("Grace Hopper", "grace@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    served.call("POST", "/programmes", served.token("mary@example.com"), {"name": "Spring cohort"}, status=201)
    with committed() as db, db.begin():
        owner = db.scalars(select(User.id).where(User.email == "grace@example.com")).one()
        endpoint = WebhookEndpoint(id=uuid.uuid4(), owner_user_id=owner, url="https://hooks.example.com/in",
                                   secret="whsec_" + "A" * 44, event_types=["*"], consecutive_failures=6,
                                   failing_since=datetime.now(UTC) - timedelta(hours=5))
        db.add(endpoint)
        db.flush()
        db.add(WebhookMessage(id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint.id, event_type="booking.accepted",
                              payload={}, status="failed", attempts=8, last_status_code=502))


def open_section(page: Any, label: str, heading: str) -> None:
    menu = page.get_by_role("navigation", name="Admin console")
    menu.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_disables_a_user_reads_it_in_the_audit_and_enables_them(
        web_server: Served, browser: Any, axe: Axe, committed: sessionmaker[Session], size: str) -> None:
    people(web_server, committed)
    page = new_page(browser, web_server, "UTC", PHONE if size == "phone" else DESKTOP)
    sign_in(page, "mary@example.com")
    if size == "phone":
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Users")).to_be_visible()
    page.get_by_label("Name or email contains").fill("grace")
    page.get_by_role("button", name="Search").click()
    grace = page.locator("#main li", has_text="grace@example.com")
    expect(grace).to_have_count(1)
    grace.get_by_role("button", name="Disable…").click()
    asked = page.get_by_role("group", name="Disable Grace Hopper (grace@example.com)")
    expect(asked).to_contain_text("signed out everywhere at once")
    asked.get_by_role("button", name="Disable the account").click()
    expect(asked.get_by_role("alert")).to_contain_text("Give a reason")
    asked.get_by_label("Reason (kept in the audit log)").fill("Repeated abusive messages")
    axe.check(page, f"{size}: admin users, disabling asked with a reason")
    shot(page, f"admin-01-users-disabling-{size}")
    asked.get_by_role("button", name="Disable the account").click()
    expect(page.locator("#main [role=status]")).to_have_text("Grace Hopper\u2019s account is disabled.")
    expect(grace).to_contain_text("Disabled")
    expect(grace).to_contain_text("Repeated abusive messages")
    refused = web_server.http.post("/api/v1/auth/token", json={"email": "grace@example.com", "password": PASSWORD})
    assert refused.status_code == 403

    grace.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    done = page.get_by_role("region", name="What administrators did")
    expect(done).to_contain_text("Disabled: Grace Hopper (grace@example.com)")
    expect(done).to_contain_text("“Repeated abusive messages”")
    expect(done).to_contain_text("by Mary Jackson (mary@example.com)")
    expect(page.get_by_role("region", name="Sign-ins and account changes")).to_contain_text("Signed in")
    axe.check(page, f"{size}: admin audit log of one account")
    shot(page, f"admin-02-audit-{size}")

    open_section(page, "Users", "Users")
    page.get_by_label("Who").select_option(label="Disabled accounts")
    page.get_by_role("button", name="Search").click()
    grace.get_by_role("button", name="Enable…").click()
    page.get_by_label("Reason (kept in the audit log)").fill("Cleared after review")
    page.get_by_role("button", name="Enable the account").click()
    expect(page.locator("#main [role=status]")).to_have_text("Grace Hopper\u2019s account is enabled.")
    assert web_server.http.post("/api/v1/auth/token", json={"email": "grace@example.com", "password": PASSWORD}
                                ).status_code == 200
    for path, label, heading in SCREENS:
        open_section(page, label, heading)
        expect(page.locator("#main .loading:visible")).to_have_count(0)
        axe.check(page, f"{size}: admin {path}")
        shot(page, f"admin-03-{path}-{size}")
    _mary_posts_a_notice(page, web_server, size, axe)
    assert page.csp_errors == []
    page.context.close()


def _mary_posts_a_notice(page: Any, served: Served, size: str, axe: Axe) -> None:
    """A notice to everyone: the workers tell every account but its author's (Grace)."""
    open_section(page, "Notices", "Notices to everyone")
    composer = page.get_by_role("form", name="New notice to everyone")
    composer.get_by_label("Title").fill("Maintenance on Sunday")
    composer.get_by_label("Announcement").fill("The service is away from 06:00 to 06:30 UTC.")
    composer.get_by_role("button", name="Post the notice").click()
    listed = page.locator(".announcements li", has_text="Maintenance on Sunday")
    expect(listed).to_contain_text("to everyone")
    expect(listed).to_contain_text("told 1", timeout=30_000)  # Grace: its author is not told her own
    axe.check(page, f"{size}: admin notices, one posted")
    shot(page, f"admin-04-notices-{size}")
    told = served.call("GET", "/notifications?limit=20", served.token("grace@example.com"))["items"]
    assert [n["title"] for n in told if "Maintenance" in n["title"]] == ["Notice: Maintenance on Sunday"]


def test_anyone_else_reads_that_the_console_is_for_administrators(
        web_server: Served, browser: Any, axe: Axe) -> None:
    web_server.register("Grace Hopper", "grace@example.com")
    page = new_page(browser, web_server, "UTC", PHONE)
    sign_in(page, "grace@example.com")
    expect(page.get_by_role("link", name="Settings", include_hidden=True)).to_be_attached()
    expect(page.get_by_role("link", name="Admin", exact=True, include_hidden=True)).to_have_count(0)
    page.goto("/#/admin/users")
    expect(page.get_by_role("heading", level=1, name="Administrators only")).to_be_visible()
    axe.check(page, "phone: admin console, not an administrator")
    shot(page, "admin-04-not-an-admin-phone")
    page.context.close()
