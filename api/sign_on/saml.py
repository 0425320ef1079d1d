"""Signing in through an organisation's SAML 2.0 identity provider (``workflows.sign_on.saml``): the SP metadata to
register there, the start (an AuthnRequest by HTTP-Redirect, or a form the browser posts), the assertion consumer
service the IdP posts its response to, and the single logout service it sends the browser back to.

The browser drives the flow as for an OpenID provider, and it ends on the same pages of the web app. The attempt's
cookie must come back with the IdP's cross-site POST: it is ``SameSite=None; Secure`` here (``routes.attempt_cookie``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import PUBLIC, documents_errors
from api.common.schemas import Schema, Text
from api.database import db_session
from api.ratelimit import limit_sign_on_steps
from api.sign_on.routes import ATTEMPT_COOKIE, attempt_cookie, complete, failed_page, page
from api.sign_on.schemas import StartArgs
from infra.config import get_settings
from workflows.errors import NotFound
from workflows.sign_on import saml, saml_logout, saml_providers
from workflows.sign_on.flow import SignOnFailed

blp = Blueprint("sign_on_saml", __name__, url_prefix=saml_providers.PREFIX,
                description="Signing in through an organisation's SAML 2.0 identity provider.")

_POSTING = "document.forms[0].submit();"
_POSTING_HASH = base64.b64encode(hashlib.sha256(_POSTING.encode()).digest()).decode()
# A SAMLResponse of MAX_RESPONSE_BYTES, base64-encoded (with line breaks some IdPs add).
MAX_ENCODED = saml.MAX_RESPONSE_BYTES * 4 // 3 + 16 * 1024


class AcsForm(Schema):
    """What an IdP posts (HTTP-POST binding): nothing else is read."""

    SAMLResponse = Text(required=True, validate=validate.Length(min=1, max=MAX_ENCODED), metadata={
        "description": "The IdP's response, base64-encoded."})
    RelayState = Text(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "What the start sent with the request: it names this browser's attempt."})


class SlsArgs(Schema):
    SAMLResponse = Text(load_default=None, validate=validate.Length(max=MAX_ENCODED))
    SAMLRequest = Text(load_default=None, validate=validate.Length(max=MAX_ENCODED))
    RelayState = Text(load_default=None, validate=validate.Length(max=200))
    SigAlg = fields.String(load_default=None, validate=validate.Length(max=200))
    Signature = fields.String(load_default=None, validate=validate.Length(max=4096))


def _form_page(action: str, fields_: dict[str, str]) -> Response:
    """A page that posts the AuthnRequest to the IdP at once (HTTP-POST binding), its one script allowed by hash."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
                     for name, value in fields_.items())
    body = (f'<!doctype html><html><head><meta charset="utf-8"><title>Signing in…</title></head><body>'
            f'<form method="post" action="{html.escape(action)}">{inputs}<noscript><button>Continue</button>'
            f'</noscript></form><script>{_POSTING}</script></body></html>')
    target = urlsplit(action)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'sha256-{_POSTING_HASH}'; form-action {target.scheme}://{target.netloc}; "
        "base-uri 'none'; frame-ancestors 'none'")
    return response


@blp.route("/<uuid:provider_id>/metadata")
class Metadata(MethodView):
    @blp.doc(operationId="getSamlServiceProviderMetadata")
    @blp.doc(security=PUBLIC)
    @blp.response(200, description="The SP metadata (`application/samlmetadata+xml`): register it at the IdP, or "
                                   "give the IdP this address. It is also this service's entity id there.",
                  content_type="application/samlmetadata+xml")
    @documents_errors(blp, 404, 429)
    def get(self, provider_id: uuid.UUID) -> Any:
        """This service's SAML metadata for one provider: its entity id, assertion consumer service (HTTP-POST),
        single logout service (HTTP-Redirect) and certificate (for signed requests and encrypted assertions)."""
        limit_sign_on_steps()
        document = saml.sp_metadata(db_session(), get_settings(), provider_id)
        if document is None:
            raise NotFound("provider not found")
        return Response(document, mimetype="application/samlmetadata+xml")


