"""A programme's reminders to those who left a step undone, as its coordinators set them, and who was reminded."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import Schema
from api.database import db_session
from api.programmes.routes import blp
from api.security import current_actor
from models import NudgeStep
from workflows.programmes import nudges

STEPS = [one.value for one in NudgeStep]
EXAMPLE = {"items": [
    {"step": "invitation", "enabled": True, "after_days": 3, "every_days": 4, "at_most": 2},
    {"step": "intake", "enabled": True, "after_days": 3, "every_days": 4, "at_most": 2},
    {"step": "pairing", "enabled": False, "after_days": 2, "every_days": 3, "at_most": 2}]}


class NudgeSettingSchema(Schema):
    step = fields.String(required=True, validate=validate.OneOf(STEPS), metadata={
        "description": "`invitation` (not answered: its mail again, the same link), `intake` (not finished, a "
                       "mentor's hours included), `pairing` (proposed and not accepted: its mentor)."})
    enabled = fields.Boolean(required=True)
    after_days = fields.Integer(required=True, validate=validate.Range(1, 60), metadata={
        "description": "The first reminder, this many days after the step began."})
    every_days = fields.Integer(required=True, validate=validate.Range(1, 60), metadata={
        "description": "Then one every this many days."})
    at_most = fields.Integer(required=True, validate=validate.Range(1, 10), metadata={
        "description": "The last one is this one."})


class NudgeSettingsSchema(Schema):
    items = fields.List(fields.Nested(NudgeSettingSchema), required=True,
                        validate=validate.Length(min=1, max=len(STEPS)))


class NudgeSentSchema(Schema):
    step = fields.String(metadata={"enum": STEPS})
    subject_id = fields.UUID(metadata={"description": "The invitation, participation or pairing."})
    round = fields.Integer(metadata={"description": "1 for the first reminder of it."})
    to = fields.String(metadata={"description": "Who was reminded: a name, or an invitation's address."})
    sent_at = fields.DateTime()


class NudgeSentListSchema(Schema):
    items = fields.List(fields.Nested(NudgeSentSchema))


@blp.route("/<uuid:programme_id>/nudges")
class Nudges(MethodView):
    @blp.doc(operationId="getProgrammeNudges")
    @blp.response(200, NudgeSettingsSchema, example=EXAMPLE)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """The programme's reminders, step by step (each off until its coordinators turn it on). Its coordinators."""
        return {"items": nudges.settings(db_session(), current_actor(), programme_id)}

    @blp.doc(operationId="setProgrammeNudges")
    @blp.arguments(NudgeSettingsSchema, example={"items": [
        {"step": "invitation", "enabled": True, "after_days": 3, "every_days": 4, "at_most": 2}]})
    @blp.response(200, NudgeSettingsSchema, example=EXAMPLE)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Turn reminders on or off, and set when they go, for the steps given (the rest stay). Each reminder goes
        once per step and round, and stops as soon as the person acts. 400 for a closed programme."""
        return {"items": nudges.choose(db_session(), current_actor(), programme_id, body["items"])}


@blp.route("/<uuid:programme_id>/nudges/sent")
class NudgesSent(MethodView):
    @blp.doc(operationId="listProgrammeNudgesSent")
    @blp.response(200, NudgeSentListSchema)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """Who was reminded of what, and when: the latest 100. Its coordinators."""
        return {"items": nudges.sent(db_session(), current_actor(), programme_id)}
