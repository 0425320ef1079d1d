"""Registration, tokens and their revocation, and the caller's own account."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth.schemas import (
    MeSchema,
    PasswordChangeSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from api.common.docs import PUBLIC, documents_errors
from api.database import db_session
from api.ratelimit import limit_registrations, throttled_password_check
from api.security import current_actor, issue_token, require_login
from models import User
from workflows import accounts
from workflows.accounts import normalise_email

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and bearer tokens.")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in user.")
me_blp.before_request(require_login)

EXAMPLE_TOKEN = {"access_token": "eyJhbGciOi...", "token_type": "Bearer", "expires_in": 3600}


def token_body(user: User) -> dict[str, Any]:
    token, ttl = issue_token(user.id, user.token_version)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


@blp.route("/register")
class Register(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(RegisterSchema, example={"email": "ada@example.com", "password": "correct horse battery staple",
                                            "display_name": "Ada"})
    @blp.response(201, UserSchema)
    @documents_errors(blp, 409, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an account (rate-limited per client address)."""
        limit_registrations()
        return accounts.register_user(db_session(), **data)


@blp.route("/token")
class Token(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(TokenRequestSchema, example={"email": "ada@example.com", "password": "correct horse battery staple"})
    @blp.response(200, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(blp, 401, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Exchange email and password for a bearer token.

        Wrong passwords are throttled per email and client address, and per client address
        (429 with `Retry-After`); successful sign-ins are not counted.
        """
        with throttled_password_check(f"email:{normalise_email(data['email'])}"):
            user = accounts.authenticate(db_session(), email=data["email"], password=data["password"])
        return token_body(user)


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    @documents_errors(blp, 401)
    def post(self) -> None:
        """Sign out everywhere: every token issued to you so far, this one included, stops working (401)."""
        require_login()
        accounts.end_all_tokens(db_session(), current_actor())


@me_blp.route("")
class Me(MethodView):
    @me_blp.response(200, MeSchema)
    @documents_errors(me_blp, 401)
    def get(self) -> Any:
        """The signed-in user, with their mentor profile id if they have one."""
        actor = current_actor()
        user = accounts.get_user(db_session(), actor.user_id)
        return {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "is_admin": user.is_admin,
            "created_at": user.created_at,
            "mentor_profile_id": actor.mentor_profile_id,
        }


@me_blp.route("/password")
class Password(MethodView):
    @me_blp.arguments(PasswordChangeSchema, example={"current_password": "correct horse battery staple",
                                                     "new_password": "a longer passphrase nobody has seen"})
    @me_blp.response(200, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(me_blp, 401, 403, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Change your password. Every earlier token stops working; the response carries a new one.

        403 when `current_password` is wrong (nothing changes); wrong guesses are throttled
        like sign-ins (429 with `Retry-After`).
        """
        with throttled_password_check(f"user:{current_actor().user_id}"):
            user = accounts.change_password(db_session(), current_actor(), **data)
        return token_body(user)
