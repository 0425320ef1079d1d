"""Signing in through an organisation's SAML 2.0 IdP over HTTP (``api/sign_on/saml.py``), against a real IdP
(SimpleSAMLphp, started by the tests on ``localhost``; the service's addresses are ``PUBLIC_URL``'s, ``127.0.0.1``):
the round trip and what it makes, encrypted assertions, groups enrolling, the SP metadata, single logout; and the
hostile cases, each on a response the real IdP signed: replayed, unsigned, tampered, wrapped (XSW), a comment in the
NameID, another audience, unsolicited, too large or with entities; each ends on the failure page, in the audit log
with the check that refused it, and writes no identity."""

from __future__ import annotations

import base64
import copy
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import AuthEvent, AuthEventKind, ParticipantRole, ProgrammeParticipant, SamlAssertionSeen, UserIdentity
from tests.factories.programmes import running_programme
from tests.factories.saml_idp import Idp, Posted
from tests.factories.saml_sign_on import (
    IDP_PASSWORD,
    SamlOrganisation,
    post_back,
    saml_log_in,
    saml_organisation,
    saml_person,
    saml_signed_on,
)
from tests.factories.sign_on import page_of
from workflows.actors import Actor
from workflows.sign_on import saml_providers
from workflows.sign_on.providers import Rule

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"


def _xml(posted: Posted) -> etree._Element:
    return etree.fromstring(base64.b64decode(posted.fields["SAMLResponse"]))


def _with(posted: Posted, root: etree._Element | bytes) -> dict[str, str]:
    xml = root if isinstance(root, bytes) else etree.tostring(root)
    return {**posted.fields, "SAMLResponse": base64.b64encode(xml).decode()}


def _refusals(db: Session, org: SamlOrganisation) -> list[str]:
    """The checks that refused this provider's sign-ins, sorted (the tests' transaction gives them one time)."""
    return sorted(str(reason) for reason in db.scalars(select(AuthEvent.reason).where(
        AuthEvent.provider_id == org.id, AuthEvent.kind == AuthEventKind.SSO_REFUSED)))


def _identities(db: Session, org: SamlOrganisation) -> int:
    return db.scalar(select(func.count()).select_from(UserIdentity).where(UserIdentity.provider_id == org.id)) or 0


