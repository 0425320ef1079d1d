"""The OpenAPI document, and schemathesis fuzzing every operation: valid requests never answer 5xx;
invalid ones (negative generation) answer a 4xx with a message."""

from __future__ import annotations

import copy
import json
import os
import tomllib
from collections import Counter
from collections.abc import Callable
from typing import Any

import marshmallow as ma
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config._checks import NegativeDataRejectionConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.common.schemas import PersonSchema, Schema, page_of
from api.security import issue_token
from models import BookingStatus, User
from tests.conftest import ROOT
from tests.factories.mentors import ListingFactory
from tests.factories.scim import scim_provider

MAX_EXAMPLES = 30
NEGATIVE_EXAMPLES = 15
PUBLIC_PATHS = ("/api/v1/auth/register", "/api/v1/auth/token", "/health/live", "/health/ready",
                "/api/v1/calendar/{token}.ics", "/api/v1/auth/verify-email", "/api/v1/auth/password-reset",
                "/api/v1/auth/password-reset/check", "/api/v1/auth/password-reset/confirm",
                "/api/v1/auth/cancel-email-change",
                # The links in emails that cancel a meeting: the signed link is the credential (added on purpose).
                "/api/v1/booking-links/check", "/api/v1/booking-links/act",
                # What visitors without an account read: public mentors and listings (added on purpose).
                "/api/v1/public/mentors", "/api/v1/public/mentors/{profile_id}", "/api/v1/public/listings/{slug}",
                "/api/v1/public/listings/{slug}/times",
                # An invitation's mail: its token is the credential, to read it, decline it, or register from it.
                "/api/v1/programme-invitations/preview", "/api/v1/programme-invitations/decline",
                "/api/v1/programme-invitations/register", "/api/v1/coordinator-invitations/preview",
                "/api/v1/programme-join-links/preview",
                "/api/v1/coordinator-invitations/register",
                # Signing in through an organisation's provider: before there is any token (added on purpose).
                "/api/v1/auth/sign-on/providers", "/api/v1/auth/sign-on/{provider_id}/start",
                "/api/v1/auth/sign-on/callback", "/api/v1/auth/sign-on/link",
                "/api/v1/auth/sign-on/saml/{provider_id}/metadata", "/api/v1/auth/sign-on/saml/{provider_id}/start",
                "/api/v1/auth/sign-on/saml/{provider_id}/acs", "/api/v1/auth/sign-on/saml/{provider_id}/sls",
                # An email's unsubscribe link: its token is the credential (RFC 8058's one-click, added on purpose).
                "/api/v1/unsubscribe")


def test_every_operation_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            responses = operation["responses"]
            # A success, or the redirect a browser follows (signing in at an organisation's provider).
            assert any(code.startswith(("2", "302")) for code in responses), where
            if path not in PUBLIC_PATHS:
                assert "401" in responses, f"{where} does not document 401"
            else:
                assert operation.get("security") == [{}], where
            body = operation.get("requestBody")
            if body and "application/scim+json" in body["content"]:
                # SCIM (RFC 7644): read by scim2-models, documented with an example.
                assert "example" in body["content"]["application/scim+json"], where
            elif body and "application/x-www-form-urlencoded" in body["content"]:
                # What a SAML IdP posts (HTTP-POST binding): its form's fields.
                assert body["content"]["application/x-www-form-urlencoded"]["schema"], where
            elif body and "multipart/form-data" in body["content"]:
                # A file upload (a programme's CSV of invitees): its form names the file's field.
                assert body["content"]["multipart/form-data"]["schema"], where
            elif body:
                media = body["content"]["application/json"]
                assert "example" in media or "examples" in media, f"{where} has no request example"