@blp.route("/<uuid:provider_id>/start")
class Start(MethodView):
    @blp.doc(operationId="startSamlSignOn")
    @blp.doc(security=PUBLIC)
    @blp.arguments(StartArgs, location="query")
    @blp.response(302, description="To the IdP with a signed AuthnRequest (HTTP-Redirect); or, when the provider is "
                                   "disabled, to the web app's page saying so.")
    @blp.alt_response(200, description="A page that posts the AuthnRequest to the IdP (HTTP-POST binding), for an "
                                       "IdP offering no HTTP-Redirect.", content_type="text/html", success=True)
    @documents_errors(blp, 429)
    def get(self, args: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """Sign in at an organisation's SAML IdP: open this in the browser. The attempt lasts ten minutes and
        finishes in the browser that started it. An account it makes takes the `timezone` and `locale` given.
        Rate-limited per client address."""
        limit_sign_on_steps()
        browser = secrets.token_urlsafe(32)
        try:
            outgoing = saml.start(db_session(), get_settings(), provider_id, browser_secret=browser, **args)
        except SignOnFailed as failed:
            return failed_page(failed)
        attempt_cookie(browser, cross_site=True)
        if outgoing.location is not None:
            return redirect(outgoing.location, code=302)
        return _form_page(outgoing.action or "", outgoing.fields or {})


@blp.route("/<uuid:provider_id>/acs")
class AssertionConsumer(MethodView):
    @blp.doc(operationId="finishSamlSignOn")
    @blp.doc(security=PUBLIC)
    @blp.arguments(AcsForm, location="form")
    @blp.response(302, description="To the web app: `#/sign-on/done` signed in (the refresh token set as its "
                                   "refresh cookie), `#/sign-on/link?ticket=…` to prove an existing account with its "
                                   "password first, or `#/sign-on/failed?reason=…`.")
    @documents_errors(blp, 413, 422, 429)
    def post(self, form: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """Where the IdP posts its response (HTTP-POST binding; register
        `{PUBLIC_URL}/api/v1/auth/sign-on/saml/{provider_id}/acs`, as the SP metadata says). The response must be
        signed by the IdP, for this service, in time, and answer the request this browser's attempt made; an
        assertion is taken once. Unsolicited responses (IdP-initiated) only where the provider allows them."""
        limit_sign_on_steps()
        db = db_session()
        try:
            finished = saml.finish(db, get_settings(), provider_id, saml_response=form["SAMLResponse"],
                                   relay_state=form["RelayState"], browser_secret=request.cookies.get(ATTEMPT_COOKIE))
        except SignOnFailed as failed:
            attempt_cookie(None, cross_site=True)
            return failed_page(failed)
        if finished.browser_secret is not None:  # IdP-initiated: the attempt it made, for a link that may follow
            attempt_cookie(finished.browser_secret, cross_site=True)
        return complete(db, finished.verified, cross_site=True)


@blp.route("/<uuid:provider_id>/sls")
class SingleLogout(MethodView):
    @blp.doc(operationId="samlSingleLogout")
    @blp.doc(security=PUBLIC)
    @blp.arguments(SlsArgs, location="query")
    @blp.response(302, description="To the web app's front page (the IdP's LogoutResponse to a sign-out started "
                                   "here), or back to the IdP with this service's signed LogoutResponse (a sign-out "
                                   "the IdP started).")
    @documents_errors(blp, 422, 429)
    def get(self, args: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """The single logout service (HTTP-Redirect; register `{PUBLIC_URL}/api/v1/auth/sign-on/saml/{provider_id}/sls`,
        as the SP metadata says). After signing out here and then at the IdP, the IdP sends the browser back with its
        LogoutResponse: the front page. When the IdP starts a sign-out (its LogoutRequest, which must carry its
        signature), the sign-ins through it of the person it names end now, and the browser goes back to the IdP
        with a signed LogoutResponse."""
        limit_sign_on_steps()
        if args["SAMLRequest"] is None:
            return page("")
        try:
            location = saml_logout.idp_logout(db_session(), get_settings(), provider_id,
                                              saml_request=args["SAMLRequest"], relay_state=args["RelayState"],
                                              sigalg=args["SigAlg"], signature=args["Signature"])
        except SignOnFailed as failed:
            return failed_page(failed)
        return redirect(location, code=302)
