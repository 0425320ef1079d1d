"""Every refusal carries a stable machine ``reason`` beside its words: each 409 raised in the code names its own (or a
scheduling refusal its ``rule``), so that refusals differing only in their English ``message`` are told apart; every
other error body carries its kind; and the OpenAPI document's error schema says so."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import ListingKind
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.errors import Conflict, DomainError, NotFound
from workflows.language import REFUSAL, catalogue

ROOT = Path(__file__).resolve().parents[3]
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def _conflicts() -> list[tuple[str, ast.Call]]:
    found = []
    for folder in ("workflows", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Conflict":
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def test_each_conflict_in_the_code_names_its_reason() -> None:
    calls = _conflicts()
    assert len(calls) > 60  # the walk found them
    unnamed, badly_named = [], []
    for where, call in calls:
        keywords = {k.arg: k.value for k in call.keywords}
        if where.startswith(("workflows/errors.py", "workflows/scheduling/rules.py")):
            continue  # the helpers that pass a caller's reason or rule on
        named = keywords.get("reason", keywords.get("rule"))
        if named is None:
            unnamed.append(where)
        elif isinstance(named, ast.Constant) and not SNAKE.match(str(named.value)):
            badly_named.append(where)
    assert unnamed == [], "give each Conflict a reason=…:\n" + "\n".join(unnamed)
    assert badly_named == []


def test_a_reason_is_the_raisers_else_the_rules_else_the_kinds() -> None:
    assert Conflict("full", reason="session_full").reason == "session_full"
    assert Conflict("busy", rule="mentee_busy").reason == "mentee_busy"
    assert (NotFound("gone").reason, DomainError("no").reason, Conflict("x").reason) == ("not_found", "refused",
                                                                                         "conflict")


def test_error_bodies_carry_their_reason(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=2)
    mentor, first, second = as_caller(listing.mentor_profile.user), as_caller(UserFactory()), as_caller(UserFactory())
    third = as_caller(UserFactory())
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0).isoformat()
    session = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                          headers=mentor.headers).get_json()["id"]
    for one in (first, second):
        assert client.post(f"/api/v1/sessions/{session}/join", headers=one.headers).status_code == 201
    again = client.post(f"/api/v1/sessions/{session}/join", headers=first.headers)
    full = client.post(f"/api/v1/sessions/{session}/join", headers=third.headers)
    assert (again.status_code, again.get_json()["reason"]) == (409, "seat_held_already")
    assert (full.status_code, full.get_json()["reason"]) == (409, "session_full")  # both 409s, told apart
    missing = client.get(f"/api/v1/sessions/{listing.id}", headers=second.headers)
    assert (missing.status_code, missing.get_json()["reason"]) == (404, "not_found")
    invalid = client.post("/api/v1/bookings", headers=second.headers, json={"listing_id": "nope"})
    assert (invalid.status_code, invalid.get_json()["reason"]) == (422, "invalid_request")
    unknown = client.get("/api/v1/no-such-route", headers=second.headers)
    assert (unknown.status_code, unknown.get_json()["reason"]) == (404, "not_found")


def test_the_openapi_error_schema_documents_the_reason(client: FlaskClient) -> None:
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["Error"]
    assert "stable machine name" in schema["properties"]["reason"]["description"]


def test_a_refusals_message_follows_accept_language_and_its_reason_does_not(client: FlaskClient, db: Session) -> None:
    """The same two refusals read in English, French and Japanese: the words the catalogue gives, with the values
    they name filled in (a session that is not found names its kind), and the same ``reason`` in each."""
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=2)
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0).isoformat()
    session = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                          headers=mentor.headers).get_json()["id"]
    assert client.post(f"/api/v1/sessions/{session}/join", headers=mentee.headers).status_code == 201
    read = {}
    for asked in (None, "fr-CA,fr;q=0.9,en;q=0.5", "ja"):
        headers = {**mentee.headers, **({"Accept-Language": asked} if asked else {})}
        again = client.post(f"/api/v1/sessions/{session}/join", headers=headers)
        missing = client.get(f"/api/v1/sessions/{listing.id}", headers=headers)
        read[asked] = [(one.status_code, one.get_json()["reason"], one.get_json()["message"])
                       for one in (again, missing)]
    english, french, japanese = read.values()
    assert [(status, reason) for status, reason, _ in english] == [(409, "seat_held_already"), (404, "not_found")]
    assert [(status, reason) for status, reason, _ in french] == [(status, reason) for status, reason, _ in english]
    assert [(status, reason) for status, reason, _ in japanese] == [(status, reason) for status, reason, _ in english]
    assert english[1][2] == "session not found"
    for language, said in (("fr", french), ("ja", japanese)):
        for (_, _, words), (_, _, in_english) in zip(said, english, strict=True):
            assert words == _catalogue_words(language, in_english), (language, words)
            assert words != in_english
    assert "session" in french[1][2]  # the kind it names, filled in: {kind} introuvable


def _catalogue_words(code: str, english: str) -> str:
    """What the catalogue of ``code`` says for an English refusal, its one word ({kind}) filled as the API fills it."""
    if english == "session not found":
        return DomainError("{kind} not found", words={"kind": "session"}).said_in(code)
    return catalogue(code).pgettext(REFUSAL, english)


# The calls that say a refusal's words, and where they take them (``devstack.messages.REFUSING``).
_SAYING = {"DomainError": 0, "NotFound": 0, "Forbidden": 0, "BusinessRuleViolation": 0, "Conflict": 0,
           "InvalidInput": 0, "RateLimited": 0, "LockedOut": 0, "Overloaded": 0, "Unauthenticated": 0,
           "http_error": 1, "refused": 1, "Refused": 1, "BodyRefused": 1}


def test_every_refusal_says_a_template_a_catalogue_can_hold() -> None:
    """Never an f-string, a concatenation or a formatted string: the English is a literal (or a constant marked with
    ``refusal``), and the values it names come as ``words``, so that each language says them in its own order."""
    built = []
    for folder in ("workflows", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                at = _SAYING.get(str(name))
                if at is None or len(node.args) <= at:
                    continue
                said = node.args[at]
                if isinstance(said, ast.JoinedStr | ast.BinOp) or (
                        isinstance(said, ast.Call) and getattr(said.func, "id", None) != "refusal"):
                    built.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(said)[:80]}")
    assert built == [], "say the English as a literal and its values as words=…:\n" + "\n".join(built)
