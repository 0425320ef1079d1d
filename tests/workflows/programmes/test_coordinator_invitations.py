"""Coordinators named by address, through the API with a real SMTP server: a confirmed account's coordinates at
once; an address with no account is invited, and registering from the mailed link makes its coordinator; an account
that merely claims the address gets nothing until the mailed link is opened signed in to it (its own verification
link is not enough: whoever clicks it need not be who made the account);
each grant is in the audit trail naming the admin who invited, and told as a change of coordinators."""

from __future__ import annotations

import uuid
from email.header import decode_header, make_header

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AccountToken, AdminAction, CoordinatorInvitation, OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, create
from tests.mail import Mailbox
from workflows.accounts import emails as account_emails
from workflows.programmes import coordinator_invitations

ADMIN = "/api/v1/admin/programmes"


def _mail(db: Session) -> None:
    """Send the invitations and account links owed, as the notifications worker does."""
    for invitation_id in db.scalars(select(CoordinatorInvitation.id).where(
            CoordinatorInvitation.email_status == "pending")):
        coordinator_invitations.deliver(db, invitation_id)
    for token_id in db.scalars(select(AccountToken.id).where(AccountToken.email_status == "pending")):
        account_emails.deliver(db, token_id)
    db.flush()


def _audit(db: Session, admin_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """An admin's audit entries: action, what it targets, and the words kept with it."""
    return [(row.action, row.target_type, row.reason or "") for row in db.scalars(
        select(AdminAction).where(AdminAction.admin_user_id == admin_id)
        .order_by(AdminAction.created_at, AdminAction.action))]


def test_a_new_address_coordinates_once_it_registers_from_the_mailed_link(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    admin = as_caller(UserFactory(is_admin=True, display_name="Mary Jackson"))
    programme = create(client, admin, name="Spring cohort")
    url = f"{ADMIN}/{programme['id']}/coordinator-invitations"
    named = client.post(url, headers=admin.headers, json={"email": "Grace@Example.com", "reason": "Runs spring"})
    assert named.status_code == 200, named.get_json()
    assert (named.get_json()["granted"], named.get_json()["invitation"]["status"]) == (False, "pending")
    again = client.post(url, headers=admin.headers, json={"email": "grace@example.com", "reason": "Again"})
    assert again.status_code == 400 and "invited already" in again.get_json()["message"]
    _mail(db)
    (message,) = mailbox.inbox.to("grace@example.com")
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "You are invited to coordinate \u201cSpring cohort\u201d"
    assert "Mary Jackson invites you" in message.get_payload(decode=True).decode()
    token = mailbox.inbox.link("grace@example.com", "coordinator-invitation")
    preview = client.post("/api/v1/coordinator-invitations/preview", json={"token": token}).get_json()
    assert (preview["programme"]["name"], preview["email"], preview["usable"], preview["account_exists"]) == (
        "Spring cohort", "grace@example.com", True, False)
    made = client.post("/api/v1/coordinator-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen", "display_name": "Grace Hopper"})
    assert made.status_code == 201, made.get_json()
    grace = {"Authorization": f"Bearer {made.get_json()['access_token']}"}
    read = client.get(f"{BASE}/{programme['id']}", headers=grace).get_json()
    assert (read["viewer_role"], read["coordinator_names"]) == ("coordinator", ["Grace Hopper"])
    assert client.get("/api/v1/me", headers=grace).get_json()["email_verified"] is True
    # The audit names the admin at the invitation and at the grant; the change of coordinators is told.
    assert _audit(db, admin.user.id) == [
        ("programme.coordinator_invited", "coordinator_invitation", "grace@example.com for Spring cohort: Runs spring"),
        ("programme.coordinator_named", "programme", "invited as grace@example.com: Runs spring")]
    told = db.scalars(select(OutboxEvent.payload["added_user_ids"]).where(
        OutboxEvent.type == "programme.coordinators_changed")).all()
    assert told == [[read["coordinator_user_ids"][0]]]
    used = client.post("/api/v1/coordinator-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen"})
    assert used.status_code == 422


