"""A pairing's progress: its goals, its action items and its sessions, for the pair and the programme's
coordinators."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import Schema, Text
from api.database import db_session
from api.programmes.routes import blp
from api.security import current_actor
from models import CancelCause, CancelledBy, GoalStatus
from models.programmes.goals import MAX_ITEM, MAX_MILESTONES, MAX_TITLE
from workflows.programmes import goals
from workflows.roles import Role

PAIRING = "/<uuid:programme_id>/pairings/<uuid:pairing_id>"
EXAMPLE_GOAL: dict[str, Any] = {
    "id": "6e5d4c3b-2a19-4f08-8e7d-6c5b4a392817", "title": "Give a talk at a meetup", "target_date": "2031-05-01",
    "status": "open",
    "milestones": [{"title": "Choose the subject", "done": True}, {"title": "Rehearse", "done": False}],
    "created_at": "2031-03-04T18:00:00+00:00", "updated_at": "2031-03-04T18:00:00+00:00", "done_at": None}


class MilestoneSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_TITLE))
    done = fields.Boolean(load_default=False)


class GoalInputSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_TITLE))
    target_date = fields.Date(load_default=None, allow_none=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), load_default=list,
                             validate=validate.Length(max=MAX_MILESTONES))


class GoalPatchSchema(Schema):
    title = Text(validate=validate.Length(min=1, max=MAX_TITLE))
    target_date = fields.Date(allow_none=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), validate=validate.Length(max=MAX_MILESTONES))
    status = fields.Enum(GoalStatus, by_value=True, metadata={"description": "`done`, `dropped`, or `open` again."})


class GoalSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    target_date = fields.Date(allow_none=True)
    status = fields.Enum(GoalStatus, by_value=True)
    milestones = fields.List(fields.Nested(MilestoneSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    done_at = fields.DateTime(allow_none=True)


class GoalListSchema(Schema):
    items = fields.List(fields.Nested(GoalSchema))


class ItemInputSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_ITEM))
    owner = fields.Enum(Role, by_value=True, load_default=Role.MENTEE,
                        validate=validate.OneOf([Role.MENTOR, Role.MENTEE]),
                        metadata={"description": "`mentee` (the default) or `mentor`."})
    goal_id = fields.UUID(load_default=None, allow_none=True)
    session_id = fields.UUID(load_default=None, allow_none=True,
                             metadata={"description": "The session that raised it."})
    due_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "When it is due, if said."})


class ItemSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    owner_user_id = fields.UUID()
    goal_id = fields.UUID(allow_none=True)
    session_id = fields.UUID(allow_none=True, metadata={
        "description": "The session that raised it: the items its mentor wrote on completing it are these."})
    due_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    done_at = fields.DateTime(allow_none=True)


class ItemListSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))


class ItemListArgs(Schema):
    open = fields.Boolean(load_default=False, metadata={"description": "Only those not done: what its next "
                                                                      "session carries."})


class ItemDoneSchema(Schema):
    done = fields.Boolean(required=True)


class PairSessionSchema(Schema):
    id = fields.UUID()
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    status = fields.String()
    no_show = fields.String(allow_none=True, metadata={"description": "Who was absent, once found."})
    goal_id = fields.UUID(allow_none=True)
    cancelled_by = fields.Enum(CancelledBy, by_value=True, allow_none=True, metadata={
        "description": "Who cancelled it, once cancelled (a coordinator: pausing or ending the pairing, or taking one "
                       "of the pair off)."})
    cause = fields.Enum(CancelCause, by_value=True, allow_none=True, metadata={
        "description": "Why it was cancelled; null when not cancelled, or recorded before causes were."})


class PairSessionListSchema(Schema):
    items = fields.List(fields.Nested(PairSessionSchema))


class SessionGoalSchema(Schema):
    goal_id = fields.UUID(required=True, allow_none=True)


@blp.route(f"{PAIRING}/goals")
class Goals(MethodView):
    @blp.doc(operationId="listPairingGoals")
    @blp.response(200, GoalListSchema, example={"items": [EXAMPLE_GOAL]})
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """A pairing's goals, in the order they were set: the pair and the programme's coordinators."""
        return {"items": goals.list_goals(db_session(), current_actor(), programme_id, pairing_id)}

    @blp.doc(operationId="setPairingGoal")
    @blp.arguments(GoalInputSchema, example={"title": EXAMPLE_GOAL["title"], "target_date": "2031-05-01",
                                            "milestones": [{"title": "Choose the subject"}]})
    @blp.response(201, GoalSchema, example=EXAMPLE_GOAL)
    @documents_errors(blp, 400, 401, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """Set a goal (the pair or a coordinator; 20 at most, 10 milestones each); `goal.set`. 400 once the
        pairing ended."""
        return goals.set_goal(db_session(), current_actor(), programme_id, pairing_id, **body)


@blp.route(f"{PAIRING}/goals/<uuid:goal_id>")
class GoalItem(MethodView):
    @blp.doc(operationId="updatePairingGoal")
    @blp.arguments(GoalPatchSchema, example={"status": "done"})
    @blp.response(200, GoalSchema, example=EXAMPLE_GOAL)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID, goal_id: uuid.UUID) -> Any:
        """Change a goal's words, date or milestones, or move it: `done`, `dropped`, `open` again (`goal.*`)."""
        return goals.update_goal(db_session(), current_actor(), programme_id, pairing_id, goal_id, changes=body)


