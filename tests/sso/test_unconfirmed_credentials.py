"""What an account made while its address was unconfirmed (a calendar feed, webhook endpoints) ends when the
address's owner proves it: by taking the address back through their organisation's sign-on (the real provider the
tests start), by a password reset through the mailed link, and when signing out everywhere; the owner is told.
What was made once the address was confirmed stays."""

from __future__ import annotations

import secrets
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AccountToken, CalendarFeed, Notification, User, WebhookEndpoint
from tests.factories.oidc_provider import Provider
from tests.factories.sign_on import organisation, person, signed_on
from tests.mail import Mailbox
from workflows.accounts import emails as account_emails

PASSWORD = "a squatter's long passphrase"
ENDED = "account.unconfirmed_credentials_ended"


def _register(client: FlaskClient, email: str) -> dict[str, str]:
    made = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Early"})
    assert made.status_code == 201, made.get_json()
    token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).get_json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _feed(client: FlaskClient, headers: dict[str, str]) -> str:
    made = client.post("/api/v1/me/calendar-token", headers=headers)
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["url"]).removeprefix("http://localhost")


def _endpoint(client: FlaskClient, headers: dict[str, str], path: str = "in") -> str:
    made = client.post("/api/v1/webhook-endpoints", headers=headers,
                       json={"url": f"https://hooks.example.com/{path}", "event_types": ["*"]})
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["id"])


def _enabled(db: Session, endpoint_id: str) -> bool:
    endpoint = db.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    assert endpoint is not None
    return endpoint.enabled


def _told(db: Session, email: str) -> list[dict[str, Any]]:
    user = db.scalars(select(User).where(User.email == email)).one()
    return [row.data for row in db.scalars(select(Notification).where(Notification.user_id == user.id,
                                                                       Notification.type == ENDED))]


def test_the_owner_taking_the_address_back_through_sign_on_ends_the_squatter_s_feed_and_webhooks(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    org = organisation(db, oidc_provider)
    address = f"early-{secrets.token_hex(4)}@{org.domain}"
    squatter = _register(client, address)
    feed = _feed(client, squatter)
    endpoint = _endpoint(client, squatter)
    assert client.get(feed).status_code == 200 and _enabled(db, endpoint)
    login, _ = person(org, email=address)
    owner = signed_on(client, org, login)
    assert client.get(feed).status_code == 404  # the owner's sessions are no longer served to the squatter
    listed = client.get(f"/api/v1/webhook-endpoints/{endpoint}", headers=owner).get_json()
    assert listed["enabled"] is False
    assert "made before the account's address was confirmed" in listed["disabled_reason"]
    status = client.get("/api/v1/me/calendar-token", headers=owner).get_json()
    assert (status["active"], status["revoked_reason"]) == (False, "address_claimed")
    (told,) = _told(db, address)
    assert (told["reason"], told["calendar_feed"], told["webhook_urls"]) == (
        "address_claimed", True, ["https://hooks.example.com/in"])


def test_a_password_reset_disables_the_webhooks_made_while_the_address_was_unconfirmed(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    address = f"reset-{secrets.token_hex(4)}@example.com"
    squatter = _register(client, address)
    endpoint = _endpoint(client, squatter)
    feed = _feed(client, squatter)
    assert client.post("/api/v1/auth/password-reset", json={"email": address}).status_code == 202
    for token_id in db.scalars(select(AccountToken.id).where(AccountToken.email_status == "pending")):
        account_emails.deliver(db, token_id)
    token = mailbox.inbox.link(address, "reset-password")
    done = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "the owner's own"})
    assert done.status_code == 204, done.get_json()
    assert not _enabled(db, endpoint)
    assert client.get(feed).status_code == 404
    (told,) = _told(db, address)
    assert told["webhook_urls"] == ["https://hooks.example.com/in"]


def test_signing_out_everywhere_ends_what_was_made_unconfirmed_and_keeps_what_was_made_since(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    address = f"later-{secrets.token_hex(4)}@example.com"
    early = _register(client, address)
    before = _endpoint(client, early, "before")
    feed = _feed(client, early)
    for token_id in db.scalars(select(AccountToken.id).where(AccountToken.email_status == "pending")):
        account_emails.deliver(db, token_id)
    confirmed = client.post("/api/v1/auth/verify-email", json={"token": mailbox.inbox.link(address, "verify-email")})
    assert confirmed.status_code == 200
    since = _endpoint(client, early, "since")
    assert client.post("/api/v1/auth/logout", headers=early).status_code == 204
    assert not _enabled(db, before) and _enabled(db, since)
    assert client.get(feed).status_code == 404
    user = db.scalars(select(User).where(User.email == address)).one()
    assert db.get(CalendarFeed, user.id, populate_existing=True).revoked_reason == "signed_out"
    (told,) = _told(db, address)
    assert told["webhook_urls"] == ["https://hooks.example.com/before"]
    # Signed in again, a feed made now stays through the next sign-out everywhere.
    again = client.post("/api/v1/auth/token", json={"email": address, "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {again['access_token']}"}
    kept = _feed(client, headers)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get(kept).status_code == 200
    assert len(_told(db, address)) == 1
