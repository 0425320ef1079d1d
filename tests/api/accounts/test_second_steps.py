"""Two-step sign-in through the API: an authenticator app's codes on a clock the test controls, recovery codes, the
second step an admin requires of a domain (set up at sign-in, then recovered with a code), and wrong codes throttled
per account across addresses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from infra.config import get_settings
from models import AuthEvent, Notification, User
from tests.concurrency import concurrently
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from workflows.accounts import authenticators, second_steps

T0 = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The time the second steps read, set by the test."""
    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(second_steps, "utcnow", lambda: moment)
        monkeypatch.setattr(authenticators, "utcnow", lambda: moment)
    set_to(T0)
    return set_to


def token(client: FlaskClient, email: str, address: str = "10.9.0.1") -> Any:
    return client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": address})


def second_step(client: FlaskClient, challenge: str, address: str = "10.9.0.1", **code: str) -> Any:
    return client.post("/api/v1/auth/token/second-step", json={"challenge": challenge, **code},
                       environ_base={"REMOTE_ADDR": address})


def challenge_of(client: FlaskClient, email: str, address: str = "10.9.0.1") -> dict[str, Any]:
    response = token(client, email, address)
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert body["reason"] == "second_step_required"
    return body["second_step"]


def add_authenticator(client: FlaskClient, headers: dict[str, str], name: str = "Phone") -> tuple[str, list[str]]:
    begun = client.post("/api/v1/me/authenticators", json={"name": name}, headers=headers)
    assert begun.status_code == 201, begun.get_json()
    setup = begun.get_json()
    assert setup["uri"].startswith("otpauth://totp/") and setup["qr_svg"].startswith("<svg")
    confirmed = client.post(f"/api/v1/me/authenticators/{setup['id']}/confirm",
                            json={"code": pyotp.TOTP(setup["secret"]).at(T0)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    return setup["secret"], confirmed.get_json()["recovery_codes"]


def told(db: Session, user: User) -> list[str]:
    """The kinds of notices the user got, sorted (one test's requests share a transaction, and its time)."""
    db.expire_all()
    return sorted(db.scalars(select(Notification.type).where(Notification.user_id == user.id)))


def events(db: Session, user: User) -> list[str]:
    db.expire_all()
    return [kind.value for kind in db.scalars(select(AuthEvent.kind).where(AuthEvent.user_id == user.id)
                                              .order_by(AuthEvent.created_at, AuthEvent.id))]


def test_a_code_signs_in_within_one_step_of_the_clock_and_never_twice(client: FlaskClient, db: Session,
                                                                      clock: Callable[[datetime], None]) -> None:
    user = UserFactory()
    db.commit()
    secret, codes = add_authenticator(client, as_caller(user).headers)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert told(db, user) == ["account.authenticator_added"]
    totp = pyotp.TOTP(secret)

    due = challenge_of(client, user.email)
    assert due["methods"] == ["totp", "recovery_code"] and due["enrolment"] is False
    wrong = second_step(client, due["challenge"], code="000000" if totp.at(T0) != "000000" else "111111")
    assert (wrong.status_code, wrong.get_json()["reason"]) == (401, "second_step_failed")
    # The confirmation spent T0's step: its code is refused now, as is the step before it.
    for used in (totp.at(T0), totp.at(T0 - timedelta(seconds=30))):
        refused = second_step(client, due["challenge"], code=used)
        assert refused.get_json()["reason"] == "second_step_failed"
    clock(T0 + timedelta(seconds=60))
    # Two steps ahead of the clock: refused; one step ahead: accepted (drift of one step).
    assert second_step(client, due["challenge"], code=totp.at(T0 + timedelta(seconds=120))).status_code == 401
    signed_in = second_step(client, due["challenge"], code=totp.at(T0 + timedelta(seconds=90)))
    assert signed_in.status_code == 200, signed_in.get_json()
    body = signed_in.get_json()
    assert body["recovery_codes"] is None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    # A challenge signs in once.
    assert second_step(client, due["challenge"], code=totp.at(T0 + timedelta(seconds=60))).get_json()["reason"] == \
        "second_step_expired"

    # The code used is refused in its window, and the one of the step the clock is at (earlier) too.
    again = challenge_of(client, user.email)
    for used in (totp.at(T0 + timedelta(seconds=90)), totp.at(T0 + timedelta(seconds=60))):
        assert second_step(client, again["challenge"], code=used).get_json()["reason"] == "second_step_failed"
    clock(T0 + timedelta(seconds=120))
    assert second_step(client, again["challenge"], code=totp.at(T0 + timedelta(seconds=120))).status_code == 200
    assert events(db, user).count("second_step_failed") == 6
    assert events(db, user)[-1] == "signed_in"


def test_one_code_sent_at_once_on_four_challenges_signs_in_once(seed: Session, committed: sessionmaker[Session],
                                                                  clock: Callable[[datetime], None]) -> None:
    user = UserFactory()
    seed.commit()
    app = create_app(get_settings(), session_factory=committed)
    client = app.test_client()
    secret, _codes = add_authenticator(client, as_caller(user).headers)
    challenges = [challenge_of(client, user.email)["challenge"] for _ in range(4)]
    code = pyotp.TOTP(secret).at(T0 + timedelta(seconds=30))
    statuses = concurrently([lambda challenge=challenge: second_step(app.test_client(), challenge, code=code)
                             .status_code for challenge in challenges])
    assert sorted(statuses) == [200, 401, 401, 401]


def test_a_domain_required_to_take_a_second_step_sets_it_up_at_sign_in_and_recovers_with_a_code(
        client: FlaskClient, db: Session, clock: Callable[[datetime], None]) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    student = UserFactory(email="ana@example.edu")
    elsewhere = UserFactory(email="bo@example.org")
    db.commit()
    assert client.put("/api/v1/admin/second-step-rule", json={"every_account": False, "domains": ["Example.EDU"]},
                      headers=as_caller(student).headers).status_code == 403
    rule = client.put("/api/v1/admin/second-step-rule", json={"every_account": False, "domains": ["Example.EDU"]},
                      headers=admin.headers)
    assert rule.get_json() == {"every_account": False, "domains": ["example.edu"]}
    assert client.get("/api/v1/admin/second-step-rule", headers=admin.headers).get_json() == rule.get_json()
    assert token(client, elsewhere.email).status_code == 200  # another domain signs in as before

    due = challenge_of(client, student.email)
    assert due["enrolment"] is True and due["methods"] == ["totp"]
    setup = client.post("/api/v1/auth/token/second-step/setup", json={"challenge": due["challenge"]}).get_json()
    signed_in = second_step(client, due["challenge"], code=pyotp.TOTP(setup["secret"]).at(T0))
    assert signed_in.status_code == 200, signed_in.get_json()
    codes = signed_in.get_json()["recovery_codes"]
    assert len(codes) == 10
    headers = {"Authorization": f"Bearer {signed_in.get_json()['access_token']}"}
    mine = client.get("/api/v1/me/authenticators", headers=headers).get_json()
    assert (mine["recovery_codes_left"], mine["required"], len(mine["authenticators"])) == (10, True, 1)
    # The only authenticator of someone it is required of stays (even after a fresh sign-in).
    clock(datetime.now(UTC))
    removed = client.delete(f"/api/v1/me/authenticators/{mine['authenticators'][0]['id']}", headers=headers)
    assert (removed.status_code, removed.get_json()["reason"]) == (409, "second_step_required_here")

    # The phone is lost: a recovery code signs in, once.
    lost = challenge_of(client, student.email)
    recovered = second_step(client, lost["challenge"], recovery_code=codes[3].upper())
    assert recovered.status_code == 200, recovered.get_json()
    again = challenge_of(client, student.email)
    assert second_step(client, again["challenge"], recovery_code=codes[3]).get_json()["reason"] == \
        "second_step_failed"
    assert client.get("/api/v1/me/authenticators", headers=headers).get_json()["recovery_codes_left"] == 9
    assert told(db, student) == ["account.authenticator_added", "account.recovery_code_used"]
    # One test's requests share a transaction, and its time: the notices are found by their kind, not their order.
    notice = next(item for item in client.get("/api/v1/notifications", headers=headers).get_json()["items"]
                  if item["type"] == "account.recovery_code_used")
    assert "9 codes are left" in notice["body"]
    assert {"second_step_asked", "authenticator_added", "recovery_code_used", "second_step_failed"} <= \
        set(events(db, student))

    # The rule lifted: the authenticator still asks its code (it is the person's own).
    client.put("/api/v1/admin/second-step-rule", json={"every_account": False, "domains": []}, headers=admin.headers)
    assert challenge_of(client, student.email)["enrolment"] is False


def test_wrong_codes_are_throttled_per_account_from_any_address(client: FlaskClient, db: Session,
                                                                clock: Callable[[datetime], None]) -> None:
    user = UserFactory()
    bystander = UserFactory()
    db.commit()
    secret, _codes = add_authenticator(client, as_caller(user).headers)
    add_authenticator(client, as_caller(bystander).headers)
    wrong = "000000" if pyotp.TOTP(secret).at(T0) != "000000" else "111111"
    for n in range(10):  # ten wrong codes, each from another address, over three challenges
        address = f"10.9.1.{n}"
        if n % 4 == 0:
            challenge = challenge_of(client, user.email, address)["challenge"]
        assert second_step(client, challenge, address, code=wrong).status_code == 401
    fresh = challenge_of(client, user.email, "10.9.2.1")
    right = pyotp.TOTP(secret).at(T0 + timedelta(seconds=30))
    throttled = second_step(client, fresh["challenge"], "10.9.2.1", code=right)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # Another account is not held back.
    other = challenge_of(client, bystander.email, "10.9.3.1")
    assert second_step(client, other["challenge"], "10.9.3.1", code=wrong).get_json()["reason"] == "second_step_failed"


def test_removing_an_authenticator_or_renewing_codes_needs_a_fresh_sign_in(client: FlaskClient, db: Session,
                                                                           clock: Callable[[datetime], None]) -> None:
    user = UserFactory()
    db.commit()
    secret, _codes = add_authenticator(client, as_caller(user).headers)
    due = challenge_of(client, user.email)
    clock(T0 + timedelta(seconds=30))
    signed_in = second_step(client, due["challenge"], code=pyotp.TOTP(secret).at(T0 + timedelta(seconds=30)))
    headers = {"Authorization": f"Bearer {signed_in.get_json()['access_token']}"}
    listed = client.get("/api/v1/me/authenticators", headers=headers).get_json()["authenticators"]
    # A token of no recent sign-in (the factory's) cannot remove it.
    assert client.delete(f"/api/v1/me/authenticators/{listed[0]['id']}",
                         headers=as_caller(user).headers).get_json()["reason"] == "sign_in_again"
    clock(datetime.now(UTC) + timedelta(minutes=11))
    assert client.post("/api/v1/me/recovery-codes", headers=headers).get_json()["reason"] == "sign_in_again"
    clock(datetime.now(UTC))
    renewed = client.post("/api/v1/me/recovery-codes", headers=headers)
    assert renewed.status_code == 200 and len(renewed.get_json()["recovery_codes"]) == 10
    assert client.patch(f"/api/v1/me/authenticators/{listed[0]['id']}", json={"name": "  Work   phone "},
                        headers=headers).get_json()["name"] == "Work phone"
    assert client.delete(f"/api/v1/me/authenticators/{listed[0]['id']}", headers=headers).status_code == 204
    assert told(db, user) == ["account.authenticator_added", "account.authenticator_removed",
                              "account.recovery_codes_renewed"]
    # None left: the password alone signs in again, and the recovery codes went with it.
    assert token(client, user.email).status_code == 200
    assert client.get("/api/v1/me/authenticators", headers=headers).get_json()["recovery_codes_left"] == 0


def test_a_sign_in_waiting_for_its_second_step_ends_with_a_password_change(client: FlaskClient, db: Session,
                                                                           clock: Callable[[datetime], None]) -> None:
    user = UserFactory()
    db.commit()
    secret, _codes = add_authenticator(client, as_caller(user).headers)
    waiting = challenge_of(client, user.email)
    changed = client.post("/api/v1/me/password", headers=as_caller(user).headers,
                          json={"current_password": PASSWORD, "new_password": "an entirely new passphrase 42"})
    assert changed.status_code == 200, changed.get_json()
    late = second_step(client, waiting["challenge"], code=pyotp.TOTP(secret).at(T0 + timedelta(seconds=30)))
    assert (late.status_code, late.get_json()["reason"]) == (401, "second_step_expired")


def test_the_api_and_the_workers_load_the_second_step_sign_on_scim_markdown_and_calendar_libraries_only_where_used(
        database_url: str) -> None:
    # pyotp 1.3 MB, segno 6 MB, webauthn with pyOpenSSL, markdown-it-py and nh3 4 MB, pysaml2 (saml2) with xmlschema,
    # scim2-models with pydantic, Authlib and joserfc 5 MB, icalendar and recurring-ical-events 3 MB: an API process
    # that checks no code, signs no one in by SAML or OpenID Connect, serves no SCIM request, shows no message and
    # reads or writes no calendar holds none of them (the bench's rss_mb_api_worker).
    code = ("import sys\nfrom api import create_app\ncreate_app()\nimport workers\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pyotp', 'segno', 'webauthn', 'OpenSSL', 'markdown_it', 'nh3', 'saml2', 'xmlschema', 'scim2_models',"
            " 'pydantic', 'authlib', 'joserfc', 'icalendar', 'recurring_ical_events'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
