"""A provider's programme rules read at each sign-in through it (``workflows/sign_on/enrolment.py``), against a real
provider (Canaille) whose groups an admin there changes: people join as they sign in (a mentor rule before a mentee
one), leave what a rule enrolled them into once no rule holds, and keep what they joined themselves; what a
programme cannot take is passed over without failing the sign-in."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Pairing,
    PairingStatus,
    ParticipantRole,
    ParticipantStatus,
    ProgrammeParticipant,
    ProviderEnrolment,
    User,
)
from models.programmes.enrolment import DEFAULT_CAPACITY
from tests.database import payloads_of
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.oidc_provider import Provider
from tests.factories.programmes import ALL_WEEK, BASE, create, joined, running_programme
from tests.factories.sign_on import organisation, person, signed_on
from workflows.sign_on.enrolment import holds, told
from workflows.sign_on.providers import Rule

MENTEE, MENTOR = ParticipantRole.MENTEE, ParticipantRole.MENTOR

Taking = tuple[str, str, int | None, uuid.UUID | None]


def _user_signed_on(client: FlaskClient, org: Any, login: str) -> uuid.UUID:
    """The account a whole sign-in through the provider signed in to."""
    me = client.get("/api/v1/me", headers=signed_on(client, org, login))
    assert me.status_code == 200, me.get_json()
    return uuid.UUID(me.get_json()["id"])


def _taking_part(db: Session, user_id: uuid.UUID) -> dict[str, Taking]:
    """Per programme: the role, status, capacity of the user's participation, and the provider that enrolled it."""
    db.expire_all()
    rows = db.scalars(select(ProgrammeParticipant).where(ProgrammeParticipant.user_id == user_id))
    return {str(row.programme_id): (row.role.value, row.status.value, row.capacity, row.enrolled_by_provider_id)
            for row in rows}


