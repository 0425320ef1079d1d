"""What a verified SAML assertion says, as the account rules and the programme rules read it: the claims an OpenID
sign-in gives (``sub``, ``email``, ``name``, ``groups``) by the provider's attribute map or the usual attributes, and
every attribute by its name, bounded and printable; and what a sign-in keeps to sign out at the IdP."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from models import IdentityProvider
from models.sign_on import ATTRIBUTES

MAX_ATTRIBUTES = 100
MAX_VALUES = 200
MAX_VALUE = 1000
# The attributes tried, in order, for what a provider's map does not name: the friendly names pysaml2 gives the usual
# OIDs, and the claim URIs of Microsoft's IdPs.
DEFAULT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "email": ("mail", "email", "emailAddress",
              "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"),
    "name": ("displayName", "name", "cn", "http://schemas.microsoft.com/identity/claims/displayname",
             "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"),
    "groups": ("groups", "memberOf", "eduPersonAffiliation", "isMemberOf",
               "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"),
}


def _printable(value: str) -> str:
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in value).split())


def claims_of(provider: IdentityProvider, name_id: str, attributes: dict[str, list[Any]]) -> dict[str, Any]:
    """What the assertion says, as the OpenID sign-in's claims: ``sub`` (the NameID), ``email``, ``name`` and
    ``groups`` by the provider's map (else the usual attributes), and every attribute by its name (bounded), for the
    enrolment rules."""
    kept = {str(name)[:100]: [_printable(str(v))[:MAX_VALUE] for v in (values or [])[:MAX_VALUES] if v is not None]
            for name, values in list(attributes.items())[:MAX_ATTRIBUTES]}
    folded = {name.lower(): values for name, values in kept.items()}
    mapped: dict[str, Any] = {}
    for attribute in ATTRIBUTES:
        named = (provider.attribute_map or {}).get(attribute)
        for candidate in (named,) if named else DEFAULT_ATTRIBUTES[attribute]:
            if values := folded.get(candidate.lower()):
                mapped[attribute] = values if attribute == "groups" else values[0]
                break
    return {**kept, **mapped, "sub": name_id}


def logout_key(name_id: str, name_format: str | None, session_index: str | None) -> str:
    """What a sign-in keeps to sign out at the IdP (and to be found by the IdP's LogoutRequest): one JSON text."""
    return json.dumps({"name_id": name_id, "format": name_format, "session_index": session_index}, sort_keys=True)
