"""A programme's history lines: each names its people, a match run's progress is folded into its run's lines."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.factories.accounts import UserFactory
from tests.factories.mentors import MentorProfileFactory
from workflows.programmes import history_lines


def _event(kind: str, actor: str, **payload: object) -> OutboxEvent:
    return OutboxEvent(id=uuid.uuid4(), type=kind, actor=actor, payload=payload)


def test_each_line_names_who_acted_and_whom_it_concerns(db: Session) -> None:
    carla, zoe = UserFactory(display_name="Carla Diaz"), UserFactory(display_name="Zoë Müller")
    ada = MentorProfileFactory(user=UserFactory(display_name="Ada Okafor"))
    db.flush()
    pair = {"mentor_profile_id": str(ada.id), "mentee_user_id": str(zoe.id), "title": "Give a talk"}
    events = [
        _event("pairing.proposed", f"user:{carla.id}", **pair),
        _event("pairing.activated", "system", **pair),
        _event("pairing.ended", f"admin:{carla.id}", **pair),
        _event("goal.done", f"user:{zoe.id}", **pair),
        _event("enrolment.joined", f"user:{zoe.id}", participant_user_id=str(zoe.id), role="mentee",
               via="sign_on"),
        _event("enrolment.removed", f"user:{carla.id}", participant_user_id=str(uuid.uuid4())),
        _event("match_run.completed", "system", matched=17, mentees=18),
    ]
    names = history_lines.Names(db, events)
    assert [history_lines.line(event, names, None) for event in events] == [
        "Carla Diaz paired Ada Okafor with Zoë Müller",
        "The pairing of Ada Okafor and Zoë Müller started: the mentor accepted its sessions",
        "Carla Diaz ended the pairing of Ada Okafor and Zoë Müller",
        "Ada Okafor and Zoë Müller reached their goal “Give a talk”",
        "Zoë Müller joined as a mentee through their organisation's sign-in",
        "Carla Diaz took Someone off the programme",  # an account deleted since: no name to give
        "A match run finished: 17 of 18 mentees matched",
    ]
    # Each line in its reader's language, the names as their people wrote them.
    assert [history_lines.line(event, names, "de-DE") for event in events[3:]] == [
        "Ada Okafor und Zoë Müller haben ihr Ziel „Give a talk“ erreicht",
        "Zoë Müller ist über die Anmeldung der eigenen Organisation als Mentee beigetreten",
        "Carla Diaz hat Jemand aus dem Programm genommen",
        "Ein Matching-Lauf ist abgeschlossen: 17 von 18 Mentees zugeordnet",
    ]


def test_a_run_s_progress_is_folded_into_its_run_s_lines() -> None:
    events = [_event(kind, "system") for kind in ("match_run.requested", "match_run.progress", "match_run.progress",
                                                  "match_run.completed")]
    assert [e.type for e in history_lines.folded(events)] == ["match_run.requested", "match_run.completed"]
