"""A programme's exports (its coordinators and admins): pairs, sessions, closing surveys, participants with their
intake answers, and goals over a period, as CSV files streamed in chunks (``workflows.reports.exports``) and as JSON
pages with cursors. A file asked for with ``timezone`` adds, after each UTC time, the time on that zone's clock.

Who may read and the period are checked in the view, on the request's session, before the response exists: a
refusal is a whole 403, 404 or 422, never a half-sent file. The file's rows are read afterwards, a chunk at a time,
each in a session of its own made from the app's factory. gunicorn's ``gthread`` workers give the download one thread
for as long as it lasts (the worker's timeout is its own heartbeat, not a request's), and no transaction is open while
the client reads.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from marshmallow import fields

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Schema, page_of, timezone_name
from api.database import db_session, session_factory
from api.programmes.routes import blp
from api.security import current_actor
from models import (
    CancelCause,
    CancelledBy,
    GoalStatus,
    ListingKind,
    PairingStatus,
    ParticipantRole,
    ParticipantStatus,
    SessionStatus,
)
from workflows.reports import exports
from workflows.reports.exports import EARLIEST, LATEST, MAX_PERIOD_DAYS


class ExportArgs(Schema):
    from_ = fields.Date(load_default=None, data_key="from", metadata={
        "description": "The first day (UTC), included: the programme's start unless given, else a year before `to`."})
    to = fields.Date(load_default=None, metadata={
        "description": "The last day (UTC), included: the programme's end unless given, else today."})

    @ma.validates_schema
    def _bounded(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for key, name in (("from_", "from"), ("to", "to")):
            day: date | None = data.get(key)
            if day is not None and not EARLIEST <= day <= LATEST:
                raise ma.ValidationError("must be within 2000-2099", name)
        first, last = data.get("from_"), data.get("to")
        if first and last and last < first:
            raise ma.ValidationError("`to` must not be before `from`", "to")
        if first and last and (last - first).days + 1 > MAX_PERIOD_DAYS:
            raise ma.ValidationError(f"the period is at most {MAX_PERIOD_DAYS} days long", "to")


class ExportPageArgs(ExportArgs, PaginationArgs):
    pass


class ExportFileArgs(ExportArgs):
    timezone = timezone_name(load_default=None, metadata={
        "description": "An IANA zone (the reader's): after each UTC time, a column of it on that zone's clock "
                       "(`YYYY-MM-DD HH:MM`), headed `<column> (<zone>)`. The times themselves stay UTC."})


class PairRowSchema(Schema):
    pairing_id = fields.UUID()
    mentor_name = fields.String()
    mentee_name = fields.String()
    status = fields.Enum(PairingStatus, by_value=True)
    paired_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.String(allow_none=True)
    cadence_weeks = fields.Integer()
    session_minutes = fields.Integer()
    session_count = fields.Integer()
    sessions_held = fields.Integer(metadata={"description": "As the programme's dashboard counts them."})
    sessions_cancelled = fields.Integer(metadata={"description": "By anyone: a pause, an end, a leave included."})
    cancelled_by_pair = fields.Integer(metadata={
        "description": "Those the mentor or the mentee asked for (or of a cause not recorded): what the pairs at risk "
                       "count."})
    no_shows = fields.Integer()
    missed = fields.Integer()


class SessionRowSchema(Schema):
    session_id = fields.UUID()
    pairing_id = fields.UUID(allow_none=True, metadata={
        "description": "The pair's latest pairing made before it started; null for none (a group session)."})
    mentor_name = fields.String()
    mentee_name = fields.String(allow_none=True)
    kind = fields.Enum(ListingKind, by_value=True)
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    minutes = fields.Integer()
    status = fields.Enum(SessionStatus, by_value=True)
    cancelled_by = fields.Enum(CancelledBy, by_value=True, allow_none=True)
    cause = fields.Enum(CancelCause, by_value=True, allow_none=True, metadata={
        "description": "Why it was cancelled; null for one recorded before causes were."})


class SurveyRowSchema(Schema):
    pairing_id = fields.UUID()
    mentor_name = fields.String()
    mentee_name = fields.String()
    role = fields.String(metadata={"description": "Who answered: mentor or mentee."})
    rating = fields.Integer()
    comment = fields.String()
    answered_at = fields.DateTime()


class ParticipantRowSchema(Schema):
    participant_id = fields.UUID()
    display_name = fields.String()
    role = fields.Enum(ParticipantRole, by_value=True)
    status = fields.Enum(ParticipantStatus, by_value=True)
    capacity = fields.Integer(allow_none=True, metadata={"description": "A mentor's mentees at once."})
    joined_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True, metadata={"description": "When they left or were taken off."})
    intake_finished_at = fields.DateTime(allow_none=True)
    intake_answers = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": "Their answers as kept (each with its question's words); in the CSV one `question: answer` "
                       "a line."})


class GoalRowSchema(Schema):
    goal_id = fields.UUID()
    pairing_id = fields.UUID()
    mentor_name = fields.String()
    mentee_name = fields.String()
    title = fields.String()
    status = fields.Enum(GoalStatus, by_value=True)
    target_date = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    done_at = fields.DateTime(allow_none=True)
    milestones = fields.List(fields.Dict(), metadata={
        "description": "Each with its title and whether done; in the CSV `[x] title` a line."})


def _csv(programme_id: uuid.UUID, name: str, args: dict[str, Any]) -> Response:
    """The file: who may read it and its period checked now, its rows read in chunks as it is sent."""
    zone = ZoneInfo(args["timezone"]) if args.get("timezone") else None
    asked = exports.prepare_csv(db_session(), current_actor(), programme_id, name, first=args["from_"],
                                last=args["to"], zone=zone)
    rows = exports.chunks(session_factory(), asked.name, asked.programme_id, asked.period)
    return Response(exports.csv_bytes(asked.name, rows, asked.zone), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{asked.filename}"'})


def _page(programme_id: uuid.UUID, name: str, args: dict[str, Any]) -> Any:
    return exports.page(db_session(), current_actor(), programme_id, name, first=args["from_"], last=args["to"],
                        limit=args["limit"], cursor=args["cursor"])


def _file(columns: tuple[str, ...]) -> dict[str, Any]:
    return {"200": {"description": "A CSV file (UTF-8 with a byte order mark; a cell that looks like a formula "
                                   f"starts with an apostrophe). Its columns: {', '.join(columns)}.",
                    "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _export_routes(name: str, plural: str, row: type[Schema], file_doc: str, rows_doc: str) -> None:
    """The export's two routes: ``<name>.csv``, its file, and ``<name>``, its rows as pages of JSON."""
    page_schema = page_of(row, f"Exported{row.__name__.removesuffix('RowSchema')}Page")

    @blp.route(f"/<uuid:programme_id>/exports/{name}.csv", endpoint=f"export_{name}_file")
    class File(MethodView):
        @blp.doc(operationId=f"export{plural}Csv", responses=_file(exports.EXPORTS[name].columns),
                 summary=f"The programme's {name} as a CSV file", description=" ".join(file_doc.split()))
        @blp.arguments(ExportFileArgs, location="query")
        @documents_errors(blp, 401, 403, 404, 422)
        def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Response:
            return _csv(programme_id, name, args)

    @blp.route(f"/<uuid:programme_id>/exports/{name}", endpoint=f"export_{name}_rows")
    class Rows(MethodView):
        @blp.doc(operationId=f"listExported{plural}", summary=rows_doc)
        @blp.arguments(ExportPageArgs, location="query")
        @blp.response(200, page_schema)
        @documents_errors(blp, 401, 403, 404, 422)
        def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
            return _page(programme_id, name, args)


