"""SCIM 2.0 groups a provider sends (``/scim/v2/Groups``): their names and members, whose changes apply the
provider's programme rules again to whoever joined or left (``workflows.sign_on.scim.apply_rules``). A request names
at most ``MAX_MEMBERS`` members, a group has at most ``MAX_GROUP``; a member is one of this provider's users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models import IdentityProvider, ScimGroup, ScimGroupMember, ScimUser
from models.sign_on import MAX_EXTERNAL_ID, MAX_GROUP_NAME
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.sign_on.scim import MAX_PAGE, apply_rules, bounded, check_version, uuid_of

MAX_MEMBERS = 1000  # members named in one request; more go by PATCH add, in parts
MAX_GROUP = 50_000  # members of one group


def _group(db: Session, provider: IdentityProvider, group_id: uuid.UUID, *, lock: bool = False) -> ScimGroup:
    query = select(ScimGroup).where(ScimGroup.id == group_id, ScimGroup.provider_id == provider.id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("no group has this id here", reason="not_found")
    return row


def _members(db: Session, provider: IdentityProvider, members: Sequence[tuple[str, str | None]],
             named: int | None) -> dict[uuid.UUID, str | None]:
    """The members a request gives (their SCIM ids, and the names the provider gives them), each one of this
    provider's users; at most ``MAX_MEMBERS`` named by the request itself (``named``: those a PATCH names)."""
    wanted = dict(members)
    if len(wanted) > MAX_GROUP:
        raise InvalidInput("a group has at most {max} members", words={"max": MAX_GROUP}, field="members",
                           reason="invalidValue")
    if (named if named is not None else len(wanted)) > MAX_MEMBERS:
        raise InvalidInput("at most {max} members in one request: add more with PATCH, in parts",
                           words={"max": MAX_MEMBERS}, field="members", reason="invalidValue")
    ids = {found: value for value in wanted if (found := uuid_of(value)) is not None}
    known = set(db.scalars(select(ScimUser.id).where(ScimUser.provider_id == provider.id, ScimUser.id.in_(ids))))
    if len(known) != len(wanted):
        raise InvalidInput("a member is no user of this provider", field="members", reason="invalidValue")
    return {member: (bounded(wanted[ids[member]], MAX_GROUP_NAME, "display") if wanted[ids[member]] else None)
            for member in known}


def members_of(db: Session, group_id: uuid.UUID) -> list[tuple[uuid.UUID, str | None]]:
    return [(row.scim_user_id, row.display) for row in db.scalars(
        select(ScimGroupMember).where(ScimGroupMember.group_id == group_id).order_by(ScimGroupMember.scim_user_id))]


def save_group(db: Session, provider: IdentityProvider, group_id: uuid.UUID | None, *, display_name: str,
               external_id: str | None, members: Sequence[tuple[str, str | None]], named: int | None = None,
               version: int | None = None, now: datetime | None = None) -> ScimGroup:
    """Create a group (``group_id`` None) or replace one: its name and its whole membership (each member's SCIM id
    and display name); the rules applied again to whoever joined or left it."""
    now = now or utcnow()
    name = bounded(display_name, MAX_GROUP_NAME, "displayName") or ""
    external_id = bounded(external_id, MAX_EXTERNAL_ID, "externalId")
    wanted = _members(db, provider, members, named)
    row = _group(db, provider, group_id, lock=True) if group_id else None
    if row is not None:
        check_version(row, version)
    others = select(ScimGroup.id).where(ScimGroup.provider_id == provider.id,
                                        *([ScimGroup.id != row.id] if row else []))
    if db.scalar(others.where(ScimGroup.display_name == name)) is not None:
        raise Conflict("a group with this displayName exists", field="displayName", reason="uniqueness")
    if external_id and db.scalar(others.where(ScimGroup.external_id == external_id)) is not None:
        raise Conflict("a group with this externalId exists", field="externalId", reason="uniqueness")
    renamed = row is not None and row.display_name != name
    if row is None:
        row = ScimGroup(id=uuid.uuid4(), provider_id=provider.id, display_name=name, external_id=external_id,
                        created_at=now, updated_at=now)
        db.add(row)
        db.flush()
        before: dict[uuid.UUID, str | None] = {}
    else:
        before = dict(members_of(db, row.id))
        row.display_name, row.external_id, row.version, row.updated_at = name, external_id, row.version + 1, now
    db.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == row.id,
                                             ScimGroupMember.scim_user_id.in_(set(before) - set(wanted))))
    for member, display in wanted.items():
        if member in before and before[member] != display:
            db.execute(update(ScimGroupMember).where(ScimGroupMember.group_id == row.id,
                                                     ScimGroupMember.scim_user_id == member).values(display=display))
    db.add_all([ScimGroupMember(group_id=row.id, scim_user_id=member, display=display)
                for member, display in wanted.items() if member not in before])
    db.flush()
    apply_rules(db, provider.id, (set(wanted) ^ set(before)) | (set(wanted) if renamed else set()))
    return row


def delete_group(db: Session, provider: IdentityProvider, group_id: uuid.UUID, *, version: int | None = None) -> None:
    row = _group(db, provider, group_id, lock=True)
    check_version(row, version)
    members = {member for member, _ in members_of(db, row.id)}
    db.delete(row)
    db.flush()
    apply_rules(db, provider.id, members)


def get_group(db: Session, provider: IdentityProvider, group_id: uuid.UUID) -> ScimGroup:
    return _group(db, provider, group_id)


def find_groups(db: Session, provider: IdentityProvider, *, attribute: str | None = None, value: str | None = None,
                start: int = 1, count: int = 100) -> tuple[int, list[ScimGroup]]:
    query = select(ScimGroup).where(ScimGroup.provider_id == provider.id)
    if attribute == "displayName":
        query = query.where(ScimGroup.display_name == value)
    elif attribute == "externalId":
        query = query.where(ScimGroup.external_id == value)
    elif attribute == "id":
        query = query.where(ScimGroup.id == uuid_of(value))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(ScimGroup.created_at, ScimGroup.id).offset(max(start, 1) - 1)
                      .limit(max(0, min(count, MAX_PAGE)))).all()
    return total, list(rows)
