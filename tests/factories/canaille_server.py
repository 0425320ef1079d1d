"""``canaille run``, Canaille's own command, with one change: every JWT access token it signs has a ``jti``.

Canaille 0.3.6 makes an access token of the user's claims and times in whole seconds only, and keeps access
tokens unique in its database: a second token for the same user, client and scopes within the same second
fails at the token endpoint with a 500 (``UNIQUE constraint failed: token.access_token``). Two sign-ins of
one user in a row, as tests make them, meet it. A random ``jti`` makes each token its own; ID tokens are
not touched. Run by path, without its folder on ``sys.path`` (``-P``: ``numbers.py`` here is not the standard
library's), in the server's single process (``--workers 0``):
``python -P canaille_server.py run --bind 127.0.0.1:PORT --workers 0``.
"""

from __future__ import annotations

import secrets
import sys
from typing import Any, cast

from canaille.commands import cli
from canaille.oidc import provider

_generate_access_token_jwt = provider.generate_id_token  # the name Canaille's access tokens are signed with


def _with_jti(token: dict[str, Any], user_info: dict[str, Any], *args: Any, **kwargs: Any) -> str:
    claims = {**user_info, "jti": secrets.token_urlsafe(16)}
    return cast(str, _generate_access_token_jwt(token, claims, *args, **kwargs))


if __name__ == "__main__":
    provider.generate_id_token = _with_jti
    sys.exit(cli())
