"""Signing in through an organisation's SAML 2.0 IdP in Chromium, against a real IdP (SimpleSAMLphp on ``localhost``;
the service on ``127.0.0.1``: two sites, so the IdP's POST back is cross-site, as in production). An admin adds the
IdP in the console from its metadata URL; the IdP's admin registers the SP the console names; its people, offered it
as they type their address, sign in there (desktop and phone) and come back signed in, joined to a programme by their
groups; signing out here offers signing out there too (SAML single logout). The admin makes the IdP's SCIM token in
the console; deprovisioned by SCIM, a person's sign-in ends at once. Every screen of ours passes axe."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port
from infra.config import get_settings
from models import IdentityProvider, ProgrammeParticipant, User
from tests.factories.saml_idp import Idp
from tests.web.conftest import DESKTOP, PHONE, Axe, Served, expect, new_page, serving_web, shot
from tests.web.pages import sign_in
from workflows.sign_on import saml_providers

ORG = "Difference University"
DOMAIN = "difference.example.edu"
IDP_PASSWORD = "a long password at the IdP"


@pytest.fixture
def served(committed: sessionmaker[Session], configure: Any) -> Iterator[Served]:
    """The app on a port chosen first, so that its SP addresses (``PUBLIC_URL``'s) are its own."""
    port = free_port()
    configure(PUBLIC_URL=f"http://127.0.0.1:{port}")
    with serving_web(committed, port=port) as web:
        yield web


def person_at(idp: Idp, name: str, groups: list[str]) -> tuple[str, str]:
    login = f"{name.split(maxsplit=1)[0].lower()}-{secrets.token_hex(3)}"
    idp.add_user(login, IDP_PASSWORD, email=f"{login}@{DOMAIN}", name=name, groups=groups)
    return login, f"{login}@{DOMAIN}"


def add_in_console(page: Any, axe: Axe, idp: Idp, committed: sessionmaker[Session]) -> None:
    """The admin adds the IdP from its metadata URL, owning the domain, with a programme rule on the groups; then the
    IdP's admin registers the SP the console names (with its certificate, to encrypt assertions to it)."""
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("navigation", name="Admin console").get_by_role("link", name="Sign-on").click()
    page.get_by_role("button", name="Add a provider").click()
    form = page.get_by_role("form", name="Add a provider")
    form.get_by_label("Protocol").select_option(label="SAML 2.0")
    expect(form.get_by_label("Client ID")).to_be_hidden()
    form.get_by_label("Organisation name").fill(ORG)
    form.get_by_label("IdP metadata URL").fill(idp.metadata_url)
    form.get_by_label("Email domains").fill(DOMAIN)
    form.get_by_label("It is on a private network").check()
    form.get_by_role("button", name="Add a programme rule").click()
    rule = form.get_by_role("group", name="Programme rule")
    rule.get_by_label("Programme").select_option(label="Spring cohort")
    rule.get_by_label("Claim").fill("groups")
    rule.get_by_label("Value").fill("student")
    axe.check(page, "admin: adding a SAML provider")
    shot(page, "saml-01-admin-adds-an-idp")
    form.get_by_role("button", name="Add the provider").click()
    expect(page.locator("#main [role=status]")).to_contain_text("SP metadata at the IdP")
    row = page.locator("#main ul.list > li", has_text=ORG)
    expect(row).to_contain_text("SAML 2.0. SP metadata to register at the IdP")
    expect(row).to_contain_text(idp.entity_id)
    axe.check(page, "admin: a SAML provider added")
    shot(page, "saml-02-admin-idp-added")
    with committed() as db:
        provider = db.scalars(select(IdentityProvider).where(IdentityProvider.display_name == ORG)).one()
    settings = get_settings()
    idp.trust(saml_providers.sp_entity_id(settings, provider.id), acs=saml_providers.acs_url(settings, provider.id),
              slo=saml_providers.sls_url(settings, provider.id), certificate=provider.sp_certificate, encrypt=True)


def sign_in_there(page: Any, axe: Axe, login: str, email: str, name: str, label: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    offer = page.get_by_role("link", name=f"Sign in with {ORG}")
    expect(offer).to_be_visible()
    axe.check(page, f"{label}: the sign-in page offering the SAML organisation")
    offer.click()
    page.wait_for_url("http://localhost:*/**")  # the IdP's own site
    page.locator("input[name=username]").fill(login)
    page.locator("input[name=password]").fill(IDP_PASSWORD)
    page.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator("#account .who")).to_have_text(name)
    expect(page.get_by_role("heading", level=1, name="Find a mentor")).to_be_visible()
    axe.check(page, f"{label}: signed in through the SAML organisation")
    shot(page, f"saml-03-{label}-signed-in")


def sign_out_here_and_there(page: Any, idp: Idp, served: Served) -> None:
    if page.viewport_size == PHONE:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_text(f"You are signed out here. Also sign out of {ORG}?")).to_be_visible()
    there = page.get_by_role("link", name=f"Sign out of {ORG}")
    assert (there.get_attribute("href") or "").startswith(f"{idp.base}/saml2/idp/SingleLogoutService.php?")
    there.click()
    page.wait_for_url(f"{served.url}/**")  # the IdP ended its session and sent the browser back here


