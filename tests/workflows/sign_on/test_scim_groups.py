"""SCIM groups (``workflows.sign_on.scim_groups``): their members are one provider's users; renaming a group or
deleting it applies the provider's programme rules again to its members."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ParticipantRole, ParticipantStatus, ProgrammeParticipant
from tests.factories.programmes import running_programme
from tests.factories.scim import scim_provider
from workflows.errors import InvalidInput
from workflows.sign_on import providers, scim, scim_groups
from workflows.sign_on.providers import Rule
from workflows.sign_on.scim import UserData


def test_renaming_or_deleting_a_group_applies_the_rules_again(client: FlaskClient, db: Session) -> None:
    provider, _token, domain = scim_provider(db)
    other, _other_token, _other_domain = scim_provider(db)
    _, programme = running_programme(client)
    providers.set_rules(db, provider, [Rule(uuid.UUID(programme["id"]), ParticipantRole.MENTOR, "groups", "mentors")])
    ada = scim.create_user(db, provider, UserData(user_name=f"ada@{domain}"))
    stranger = scim.create_user(db, other, UserData(user_name="ada@elsewhere.example"))
    with pytest.raises(InvalidInput, match="a member is no user of this provider"):
        scim_groups.save_group(db, provider, None, display_name="mentors", external_id=None,
                               members=[(str(stranger.id), None)])

    def status() -> list[ParticipantStatus]:
        return list(db.scalars(select(ProgrammeParticipant.status).where(
            ProgrammeParticipant.user_id == ada.user_id)))

    group = scim_groups.save_group(db, provider, None, display_name="staff", external_id="g1",
                                   members=[(str(ada.id), "Ada")])
    assert status() == []
    group = scim_groups.save_group(db, provider, group.id, display_name="mentors", external_id="g1",
                                   members=[(str(ada.id), "Ada")], version=group.version)
    assert status() == [ParticipantStatus.ACTIVE]
    scim_groups.delete_group(db, provider, group.id)
    assert status() == [ParticipantStatus.LEFT]
