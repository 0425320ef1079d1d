"""The signed-in user's in-app notifications."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.database import db_session
from api.errors import asked_locale
from api.notifications.schemas import (
    MarkAllReadSchema,
    MarkedSchema,
    NotificationListArgs,
    NotificationPageSchema,
    NotificationSchema,
)
from api.security import current_actor, require_login
from workflows import inbox

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                description="In-app notifications (also emailed when SMTP is configured).")
blp.before_request(require_login)


@blp.route("")
class Notifications(MethodView):
    @blp.doc(operationId="listNotifications")
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, NotificationPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your notifications, newest first; `?unread=true` for unread ones only."""
        return inbox.list_notifications(db_session(), current_actor(), **args, asked=asked_locale())


@blp.route("/<uuid:notification_id>/read")
class MarkRead(MethodView):
    @blp.doc(operationId="markNotificationRead")
    @blp.response(200, NotificationSchema)
    @documents_errors(blp, 401, 404)
    def post(self, notification_id: uuid.UUID) -> Any:
        """Mark one of your notifications read."""
        return inbox.mark_read(db_session(), current_actor(), notification_id, asked=asked_locale())


@blp.route("/read-all")
class MarkAllRead(MethodView):
    @blp.doc(operationId="markAllNotificationsRead")
    @blp.arguments(MarkAllReadSchema, required=False, example={"up_to": "2026-03-04T10:00:00+00:00"})
    @blp.response(200, MarkedSchema)
    @documents_errors(blp, 401, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Mark your unread notifications read, up to the newest you have seen (`up_to`) or all of them."""
        return {"marked": inbox.mark_all_read(db_session(), current_actor(), up_to=(data or {}).get("up_to"))}
