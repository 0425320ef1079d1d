"""The organisations' providers, as admins add and change them.

Adding one (or changing its issuer) reads its discovery document at once through the outbound guard: an issuer that
does not answer one naming itself, or that the guard refuses, is a clear 422, saying why (admins only see it). An
issuer on a private network passes only when the admin says it lives there (``private_network``); that is logged and
kept in the admin trail. The client secret is sealed (``infra.sealing``) and never shown again. Each email domain has
one provider. Disabling a provider ends every sign-in made through it at once (tokens, and live streams within
seconds) and turns its domains' password rule off, so their people can sign in with a password again (if they have
one) or reset it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from infra import http_targets, sealing
from infra.config import Settings
from infra.oidc_http import ProviderFault
from models import (
    IdentityProvider,
    ParticipantRole,
    Programme,
    Protocol,
    ProviderDomain,
    ProviderEnrolment,
    UserIdentity,
)
from models.sign_on import MAX_CLAIM, MAX_CLAIM_VALUE, MAX_DOMAINS, MAX_ENROLMENTS, MAX_ISSUER
from workflows import access
from workflows.accounts import sign_ins
from workflows.accounts.enforcement import domain_of
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.operations.admin import record_action
from workflows.sign_on import discovery

log = structlog.get_logger(__name__)

ADDED, CHANGED, DISABLED, ENABLED = ("sign_on.provider_added", "sign_on.provider_changed",
                                     "sign_on.provider_disabled", "sign_on.provider_enabled")
ACTIONS = (ADDED, CHANGED, DISABLED, ENABLED)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Rule:
    """A programme rule as an admin gives it."""

    programme_id: uuid.UUID
    role: ParticipantRole
    claim: str | None = None
    value: str | None = None


def get_provider(db: Session, provider_id: uuid.UUID, *, lock: bool = False) -> IdentityProvider:
    provider = db.get(IdentityProvider, provider_id, with_for_update=lock or None, populate_existing=lock)
    if provider is None:
        raise NotFound("provider not found")
    return provider


def domains_of(db: Session, provider_id: uuid.UUID) -> list[str]:
    return list(db.scalars(select(ProviderDomain.domain).where(ProviderDomain.provider_id == provider_id)
                           .order_by(ProviderDomain.domain)))


def rules_of(db: Session, provider_id: uuid.UUID) -> list[ProviderEnrolment]:
    return list(db.scalars(select(ProviderEnrolment).where(ProviderEnrolment.provider_id == provider_id)
                           .order_by(ProviderEnrolment.programme_id, ProviderEnrolment.role)))


def list_providers(db: Session, actor: Actor) -> list[IdentityProvider]:
    access.require_admin(actor)
    return list(db.scalars(select(IdentityProvider).order_by(IdentityProvider.display_name, IdentityProvider.id)))


def offered(db: Session, email: str | None) -> list[IdentityProvider]:
    """The enabled providers a person may sign in with: the one owning the address's domain when an address is
    given, else every enabled one."""
    query = select(IdentityProvider).where(IdentityProvider.disabled_at.is_(None))
    if email is not None:
        query = query.join(ProviderDomain, ProviderDomain.provider_id == IdentityProvider.id).where(
            ProviderDomain.domain == domain_of(email))
    return list(db.scalars(query.order_by(IdentityProvider.display_name, IdentityProvider.id).limit(50)))


def normalise_domain(domain: str) -> str:
    cleaned = domain.strip().lower().lstrip("@").rstrip(".")
    try:
        cleaned = cleaned.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput("{domain} is not an email domain",
                           words={"domain": repr(domain[:80])}, field="domains") from None
    labels = cleaned.split(".")
    if len(cleaned) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):  # noqa: PLR2004
        raise InvalidInput("{domain} is not an email domain", words={"domain": repr(domain[:80])}, field="domains")
    return cleaned


def _issuer(settings: Settings, issuer: str) -> str:
    issuer = issuer.strip()
    try:
        parsed = http_targets.parse_url(issuer)
    except http_targets.TargetRefused as exc:
        raise InvalidInput("the issuer is not a URL: {exc}", words={"exc": exc}, field="issuer") from None
    if parsed.query or parsed.fragment or len(issuer) > MAX_ISSUER:
        raise InvalidInput("the issuer is an http(s) URL of at most {max_issuer} characters, with no query or fragment",
                           words={"max_issuer": MAX_ISSUER}, field="issuer")
    if settings.https_targets_only and parsed.scheme != "https":
        raise InvalidInput("the issuer must start with https:// (plain http is refused in production)", field="issuer")
    return issuer


def check_discovery(settings: Settings, issuer: str, *, private_network: bool) -> discovery.Metadata:
    """The provider's discovery document, read now; 422 saying why when it cannot be."""
    client = discovery.client_for(settings, private_network=private_network)
    try:
        return discovery.read_metadata(client, issuer)
    except ProviderFault as exc:
        hint = "" if private_network else " (a provider on a private network needs private_network: true)"
        raise InvalidInput("the issuer's discovery document cannot be used: {exc}{hint}",
                           words={"exc": exc, "hint": hint}, field="issuer") from None


