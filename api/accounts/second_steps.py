"""Two-step sign-in (``workflows.accounts.second_steps``): the second step of ``POST /auth/token``, and a person's own
authenticators and recovery codes (``api.sign_on.second_step_rule``: where an admin requires a second step)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from api.accounts import audit, cookie
from api.accounts.routes import blp, current_sign_in, me_blp, signed_in_body
from api.accounts.schemas import TokenSchema
from api.common.docs import PUBLIC, documents_errors
from api.common.schemas import Schema, Text
from api.database import db_session
from api.ratelimit import throttled_second_step
from api.security import current_actor
from models import AuthEventKind
from workflows.accounts import authenticators, second_steps, security_keys
from workflows.errors import Unauthenticated

CHALLENGE = Text(required=True, load_only=True, validate=validate.Length(min=1, max=100), metadata={
    "description": "The `second_step.challenge` of the 401 `POST /auth/token` answered."})


class SecondStepSchema(Schema):
    challenge = CHALLENGE
    code = Text(load_default=None, load_only=True, validate=validate.Length(min=1, max=20), metadata={
        "description": "The code an authenticator app shows now (six digits).", "example": "123456"})
    recovery_code = Text(load_default=None, load_only=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "One of the account's recovery codes instead (single-use).", "example": "abcde-fghjk"})
    webauthn = fields.Dict(load_default=None, load_only=True, metadata={
        "description": "Or what a security key answered `navigator.credentials.get` with `second_step.webauthn` "
                       "(a `PublicKeyCredential` as JSON: `id`, `rawId`, `response`, `type`)."})
    refresh_cookie = fields.Boolean(load_default=False, load_only=True, metadata={
        "description": "As `POST /auth/token`'s."})

    @ma.validates_schema
    def _one_code(self, data: dict[str, Any], **_: Any) -> None:
        if sum(data.get(name) is not None for name in ("code", "recovery_code", "webauthn")) != 1:
            raise ma.ValidationError("send one of `code`, `recovery_code` and `webauthn`", "code")


class SecondStepTokenSchema(TokenSchema):
    recovery_codes = fields.List(fields.String(), allow_none=True, metadata={
        "description": "Only when an authenticator was set up in this sign-in: the account's ten recovery codes, shown "
                       "this once (each signs in once instead of a code; keep them somewhere safe)."})


class SecondStepChallengeSchema(Schema):
    challenge = CHALLENGE


class AuthenticatorSetupSchema(Schema):
    id = fields.UUID()
    secret = fields.String(metadata={"description": "The key to type into an authenticator app (base32), shown once."})
    uri = fields.String(metadata={"description": "The `otpauth://` link of the key, for an app on this device."})
    qr_svg = fields.String(metadata={"description": "The link as a QR code to scan (an SVG document)."})


class AuthenticatorSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class SecondStepsSchema(Schema):
    authenticators = fields.List(fields.Nested(AuthenticatorSchema))
    security_keys = fields.List(fields.Nested(AuthenticatorSchema), metadata={
        "description": "Passkeys and security keys; removed as authenticators are (`DELETE /me/authenticators/{id}`)."})
    recovery_codes_left = fields.Integer()
    required = fields.Boolean(metadata={"description": "An administrator requires a second step of this account."})


class AuthenticatorNameSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "Phone"})


class AuthenticatorCodeSchema(Schema):
    code = Text(required=True, load_only=True, validate=validate.Length(min=1, max=20), metadata={"example": "123456"})


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(fields.String(), allow_none=True, metadata={
        "description": "Ten single-use recovery codes, shown this once (null when the account has some already)."})


@blp.route("/token/second-step")
class SecondStep(MethodView):
    @blp.doc(operationId="completeSecondStep")
    @blp.doc(security=PUBLIC)
    @blp.arguments(SecondStepSchema, example={"challenge": "c2Vjb25kLXN0ZXA", "code": "123456"})
    @blp.response(200, SecondStepTokenSchema)
    @documents_errors(blp, 401, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Take the second step of a password sign-in: a code of an authenticator app, a recovery code, or what a
        security key answered (`webauthn`), with the challenge `POST /auth/token` answered (401, `reason:
        second_step_required`). The tokens of a new sign-in, as `POST /auth/token` gives them.

        401 `second_step_failed` for a wrong code or one already used (five wrong codes end the challenge), and
        `second_step_expired` for a challenge unknown, spent or older than five minutes. Wrong codes are
        throttled per account and per client address (429 with `Retry-After`)."""
        db = db_session()
        user_id = second_steps.user_of(db, data["challenge"])
        if user_id is None:
            raise Unauthenticated("this sign-in has expired: enter your email and password again",
                                  reason="second_step_expired")
        try:
            with throttled_second_step(f"user:{user_id}"):
                passed = second_steps.pass_challenge(db, data["challenge"], code=data["code"],
                                                     recovery_code=data["recovery_code"], webauthn=data["webauthn"])
        except second_steps.SecondStepFailed:
            audit.record(AuthEventKind.SECOND_STEP_FAILED, user_id)
            raise
        if passed.method == second_steps.RECOVERY_CODE:
            audit.record(AuthEventKind.RECOVERY_CODE_USED, user_id)
        if passed.recovery_codes is not None:
            audit.record(AuthEventKind.AUTHENTICATOR_ADDED, user_id)
        body = {**signed_in_body(passed.user), "recovery_codes": passed.recovery_codes}  # refused if disabled since
        audit.record(AuthEventKind.SIGNED_IN, user_id)
        return cookie.deliver(body, cookie=data["refresh_cookie"])


