"""A real OpenID provider for the sign-in tests: Canaille, in its own process on a free port of 127.0.0.1.

``start_provider(directory)`` writes Canaille's configuration (an RSA signing key made here, a SQLite database,
no CAPTCHA, no mail) into ``directory``, starts ``canaille run`` (through ``canaille_server.py``, which keeps
its access tokens unique) and waits until its discovery document answers.
Users, groups and clients are made with Canaille's own command line, as an administrator would (in one process
kept beside the server, ``canaille_commands.py``); ``log_in``
does at Canaille's pages what a browser does and hands back the redirect to the client, not followed.

Canaille's ways, which the tests meet:

- ``sub`` is the login, and the ID token has ``name`` (the formatted name), ``given_name``, ``family_name``,
  ``email`` (the first address) and, with the scope ``groups``, ``groups`` (the groups' names); never
  ``email_verified``.
- A client with a ``client_uri`` on a trusted domain (here 127.0.0.1 and localhost) skips the consent page;
  ``add_client(..., trusted=False)`` makes one that shows it, for ``deny``.
- PKCE and a nonce are required on every authorization.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import httpx
from joserfc.jwk import KeySetSerialization, RSAKey

from devstack.host import free_port

# ``canaille run`` with unique access tokens (see that module).
SERVER = Path(__file__).with_name("canaille_server.py")
# Canaille's command line, one command per line read (see that module).
COMMANDS = Path(__file__).with_name("canaille_commands.py")
START_SECONDS = 30.0
COMMAND_SECONDS = 60.0
TRUSTED_HOSTS = ("127.0.0.1", "localhost")
# What Canaille's commands may read from this process's environment: nothing that names its settings.
_PASSED_ENVIRONMENT = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SYSTEMROOT")


class ProviderError(RuntimeError):
    """Canaille did not start, refused a command, or did not end a sign-in at the client."""


@dataclass
class _Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    inputs: set[str] = field(default_factory=set)
    answers: set[str] = field(default_factory=set)


class _Page(HTMLParser):
    """The forms of a page (their hidden and prefilled fields) and its alert messages."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.alerts: list[str] = []
        self._in_alert = False
        self._in_form = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(action=attributes.get("action", "")))
            self._in_form = True
        elif attributes.get("role") == "alert":
            self._in_alert = True
            self.alerts.append("")
        elif self._in_form and tag in {"input", "button"} and (name := attributes.get("name")):
            form = self.forms[-1]
            kind = attributes.get("type", "text" if tag == "input" else "submit")
            if kind == "submit":
                form.answers.add(attributes.get("value", ""))
            elif kind not in {"checkbox", "radio"} or "checked" in attributes:
                form.inputs.add(name)
                form.fields[name] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_alert = False
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if self._in_alert:
            self.alerts[-1] = " ".join((self.alerts[-1] + " " + data).split())


