"""The payloads of a programme's events (``programme.*``, ``enrolment.*``, ``pairing.*``): who they concern is
named by the keys of ``workflows.payloads`` (the coordinators, the participant, the mentor and mentee of a
pairing)."""

from __future__ import annotations

from typing import TypedDict


class ProgrammePayload(TypedDict):
    """``programme.*``: a programme created or moved (``status``, where it stands now), told to its coordinators
    (``coordinator_user_ids``, by user, when the event was recorded)."""

    id: str
    name: str
    status: str
    starts_on: str | None
    ends_on: str | None
    coordinator_user_ids: list[str]


class ProgrammeCoordinatorsPayload(ProgrammePayload):
    """``programme.coordinators_changed``: who coordinates it now, who was added and who was taken off (told
    too, by user)."""

    added_user_ids: list[str]
    removed_user_ids: list[str]


class ProgrammeChangePayload(ProgrammePayload):
    """``programme.settings_changed``, ``.matching_changed``, ``.intake_form_changed``, ``.plan_changed``,
    ``.plan_applied``, ``.library_changed``: what its coordinators (or an admin) changed, by name: its settings
    (``name``, ``session_minutes``…), its matching's (``pairing_mode``, ``criteria``, the weights), an intake form
    (``intake_form:mentor``, ``intake_form:mentee``), its plan (``plan``, now at ``plan:v<version>``), its plan
    applied to the running pairings (``pairings:<count>``), or its library (``resource:added``, ``:changed`` or
    ``:removed``, and the resource's title)."""

    changed: list[str]


class EnrolmentPayload(TypedDict):
    """``enrolment.*``: a person joined a programme (``via`` an invitation, a join link or their organisation's
    sign-on), left it, or was removed; told to them (``participant_user_id``) and to its coordinators
    (``coordinator_user_ids``). ``id`` is the participation's; ``status`` is where it stands now;
    ``cancelled_session_ids``: the sessions of their pairings a leave or a removal cancelled."""

    id: str
    programme_id: str
    programme_name: str
    participant_user_id: str
    role: str
    status: str
    capacity: int | None
    via: str | None
    cancelled_session_ids: list[str]
    coordinator_user_ids: list[str]
    intake_finished: bool  # whether they may be matched or paired: their intake (a mentor's hours) is finished
    reason: str | None  # why they left, in their words (optional); none for a join or a removal


class PairingPayload(TypedDict):
    """``pairing.*``: a programme's mentor (``mentor_profile_id``) and mentee (``mentee_user_id``) paired, told to both
    and to its coordinators. ``status`` is where it stands now; the agreement (``cadence_weeks``,
    ``session_minutes``, ``session_count``); its sessions' series (``series_id``) on the mentor's programme listing
    and its first time (``start_time``); who ended it (``ended_by``), and why (``reason``), once ended (a pause's
    reason, or why it could not resume on its day, in those events); the day a paused one resumes (``resume_on``);
    ``cancelled_session_ids``: the sessions this move (a pause, an end) cancelled; ``departed_user_id``: the one of the
    pair whose leaving or removal from the programme ended it; the programme's hard rules a coordinator paired them
    across (``rules_overridden``, in words) and their reason (``override_reason``)."""

    id: str
    programme_id: str
    programme_name: str
    listing_id: str
    mentor_profile_id: str
    mentee_user_id: str
    status: str
    cadence_weeks: int
    session_minutes: int
    session_count: int
    series_id: str | None
    start_time: str | None
    ended_by: str | None
    reason: str | None
    resume_on: str | None
    cancelled_session_ids: list[str]
    departed_user_id: str | None
    rules_overridden: list[str]
    override_reason: str | None
    coordinator_user_ids: list[str]


class PairingThingPayload(TypedDict):
    """What a pairing's goal and its plan's step say alike: whose they are, their words and where they stand."""

    id: str
    pairing_id: str
    programme_id: str
    programme_name: str
    mentor_profile_id: str
    mentee_user_id: str
    title: str
    status: str


class PlanStepPayload(PairingThingPayload):
    """``plan.*``: a step of a pairing's plan ticked done, skipped (``note``: why) or back to do (``status``, where it
    stands now; ``anchor`` and ``number``: week N or session N); told to the pair (its mentor by profile, its mentee
    by user) and to the programme's coordinators."""

    anchor: str
    number: int
    note: str | None
    coordinator_user_ids: list[str]


class GoalPayload(PairingThingPayload):
    """``goal.*``: a pairing's goal set, reached, set aside or reopened (``status``, where it stands now); told to
    the pair (its mentor by profile, its mentee by user) and to the programme's coordinators."""

    target_date: str | None
    coordinator_user_ids: list[str]


class MatchRunPayload(TypedDict):
    """``match_run.*``: a run of the matcher over a programme, told to its coordinators: asked for, how far it got
    (``stage``, ``progress`` in percent), and how it ended (``status``: done, failed or cancelled); once done, how
    many mentees it paired (``matched``) of how many (``mentees``) and the share who got one of their top-3."""

    id: str
    programme_id: str
    programme_name: str
    status: str
    stage: str
    progress: int
    mentees: int | None
    matched: int | None
    top3_share: float | None
    error: str | None
    coordinator_user_ids: list[str]


# Every shape a programme's event takes (``workflows.payloads.EventPayload`` takes them all).
ProgrammeEventPayload = (ProgrammePayload | ProgrammeCoordinatorsPayload | ProgrammeChangePayload | EnrolmentPayload
                         | PairingPayload | GoalPayload | PlanStepPayload | MatchRunPayload)
