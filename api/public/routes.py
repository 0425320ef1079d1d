"""Read-only routes for visitors without an account: public mentors, their listings and free times.

Only what a mentor made public (``public`` on their profile) is found here; nothing private is shown (no other
person, no location). Every answer may be cached by anyone for a minute (free times half a minute), with an ETag;
each client address is limited to ``PUBLIC_RATE_LIMIT`` reads.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import PUBLIC, documents_errors
from api.common.headers import PUBLIC_API
from api.database import db_session
from api.mentors.schemas import MentorProfileListArgs
from api.public.schemas import (
    PublicListingPageSchema,
    PublicMentorListSchema,
    PublicMentorWithListingsSchema,
    PublicTimeListSchema,
    PublicTimesArgs,
)
from api.ratelimit import limit_public_reads
from workflows.mentors import public

blp = Blueprint("public", __name__, url_prefix=PUBLIC_API.rstrip("/"),
                description="For visitors, without an account: the mentors who made their profile public, their "
                            "listings and free times.")
blp.before_request(limit_public_reads)
CACHED_FOR = {"times": 30, "default": 60}


@blp.after_request
def _cacheable(response: Response) -> Response:
    if response.status_code in {200, 304}:
        seconds = CACHED_FOR["times"] if request.path.endswith("/times") else CACHED_FOR["default"]
        response.headers["Cache-Control"] = f"public, max-age={seconds}"
    else:  # a 404 cached would hide a mentor who has just gone public
        response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/mentors")
class PublicMentors(MethodView):
    @blp.doc(operationId="listPublicMentors", security=PUBLIC)
    @blp.etag
    @blp.arguments(MentorProfileListArgs, location="query")
    @blp.response(200, PublicMentorListSchema)
    @documents_errors(blp, 422, 429)
    def get(self, args: dict[str, Any]) -> Any:
        """The mentors whose profile is public, in the order they joined; of a `skill`, or the best matches of `q`."""
        return public.public_mentors(db_session(), **args)


@blp.route("/mentors/<uuid:profile_id>")
class PublicMentor(MethodView):
    @blp.doc(operationId="getPublicMentor", security=PUBLIC)
    @blp.etag
    @blp.response(200, PublicMentorWithListingsSchema)
    @documents_errors(blp, 404, 429)
    def get(self, profile_id: uuid.UUID) -> Any:
        """A public mentor and their active listings; 404 for a mentor who is not public."""
        return public.public_mentor_page(db_session(), profile_id)


@blp.route("/listings/<string(maxlength=80):slug>")
class PublicListing(MethodView):
    @blp.doc(operationId="getPublicListing", security=PUBLIC)
    @blp.etag
    @blp.response(200, PublicListingPageSchema)
    @documents_errors(blp, 404, 429)
    def get(self, slug: str) -> Any:
        """A listing's booking page, by its slug: what it is, who teaches it; 404 unless active and public."""
        return public.public_listing(db_session(), public.checked_slug(slug))


@blp.route("/listings/<string(maxlength=80):slug>/times")
class PublicTimes(MethodView):
    @blp.doc(operationId="listPublicTimes", security=PUBLIC)
    @blp.etag
    @blp.arguments(PublicTimesArgs, location="query")
    @blp.response(200, PublicTimeListSchema, example={"items": [
        {"start_time": "2030-03-04T08:00:00+00:00", "end_time": "2030-03-04T09:00:00+00:00", "seats_left": None}]})
    @documents_errors(blp, 404, 422, 429)
    def get(self, args: dict[str, Any], slug: str) -> Any:
        """The times in [from, to) (31 days at most) a visitor could book: a one-to-one listing's free slots, a group
        listing's sessions with seats left. Booking them takes an account."""
        db = db_session()
        listing = public.public_listing(db, public.checked_slug(slug))
        return {"items": public.public_times(db, listing, start=args["from_"], end=args["to"])}