def _enrolment_events(db: Session, event_type: str, user_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    """(programme, role, via) of the user's enrolment events of ``event_type``, sorted."""
    return sorted((p["programme_id"], p["role"], p["via"]) for p in payloads_of(db, event_type)
                  if p["participant_user_id"] == str(user_id))


def test_the_rules_enrol_people_as_they_sign_in_and_a_mentor_rule_wins_over_a_mentee_one(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    _, cohort = running_programme(client)
    _, everyone = running_programme(client)
    cohort_id, everyone_id = cohort["id"], everyone["id"]
    org = organisation(db, oidc_provider, enrolments=[
        Rule(uuid.UUID(cohort_id), MENTEE, "groups", "mentees-x"),
        Rule(uuid.UUID(cohort_id), MENTOR, "groups", "mentors-x"),
        Rule(uuid.UUID(everyone_id), MENTEE)])
    mentee = _user_signed_on(client, org, person(org, groups=["mentees-x"])[0])
    both_login, _ = person(org, groups=["mentees-x", "mentors-x"])
    both = _user_signed_on(client, org, both_login)
    neither = _user_signed_on(client, org, person(org, groups=["staff-x"])[0])
    assert _taking_part(db, mentee) == {cohort_id: ("mentee", "active", None, org.id),
                                        everyone_id: ("mentee", "active", None, org.id)}
    assert _taking_part(db, both) == {cohort_id: ("mentor", "active", DEFAULT_CAPACITY, org.id),
                                      everyone_id: ("mentee", "active", None, org.id)}
    assert _taking_part(db, neither) == {everyone_id: ("mentee", "active", None, org.id)}
    assert _enrolment_events(db, "enrolment.joined", both) == sorted([
        (cohort_id, "mentor", "sign_on"), (everyone_id, "mentee", "sign_on")])
    assert _enrolment_events(db, "enrolment.joined", neither) == [(everyone_id, "mentee", "sign_on")]
    # The next sign-in finds them taking part already: nothing joins twice.
    assert _user_signed_on(client, org, both_login) == both
    assert len(_enrolment_events(db, "enrolment.joined", both)) == 2


def test_leaving_the_group_at_the_provider_ends_what_the_rule_enrolled_and_spares_what_was_joined_by_hand(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    _, cohort = running_programme(client)
    chooser, chosen = running_programme(client)
    org = organisation(db, oidc_provider, enrolments=[
        Rule(uuid.UUID(cohort["id"]), MENTEE, "groups", "mentees-x"),
        Rule(uuid.UUID(chosen["id"]), MENTEE, "groups", "mentees-z")])
    login, _ = person(org, groups=["mentees-x"])
    user_id = _user_signed_on(client, org, login)
    user = db.get(User, user_id)
    assert user is not None
    joined(client, chooser, chosen, "mentee", person=as_caller(user))  # by a join link: their own choice
    assert _taking_part(db, user_id) == {cohort["id"]: ("mentee", "active", None, org.id),
                                         chosen["id"]: ("mentee", "active", None, None)}
    oidc_provider.change_user(login, groups=["staff-x"])  # out of the rule's group, in another one
    assert _user_signed_on(client, org, login) == user_id
    assert _taking_part(db, user_id) == {cohort["id"]: ("mentee", "left", None, org.id),
                                         chosen["id"]: ("mentee", "active", None, None)}
    left = db.scalars(select(ProgrammeParticipant).where(ProgrammeParticipant.user_id == user_id,
                                                         ProgrammeParticipant.status == ParticipantStatus.LEFT)).one()
    assert left.ended_at is not None
    assert _enrolment_events(db, "enrolment.left", user_id) == [(cohort["id"], "mentee", None)]
    # Back in the group: the rule enrols them again.
    oidc_provider.change_user(login, groups=["mentees-x"])
    _user_signed_on(client, org, login)
    assert _taking_part(db, user_id)[cohort["id"]] == ("mentee", "active", None, org.id)


def test_leaving_every_group_at_the_provider_ends_what_the_rule_enrolled(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    _, cohort = running_programme(client)
    org = organisation(db, oidc_provider, enrolments=[Rule(uuid.UUID(cohort["id"]), MENTEE, "groups", "mentees-x")])
    login, _ = person(org, groups=["mentees-x"])
    user_id = _user_signed_on(client, org, login)
    assert _taking_part(db, user_id) == {cohort["id"]: ("mentee", "active", None, org.id)}
    # In no group at all, Canaille sends no `groups` claim (it never sends an empty list).
    oidc_provider.change_user(login, groups=[])
    assert _user_signed_on(client, org, login) == user_id
    assert _taking_part(db, user_id) == {cohort["id"]: ("mentee", "left", None, org.id)}


def test_a_mentor_the_rule_enrolled_leaves_with_their_pairings_once_out_of_the_group(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    coordinator, cohort = running_programme(client)
    org = organisation(db, oidc_provider, enrolments=[Rule(uuid.UUID(cohort["id"]), MENTOR, "groups", "mentors-x")])
    login, _ = person(org, groups=["mentors-x"])
    user_id = _user_signed_on(client, org, login)
    mentor = db.scalars(select(ProgrammeParticipant.id).where(ProgrammeParticipant.user_id == user_id)).one()
    hours = client.put(f"{BASE}/{cohort['id']}/intake", headers=as_caller(db.get_one(User, user_id)).headers,
                       json={"answers": [], "windows": ALL_WEEK})  # confirmed before anyone pairs them
    assert hours.status_code == 200, hours.get_json()
    _mentee, mentee = joined(client, coordinator, cohort, "mentee")
    paired = client.post(f"{BASE}/{cohort['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": str(mentor), "mentee_participant_id": mentee})
    assert paired.status_code == 201, paired.get_json()
    oidc_provider.change_user(login, groups=["staff-x"])
    assert _user_signed_on(client, org, login) == user_id
    assert _taking_part(db, user_id) == {cohort["id"]: ("mentor", "left", DEFAULT_CAPACITY, org.id)}
    pairing = db.get(Pairing, uuid.UUID(paired.get_json()["id"]))
    assert pairing is not None and pairing.status == PairingStatus.ENDED


def test_a_programme_taking_no_one_and_a_coordinators_removal_are_passed_over_without_failing_the_sign_in(
        client: FlaskClient, db: Session, oidc_provider: Provider) -> None:
    admin, planner = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    draft = create(client, admin, planner)  # a draft takes no participants yet
    coordinator, running = running_programme(client)
    org = organisation(db, oidc_provider, enrolments=[Rule(uuid.UUID(draft["id"]), MENTEE),
                                                      Rule(uuid.UUID(running["id"]), MENTEE)])
    login, _ = person(org)
    user_id = _user_signed_on(client, org, login)
    assert _taking_part(db, user_id) == {running["id"]: ("mentee", "active", None, org.id)}
    participation = db.scalars(select(ProgrammeParticipant.id).where(ProgrammeParticipant.user_id == user_id)).one()
    removed = client.post(f"{BASE}/{running['id']}/participants/{participation}/remove", headers=coordinator.headers)
    assert removed.status_code == 200, removed.get_json()
    opened = client.post(f"{BASE}/{draft['id']}/open-enrolment", headers=planner.headers)
    assert opened.status_code == 200, opened.get_json()
    assert _user_signed_on(client, org, login) == user_id  # signed in all the same
    assert _taking_part(db, user_id) == {draft["id"]: ("mentee", "active", None, org.id),
                                         running["id"]: ("mentee", "removed", None, org.id)}
    assert _enrolment_events(db, "enrolment.joined", user_id) == sorted([
        (draft["id"], "mentee", "sign_on"), (running["id"], "mentee", "sign_on")])


def test_a_claim_the_token_says_lies_elsewhere_ends_no_one_while_a_left_out_one_is_empty() -> None:
    # Canaille sends no such claims: these are the shapes OpenID Connect Core §5.6.2 and Entra ID give them.
    rule = ProviderEnrolment(programme_id=uuid.uuid4(), role=MENTEE, claim="groups", value="mentees")
    assert told([rule], {"sub": "a"})  # no groups at all: in none
    assert not told([rule], {"sub": "a", "_claim_names": {"groups": "src1"}})  # a distributed claim
    assert not told([rule], {"sub": "a", "hasgroups": True})  # too many groups to send
    assert told([rule], {"sub": "a", "groups": [], "hasgroups": True})
    flag = ProviderEnrolment(programme_id=uuid.uuid4(), role=MENTOR, claim="mentor", value="true")
    assert holds(flag, {"mentor": True}) and not holds(flag, {"mentor": False})