def test_an_account_claiming_the_address_coordinates_only_once_it_is_confirmed(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    programme = create(client, admin, name="Spring cohort")
    url = f"{ADMIN}/{programme['id']}/coordinator-invitations"
    claimer = as_caller(UserFactory(email="ada@example.com", email_verified_at=None))
    # Named by account, an unconfirmed address is refused; by address, it is invited, not granted.
    by_id = client.put(f"{ADMIN}/{programme['id']}/coordinators/{claimer.user.id}", headers=admin.headers,
                       json={"reason": "Runs it"})
    assert by_id.status_code == 400 and "not confirmed" in by_id.get_json()["message"]
    named = client.post(url, headers=admin.headers, json={"email": "ada@example.com", "reason": "Runs it"})
    assert named.status_code == 200 and named.get_json()["granted"] is False
    assert client.get(f"{BASE}/{programme['id']}", headers=claimer.headers).status_code == 404
    _mail(db)
    token = mailbox.inbox.link("ada@example.com", "coordinator-invitation")
    # Another account cannot use the link.
    other = client.post("/api/v1/coordinator-invitations/accept", headers=as_caller(UserFactory()).headers,
                        json={"token": token})
    assert other.status_code == 403
    # Its verification link clicked (by whoever reads that mailbox): confirmed, and still no rights, since the click
    # does not prove the mailbox's owner made the account.
    assert client.post("/api/v1/me/email-verification", headers=claimer.headers).status_code == 202
    _mail(db)
    verified = client.post("/api/v1/auth/verify-email",
                           json={"token": mailbox.inbox.link("ada@example.com", "verify-email")})
    assert verified.status_code == 200
    assert client.get(f"{BASE}/{programme['id']}", headers=claimer.headers).status_code == 404
    # The invitation's link opened signed in to that account proves both: the rights start then.
    accepted = client.post("/api/v1/coordinator-invitations/accept", headers=claimer.headers, json={"token": token})
    assert accepted.status_code == 200 and accepted.get_json() == {"programme_id": programme["id"]}
    assert client.get(f"{BASE}/{programme['id']}", headers=claimer.headers).get_json()["viewer_role"] == "coordinator"
    assert client.post("/api/v1/coordinator-invitations/accept", headers=claimer.headers,
                       json={"token": token}).status_code == 422  # answered already
    # Named by id or at the creation of a programme, an unconfirmed account is refused the same way.
    squatter = as_caller(UserFactory(email_verified_at=None))
    made = client.post(BASE, headers=admin.headers, json={"name": "Autumn cohort",
                                                          "coordinator_user_ids": [str(squatter.user.id)]})
    assert made.status_code == 400 and "not confirmed" in made.get_json()["message"]


def test_an_invitation_whose_admin_is_no_longer_one_grants_nothing(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    programme = create(client, admin, name="Spring cohort")
    url = f"{ADMIN}/{programme['id']}/coordinator-invitations"
    assert client.post(url, headers=admin.headers, json={"email": "not an address", "reason": "x"}).status_code == 422
    assert client.post(url, headers=admin.headers, json={"email": "zoe@example.com", "reason": "x"}).status_code == 200
    _mail(db)
    token = mailbox.inbox.link("zoe@example.com", "coordinator-invitation")
    admin.user.is_admin = False
    db.flush()
    refused = client.post("/api/v1/coordinator-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen"})
    assert refused.status_code == 400 and "no longer stands" in refused.get_json()["message"]
    assert db.scalar(select(CoordinatorInvitation.status)) == "pending"  # the refusal changed nothing
    assert client.post("/api/v1/coordinator-invitations/preview", json={"token": token}).get_json()["usable"]


def test_a_confirmed_account_is_granted_at_once_and_a_withdrawn_invitation_grants_nothing(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    programme = create(client, admin, name="Spring cohort")
    url = f"{ADMIN}/{programme['id']}/coordinator-invitations"
    lin = as_caller(UserFactory(email="lin@example.com"))
    now = client.post(url, headers=admin.headers, json={"email": "lin@example.com", "reason": "Runs it"})
    assert now.status_code == 200 and now.get_json()["granted"] is True
    assert now.get_json()["programme"]["coordinator_user_ids"] == [str(lin.user.id)]
    assert client.post(url, headers=admin.headers, json={"email": "lin@example.com", "reason": "x"}).status_code == 400
    sam = client.post(url, headers=admin.headers, json={"email": "sam@example.com", "reason": "Runs it"}).get_json()
    _mail(db)
    token = mailbox.inbox.link("sam@example.com", "coordinator-invitation")
    withdrawn = client.post(f"{url}/{sam['invitation']['id']}/withdraw", headers=admin.headers,
                            json={"reason": "Wrong person"})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    late = client.post("/api/v1/coordinator-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen"})
    assert late.status_code == 422
    # Only admins name coordinators, or read the invitations.
    assert client.post(url, headers=lin.headers, json={"email": "x@example.com", "reason": "x"}).status_code == 403
    assert client.get(url, headers=lin.headers).status_code == 403
    listed = client.get(url, headers=admin.headers).get_json()["items"]
    assert [(one["email"], one["status"]) for one in listed] == [("sam@example.com", "withdrawn")]
