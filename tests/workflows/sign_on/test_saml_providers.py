"""Adding and changing SAML providers (``workflows.sign_on.saml_providers``): the IdP's metadata, pasted or read from
its URL (the real IdP's, SimpleSAMLphp), checked before anything is kept; the entity id kept once people are linked;
the fields of the other protocol refused; and SAML off, saying why, where ``xmlsec1`` is missing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Protocol, UserIdentity
from tests.factories.accounts import UserFactory
from tests.factories.saml_idp import Idp
from workflows.actors import Actor
from workflows.errors import Conflict, InvalidInput
from workflows.sign_on import saml_providers


def _admin() -> Actor:
    return Actor(user_id=UserFactory(is_admin=True).id, is_admin=True)


def test_pasted_metadata_makes_a_provider_with_its_own_sp_key_and_the_same_idp_twice_is_refused(
        db: Session, saml_idp: Idp) -> None:
    admin = _admin()
    provider = saml_providers.add_provider(db, admin, get_settings(), display_name="Uni",
                                           metadata_xml=saml_idp.metadata(), domains=["uni.example"])
    assert (provider.protocol, provider.issuer, provider.metadata_url) == (Protocol.SAML, saml_idp.entity_id, None)
    assert provider.client_id == saml_providers.sp_entity_id(get_settings(), provider.id)
    assert provider.sp_certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in provider.client_secret  # sealed
    with pytest.raises(Conflict, match="a provider with this issuer exists"):
        saml_providers.add_provider(db, admin, get_settings(), display_name="Again", metadata_url=saml_idp.metadata_url)


@pytest.mark.parametrize(("change", "said"), [
    (lambda xml: "<not-xml", "cannot be read"),
    (lambda xml: '<!DOCTYPE x [<!ENTITY a "b">]>' + xml.split("?>", 1)[-1], "a DTD or an entity"),
    (lambda xml: xml.replace('use="signing"', 'use="encryption"'), "no signing certificate"),
    (lambda xml: "<md:EntitiesDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'>" + xml.split("?>", 1)[-1]
     + xml.split("?>", 1)[-1].replace('entityID="', 'entityID="x', 1) + "</md:EntitiesDescriptor>",
     "2 identity providers: give one"),
    (lambda xml: xml.replace("</md:EntityDescriptor>", " " * 600_000 + "</md:EntityDescriptor>"), "larger than"),
])
def test_metadata_that_cannot_be_used_is_refused_saying_why_and_nothing_is_kept(
        db: Session, saml_idp: Idp, change: object, said: str) -> None:
    xml = change(saml_idp.metadata())  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=said):
        saml_providers.add_provider(db, _admin(), get_settings(), display_name="Uni", metadata_xml=xml)


def test_the_entity_id_stays_once_people_are_linked_and_the_other_protocol_s_fields_are_refused(
        db: Session, saml_idp: Idp) -> None:
    admin = _admin()
    provider = saml_providers.add_provider(db, admin, get_settings(), display_name="Uni",
                                           metadata_url=saml_idp.metadata_url)
    with pytest.raises(InvalidInput, match="client_secret, issuer cannot be set on a SAML provider"):
        saml_providers.update_provider(db, admin, get_settings(), provider.id,
                                       {"issuer": "https://x.example", "client_secret": "s"})
    other = saml_idp.metadata().replace(saml_idp.entity_id, "https://moved.example/idp")
    db.add(UserIdentity(id=uuid.uuid4(), user_id=UserFactory().id, provider_id=provider.id, issuer=provider.issuer,
                        subject="someone"))
    db.flush()
    with pytest.raises(Conflict, match="people are linked to this IdP's entity id"):
        saml_providers.update_provider(db, admin, get_settings(), provider.id, {"metadata_xml": other})
    changed = saml_providers.update_provider(db, admin, get_settings(), provider.id, {
        "attribute_map": {"groups": "memberOf"}, "idp_initiated": True, "session_hours": 12})
    assert (changed.attribute_map, changed.idp_initiated, changed.session_hours) == ({"groups": "memberOf"}, True, 12)
    with pytest.raises(InvalidInput, match="the attribute map names email, name, groups"):
        saml_providers.update_provider(db, admin, get_settings(), provider.id, {"attribute_map": {"role": "x"}})


def test_without_xmlsec1_saml_providers_cannot_be_added_and_the_answer_says_why(
        db: Session, saml_idp: Idp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a host where Debian's xmlsec1 is not installed
    with pytest.raises(InvalidInput, match="needs the xmlsec1 program") as refused:
        saml_providers.add_provider(db, _admin(), get_settings(), display_name="Uni",
                                    metadata_xml=saml_idp.metadata())
    assert refused.value.reason == "saml_unavailable"
