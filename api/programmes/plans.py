"""A programme's engagement plan for the term: its coordinators' steps, applied to the running pairings on demand;
each pairing's copy, where the pair tick steps done or skip them; the programme's progress through it; and the step
of a session of a pairing."""

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
from api.sessions.routes import blp as sessions_blp
from models import StepAnchor, StepStatus
from models.programmes.plans import (
    MAX_AGENDA,
    MAX_LINK_TITLE,
    MAX_LINK_URL,
    MAX_SESSION_NUMBER,
    MAX_SKIP_NOTE,
    MAX_STEP_LINKS,
    MAX_STEP_TITLE,
    MAX_STEPS,
    MAX_WEEK,
)
from workflows.conversations import text
from workflows.errors import NotFound
from workflows.programmes import plan_steps, plans
from workflows.programmes.plan_steps import StepAction

PAIRING = "/<uuid:programme_id>/pairings/<uuid:pairing_id>"


class StepLinkSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_LINK_TITLE))
    url = Text(required=True, validate=validate.Length(min=1, max=MAX_LINK_URL), metadata={
        "description": "An `http` or `https` address, shown as a link and never fetched by the service."})


class StepInputSchema(Schema):
    id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "The id of a step of the plan as read: it stays that step (what applying the plan to the "
                       "running pairings matches by). Leave out for a new step."})
    anchor = fields.Enum(StepAnchor, by_value=True, required=True, metadata={
        "description": "`week`: week N of the pairing, from the day it became active; `session`: its session N."})
    number = fields.Integer(required=True, strict=True, validate=validate.Range(1, max(MAX_WEEK, MAX_SESSION_NUMBER)),
                            metadata={"description": f"Week 1 to {MAX_WEEK}, or session 1 to {MAX_SESSION_NUMBER}."})
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_STEP_TITLE))
    agenda = Text(load_default="", validate=validate.Length(max=MAX_AGENDA), metadata={
        "description": "What to do, in Markdown: *emphasis*, links, lists, `code` (no raw HTML, images or headings)."})
    links = fields.List(fields.Nested(StepLinkSchema), load_default=list, validate=validate.Length(max=MAX_STEP_LINKS),
                        metadata={"description": "The web pages it suggests."})
    resource_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=MAX_STEP_LINKS),
                               metadata={"description": "The resources of the programme's library or the platform's "
                                                        "it suggests (`GET …/resources`)."})


class PlanInputSchema(Schema):
    steps = fields.List(fields.Nested(StepInputSchema), required=True, validate=validate.Length(max=MAX_STEPS))


def _agenda_html(step: Any) -> str:
    return text.html(step.agenda) if step.agenda else ""


class StepSchema(Schema):
    id = fields.UUID()
    anchor = fields.Enum(StepAnchor, by_value=True)
    number = fields.Integer()
    title = fields.String()
    agenda = fields.String(metadata={"description": "Its Markdown source."})
    agenda_html = fields.Function(_agenda_html, metadata={"description": "The agenda as safe HTML."})
    links = fields.List(fields.Nested(StepLinkSchema))
    resource_ids = fields.List(fields.UUID(), metadata={"description": "Titles in the plan's `resources`."})


def _titles(view: Any) -> list[dict[str, str]]:
    return [{"id": str(resource_id), "title": title} for resource_id, title in sorted(view.resources.items())]


TITLES = {"description": "The title of each library resource the steps suggest (one removed from its library since "
                         "is left out)."}


class PlanSchema(Schema):
    programme_id = fields.UUID()
    version = fields.Integer(metadata={"description": "One more at each edit."})
    pairings_behind = fields.Integer(metadata={
        "description": "Running pairings that keep a copy of an earlier version: what applying the plan changes."})
    steps = fields.List(fields.Nested(StepSchema))
    resources = fields.Function(_titles, metadata=TITLES)


class PairingStepSchema(StepSchema):
    status = fields.Enum(StepStatus, by_value=True)
    note = fields.String(allow_none=True, metadata={"description": "Why it was skipped, or what came of it."})
    done_at = fields.DateTime(allow_none=True, metadata={"description": "When it was done or skipped."})


class PairingPlanSchema(Schema):
    pairing_id = fields.UUID()
    programme_id = fields.UUID()
    week = fields.Function(lambda plan: plan.standing.week, metadata={
        "description": "The pair's week: 1 from the day the pairing became active; 0 before."})
    sessions_held = fields.Function(lambda plan: plan.standing.held)
    current_step_id = fields.UUID(allow_none=True, metadata={
        "description": "This week's step: the first to do whose time has come (its week has begun, or its session is "
                       "the next one or before), else the first to do; null when none is left."})
    done = fields.Integer(metadata={"description": "Steps done or skipped."})
    steps = fields.List(fields.Nested(PairingStepSchema))
    resources = fields.Function(_titles, metadata=TITLES)


class SkipSchema(Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_SKIP_NOTE))


class StepProgressSchema(Schema):
    position = fields.Integer()
    title = fields.String()
    done = fields.Integer()
    skipped = fields.Integer()
    todo = fields.Integer()


class PairingProgressSchema(Schema):
    pairing_id = fields.UUID()
    behind = fields.Integer(metadata={"description": "Its steps done or skipped."})
    total = fields.Integer()


