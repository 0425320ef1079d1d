"""Registration, tokens and their revocation, and the caller's own account."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts import audit, cookie
from api.accounts.schemas import (
    AcceptedSchema,
    AccountDeletionSchema,
    AccountLinkSchema,
    CalendarFeedStatusSchema,
    CalendarTokenSchema,
    EmailVerifiedSchema,
    MePatchSchema,
    MeSchema,
    PasswordChangeSchema,
    RefreshSchema,
    RegisterSchema,
    SignInListSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from api.common.docs import PUBLIC, documents_errors
from api.database import db_session
from api.ratelimit import limit_account_emails, limit_registrations, throttled_registration
from api.security import current_actor, current_credential, issue_token, require_login
from models import AuthEventKind, SignIn, User
from workflows import language
from workflows.accounts import deletion as account_deletion
from workflows.accounts import emails as account_emails
from workflows.accounts import refresh_tokens, second_steps, sign_ins
from workflows.accounts import users as accounts
from workflows.accounts.refresh_tokens import SignedIn
from workflows.accounts.sign_ins import ClientInfo
from workflows.accounts.users import normalise_email
from workflows.calendars import feeds as calendars
from workflows.errors import Unauthenticated
from workflows.programmes import pairings

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and bearer tokens.")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in user.")
me_blp.before_request(require_login)

EXAMPLE_TOKEN = {"access_token": "eyJhbGciOi...", "token_type": "Bearer", "expires_in": 3600,
                 "refresh_token": "q3V0c2lkZS1vZi10aGUtYm94LXJlZnJlc2gtdG9rZW4"}
EXAMPLE_ME = {"id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "email": "ada@example.com", "display_name": "Ada Lovelace",
              "is_admin": False, "created_at": "2030-03-01T12:00:00+00:00", "mentor_profile_id": None,
              "timezone": "Europe/London", "locale": "en-GB", "email_verified": True, "pending_email": None,
              "has_password": True}


EXAMPLE_SIGN_INS = {"items": [
    {"id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "created_at": "2030-03-01T12:00:00+00:00",
     "last_used_at": "2030-03-04T08:30:00+00:00", "expires_at": "2030-04-03T08:30:00+00:00",
     "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
     "ip_address": "203.0.113.7", "current": True},
    {"id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", "created_at": "2030-02-20T18:00:00+00:00",
     "last_used_at": "2030-02-28T19:10:00+00:00", "expires_at": "2030-03-30T19:10:00+00:00",
     "user_agent": "MentorshipApp/2.1 (iPhone; iOS 17.4)", "ip_address": "2001:db8::1", "current": False}]}


def client_info() -> ClientInfo:
    """The calling client as a sign-in records it: its ``User-Agent`` and its address."""
    return ClientInfo.of(request.headers.get("User-Agent"), request.remote_addr)


def current_sign_in() -> SignIn | None:
    """The sign-in the request's token belongs to (``None`` for a token of none)."""
    sign_in_id = current_credential().sign_in_id
    return db_session().get(SignIn, sign_in_id) if sign_in_id is not None else None


def token_body(signed_in: SignedIn) -> dict[str, Any]:
    """An access token of the sign-in, and its refresh token."""
    token, ttl = issue_token(signed_in.user.id, signed_in.user.token_version, signed_in.sign_in_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "refresh_token": signed_in.refresh_token}


def signed_in_body(user: User) -> dict[str, Any]:
    """The first tokens of a new sign-in of ``user``, recording the client."""
    return token_body(refresh_tokens.sign_in(db_session(), user, client_info()))


def me_body(user: User) -> dict[str, Any]:
    fields = ("id", "email", "display_name", "is_admin", "created_at", "timezone", "locale")
    return {**{name: getattr(user, name) for name in fields}, "mentor_profile_id": current_actor().mentor_profile_id,
            "email_verified": user.email_verified_at is not None, "has_password": user.password_hash is not None,
            "pending_email": account_emails.pending_email(db_session(), user)}


