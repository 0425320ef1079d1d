"""A client generated from our OpenAPI document by ``openapi-python-client`` takes a booking from
registration to its session, against the real app and a real worker: a renamed field, a wrong
response schema or a missing operation fails here."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.concurrency import wait_until
from tests.servers import live_app
from tests.workers_fixtures import BIN, StartWorker

PACKAGE = "mentorship_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ModuleType]:
    """The client package, generated from the document the app serves."""
    from api import create_app

    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_bytes(create_app().test_client().get("/api/openapi.json").data)
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")
    done = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(document), "--config", str(config),
         "--output-path", str(folder / PACKAGE), "--meta", "none"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _call(package: ModuleType, operation: str, **kwargs: Any) -> Any:
    """``<tag>.<operation>.sync_detailed(...)``, its parsed answer, failing on any error status."""
    tag, name = operation.split(".")
    module = importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")
    response = module.sync_detailed(**kwargs)
    assert response.status_code < 400, (operation, response.status_code, response.content)
    return response.parsed


def test_a_generated_client_books_from_registration_to_the_session(
    generated: ModuleType, committed: sessionmaker[Session], seed: Session, start_worker: StartWorker,
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    app = live_app(committed)
    transport = httpx.WSGITransport(app=app)

    def client(token: str = "") -> Any:
        return generated.AuthenticatedClient(base_url="http://testserver", token=token,
                                             httpx_args={"transport": transport})

    def signed_in(name: str) -> Any:
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        _call(generated, "auth.register_user", client=client(),
              body=models.Register(email=email, password="a long password 1", display_name=name))
        token = _call(generated, "auth.create_token", client=client(),
                      body=models.TokenRequest(email=email, password="a long password 1"))
        return client(token.access_token)

    mentor, mentee = signed_in("Grace"), signed_in("Alan")
    profile = _call(generated, "mentor_profiles.create_mentor_profile", client=mentor,
                    body=models.MentorProfileCreate(headline="Compilers", timezone="UTC", skills=["python"]))
    _call(generated, "mentor_profiles.set_availability", client=mentor, profile_id=profile.id,
          body=models.Availability(windows=[models.Window(weekday=day, start="00:00", end="24:00")
                                            for day in range(7)]))
    listing = _call(generated, "listings.create_listing", client=mentor,
                    body=models.ListingCreate(title="Code review", skill="python", duration_minutes=60,
                                              price_cents=5000))
    tomorrow = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    slots = _call(generated, "listings.list_free_slots", client=mentee, listing_id=listing.id,
                  from_=tomorrow, to=tomorrow + timedelta(hours=6))
    booking = _call(generated, "bookings.request_booking", client=mentee,
                    body=models.BookingCreate(listing_id=listing.id, start_time=slots.items[0].start_time))
    assert booking.status == models.BookingStatus.DRAFT

    start_worker(queues="sessions")
    accepted = _call(generated, "bookings.accept_booking", client=mentor, booking_id=booking.id)
    assert accepted.status == models.BookingStatus.ACCEPTED

    def session_listed() -> bool:
        page = _call(generated, "sessions.list_sessions", client=mentee)
        return [session.booking_id for session in page.items] == [booking.id]

    wait_until(session_listed, 30, "the session, listed through the generated client")
    endpoint = _call(generated, "webhook_endpoints.create_webhook_endpoint", client=mentor,
                     body=models.EndpointCreate(url="https://hooks.example.com/in",
                                               event_types=[models.EndpointCreateEventTypesItem("session.completed")]))
    assert endpoint.secret.startswith("whsec_")
    assert seed is not None  # the tables are emptied after the test (the committed fixture)
