"""Single logout with the real IdP (SimpleSAMLphp; ``workflows.sign_on.saml_logout``): a sign-out the IdP starts
ends the sign-ins here of the person it names, and the browser goes back to the IdP with a signed answer; an unsigned
or tampered LogoutRequest ends nothing. (A sign-out started here: ``tests/api/sign_on/test_saml.py`` and the browser
test.)"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import SignIn
from tests.factories.saml_idp import Idp
from tests.factories.saml_sign_on import post_back, saml_log_in, saml_organisation, saml_person
from tests.factories.sign_on import ORIGIN, page_of


def _signed_in(client: FlaskClient, org: object, login: str, at_idp: httpx.Client) -> dict[str, str]:
    posted, browser = saml_log_in(client, org, login, at_idp)  # type: ignore[arg-type]
    assert page_of(post_back(client, org, posted.fields, browser))[0] == "sign-on/done"  # type: ignore[arg-type]
    token = client.post("/api/v1/auth/refresh", json={}, headers=ORIGIN).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _idp_logout_request(idp: Idp, at_idp: httpx.Client) -> str:
    """Sign out at the IdP's own page: where it sends the browser first (this service's single logout service, with
    its LogoutRequest)."""
    response = at_idp.get(f"{idp.base}/saml2/idp/SingleLogoutService.php", params={"ReturnTo": f"{idp.base}/"},
                          follow_redirects=False)
    for _ in range(5):  # its own pages first
        assert response.status_code in {302, 303}, response.text[:2000]
        location = response.headers["Location"]
        if not location.startswith(idp.base):
            return location
        response = at_idp.get(location, follow_redirects=False)
    raise AssertionError("the IdP never sent the browser to this service")


def test_a_sign_out_the_idp_starts_ends_the_sign_in_here_and_answers_it_signed(
        client: FlaskClient, db: Session, saml_idp: Idp) -> None:
    org = saml_organisation(db, saml_idp)
    login, _email = saml_person(org)
    with httpx.Client() as at_idp:
        headers = _signed_in(client, org, login, at_idp)
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        location = _idp_logout_request(saml_idp, at_idp)
        assert urlsplit(location).path == f"/api/v1/auth/sign-on/saml/{org.id}/sls", location
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        assert {"SAMLRequest", "SigAlg", "Signature"} <= query.keys()
        # The request with its signature cut off, or another person's: nothing ends.
        unsigned = {key: value for key, value in query.items() if key not in {"SigAlg", "Signature"}}
        refused = client.get(f"{urlsplit(location).path}?{urlencode(unsigned)}")
        assert page_of(refused) == ("sign-on/failed", {"reason": "token"})
        tampered = {**query, "RelayState": "another"}
        assert page_of(client.get(f"{urlsplit(location).path}?{urlencode(tampered)}"))[1]["reason"] == "token"
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        # The IdP's own request: the sign-in ends, and the browser goes back to the IdP with a signed answer.
        answered = client.get(f"{urlsplit(location).path}?{urlsplit(location).query}")
        assert answered.status_code == 302, answered.text
        back = answered.headers["Location"]
        assert back.startswith(f"{saml_idp.base}/saml2/idp/SingleLogoutService.php?SAMLResponse=")
        assert {"SigAlg", "Signature"} <= parse_qs(urlsplit(back).query).keys()
        finished = at_idp.get(back, follow_redirects=False)
        assert finished.status_code in {302, 303} and finished.headers["Location"] == f"{saml_idp.base}/", (
            finished.status_code, finished.text[:1000])
        # The same signed request again (from the browser's history, say): it ends nothing more, and is refused.
        again = client.get(f"{urlsplit(location).path}?{urlsplit(location).query}")
        assert page_of(again) == ("sign-on/failed", {"reason": "token"})
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert db.scalars(select(SignIn.revoked_at).where(SignIn.provider_id == org.id)).one() is not None