_export_routes("pairs", "Pairs", PairRowSchema, """The programme's pairs over the period as a CSV file (its
        coordinators): those paired before its end and not ended before its start, with their sessions as the
        dashboard counts them.""", "The rows of `pairs.csv`, a page at a time, in the order they were paired.")
_export_routes("sessions", "Sessions", SessionRowSchema, """The programme's sessions that start in the period, in start
        order, as a CSV file (its coordinators).""", "The rows of `sessions.csv`, a page at a time, in start order.")
_export_routes("surveys", "Surveys", SurveyRowSchema, """The closing surveys answered in the period, in the order
        given, as a CSV file (its coordinators).""", "The rows of `surveys.csv`, a page at a time, in the order given.")
_export_routes("participants", "Participants", ParticipantRowSchema, """The programme's participants over the period,
        in the order they joined, as a CSV file (its coordinators): those who joined before its end and had not left
        before its start, with their role, state and intake answers. Personal data: an administrator's export is in
        the admin audit trail.""", "The rows of `participants.csv`, a page at a time, in the order they joined.")
_export_routes("goals", "Goals", GoalRowSchema, """The pairs' goals open in the period (set before its end, not
        reached or dropped before its start), in the order they were set, as a CSV file (its coordinators).""",
               "The rows of `goals.csv`, a page at a time, in the order they were set.")
