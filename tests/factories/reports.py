"""A programme's history written as rows, for its reports: its pairings (each with a mentor's listing in the
programme), their sessions by outcome, reviews, goals and closing surveys. No workflow runs and no event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models import (
    BookingStatus,
    CancelCause,
    GoalStatus,
    Listing,
    MatchRun,
    MatchRunStatus,
    MentorshipSession,
    Pairing,
    PairingGoal,
    PairingStatus,
    PairingSurvey,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    ProgrammeStatus,
    Review,
    SessionStatus,
)
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import SessionFactory
from workflows.clock import utcnow


@dataclass
class Cohort:
    """A running programme and what happened in it."""

    db: Session
    programme: Programme = field(init=False)

    def __post_init__(self) -> None:
        self.programme = Programme(id=uuid.uuid4(), name="Spring cohort", status=ProgrammeStatus.RUNNING)
        self.db.add(self.programme)
        self.db.flush()

    def run(self) -> uuid.UUID:
        """A match run of the programme, done."""
        run = MatchRun(id=uuid.uuid4(), programme_id=self.programme.id, status=MatchRunStatus.DONE,
                       started_at=utcnow(), finished_at=utcnow(), progress=100, stage="done")
        self.db.add(run)
        self.db.flush()
        return run.id

    def pair(self, paired_at: datetime, *, status: PairingStatus = PairingStatus.ACTIVE,
             ended_at: datetime | None = None, run_id: uuid.UUID | None = None, rank: int | None = None,
             mentor: str = "Ada", mentee: str = "Lin") -> Pairing:
        listing = ListingFactory(programme_id=self.programme.id,
                                 mentor_profile__user=UserFactory(display_name=mentor))
        mentee_user = UserFactory(display_name=mentee)
        people = [ProgrammeParticipant(id=uuid.uuid4(), programme_id=self.programme.id, user_id=user_id, role=role,
                                       status=ParticipantStatus.ACTIVE, capacity=2 if role == "mentor" else None)
                  for user_id, role in ((listing.mentor_profile.user_id, ParticipantRole.MENTOR),
                                        (mentee_user.id, ParticipantRole.MENTEE))]
        self.db.add_all(people)
        self.db.flush()
        pairing = Pairing(id=uuid.uuid4(), programme_id=self.programme.id, mentor_participant_id=people[0].id,
                          mentee_participant_id=people[1].id, mentor_profile_id=listing.mentor_profile_id,
                          mentee_user_id=mentee_user.id, listing_id=listing.id, status=status, cadence_weeks=1,
                          session_minutes=60, session_count=12, created_at=paired_at, ended_at=ended_at,
                          match_run_id=run_id, match_rank=rank)
        self.db.add(pairing)
        self.db.flush()
        return pairing

    def session(self, pairing: Pairing, start: datetime, status: SessionStatus, *, cancelled_by: str | None = None,
                cause: CancelCause | None = None, rating: int | None = None, minutes: int = 60) -> MentorshipSession:
        end = start + timedelta(minutes=minutes)
        made: MentorshipSession = SessionFactory(
            booking=BookingFactory(listing=self.db.get_one(Listing, pairing.listing_id),
                                   mentor_profile_id=pairing.mentor_profile_id,
                                   mentee_user_id=pairing.mentee_user_id, start_time=start, end_time=end,
                                   status=BookingStatus.ACCEPTED),
            programme_id=self.programme.id, status=status, cancelled_by=cancelled_by, cancel_cause=cause,
            cancelled_at=start - timedelta(days=1) if status == SessionStatus.CANCELLED else None,
            completed_at=end if status == SessionStatus.COMPLETED else None)
        if rating is not None:
            self.db.add(Review(id=uuid.uuid4(), session_id=made.id, mentor_profile_id=pairing.mentor_profile_id,
                               mentee_user_id=pairing.mentee_user_id, rating=rating))
            self.db.flush()
        return made

    def goal(self, pairing: Pairing, *, done_at: datetime | None = None) -> PairingGoal:
        goal = PairingGoal(id=uuid.uuid4(), pairing_id=pairing.id, title="Give a talk",
                           status=GoalStatus.DONE if done_at else GoalStatus.OPEN, done_at=done_at)
        self.db.add(goal)
        self.db.flush()
        return goal

    def survey(self, pairing: Pairing, role: str, rating: int, answered_at: datetime) -> None:
        user_id = pairing.mentee_user_id if role == "mentee" else self.db.get_one(
            ProgrammeParticipant, pairing.mentor_participant_id).user_id
        self.db.add(PairingSurvey(pairing_id=pairing.id, user_id=user_id, role=role, rating=rating,
                                  answered_at=answered_at))
        self.db.flush()