def test_a_first_saml_sign_in_makes_a_verified_account_and_the_next_one_signs_in_to_it(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    _, programme = running_programme(client)
    org = saml_organisation(db, saml_idp, enrolments=[
        Rule(uuid.UUID(programme["id"]), ParticipantRole.MENTEE, "groups", "student")])
    login, email = saml_person(org, groups=["student", "member"])
    headers = saml_signed_on(client, org, login)
    me = client.get("/api/v1/me", headers=headers).json
    assert (me["email"], me["display_name"], me["email_verified"], me["has_password"]) == (
        email, "Ada Lovelace", True, False)
    identity = db.scalars(select(UserIdentity).where(UserIdentity.user_id == me["id"])).one()
    assert (identity.issuer, identity.subject) == (saml_idp.entity_id, login)  # the IdP's entity id and the NameID
    # The groups attribute (eduPersonAffiliation, sent by its OID) enrolled them by the provider's rule.
    enrolled = db.scalars(select(ProgrammeParticipant.role).where(
        ProgrammeParticipant.user_id == me["id"], ProgrammeParticipant.programme_id == programme["id"])).all()
    assert enrolled == [ParticipantRole.MENTEE]
    again = saml_signed_on(client, org, login)
    assert client.get("/api/v1/me", headers=again).json["id"] == me["id"]
    kinds = sorted(db.scalars(select(AuthEvent.kind).where(AuthEvent.user_id == me["id"])))
    assert kinds == sorted([AuthEventKind.ACCOUNT_LINKED, AuthEventKind.SIGNED_IN_SSO, AuthEventKind.SIGNED_IN_SSO])
    assert db.scalar(select(func.count()).select_from(SamlAssertionSeen).where(
        SamlAssertionSeen.provider_id == org.id)) == 2


def test_an_encrypted_assertion_is_decrypted_with_the_sp_key_and_signs_in(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp, encrypt=True)
    login, email = saml_person(org)
    posted, browser = saml_log_in(client, org, login)
    root = _xml(posted)
    assert root.find(f"{{{SAML}}}EncryptedAssertion") is not None and root.find(f"{{{SAML}}}Assertion") is None
    assert login.encode() not in etree.tostring(root)  # the NameID travels encrypted
    # Not yet used, it is refused with another attempt's RelayState: the signed confirmation inside the encrypted
    # assertion names the first attempt's request (the response around it, unsigned, could be edited).
    other, other_browser = saml_log_in(client, org, login)
    moved = {**posted.fields, "RelayState": other.fields["RelayState"]}
    assert page_of(post_back(client, org, moved, other_browser)) == ("sign-on/failed", {"reason": "token"})
    assert _refusals(db, org) == ["in_response_to"]
    assert page_of(post_back(client, org, posted.fields, browser))[0] == "sign-on/done"
    assert db.scalar(select(UserIdentity.email).where(UserIdentity.subject == login)) == email


def test_a_replayed_response_is_refused_whether_its_attempt_is_spent_or_a_new_one_is_named(
        app: Flask, db: Session, saml_idp: Idp) -> None:
    client, attacker = app.test_client(), app.test_client()
    org = saml_organisation(db, saml_idp)
    login, _email = saml_person(org)
    posted, browser = saml_log_in(client, org, login)
    assert page_of(post_back(client, org, posted.fields, browser))[0] == "sign-on/done"
    # The same form again in the same browser: its attempt is spent.
    assert page_of(post_back(client, org, posted.fields, browser)) == ("sign-on/failed", {"reason": "state"})
    # The same response with the RelayState of a new attempt, in that attempt's browser: it answers another request.
    fresh, fresh_browser = saml_log_in(attacker, org, login)
    replayed = {**posted.fields, "RelayState": fresh.fields["RelayState"]}
    assert page_of(post_back(attacker, org, replayed, fresh_browser)) == ("sign-on/failed", {"reason": "token"})
    assert _refusals(db, org) == ["in_response_to"]
    # A victim's response posted in another browser: refused, and the victim's attempt is not spent.
    stolen, victim_browser = saml_log_in(client, org, login)
    assert page_of(post_back(attacker, org, stolen.fields, fresh_browser)) == ("sign-on/failed", {"reason": "state"})
    assert page_of(post_back(client, org, stolen.fields, victim_browser))[0] == "sign-on/done"
    assert _identities(db, org) == 1


def test_unsigned_tampered_and_wrapped_assertions_are_refused(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    login, _email = saml_person(org)
    victim, _victim_email = saml_person(org)

    def refused(fields: dict[str, str], browser: str) -> None:
        assert page_of(post_back(client, org, fields, browser)) == ("sign-on/failed", {"reason": "token"})

    # Unsigned: the assertion's signature removed.
    posted, browser = saml_log_in(client, org, login)
    root = _xml(posted)
    for signature in list(root.iter(f"{{{DS}}}Signature")):
        signature.getparent().remove(signature)
    refused(_with(posted, root), browser)
    # Tampered: the signed NameID changed to the victim's.
    posted, browser = saml_log_in(client, org, login)
    root = _xml(posted)
    root.find(f".//{{{SAML}}}NameID").text = victim
    refused(_with(posted, root), browser)
    # Wrapped (XSW): an unsigned assertion naming the victim first, the signed original after it.
    posted, browser = saml_log_in(client, org, login)
    root = _xml(posted)
    signed = root.find(f"{{{SAML}}}Assertion")
    forged = copy.deepcopy(signed)
    forged.set("ID", "_forged" + signed.get("ID"))
    forged.remove(forged.find(f"{{{DS}}}Signature"))
    forged.find(f".//{{{SAML}}}NameID").text = victim
    signed.addprevious(forged)
    refused(_with(posted, root), browser)
    # Wrapped (XSW): the forged assertion in the original's place with its signature, the signed original hidden
    # inside that signature's element (the signature still names the original's ID).
    posted, browser = saml_log_in(client, org, login)
    root = _xml(posted)
    signed = root.find(f"{{{SAML}}}Assertion")
    forged = copy.deepcopy(signed)
    forged.find(f".//{{{SAML}}}NameID").text = victim
    signed.addprevious(forged)
    root.remove(signed)
    forged.find(f"{{{DS}}}Signature").append(signed)
    refused(_with(posted, root), browser)
    # Unsigned, tampered and hidden: the signature; the first wrapping: two assertions where one is taken.
    assert _refusals(db, org) == ["assertion", "signature", "signature", "signature"]
    assert _identities(db, org) == 0


def test_a_comment_in_the_name_id_an_entity_and_a_huge_response_are_refused_before_parsing(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    login, _email = saml_person(org)
    # A comment splitting the NameID: the signature (exclusive c14n drops comments) would still verify.
    posted, browser = saml_log_in(client, org, login)
    xml = base64.b64decode(posted.fields["SAMLResponse"]).replace(f">{login}<".encode(),
                                                                   f">{login[:3]}<!---->{login[3:]}<".encode())
    assert page_of(post_back(client, org, _with(posted, xml), browser)) == ("sign-on/failed", {"reason": "token"})
    # Entities expanding a billion times (the XML's own declarations).
    posted, browser = saml_log_in(client, org, login)
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            + base64.b64decode(posted.fields["SAMLResponse"]).split(b"?>", 1)[-1])
    assert page_of(post_back(client, org, _with(posted, bomb), browser)) == ("sign-on/failed", {"reason": "token"})
    # Larger than 256 KiB decoded (well within the request's size limit).
    posted, browser = saml_log_in(client, org, login)
    huge = base64.b64decode(posted.fields["SAMLResponse"]).replace(b"</samlp:Response>",
                                                                   b" " * 262_000 + b"</samlp:Response>")
    assert page_of(post_back(client, org, _with(posted, huge), browser)) == ("sign-on/failed", {"reason": "token"})
    assert _refusals(db, org) == sorted(["comment", "dtd", "size"])
    assert _identities(db, org) == 0


def test_an_unsolicited_response_is_refused_and_one_for_another_audience_even_where_unsolicited_ones_are_taken(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    # IdP-initiated (no RelayState, no InResponseTo): off by default. Anyone may post one: logged, not in the trail.
    org = saml_organisation(db, saml_idp)
    login, _email = saml_person(org)
    posted = _idp_initiated(org, login, saml_providers.sp_entity_id(get_settings(), org.id))
    assert "InResponseTo" not in base64.b64decode(posted.fields["SAMLResponse"]).decode()
    assert page_of(post_back(client, org, posted.fields, None)) == ("sign-on/failed", {"reason": "state"})
    # Once an admin takes them, an assertion the IdP made for another SP (whose owner posts it here) is not.
    admin = Actor(user_id=org.row.created_by, is_admin=True)
    saml_providers.update_provider(db, admin, get_settings(), org.id, {"idp_initiated": True})
    elsewhere = "https://elsewhere.example/sp"
    saml_idp.trust(elsewhere, acs=saml_providers.acs_url(get_settings(), org.id))
    posted = _idp_initiated(org, login, elsewhere)
    assert page_of(post_back(client, org, posted.fields, None)) == ("sign-on/failed", {"reason": "token"})
    assert _refusals(db, org) == ["aud"]
    assert _identities(db, org) == 0


def _idp_initiated(org: SamlOrganisation, login: str, entity: str | None = None) -> Posted:
    """Sign in at the IdP's own page for an SP (IdP-initiated; this service's by default): what it posts, unasked."""
    entity = entity or saml_providers.sp_entity_id(get_settings(), org.id)
    with httpx.Client() as browser:
        return org.idp.log_in(browser, f"{org.idp.base}/saml2/idp/SSOService.php?spentityid={entity}", login,
                              IDP_PASSWORD)


def test_idp_initiated_sign_in_when_allowed_signs_in_once_and_a_replay_is_refused(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp, idp_initiated=True)
    login, _email = saml_person(org)
    posted = _idp_initiated(org, login)
    assert page_of(post_back(client, org, posted.fields, None))[0] == "sign-on/done"
    assert page_of(post_back(client, org, posted.fields, None)) == ("sign-on/failed", {"reason": "token"})
    assert _refusals(db, org) == ["replay"]
    assert _identities(db, org) == 1


def test_the_sp_metadata_names_this_service_and_single_logout_goes_through_the_idp(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    served = client.get(f"/api/v1/auth/sign-on/saml/{org.id}/metadata")
    assert served.status_code == 200 and served.mimetype == "application/samlmetadata+xml"
    metadata = etree.fromstring(served.data)
    assert metadata.get("entityID") == f"http://127.0.0.1:8000/api/v1/auth/sign-on/saml/{org.id}/metadata"
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    acs = metadata.find(f".//{md}AssertionConsumerService")
    assert acs.get("Location").endswith(f"/saml/{org.id}/acs") and acs.get("Binding").endswith("HTTP-POST")
    assert metadata.find(f".//{{{DS}}}X509Certificate").text.strip() in org.row.sp_certificate.replace("\n", "")
    assert client.get(f"/api/v1/auth/sign-on/saml/{org.id}/metadata".replace(str(org.id), str(org.row.created_by))
                      ).status_code == 404
    login, _email = saml_person(org)
    headers = saml_signed_on(client, org, login)
    current = client.get("/api/v1/auth/sign-on/current", headers=headers).json
    assert current["provider_id"] == str(org.id)
    logout = current["end_session_url"]
    assert logout.startswith(f"{saml_idp.base}/saml2/idp/SingleLogoutService.php?SAMLRequest=")
    assert {"SigAlg", "Signature", "RelayState"} <= parse_qs(urlsplit(logout).query).keys()


def test_an_idp_offering_no_redirect_gets_its_request_by_a_form_the_browser_posts(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    # SimpleSAMLphp announces its single sign-on service by HTTP-Redirect, and takes requests by HTTP-POST there too.
    only_post = re.sub(r'(<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:)HTTP-Redirect"',
                       r'\1HTTP-POST"', saml_idp.metadata())
    assert "SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"" in only_post
    org = saml_organisation(db, saml_idp, metadata_xml=only_post)
    login, email = saml_person(org)
    started = client.get(f"/api/v1/auth/sign-on/saml/{org.id}/start")
    assert started.status_code == 200 and started.mimetype == "text/html"
    policy = started.headers["Content-Security-Policy"]
    assert f"form-action {saml_idp.base}" in policy and "script-src 'sha256-" in policy
    page = etree.HTML(started.data)
    form = page.find(".//form")
    assert form.get("method") == "post" and form.get("action") == f"{saml_idp.base}/saml2/idp/SSOService.php"
    fields = {field.get("name"): field.get("value") for field in form.iter("input")}
    request = etree.fromstring(base64.b64decode(fields["SAMLRequest"]))
    assert request.tag == "{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest"
    assert request.find(f"{{{DS}}}Signature") is not None  # signed in the XML, as the POST binding asks
    browser = next(header for header in started.headers.getlist("Set-Cookie")
                   if header.startswith("mentorship_sign_on=")).split(";")[0].split("=", 1)[1]
    with httpx.Client() as at_idp:
        posted = saml_idp.post_log_in(at_idp, form.get("action"), fields, login, IDP_PASSWORD)
    assert page_of(post_back(client, org, posted.fields, browser))[0] == "sign-on/done"
    assert db.scalar(select(UserIdentity.email).where(UserIdentity.subject == login)) == email
