"""Links in email that cancel or move one meeting without signing in: read what one does, then act with its button."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import PUBLIC, documents_errors
from api.common.schemas import Schema, Text, Timestamp
from api.database import db_session
from api.ratelimit import limit_public_reads
from workflows.bookings import links

blp = Blueprint("booking_links", __name__, url_prefix="/api/v1/booking-links",
                description="Links in confirmation and reminder emails that cancel or move a meeting without signing "
                            "in.")

TOKEN_EXAMPLE = {"token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJib29raW5nLWxpbmsifQ.c2lnbmF0dXJl"}


class LinkTokenSchema(Schema):
    token = Text(required=True, validate=validate.Length(min=1, max=1000))


class LinkActSchema(LinkTokenSchema):
    start_time = Timestamp(load_default=None, metadata={
        "description": "A move link's chosen time: one of `free_times`."})


class FreeTimeSchema(Schema):
    start_time = fields.DateTime()
    end_time = fields.DateTime()


class LinkViewSchema(Schema):
    action = fields.String(metadata={"enum": [links.CANCEL, links.MOVE]})
    booking_id = fields.UUID()
    session_id = fields.UUID(allow_none=True)
    listing_title = fields.String()
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    with_whom = fields.String(metadata={"description": "The other participant's name."})
    role = fields.String(metadata={"enum": ["mentee", "mentor"], "description": "The reader's side."})
    late = fields.Boolean(metadata={"description": "Within the cancellation window: the policy's fee applies."})
    fee_cents = fields.Integer(metadata={"description": "What cancelling now costs (0 when the credit pays)."})
    currency = fields.String()
    credit_forfeited = fields.Boolean(metadata={"description": "Late, and the bundle credit it was paid with is used."})
    done = fields.Boolean(metadata={"description": "Cancelled already, or begun: the link has nothing left to do."})
    free_times = fields.List(fields.Nested(FreeTimeSchema), metadata={
        "description": "A move link's choice: the listing's next free times (12 at most, within 14 days) the reader "
                       "is free at too."})
    proposed_start = fields.DateTime(allow_none=True, metadata={
        "description": "After a move link acted: the time proposed to the other participant, who accepts it."})


EXAMPLE_VIEW: dict[str, Any] = {
    "action": "cancel", "booking_id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11",
    "session_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "listing_title": "Code review",
    "start_time": "2030-03-04T09:00:00+00:00", "end_time": "2030-03-04T10:00:00+00:00",
    "with_whom": "Grace Hopper", "role": "mentee", "late": True, "fee_cents": 4000, "currency": "EUR",
    "credit_forfeited": False, "done": False, "free_times": [], "proposed_start": None}


@blp.route("/check")
class CheckLink(MethodView):
    @blp.doc(operationId="checkBookingLink")
    @blp.doc(security=PUBLIC)
    @blp.arguments(LinkTokenSchema, example=TOKEN_EXAMPLE)
    @blp.response(200, LinkViewSchema, example=EXAMPLE_VIEW)
    @documents_errors(blp, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """What an email's link does and what it costs now, for its page to show before anything happens (no
        sign-in: the signed link is the credential; it changes nothing); a move link's, the free times to choose
        from. 422 for a link unknown, expired (the
        meeting began) or no longer valid (its reader changed their password or signed out everywhere). Limited per
        client address as the public pages are (`PUBLIC_RATE_LIMIT`)."""
        limit_public_reads()
        return links.show(db_session(), data["token"])


@blp.route("/act")
class ActOnLink(MethodView):
    @blp.doc(operationId="actOnBookingLink")
    @blp.doc(security=PUBLIC)
    @blp.arguments(LinkActSchema, example=TOKEN_EXAMPLE)
    @blp.response(200, LinkViewSchema, example={**EXAMPLE_VIEW, "done": True})
    @documents_errors(blp, 400, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Do what the link says (its page's button): cancel the meeting as its reader, under the cancellation
        policy (a mentee's late cancellation pays the fee, or uses the bundle credit); or, for a move link, propose
        `start_time` to the other participant (free for both; the meeting stays until they accept; 409 naming the
        rule when that time is not free any more). 409 when it is cancelled already or has begun; 422 as for
        `check`, and for a move without a time."""
        return links.act(db_session(), data["token"], start_time=data["start_time"])
