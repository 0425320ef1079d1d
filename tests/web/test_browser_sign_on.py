"""Signing in through an organisation's OpenID provider in Chromium, against a real provider (Canaille): an admin adds
it in the console; its people, offered it as they type their address, sign in there and come back signed in (joined
to a programme by its rule), then sign out here and are offered to sign out there too; an account that exists is
linked with its password once; a sign-in that fails ends on a page saying why. Every screen of ours passes axe."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port
from models import ProgrammeParticipant, User
from tests.factories.oidc_provider import Provider
from tests.web.conftest import DESKTOP, PASSWORD, PHONE, Axe, Served, expect, new_page, serving_web, shot
from tests.web.pages import sign_in

ORG = "Analytical Engines"
DOMAIN = "engines.example.org"
PROVIDER_PASSWORD = "a long provider password"
CLIENT_SECRET = "the web app's client secret"


@pytest.fixture
def served(committed: sessionmaker[Session], configure: Any) -> Iterator[Served]:
    """The app on a port chosen first, so that the redirect URI it gives providers (``PUBLIC_URL`` + the callback)
    is its own address."""
    port = free_port()
    configure(PUBLIC_URL=f"http://127.0.0.1:{port}")
    with serving_web(committed, port=port) as web:
        yield web


def client_for(provider: Provider, served: Served) -> str:
    """The service registered at the provider (the run's one): its callback, and its home page to come back to
    after signing out; its client ID."""
    client_id = f"web-{secrets.token_hex(4)}"
    provider.add_client(client_id, CLIENT_SECRET, [f"{served.url}/api/v1/auth/sign-on/callback"], [f"{served.url}/"])
    return client_id


def person_at(provider: Provider, given: str, family: str, domain: str, groups: list[str]) -> tuple[str, str]:
    """Someone at the provider (a login of its own in the run); their login and email."""
    login = f"{given.lower()}-{secrets.token_hex(3)}"
    provider.add_user(login, PROVIDER_PASSWORD, f"{login}@{domain}", given, family, groups)
    return login, f"{login}@{domain}"


def admin_and_programme(served: Served, committed: sessionmaker[Session]) -> dict[str, str]:
    """Mary, an administrator (signing in with a password: her address is not the organisation's), and a
    programme taking people; her token."""
    headers = served.register("Mary Jackson", "mary@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    programme = served.call("POST", "/programmes", headers, {"name": "Spring cohort"}, status=201)
    served.call("POST", f"/programmes/{programme['id']}/open-enrolment", headers)
    return headers


def add_in_console(page: Any, axe: Axe, provider: Provider, client_id: str) -> None:
    """The admin adds the provider in the console: its domain (signing in there only) and a programme rule."""
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("navigation", name="Admin console").get_by_role("link", name="Sign-on").click()
    expect(page.get_by_role("heading", level=1, name="Sign-on providers")).to_be_visible()
    expect(page.get_by_text("No organisation yet")).to_be_visible()
    page.get_by_role("button", name="Add a provider").click()
    form = page.get_by_role("form", name="Add a provider")
    form.get_by_label("Organisation name").fill(ORG)
    form.get_by_label("Issuer").fill(provider.issuer)
    form.get_by_label("Client ID").fill(client_id)
    form.get_by_role("button", name="Add the provider").click()
    expect(form.get_by_label("Client secret")).to_have_attribute("aria-invalid", "true")  # refused, said in the form
    form.get_by_label("Client secret").fill(CLIENT_SECRET)
    form.get_by_label("Email domains").fill(f"{DOMAIN.upper()}, ")
    form.get_by_label("Its domains sign in with it only").check()
    form.get_by_role("button", name="Add a programme rule").click()
    rule = form.get_by_role("group", name="Programme rule")
    rule.get_by_label("Programme").select_option(label="Spring cohort")
    rule.get_by_label("Claim").fill("groups")
    rule.get_by_label("Value").fill("engineers")
    axe.check(page, "admin: adding a sign-on provider")
    shot(page, "sign-on-01-admin-adds-a-provider")
    form.get_by_role("button", name="Add the provider").click()
    redirect_uri = f"{page.url.split('/#')[0]}/api/v1/auth/sign-on/callback"
    expect(page.locator("#main [role=status]")).to_contain_text(f"Register this redirect URI at it: {redirect_uri}")
    row = page.locator("#main ul.list > li", has_text=ORG)
    expect(row).to_contain_text(f"Domains: {DOMAIN} · they sign in with it only")
    expect(row).to_contain_text("Spring cohort: joins as mentee when groups has engineers")
    axe.check(page, "admin: sign-on providers")
    shot(page, "sign-on-02-admin-provider-added")
    row.get_by_role("button", name=f"Change {ORG}…").click()
    row.get_by_label("Sign-ins last at most (hours)").fill("12")
    axe.check(page, "admin: changing a sign-on provider")
    row.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#main [role=status]")).to_have_text(f"{ORG} is saved.")
    expect(row).to_contain_text("sign-ins last 12 h")


def at_the_provider(page: Any, login: str) -> None:
    """Canaille's pages: the login, then the password, each on its own page."""
    page.locator("input[name=login]").fill(login)
    page.get_by_role("button", name="Continue").click()
    page.locator("input[name=password]").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_up_points_there(page: Any, axe: Axe, email: str) -> None:
    """The sign-up page, told an address of the organisation, makes no password: it leads there."""
    page.goto("/#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Email").blur()
    expect(page.get_by_text(f"People of {DOMAIN} sign in with {ORG}: no password is made here.")).to_be_visible()
    expect(page.get_by_role("link", name=f"Sign in with {ORG}")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign up")).to_be_hidden()
    axe.check(page, "desktop: the sign-up page leading to the organisation")


def sign_in_there(page: Any, axe: Axe, login: str, email: str, name: str, label: str) -> None:
    """Type the address on our sign-in page, follow the offer, sign in at the provider: back signed in."""
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email.upper())
    offer = page.get_by_role("link", name=f"Sign in with {ORG}")
    expect(offer).to_be_visible()
    expect(page.get_by_text(f"People of {DOMAIN} sign in with {ORG}: no password is used here.")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_hidden()
    expect(page.get_by_role("heading", name="Or sign in with your organisation")).to_be_visible()
    axe.check(page, f"{label}: the sign-in page offering the organisation")
    shot(page, f"sign-on-03-{label}-offered")
    offer.click()
    at_the_provider(page, login)
    expect(page.locator("#account .who")).to_have_text(name)
    expect(page.get_by_role("heading", level=1, name="Find a mentor")).to_be_visible()
    axe.check(page, f"{label}: signed in through the organisation")
    shot(page, f"sign-on-04-{label}-signed-in")


def sign_out_here_and_there(page: Any, axe: Axe, provider: Provider, served: Served, label: str) -> None:
    if page.viewport_size == PHONE:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="You are signed out")).to_be_visible()
    expect(page.get_by_text(f"You are signed out here. Also sign out of {ORG}?")).to_be_visible()
    there = page.get_by_role("link", name=f"Sign out of {ORG}")
    assert (there.get_attribute("href") or "").startswith(provider.end_session_endpoint + "?")
    expect(page.get_by_role("link", name="Home")).to_be_visible()
    axe.check(page, f"{label}: signed out, offered to sign out there too")
    shot(page, f"sign-on-06-{label}-signed-out")
    there.click()
    page.wait_for_url(lambda url: "#/signed-out" not in url)
    if page.url.startswith(provider.issuer):  # Canaille asks to confirm when no ID token names the user
        page.locator("button[name=answer][value=logout]").click()
    page.wait_for_url(f"{served.url}/**")  # back here, signed out there too


def joined(committed: sessionmaker[Session], email: str) -> list[str]:
    with committed() as db:
        user_id = db.scalars(select(User.id).where(User.email == email)).one()
        return [str(role) for role in db.scalars(select(ProgrammeParticipant.role)
                                                   .where(ProgrammeParticipant.user_id == user_id))]


def test_an_admin_adds_an_organisation_whose_people_sign_in_there_and_sign_out_there_too(
        served: Served, oidc_provider: Provider, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    client_id = client_for(oidc_provider, served)
    ada, ada_email = person_at(oidc_provider, "Ada", "Lovelace", DOMAIN, ["engineers"])
    charles, charles_email = person_at(oidc_provider, "Charles", "Babbage", DOMAIN, ["engineers"])
    admin_and_programme(served, committed)
    admin = new_page(browser, served, "UTC")
    sign_in(admin, "mary@example.com")
    add_in_console(admin, axe, oidc_provider, client_id)

    desktop = new_page(browser, served, "Europe/Lisbon", DESKTOP)
    sign_up_points_there(desktop, axe, ada_email)
    sign_in_there(desktop, axe, ada, ada_email, "Ada Lovelace", "desktop")
    assert joined(committed, ada_email) == ["mentee"]  # the programme rule held
    with committed() as db:  # the account the sign-in made took the browser's zone, as a sign-up does
        assert db.scalars(select(User.timezone).where(User.email == ada_email)).one() == "Europe/Lisbon"
    desktop.get_by_role("link", name="Settings").click()
    expect(desktop.get_by_text(f"You sign in with {ORG}: this sign-in lasts until")).to_be_visible()
    expect(desktop.get_by_text("Your account has no password")).to_be_visible()
    expect(desktop.get_by_role("form", name="Change password")).to_have_count(0)
    axe.check(desktop, "desktop: settings of an account with no password")
    shot(desktop, "sign-on-05-desktop-settings")
    sign_out_here_and_there(desktop, axe, oidc_provider, served, "desktop")

    phone = new_page(browser, served, "UTC", PHONE)
    sign_in_there(phone, axe, charles, charles_email, "Charles Babbage", "phone")
    assert joined(committed, charles_email) == ["mentee"]
    sign_out_here_and_there(phone, axe, oidc_provider, served, "phone")

    # Disabled, it ends the sign-ins made through it, and the sign-in page offers it no more.
    again = new_page(browser, served, "UTC")
    sign_in_there(again, axe, ada, ada_email, "Ada Lovelace", "again")
    row = admin.locator("#main ul.list > li", has_text=ORG)
    row.get_by_role("button", name="Disable…").click()
    row.get_by_label("Reason (kept in the audit log)").fill("the organisation left")
    row.get_by_role("button", name="Disable it").click()
    expect(admin.locator("#main [role=status]")).to_have_text(f"{ORG} is disabled: 1 sign-in through it ended.")
    expect(row).to_contain_text("Disabled")
    shot(admin, "sign-on-07-admin-provider-disabled")
    # Its token stopped working, and the refresh cookie too: the next screen asks for a sign-in (the tab's live
    # stream, re-checked every 2 s, may have noticed first and shown it already).
    again.goto("/#/settings")
    expect(again.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    again.get_by_label("Email").fill(ada_email)
    again.get_by_label("Email").blur()
    expect(again.get_by_label("Password")).to_be_visible()
    expect(again.get_by_role("link", name=f"Sign in with {ORG}")).to_have_count(0)
    # The audit log names the provider, never its id.
    admin.goto("/#/admin/audit")
    disabled = admin.locator("#main li", has_text="Sign-on provider disabled").first
    expect(disabled).to_contain_text(f"the sign-on provider {ORG}")
    expect(admin.locator("#main")).not_to_contain_text("null")
    for page in (admin, desktop, phone, again):
        assert page.csp_errors == []
        page.context.close()


def test_an_account_that_exists_is_linked_with_its_password_once(
        served: Served, oidc_provider: Provider, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    """Grace's address is not in the organisation's domains: the provider's word is not enough to sign in to the
    account that holds it; its password, given once, links the two."""
    client_id = client_for(oidc_provider, served)
    grace, grace_email = person_at(oidc_provider, "Grace", "Hopper", "example.net", [])
    headers = admin_and_programme(served, committed)
    served.call("POST", "/admin/identity-providers", headers, {
        "display_name": ORG, "issuer": oidc_provider.issuer, "client_id": client_id, "client_secret": CLIENT_SECRET,
        "domains": [DOMAIN]}, status=201)
    served.register("Grace Hopper", grace_email)
    page = new_page(browser, served, "UTC", PHONE)
    for password in ("not her password at all", PASSWORD):
        page.goto("/#/signin")
        page.get_by_role("region", name="Or sign in with your organisation").get_by_role("link", name=ORG).click()
        page.wait_for_url(lambda url: url.startswith(f"{oidc_provider.issuer}/login") or "#/sign-on/" in url)
        if page.url.startswith(oidc_provider.issuer):  # the second time, the provider remembers her
            at_the_provider(page, grace)
        expect(page.get_by_role("heading", level=1, name=f"Link your account to {ORG}")).to_be_visible()
        assert "ticket" not in page.url  # the ticket leaves the address bar
        expect(page.get_by_text(f"An account with this email ({grace_email}) exists.")).to_be_visible()
        page.get_by_label("Password of your account").fill(password)
        if password != PASSWORD:
            axe.check(page, "phone: linking an account with its password")
            shot(page, "sign-on-08-phone-link")
        page.get_by_role("button", name="Link and sign in").click()
        if password != PASSWORD:  # any answer spends the ticket: another try starts at the provider
            expect(page.locator("#main [role=alert]")).to_contain_text("Wrong password. This link now works no more")
            axe.check(page, "phone: a link refused")
            page.get_by_role("link", name="Start again").click()
            expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("#account .who")).to_have_text("Grace Hopper")
    shot(page, "sign-on-09-phone-linked")
    assert page.csp_errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_sign_in_that_fails_ends_on_a_page_saying_why(served: Served, browser: Any, axe: Axe, size: str) -> None:
    page = new_page(browser, served, "UTC", PHONE if size == "phone" else DESKTOP)
    page.goto("/api/v1/auth/sign-on/callback?state=made-up&code=made-up")  # no sign-in was started in this browser
    expect(page.get_by_role("heading", level=1, name="You are not signed in")).to_be_visible()
    expect(page.locator("#main [role=alert]")).to_have_text(
        "This sign-in was not started in this browser, or it was finished already.")
    axe.check(page, f"{size}: a sign-in through an organisation that failed")
    shot(page, f"sign-on-10-{size}-failed")
    page.goto("/#/sign-on/failed?reason=something-new")  # a reason this page does not know still reads as a sentence
    expect(page.locator("#main [role=alert]")).to_have_text("Signing in through your organisation did not finish.")
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_console_shows_why_a_provider_s_last_sign_in_was_refused(
        served: Served, oidc_provider: Provider, browser: Any, axe: Axe, committed: sessionmaker[Session],
        size: str) -> None:
    """Registered as an admin who skipped the audience step (Canaille then names none in its ID tokens): the person
    reads that the identity cannot be trusted, and the admin's Sign-on screen says the audience check refused it."""
    client_id = f"web-{secrets.token_hex(4)}"
    oidc_provider.add_client(client_id, CLIENT_SECRET, [f"{served.url}/api/v1/auth/sign-on/callback"],
                             [f"{served.url}/"], audience=False)
    ada, _email = person_at(oidc_provider, "Ada", "Lovelace", DOMAIN, [])
    headers = admin_and_programme(served, committed)
    served.call("POST", "/admin/identity-providers", headers, {
        "display_name": ORG, "issuer": oidc_provider.issuer, "client_id": client_id, "client_secret": CLIENT_SECRET,
        "domains": [DOMAIN]}, status=201)
    viewport = PHONE if size == "phone" else DESKTOP
    person = new_page(browser, served, "UTC", viewport)
    person.goto("/#/signin")
    person.get_by_role("region", name="Or sign in with your organisation").get_by_role("link", name=ORG).click()
    at_the_provider(person, ada)
    expect(person.get_by_role("heading", level=1, name="You are not signed in")).to_be_visible()
    admin = new_page(browser, served, "UTC", viewport)
    sign_in(admin, "mary@example.com")
    admin.goto("/#/admin/sign-on")
    row = admin.locator("#main ul.list > li", has_text=ORG)
    expect(row).to_contain_text("Last refused sign-in:")
    expect(row).to_contain_text("the ID token is for another client (audience) (aud)")
    expect(row).to_contain_text("Invalid claim: 'aud'")
    axe.check(admin, f"{size}: a provider's last refused sign-in")
    shot(admin, f"sign-on-11-{size}-last-refusal")
    for page in (person, admin):
        assert page.csp_errors == []
        page.context.close()
