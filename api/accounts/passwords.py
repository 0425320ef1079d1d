"""A forgotten password: the link to reset it, a look at whether a link still works, and the reset itself."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.accounts import audit
from api.accounts.routes import blp
from api.accounts.schemas import (
    AcceptedSchema,
    AccountLinkSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    ResetLinkSchema,
)
from api.common.docs import PUBLIC, documents_errors
from api.database import db_session
from api.ratelimit import limit_account_emails
from models import AuthEventKind
from workflows.accounts import emails as account_emails
from workflows.accounts.users import normalise_email
from workflows.programmes import coordinator_invitations

RESET_ANSWER = {"message": "If an account uses this address, a link to reset its password is on its way. "
                           "It works once, for 30 minutes."}


@blp.route("/password-reset")
class PasswordResetRequest(MethodView):
    @blp.doc(operationId="requestPasswordReset")
    @blp.doc(security=PUBLIC)
    @blp.arguments(PasswordResetRequestSchema, example={"email": "ada@example.com"})
    @blp.response(202, AcceptedSchema, example=RESET_ANSWER)
    @documents_errors(blp, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Forgot your password? A single-use link valid 30 minutes goes to the address, if an account uses it.
        The answer is the same either way. Rate-limited per address and per client (429 with `Retry-After`)."""
        limit_account_emails("password-reset", normalise_email(data["email"]))
        account_emails.request_password_reset(db_session(), data["email"])
        return RESET_ANSWER


@blp.route("/password-reset/check")
class PasswordResetCheck(MethodView):
    @blp.doc(operationId="checkPasswordResetLink")
    @blp.doc(security=PUBLIC)
    @blp.arguments(AccountLinkSchema, example={"token": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT"})
    @blp.response(200, ResetLinkSchema)
    @documents_errors(blp, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Whether a reset link can still set a password, before anyone types one; it stays unused. 422 for a link
        that is unknown, used or expired (ask for a new one); 403 when the address's organisation turned passwords
        off since (sign in with it)."""
        return {"expires_at": account_emails.reset_link_expiry(db_session(), data["token"])}


@blp.route("/password-reset/confirm")
class PasswordReset(MethodView):
    @blp.doc(operationId="resetPassword")
    @blp.doc(security=PUBLIC)
    @blp.arguments(PasswordResetSchema, example={"token": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT",
                                                 "new_password": "a longer passphrase nobody has seen"})
    @blp.response(204)
    @documents_errors(blp, 403, 422)
    def post(self, data: dict[str, Any]) -> None:
        """Set a new password with a reset link. Every sign-in ends (access and refresh tokens) and so does your
        calendar feed URL, and webhook endpoints made while the address was unconfirmed are disabled; the address
        counts as confirmed; a notice goes to it. Sign in with the new password.
        422 for a link that is unknown, used or expired; 403 when the address's organisation turned passwords off
        (sign in with it)."""
        user = account_emails.reset_password(db_session(), data["token"], data["new_password"])
        coordinator_invitations.granted_on_confirmation(db_session(), user)  # the reset confirmed the address
        audit.record(AuthEventKind.PASSWORD_RESET, user.id)
