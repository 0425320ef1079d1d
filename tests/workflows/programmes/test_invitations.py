"""Invitations recorded (``workflows/programmes/invitations.py``), called directly: an upload's insert keeps working
once PostgreSQL plans it once for every upload (its generic plan), as it does for a prepared statement after a few
runs on one connection."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models import InvitationStatus, ParticipantRole, ProgrammeInvitation
from tests.database import plans
from tests.factories.accounts import UserFactory, actor_of
from workflows.programmes import invitations
from workflows.programmes import lifecycle as programmes
from workflows.programmes.lifecycle import ProgrammeAction
from workflows.programmes.rows import Invitee

UPLOADS = 12


def _row(line: int, email: str) -> Invitee:
    return Invitee(line=line, email=email, name=f"Person {line}", role=ParticipantRole.MENTEE, capacity=None)


def test_uploads_to_one_programme_keep_inviting_on_the_insert_s_generic_plan(db: Session,
                                                                              connection: Connection) -> None:
    """The insert names the one-pending-invitation-per-address index by its predicate: a predicate sent as a
    parameter matches no index once the statement is planned without its values."""
    coordinator = UserFactory()
    made = programmes.create(db, actor_of(UserFactory(is_admin=True)), name="Spring cohort",
                             coordinator_user_ids=[coordinator.id])
    programmes.act(db, actor_of(coordinator), made.id, ProgrammeAction.OPEN_ENROLMENT)
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    for upload in range(UPLOADS):
        # Each upload: a new address and one invited before (passed over), the same statement every time.
        report = invitations.invite(db, actor_of(coordinator), made.id,
                                    [_row(1, f"new{upload}@example.com"), _row(2, "again@example.com")], [])
        assert [row.email for row in report.invited] == [f"new{upload}@example.com"] + (
            ["again@example.com"] if upload == 0 else [])
        assert [skipped.email for skipped in report.skipped] == ([] if upload == 0 else ["again@example.com"])
    [(generic, _custom)] = plans(connection, "INSERT INTO programme_invitations")
    assert generic >= UPLOADS - 5  # prepared at its fifth run, planned without its values from then on
    pending = db.scalars(select(ProgrammeInvitation.email).where(
        ProgrammeInvitation.programme_id == made.id, ProgrammeInvitation.status == InvitationStatus.PENDING)).all()
    assert sorted(pending) == sorted([f"new{upload}@example.com" for upload in range(UPLOADS)] + ["again@example.com"])
