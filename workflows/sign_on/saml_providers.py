"""The organisations' SAML 2.0 identity providers, as admins add and change them; what they share with the OpenID
ones (domains, programme rules, the password rule, session lifetime, disabling, the admin trail) is
``workflows.sign_on.providers``'.

An IdP is added from its metadata: its URL, read now through the outbound guard (an IdP on a private network passes
only when the admin says so, as an OpenID issuer does), or its XML pasted. The metadata is checked
(``workflows.sign_on.saml.read_metadata``) and kept; its entity id is the provider's issuer. The service's SP for it
gets a key pair of its own, the private key sealed. Reading the metadata again (its URL, or new XML) keeps the IdP's
entity id: another one, once people are linked, is a new provider (as a new issuer is).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra import http_targets, sealing
from infra.config import Settings
from infra.oidc_http import ProviderClient, ProviderFault
from models import IdentityProvider, Protocol, UserIdentity
from models.sign_on import ATTRIBUTES, MAX_CLAIM, MAX_METADATA_URL, MAX_SAML_METADATA
from workflows import access
from workflows.actors import Actor
from workflows.errors import Conflict, InvalidInput
from workflows.operations.admin import record_action
from workflows.sign_on import discovery, providers
from workflows.sign_on.providers import Rule

PREFIX = "/api/v1/auth/sign-on/saml"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
METADATA_SECONDS = 10.0
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)  # metadata may carry comments, never a DTD


def unavailable() -> str | None:
    """Why SAML cannot be used on this host, or ``None``: pysaml2 checks signatures with Debian's ``xmlsec1``."""
    if shutil.which("xmlsec1") is None:
        return "SAML sign-in needs the xmlsec1 program (Debian's xmlsec1 package): it is not installed"
    return None


def sp_entity_id(settings: Settings, provider_id: uuid.UUID) -> str:
    """This service's entity id at the provider: its SP metadata's address."""
    return f"{settings.public_url}{PREFIX}/{provider_id}/metadata"


def acs_url(settings: Settings, provider_id: uuid.UUID) -> str:
    return f"{settings.public_url}{PREFIX}/{provider_id}/acs"


def sls_url(settings: Settings, provider_id: uuid.UUID) -> str:
    return f"{settings.public_url}{PREFIX}/{provider_id}/sls"


@dataclass(frozen=True)
class IdpMetadata:
    """What an IdP's metadata says that the service uses."""

    entity_id: str
    sso: dict[str, str]  # binding → address
    slo: str | None  # its HTTP-Redirect single logout address, if it offers one


class MetadataRefused(ValueError):
    """The metadata cannot be used; ``str()`` says why."""


def read_metadata(xml: str) -> IdpMetadata:
    """An IdP's metadata, checked: at most ``MAX_SAML_METADATA`` characters, no DTD, one IdP, with a single sign-on
    address by HTTP-Redirect or HTTP-POST and a signing certificate; not past its ``validUntil``."""
    from saml2.attribute_converter import ac_factory  # noqa: PLC0415 (pysaml2: loaded by SAML's routes only)
    from saml2.mdstore import InMemoryMetaData  # noqa: PLC0415

    from models.sign_on import MAX_SAML_METADATA  # noqa: PLC0415
    if len(xml) > MAX_SAML_METADATA:
        raise MetadataRefused(f"the metadata is larger than {MAX_SAML_METADATA // 1024} KiB")
    if _DTD.search(xml.encode()):
        raise MetadataRefused("the metadata carries a DTD or an entity")
    try:
        store = InMemoryMetaData(ac_factory(), xml)
        store.load()
    except Exception as exc:  # noqa: BLE001 (pysaml2 raises anything from XML parsing to its own errors)
        raise MetadataRefused(f"the metadata cannot be read: {type(exc).__name__}: {str(exc)[:200]}") from None
    idps = [entity for entity, descriptor in store.items() if "idpsso_descriptor" in descriptor]
    if len(idps) != 1:
        raise MetadataRefused(f"the metadata describes {len(idps)} identity providers: give one IdP's own metadata")
    entity_id = idps[0]
    sso = {binding: services[0]["location"] for binding in (REDIRECT, POST)
           if (services := store.service(entity_id, "idpsso_descriptor", "single_sign_on_service", binding))}
    if not sso:
        raise MetadataRefused("the IdP offers no single sign-on address by HTTP-Redirect or HTTP-POST")
    if not store.certs(entity_id, "idpsso", "signing"):
        raise MetadataRefused("the IdP's metadata publishes no signing certificate")
    slo = store.service(entity_id, "idpsso_descriptor", "single_logout_service", REDIRECT)
    return IdpMetadata(entity_id, sso, slo[0]["location"] if slo else None)