@blp.route("/register")
class Register(MethodView):
    @blp.doc(operationId="registerUser")
    @blp.doc(security=PUBLIC)
    @blp.arguments(RegisterSchema, example={"email": "ada@example.com", "password": "correct horse battery staple",
                                            "display_name": "Ada"})
    @blp.response(201, UserSchema)
    @documents_errors(blp, 403, 409, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an account (rate-limited per client address). A link to confirm the email goes to it: until it
        is opened, the address receives no other mail (in-app notifications still arrive). The password has at
        least 12 characters and is not easy to guess (422 says why). 409 when an account uses the address: its
        owner is told someone tried (once a day at most), and the attempt counts as a failed sign-in of this
        client does (429 beyond `AUTH_RATE_LIMIT_PER_IP`). 403 when the address's organisation signs its people in
        with its own provider only. Without a `locale`, the first tag of `Accept-Language` whose language the
        service speaks is the account's (English otherwise)."""
        limit_registrations()
        if not data.get("locale"):  # none chosen: the language the browser asks for first, among those shipped
            data["locale"] = language.preferred_tag(request.headers.get("Accept-Language"))
        with throttled_registration(f"email:{normalise_email(data['email'])}"):
            return account_emails.sign_up(db_session(), **data)


@blp.route("/verify-email")
class VerifyEmail(MethodView):
    @blp.doc(operationId="verifyEmail")
    @blp.doc(security=PUBLIC)
    @blp.arguments(AccountLinkSchema, example={"token": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT"})
    @blp.response(200, EmailVerifiedSchema, example={"email": "ada@example.com", "email_verified": True})
    @documents_errors(blp, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Confirm an email address with the link sent to it (no sign-in needed). A new address you asked for
        replaces your email now. 422 for a link that is unknown, used or expired; 409 when another account took
        the new address meanwhile."""
        verified = account_emails.verify_email(db_session(), data["token"])
        if verified.changed:
            audit.record(AuthEventKind.EMAIL_CHANGED, verified.user.id)
        return {"email": verified.user.email, "email_verified": True}


@blp.route("/cancel-email-change")
class CancelEmailChangeByLink(MethodView):
    @blp.doc(operationId="cancelEmailChangeByLink")
    @blp.doc(security=PUBLIC)
    @blp.arguments(AccountLinkSchema, example={"token": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT"})
    @blp.response(204)
    @documents_errors(blp, 422)
    def post(self, data: dict[str, Any]) -> None:
        """Cancel a change of your email with the link sent to the address being left (no sign-in needed): the new
        address is never confirmed, and every sign-in of the account ends (whoever asked knew the password:
        choose a new one). The link's page acts only through this request, never by being opened. 422 for a link
        that is unknown, used or expired."""
        user = account_emails.cancel_email_change_by_link(db_session(), data["token"])
        audit.record(AuthEventKind.EMAIL_CHANGE_CANCELLED, user.id)


@blp.route("/token")
class Token(MethodView):
    @blp.doc(operationId="createToken")
    @blp.doc(security=PUBLIC)
    @blp.arguments(TokenRequestSchema, example={"email": "ada@example.com", "password": "correct horse battery staple"})
    @blp.response(200, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(blp, 401, 403, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Exchange email and password for a bearer token and a refresh token: a new sign-in.

        403 for an account an administrator disabled (said only once the password is right).

        Wrong passwords are throttled per email and client address, and per client address
        (429 with `Retry-After`); successful sign-ins are not counted. Beyond
        `MAX_REFRESH_TOKENS_PER_USER` live sign-ins, the least recently used one is ended.
        With `refresh_cookie`, the refresh token is set as an `HttpOnly` cookie instead of returned.

        An account with an authenticator app, or one an administrator requires a second step of, is not signed in
        yet: 401 with `reason: second_step_required` and `second_step` (a challenge of five minutes); send a code
        with it to `POST /auth/token/second-step`. Accounts without a second step sign in at once.
        """
        user = audit.sign_in(data["email"], data["password"])
        due = second_steps.ask(db_session(), user)
        if due is not None:
            audit.record(AuthEventKind.SECOND_STEP_ASKED, user.id)
            raise second_steps.SecondStepDue(due)
        audit.record(AuthEventKind.SIGNED_IN, user.id)
        return cookie.deliver(signed_in_body(user), cookie=data["refresh_cookie"])


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.doc(operationId="refreshToken")
    @blp.doc(security=PUBLIC)
    @blp.arguments(RefreshSchema, example={"refresh_token": EXAMPLE_TOKEN["refresh_token"]})
    @blp.response(200, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(blp, 401, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Spend a refresh token for a new access token and the next refresh token (the old one is used up).

        401 when the token is unknown, expired or revoked; 403 when an administrator disabled the account.
        Presenting a token that was already used ends that sign-in: every refresh token of it, the newest
        included, and every access token issued with them stop working at once, and its live streams end: sign
        in again.
        Without `refresh_token`, the refresh cookie's is spent and the next one set as the cookie; such a
        request must come from this service's own pages (its `Origin`), else 403.
        """
        by_cookie = data["refresh_token"] is None
        token = cookie.refresh_token_from_cookie() if by_cookie else data["refresh_token"]
        try:
            body = token_body(refresh_tokens.rotate(db_session(), token, client_info()))
        except refresh_tokens.RefreshTokenReused as reused:
            audit.record(AuthEventKind.REFRESH_REUSED, reused.user_id)
            if by_cookie:
                cookie.clear_refresh_cookie()
            raise
        except (Unauthenticated, sign_ins.AccountDisabled):
            if by_cookie:
                cookie.clear_refresh_cookie()
            raise
        return cookie.deliver(body, cookie=by_cookie)


@blp.route("/logout")
class Logout(MethodView):
    @blp.doc(operationId="logout")
    @blp.response(204)
    @documents_errors(blp, 401)
    def post(self) -> None:
        """Sign out everywhere: every access token issued to you so far, this one included, stops working
        (401), every refresh token is revoked, your live streams end within seconds, and a change of your email
        waiting to be confirmed is cancelled; a calendar feed URL and webhook endpoints made while your address was
        unconfirmed stop (you are told). The refresh cookie, if any, is cleared."""
        require_login()
        cookie.clear_refresh_cookie()
        accounts.end_all_tokens(db_session(), current_actor())
        audit.record(AuthEventKind.SIGNED_OUT, current_actor().user_id)


@me_blp.route("")
class Me(MethodView):
    @me_blp.doc(operationId="getCurrentUser")
    @me_blp.response(200, MeSchema, example=EXAMPLE_ME)
    @documents_errors(me_blp, 401)
    def get(self) -> Any:
        """The signed-in user, with their mentor profile id if they have one. The only place an email is shown."""
        return me_body(accounts.get_user(db_session(), current_actor().user_id))

    @me_blp.doc(operationId="updateCurrentUser")
    @me_blp.arguments(MePatchSchema, example={"display_name": "Ada Lovelace", "timezone": "Europe/London",
                                             "locale": "en-GB"})
    @me_blp.response(200, MeSchema, example=EXAMPLE_ME)
    @documents_errors(me_blp, 401, 403, 409, 422, 429)
    def patch(self, data: dict[str, Any]) -> Any:
        """Change your display name, timezone (IANA) or locale (BCP 47); null clears timezone or locale.

        A new `email` needs `current_password` (403 if wrong; throttled like sign-ins; 409 if another account
        uses it): a link goes to the new address, which becomes your email once opened (`pending_email` until
        then), and the current address is told.
        """
        if "email" in data:
            with audit.password_checked(current_actor().user_id):
                account_emails.change_email(db_session(), current_actor(), email=data.pop("email"),
                                            current_password=data.pop("current_password"))
            audit.record(AuthEventKind.EMAIL_CHANGE_REQUESTED, current_actor().user_id)
        user = accounts.update_account(db_session(), current_actor(), data) if data else \
            accounts.get_user(db_session(), current_actor().user_id)
        return me_body(user)

    @me_blp.doc(operationId="deleteCurrentUser")
    @me_blp.arguments(AccountDeletionSchema, example={"current_password": "my current password"})
    @me_blp.response(204)
    @documents_errors(me_blp, 401, 403, 422, 429)
    def delete(self, data: dict[str, Any]) -> None:
        """Delete your account. Needs your current password (403 if wrong; throttled like sign-ins); an account with
        no password (made by signing in through an organisation) needs a sign-in there in the last 15 minutes.

        Your future bookings and sessions are cancelled as if you cancelled them (the cancellation policy
        applies; as a mentor, your future group sessions are cancelled whole and every seat refunded).
        Past sessions, reviews and bookings stay, shown as "Deleted user". Your email, name and password
        are erased, every token is revoked, your mentor profile and listings are withdrawn and your
        webhook endpoints disabled.
        """
        sign_in = current_sign_in()
        signed_on_at = sign_in.created_at if sign_in is not None and sign_in.provider_id is not None else None
        with audit.password_checked(current_actor().user_id):
            ended = account_deletion.delete_account(db_session(), current_actor(), signed_on_at=signed_on_at, **data)
        pairings.record_ended(db_session(), ended)
        cookie.clear_refresh_cookie()


@me_blp.route("/pending-email")
class PendingEmail(MethodView):
    @me_blp.doc(operationId="cancelPendingEmail")
    @me_blp.response(204)
    @documents_errors(me_blp, 401, 404)
    def delete(self) -> None:
        """Cancel the change of your email waiting to be confirmed (`pending_email`): the link sent to the new
        address stops working. 404 when none is waiting. A password change, a reset and signing out everywhere
        cancel it too."""
        user = account_emails.cancel_email_change(db_session(), current_actor())
        audit.record(AuthEventKind.EMAIL_CHANGE_CANCELLED, user.id)


@me_blp.route("/password")
class Password(MethodView):
    @me_blp.doc(operationId="changePassword")
    @me_blp.arguments(PasswordChangeSchema, example={"current_password": "correct horse battery staple",
                                                     "new_password": "a longer passphrase nobody has seen"})
    @me_blp.response(200, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(me_blp, 401, 403, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Change your password. Every earlier token (refresh tokens too) stops working and your live
        streams end within seconds; the response carries a new pair, of a new sign-in.

        403 when `current_password` is wrong (nothing changes); wrong guesses are throttled
        like sign-ins (429 with `Retry-After`).
        """
        refresh_cookie = data.pop("refresh_cookie")
        with audit.password_checked(current_actor().user_id):
            user = accounts.change_password(db_session(), current_actor(), **data)
        audit.record(AuthEventKind.PASSWORD_CHANGED, user.id)
        return cookie.deliver(signed_in_body(user), cookie=refresh_cookie)


@me_blp.route("/sign-ins")
class SignIns(MethodView):
    @me_blp.doc(operationId="listSignIns")
    @me_blp.response(200, SignInListSchema, example=EXAMPLE_SIGN_INS)
    @documents_errors(me_blp, 401)
    def get(self) -> Any:
        """Where you are signed in: each live sign-in (device or browser), most recently used first.

        At most `MAX_REFRESH_TOKENS_PER_USER`; `current` marks the one this request's token belongs to.
        """
        return {"items": sign_ins.list_sign_ins(db_session(), current_actor(), current_credential().sign_in_id)}


@me_blp.route("/sign-ins/<uuid:sign_in_id>")
class OneSignIn(MethodView):
    @me_blp.doc(operationId="endSignIn")
    @me_blp.response(204)
    @documents_errors(me_blp, 401, 404)
    def delete(self, sign_in_id: uuid.UUID) -> None:
        """Sign out of one sign-in: its refresh token, and the access tokens issued with it, stop working at
        once (this one too, if it is the current one), and its live streams end within seconds.

        404 when it is not one of your live sign-ins.
        """
        sign_ins.end_sign_in(db_session(), current_actor(), sign_in_id)


@me_blp.route("/email-verification")
class EmailVerification(MethodView):
    @me_blp.doc(operationId="resendEmailVerification")
    @me_blp.response(202, AcceptedSchema, example={"message": "A new link is on its way."})
    @documents_errors(me_blp, 400, 401, 429)
    def post(self) -> Any:
        """Send the link confirming your email (or the new one you asked for) again; earlier links stop working.
        400 when there is nothing to confirm; rate-limited (429 with `Retry-After`)."""
        actor = current_actor()
        limit_account_emails("email-verification", str(actor.user_id))
        account_emails.resend_verification(db_session(), actor)
        return {"message": "A new link is on its way."}


@me_blp.route("/calendar-token")
class CalendarToken(MethodView):
    @me_blp.doc(operationId="getCalendarFeedStatus")
    @me_blp.response(200, CalendarFeedStatusSchema, example={
        "active": False, "created_at": "2030-03-01T12:00:00+00:00", "revoked_at": "2030-03-04T08:30:00+00:00",
        "revoked_reason": "password_changed"})
    @documents_errors(me_blp, 401)
    def get(self) -> Any:
        """Whether your calendar feed URL works, and if it stopped, when and why (never the URL itself).

        A password change or reset and an account deletion end the feed, as they end every token.
        """
        return calendars.feed_status(db_session(), current_actor())

    @me_blp.doc(operationId="createCalendarToken")
    @me_blp.response(201, CalendarTokenSchema)
    @documents_errors(me_blp, 401)
    def post(self) -> Any:
        """A new private calendar feed URL (shown once); any earlier one stops working."""
        token = calendars.issue_feed_token(db_session(), current_actor())
        return {"url": url_for("calendar.CalendarFeedView", token=token, _external=True)}

    @me_blp.doc(operationId="revokeCalendarToken")
    @me_blp.response(204)
    @documents_errors(me_blp, 401)
    def delete(self) -> None:
        """Revoke your calendar feed URL: it answers 404 from now on."""
        calendars.revoke_feed_token(db_session(), current_actor().user_id)