class PlanProgressSchema(Schema):
    programme_id = fields.UUID()
    pairings = fields.Integer(metadata={"description": "Pairings with a copy of the plan, ended ones too."})
    steps = fields.List(fields.Nested(StepProgressSchema), metadata={"description": "By place in the plan."})
    by_pairing = fields.Function(lambda progress: [
        {"pairing_id": str(pairing_id), "behind": behind, "total": total}
        for pairing_id, (behind, total) in sorted(progress.by_pairing.items())],
        metadata={"description": "Each pairing's steps behind it and its steps."})


class SessionStepSchema(PairingStepSchema):
    pairing_id = fields.UUID()
    programme_id = fields.UUID()
    resources = fields.Function(_titles, metadata=TITLES)
    pairing_open = fields.Boolean(metadata={"description": "Whether its steps may still move (the pairing has not "
                                                          "ended)."})


EXAMPLE_PLAN = {"steps": [
    {"anchor": "week", "number": 1, "title": "Get to know each other",
     "agenda": "- Where you are now\n- What you want from the term", "links": []},
    {"anchor": "session", "number": 3, "title": "Set a goal", "agenda": "Agree on **one** goal for the term.",
     "links": [{"title": "Writing SMART goals", "url": "https://example.org/smart-goals"}]}]}


@blp.route("/<uuid:programme_id>/plan")
class Plan(MethodView):
    @blp.doc(operationId="getProgrammePlan")
    @blp.response(200, PlanSchema)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """The programme's plan for the term (its coordinators): its steps in order."""
        return plans.read_plan(db_session(), current_actor(), programme_id)

    @blp.doc(operationId="setProgrammePlan")
    @blp.arguments(PlanInputSchema, example=EXAMPLE_PLAN)
    @blp.response(200, PlanSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Replace the plan (its coordinators; 52 steps at most; a resource is an `http` or `https` address): a new
        version. Pairings not yet active get it when they start; running ones keep their copy until the plan is
        applied (`POST …/plan/apply`). `programme.plan_changed`. 400 once the programme is closed."""
        return plans.set_plan(db_session(), current_actor(), programme_id, body["steps"])


@blp.route("/<uuid:programme_id>/plan/apply")
class ApplyPlan(MethodView):
    @blp.doc(operationId="applyProgrammePlan")
    @blp.response(200, PlanSchema)
    @documents_errors(blp, 400, 401, 403, 404)
    def post(self, programme_id: uuid.UUID) -> Any:
        """Bring every running pairing's copy of the plan to its current version (its coordinators): a step done or
        skipped stays as it was; a step to do takes the plan's words, or goes if the plan no longer has it; a step
        new to the plan is added, to do. `programme.plan_applied`."""
        return plans.apply_plan(db_session(), current_actor(), programme_id)


@blp.route("/<uuid:programme_id>/plan/progress")
class Progress(MethodView):
    @blp.doc(operationId="getProgrammePlanProgress")
    @blp.response(200, PlanProgressSchema)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """How the programme's pairings stand with each step of the plan, and each pairing (its coordinators)."""
        return plan_steps.progress(db_session(), current_actor(), programme_id)


@blp.route(f"{PAIRING}/plan")
class PairingPlan(MethodView):
    @blp.doc(operationId="getPairingPlan")
    @blp.response(200, PairingPlanSchema)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """A pairing's copy of the plan, where the pair stand and this week's step: the pair and the programme's
        coordinators."""
        return plan_steps.read(db_session(), current_actor(), programme_id, pairing_id)


def _step_route(action: StepAction, verb: str, summary: str) -> None:
    @blp.route(f"{PAIRING}/plan/<uuid:step_id>/{action.value}", endpoint=f"plan_step_{action.value}")
    class Move(MethodView):
        @blp.doc(operationId=f"{verb}PairingPlanStep", summary=summary)
        @blp.arguments(SkipSchema, example={"note": "We covered it in week 1."})
        @blp.response(200, PairingPlanSchema)
        @documents_errors(blp, 400, 401, 404, 422)
        def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID, step_id: uuid.UUID
                 ) -> Any:
            """The pair or a coordinator, until the pairing ends (400 then, and for a move its status does not
            allow). `note`: why it was skipped, or what came of it (1,000 characters). A `plan.*` event."""
            return plan_steps.mark(db_session(), current_actor(), programme_id, pairing_id, step_id, action=action,
                                   note=body.get("note"))


_step_route(StepAction.DONE, "complete", "Tick a step of the pairing's plan done")
_step_route(StepAction.SKIP, "skip", "Skip a step of the pairing's plan, with a note")
_step_route(StepAction.REOPEN, "reopen", "Put a step of the pairing's plan back to do")


@sessions_blp.route("/<uuid:session_id>/plan-step")
class SessionStep(MethodView):
    @sessions_blp.doc(operationId="getSessionPlanStep")
    @sessions_blp.response(200, SessionStepSchema)
    @documents_errors(sessions_blp, 401, 404)
    def get(self, session_id: uuid.UUID) -> Any:
        """The step of its pairing's plan for one of your sessions in a programme: the step of its number, else of
        the week it falls in; 404 when it has none."""
        found = plan_steps.of_session(db_session(), current_actor(), session_id)
        if found is None:
            raise NotFound("this session has no step of a plan")
        return found