def joined(committed: sessionmaker[Session], email: str) -> list[str]:
    with committed() as db:
        user_id = db.scalars(select(User.id).where(User.email == email)).one()
        return [str(role) for role in db.scalars(select(ProgrammeParticipant.role)
                                                   .where(ProgrammeParticipant.user_id == user_id))]


def test_an_admin_adds_a_saml_idp_whose_people_sign_in_there_and_sign_out_there_too(
        served: Served, saml_idp: Idp, browser: Any, axe: Axe, committed: sessionmaker[Session]) -> None:
    ada, ada_email = person_at(saml_idp, "Ada Lovelace", ["student"])
    charles, charles_email = person_at(saml_idp, "Charles Babbage", ["staff"])
    headers = served.register("Mary Jackson", "mary@example.com")
    with committed() as db, db.begin():
        db.execute(update(User).where(User.email == "mary@example.com").values(is_admin=True))
    programme = served.call("POST", "/programmes", headers, {"name": "Spring cohort"}, status=201)
    served.call("POST", f"/programmes/{programme['id']}/open-enrolment", headers)
    admin = new_page(browser, served, "UTC")
    sign_in(admin, "mary@example.com")
    add_in_console(admin, axe, saml_idp, committed)

    desktop = new_page(browser, served, "Europe/Lisbon", DESKTOP)
    sign_in_there(desktop, axe, ada, ada_email, "Ada Lovelace", "desktop")
    assert joined(committed, ada_email) == ["mentee"]  # her groups held the rule's value
    sign_out_here_and_there(desktop, saml_idp, served)

    phone = new_page(browser, served, "UTC", PHONE)
    sign_in_there(phone, axe, charles, charles_email, "Charles Babbage", "phone")
    assert joined(committed, charles_email) == []  # staff: no rule enrols him

    # The IdP's provisioning: the admin makes its SCIM token in the console, shown once; with it, the IdP takes
    # Charles's account over (his address is the organisation's) and, when he leaves, deprovisions him: his sign-in
    # on the phone ends at once.
    row = admin.locator("#main ul.list > li", has_text=ORG)
    row.get_by_role("button", name="Make a SCIM token").click()
    token = row.locator(".scim .secret code").inner_text()
    assert token.startswith("scim_")
    axe.check(admin, "admin: a SCIM token shown once")
    shot(admin, "saml-04-admin-scim-token")
    scim = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    made = httpx.post(f"{served.url}/scim/v2/Users", headers=scim, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": charles_email,
        "emails": [{"value": charles_email, "primary": True}], "active": True}).raise_for_status().json()
    httpx.patch(f"{served.url}/scim/v2/Users/{made['id']}", headers=scim, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}).raise_for_status()
    phone.goto("/#/settings")
    expect(phone.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    admin.reload()
    expect(admin.locator("#main ul.list > li", has_text=ORG)).to_contain_text("a token since")
    for page in (admin, desktop, phone):
        assert page.csp_errors == []
        page.context.close()
