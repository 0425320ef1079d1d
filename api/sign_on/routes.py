"""Signing in through an organisation's OpenID provider: the providers offered, the redirect there, the callback,
the password proof that links an existing account, and the current sign-in's provider (for signing out there too).

The browser drives the flow: ``start`` answers a redirect to the provider and sets a cookie naming this browser's
attempt; the provider sends the browser back to ``callback``, which answers a redirect to the web app: signed in
(the refresh token set as the web app's refresh cookie), asked for the account's password first, or told plainly what
went wrong (never a 500).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import structlog
from flask import Response, after_this_request, redirect, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as Redirect

from api.accounts import audit, cookie
from api.accounts.routes import client_info, token_body
from api.accounts.schemas import TokenSchema
from api.common.docs import PUBLIC, documents_errors
from api.database import commit_now, db_session, end_transaction
from api.ratelimit import limit_sign_on_steps, throttled_sign_in
from api.security import current_actor, current_credential, require_login
from api.sign_on.schemas import (
    CallbackArgs,
    LinkSchema,
    MySignOnSchema,
    OfferedArgs,
    OfferedListSchema,
    StartArgs,
)
from infra.config import get_settings
from infra.oidc_http import ProviderFault
from models import AuthEventKind, IdentityProvider, Protocol, SignIn, User
from workflows.accounts import audit as auth_events
from workflows.accounts import sign_ins
from workflows.accounts.users import WrongCredentials
from workflows.sign_on import accounts as sign_on_accounts
from workflows.sign_on import discovery, flow, providers, saml_logout
from workflows.sign_on.flow import SignOnFailed

log = structlog.get_logger(__name__)

blp = Blueprint("sign_on", __name__, url_prefix="/api/v1/auth/sign-on",
                description="Signing in through an organisation's OpenID provider.")

ATTEMPT_COOKIE = "mentorship_sign_on"
COOKIE_PATH = "/api/v1/auth/sign-on"  # the callback, and the link route that may follow it
_START = {Protocol.OIDC: "sign_on.Start", Protocol.SAML: "sign_on_saml.Start"}
EXAMPLE_TOKEN = {"access_token": "eyJhbGciOi...", "token_type": "Bearer", "expires_in": 3600, "refresh_token": None}


def attempt_cookie(value: str | None, *, cross_site: bool = False) -> None:
    """Set (or, with ``None``, clear) the cookie naming this browser's attempt: sent back only to the callback, the
    SAML assertion consumer service and the link route. An OpenID callback is a top-level navigation from the
    provider (``SameSite=Lax``); a SAML IdP posts its response from its own site (``cross_site``: ``SameSite=None``,
    which browsers take only with ``Secure``: over https, or plain http on ``localhost`` and ``127.0.0.1``)."""
    same_site, secure = ("None", True) if cross_site else ("Lax", cookie.secure())

    @after_this_request
    def _set(response: Response) -> Response:
        if value is None:
            response.delete_cookie(ATTEMPT_COOKIE, path=COOKIE_PATH, secure=secure, httponly=True,
                                   samesite=same_site)
        else:
            response.set_cookie(ATTEMPT_COOKIE, value, max_age=int(flow.ATTEMPT_TTL.total_seconds()),
                                path=COOKIE_PATH, secure=secure, httponly=True, samesite=same_site)
        return response


def page(route: str, **query: str) -> Redirect:
    """A redirect to a screen of the web app (served by this service)."""
    return redirect("/#/" + route + (f"?{urlencode(query, quote_via=quote)}" if query else ""), code=302)


@blp.route("/providers")
class Offered(MethodView):
    @blp.doc(operationId="listSignOnProviders")
    @blp.doc(security=PUBLIC)
    @blp.arguments(OfferedArgs, location="query")
    @blp.response(200, OfferedListSchema, example={"items": [
        {"id": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a", "display_name": "Example Corp", "password_sign_in_off": True,
         "start_url": "/api/v1/auth/sign-on/7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a/start"}]})
    @documents_errors(blp, 422, 429)
    def get(self, args: dict[str, Any]) -> Any:
        """The organisations one may sign in with: the one owning the email's domain (with `email`), else every
        enabled one. `password_sign_in_off`: that domain's people sign in through it only."""
        offered = providers.offered(db_session(), args["email"])
        return {"items": [{"id": p.id, "display_name": p.display_name, "password_sign_in_off": p.password_sign_in_off,
                           "start_url": url_for(_START[p.protocol], provider_id=p.id)} for p in offered]}


