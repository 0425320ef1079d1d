from __future__ import annotations

from typing import Any

from marshmallow import fields

from api.common.schemas import Schema, page_of
from models import InvitationStatus

EXAMPLE_INVITATION: dict[str, Any] = {
    "id": "7e6d5c4b-3a29-4810-9f8e-7d6c5b4a3928", "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
    "listing_title": "System design interview practice", "invited_by": "Grace Hopper",
    "mentor_profile_id": "b4f2e3d5-6c7a-4b8f-9e0d-1c2b3d4e5f60", "status": "pending",
    "created_at": "2030-03-01T12:00:00+00:00", "decided_at": None}


class InvitationSchema(Schema):
    id = fields.UUID()
    listing_id = fields.UUID()
    listing_title = fields.Function(lambda invitation: invitation.listing.title, metadata={"type": "string"})
    invited_by = fields.Function(lambda invitation: invitation.listing.mentor_profile.user.display_name,
                                 metadata={"type": "string", "description": "The listing's owner."})
    mentor_profile_id = fields.UUID(metadata={"description": "You, the invited mentor."})
    status = fields.Enum(InvitationStatus, by_value=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


InvitationPageSchema = page_of(InvitationSchema, "TeamInvitationPage")
