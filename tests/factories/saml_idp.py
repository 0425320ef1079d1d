"""A real SAML 2.0 identity provider for the sign-in tests: Debian's SimpleSAMLphp, served by PHP's built-in server on
a free port of ``localhost`` (the service runs on ``127.0.0.1``: two sites, as in production).

``start_idp(directory)`` writes SimpleSAMLphp's configuration into ``directory`` (``SIMPLESAMLPHP_CONFIG_DIR``: a
signing key and certificate made here, a hosted IdP, users by ``exampleauth:UserPass``) and starts
``php -S localhost:PORT``. Its users and the service providers it knows are JSON files the PHP configuration reads at
every request: :meth:`Idp.add_user` and :meth:`Idp.trust` write them, as an IdP's administrator registers an SP.
:meth:`Idp.log_in` does at its pages what a browser does and hands back the form the IdP posts to the service
(``SAMLResponse`` and ``RelayState``), not posted: the tests post it, or change it first.

Without PHP or SimpleSAMLphp (Debian's ``php-cli`` and ``simplesamlphp``), :func:`available` says what is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from devstack.host import free_port

SIMPLESAMLPHP = Path("/usr/share/simplesamlphp")
START_SECONDS = 20.0

CONFIG_PHP = """<?php
$config = [
    'baseurlpath' => '{base}/',
    'certdir' => '{directory}/cert/',
    'loggingdir' => '{directory}/log/',
    'datadir' => '{directory}/data/',
    'tempdir' => '{directory}/tmp',
    'metadatadir' => '{directory}/metadata/',
    'attributenamemapdir' => '/usr/share/simplesamlphp/config/attributemap/',
    'secretsalt' => '{salt}',
    'auth.adminpassword' => '{admin}',
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'technicalcontact_name' => 'Tests',
    'technicalcontact_email' => 'tests@example.org',
    'timezone' => 'UTC',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'logging.level' => SimpleSAML\\Logger::DEBUG,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'showerrors' => true,
    'errorreporting' => false,
    'store.type' => 'phpsession',
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.savepath' => '{directory}/sessions',
    'session.phpsession.cookiename' => 'IdpSession',
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,
    'trusted.url.domains' => [],
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'production' => false,
    'theme.use' => 'default',
];
"""

AUTHSOURCES_PHP = """<?php
$users = json_decode(file_get_contents(__DIR__ . '/../users.json'), true);
$config = [
    'admin' => ['core:AdminPassword'],
    'users' => array_merge(['exampleauth:UserPass'], $users),
];
"""

IDP_HOSTED_PHP = """<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'users',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'saml20.sign.assertion' => true,
    'saml20.sign.response' => false,
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    'authproc' => [
        50 => ['class' => 'saml:AttributeNameID', 'attribute' => 'uid',
               'Format' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
        90 => ['class' => 'core:AttributeMap', 'name2oid'],
    ],
];
"""

# The service providers it trusts, from ``sps.json`` (an entity id → SimpleSAMLphp's SP metadata array).
SP_REMOTE_PHP = """<?php
foreach (json_decode(file_get_contents(__DIR__ . '/../sps.json'), true) as $entity => $sp) {
    $metadata[$entity] = $sp;
}
"""


def available() -> str | None:
    """Why the real IdP cannot run here, or ``None`` when it can."""
    if shutil.which("php") is None:
        return "PHP is not installed (Debian's php-cli)"
    if not (SIMPLESAMLPHP / "www" / "module.php").exists():
        return "SimpleSAMLphp is not installed (Debian's simplesamlphp, with --no-install-recommends)"
    if shutil.which("xmlsec1") is None:
        return "xmlsec1 is not installed (Debian's xmlsec1)"
    return None


def key_and_certificate(common_name: str) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it, as PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def certificate_body(pem: str) -> str:
    """A PEM certificate's base64 body, as SAML metadata carries it."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


class _Forms(HTMLParser):
    """The forms of a page: their action and named fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), {}))
        elif tag in {"input", "button"} and self.forms and attributes.get("name"):
            self.forms[-1][1][attributes["name"]] = attributes.get("value", "")


@dataclass(frozen=True)
class Posted:
    """What the IdP's page posts to the service: its address and fields (``SAMLResponse``, ``RelayState``)."""

    action: str
    fields: dict[str, str]