def set_domains(db: Session, provider: IdentityProvider, domains: Sequence[str]) -> None:
    wanted = sorted({normalise_domain(domain) for domain in domains})
    if len(wanted) > MAX_DOMAINS:
        raise InvalidInput("a provider owns at most {max_domains} domains",
                           words={"max_domains": MAX_DOMAINS}, field="domains")
    taken = db.scalars(select(ProviderDomain.domain).where(ProviderDomain.domain.in_(wanted),
                                                           ProviderDomain.provider_id != provider.id)).all()
    if taken:
        raise Conflict("another provider owns {taken}",
                       words={"taken": ', '.join(taken[:5])}, field="domains", reason="domain_taken")
    db.execute(delete(ProviderDomain).where(ProviderDomain.provider_id == provider.id))
    db.add_all([ProviderDomain(domain=domain, provider_id=provider.id) for domain in wanted])
    db.flush()


def set_rules(db: Session, provider: IdentityProvider, rules: Sequence[Rule]) -> None:
    if len(rules) > MAX_ENROLMENTS:
        raise InvalidInput("a provider has at most {max_enrolments} programme rules",
                           words={"max_enrolments": MAX_ENROLMENTS}, field="enrolments")
    if len({(rule.programme_id, rule.role) for rule in rules}) != len(rules):
        raise InvalidInput("one rule per programme and role", field="enrolments")
    known = set(db.scalars(select(Programme.id).where(Programme.id.in_([rule.programme_id for rule in rules]))))
    for rule in rules:
        if rule.programme_id not in known:
            raise InvalidInput("programme {programme_id} not found",
                               words={"programme_id": rule.programme_id}, field="enrolments")
        if (rule.claim is None) != (rule.value is None) or len(rule.claim or "") > MAX_CLAIM \
                or len(rule.value or "") > MAX_CLAIM_VALUE or rule.claim == "" or rule.value == "":
            raise InvalidInput("a rule names a claim (at most {max_claim} characters) and its value (at most "
                               "{max_claim_value}), or neither",
                               words={"max_claim": MAX_CLAIM, "max_claim_value": MAX_CLAIM_VALUE}, field="enrolments")
    db.execute(delete(ProviderEnrolment).where(ProviderEnrolment.provider_id == provider.id))
    db.add_all([ProviderEnrolment(id=uuid.uuid4(), provider_id=provider.id, programme_id=rule.programme_id,
                                  role=rule.role, claim=rule.claim, value=rule.value) for rule in rules])
    db.flush()


def filled(value: str, name: str) -> str:
    if not value.strip():
        raise InvalidInput("{name} must not be blank", words={"name": name}, field=name)
    return value.strip()


