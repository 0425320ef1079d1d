"""Administrators: where a second step is required of password accounts (``workflows.sign_on.second_step_rule``),
beside the providers' rules. A change is in the admin trail and the audit log of sign-ins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.accounts import audit
from api.common.docs import documents_errors
from api.common.schemas import Schema, Text
from api.database import db_session
from api.operations.routes import blp
from api.security import current_actor
from models import AuthEventKind
from workflows.accounts.second_steps import MAX_REQUIRED_DOMAINS
from workflows.sign_on import second_step_rule


class SecondStepRuleSchema(Schema):
    every_account = fields.Boolean(required=True, metadata={
        "description": "A second step is required of every password account."})
    domains = fields.List(Text(validate=validate.Length(min=1, max=253)), required=True,
                          validate=validate.Length(max=MAX_REQUIRED_DOMAINS), metadata={
        "description": "The email domains whose password accounts must have a second step.",
        "example": ["example.edu"]})


@blp.route("/second-step-rule")
class SecondStepRule(MethodView):
    @blp.doc(operationId="getSecondStepRule")
    @blp.response(200, SecondStepRuleSchema)
    @documents_errors(blp, 401, 403)
    def get(self) -> Any:
        """Where a second step is required of password accounts (administrators)."""
        return second_step_rule.rule(db_session())

    @blp.doc(operationId="setSecondStepRule")
    @blp.arguments(SecondStepRuleSchema, example={"every_account": False, "domains": ["example.edu"]})
    @blp.response(200, SecondStepRuleSchema)
    @documents_errors(blp, 401, 403, 422)
    def put(self, data: dict[str, Any]) -> Any:
        """Require a second step of every password account, or of those of some email domains (administrators; in
        the admin trail). People without one set up an authenticator app at their next password sign-in; sign-ins
        through an organisation's provider are the provider's business."""
        rule = second_step_rule.set_rule(db_session(), current_actor(), every_account=data["every_account"],
                                         domains=data["domains"])
        audit.record(AuthEventKind.SECOND_STEP_RULE_CHANGED, current_actor().user_id)
        return rule
