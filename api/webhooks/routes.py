"""Webhook endpoints and deliveries (being written)."""

from __future__ import annotations

from flask_smorest import Blueprint

from api.security import require_login

blp = Blueprint("webhook_endpoints", __name__, url_prefix="/api/v1/webhook-endpoints",
                description="Signed webhook deliveries (Standard Webhooks).")
blp.before_request(require_login)