def note_private(actor: Actor, provider: IdentityProvider) -> None:
    if provider.private_network:
        log.warning("sign_on.private_network_allowed", provider_id=str(provider.id), issuer=provider.issuer,
                    admin_user_id=str(actor.user_id))


def add_provider(db: Session, actor: Actor, settings: Settings, *, display_name: str, issuer: str, client_id: str,
                 client_secret: str, domains: Sequence[str] = (), enrolments: Sequence[Rule] = (),
                 private_network: bool = False, password_sign_in_off: bool = False,
                 session_hours: int = 168) -> IdentityProvider:
    """A new provider (admins), its discovery document read first."""
    access.require_admin(actor)
    issuer = _issuer(settings, issuer)
    if db.scalar(select(IdentityProvider.id).where(IdentityProvider.issuer == issuer)) is not None:
        raise Conflict("a provider with this issuer exists", field="issuer", reason="issuer_taken")
    check_discovery(settings, issuer, private_network=private_network)
    provider = IdentityProvider(id=uuid.uuid4(), display_name=filled(display_name, "display_name"), issuer=issuer,
                                client_id=filled(client_id, "client_id"),
                                client_secret=sealing.seal(settings, client_secret),
                                private_network=private_network, password_sign_in_off=password_sign_in_off,
                                session_hours=session_hours, created_by=actor.user_id)
    db.add(provider)
    db.flush()
    set_domains(db, provider, domains)
    set_rules(db, provider, enrolments)
    note_private(actor, provider)
    record_action(db, actor, ADDED, "identity_provider", provider.id,
                  reason=(f"domains {' '.join(domains_of(db, provider.id)) or 'none'}"
                          + ("; on a private network" if private_network else ""))[:1000])
    return provider


OIDC_ONLY = frozenset({"issuer", "client_id", "client_secret"})
SAML_ONLY = frozenset({"metadata_url", "metadata_xml", "attribute_map", "idp_initiated"})


def _none_foreign(provider: IdentityProvider, changes: dict[str, Any]) -> None:
    """422 for a field of the other protocol."""
    foreign = sorted((OIDC_ONLY if provider.protocol is Protocol.SAML else SAML_ONLY) & changes.keys())
    if foreign:
        raise InvalidInput("{fields} cannot be set on a {protocol} provider",
                           words={"fields": ", ".join(foreign), "protocol": provider.protocol.value.upper()},
                           field=foreign[0])