@blp.route(f"{PAIRING}/action-items")
class Items(MethodView):
    @blp.doc(operationId="listActionItems")
    @blp.arguments(ItemListArgs, location="query")
    @blp.response(200, ItemListSchema)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """A pairing's action items, oldest first; `open=true`: those not done, which its next session carries."""
        return {"items": goals.list_items(db_session(), current_actor(), programme_id, pairing_id,
                                          open_only=args["open"])}

    @blp.doc(operationId="addActionItem")
    @blp.arguments(ItemInputSchema, example={"title": "Draft the talk's outline", "owner": "mentee"})
    @blp.response(201, ItemSchema)
    @documents_errors(blp, 400, 401, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """Add an action item (the pair or a coordinator), owned by the mentee or the mentor, with the session that
        raised it and the goal it serves if given (each of this pairing: 400 otherwise). 100 not done at most."""
        return goals.add_item(db_session(), current_actor(), programme_id, pairing_id, **body)


@blp.route(f"{PAIRING}/action-items/<uuid:item_id>")
class ItemDone(MethodView):
    @blp.doc(operationId="updateActionItem")
    @blp.arguments(ItemDoneSchema, example={"done": True})
    @blp.response(200, ItemSchema)
    @documents_errors(blp, 401, 404, 422)
    def patch(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID, item_id: uuid.UUID) -> Any:
        """Mark an action item done, or not done again."""
        return goals.set_item_done(db_session(), current_actor(), programme_id, pairing_id, item_id, **body)


@blp.route(f"{PAIRING}/sessions")
class PairSessions(MethodView):
    @blp.doc(operationId="listPairingSessions")
    @blp.response(200, PairSessionListSchema)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """A pairing's sessions in time order, as its coordinators see them: times, status, attendance and goal;
        never their notes, which stay the pair's."""
        return {"items": goals.sessions_of(db_session(), current_actor(), programme_id, pairing_id)}


@blp.route(f"{PAIRING}/sessions/<uuid:session_id>/goal")
class PairSessionGoal(MethodView):
    @blp.doc(operationId="setPairingSessionGoal")
    @blp.arguments(SessionGoalSchema, example={"goal_id": EXAMPLE_GOAL["id"]})
    @blp.response(200, PairSessionSchema)
    @documents_errors(blp, 400, 401, 404, 422)
    def put(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID, session_id: uuid.UUID
            ) -> Any:
        """Link a session of the pairing to one of its goals (null: none)."""
        return goals.link_session(db_session(), current_actor(), programme_id, pairing_id, session_id, **body)
