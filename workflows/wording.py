"""Times as a person reads them: in their own timezone, written the way their locale writes dates (Babel, CLDR).

"Tue 25 Nov, 10:00" in en-GB, "Tue, Nov 25, 10:00 AM" in en-US, "Di., 25. Nov., 10:00" in de-DE. A person
with no timezone reads the fallback's (the mentor's, for a session), else UTC; the zone is named then,
since the reader did not choose it.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time

DEFAULT_LOCALE = "en-GB"


def locale_of(tag: str | None) -> Locale:
    """The Babel locale of a BCP 47 tag (``pt-BR``); English (GB) for none or one Babel does not know."""
    for candidate in (tag, DEFAULT_LOCALE):
        if candidate:
            try:
                return Locale.parse(candidate, sep="-")
            except (ValueError, UnknownLocaleError):
                continue
    raise AssertionError("the default locale is known")  # pragma: no cover - Babel ships en-GB


def zone_of(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(start: datetime, timezone: str | None, locale: str | None, *, fallback_timezone: str | None = None) -> str:
    """``start`` for a reader with this timezone and locale: "Tue 25 Nov, 10:00" (their own zone, unnamed),
    or "Tue 25 Nov, 10:00 (Europe/Paris)" / "… (UTC)" when the zone is not theirs."""
    own = zone_of(timezone)
    zone: tzinfo = own or zone_of(fallback_timezone) or UTC
    language = locale_of(locale)
    day = format_skeleton("MMMEd", start, tzinfo=zone, locale=language)
    text = f"{day}, {format_time(start, 'short', tzinfo=zone, locale=language)}"
    return text if own is not None else f"{text} ({getattr(zone, 'key', 'UTC')})"