def new_key_pair(settings: Settings, provider_id: uuid.UUID) -> tuple[str, str]:
    """A new RSA key for the SP (sealed) and its self-signed certificate (PEM), valid ten years: IdPs pin the
    certificate they were given, so it does not expire under them."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sp_entity_id(settings, provider_id)[:64])])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=3650)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return sealing.seal(settings, pem), certificate.public_bytes(serialization.Encoding.PEM).decode()


def _available() -> None:
    if (missing := unavailable()) is not None:
        raise InvalidInput("{missing}: SAML providers cannot be added on this server", words={"missing": missing},
                           field="metadata_url", reason="saml_unavailable")


def fetch_metadata(settings: Settings, url: str, *, private_network: bool) -> str:
    """The IdP's metadata at ``url``, through the outbound guard; 422 saying why when it cannot be read."""
    try:
        parsed = http_targets.parse_url(url)
    except http_targets.TargetRefused as exc:
        raise InvalidInput("the metadata URL is not a URL: {exc}", words={"exc": exc}, field="metadata_url") from None
    if len(url) > MAX_METADATA_URL or (settings.https_targets_only and parsed.scheme != "https"):
        raise InvalidInput("the metadata URL is an https URL of at most {max} characters",
                           words={"max": MAX_METADATA_URL}, field="metadata_url")
    scope = discovery.client_for(settings, private_network=private_network).scope
    client = ProviderClient(scope, METADATA_SECONDS, MAX_SAML_METADATA, https_only=settings.https_targets_only)
    try:
        response = client.request("GET", url, headers={"Accept": "application/samlmetadata+xml, application/xml"})
    except ProviderFault as exc:
        hint = "" if private_network else " (an IdP on a private network needs private_network: true)"
        raise InvalidInput("the metadata cannot be read: {exc}{hint}", words={"exc": exc, "hint": hint},
                           field="metadata_url") from None
    if response.status_code != 200:  # noqa: PLR2004
        raise InvalidInput("the metadata URL answered HTTP {status}", words={"status": response.status_code},
                           field="metadata_url")
    try:
        return response.content.decode()
    except UnicodeDecodeError:
        raise InvalidInput("the metadata is not UTF-8 text", field="metadata_url") from None


def _metadata(settings: Settings, *, metadata_url: str | None, metadata_xml: str | None,
              private_network: bool) -> tuple[str, IdpMetadata]:
    if (metadata_url is None) == (metadata_xml is None):
        raise InvalidInput("give the IdP's metadata URL or its XML, one of them", field="metadata_url")
    xml = metadata_xml if metadata_xml is not None else fetch_metadata(settings, metadata_url or "",
                                                                       private_network=private_network)
    try:
        return xml, read_metadata(xml)
    except MetadataRefused as exc:
        raise InvalidInput("the IdP's metadata cannot be used: {exc}", words={"exc": exc},
                           field="metadata_xml" if metadata_xml is not None else "metadata_url") from None


def _attribute_map(attribute_map: dict[str, str] | None) -> dict[str, str] | None:
    if not attribute_map:
        return None
    unknown = sorted(set(attribute_map) - set(ATTRIBUTES))
    if unknown or any(not isinstance(v, str) or not 1 <= len(v.strip()) <= MAX_CLAIM * 4
                      for v in attribute_map.values()):
        raise InvalidInput("the attribute map names {attributes}, each by an attribute name of at most {max} "
                           "characters", words={"attributes": ", ".join(ATTRIBUTES), "max": MAX_CLAIM * 4},
                           field="attribute_map")
    return {key: value.strip() for key, value in attribute_map.items()}


