"""A programme's matching: its settings, runs of the matcher (work for the matching worker), the drafts a
coordinator reviews and publishes, and a choosing mentee's recommendations and request."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.matching.schemas import (
    EXAMPLE_DRAFT,
    EXAMPLE_RUN,
    EXAMPLE_SETTINGS,
    MENTOR_ID,
    REASONS,
    DraftCountsSchema,
    DraftPageSchema,
    DraftSchema,
    DraftUpdateSchema,
    ExplainArgs,
    ExplanationSchema,
    MatchingSettingsSchema,
    MatchRunPageSchema,
    MatchRunSchema,
    MentorRequestSchema,
    RecommendationsSchema,
    SwapSchema,
)
from api.programmes.pairings import EXAMPLE_PAIRING, PairingSchema
from api.programmes.routes import blp
from api.security import current_actor
from workflows.matching import choice, drafts, explain, runs, settings


def _settings(view: settings.MatchingView) -> dict[str, Any]:
    shown = view.settings.as_json()
    shown["criteria"] = [{**one, "kind": settings.Kind(one["kind"])} for one in shown["criteria"]]
    return {"pairing_mode": view.pairing_mode, **shown}


@blp.route("/<uuid:programme_id>/matching")
class Matching(MethodView):
    @blp.doc(operationId="getMatchingSettings")
    @blp.response(200, MatchingSettingsSchema, example=EXAMPLE_SETTINGS)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """How the programme pairs its people and what the matcher weighs (its coordinators)."""
        return _settings(settings.read(db_session(), current_actor(), programme_id))

    @blp.doc(operationId="setMatchingSettings")
    @blp.arguments(MatchingSettingsSchema, example=EXAMPLE_SETTINGS)
    @blp.response(200, MatchingSettingsSchema, example=EXAMPLE_SETTINGS)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Set how the programme pairs (coordinator-led, the mentees' choice, or by hand) and what the matcher
        weighs: criteria joining a mentees' intake question to a mentors' one (or to the mentor's skills), hard
        rules among them, and the weights of free time in common, timezone distance, room left and reliability."""
        body["criteria"] = [{**one, "mentee_question_id": str(one["mentee_question_id"]),
                             "mentor_question_id": None if one["mentor_question_id"] is None
                             else str(one["mentor_question_id"])} for one in body["criteria"]]
        return _settings(settings.write(db_session(), current_actor(), programme_id, **body))


@blp.route("/<uuid:programme_id>/match-runs")
class MatchRuns(MethodView):
    @blp.doc(operationId="listMatchRuns")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, MatchRunPageSchema, example={"items": [{key: value for key, value in EXAMPLE_RUN.items()
                                                               if key != "result"}], "next_cursor": None})
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's runs, newest first, without their results (`GET …/match-runs/{id}` has it)."""
        return runs.list_runs(db_session(), current_actor(), programme_id, **args)

    @blp.doc(operationId="runMatch")
    @blp.response(202, MatchRunSchema, example={**EXAMPLE_RUN, "status": "queued", "stage": "queued", "progress": 0,
                                                "started_at": None, "finished_at": None, "result": None})
    @documents_errors(blp, 400, 401, 403, 404, 409)
    def post(self, programme_id: uuid.UUID) -> Any:
        """Run the match (its coordinators): a job for the matching worker, which scores every unpaired mentee with
        every mentor (free time in common over the programme's first four weeks, the criteria, timezones, room
        left) and finds the best assignment of the whole cohort. Its progress comes as `match_run.progress` events
        on the live stream; a coordinator-led programme's drafts not pinned are replaced by its pairs. 409 while
        another run of the programme waits or works."""
        return runs.request(db_session(), current_actor(), programme_id)


@blp.route("/<uuid:programme_id>/match-runs/<uuid:run_id>")
class MatchRunItem(MethodView):
    @blp.doc(operationId="getMatchRun")
    @blp.response(200, MatchRunSchema, example=EXAMPLE_RUN)
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        """A run: where it stands, and once done its result."""
        return runs.get(db_session(), current_actor(), programme_id, run_id)


