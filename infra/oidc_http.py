"""Requests to an organisation's OpenID provider: its discovery document, its keys, its token endpoint.

Each goes through the webhooks' SSRF guard (``infra.http_targets``: it connects to the address checked; a provider an
admin placed on a private network is admitted in the ``PRIVATE`` scope) and their deadline client
(``infra.http_client``: the whole exchange ends within ``timeout``); redirects are not followed; an answer longer than
``max_bytes`` (raw or inflated) is refused. The session object Authlib's OAuth 2.0 client posts through is
:class:`ProviderClient` itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from infra import http_bodies, http_client, http_targets


class ProviderFault(Exception):
    """The provider could not be asked: refused by the guard, unreachable, too slow, too large, or not JSON.

    ``str()`` is the detail, for the log and the admin; what a person signing in is told says only that the provider
    could not be reached.
    """


_DROPPED = {"content-encoding", "content-length", "transfer-encoding"}


@dataclass
class ProviderClient:
    scope: http_targets.TargetScope
    timeout: float
    max_bytes: int
    https_only: bool = False

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                content: bytes | None = None) -> httpx.Response:
        """One request, its answer read whole within the bounds; :class:`ProviderFault` if it cannot be."""
        try:
            target = http_targets.pin_target(url, scope=self.scope, https_only=self.https_only)
        except http_targets.TargetRefused as exc:
            raise ProviderFault(f"the address is refused: {exc}") from None
        sent = {**(headers or {}), "Accept-Encoding": http_bodies.ACCEPTED_ENCODINGS, **target.headers}
        client, deadline = http_client.batch_client(self.timeout)
        try:
            deadline.start(self.timeout)
            with client.stream(method, target.url, headers=sent, content=content,
                               extensions=target.extensions) as response:
                body = http_bodies.read_bounded(response, self.max_bytes)
                kept = [(name, value) for name, value in response.headers.items() if name.lower() not in _DROPPED]
                return httpx.Response(response.status_code, headers=kept, content=body,
                                      request=httpx.Request(method, url))
        except http_bodies.BodyRefused as exc:
            raise ProviderFault(str(exc)) from None
        except httpx.TimeoutException:
            raise ProviderFault(f"no complete answer within {self.timeout:g} s") from None
        except (httpx.HTTPError, OSError) as exc:
            raise ProviderFault(f"the provider could not be reached ({type(exc).__name__}: {exc})") from None
        finally:
            client.close()

    def get_json(self, url: str) -> dict[str, Any]:
        """A JSON object the provider serves at ``url`` with 200."""
        response = self.request("GET", url, headers={"Accept": "application/json"})
        if response.status_code != 200:  # noqa: PLR2004
            raise ProviderFault(f"{url} answered HTTP {response.status_code}")
        try:
            document = json.loads(response.content)
        except ValueError:
            raise ProviderFault(f"{url} did not answer JSON") from None
        if not isinstance(document, dict):
            raise ProviderFault(f"{url} did not answer a JSON object")
        return document

    # What Authlib's OAuth2Client calls on its session to reach the token endpoint.
    def post(self, url: str, data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
             auth: Any = None, **_ignored: Any) -> httpx.Response:
        body = urlencode(dict(data or {}))
        sent = dict(headers or {})
        if auth is not None:  # Authlib's ClientAuth: it adds the client's credentials to the request
            url, sent, body = auth.prepare("POST", url, sent, body)
        return self.request("POST", url, headers=sent, content=body.encode())
