"""Bundles: several sessions of a listing for one price, and their purchases."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.bookings.bundle_schemas import (
    EXAMPLE_BUNDLE,
    EXAMPLE_PURCHASE,
    BundleCreateSchema,
    BundleListArgs,
    BundlePageSchema,
    BundleSchema,
    PurchaseCreateSchema,
    PurchasePageSchema,
    PurchaseSchema,
)
from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.idempotency import idempotent
from api.security import current_actor, require_login
from workflows.bookings import bundles

blp = Blueprint("bundles", __name__, url_prefix="/api/v1", description="Bundles of sessions paid once.")
blp.before_request(require_login)


@blp.route("/listings/<uuid:listing_id>/bundles")
class ListingBundles(MethodView):
    @blp.doc(operationId="listListingBundles")
    @blp.arguments(BundleListArgs, location="query")
    @blp.response(200, BundlePageSchema, example={"items": [EXAMPLE_BUNDLE], "next_cursor": None})
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """The bundles offered on a listing, oldest first; withdrawn ones with `include_withdrawn=true`."""
        return bundles.list_bundles(db_session(), current_actor(), listing_id, **args)

    @blp.doc(operationId="createBundle")
    @idempotent(blp)
    @blp.arguments(BundleCreateSchema, example={"sessions_count": 5, "price_cents": 35000, "valid_days": 90})
    @blp.response(201, BundleSchema, example=EXAMPLE_BUNDLE)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Offer N sessions of your listing for a price, valid D days (mentor). On a team listing the
        credits pay for sessions with any member; on a group listing, for seats."""
        return bundles.create_bundle(db_session(), current_actor(), listing_id, **data)


@blp.route("/bundles/<uuid:bundle_id>")
class BundleById(MethodView):
    @blp.doc(operationId="getBundle")
    @blp.response(200, BundleSchema, example=EXAMPLE_BUNDLE)
    @documents_errors(blp, 401, 404)
    def get(self, bundle_id: uuid.UUID) -> Any:
        """One bundle offer, withdrawn or not."""
        return bundles.get_bundle(db_session(), bundle_id)


@blp.route("/bundles/<uuid:bundle_id>/withdraw")
class WithdrawBundle(MethodView):
    @blp.doc(operationId="withdrawBundle")
    @blp.response(200, BundleSchema, example={**EXAMPLE_BUNDLE, "active": False,
                                               "withdrawn_at": "2030-04-01T12:00:00+00:00"})
    @documents_errors(blp, 400, 401, 403, 404)
    def post(self, bundle_id: uuid.UUID) -> Any:
        """Stop selling a bundle (the listing's mentor); purchases keep their credits. 400 if already withdrawn."""
        return bundles.withdraw_bundle(db_session(), current_actor(), bundle_id)


@blp.route("/bundles/<uuid:bundle_id>/purchase")
class PurchaseBundle(MethodView):
    @blp.doc(operationId="purchaseBundle")
    @idempotent(blp)
    @blp.arguments(PurchaseCreateSchema, required=False, example={"valid_from": "2030-04-01T00:00:00Z"})
    @blp.response(201, PurchaseSchema, example=EXAMPLE_PURCHASE)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], bundle_id: uuid.UUID) -> Any:
        """Buy a bundle (recorded, no payment processing): its credits pay for bookings. 409 when withdrawn,
        or while you hold a purchase of it with credits left."""
        return bundles.purchase_bundle(db_session(), current_actor(), bundle_id, **data)


@blp.route("/bundle-purchases")
class Purchases(MethodView):
    @blp.doc(operationId="listBundlePurchases")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, PurchasePageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your bundle purchases and their remaining credits, newest first."""
        return bundles.list_purchases(db_session(), current_actor(), **args)
