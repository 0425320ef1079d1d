"""A coordinator's word on a mentee and a mentor, obeyed by every later run: never pair them, or prefer them (on the
programmes blueprint, under a programme's path)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import fields

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Schema, page_of
from api.database import db_session
from api.matching.schemas import MENTEE_ID, MENTOR_ID
from api.programmes.routes import blp
from api.security import current_actor
from models import PreferenceKind
from workflows.matching import preferences


class PreferenceInputSchema(Schema):
    mentee_participant_id = fields.UUID(required=True)
    mentor_participant_id = fields.UUID(required=True)
    kind = fields.Enum(PreferenceKind, by_value=True, required=True, metadata={
        "description": "`never`: no run pairs them; `prefer`: a run pairs them first when they fit (the hard rules "
                       "kept, time in common, a place left). A pair whose pairing ended is kept apart unless "
                       "preferred."})


class PreferenceSchema(PreferenceInputSchema):
    id = fields.UUID()
    mentee_name = fields.String()
    mentor_name = fields.String()
    created_by_user_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


PreferencePageSchema = page_of(PreferenceSchema, "MatchPreferencePage")
EXAMPLE = {"id": "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a", "mentee_participant_id": MENTEE_ID,
           "mentor_participant_id": MENTOR_ID, "kind": "never", "mentee_name": "Lin Chen",
           "mentor_name": "Ada Lovelace", "created_by_user_id": None, "created_at": "2031-02-25T10:00:09+00:00"}


@blp.route("/<uuid:programme_id>/match-preferences")
class MatchPreferences(MethodView):
    @blp.doc(operationId="listMatchPreferences")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, PreferencePageSchema, example={"items": [EXAMPLE], "next_cursor": None})
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The words on pairs every run obeys, newest first (its coordinators and admins)."""
        return preferences.list_preferences(db_session(), current_actor(), programme_id, **args)

    @blp.doc(operationId="sayMatchPreference")
    @blp.arguments(PreferenceInputSchema, example={"mentee_participant_id": MENTEE_ID,
                                                   "mentor_participant_id": MENTOR_ID, "kind": "never"})
    @blp.response(200, PreferenceSchema, example=EXAMPLE)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Say `never` or `prefer` of a mentee and a mentor taking part (its coordinators): one word per pair, a new
        one replacing the old; the next run obeys it, the drafts there are now stay. 400 once the programme is
        closed, for a participant of the other role, or past 2,000 words; 404 for one not taking part."""
        return preferences.say(db_session(), current_actor(), programme_id, **body)


@blp.route("/<uuid:programme_id>/match-preferences/<uuid:preference_id>")
class MatchPreferenceItem(MethodView):
    @blp.doc(operationId="removeMatchPreference")
    @blp.response(204)
    @documents_errors(blp, 401, 403, 404)
    def delete(self, programme_id: uuid.UUID, preference_id: uuid.UUID) -> None:
        """Take a word back (its coordinators): the next run is free of it."""
        preferences.unsay(db_session(), current_actor(), programme_id, preference_id)
