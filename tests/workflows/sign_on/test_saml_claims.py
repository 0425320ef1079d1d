"""What a SAML sign-in takes from a verified assertion (``workflows.sign_on.saml_claims``): the claims the account
rules and the enrolment rules read, by the provider's attribute map or the usual attributes, bounded and printable;
and what a sign-in keeps to sign out at the IdP. The round trips against the real IdP:
``tests/api/sign_on/test_saml.py``."""

from __future__ import annotations

import json

from models import IdentityProvider, Protocol
from workflows.sign_on import saml_claims as saml


def _provider(attribute_map: dict[str, str] | None = None) -> IdentityProvider:
    return IdentityProvider(protocol=Protocol.SAML, attribute_map=attribute_map)


def test_the_usual_attributes_give_email_name_and_groups_and_every_attribute_is_kept_by_its_name() -> None:
    claims = saml.claims_of(_provider(), "ada", {
        "mail": ["Ada@Uni.example"], "displayName": ["Ada\nLovelace"], "eduPersonAffiliation": ["student", "member"],
        "department": ["Mathematics"]})
    assert claims["sub"] == "ada"
    assert (claims["email"], claims["name"], claims["groups"]) == ("Ada@Uni.example", "Ada Lovelace",
                                                                   ["student", "member"])
    assert claims["department"] == ["Mathematics"]  # for a programme rule naming it


def test_the_provider_s_map_wins_and_values_are_bounded() -> None:
    claims = saml.claims_of(_provider({"email": "urn:custom:email", "groups": "roles"}), "x", {
        "mail": ["not-this@uni.example"], "URN:CUSTOM:EMAIL": ["this@uni.example"],
        "roles": [f"r{i}" for i in range(500)], "long": ["y" * 5000]})
    assert claims["email"] == "this@uni.example"  # names compared without case
    assert len(claims["groups"]) == saml.MAX_VALUES and len(claims["long"][0]) == saml.MAX_VALUE
    many = saml.claims_of(_provider(), "x", {f"a{i}": ["v"] for i in range(300)})
    assert len(many) == saml.MAX_ATTRIBUTES + 1  # and sub


def test_a_sign_in_keeps_the_name_id_and_session_index_as_one_text() -> None:
    kept = saml.logout_key("ada", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "_s1")
    assert kept == saml.logout_key("ada", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "_s1")
    assert json.loads(kept) == {"name_id": "ada", "format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                                "session_index": "_s1"}