@blp.route("/<uuid:programme_id>/match-runs/<uuid:run_id>/cancel")
class CancelMatchRun(MethodView):
    @blp.doc(operationId="cancelMatchRun")
    @blp.response(200, MatchRunSchema, example={**EXAMPLE_RUN, "status": "cancelled", "result": None})
    @documents_errors(blp, 401, 403, 404, 409)
    def post(self, programme_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        """Cancel a run: a queued one at once, a running one at the worker's next step. 409 once over."""
        return runs.cancel(db_session(), current_actor(), programme_id, run_id)


@blp.route("/<uuid:programme_id>/match-runs/<uuid:run_id>/explain")
class ExplainPair(MethodView):
    @blp.doc(operationId="explainMatchPair")
    @blp.arguments(ExplainArgs, location="query")
    @blp.response(200, ExplanationSchema, example={
        "mentee_name": "Lin Chen", "mentor_name": "Bo Park", "made": False, "candidate": False, "score": None,
        "reasons": [], "explanation": "Lin Chen and Bo Park: 0 h in common at 60-minute sessions every 2 weeks"})
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        """Why the run made a given pair, or did not."""
        return explain.explain(db_session(), current_actor(), programme_id, run_id,
                               mentee_id=args["mentee_participant_id"], mentor_id=args["mentor_participant_id"])


@blp.route("/<uuid:programme_id>/match-drafts")
class MatchDrafts(MethodView):
    @blp.doc(operationId="listMatchDrafts")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, DraftPageSchema, example={"items": [EXAMPLE_DRAFT], "next_cursor": None})
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The draft pairings under review, newest first (its coordinators)."""
        return drafts.list_drafts(db_session(), current_actor(), programme_id, **args)


@blp.route("/<uuid:programme_id>/match-drafts/<uuid:draft_id>")
class MatchDraftItem(MethodView):
    @blp.doc(operationId="updateMatchDraft")
    @blp.arguments(DraftUpdateSchema, example={"mentor_participant_id": MENTOR_ID, "pinned": True})
    @blp.response(200, DraftSchema, example=EXAMPLE_DRAFT)
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def patch(self, body: dict[str, Any], programme_id: uuid.UUID, draft_id: uuid.UUID) -> Any:
        """Give a draft another mentor (scored again; 409 when that pair cannot be made), or pin it: a pinned
        draft is kept, and its mentor's place held, when the match is run again."""
        return drafts.update_draft(db_session(), current_actor(), programme_id, draft_id, **body)

    @blp.doc(operationId="removeMatchDraft")
    @blp.response(204)
    @documents_errors(blp, 401, 403, 404, 409)
    def delete(self, programme_id: uuid.UUID, draft_id: uuid.UUID) -> None:
        """Remove a draft: its mentee stays unpaired."""
        drafts.remove(db_session(), current_actor(), programme_id, draft_id)


@blp.route("/<uuid:programme_id>/match-drafts/swap")
class SwapDrafts(MethodView):
    @blp.doc(operationId="swapMatchDrafts")
    @blp.arguments(SwapSchema, example={"draft_ids": [EXAMPLE_DRAFT["id"], "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"]})
    @blp.response(200, DraftSchema(many=True), example=[EXAMPLE_DRAFT])
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Exchange the mentors of two drafts (each new pair scored again; 409 when one cannot be made)."""
        first, second = body["draft_ids"]
        return drafts.swap(db_session(), current_actor(), programme_id, first, second)


@blp.route("/<uuid:programme_id>/match-drafts/publish")
class PublishDrafts(MethodView):
    @blp.doc(operationId="publishMatchDrafts")
    @blp.response(202, DraftCountsSchema, example={"draft": 0, "publishing": 120, "failed": 0})
    @documents_errors(blp, 400, 401, 403, 404, 409)
    def post(self, programme_id: uuid.UUID) -> Any:
        """Publish every draft: the matching worker proposes each as a pairing (its sessions asked for at the
        pair's first common time; both told, with it). A draft that cannot be proposed stays, `failed`, with its
        problem."""
        return drafts.publish(db_session(), current_actor(), programme_id)


@blp.route("/<uuid:programme_id>/recommendations")
class Recommendations(MethodView):
    @blp.doc(operationId="listMentorRecommendations")
    @blp.response(200, RecommendationsSchema, example={"items": [
        {"rank": 1, "mentor_participant_id": MENTOR_ID, "mentor_name": "Ada Lovelace", "reasons": REASONS[:3]}]})
    @documents_errors(blp, 400, 401, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """Your best mentors (a mentee of a programme whose mentees choose): those you can meet at the agreed
        cadence with a place left, best first, with the reasons."""
        return {"items": choice.recommendations(db_session(), current_actor(), programme_id)}


@blp.route("/<uuid:programme_id>/mentor-requests")
class MentorRequests(MethodView):
    @blp.doc(operationId="requestMentor")
    @blp.arguments(MentorRequestSchema, example={"mentor_participant_id": MENTOR_ID})
    @blp.response(201, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Ask one of your recommended mentors: a pairing proposed, its sessions asked for; the mentor accepts
        them (the pairing starts) or declines. 409 when you have a mentor already, or theirs are all taken."""
        return choice.ask(db_session(), current_actor(), programme_id, body["mentor_participant_id"])