def test_swagger_ui_is_served_with_local_assets(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/docs/assets/swagger-ui-bundle.js" in page.data
    page.close()
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()


@pytest.fixture
def fuzz_headers(db: Session) -> Callable[..., dict[str, str]]:
    """A signed-in mentor with a listing, so authenticated routes get past 401; and, for ``/scim/v2``, the SCIM
    token of an organisation's provider.

    A new token for every request, at the user's current token version: the fuzzer also
    signs out and changes the password, which end every earlier token.
    """
    user_id = ListingFactory().mentor_profile.user.id
    _provider, scim_token, _domain = scim_provider(db)

    def headers(path: str = "") -> dict[str, str]:
        if path.startswith("/scim/v2"):
            return {"Authorization": f"Bearer {scim_token}"}
        version = db.scalar(select(User.token_version).where(User.id == user_id))
        assert version is not None
        return {"Authorization": f"Bearer {issue_token(user_id, version)[0]}"}

    return headers


# Each fuzzing pass runs in shards, every fourth operation each, so the test processes share it.
SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_operation_answers_5xx(app: Flask, fuzz_headers: Callable[..., dict[str, str]], shard: int) -> None:
    """Schemathesis generates valid and invalid requests for every operation (bounded per operation)."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    everyone = [result.ok() for result in schema.get_all_operations()]
    assert len(everyone) >= 10
    operations = everyone[shard::SHARDS]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=fuzz_headers(case.operation.path))
            case.validate_response(response, checks=[not_a_server_error])

        fuzz()


@pytest.mark.parametrize("shard", range(SHARDS))
def test_invalid_requests_answer_4xx_with_a_message(app: Flask, fuzz_headers: Callable[..., dict[str, str]],
                                                    shard: int) -> None:
    """Schemathesis breaks the documented schema of each operation (types, formats, bounds, required
    fields, extra fields) and every answer must be a 4xx with a ``message``; a mutation that serialises
    to a valid request is recognised by ``negative_data_rejection`` and let through."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    # A body over MAX_CONTENT_LENGTH is refused before it is read, with a 413 (documented where a field's bounds
    # allow such a body: the SAML routes): a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    schema.config.checks.negative_data_rejection = NegativeDataRejectionConfig(
        expected_statuses=[*rejection.expected_statuses, "413"])
    # An operation without parameters or body (GET /health/live) has nothing to break.
    breakable = [operation for operation in (result.ok() for result in schema.get_all_operations())
                 if len(operation.path_parameters) + len(operation.query) + len(operation.body) > 0]
    assert len(breakable) >= 30
    operations = breakable[shard::SHARDS]
    refused = 0

    for operation in operations:

        # The token is fixed, not fuzzed: every request is sent with it, so "drop the header" breaks nothing.
        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE,
                                          headers=fuzz_headers(operation.path)))
        @settings(max_examples=NEGATIVE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def fuzz(case: schemathesis.Case) -> None:
            nonlocal refused
            response = case.call(headers=fuzz_headers(case.operation.path))
            case.validate_response(response, checks=[not_a_server_error, negative_data_rejection])
            if response.status_code >= 400:
                body = response.json()
                said = body.get("detail") if case.formatted_path.startswith("/scim/v2") else body.get("message")
                assert response.status_code < 500 and isinstance(body, dict) and said, (
                    case.method, case.formatted_path, response.status_code, body)
                refused += 1

        fuzz()
    assert refused >= len(operations)  # the pass did send invalid requests, and they were refused


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation)
            for section in ("paths", "webhooks") for path, methods in document.get(section, {}).items()
            for method, operation in methods.items() if method in {"get", "post", "put", "patch", "delete"}]


