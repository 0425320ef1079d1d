"""How the signed-in person is told: their email choice per kind of news (in-app is always on); and the one-click
unsubscribe of an email's link, which needs no sign-in (RFC 8058)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import PUBLIC, documents_errors
from api.common.schemas import Schema, Text
from api.database import db_session
from api.errors import asked_locale
from api.ratelimit import limit_public_reads
from api.security import current_actor, require_login
from models import EmailChoice, Telling
from workflows.notifications import preferences

blp = Blueprint("notification_preferences", __name__, url_prefix="/api/v1/me/notification-preferences",
                description="How you are told: email at once, in a daily or weekly digest, or off, per kind of news.")
blp.before_request(require_login)
unsubscribe_blp = Blueprint("unsubscribe", __name__, url_prefix="/api/v1/unsubscribe",
                            description="Stop one kind of email from its link, without signing in.")

KINDS = [kind.value for kind in Telling]
CHOICES = [choice.value for choice in EmailChoice]
EXAMPLE: dict[str, Any] = {"items": [
    {"kind": "bookings", "email": "now", "described": "Bookings and sessions", "locked": False},
    {"kind": "messages", "email": "daily", "described": "Messages", "locked": False},
    {"kind": "security", "email": "now", "described": "Account security", "locked": True}]}


class NotificationPreferenceSchema(Schema):
    kind = fields.String(metadata={"enum": KINDS})
    email = fields.String(metadata={"enum": CHOICES, "description": "`now`, `daily` or `weekly` (a digest), `off`."})
    described = fields.String(metadata={"description": "The kind, as the preferences screen names it."})
    locked = fields.Boolean(metadata={"description": "Account security: always emailed at once."})


class NotificationPreferencesSchema(Schema):
    items = fields.List(fields.Nested(NotificationPreferenceSchema))


class EmailChoiceSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    email = fields.String(required=True, validate=validate.OneOf(CHOICES))


class EmailChoicesSchema(Schema):
    items = fields.List(fields.Nested(EmailChoiceSchema), required=True,
                        validate=validate.Length(min=1, max=len(KINDS)))


class UnsubscribeTokenSchema(Schema):
    token = Text(required=True, validate=validate.Length(min=1, max=2000))


class UnsubscribingSchema(Schema):
    kinds = fields.List(fields.String(metadata={"enum": KINDS}))
    described = fields.String(metadata={"description": "What the link stops, in words."})
    off = fields.Boolean(metadata={"description": "That email is off (already, or now)."})


def _listed() -> dict[str, Any]:
    return {"items": preferences.listed(db_session(), current_actor().user_id, asked_locale())}


@blp.route("")
class NotificationPreferences(MethodView):
    @blp.doc(operationId="getNotificationPreferences")
    @blp.response(200, NotificationPreferencesSchema, example=EXAMPLE)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """Your email choice for each kind of news: `now` (a message a while after it is written, unread), a `daily`
        or `weekly` digest (from 08:00 in your zone; a week's on Monday), or `off`. In the app you are always told.
        Account security's email cannot be turned off."""
        return _listed()

    @blp.doc(operationId="setNotificationPreferences")
    @blp.arguments(EmailChoicesSchema, example={"items": [{"kind": "messages", "email": "daily"}]})
    @blp.response(200, NotificationPreferencesSchema, example=EXAMPLE)
    @documents_errors(blp, 400, 401, 422)
    def put(self, data: dict[str, Any]) -> Any:
        """Choose how you are emailed for the kinds given (the others stay as they are); all of them. 400 for
        account security other than `now` (nothing changes)."""
        choices = {Telling(one["kind"]): EmailChoice(one["email"]) for one in data["items"]}
        preferences.choose(db_session(), current_actor().user_id, choices)
        return _listed()


@unsubscribe_blp.route("")
class Unsubscribe(MethodView):
    @unsubscribe_blp.doc(operationId="readUnsubscribeLink", security=PUBLIC)
    @unsubscribe_blp.arguments(UnsubscribeTokenSchema, location="query")
    @unsubscribe_blp.response(200, UnsubscribingSchema, example={
        "kinds": ["messages"], "described": "messages", "off": False})
    @documents_errors(unsubscribe_blp, 422, 429)
    def get(self, data: dict[str, Any]) -> Any:
        """What an email's unsubscribe link stops, and whether it is off already. Changes nothing (mail scanners
        open links). 422 for a link not valid or expired (a year after it was sent). Limited per client address
        (`PUBLIC_RATE_LIMIT`)."""
        limit_public_reads()
        return preferences.read_link(db_session(), data["token"])

    @unsubscribe_blp.doc(operationId="unsubscribe", security=PUBLIC)
    @unsubscribe_blp.arguments(UnsubscribeTokenSchema, location="query")
    @unsubscribe_blp.response(200, UnsubscribingSchema, example={
        "kinds": ["messages"], "described": "messages", "off": True})
    @documents_errors(unsubscribe_blp, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Stop that kind of email (RFC 8058 one-click: the link's token is the credential; any body is ignored).
        Your in-app notifications stay; choose again in your settings. Doing it twice changes nothing more."""
        limit_public_reads()
        return preferences.unsubscribe(db_session(), data["token"])
