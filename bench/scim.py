"""``scim_provision_ratio``: provisioning ``PEOPLE`` users through SCIM (``POST /scim/v2/Users`` over HTTP, one at a
time, as an IdP's provisioning client sends them) ÷ making the same number of accounts without a password through
the domain function the SCIM route calls (``workflows.sign_on.scim.create_user``, each in its own transaction, in
this process): the floor, with no HTTP, no token check, no scim2-models reading or writing. Same run, same database;
each side's people of a domain of their own, of one provider owning both.
"""

from __future__ import annotations

import secrets
import time
import uuid

import httpx
from sqlalchemy.orm import Session

from bench.figures import Config, Rep
from bench.stack import Stack

PEOPLE = 1000


def _provider(stack: Stack) -> tuple[uuid.UUID, str, str, str]:
    """A provider owning two domains, and its SCIM token."""
    from infra import sealing  # noqa: PLC0415 - the run's settings
    from infra.config import get_settings  # noqa: PLC0415
    from models import IdentityProvider, ProviderDomain, User  # noqa: PLC0415
    from workflows.actors import Actor  # noqa: PLC0415
    from workflows.sign_on import scim  # noqa: PLC0415

    tag = secrets.token_hex(4)
    with Session(stack.engine) as db, db.begin():
        admin = User(id=uuid.uuid4(), email=f"admin-{tag}@bench.example", display_name="Admin", is_admin=True)
        provider = IdentityProvider(id=uuid.uuid4(), display_name=f"Org {tag}", issuer=f"https://idp-{tag}.example",
                                    client_id="bench", client_secret=sealing.seal(get_settings(), "s"))
        db.add_all([admin, provider])
        db.flush()
        http_domain, floor_domain = f"scim-{tag}.example", f"floor-{tag}.example"
        db.add_all([ProviderDomain(domain=http_domain, provider_id=provider.id),
                    ProviderDomain(domain=floor_domain, provider_id=provider.id)])
        db.flush()
        token = scim.issue_token(db, Actor(user_id=admin.id, is_admin=True), provider.id)
        provider_id = provider.id
    return provider_id, token, http_domain, floor_domain


def _through_scim(base: str, token: str, domain: str, people: int) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    with httpx.Client(base_url=base, timeout=60) as client:
        began = time.perf_counter()
        for n in range(people):
            email = f"p{n}@{domain}"
            client.post("/scim/v2/Users", headers=headers, json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
                "externalId": f"ext-{n}", "name": {"givenName": "Person", "familyName": str(n)},
                "emails": [{"value": email, "type": "work", "primary": True}], "active": True,
            }).raise_for_status()
        return time.perf_counter() - began


def _through_the_domain(stack: Stack, provider_id: uuid.UUID, domain: str, people: int) -> float:
    from models import IdentityProvider  # noqa: PLC0415
    from workflows.sign_on import scim  # noqa: PLC0415

    began = time.perf_counter()
    for n in range(people):
        email = f"p{n}@{domain}"
        with Session(stack.engine) as db, db.begin():
            provider = db.get_one(IdentityProvider, provider_id)
            scim.create_user(db, provider, scim.UserData(user_name=email, external_id=f"floor-{n}", email=email,
                                                         display_name=f"Person {n}"))
    return time.perf_counter() - began


def scim_provision(stack: Stack, cfg: Config) -> list[Rep]:
    _, base = stack.shared_api()
    people = 50 if cfg.reps == 1 else PEOPLE
    reps = []
    for rep in range(cfg.reps):
        provider_id, token, http_domain, floor_domain = _provider(stack)
        floor_s = _through_the_domain(stack, provider_id, floor_domain, people)
        http_s = _through_scim(base, token, http_domain, people)
        cfg.progress(f"scim_provision rep {rep}: {people} through SCIM {http_s:.2f} s, through the domain "
                     f"{floor_s:.2f} s")
        reps.append({"scim_s": round(http_s, 3), "floor_s": round(floor_s, 3), "ratio": round(http_s / floor_s, 3),
                     "people": people})
    return reps