@blp.route("/<uuid:provider_id>/start")
class Start(MethodView):
    @blp.doc(operationId="startSignOn")
    @blp.doc(security=PUBLIC)
    @blp.arguments(StartArgs, location="query")
    @blp.response(302, description="To the provider's sign-in page; or, when it cannot be reached or is disabled, "
                                   "to the web app's page saying so.")
    @documents_errors(blp, 429)
    def get(self, args: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """Sign in at an organisation's provider: open this in the browser. The authorization code flow with PKCE,
        `state` and `nonce`; the attempt lasts ten minutes and finishes in the browser that started it. An account it
        makes takes the `timezone` and `locale` given. Waits at most `SIGN_ON_START_WAIT_SECONDS` for a provider
        whose document is not kept yet. Rate-limited per client address."""
        limit_sign_on_steps()
        browser = secrets.token_urlsafe(32)
        try:
            url = flow.start(db_session(), get_settings(), provider_id, browser_secret=browser, pause=end_transaction,
                             **args)
        except SignOnFailed as failed:  # a provider unreachable or disabled: in the audit log, for its admins
            return failed_page(failed)
        attempt_cookie(browser)
        return redirect(url, code=302)


def failed_page(failed: SignOnFailed | sign_ins.AccountDisabled) -> Redirect:
    """The failure page; the refusal logged with its detail, and in the audit log once it concerns a provider (a
    state no attempt has is not recorded: anyone can send those)."""
    reason = failed.reason if isinstance(failed, SignOnFailed) else "account-disabled"
    check = failed.check if isinstance(failed, SignOnFailed) else reason
    provider_id = failed.provider_id if isinstance(failed, SignOnFailed) else None
    detail = failed.detail if isinstance(failed, SignOnFailed) else failed.message
    log.warning("sign_on.refused", reason=reason, check=check, detail=detail,
                provider_id=str(provider_id) if provider_id else None)
    if provider_id is not None or isinstance(failed, sign_ins.AccountDisabled):
        audit.record(AuthEventKind.SSO_REFUSED, getattr(failed, "user_id", None),
                     refusal=auth_events.Refusal(provider_id, check, detail))
    return page("sign-on/failed", reason=reason)


@blp.route("/callback")
class Callback(MethodView):
    @blp.doc(operationId="finishSignOn")
    @blp.doc(security=PUBLIC)
    @blp.arguments(CallbackArgs, location="query")
    @blp.response(302, description="To the web app: `#/sign-on/done` signed in (the refresh token set as its "
                                   "refresh cookie), `#/sign-on/link?ticket=…` to prove an existing account with its "
                                   "password first, or `#/sign-on/failed?reason=…`.")
    @documents_errors(blp, 422, 429)
    def get(self, args: dict[str, Any]) -> Any:
        """Where providers send the browser back (register `{PUBLIC_URL}/api/v1/auth/sign-on/callback` as the
        client's redirect URI). The attempt is spent by its own browser whatever happens: a code or state used twice
        is refused, and another browser's callback spends nothing."""
        limit_sign_on_steps()
        db = db_session()
        try:
            verified = flow.finish(db, get_settings(), state=args["state"], code=args["code"], error=args["error"],
                                   issuer=args["iss"], browser_secret=request.cookies.get(ATTEMPT_COOKIE),
                                   pause=commit_now)
        except SignOnFailed as failed:
            attempt_cookie(None)
            return failed_page(failed)
        return complete(db, verified)


def complete(db: Session, verified: flow.Verified, *, cross_site: bool = False) -> Redirect:
    """The account a verified identity signs in to, and the page it ends on: signed in (the refresh cookie set),
    asked for the account's password first (the attempt's cookie kept for it), or the failure."""
    try:
        with db.begin_nested():  # the account made or linked, and its sign-in, together or not at all
            outcome = sign_on_accounts.resolve(db, verified)
            if isinstance(outcome, sign_on_accounts.LinkNeeded):  # the attempt's cookie stays for the link
                return page("sign-on/link", ticket=outcome.ticket, provider=outcome.provider.display_name,
                            email=outcome.email)
            signed_in = sign_on_accounts.sign_in(db, outcome, client_info())
    except (SignOnFailed, sign_ins.AccountDisabled) as failed:
        attempt_cookie(None, cross_site=cross_site)
        return failed_page(failed)
    attempt_cookie(None, cross_site=cross_site)
    if outcome.linked:
        audit.record(AuthEventKind.ACCOUNT_LINKED, outcome.user.id)
    audit.record(AuthEventKind.SIGNED_IN_SSO, outcome.user.id)
    cookie.set_refresh_cookie(token_body(signed_in)["refresh_token"])
    return page("sign-on/done")


@blp.route("/link")
class Link(MethodView):
    @blp.doc(operationId="linkSignOnWithPassword")
    @blp.doc(security=PUBLIC)
    @blp.arguments(LinkSchema, example={"ticket": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT",
                                        "password": "correct horse battery staple", "refresh_cookie": True})
    @blp.response(200, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(blp, 401, 403, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Prove the account that holds your organisation's email with its password, once: it is linked to your
        identity there, and you are signed in through it. Only from the browser the sign-in started in (its cookie).
        401 for a wrong password (throttled like sign-ins); 403 for a disabled account; 422 for a ticket unknown,
        used, of another browser or expired (the ticket is spent by any answer: start again at the provider)."""
        db = db_session()
        user_id = sign_on_accounts.link_user_of(db, data["ticket"])
        email = db.scalar(select(User.email).where(User.id == user_id)) if user_id else None
        with throttled_sign_in(f"email:{email or 'unknown'}"):
            try:
                signed_on = sign_on_accounts.link_with_password(db, data["ticket"], data["password"],
                                                                browser_secret=request.cookies.get(ATTEMPT_COOKIE))
            except WrongCredentials as wrong:
                audit.record(AuthEventKind.SIGN_IN_FAILED, wrong.user_id)
                raise
        signed_in = sign_on_accounts.sign_in(db, signed_on, client_info())
        attempt_cookie(None)
        audit.record(AuthEventKind.ACCOUNT_LINKED, signed_on.user.id)
        audit.record(AuthEventKind.SIGNED_IN_SSO, signed_on.user.id)
        return cookie.deliver(token_body(signed_in), cookie=data["refresh_cookie"])


@blp.route("/current")
class Current(MethodView):
    @blp.doc(operationId="getMySignOn")
    @blp.response(200, MySignOnSchema, example={
        "provider_id": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a", "display_name": "Example Corp",
        "reauth_at": "2030-03-08T12:00:00+00:00",
        "end_session_url": "https://login.example.com/logout?client_id=mentorship&post_logout_redirect_uri=…"})
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """The provider this sign-in went through (all null for a password sign-in), and where to sign out there
        too after signing out here."""
        require_login()
        db = db_session()
        sign_in = db.get(SignIn, current_credential().sign_in_id) if current_credential().sign_in_id else None
        provider = db.get(IdentityProvider, sign_in.provider_id) if sign_in and sign_in.provider_id else None
        if sign_in is None or provider is None or sign_in.user_id != current_actor().user_id:
            return {"provider_id": None, "display_name": None, "reauth_at": None, "end_session_url": None}
        shown = {"provider_id": provider.id, "display_name": provider.display_name, "reauth_at": sign_in.reauth_at}
        if provider.protocol is Protocol.SAML:  # a LogoutRequest signed here: nothing to fetch
            return {**shown, "end_session_url": saml_logout.logout_url(get_settings(), provider, sign_in.id_token)}
        view, id_token = flow.ProviderView.of(provider), sign_in.id_token
        end_transaction()  # nothing held while the provider's document is read
        return {**shown, "end_session_url": _end_session_url(view, id_token)}


def _end_session_url(provider: flow.ProviderView, id_token: str | None) -> str | None:
    """The provider's end-session address (OpenID Connect RP-Initiated Logout), with this sign-in's ID token as
    ``id_token_hint`` when it is kept, so the provider knows whose session ends without asking."""
    settings = get_settings()
    try:
        metadata = discovery.metadata(discovery.client_for(settings, private_network=provider.private_network),
                                      provider.id, provider.issuer)
    except ProviderFault:
        return None
    if metadata.end_session_endpoint is None:
        return None
    query = urlencode({"client_id": provider.client_id, "post_logout_redirect_uri": settings.public_url + "/",
                       **({"id_token_hint": id_token} if id_token else {})})
    joiner = "&" if "?" in metadata.end_session_endpoint else "?"
    return metadata.end_session_endpoint + joiner + query
