"""A programme's intake: the forms its coordinators edit, one per audience, each participant's answers (and a
mentee's weekly windows, a mentor's weekly hours), and who is left out of matching until theirs is finished."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.bookings.schemas import AnsweredSchema, AnswerSchema
from api.common.docs import documents_errors
from api.common.schemas import Schema, timezone_name
from api.database import db_session
from api.mentors.listing_schemas import EXAMPLE_QUESTIONS, QuestionInputSchema, QuestionSchema
from api.programmes.routes import blp
from api.security import current_actor
from models import DirectoryAttribute, ParticipantRole
from models.questions import MAX_INTAKE_QUESTIONS
from workflows.programmes import intake
from workflows.programmes.intake import MAX_WINDOWS

AUDIENCES = "<any(mentor, mentee):audience>"


DIRECTORY = {"description": "Where the organisation's directory answers it instead of the person: `department` or "
                            "`manager` (the enterprise extension its SCIM client sends; the manager's name where they "
                            "are in the directory too, else their id there). A free-text question, never required; "
                            "`null`: the person answers it."}


class IntakeQuestionInputSchema(QuestionInputSchema):
    directory = fields.Enum(DirectoryAttribute, by_value=True, load_default=None, allow_none=True, metadata=DIRECTORY)


class IntakeQuestionSchema(QuestionSchema):
    directory = fields.Enum(DirectoryAttribute, by_value=True, allow_none=True, metadata=DIRECTORY)


class IntakeFormSchema(Schema):
    items = fields.List(fields.Nested(IntakeQuestionSchema))


class IntakeFormInputSchema(Schema):
    items = fields.List(fields.Nested(IntakeQuestionInputSchema), required=True,
                        validate=validate.Length(max=MAX_INTAKE_QUESTIONS))


class IntakeAnsweredSchema(AnsweredSchema):
    directory = fields.String(metadata={
        "enum": [one.value for one in DirectoryAttribute],
        "description": "Present on an answer the organisation's directory gives (`department` or `manager`)."})


class WeeklyWindowSchema(Schema):
    weekday = fields.Integer(required=True, strict=True, validate=validate.Range(0, 6),
                             metadata={"description": "0 is Monday."})
    start_minute = fields.Integer(required=True, strict=True, validate=validate.Range(0, 1439),
                                  metadata={"description": "Minutes since local midnight, in `timezone`."})
    end_minute = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1440))


class IntakeAnswerSchema(Schema):
    answers = fields.List(fields.Nested(AnswerSchema), load_default=list,
                          validate=validate.Length(max=MAX_INTAKE_QUESTIONS))
    timezone = timezone_name(load_default=None, metadata={
        "description": "The zone of `windows`: a mentee's (their account's if not given), a mentor's profile's (kept "
                       "if not given)."})
    windows = fields.List(fields.Nested(WeeklyWindowSchema), load_default=None, allow_none=True,
                          validate=validate.Length(max=MAX_WINDOWS), metadata={
                              "description": "A mentee's weekly free time; a mentor's weekly hours, which confirm "
                                             "them (their mentor profile's: the same hours serve their public "
                                             "listings; at least one). Leave out to keep them as they are."})


class IntakeSchema(Schema):
    participant_id = fields.UUID()
    role = fields.Enum(ParticipantRole, by_value=True)
    form = fields.List(fields.Nested(IntakeQuestionSchema), metadata={"description": "The form of their role."})
    answers = fields.List(fields.Nested(IntakeAnsweredSchema), metadata={
        "description": "Their answers, then those their organisation's directory gives."})
    answered_at = fields.DateTime(allow_none=True)
    timezone = fields.String(allow_none=True)
    windows = fields.List(fields.Nested(WeeklyWindowSchema), metadata={
        "description": "A mentee's weekly windows; a mentor's weekly hours (their profile's, in `timezone`)."})
    editable = fields.Boolean(metadata={"description": "Whether the answers may still change."})
    finished_at = fields.DateTime(allow_none=True, metadata={
        "description": "When it was finished: saved, and for a mentor their hours confirmed. Only participants whose "
                       "intake is finished are matched or paired."})
    hours_suggested = fields.Boolean(metadata={
        "description": "A mentor with no weekly hours yet: `windows` are a suggestion (weekdays 09:00-17:00) to "
                       "confirm or change."})


class LeftOutPersonSchema(Schema):
    participant_id = fields.UUID()
    name = fields.String()
    role = fields.Enum(ParticipantRole, by_value=True)
    reason = fields.String(metadata={"example": "has not given their hours"})


class LeftOutSchema(Schema):
    mentors = fields.Integer(metadata={"description": "Mentors taking part who have not given their hours."})
    mentees = fields.Integer(metadata={"description": "Mentees taking part who have not answered the intake."})
    summary = fields.String(metadata={"example": "3 mentors have not given their hours"})
    people = fields.List(fields.Nested(LeftOutPersonSchema))


EXAMPLE_ANSWERS = {"answers": [{"question_id": "3f2e1d0c-9b8a-4765-a4b3-c2d1e0f9a8b7", "value": "Public speaking"}],
                   "timezone": "Europe/London", "windows": [{"weekday": 1, "start_minute": 1080, "end_minute": 1200}]}


@blp.route(f"/<uuid:programme_id>/intake-forms/{AUDIENCES}")
class IntakeForm(MethodView):
    @blp.doc(operationId="getProgrammeIntakeForm")
    @blp.response(200, IntakeFormSchema)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID, audience: str) -> Any:
        """The intake form its `mentor`s or `mentee`s answer: its coordinators read both, a participant the one of
        their role."""
        return {"items": intake.form(db_session(), current_actor(), programme_id, ParticipantRole(audience))}

    @blp.doc(operationId="setProgrammeIntakeForm")
    @blp.arguments(IntakeFormInputSchema, example=EXAMPLE_QUESTIONS)
    @blp.response(200, IntakeFormSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], programme_id: uuid.UUID, audience: str) -> Any:
        """Replace the intake form of its `mentor`s or `mentee`s (its coordinators; 30 questions at most): free
        text, one choice, several choices or a 1-5 scale, each required or not; a free-text one may be answered by
        the organisation's directory instead (`directory`). Answers already given keep the words
        of the questions they answered. 400 once the programme is closed."""
        return {"items": intake.set_form(db_session(), current_actor(), programme_id, ParticipantRole(audience),
                                         data["items"])}


@blp.route("/<uuid:programme_id>/intake")
class MyIntake(MethodView):
    @blp.doc(operationId="getMyProgrammeIntake")
    @blp.response(200, IntakeSchema)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """Your intake in a programme you take part in: the form of your role, your answers, a mentee's windows or a
        mentor's weekly hours (weekdays 09:00-17:00 suggested to a mentor who has none), and whether it is finished."""
        return intake.mine(db_session(), current_actor(), programme_id)

    @blp.doc(operationId="answerProgrammeIntake")
    @blp.arguments(IntakeAnswerSchema, example=EXAMPLE_ANSWERS)
    @blp.response(200, IntakeSchema)
    @documents_errors(blp, 400, 401, 404, 422)
    def put(self, data: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Give or change your intake: every answer at once (422 for a required one missing, one that does not
        fit its question, or one to a question the directory answers), and your weekly windows (21 at most, none
        overlapping): a mentee's free time, or a mentor's weekly hours, which are their mentor profile's and serve
        their public listings too (400 for none). Saving finishes a mentee's intake; a mentor's once their hours are
        confirmed. 400 once the intake is closed."""
        return intake.answer(db_session(), current_actor(), programme_id, **data)


@blp.route("/<uuid:programme_id>/participants/<uuid:participant_id>/intake")
class ParticipantIntake(MethodView):
    @blp.doc(operationId="getProgrammeParticipantIntake")
    @blp.response(200, IntakeSchema)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID, participant_id: uuid.UUID) -> Any:
        """A participant's intake: its coordinators, and the participant; 404 for anyone else."""
        return intake.of_participant(db_session(), current_actor(), programme_id, participant_id)


@blp.route("/<uuid:programme_id>/matching/left-out")
class LeftOut(MethodView):
    @blp.doc(operationId="getProgrammeLeftOut")
    @blp.response(200, LeftOutSchema)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """Who takes part but is neither matched nor paired until their intake is finished, and why (its
        coordinators): "3 mentors have not given their hours"."""
        return intake.left_out(db_session(), current_actor(), programme_id)