@dataclass
class Idp:
    """A running SimpleSAMLphp IdP: its addresses, and the means to set it up and sign in at it."""

    directory: Path
    base: str
    process: subprocess.Popen[bytes]
    certificate: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sps: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return f"{self.base}/saml2/idp/metadata.php"

    @property
    def metadata_url(self) -> str:
        return self.entity_id

    def metadata(self) -> str:
        return httpx.get(self.metadata_url, timeout=10).raise_for_status().text

    def add_user(self, login: str, password: str, *, email: str, name: str, groups: Sequence[str] = (),
                 **attributes: Sequence[str]) -> None:
        """A user signing in with ``login`` and ``password``: ``uid`` (the NameID's source), ``mail``,
        ``displayName`` and ``eduPersonAffiliation`` (the groups), sent by their OIDs."""
        self.users[f"{login}:{password}"] = {"uid": [login], "mail": [email], "displayName": [name],
                                             "eduPersonAffiliation": list(groups),
                                             **{key: list(value) for key, value in attributes.items()}}
        (self.directory / "users.json").write_text(json.dumps(self.users))

    def trust(self, entity_id: str, *, acs: str, slo: str | None = None, certificate: str | None = None,
              encrypt: bool = False, **settings: Any) -> None:
        """Register a service provider as an IdP's administrator does: where its assertions go, its certificate
        (to encrypt them to it, with ``encrypt``), and any other SimpleSAMLphp setting of it."""
        sp: dict[str, Any] = {
            "AssertionConsumerService": [{"Binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                                          "Location": acs}],
            "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            "simplesaml.nameidattribute": "uid",
            "assertion.encryption": encrypt,
            "validate.authnrequest": False,
            "sign.logout": True,  # this service takes only signed LogoutRequests
            **settings,
        }
        if slo:
            sp["SingleLogoutService"] = [{"Binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                                          "Location": slo}]
        if certificate:
            sp["certData"] = certificate_body(certificate)
        self.sps[entity_id] = sp
        (self.directory / "sps.json").write_text(json.dumps(self.sps))

    def log_in(self, browser: httpx.Client, location: str, login: str, password: str) -> Posted:
        """Follow the service's redirect to the IdP (``location``) in ``browser`` (which keeps the IdP's cookies),
        sign in there when asked, and give back the form the IdP's page posts to the service."""
        return self._signed_in(browser, browser.get(location, follow_redirects=True), login, password)

    def post_log_in(self, browser: httpx.Client, action: str, fields: dict[str, str], login: str,
                    password: str) -> Posted:
        """The same, for a request the service's page posts to the IdP (HTTP-POST binding)."""
        return self._signed_in(browser, browser.post(action, data=fields, follow_redirects=True), login, password)

    def _signed_in(self, browser: httpx.Client, page: httpx.Response, login: str, password: str) -> Posted:
        forms = _Forms(page.text).forms
        if forms and "password" in forms[0][1]:
            action, fields = forms[0]
            page = browser.post(urljoin(str(page.url), action), data={**fields, "username": login,
                                                                       "password": password},
                                follow_redirects=True)
            forms = _Forms(page.text).forms
        posting = [form for form in forms if "SAMLResponse" in form[1]]
        if not posting:
            raise RuntimeError(f"the IdP did not answer with a SAML response ({page.status_code}):\n{page.text[:2000]}")
        return Posted(posting[0][0], posting[0][1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_idp(directory: Path) -> Idp:
    """A SimpleSAMLphp IdP on a free port of ``localhost``, configured in ``directory``; stop it with
    :meth:`Idp.stop`."""
    port = free_port()
    base = f"http://localhost:{port}"
    for sub in ("config", "metadata", "cert", "log", "data", "tmp", "sessions"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    key, certificate = key_and_certificate(f"localhost:{port}")
    (directory / "cert" / "idp.key").write_text(key)
    (directory / "cert" / "idp.crt").write_text(certificate)
    (directory / "config" / "config.php").write_text(CONFIG_PHP.format(
        base=base, directory=directory, salt=secrets.token_hex(16), admin=secrets.token_hex(8)))
    (directory / "config" / "authsources.php").write_text(AUTHSOURCES_PHP)
    (directory / "metadata" / "saml20-idp-hosted.php").write_text(IDP_HOSTED_PHP)
    (directory / "metadata" / "saml20-sp-remote.php").write_text(SP_REMOTE_PHP)
    (directory / "users.json").write_text("{}")
    (directory / "sps.json").write_text("{}")
    environment = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(directory / "config")}
    with (directory / "log" / "php.log").open("wb") as php_log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            ["php", "-d", f"session.save_path={directory / 'sessions'}", "-d", "display_errors=stderr",
             "-S", f"localhost:{port}", "-t", str(SIMPLESAMLPHP / "www")],
            env=environment, stdout=php_log, stderr=subprocess.STDOUT,
        )
    idp = Idp(directory, base, process, certificate)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if "EntityDescriptor" in httpx.get(idp.metadata_url, timeout=2).text:
                return idp
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            idp.stop()
            raise RuntimeError(f"SimpleSAMLphp did not start:\n{(directory / 'log' / 'php.log').read_text()[-3000:]}")
        time.sleep(0.1)
