from __future__ import annotations

from marshmallow import fields

from api.common.schemas import PaginationArgs, Schema, Timestamp, page_of
from workflows.inbox import EMAIL_TO


class NotificationSchema(Schema):
    id = fields.UUID()
    type = fields.String(metadata={"example": "booking.accepted"})
    title = fields.String(metadata={"example": "Booking accepted"})
    body = fields.String(metadata={
        "example": "Ada Lovelace accepted your request for \u201cCode review\u201d on Mon 4 Mar, 10:00.",
        "description": "Written for you when you read it: its times in your timezone and locale as they are then "
                       "(a time in another zone names it)."})
    data = fields.Function(lambda notification: {key: value for key, value in notification.data.items()
                                                 if key != EMAIL_TO}, metadata={"type": "object"})
    read_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


NotificationPageSchema = page_of(NotificationSchema, "NotificationPage")


class NotificationListArgs(PaginationArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "Only unread notifications."})


class MarkAllReadSchema(Schema):
    up_to = Timestamp(load_default=None, metadata={
        "description": "Only notifications written at or before this time (the newest one you have seen): one that "
                       "arrives meanwhile stays unread. Absent: every unread notification."})


class MarkedSchema(Schema):
    marked = fields.Integer(metadata={"description": "How many were unread and are now read."})