def _toml(value: object) -> str:
    """One TOML value (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def _configuration(directory: Path, port: int) -> str:
    # RS256 named on the key: without an ``alg`` Canaille signs with the strongest its key allows (RS512).
    signing_key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, private=True, auto_kid=True)
    tables: dict[str, dict[str, object]] = {
        "": {"SECRET_KEY": secrets.token_hex(32), "SERVER_NAME": f"127.0.0.1:{port}", "PREFERRED_URL_SCHEME": "http"},
        "CANAILLE": {
            "NAME": "Test provider", "CAPTCHA_ENABLED": False, "HIDE_INVALID_LOGINS": False,
            "ENABLE_PASSWORD_RECOVERY": False, "JAVASCRIPT": False, "HTMX": False,
        },
        "CANAILLE_SQL": {"DATABASE_URI": f"sqlite:///{directory / 'canaille.sqlite'}"},
        "CANAILLE_OIDC": {
            "ACTIVE_JWKS": [dict(signing_key.as_dict(private=True))], "TRUSTED_DOMAINS": list(TRUSTED_HOSTS),
        },
        "CANAILLE_SCIM": {"ENABLE_SERVER": False},
    }
    lines = []
    for table, settings in tables.items():
        lines.extend([f"[{table}]"] if table else [])
        lines.extend(f"{key} = {_toml(value)}" for key, value in settings.items())
    return "\n".join(lines) + "\n"


@dataclass
class Provider:
    """A running Canaille: its issuer, discovery document, and the means to set it up and sign in at it."""

    directory: Path
    issuer: str
    process: subprocess.Popen[bytes]
    discovery: dict[str, Any] = field(default_factory=dict)
    _groups: set[str] = field(default_factory=set)
    _commands: subprocess.Popen[str] | None = None
    _commands_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def end_session_endpoint(self) -> str:
        return cast(str, self.discovery["end_session_endpoint"])

    @property
    def log_path(self) -> Path:
        return self.directory / "canaille.log"

    def jwks(self) -> KeySetSerialization:
        """The provider's public signing keys, as its ``jwks_uri`` serves them."""
        return cast(KeySetSerialization, httpx.get(self.discovery["jwks_uri"]).raise_for_status().json())

    def canaille(self, *arguments: str) -> Any:
        """Run one ``canaille`` command on this provider's configuration; its JSON answer, if any."""
        with self._commands_lock:
            if self._commands is None or self._commands.poll() is not None:
                self._commands = subprocess.Popen(
                    [sys.executable, "-P", str(COMMANDS)], cwd=self.directory, env=_environment(self.directory),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                )
            assert self._commands.stdin is not None and self._commands.stdout is not None
            self._commands.stdin.write(json.dumps(arguments) + "\n")
            self._commands.stdin.flush()
            line = self._commands.stdout.readline()
        if not line:
            raise ProviderError(f"canaille {' '.join(arguments)}: the command process ended "
                                f"({self._commands.wait(timeout=COMMAND_SECONDS)})")
        completed = json.loads(line)
        if completed["code"] != 0:
            raise ProviderError(f"canaille {' '.join(arguments)} failed ({completed['code']}):\n{completed['stderr']}")
        return json.loads(completed["stdout"]) if completed["stdout"].strip() else None

    def _ensure_groups(self, groups: Sequence[str]) -> None:
        for group in groups:
            if group not in self._groups:
                self.canaille("create", "group", "--display-name", group)
                self._groups.add(group)

    def add_user(
        self, login: str, password: str, email: str, given_name: str, family_name: str, groups: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A user who signs in with ``login`` and ``password``, member of ``groups`` (made when new)."""
        self._ensure_groups(groups)
        return cast(dict[str, Any], self.canaille(
            "create", "user", "--user-name", login, "--password", password, "--emails", email,
            "--given-name", given_name, "--family-name", family_name, "--formatted-name", f"{given_name} {family_name}",
            *(argument for group in groups for argument in ("--groups", group)),
        ))

    def change_user(
        self, login: str, *, email: str | None = None, groups: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Change a user's address or groups (``[]``: none); the next sign-in's claims say so."""
        arguments = ["set", "user", login]
        if email is not None:
            arguments += ["--emails", email]
        if groups is not None:
            self._ensure_groups(groups)
            arguments += [argument for group in groups or [""] for argument in ("--groups", group)]
        return cast(dict[str, Any], self.canaille(*arguments))

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str], post_logout_redirect_uris: list[str],
        *, trusted: bool = True, audience: bool = True,
    ) -> dict[str, Any]:
        """A confidential client (``client_secret_basic``) of the authorization code flow, with refresh tokens,
        the scopes ``openid profile email groups``, and itself as the audience of its tokens.

        A trusted client (``client_uri`` on 127.0.0.1) skips the consent page; an untrusted one shows it.
        """
        listed = [
            ("--redirect-uris", redirect_uris), ("--post-logout-redirect-uris", post_logout_redirect_uris),
            ("--grant-types", ["authorization_code", "refresh_token"]), ("--response-types", ["code"]),
            ("--scope", ["openid", "profile", "email", "groups"]),
        ]
        created = self.canaille(
            "create", "client", "--client-id", client_id, "--client-secret", client_secret,
            "--client-name", client_id, "--token-endpoint-auth-method", "client_secret_basic",
            *(["--client-uri", f"http://{TRUSTED_HOSTS[0]}"] if trusted else []),
            *(argument for option, values in listed for value in values for argument in (option, value)),
        )
        if not audience:  # as an admin who skips the step: its ID tokens name no audience at all
            return cast(dict[str, Any], created)
        # The audience names the client's own record, which exists only now.
        return cast(dict[str, Any], self.canaille("set", "client", client_id, "--audience", client_id))

    def log_in(self, authorize_url: str, login: str, password: str, *, http: httpx.Client | None = None) -> str:
        """Sign in at the provider as a browser does, accepting consent if asked; the redirect to the client.

        With the same ``http`` a second time the provider's session signs the user in: no page is shown.
        """
        return self._authorize(authorize_url, login, password, "accept", http)

    def deny(self, authorize_url: str, login: str, password: str, *, http: httpx.Client | None = None) -> str:
        """Sign in and refuse consent (an untrusted client only); the redirect to the client, with its error."""
        return self._authorize(authorize_url, login, password, "deny", http)

    def _authorize(self, url: str, login: str, password: str, answer: str, http: httpx.Client | None) -> str:
        with _client(http) as browser:
            response = browser.get(url, follow_redirects=False)
            answered = False
            for _ in range(12):
                if not response.is_redirect:
                    action, data = _filled(response, {"login": login, "password": password}, answer)
                    answered = answered or "answer" in data
                    response = browser.post(action, data=data, follow_redirects=False)
                    continue
                target = response.url.join(response.headers["location"])
                if str(target).startswith(self.issuer + "/"):
                    response = browser.get(target, follow_redirects=False)
                elif answer == "deny" and not answered:
                    raise ProviderError(f"no consent page to refuse (a trusted client?): redirected to {target}")
                else:
                    return str(target)
            raise ProviderError(f"no redirect to the client after 12 steps; last at {response.url}")

    def stop(self) -> None:
        """End the provider's processes (and wait for them): never left running."""
        if self._commands is not None and self._commands.poll() is None:
            assert self._commands.stdin is not None
            self._commands.stdin.close()  # its loop ends
            try:
                self._commands.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._commands.kill()
                self._commands.wait(timeout=5)
        if self._commands is not None and self._commands.stdout is not None:
            self._commands.stdout.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _filled(response: httpx.Response, values: dict[str, str], answer: str) -> tuple[httpx.URL, dict[str, str]]:
    """Where to post the page's form, and what: its own fields, ``values`` for the fields it asks, and
    ``answer`` on a consent page."""
    page = _Page(response.text)
    if response.status_code != httpx.codes.OK or not page.forms or page.alerts:
        raise ProviderError(f"{response.url} answered {response.status_code}: {page.alerts or response.text[:2000]}")
    form = next((f for f in page.forms if f.inputs & values.keys() or "accept" in f.answers), page.forms[0])
    data = {**form.fields, **{name: value for name, value in values.items() if name in form.inputs}}
    if "accept" in form.answers:
        data["answer"] = answer
    return response.url.join(form.action), data


