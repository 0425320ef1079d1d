"""Enrolment through the API: a CSV upload checked row by row, invitations mailed within the hourly cap to a real SMTP
server and answered from their links (registering, or joining with a click), join links with their cap held under
a crowd, leaving and removal keeping the record, and who sees whom."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxEvent, ProgrammeInvitation, ProgrammeJoinLink, ProgrammeParticipant, User
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create, join_link, running_programme, upload
from tests.mail import Mailbox
from tests.servers import live_app
from workflows.programmes import invitation_mail

HEADER = "name,email,role,capacity\n"


def test_a_csv_is_checked_row_by_row_and_its_good_rows_are_invited(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    taking_part = UserFactory()
    db.add(ProgrammeParticipant(id=uuid.uuid4(), programme_id=uuid.UUID(programme["id"]), user_id=taking_part.id,
                                role="mentee", status="active"))
    db.flush()
    content = (HEADER
               + "Ada,ada@example.com,mentor,3\n"                                 # line 2
               + "Lin,lin@example.com,Mentee,\n"                                  # line 3
               + '"=HYPERLINK(""http://evil.example"",""x"")",eve@example.com,mentee,\n'  # line 4: a formula name
               + "Bad,not-an-address,mentee,\n"                                   # line 5
               + "Again,ADA@Example.com,mentor,\n"                                # line 6: line 2 again
               + "Role,role@example.com,teacher,\n"                               # line 7
               + "Cap,cap@example.com,mentee,2\n"                                 # line 8: a mentee's capacity
               + "\n"                                                             # line 9: blank, skipped
               + f"Member,{taking_part.email},mentee,\n"                          # line 10
               + "Many,many@example.com,mentor,21\n")                             # line 11
    answer = upload(client, coordinator, programme["id"], content)
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert [(row["line"], row["email"]) for row in report["invited"]] == [
        (2, "ada@example.com"), (3, "lin@example.com"), (4, "eve@example.com")]
    assert [(row["line"], row["message"]) for row in report["errors"]] == [
        (5, "not an email address: not-an-address"), (6, "the same address as line 2"),
        (7, "the role is neither mentor nor mentee"), (8, "a mentee has no capacity"),
        (11, "a mentor's capacity is 1 to 20 mentees")]
    assert [(row["line"], row["message"]) for row in report["skipped"]] == [(10, "already takes part")]
    assert report["errors"][1]["email"] == "ADA@Example.com"  # a row's address as the file typed it
    stored = {row.email: row for row in db.scalars(select(ProgrammeInvitation))}
    assert set(stored) == {"ada@example.com", "lin@example.com", "eve@example.com"}
    assert stored["eve@example.com"].name == '=HYPERLINK("http://evil.example","x")'  # kept as typed
    assert (stored["ada@example.com"].capacity, stored["lin@example.com"].capacity) == (3, None)
    # The same file again invites no one twice.
    again = upload(client, coordinator, programme["id"], content).get_json()
    assert again["invited"] == [] and [row["line"] for row in again["skipped"]] == [2, 3, 4, 10]
    assert db.scalar(select(func.count()).select_from(ProgrammeInvitation)) == 3


def test_a_semicolon_or_tab_separated_file_is_read_as_its_header_says(client: FlaskClient, db: Session) -> None:
    """Spreadsheets of many locales (French, German) save CSV with semicolons: read, not refused."""
    coordinator, programme = running_programme(client)
    for separator, email in ((";", "ana@example.com"), ("\t", "tom@example.com")):
        content = separator.join(("name", "email", "role")) + "\n" + separator.join(("Ana, R.", email, "mentee")) + "\n"
        report = upload(client, coordinator, programme["id"], content).get_json()
        assert [(row["email"], row["name"]) for row in report["invited"]] == [(email, "Ana, R.")], report
    wrong = upload(client, coordinator, programme["id"], "name|email|role\nAna|ana@example.com|mentee\n")
    assert wrong.status_code == 400 and "separated by commas, semicolons or tabs" in wrong.get_json()["message"]


def test_a_file_that_is_no_such_table_is_refused_whole(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    cases = [
        # (a semicolon-separated file was one; it is read now: a separator no spreadsheet writes is one)
        ("name|email|role\nA|a@example.com|mentee\n", 400, "lacks email and role"),
        ("Ada,ada@example.com,mentor\n".encode("utf-16"), 400, "not UTF-8"),
        (b"email,role\n\xff\xfe,mentee\n", 400, "not UTF-8"),
        (HEADER + "".join(f"P{i},p{i}@example.com,mentee,\n" for i in range(10_001)), 400, "at most 10,000"),
        ("email,role\n" + "a" * 200_000 + "@example.com,mentee\n", 400, "not a CSV row"),
    ]
    for content, status, words in cases:
        answer = upload(client, coordinator, programme["id"], content)
        assert answer.status_code == status and words in answer.get_json()["message"], answer.get_json()
    # 50 MB is refused from its length, before it is read.
    huge = client.post(f"{BASE}/{programme['id']}/invitations/upload", headers=coordinator.headers,
                       data=b"x" * (50 * 1024 * 1024), content_type="multipart/form-data; boundary=x")
    assert huge.status_code == 413
    assert client.post(f"{BASE}/{programme['id']}/invitations/upload", headers=coordinator.headers,
                       data={}, content_type="multipart/form-data").status_code == 422
    assert db.scalar(select(func.count()).select_from(ProgrammeInvitation)) == 0


def test_ten_thousand_rows_are_invited_in_one_upload(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    content = HEADER + "".join(f"Person {i},person{i}@example.org,{'mentor' if i % 10 == 0 else 'mentee'},\n"
                               for i in range(10_000))
    answer = upload(client, coordinator, programme["id"], content)
    assert answer.status_code == 200
    report = answer.get_json()
    assert (len(report["invited"]), report["errors"], report["skipped"]) == (10_000, [], [])
    assert db.scalar(select(func.count()).select_from(ProgrammeInvitation)) == 10_000


def test_invitations_are_mailed_within_the_hourly_cap_and_answered_from_their_links(
        client: FlaskClient, db: Session, mailbox: Mailbox, configure: Callable[..., None]) -> None:
    configure(PROGRAMME_INVITATIONS_PER_HOUR="2")
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory(display_name="Grace"))
    programme = create(client, admin, coordinator, name="Spring cohort")
    member = UserFactory(email="ada@example.com", email_verified_at=None)
    invited = client.post(f"{BASE}/{programme['id']}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": "ada@example.com", "role": "mentor"}, {"email": "lin@example.com", "name": "Lin", "role": "mentee"},
        {"email": "sam@example.com", "role": "mentee"}, {"email": "nobody", "role": "mentee"}]})
    assert invited.status_code == 200
    assert [row["line"] for row in invited.get_json()["errors"]] == [4]
    programme_id = uuid.UUID(programme["id"])
    # A draft mails no one; once enrolment opens, two go this hour and the third waits.
    assert invitation_mail.deliver_invitations(db, programme_id) == (0, 0)
    assert client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers).status_code == 200
    assert invitation_mail.deliver_invitations(db, programme_id) == (2, 0)
    assert invitation_mail.deliver_invitations(db, programme_id) == (0, 0)
    assert {m["To"] for m in mailbox.inbox.messages} == {"ada@example.com", "lin@example.com"}
    subject = mailbox.inbox.to("lin@example.com")[0]["Subject"]
    assert str(make_header(decode_header(subject))) == "You are invited to \u201cSpring cohort\u201d"
    waiting = db.scalar(select(ProgrammeInvitation).where(ProgrammeInvitation.email == "sam@example.com"))
    assert waiting is not None and (waiting.email_status, waiting.emailed_at) == ("pending", None)
    # (the test's transaction reads one now(), from before the rows were made)
    assert invitation_mail.owed_mail(db, older_than=timedelta(minutes=-1)) == [programme_id]

    # Lin has no account: registers from the link, confirmed, and takes part.
    token = mailbox.inbox.link("lin@example.com", "programme-invitation")
    preview = client.post("/api/v1/programme-invitations/preview", json={"token": token}).get_json()
    assert (preview["programme"]["name"], preview["role"], preview["usable"], preview["account_exists"]) == (
        "Spring cohort", "mentee", True, False)
    registered = client.post("/api/v1/programme-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen"})
    assert registered.status_code == 201
    lin = {"Authorization": f"Bearer {registered.get_json()['access_token']}"}
    me = client.get("/api/v1/me", headers=lin).get_json()
    assert (me["email"], me["display_name"], me["email_verified"]) == ("lin@example.com", "Lin", True)
    mine = client.get(f"{BASE}/{programme['id']}", headers=lin).get_json()
    assert mine["viewer_role"] == "mentee" and mine["participant_id"]
    assert client.post("/api/v1/programme-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen"}).status_code == 422  # used

    # Ada has an account: another account cannot use her link; hers joins with a click and confirms the address.
    token = mailbox.inbox.link("ada@example.com", "programme-invitation")
    assert client.post("/api/v1/programme-invitations/register", json={
        "token": token, "password": "a longer passphrase nobody has seen"}).status_code == 409
    stranger = client.post("/api/v1/programme-invitations/accept", headers=as_caller(UserFactory()).headers,
                           json={"token": token})
    assert stranger.status_code == 403
    joined = client.post("/api/v1/programme-invitations/accept", headers=as_caller(member).headers,
                         json={"token": token})
    assert joined.status_code == 200
    assert (joined.get_json()["role"], joined.get_json()["capacity"]) == ("mentor", 2)
    db.refresh(member)
    assert member.email_verified_at is not None
    assert client.post("/api/v1/programme-invitations/decline", json={"token": token}).status_code == 422

    # Sam's invitation, withdrawn before its mail went: no mail goes, and its link would not work.
    assert client.post(f"{BASE}/{programme['id']}/invitations/{waiting.id}/withdraw",
                       headers=coordinator.headers).status_code == 200
    db.refresh(waiting)
    assert (waiting.status, waiting.email_status) == ("withdrawn", "none")
    joins = db.scalars(select(OutboxEvent.payload["via"].astext).where(OutboxEvent.type == "enrolment.joined")).all()
    assert joins == ["invitation", "invitation"]


def test_an_invitation_is_sent_again_with_its_link_once_a_day_at_most(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}/invitations"
    invited = client.post(url, headers=coordinator.headers, json={"invitees": [
        {"email": "lin@example.com", "role": "mentee"}, {"email": "sam@example.com", "role": "mentee"}]})
    assert invited.status_code == 200
    lin = db.scalar(select(ProgrammeInvitation).where(ProgrammeInvitation.email == "lin@example.com"))
    sam = db.scalar(select(ProgrammeInvitation).where(ProgrammeInvitation.email == "sam@example.com"))
    assert lin is not None and sam is not None
    owed = client.post(f"{url}/{lin.id}/resend", headers=coordinator.headers)
    assert owed.status_code == 409 and "has not gone yet" in owed.get_json()["message"]
    assert invitation_mail.deliver_invitations(db, uuid.UUID(programme["id"])) == (2, 0)
    db.flush()  # as the worker's commit would
    first = mailbox.inbox.link("lin@example.com", "programme-invitation")
    # Mailed today: not again before a day has passed, said with when.
    soon = client.post(f"{url}/{lin.id}/resend", headers=coordinator.headers)
    assert soon.status_code == 409 and soon.get_json()["errors"]["retry_at"], soon.get_json()
    # Mailed two weeks ago and lapsed since: sent again, it works another 14 days, by the same link.
    lin.emailed_at = lin.expires_at = datetime.now(UTC) - timedelta(days=15)
    db.flush()
    again = client.post(f"{url}/{lin.id}/resend", headers=coordinator.headers)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["email_status"] == "pending"
    assert datetime.fromisoformat(again.get_json()["expires_at"]) > datetime.now(UTC) + timedelta(days=13)
    assert invitation_mail.deliver_invitations(db, uuid.UUID(programme["id"])) == (1, 0)
    assert len(mailbox.inbox.to("lin@example.com")) == 2
    assert mailbox.inbox.link("lin@example.com", "programme-invitation") == first
    preview = client.post("/api/v1/programme-invitations/preview", json={"token": first}).get_json()
    assert preview["usable"] is True
    # An answered invitation is not sent again; nor does anyone but its coordinators send one.
    assert client.post(f"{url}/{sam.id}/withdraw", headers=coordinator.headers).status_code == 200
    answered = client.post(f"{url}/{sam.id}/resend", headers=coordinator.headers)
    assert answered.status_code == 400 and answered.get_json()["message"] == (
        "cannot send again an invitation that is withdrawn")
    assert client.post(f"{url}/{lin.id}/resend", headers=as_caller(UserFactory()).headers).status_code == 404


def test_a_confirmed_address_sees_its_invitations_and_joins_with_a_click(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    person, unconfirmed = UserFactory(), UserFactory(email_verified_at=None)
    client.post(f"{BASE}/{programme['id']}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": person.email.upper(), "role": "mentee"}, {"email": unconfirmed.email, "role": "mentee"}]})
    assert client.get(f"{BASE}/invitations/mine", headers=as_caller(unconfirmed).headers).get_json()["items"] == []
    listed = client.get(f"{BASE}/invitations/mine", headers=as_caller(person).headers).get_json()["items"]
    assert [item["programme"]["id"] for item in listed] == [programme["id"]]
    other = client.post(f"{BASE}/invitations/{listed[0]['id']}/accept", headers=as_caller(unconfirmed).headers)
    assert other.status_code == 404
    joined = client.post(f"{BASE}/invitations/{listed[0]['id']}/accept", headers=as_caller(person).headers)
    assert joined.status_code == 200 and joined.get_json()["status"] == "active"
    assert client.get(f"{BASE}/invitations/mine", headers=as_caller(person).headers).get_json()["items"] == []


def test_a_join_link_works_until_revoked_and_a_removed_person_returns_only_by_invitation(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    link = join_link(client, coordinator, programme["id"], role="mentor", capacity=4)
    person = as_caller(UserFactory())
    preview = client.post(f"{BASE}/join/preview", headers=person.headers, json={"token": link["token"]}).get_json()
    assert (preview["programme"]["id"], preview["role"]) == (programme["id"], "mentor")
    joined = client.post(f"{BASE}/join", headers=person.headers, json={"token": link["token"]})
    assert joined.status_code == 200 and (joined.get_json()["role"], joined.get_json()["capacity"]) == ("mentor", 4)
    again = client.post(f"{BASE}/join", headers=person.headers, json={"token": link["token"]})
    assert again.status_code == 409
    url = f"{BASE}/{programme['id']}"
    # The mentor sets their own capacity; they cannot take anyone off.
    participant = joined.get_json()["id"]
    assert client.patch(f"{url}/participants/{participant}", headers=person.headers,
                        json={"capacity": 6}).get_json()["capacity"] == 6
    assert client.post(f"{url}/participants/{participant}/remove", headers=person.headers).status_code == 403
    # Leaving, then back by the link; removed, then the link no longer brings them back.
    assert client.post(f"{url}/leave", headers=person.headers).get_json()["status"] == "left"
    assert client.get(url, headers=person.headers).status_code == 404
    assert client.post(f"{BASE}/join", headers=person.headers, json={"token": link["token"]}).status_code == 200
    removed = client.post(f"{url}/participants/{participant}/remove", headers=coordinator.headers)
    assert removed.get_json()["status"] == "removed" and removed.get_json()["ended_at"]
    assert client.post(f"{url}/participants/{participant}/remove", headers=coordinator.headers).status_code == 400
    back = client.post(f"{BASE}/join", headers=person.headers, json={"token": link["token"]})
    assert back.status_code == 403
    client.post(f"{url}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": person.user.email, "role": "mentee"}]})
    invitation = client.get(f"{BASE}/invitations/mine", headers=person.headers).get_json()["items"][0]
    returned = client.post(f"{BASE}/invitations/{invitation['id']}/accept", headers=person.headers)
    assert returned.status_code == 200 and (returned.get_json()["id"], returned.get_json()["role"]) == (
        participant, "mentee")
    # Revoked, expired or used up: 422, and nothing changes.
    revoked = client.post(f"{url}/join-links/{link['id']}/revoke", headers=coordinator.headers)
    assert revoked.get_json()["works"] is False
    late = as_caller(UserFactory())
    assert client.post(f"{BASE}/join", headers=late.headers, json={"token": link["token"]}).status_code == 422
    assert client.post(f"{BASE}/join", headers=late.headers, json={"token": "no-such-token"}).status_code == 422
    expiring = join_link(client, coordinator, programme["id"])
    db.get_one(ProgrammeJoinLink, uuid.UUID(expiring["id"])).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.flush()
    assert client.post(f"{BASE}/join", headers=late.headers, json={"token": expiring["token"]}).status_code == 422
    for body in ({"max_uses": 0}, {"max_uses": 10_001}, {"role": "admin"}, {"capacity": 0}):
        assert client.post(f"{url}/join-links", headers=coordinator.headers, json={
            "role": "mentee", "max_uses": 5, "expires_at": "2099-01-01T00:00:00Z", **body}).status_code == 422
    too_soon = client.post(f"{url}/join-links", headers=coordinator.headers, json={
        "role": "mentee", "max_uses": 5, "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat()})
    assert too_soon.status_code == 400
    history = client.get(f"{url}/history", headers=coordinator.headers).get_json()["items"]
    # (one transaction, one now(): the order within it is not the point here)
    assert sorted((e["type"], e["actor"]) for e in history if e["type"].startswith("enrolment.")) == [
        ("enrolment.joined", "participant")] * 3 + [("enrolment.left", "participant"),
                                                    ("enrolment.removed", "coordinator")]


def _join(app: Flask, caller: Caller, token: str) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().post(f"{BASE}/join", headers=headers, json={"token": token}).status_code


def _post(app: Flask, caller: Caller, path: str) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().post(path, headers=headers).status_code


def test_a_crowd_on_a_join_link_gets_exactly_its_uses(seed: Session, committed: sessionmaker[Session]) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    people = [as_caller(UserFactory()) for _ in range(8)]
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    programme = create(client, admin, coordinator)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers)
    link = join_link(client, coordinator, programme["id"], max_uses=3)
    answers = concurrently([_join(app, person, link["token"]) for person in people])
    assert sorted(answers) == [200] * 3 + [422] * 5
    with committed() as db:
        joined = db.scalar(select(func.count()).select_from(ProgrammeParticipant).where(
            ProgrammeParticipant.programme_id == uuid.UUID(programme["id"])))
        events = db.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "enrolment.joined",
                                                                              OutboxEvent.payload["programme_id"]
                                                                              .astext == programme["id"]))
        assert (joined, events) == (3, 3)


def test_a_return_racing_a_removal_ends_removed(seed: Session, committed: sessionmaker[Session]) -> None:
    admin, coordinator, person = (as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()),
                                  as_caller(UserFactory()))
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    programme = create(client, admin, coordinator)
    url = f"{BASE}/{programme['id']}"
    client.post(f"{url}/open-enrolment", headers=coordinator.headers)
    link = join_link(client, coordinator, programme["id"], max_uses=100)
    for _ in range(5):
        joined = client.post(f"{BASE}/join", headers=person.headers, json={"token": link["token"]}).get_json()
        client.post(f"{url}/leave", headers=person.headers)
        answers = concurrently([_join(app, person, link["token"]),
                                _post(app, coordinator, f"{url}/participants/{joined['id']}/remove")])
        # Either the return came first (then the removal ends it) or the removal did (then the return is refused).
        assert answers in ([200, 200], [403, 200])
        with committed() as db:
            row = db.get_one(ProgrammeParticipant, uuid.UUID(joined["id"]))
            assert (row.status, row.ended_at is not None) == ("removed", True)
            db.delete(row)
            db.commit()


def test_participants_see_each_other_by_name_and_outsiders_see_nothing(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    other_coordinator, other = running_programme(client)
    mentee, mentor, outsider_participant = (as_caller(UserFactory()), as_caller(UserFactory()),
                                            as_caller(UserFactory()))
    link = join_link(client, coordinator, programme["id"])
    mentor_link = join_link(client, coordinator, programme["id"], role="mentor")
    client.post(f"{BASE}/join", headers=mentee.headers, json={"token": link["token"]})
    client.post(f"{BASE}/join", headers=mentor.headers, json={"token": mentor_link["token"]})
    client.post(f"{BASE}/join", headers=outsider_participant.headers,
                json={"token": join_link(client, other_coordinator, other["id"])["token"]})
    url = f"{BASE}/{programme['id']}"
    seen = client.get(f"{url}/participants", headers=mentee.headers).get_json()["items"]
    assert sorted((p["display_name"], p["role"], p["email"]) for p in seen) == sorted(
        [(mentee.user.display_name, "mentee", None), (mentor.user.display_name, "mentor", None)])
    full = client.get(f"{url}/participants", headers=coordinator.headers).get_json()["items"]
    assert {p["email"] for p in full} == {mentee.user.email, mentor.user.email}
    listed = client.get(BASE, headers=mentee.headers).get_json()["items"]
    assert [(p["id"], p["viewer_role"]) for p in listed] == [(programme["id"], "mentee")]
    reads = [url, f"{url}/participants", f"{url}/history", f"{url}/invitations", f"{url}/join-links"]
    for outsider in (outsider_participant, other_coordinator, as_caller(UserFactory())):
        for path in reads:
            assert client.get(path, headers=outsider.headers).status_code == 404, path
    # A participant reads the programme but not what runs it.
    for path in (f"{url}/invitations", f"{url}/join-links", f"{url}/history"):
        assert client.get(path, headers=mentee.headers).status_code in {403, 404}, path
    assert client.post(f"{url}/invitations", headers=mentee.headers, json={"invitees": [
        {"email": "x@example.com", "role": "mentee"}]}).status_code == 403
    assert db.scalar(select(func.count()).select_from(User).where(User.email == "x@example.com")) == 0


def test_two_coordinators_inviting_the_same_addresses_at_once_invite_each_once(
        seed: Session, committed: sessionmaker[Session]) -> None:
    admin, first, second = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    programme = create(app.test_client(), admin, first, second)
    addresses = [f"shared{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(50)]

    def invite(caller: Caller, order: list[str]) -> Callable[[], int]:
        headers = caller.headers
        body = {"invitees": [{"email": address, "role": "mentee"} for address in order]}
        return lambda: app.test_client().post(f"{BASE}/{programme['id']}/invitations", headers=headers,
                                              json=body).status_code

    assert concurrently([invite(first, addresses), invite(second, addresses[::-1])]) == [200, 200]
    with committed() as db:
        stored = db.scalars(select(ProgrammeInvitation.email).where(
            ProgrammeInvitation.programme_id == uuid.UUID(programme["id"]))).all()
        assert sorted(stored) == sorted(addresses)


def test_a_removed_person_cannot_come_back_by_an_invitation_pending_from_before_only_by_a_new_one(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    person = as_caller(UserFactory())
    client.post(f"{url}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": person.user.email, "role": "mentor", "capacity": 2}]})
    (old,) = client.get(f"{BASE}/invitations/mine", headers=person.headers).get_json()["items"]
    # They join by a link instead; the invitation stays pending while they take part.
    link = join_link(client, coordinator, programme["id"])
    joined = client.post(f"{BASE}/join", headers=person.headers, json={"token": link["token"]}).get_json()
    removed = client.post(f"{url}/participants/{joined['id']}/remove", headers=coordinator.headers)
    assert removed.get_json()["status"] == "removed"
    back = client.post(f"{BASE}/invitations/{old['id']}/accept", headers=person.headers)
    assert back.status_code == 422, back.get_json()
    assert db.get_one(ProgrammeInvitation, uuid.UUID(old["id"])).status == "withdrawn"
    assert client.get(f"{BASE}/invitations/mine", headers=person.headers).get_json()["items"] == []
    assert db.get_one(ProgrammeParticipant, uuid.UUID(joined["id"])).status == "removed"
    # A new invitation, made after the removal, brings them back.
    client.post(f"{url}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": person.user.email, "role": "mentee"}]})
    (new,) = client.get(f"{BASE}/invitations/mine", headers=person.headers).get_json()["items"]
    returned = client.post(f"{BASE}/invitations/{new['id']}/accept", headers=person.headers)
    assert returned.status_code == 200 and returned.get_json()["status"] == "active"
