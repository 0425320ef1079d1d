"""The credentials the service keeps (a mentor's calendar account, an organisation's client secret at its sign-on
provider), sealed: one Fernet token each, under ``CREDENTIALS_KEYS``. The first key seals, every key opens; a rotation
puts a new key first, seals everything again with :func:`reseal` (``flask ops reseal-credentials``), then drops the
old key. A sealed value is never shown nor logged."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from infra.config import Settings


class Unreadable(Exception):
    """No key configured opens the token: it was sealed under a key since dropped."""


def _box(settings: Settings) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.credentials_keys])


def seal(settings: Settings, value: Any) -> str:
    """``value`` (anything JSON holds) sealed under the first key."""
    return _box(settings).encrypt(json.dumps(value).encode()).decode()


def unseal(settings: Settings, token: str) -> Any:
    """What ``token`` seals; :class:`Unreadable` when none of the keys opens it."""
    try:
        return json.loads(_box(settings).decrypt(token.encode()))
    except InvalidToken:
        raise Unreadable("the stored credentials cannot be read with the keys configured") from None


def reseal(settings: Settings, token: str) -> str:
    """``token`` sealed again under the first key (a key rotation's middle step)."""
    return _box(settings).rotate(token.encode()).decode()
