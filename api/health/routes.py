"""Liveness and readiness for load balancers and orchestrators (no auth)."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.common.docs import PUBLIC
from api.common.schemas import Schema
from api.database import db_session

blp = Blueprint("health", __name__, url_prefix="/health", description="Health checks (no authentication).")


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})
    checks = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"example": {"database": "ok", "redis": "ok"}})


def _check_database() -> str:
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_redis() -> str:
    client: redis.Redis = current_app.extensions["redis"]
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


@blp.route("/live")
class Live(MethodView):
    @blp.doc(operationId="checkLiveness")
    @blp.doc(security=PUBLIC)
    @blp.response(200, HealthSchema)
    def get(self) -> Any:
        """The process is up."""
        return {"status": "ok", "checks": {}}


@blp.route("/ready")
class Ready(MethodView):
    @blp.doc(operationId="checkReadiness")
    @blp.doc(security=PUBLIC)
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database or the broker is unreachable.",
                      example={"status": "unavailable",
                               "checks": {"database": "ok", "redis": "error: ConnectionError"}})
    def get(self) -> Any:
        """Ready to serve: the database and Redis both answer."""
        checks = {"database": _check_database(), "redis": _check_redis()}
        ok = all(value == "ok" for value in checks.values())
        return {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
