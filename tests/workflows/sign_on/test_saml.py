"""The SAML sign-in's own bounds (``workflows.sign_on.saml``), before pysaml2 reads anything: a response is base64
of XML, never compressed (pysaml2 would inflate a POSTed response without a bound); a redirected message inflates to
256 KiB at most. Each is refused at once, whatever it would have grown to. The checks on real responses of the real
IdP: ``tests/api/sign_on/test_saml.py``."""

from __future__ import annotations

import base64
import secrets
import zlib

import pytest
from sqlalchemy.orm import Session

from infra.config import get_settings
from tests.factories.saml_idp import Idp
from tests.factories.saml_sign_on import saml_organisation, saml_start
from workflows.sign_on import saml, saml_logout
from workflows.sign_on.flow import SignOnFailed

BOMB = b"<" + b"A" * (200 * 1024 * 1024)  # 200 MB of XML-looking text, deflated to a few hundred KiB


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def test_a_compressed_response_is_refused_before_it_is_inflated(client: object, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    _location, browser = saml_start(client, org)  # type: ignore[arg-type]
    bomb = base64.b64encode(_deflated(BOMB)).decode()
    assert len(bomb) < 400 * 1024
    with pytest.raises(SignOnFailed) as refused:
        saml.finish(db, get_settings(), org.id, saml_response=bomb, relay_state=secrets.token_urlsafe(),
                    browser_secret=browser)
    assert refused.value.check == "encoding"


def test_a_redirected_message_inflating_past_its_bound_is_refused(db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    bomb = base64.b64encode(_deflated(BOMB)).decode()
    with pytest.raises(SignOnFailed) as refused:
        saml_logout.idp_logout(db, get_settings(), org.id, saml_request=bomb, relay_state=None,
                               sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", signature="AAAA")
    assert refused.value.check == "logout" and "inflates past 256 KiB" in refused.value.detail
