"""SCIM 2.0 at ``/scim/v2`` (``api/sign_on/scim*.py``), as an identity provider's provisioning client uses it:
scim2-tester's conformance checks (through scim2-client), and the requests Entra ID and Okta send, as they send them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.security import issue_token
from models import (
    AuthEvent,
    Pairing,
    PairingStatus,
    ParticipantRole,
    ParticipantStatus,
    ProgrammeParticipant,
    ScimGroup,
    User,
)
from tests.factories.accounts import as_caller
from tests.factories.programmes import joined, running_programme
from tests.factories.scim import scim_provider
from workflows.sign_on import providers, scim
from workflows.sign_on.providers import Rule


def test_scim2_tester_finds_no_failure(app: Flask, db: Session) -> None:
    _provider, token, _domain = scim_provider(db)
    client = WSGISCIMClient(app, base_url="http://localhost/scim/v2", headers={"Authorization": f"Bearer {token}"})
    results = check_server(client)
    failed = [(r.title, r.reason, r.data) for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failed, "\n".join(str(f)[:600] for f in failed)
    assert sum(r.status == Status.SUCCESS for r in results) > 20


PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _scim(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json", **more}


def _provision(client: FlaskClient, token: str, user_name: str, **more: Any) -> dict[str, Any]:
    made = client.post("/scim/v2/Users", headers=_scim(token), json={
        "schemas": [USER_SCHEMA], "userName": user_name, "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": user_name, "type": "work", "primary": True}], "active": True, **more})
    assert made.status_code == 201, made.get_json()
    assert made.mimetype == "application/scim+json" and made.headers["ETag"] == 'W/"1"'
    return dict(made.get_json())


def test_deprovisioning_ends_the_person_s_sign_ins_pairings_and_participations_at_once(
        client: FlaskClient, db: Session) -> None:
    provider, token, domain = scim_provider(db)
    made = _provision(client, token, f"ada@{domain}")
    user = db.scalars(select(User).where(User.email == f"ada@{domain}")).one()
    assert (user.password_hash, user.email_verified_at is not None, user.display_name) == (None, True, "Ada Lovelace")
    ada = as_caller(user)
    coordinator, programme = running_programme(client)
    _, mentor_id = joined(client, coordinator, programme, "mentor")
    _, mentee_id = joined(client, coordinator, programme, "mentee", person=ada)
    paired = client.post(f"/api/v1/programmes/{programme['id']}/pairings", headers=coordinator.headers,
                         json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert paired.status_code == 201, paired.get_json()
    assert client.get("/api/v1/me", headers=ada.headers).status_code == 200
    # Entra ID's way: a Replace with the string "False", and the version it read.
    off = client.patch(f"/scim/v2/Users/{made['id']}", headers=_scim(token, **{"If-Match": 'W/"1"'}), json={
        "schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    assert off.status_code == 200, off.get_json()
    assert off.get_json()["active"] is False and off.headers["ETag"] == 'W/"2"'
    assert client.get("/api/v1/me", headers=ada.headers).status_code == 401
    db.refresh(user)
    assert user.disabled_at is not None and user.disabled_reason == scim.DEPROVISIONED
    participation = db.get_one(ProgrammeParticipant, uuid.UUID(mentee_id))
    assert participation.status == ParticipantStatus.LEFT
    pairing = db.get_one(Pairing, uuid.UUID(paired.get_json()["id"]))
    assert pairing.status == PairingStatus.ENDED
    # Okta's way back: a replace without a path. The account may sign in again; what ended stays ended.
    on = client.patch(f"/scim/v2/Users/{made['id']}", headers=_scim(token), json={
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]})
    assert on.status_code == 200 and on.get_json()["active"] is True
    db.refresh(user)
    assert user.disabled_at is None
    assert db.get_one(ProgrammeParticipant, uuid.UUID(mentee_id)).status == ParticipantStatus.LEFT
    trail = sorted((e.kind.value, e.provider_id == provider.id) for e in db.scalars(
        select(AuthEvent).where(AuthEvent.user_id == user.id, AuthEvent.reason == "scim")))
    assert trail == [("scim_deprovisioned", True), ("scim_provisioned", True), ("scim_provisioned", True)]
    # DELETE: deprovisioned again, the resource gone, the account kept (disabled).
    assert client.delete(f"/scim/v2/Users/{made['id']}", headers=_scim(token)).status_code == 204
    assert client.get(f"/scim/v2/Users/{made['id']}", headers=_scim(token)).status_code == 404
    db.refresh(user)
    assert user.disabled_at is not None and db.get(User, user.id) is not None


def test_filters_paging_versions_and_refusals(client: FlaskClient, db: Session) -> None:
    _provider, token, domain = scim_provider(db)
    _other, other_token, _other_domain = scim_provider(db)
    users = [_provision(client, token, f"p{n}@{domain}", externalId=f"ext-{n}") for n in range(3)]

    def listed(query: str, scim_token: str = token) -> dict[str, Any]:
        answer = client.get(f"/scim/v2/Users?{query}", headers=_scim(scim_token))
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    assert [u["id"] for u in listed(f'filter=userName eq "P1@{domain.upper()}"')["Resources"]] == [users[1]["id"]]
    assert [u["id"] for u in listed('filter=externalId eq "ext-2"')["Resources"]] == [users[2]["id"]]
    assert listed(f'filter=emails[value eq "p0@{domain}"]')["totalResults"] == 1
    page = listed("startIndex=2&count=1")
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert listed("")["totalResults"] == 3 and listed("", other_token)["totalResults"] == 0  # each its own
    assert client.get(f"/scim/v2/Users/{users[0]['id']}", headers=_scim(other_token)).status_code == 404
    for hostile in ('userName co "p"', 'userName eq "a" or userName eq "b"', "userName eq", '(((((', "x" * 1001):
        refused = client.get("/scim/v2/Users", headers=_scim(token), query_string={"filter": hostile})
        body = refused.get_json()
        assert refused.status_code == 400 and body["scimType"] in {"invalidFilter", "invalidValue"}, body
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    unauthenticated = client.get("/scim/v2/Users", headers={"Authorization": "Bearer scim_wrong"})
    assert unauthenticated.status_code == 401 and unauthenticated.mimetype == "application/scim+json"
    assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {issue_token(users_id(db, domain), 1)[0]}"}
                      ).status_code == 401  # a person's token is no provider's
    stale = client.put(f"/scim/v2/Users/{users[0]['id']}", headers=_scim(token, **{"If-Match": 'W/"7"'}),
                       json={"schemas": [USER_SCHEMA], "userName": f"p0@{domain}"})
    assert stale.status_code == 412, stale.get_json()
    twin = client.post("/scim/v2/Users", headers=_scim(token), json={"schemas": [USER_SCHEMA],
                                                                     "userName": f"P0@{domain}"})
    assert twin.status_code == 409 and twin.get_json()["scimType"] == "uniqueness"
    hostile_body = client.put(f"/scim/v2/Users/{users[0]['id']}", headers=_scim(token), json={
        "schemas": [USER_SCHEMA], "userName": f"p0@{domain}", "displayName": "Ada\u0000"})
    assert hostile_body.status_code == 400, hostile_body.get_json()
    assert client.get("/scim/v2/Users", headers=_scim(token), query_string={"filter": 'userName eq "\u0000"'}
                      ).status_code == 400
    odd_version = client.put(f"/scim/v2/Users/{users[0]['id']}", headers=_scim(token, **{"If-Match": 'W/"²"'}),
                             json={"schemas": [USER_SCHEMA], "userName": f"p0@{domain}"})
    assert odd_version.status_code == 412, odd_version.get_json()
    crowd = client.post("/scim/v2/Groups", headers=_scim(token), json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "everyone",
        "members": [{"value": str(uuid.uuid4())} for _ in range(10_000)]})
    assert crowd.status_code == 400 and "at most 1,000 members" in crowd.get_json()["detail"], crowd.get_json()
    assert db.scalar(select(func.count()).select_from(ScimGroup)) == 0


def users_id(db: Session, domain: str) -> uuid.UUID:
    return db.scalars(select(User.id).where(User.email == f"p0@{domain}")).one()


def test_groups_enrol_their_members_by_the_provider_s_rules_and_leaving_the_group_ends_it(
        client: FlaskClient, db: Session) -> None:
    provider, token, domain = scim_provider(db)
    _, programme = running_programme(client)
    providers.set_rules(db, provider, [Rule(uuid.UUID(programme["id"]), ParticipantRole.MENTEE, "groups",
                                            "mentees-2027")])
    ada = _provision(client, token, f"ada@{domain}")
    group = client.post("/scim/v2/Groups", headers=_scim(token), json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "mentees-2027",
        "members": [{"value": ada["id"], "display": "Ada"}]})
    assert group.status_code == 201, group.get_json()
    user_id = db.scalars(select(User.id).where(User.email == f"ada@{domain}")).one()

    def status() -> list[ParticipantStatus]:
        return list(db.scalars(select(ProgrammeParticipant.status).where(ProgrammeParticipant.user_id == user_id)))

    assert status() == [ParticipantStatus.ACTIVE]
    # Okta's way out of a group: remove by a filter on members (applied as a set change, whatever the group's size).
    out = client.patch(f"/scim/v2/Groups/{group.get_json()['id']}", headers=_scim(token), json={
        "schemas": [PATCH_OP], "Operations": [{"op": "Remove", "path": f'members[value eq "{ada["id"]}"]'}]})
    assert out.status_code == 200, out.get_json()
    assert "members" not in out.get_json() and status() == [ParticipantStatus.LEFT]