@contextmanager
def _client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    """The caller's client, left open, or one of our own for one sign-in."""
    if http is not None:
        yield http
        return
    with httpx.Client(timeout=10) as own:
        yield own


def _environment(directory: Path) -> dict[str, str]:
    passed = {name: os.environ[name] for name in _PASSED_ENVIRONMENT if name in os.environ}
    return {**passed, "CANAILLE_CONFIG": str(directory / "canaille.toml")}


def start_provider(directory: Path) -> Provider:
    """Start Canaille with its configuration and database in ``directory``; back once discovery answers."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (directory / "canaille.toml").write_text(_configuration(directory, port))
    issuer = f"http://127.0.0.1:{port}"
    with (directory / "canaille.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-P", str(SERVER), "run", "--bind", f"127.0.0.1:{port}", "--workers", "0"],
            cwd=directory, env=_environment(directory), stdout=log, stderr=subprocess.STDOUT,
        )
    provider = Provider(directory=directory, issuer=issuer, process=process)
    try:
        provider.discovery = _wait_for_discovery(provider)
    except BaseException:
        provider.stop()
        raise
    return provider


def _wait_for_discovery(provider: Provider) -> dict[str, Any]:
    started = time.monotonic()
    while (returncode := provider.process.poll()) is None and time.monotonic() - started < START_SECONDS:
        try:
            response = httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if response.status_code == httpx.codes.OK:
            return cast(dict[str, Any], response.json())
        time.sleep(0.1)
    state = "still not answering" if returncode is None else f"exited with {returncode}"
    elapsed, log = time.monotonic() - started, provider.log_path.read_text(errors="replace")[-4000:]
    raise ProviderError(f"Canaille did not start at {provider.issuer}: {state} after {elapsed:.1f} s. Its log:\n{log}")