@blp.route("/token/second-step/setup")
class SecondStepSetup(MethodView):
    @blp.doc(operationId="setUpSecondStep")
    @blp.doc(security=PUBLIC)
    @blp.arguments(SecondStepChallengeSchema, example={"challenge": "c2Vjb25kLXN0ZXA"})
    @blp.response(200, AuthenticatorSetupSchema)
    @documents_errors(blp, 401, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Set up an authenticator app inside a sign-in an administrator requires a second step of, when the account
        has none (`second_step.enrolment`): its key, shown once. Its first code, sent to `POST
        /auth/token/second-step`, signs in and gives the account's recovery codes."""
        return second_steps.begin_enrolment(db_session(), data["challenge"])


def _signed_in_at() -> datetime | None:
    sign_in = current_sign_in()
    return sign_in.created_at if sign_in is not None else None


@me_blp.route("/authenticators")
class Authenticators(MethodView):
    @me_blp.doc(operationId="listAuthenticators")
    @me_blp.response(200, SecondStepsSchema)
    @documents_errors(me_blp, 401)
    def get(self) -> Any:
        """Your authenticator apps, how many recovery codes you have left, and whether a second step is required of
        you."""
        return authenticators.overview(db_session(), current_actor())

    @me_blp.doc(operationId="beginAuthenticator")
    @me_blp.arguments(AuthenticatorNameSchema, example={"name": "Phone"})
    @me_blp.response(201, AuthenticatorSetupSchema)
    @documents_errors(me_blp, 401, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Add an authenticator app: its key, shown once. It signs in once confirmed with its first code
        (`POST /me/authenticators/{id}/confirm`); one never confirmed is dropped after an hour. At most ten."""
        return authenticators.begin(db_session(), current_actor(), name=data["name"])


@me_blp.route("/authenticators/<uuid:authenticator_id>/confirm")
class ConfirmAuthenticator(MethodView):
    @me_blp.doc(operationId="confirmAuthenticator")
    @me_blp.arguments(AuthenticatorCodeSchema, example={"code": "123456"})
    @me_blp.response(200, RecoveryCodesSchema)
    @documents_errors(me_blp, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], authenticator_id: uuid.UUID) -> Any:
        """Confirm an authenticator with the code it shows now: from then on, your password sign-ins ask for a code.
        Your first authenticator comes with ten recovery codes, shown this once. You are told (security notice)."""
        codes = authenticators.confirm(db_session(), current_actor(), authenticator_id, code=data["code"])
        audit.record(AuthEventKind.AUTHENTICATOR_ADDED, current_actor().user_id)
        return {"recovery_codes": codes}


@me_blp.route("/authenticators/<uuid:authenticator_id>")
class AuthenticatorRoute(MethodView):
    @me_blp.doc(operationId="renameAuthenticator")
    @me_blp.arguments(AuthenticatorNameSchema, example={"name": "Work phone"})
    @me_blp.response(200, AuthenticatorSchema)
    @documents_errors(me_blp, 401, 404, 422)
    def patch(self, data: dict[str, Any], authenticator_id: uuid.UUID) -> Any:
        """Rename one of your authenticators."""
        return authenticators.rename(db_session(), current_actor(), authenticator_id, name=data["name"])

    @me_blp.doc(operationId="removeAuthenticator")
    @me_blp.response(204)
    @documents_errors(me_blp, 401, 403, 404, 409)
    def delete(self, authenticator_id: uuid.UUID) -> None:
        """Remove one of your authenticators: needs a sign-in of the last ten minutes (403 `sign_in_again`). The last
        one goes with your recovery codes, unless a second step is required of you (409: add another first). You are
        told (security notice)."""
        authenticators.remove(db_session(), current_actor(), authenticator_id, signed_in_at=_signed_in_at())
        audit.record(AuthEventKind.AUTHENTICATOR_REMOVED, current_actor().user_id)


class SecurityKeyOptionsSchema(Schema):
    options = fields.Dict(metadata={"description": "`navigator.credentials.create`'s `publicKey`, as JSON (byte "
                                                   "strings in base64url)."})
    setup = fields.String(metadata={"description": "Send it back with the key's answer; it lives five minutes."})


class SecurityKeyInputSchema(Schema):
    setup = Text(required=True, load_only=True, validate=validate.Length(min=1, max=2000))
    credential = fields.Dict(required=True, load_only=True, metadata={
        "description": "What `navigator.credentials.create` answered, as JSON (`id`, `rawId`, `response`, `type`)."})
    name = Text(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "Blue key"})


class SecurityKeySchema(AuthenticatorSchema):
    recovery_codes = fields.List(fields.String(), allow_none=True, metadata={
        "description": "With a first second step: ten recovery codes, shown this once (else null)."})


@me_blp.route("/security-keys/options")
class SecurityKeyOptions(MethodView):
    @me_blp.doc(operationId="beginSecurityKey")
    @me_blp.response(200, SecurityKeyOptionsSchema)
    @documents_errors(me_blp, 401, 409)
    def post(self) -> Any:
        """Start adding a passkey or security key: the options for the browser's `navigator.credentials.create`
        (the relying party is `PUBLIC_URL`'s host), and the `setup` token to send back with its answer."""
        return security_keys.registration(db_session(), current_actor())


@me_blp.route("/security-keys")
class SecurityKeys(MethodView):
    @me_blp.doc(operationId="addSecurityKey")
    @me_blp.arguments(SecurityKeyInputSchema, example={"setup": "eyJhbGciOi...", "name": "Blue key", "credential": {
        "id": "AbC", "rawId": "AbC", "type": "public-key", "response": {"clientDataJSON": "…",
                                                                       "attestationObject": "…"}}})
    @me_blp.response(201, SecurityKeySchema)
    @documents_errors(me_blp, 401, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Keep the key the browser made, once the library checked its answer (the challenge, origin and relying
        party): from then on, password sign-ins may take the second step with it. 422 `key_refused` for an answer
        that does not check, `setup_expired` after five minutes; 409 for a key registered already."""
        key, codes = security_keys.register(db_session(), current_actor(), setup=data["setup"],
                                            credential=data["credential"], name=data["name"])
        audit.record(AuthEventKind.AUTHENTICATOR_ADDED, current_actor().user_id)
        return {"id": key.id, "name": key.name, "created_at": key.created_at, "last_used_at": None,
                "recovery_codes": codes}


@me_blp.route("/recovery-codes")
class RecoveryCodes(MethodView):
    @me_blp.doc(operationId="renewRecoveryCodes")
    @me_blp.response(200, RecoveryCodesSchema)
    @documents_errors(me_blp, 401, 403, 409)
    def post(self) -> Any:
        """Ten new recovery codes, shown this once; the old ones stop working. Needs a sign-in of the last ten
        minutes (403 `sign_in_again`) and an authenticator (409)."""
        codes = authenticators.renew_recovery_codes(db_session(), current_actor(), signed_in_at=_signed_in_at())
        audit.record(AuthEventKind.RECOVERY_CODES_RENEWED, current_actor().user_id)
        return {"recovery_codes": codes}
