"""Programmes: an organisation's mentoring cohorts, created by administrators and run by their coordinators."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, ProgrammeTimelinePageSchema
from api.database import db_session
from api.errors import asked_locale
from api.programmes.schemas import (
    EXAMPLE_PROGRAMME,
    CoordinatorsSchema,
    ProgrammeCreateSchema,
    ProgrammeListArgs,
    ProgrammePageSchema,
    ProgrammePatchSchema,
    ProgrammeSchema,
)
from api.security import current_actor, require_login
from workflows import history
from workflows.programmes import lifecycle as programmes
from workflows.programmes.lifecycle import ProgrammeAction

blp = Blueprint("programmes", __name__, url_prefix="/api/v1/programmes",
                description="Mentoring programmes: cohorts an organisation runs, and who coordinates them.")
blp.before_request(require_login)


@blp.route("")
class Programmes(MethodView):
    @blp.doc(operationId="listProgrammes")
    @blp.arguments(ProgrammeListArgs, location="query")
    @blp.response(200, ProgrammePageSchema, example={"items": [EXAMPLE_PROGRAMME], "next_cursor": None})
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """The programmes you coordinate (an administrator: every one), newest first; `status` keeps one status."""
        return programmes.list_programmes(db_session(), current_actor(), **args)

    @blp.doc(operationId="createProgramme")
    @blp.arguments(ProgrammeCreateSchema, example={"name": "Spring 2031 engineering cohort",
                                                  "starts_on": "2031-03-02", "ends_on": "2031-05-24",
                                                  "coordinator_user_ids": EXAMPLE_PROGRAMME["coordinator_user_ids"]})
    @blp.response(201, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
    @documents_errors(blp, 400, 401, 403, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a programme, a draft, and name its coordinators (administrators only). 400 naming any
        coordinator who is no user, or dates out of order."""
        return programmes.create(db_session(), current_actor(), **body)


@blp.route("/<uuid:programme_id>")
class ProgrammeItem(MethodView):
    @blp.doc(operationId="getProgramme")
    @blp.response(200, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """One programme: its coordinators and administrators; 404 for anyone else."""
        return programmes.get(db_session(), current_actor(), programme_id)

    @blp.doc(operationId="updateProgramme")
    @blp.arguments(ProgrammePatchSchema, example={"session_minutes": 45})
    @blp.response(200, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
    @documents_errors(blp, 400, 401, 404, 422)
    def patch(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Change its settings (its coordinators and administrators). 400 once it is closed, or dates out of
        order."""
        return programmes.update(db_session(), current_actor(), programme_id, body)


@blp.route("/<uuid:programme_id>/coordinators")
class Coordinators(MethodView):
    @blp.doc(operationId="setProgrammeCoordinators")
    @blp.arguments(CoordinatorsSchema, example={"coordinator_user_ids": EXAMPLE_PROGRAMME["coordinator_user_ids"]})
    @blp.response(200, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Name its coordinators, replacing those before (administrators only: 403 for a coordinator). 400 naming
        any who is no user."""
        return programmes.set_coordinators(db_session(), current_actor(), programme_id, body["coordinator_user_ids"])


def _action_route(path: str, action: ProgrammeAction, operation: str, summary: str) -> None:
    @blp.route(f"/<uuid:programme_id>/{path}", endpoint=operation)
    class Act(MethodView):
        @blp.doc(operationId=operation, summary=summary)
        @blp.response(200, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
        @documents_errors(blp, 400, 401, 404)
        def post(self, programme_id: uuid.UUID) -> Any:
            return programmes.act(db_session(), current_actor(), programme_id, action)

    Act.post.__doc__ = (f"{summary} (its coordinators and administrators; its coordinators are told). 400 from a "
                        "status it cannot move from; 404 for anyone else.")


_action_route("open-enrolment", ProgrammeAction.OPEN_ENROLMENT, "openProgrammeEnrolment",
              "Open enrolment: a draft takes participants")
_action_route("start", ProgrammeAction.START, "startProgramme", "Start it: a draft or enrolling programme runs")
_action_route("close", ProgrammeAction.CLOSE, "closeProgramme", "Close it: it keeps its record and changes no more")


@blp.route("/<uuid:programme_id>/history")
class ProgrammeHistory(MethodView):
    @blp.doc(operationId="getProgrammeHistory")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, ProgrammeTimelinePageSchema)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's events, oldest first (its coordinators and administrators), each in a sentence naming its
        people; a match run's progress is folded into its run's lines."""
        return history.programme_timeline(db_session(), current_actor(), programme_id, **args, asked=asked_locale())
