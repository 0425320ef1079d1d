"""Email verification and password reset, through the API, with the links read out of the mail a real SMTP
server received. The mails go out as the notifications worker sends them (``account_emails.deliver``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import AccountToken, Notification, User
from tests.api_calls import feed_url
from tests.database import notifications_read
from tests.domain_calls import notice
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from tests.factories.sessions import make_session
from tests.mail import Mailbox
from workflows import inbox
from workflows.accounts import emails as account_emails
from workflows.notifications import mail


def send_links(db: Session) -> None:
    """What the worker does after the commit: mail every link owed."""
    for token_id in db.scalars(select(AccountToken.id).where(AccountToken.email_status == "pending")):
        account_emails.deliver(db, token_id)


def send_notices(db: Session, user_id: Any) -> None:
    for notification_id in db.scalars(select(Notification.id).where(Notification.user_id == user_id,
                                                                    Notification.email_status == "pending")):
        mail.deliver_email(db, notification_id)


def register(client: FlaskClient, email: str, password: str = "a long enough password") -> dict[str, str]:  # noqa: S107
    created = client.post("/api/v1/auth/register", json={"email": email, "password": password, "display_name": "Ada"})
    assert created.status_code == 201, created.get_json()
    token = client.post("/api/v1/auth/token", json={"email": email, "password": password}).get_json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_new_address_is_verified_through_the_link_mailed_to_it(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    headers = register(client, "ada@example.com")
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert (me["email_verified"], me["pending_email"]) == (False, None)
    send_links(db)
    (mail,) = mailbox.inbox.to("ada@example.com")
    assert mail["Subject"] == "Confirm your email address"
    token = mailbox.inbox.link("ada@example.com", "verify-email")
    assert token not in str(db.scalars(select(AccountToken.token_hash)).all())  # only its hash is stored
    verified = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200 and verified.get_json() == {"email": "ada@example.com", "email_verified": True}
    assert client.get("/api/v1/me", headers=headers).get_json()["email_verified"] is True
    again = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 422 and "used or expired" in again.get_json()["message"]
    assert client.post("/api/v1/auth/verify-email", json={"token": "x" * 43}).status_code == 422
    assert client.post("/api/v1/me/email-verification", headers=headers).status_code == 400  # nothing left


def test_an_unverified_address_gets_no_mail_but_its_links(client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    headers = register(client, "grace@example.com")
    user = db.scalars(select(User).where(User.email == "grace@example.com")).one()
    first = inbox.notify_user(db, user.id, type_="booking.accepted", said=notice("Booking accepted", "Hi"),
                                      data={})
    assert first is not None and mail.deliver_email(db, first) is False
    assert db.get(Notification, first).email_status == "none"
    assert client.get("/api/v1/notifications", headers=headers).get_json()["items"]  # in-app still
    assert client.post("/api/v1/me/email-verification", headers=headers).status_code == 202  # the earlier link ends
    send_links(db)
    assert [m["Subject"] for m in mailbox.inbox.to("grace@example.com")] == ["Confirm your email address"]
    assert client.post("/api/v1/auth/verify-email",
                       json={"token": mailbox.inbox.link("grace@example.com", "verify-email")}).status_code == 200
    later = inbox.notify_user(db, user.id, type_="booking.declined", said=notice("Booking declined", "Hi"),
                                      data={})
    assert later is not None and mail.deliver_email(db, later) is True
    assert mailbox.inbox.to("grace@example.com")[-1]["Subject"] == "Booking declined"


def test_a_forgotten_password_is_reset_through_a_single_use_link(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    _mentor, mentee, _session = make_session(db, datetime.now(UTC) + timedelta(days=2))
    mentee.user.email = "alan@example.com"
    db.flush()
    feed = feed_url(client, mentee)
    refresh = client.post("/api/v1/auth/token", json={"email": "alan@example.com", "password": PASSWORD}).get_json()
    known = client.post("/api/v1/auth/password-reset", json={"email": "Alan@Example.com"})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.status_code == 202
    send_links(db)
    assert [m["To"] for m in mailbox.inbox.messages] == ["alan@example.com"]  # nothing to the unknown address
    token = mailbox.inbox.link("alan@example.com", "reset-password")

    checked = client.post("/api/v1/auth/password-reset/check", json={"token": token})
    assert checked.status_code == 200 and "expires_at" in checked.get_json()  # checking spends nothing
    assert client.post("/api/v1/auth/password-reset/check", json={"token": token}).status_code == 200
    assert client.post("/api/v1/auth/password-reset/check", json={"token": "x" * 43}).status_code == 422
    assert client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": "short"}).status_code == 422
    done = client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": "a brand new passphrase"})
    assert done.status_code == 204
    assert client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": "another new passphrase"}).status_code == 422
    spent = client.post("/api/v1/auth/password-reset/check", json={"token": token})
    assert spent.status_code == 422 and "invalid, used or expired" in spent.get_json()["message"]
    assert client.get("/api/v1/me", headers=mentee.headers).status_code == 401  # every access token ended
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": refresh["refresh_token"]}).status_code == 401
    assert client.get(feed).status_code == 404
    assert client.post("/api/v1/auth/token", json={"email": "alan@example.com", "password": PASSWORD}
                       ).status_code == 401
    signed_in = client.post("/api/v1/auth/token",
                            json={"email": "alan@example.com", "password": "a brand new passphrase"})
    assert signed_in.status_code == 200
    fresh = {"Authorization": f"Bearer {signed_in.get_json()['access_token']}"}
    assert client.get("/api/v1/me/calendar-token", headers=fresh).get_json()["revoked_reason"] == "password_reset"
    send_notices(db, mentee.user.id)
    assert "Your password was reset" in [m["Subject"] for m in mailbox.inbox.to("alan@example.com")]


def test_a_reset_link_expires_and_a_newer_one_replaces_it(client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    UserFactory(email="edsger@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "edsger@example.com"})
    send_links(db)
    first = mailbox.inbox.link("edsger@example.com", "reset-password")
    client.post("/api/v1/auth/password-reset", json={"email": "edsger@example.com"})
    send_links(db)
    second = mailbox.inbox.link("edsger@example.com", "reset-password")
    assert first != second
    body = {"new_password": "a brand new passphrase"}
    assert client.post("/api/v1/auth/password-reset/confirm", json={"token": first, **body}).status_code == 422
    db.execute(update(AccountToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1),
                                           created_at=datetime.now(UTC) - timedelta(minutes=31)))
    assert client.post("/api/v1/auth/password-reset/confirm", json={"token": second, **body}).status_code == 422
    assert client.post("/api/v1/auth/password-reset/check", json={"token": second}).status_code == 422  # expired


def test_completing_a_reset_verifies_the_address(client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    user = UserFactory(email="barbara@example.com", email_verified_at=None)
    client.post("/api/v1/auth/password-reset", json={"email": "barbara@example.com"})
    send_links(db)
    token = mailbox.inbox.link("barbara@example.com", "reset-password")
    assert client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": "a brand new passphrase"}).status_code == 204
    db.refresh(user)
    assert user.email_verified_at is not None


def test_a_new_email_replaces_the_old_one_once_verified_and_the_old_one_is_told(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    caller = as_caller(UserFactory(email="old@example.com"))
    url = "/api/v1/me"
    assert client.patch(url, headers=caller.headers, json={"email": "new@example.com"}).status_code == 422
    wrong = client.patch(url, headers=caller.headers, json={"email": "new@example.com", "current_password": "nope"})
    assert wrong.status_code == 403
    taken = UserFactory(email="taken@example.com")
    assert client.patch(url, headers=caller.headers,
                        json={"email": taken.email, "current_password": PASSWORD}).status_code == 409
    asked = client.patch(url, headers=caller.headers, json={"email": "New@Example.com", "current_password": PASSWORD})
    assert asked.status_code == 200
    assert (asked.get_json()["email"], asked.get_json()["pending_email"]) == ("old@example.com", "new@example.com")
    send_links(db)
    send_notices(db, caller.user.id)
    assert [m["Subject"] for m in mailbox.inbox.to("old@example.com")] == ["Your email is being changed"]
    token = mailbox.inbox.link("new@example.com", "verify-email")
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 200
    me = client.get(url, headers=caller.headers).get_json()
    assert (me["email"], me["pending_email"], me["email_verified"]) == ("new@example.com", None, True)
    send_notices(db, caller.user.id)
    assert [m["Subject"] for m in mailbox.inbox.to("old@example.com")][-1] == "Your email was changed"
    notices = client.get("/api/v1/notifications", headers=caller.headers).get_json()["items"]
    assert "old@example.com" not in str(notices)  # where a notice went is not shown back


def test_a_changed_password_mails_a_notice(client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    caller = as_caller(UserFactory(email="hedy@example.com"))
    changed = client.post("/api/v1/me/password", headers=caller.headers,
                          json={"current_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert changed.status_code == 200
    send_notices(db, caller.user.id)
    assert [m["Subject"] for m in mailbox.inbox.to("hedy@example.com")] == ["Your password was changed"]
    # The mail writes the way back out; the notice in the app is a link, its words no address.
    mailed = mailbox.inbox.to("hedy@example.com")[0].get_payload(decode=True).decode()
    assert "/#/forgot-password" in mailed
    (notice,) = notifications_read(db, Notification.user_id == caller.user.id,
                                   Notification.type == "account.password_changed")
    assert "http" not in notice.body and notice.data["link"] == "#/forgot-password"


def test_reset_requests_are_rate_limited_per_address(client: FlaskClient, db: Session) -> None:
    UserFactory(email="limited@example.com")
    answers = [client.post("/api/v1/auth/password-reset", json={"email": "limited@example.com"}).status_code
               for _ in range(6)]
    assert answers == [202] * 5 + [429]
    assert client.post("/api/v1/auth/password-reset", json={"email": "other@example.com"}).status_code == 202
    assert len(db.scalars(select(AccountToken.id)).all()) == 5


def ask_for_a_new_email(client: FlaskClient, db: Session, mailbox: Mailbox, caller: Any, new: str) -> str:
    """Someone who knows the password asks to move the account to ``new``; the token mailed there."""
    asked = client.patch("/api/v1/me", headers=caller.headers, json={"email": new, "current_password": PASSWORD})
    assert asked.status_code == 200 and asked.get_json()["pending_email"] == new
    send_links(db)
    return mailbox.inbox.link(new, "verify-email")


def test_a_password_change_a_reset_or_signing_out_everywhere_ends_a_pending_email_change(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    # The attacker's link to their address must not outlive the owner taking the account back.
    owner = as_caller(UserFactory(email="owner@example.com"))
    token = ask_for_a_new_email(client, db, mailbox, owner, "attacker1@example.com")
    assert client.post("/api/v1/me/password", headers=owner.headers, json={
        "current_password": PASSWORD, "new_password": "the owner's new passphrase"}).status_code == 200
    used = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert used.status_code == 422 and "used or expired" in used.get_json()["message"]

    owner = as_caller(UserFactory(email="owner2@example.com"))
    token = ask_for_a_new_email(client, db, mailbox, owner, "attacker2@example.com")
    assert client.post("/api/v1/auth/password-reset", json={"email": "owner2@example.com"}).status_code == 202
    send_links(db)
    reset = mailbox.inbox.link("owner2@example.com", "reset-password")
    assert client.post("/api/v1/auth/password-reset/confirm", json={
        "token": reset, "new_password": "a reset passphrase here"}).status_code == 204
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 422

    owner = as_caller(UserFactory(email="owner3@example.com"))
    token = ask_for_a_new_email(client, db, mailbox, owner, "attacker3@example.com")
    assert client.post("/api/v1/auth/logout", headers=owner.headers).status_code == 204  # sign out everywhere
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 422
    assert db.scalars(select(User.email).where(User.email.like("attacker%"))).all() == []


def test_the_owner_cancels_a_pending_email_change_in_their_settings(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    owner = as_caller(UserFactory(email="ada2@example.com"))
    assert client.delete("/api/v1/me/pending-email", headers=owner.headers).status_code == 404  # none waits
    token = ask_for_a_new_email(client, db, mailbox, owner, "elsewhere@example.com")
    assert client.delete("/api/v1/me/pending-email", headers=owner.headers).status_code == 204
    assert client.get("/api/v1/me", headers=owner.headers).get_json()["pending_email"] is None
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 422
    assert client.delete("/api/v1/me/pending-email", headers=owner.headers).status_code == 404


def test_the_address_being_left_gets_a_link_whose_page_cancels_the_change_with_a_post(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    owner = as_caller(UserFactory(email="kept@example.com"))
    token = ask_for_a_new_email(client, db, mailbox, owner, "taker@example.com")
    (notice,) = mailbox.inbox.to("kept@example.com")
    assert notice["Subject"] == "Your email is being changed"
    cancel = mailbox.inbox.link("kept@example.com", "cancel-email-change")
    # Opening the link is the web app's page: nothing changes until its button POSTs the token.
    assert client.get("/api/v1/me", headers=owner.headers).get_json()["pending_email"] == "taker@example.com"
    assert client.post("/api/v1/auth/cancel-email-change", json={"token": cancel}).status_code == 204
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 422
    assert client.get("/api/v1/me", headers=owner.headers).status_code == 401  # every sign-in ended
    assert client.post("/api/v1/auth/cancel-email-change", json={"token": cancel}).status_code == 422  # once
    assert db.get_one(User, owner.user.id).email == "kept@example.com"