def update_provider(db: Session, actor: Actor, settings: Settings, provider_id: uuid.UUID,
                    changes: dict[str, Any], *, also_changed: Sequence[str] = ()) -> IdentityProvider:
    """Change a provider (admins): what ``changes`` names; the secret only when a new one is given. A SAML
    provider's own fields are changed by ``workflows.sign_on.saml_providers`` first (``also_changed`` names them in
    the trail)."""
    access.require_admin(actor)
    provider = get_provider(db, provider_id)
    _none_foreign(provider, changes)
    readdressed = provider.protocol is Protocol.OIDC and ("issuer" in changes or "private_network" in changes)
    if readdressed:  # read before the row is locked: no lock is held while the provider is asked
        issuer = _issuer(settings, changes.get("issuer", provider.issuer))
        private_network = changes.get("private_network", provider.private_network)
        check_discovery(settings, issuer, private_network=private_network)
    provider = get_provider(db, provider_id, lock=True)
    if readdressed:
        if issuer != provider.issuer and db.scalar(select(UserIdentity.id).where(
                UserIdentity.provider_id == provider.id).limit(1)) is not None:
            raise Conflict("people are linked to this provider's issuer: their identities would be lost. Add the new "
                           "issuer as a provider of its own, and disable this one when they moved", field="issuer",
                           reason="issuer_has_identities")
        if db.scalar(select(IdentityProvider.id).where(IdentityProvider.issuer == issuer,
                                                       IdentityProvider.id != provider.id)) is not None:
            raise Conflict("a provider with this issuer exists", field="issuer", reason="issuer_taken")
        provider.issuer, provider.private_network = issuer, private_network
    for name in ("display_name", "client_id"):
        if name in changes:
            setattr(provider, name, filled(str(changes[name]), name))
    if "session_hours" in changes:
        provider.session_hours = changes["session_hours"]
    if "password_sign_in_off" in changes:
        if changes["password_sign_in_off"] and provider.disabled_at is not None:
            raise Conflict("a disabled provider cannot be the only way in: enable it first",
                           field="password_sign_in_off", reason="only_way_in_disabled")
        provider.password_sign_in_off = changes["password_sign_in_off"]
    if changes.get("client_secret"):
        provider.client_secret = sealing.seal(settings, changes["client_secret"])
    before = domains_of(db, provider.id)
    if "domains" in changes:
        set_domains(db, provider, changes["domains"])
    after = domains_of(db, provider.id)
    if "enrolments" in changes:
        set_rules(db, provider, changes["enrolments"])
    db.flush()
    discovery.forget(provider.id)
    note_private(actor, provider)
    changed = sorted([*(name for name in changes if name != "client_secret"), *also_changed]) + (
        ["client_secret"] if changes.get("client_secret") else [])
    moved = [f"+{d}" for d in after if d not in before] + [f"-{d}" for d in before if d not in after]
    record_action(db, actor, CHANGED, "identity_provider", provider.id,
                  reason=(", ".join(changed) + (f" (domains {' '.join(moved)})" if moved else ""))[:1000] or None)
    return provider


def disable_provider(db: Session, actor: Actor, provider_id: uuid.UUID, *, reason: str,
                     now: datetime | None = None) -> tuple[IdentityProvider, int]:
    """Disable a provider (admins): no sign-in through it, every sign-in made through it ends now, and its domains'
    people may use passwords again. How many sign-ins ended."""
    access.require_admin(actor)
    provider = get_provider(db, provider_id, lock=True)
    if provider.disabled_at is not None:
        raise Conflict("the provider is disabled already", reason="provider_disabled_already")
    provider.disabled_at, provider.password_sign_in_off = now or utcnow(), False
    ended = sign_ins.end_by_provider(db, provider.id, now=now)
    discovery.forget(provider.id)
    record_action(db, actor, DISABLED, "identity_provider", provider.id, reason=reason)
    log.info("sign_on.provider_disabled", provider_id=str(provider.id), sign_ins_ended=ended)
    return provider, ended


def enable_provider(db: Session, actor: Actor, provider_id: uuid.UUID, *, reason: str) -> IdentityProvider:
    access.require_admin(actor)
    provider = get_provider(db, provider_id, lock=True)
    if provider.disabled_at is None:
        raise Conflict("the provider is enabled already", reason="provider_enabled_already")
    provider.disabled_at = None
    record_action(db, actor, ENABLED, "identity_provider", provider.id, reason=reason)
    return provider


def set_password_sign_in(db: Session, provider_id: uuid.UUID, *, off: bool) -> IdentityProvider:
    """From the command line (a platform admin getting in while the provider is down): turn the password rule of a
    provider's domains off (or on again)."""
    provider = get_provider(db, provider_id, lock=True)
    if off and provider.disabled_at is not None:
        raise Conflict("a disabled provider cannot be the only way in: enable it first", reason="only_way_in_disabled")
    provider.password_sign_in_off = off
    db.flush()
    log.warning("sign_on.password_rule_set_by_operator", provider_id=str(provider.id), password_sign_in_off=off)
    return provider


def reseal(db: Session, settings: Settings) -> int:
    """Seal every provider's client secret again with the first key (a key rotation's middle step)."""
    providers = list(db.scalars(select(IdentityProvider).with_for_update()))
    for provider in providers:
        provider.client_secret = sealing.reseal(settings, provider.client_secret)
    return len(providers)
