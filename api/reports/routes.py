"""A programme's dashboard for its coordinators and admins: its numbers over a period, and its pairs at risk."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Schema, page_of
from api.database import db_session
from api.programmes.routes import blp
from api.security import current_actor
from workflows.reports import dashboard

REPORT = "/<uuid:programme_id>/report"
EXAMPLE_WEEK = {"week": "2031-03-03", "held": 14, "cancelled_by_mentor": 1, "cancelled_by_mentee": 2,
                "cancelled_by_coordinator": 4, "cancelled_by_admin": 0, "cancelled_by_system": 0, "no_show_mentee": 1,
                "no_show_mentor": 0, "missed": 0,
                "rating_average": 4.6, "pairs_started": 3, "pairs_ended": 0}
EXAMPLE_REPORT = {
    "programme_id": "0b7c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c4", "from": "2031-03-03", "to": "2031-03-03",
    "pairs": {"proposed": 2, "active": 18, "paused": 1, "ended": 3},
    "sessions": {"held": 14, "minutes_held": 840, "cancelled_by_mentor": 1, "cancelled_by_mentee": 2,
                 "cancelled_by_coordinator": 4, "cancelled_by_admin": 0, "cancelled_by_system": 0, "no_show_mentee": 1,
                 "no_show_mentor": 0, "missed": 0},
    "attendance_rate": 0.933, "no_show_rate": 0.067, "first_session": {"pairs": 3, "average_days": 6.5},
    "rating": {"average": 4.6, "count": 9}, "survey": {"average": None, "count": 0},
    "goals": {"set": 40, "done": 11}, "match": {"from_run": 20, "top3": 18, "share": 0.9},
    "weeks": [EXAMPLE_WEEK], "updated_at": "2031-03-06T09:12:00+00:00"}


YEARS = validate.Range(min=date(2000, 1, 3), max=date(2099, 12, 31))


class ReportArgs(Schema):
    from_ = fields.Date(data_key="from", load_default=None, validate=YEARS, metadata={
        "description": "The first week (any day of it; weeks are Mondays, UTC). Default: eleven weeks before `to`."})
    to = fields.Date(load_default=None, validate=YEARS, metadata={
        "description": f"The last week, included (2000 to 2099). Default: this week. At most {dashboard.MAX_WEEKS} "
                       "weeks."})


class PairCountsSchema(Schema):
    proposed = fields.Integer()
    active = fields.Integer()
    paused = fields.Integer()
    ended = fields.Integer()


class SessionCountsSchema(Schema):
    held = fields.Integer(metadata={"description": "Completed."})
    minutes_held = fields.Integer()
    cancelled_by_mentor = fields.Integer(metadata={"description": "At their request, or by leaving the programme."})
    cancelled_by_mentee = fields.Integer(metadata={"description": "At their request, or by leaving the programme."})
    cancelled_by_coordinator = fields.Integer(metadata={
        "description": "Pausing or ending a pairing, or taking one of the pair off the programme."})
    cancelled_by_admin = fields.Integer()
    cancelled_by_system = fields.Integer()
    no_show_mentee = fields.Integer()
    no_show_mentor = fields.Integer()
    missed = fields.Integer(metadata={"description": "Its time passed and nobody said what happened."})


class WeekSchema(Schema):
    week = fields.Date(metadata={"description": "Its Monday (UTC); sessions count in the week they started."})
    held = fields.Integer()
    cancelled_by_mentor = fields.Integer()
    cancelled_by_mentee = fields.Integer()
    cancelled_by_coordinator = fields.Integer()
    cancelled_by_admin = fields.Integer()
    cancelled_by_system = fields.Integer()
    no_show_mentee = fields.Integer()
    no_show_mentor = fields.Integer()
    missed = fields.Integer()
    rating_average = fields.Float(allow_none=True)
    pairs_started = fields.Integer(metadata={"description": "Pairings proposed that week."})
    pairs_ended = fields.Integer()


class AverageSchema(Schema):
    average = fields.Float(allow_none=True)
    count = fields.Integer()


class FirstSessionSchema(Schema):
    pairs = fields.Integer(metadata={"description": "Pairs whose first session was held in the period."})
    average_days = fields.Float(allow_none=True, metadata={"description": "From pairing to that session."})


class GoalCountsSchema(Schema):
    set = fields.Integer()
    done = fields.Integer()


class MatchQualitySchema(Schema):
    from_run = fields.Integer(metadata={"description": "Pairings a match run proposed."})
    top3 = fields.Integer(metadata={"description": "Of those, pairings with one of the mentee's three best."})
    share = fields.Float(allow_none=True)


class ReportSchema(Schema):
    programme_id = fields.UUID()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    pairs = fields.Nested(PairCountsSchema, metadata={"description": "Now, whatever the period."})
    sessions = fields.Nested(SessionCountsSchema)
    attendance_rate = fields.Float(allow_none=True, metadata={
        "description": "Held ÷ sessions whose time came (held, no-show or missed)."})
    no_show_rate = fields.Float(allow_none=True, metadata={"description": "No-shows ÷ (held + no-shows)."})
    first_session = fields.Nested(FirstSessionSchema)
    rating = fields.Nested(AverageSchema, metadata={"description": "Reviews of the period's sessions (1 to 5)."})
    survey = fields.Nested(AverageSchema, metadata={"description": "Closing surveys answered in the period (1 to 5)."})
    goals = fields.Nested(GoalCountsSchema, metadata={"description": "All the programme's goals, now."})
    match = fields.Nested(MatchQualitySchema)
    weeks = fields.List(fields.Nested(WeekSchema))
    updated_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the summaries last changed (kept by the analytics worker, seconds behind)."})


class AtRiskArgs(PaginationArgs):
    weeks = fields.Integer(load_default=dashboard.DEFAULT_QUIET_WEEKS,
                           validate=validate.Range(min=1, max=dashboard.MAX_QUIET_WEEKS),
                           metadata={"description": "A pair that has not met for this many weeks is at risk."})


class PairAtRiskSchema(Schema):
    pairing_id = fields.UUID()
    mentor_name = fields.String()
    mentee_name = fields.String()
    status = fields.String()
    reasons = fields.List(fields.String())
    last_held_at = fields.DateTime(allow_none=True)
    paired_at = fields.DateTime()


PairAtRiskPageSchema = page_of(PairAtRiskSchema, "PairAtRiskPage")


@blp.route(REPORT)
class Report(MethodView):
    @blp.doc(operationId="getProgrammeReport")
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReportSchema, example=EXAMPLE_REPORT)
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's numbers over a period of weeks, for its coordinators and admins: pairs, sessions week by
        week by outcome, attendance and no-show rates, time to a first session, reviews, surveys, goals, and the
        share of matched pairs with a top-3 mentor."""
        return dashboard.report(db_session(), current_actor(), programme_id, since=args["from_"], until=args["to"])


@blp.route(f"{REPORT}/at-risk")
class PairsAtRisk(MethodView):
    @blp.doc(operationId="listProgrammePairsAtRisk")
    @blp.arguments(AtRiskArgs, location="query")
    @blp.response(200, PairAtRiskPageSchema, example={"items": [{
        "pairing_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "mentor_name": "Ada", "mentee_name": "Lin",
        "status": "active", "reasons": ["no session held for 5 weeks"], "last_held_at": "2031-02-03T17:00:00+00:00",
        "paired_at": "2031-01-06T10:00:00+00:00"}], "next_cursor": None})
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's live pairs at risk, longest paired first, each with its reasons: not met for `weeks`
        weeks, sessions repeatedly cancelled or missed, low reviews."""
        return dashboard.at_risk(db_session(), current_actor(), programme_id, quiet_weeks=args["weeks"],
                                 limit=args["limit"], cursor=args["cursor"])