def add_provider(db: Session, actor: Actor, settings: Settings, *, display_name: str,
                 metadata_url: str | None = None, metadata_xml: str | None = None, domains: Sequence[str] = (),
                 enrolments: Sequence[Rule] = (), private_network: bool = False, password_sign_in_off: bool = False,
                 session_hours: int = 168, attribute_map: dict[str, str] | None = None,
                 idp_initiated: bool = False) -> IdentityProvider:
    """A new SAML provider (admins), its metadata read and checked first."""
    access.require_admin(actor)
    _available()
    xml, idp = _metadata(settings, metadata_url=metadata_url, metadata_xml=metadata_xml,
                         private_network=private_network)
    if db.scalar(select(IdentityProvider.id).where(IdentityProvider.issuer == idp.entity_id)) is not None:
        raise Conflict("a provider with this issuer exists", field="metadata_url", reason="issuer_taken")
    provider_id = uuid.uuid4()
    sealed_key, certificate = new_key_pair(settings, provider_id)
    provider = IdentityProvider(
        id=provider_id, protocol=Protocol.SAML, display_name=providers.filled(display_name, "display_name"),
        issuer=idp.entity_id[:500], client_id=sp_entity_id(settings, provider_id)[:255],
        client_secret=sealed_key, sp_certificate=certificate, saml_metadata=xml, metadata_url=metadata_url,
        attribute_map=_attribute_map(attribute_map), idp_initiated=idp_initiated, private_network=private_network,
        password_sign_in_off=password_sign_in_off, session_hours=session_hours, created_by=actor.user_id)
    db.add(provider)
    db.flush()
    providers.set_domains(db, provider, domains)
    providers.set_rules(db, provider, enrolments)
    providers.note_private(actor, provider)
    record_action(db, actor, providers.ADDED, "identity_provider", provider.id,
                  reason=(f"SAML {idp.entity_id}; domains {' '.join(providers.domains_of(db, provider.id)) or 'none'}"
                          + ("; IdP-initiated sign-in on" if idp_initiated else "")
                          + ("; on a private network" if private_network else ""))[:1000])
    return provider


def update_provider(db: Session, actor: Actor, settings: Settings, provider_id: uuid.UUID,
                    changes: dict[str, Any]) -> IdentityProvider:
    """Change a SAML provider (admins): its metadata (read again from ``metadata_url``, or new ``metadata_xml``),
    attribute map and IdP-initiated sign-in here, the rest as every provider's."""
    access.require_admin(actor)
    provider = providers.get_provider(db, provider_id)
    if provider.protocol is not Protocol.SAML:
        return providers.update_provider(db, actor, settings, provider_id, changes)
    own = {name: changes.pop(name) for name in providers.SAML_ONLY if name in changes}
    if "metadata_url" in own or "metadata_xml" in own:
        _available()
        url = own.get("metadata_url") if "metadata_xml" not in own else None
        xml, idp = _metadata(settings, metadata_url=url, metadata_xml=own.get("metadata_xml"),
                             private_network=changes.get("private_network", provider.private_network))
        provider = providers.get_provider(db, provider_id, lock=True)
        if idp.entity_id != provider.issuer and db.scalar(select(UserIdentity.id).where(
                UserIdentity.provider_id == provider.id).limit(1)) is not None:
            raise Conflict("people are linked to this IdP's entity id: their identities would be lost. Add the new "
                           "IdP as a provider of its own, and disable this one when they moved",
                           field="metadata_url", reason="issuer_has_identities")
        provider.issuer, provider.saml_metadata, provider.metadata_url = idp.entity_id[:500], xml, url
    if "private_network" in changes:  # where its metadata URL is, read above
        own["private_network"] = provider.private_network = bool(changes.pop("private_network"))
    if "attribute_map" in own:
        provider.attribute_map = _attribute_map(own["attribute_map"])
    if "idp_initiated" in own:
        provider.idp_initiated = bool(own["idp_initiated"])
    return providers.update_provider(db, actor, settings, provider_id, changes, also_changed=sorted(own))


