"""Bundles: several sessions of a listing for one price, and their purchases."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.bundles.schemas import (
    EXAMPLE_BUNDLE,
    EXAMPLE_PURCHASE,
    BundleCreateSchema,
    BundleListSchema,
    BundleSchema,
    PurchasePageSchema,
    PurchaseSchema,
)
from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.idempotency import idempotent
from api.security import current_actor, require_login
from workflows import bundles

blp = Blueprint("bundles", __name__, url_prefix="/api/v1", description="Bundles of sessions paid once.")
blp.before_request(require_login)


@blp.route("/listings/<uuid:listing_id>/bundles")
class ListingBundles(MethodView):
    @blp.response(200, BundleListSchema, example={"items": [EXAMPLE_BUNDLE]})
    @documents_errors(blp, 401, 404)
    def get(self, listing_id: uuid.UUID) -> Any:
        """The bundles offered on a listing."""
        return {"items": bundles.list_bundles(db_session(), listing_id)}

    @idempotent(blp)
    @blp.arguments(BundleCreateSchema, example={"sessions_count": 5, "price_cents": 35000, "valid_days": 90})
    @blp.response(201, BundleSchema, example=EXAMPLE_BUNDLE)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Offer N sessions of your listing for a price, valid D days (mentor)."""
        return bundles.create_bundle(db_session(), current_actor(), listing_id, **data)


@blp.route("/bundles/<uuid:bundle_id>/purchase")
class PurchaseBundle(MethodView):
    @idempotent(blp)
    @blp.response(201, PurchaseSchema, example=EXAMPLE_PURCHASE)
    @documents_errors(blp, 400, 401, 404)
    def post(self, bundle_id: uuid.UUID) -> Any:
        """Buy a bundle (recorded, no payment processing): its credits pay for bookings."""
        return bundles.purchase_bundle(db_session(), current_actor(), bundle_id)


@blp.route("/bundle-purchases")
class Purchases(MethodView):
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, PurchasePageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your bundle purchases and their remaining credits, newest first."""
        return bundles.list_purchases(db_session(), current_actor(), **args)