def test_every_operation_has_its_own_operation_id(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").json
    operations = _operations(document)
    missing = [(method, path) for path, method, operation in operations if not operation.get("operationId")]
    assert missing == []
    ids = Counter(operation["operationId"] for _, _, operation in operations)
    assert [name for name, count in ids.items() if count > 1] == []
    assert {"acceptBooking", "listSessions", "createWebhookEndpoint", "onBookingAccepted"} <= set(ids)


def test_every_schema_of_the_api_shares_its_instances_when_its_documentation_is_copied(app: Flask) -> None:
    """flask-smorest deep-copies each route's documentation several times; the API's schemas are shared, not copied
    (api.common.schemas.Schema), which keeps every API process 3.7 MB smaller. A schema on another base fails here."""
    def subclasses(cls: type) -> set[type]:
        return {sub for direct in cls.__subclasses__() for sub in {direct, *subclasses(direct)}}

    ours = [cls for cls in subclasses(ma.Schema) if cls.__module__.startswith("api.")]
    assert len(ours) > 300
    assert sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in ours if not issubclass(cls, Schema)) == []
    documented = {"PersonSchema": PersonSchema(), "a page": page_of(PersonSchema, "PeoplePage")()}
    assert all(copy.deepcopy(documented)[name] is schema for name, schema in documented.items())


def test_query_enums_are_named_schemas_and_the_version_is_the_packages(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").json
    inline = [(path, method, parameter["name"]) for path, method, operation in _operations(document)
              for parameter in operation.get("parameters", [])
              if parameter.get("in") == "query" and "enum" in parameter.get("schema", {})]
    assert inline == []
    role = next(p for p in document["paths"]["/api/v1/bookings"]["get"]["parameters"] if p["name"] == "role")
    assert role["schema"] == {"$ref": "#/components/schemas/ParticipantRole"}
    assert document["components"]["schemas"]["BookingStatus"]["enum"] == [status.value for status in BookingStatus]
    with (ROOT / "pyproject.toml").open("rb") as file:
        assert document["info"]["version"] == tomllib.load(file)["project"]["version"]
    assert document["openapi"] == "3.1.0"


def test_the_primer_names_every_route_that_takes_an_idempotency_key(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").json
    taking = sorted(path.removeprefix("/api/v1").replace("_id}", "}").replace("{listing}", "{id}")
                    .replace("{bundle}", "{id}").replace("{session}", "{id}").replace("{conversation}", "{id}")
                    .replace("{programme}", "{id}")
                    for path, operations in document["paths"].items()
                    for operation in operations.values()
                    if isinstance(operation, dict) and any(
                        parameter.get("name") == "Idempotency-Key" for parameter in operation.get("parameters", [])))
    primer = (ROOT / "docs" / "PRIMER.md").read_text()
    section = primer[primer.index("## `Idempotency-Key`"):]
    listed = section[:section.index("\n\n", section.index("These creation routes"))]
    assert len(taking) >= 10
    assert [path for path in taking if f"`{path}`" not in listed and f"`POST {path}`" not in listed] == []


OPERATION_NAMES = ROOT / "tests" / "api" / "common" / "openapi_names.json"
METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def _operation_names(spec: dict[str, Any]) -> dict[str, Any]:
    """Each path's and webhook's operations by method: their operationId and tags (what the generated client names)."""
    def named(operations: dict[str, Any]) -> dict[str, Any]:
        return {method: {"operationId": operation.get("operationId"), "tags": operation.get("tags", [])}
                for method, operation in sorted(operations.items()) if method in METHODS}

    return {"paths": {path: named(ops) for path, ops in sorted(spec["paths"].items())},
            "webhooks": {name: named(ops) for name, ops in sorted(spec.get("webhooks", {}).items())}}


def test_the_paths_operation_ids_and_tags_are_those_of_the_snapshot(client: FlaskClient) -> None:
    """Moving a route's module renames nothing a client sees. A route added or renamed on purpose writes the snapshot
    anew: ``UPDATE_OPENAPI_NAMES=1 pytest tests/api/common/test_openapi.py -k snapshot -n 0``."""
    current = _operation_names(client.get("/api/openapi.json").get_json())
    if os.environ.get("UPDATE_OPENAPI_NAMES"):
        OPERATION_NAMES.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert current == json.loads(OPERATION_NAMES.read_text())
