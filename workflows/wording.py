"""Times as a person reads them: in their own timezone, written the way their locale writes dates (Babel, CLDR).

"Tue 25 Nov, 10:00 (Europe/Paris)" in en-GB, "Tue, Nov 25, 10:00 AM (America/New_York)" in en-US,
"Di., 25. Nov., 10:00 (Europe/Berlin)" in de-DE: the zone always named, so a message forwarded, read while
travelling or read by someone who never chose a zone says which clock it means. A person with no timezone reads
the fallback's (the mentor's, for a session), else UTC.

A message is a template and its words (``render``), kept apart until someone reads it: its times are typed words
(``at``, ``times``, ``day``), written for each reader in the zone and locale they have when they read it, and a part
of it may be a template of its own (``phrase``). Only the service's own templates are rendered; what people wrote (a
name, a reason) is a word, never a template.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time

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
    """``start`` for a reader with this timezone and locale, always naming the zone: "Tue 25 Nov, 10:00
    (Europe/Paris)"; a reader with none reads the fallback's zone, else UTC ("… (UTC)")."""
    zone: tzinfo = zone_of(timezone) or zone_of(fallback_timezone) or UTC
    language = locale_of(locale)
    day = format_skeleton("MMMEd", start, tzinfo=zone, locale=language)
    return f"{day}, {format_time(start, 'short', tzinfo=zone, locale=language)} ({getattr(zone, 'key', 'UTC')})"


def at(moment: datetime, zone: str | None = None) -> dict[str, Any]:
    """A time as a word of a message; ``zone`` is the one read by a reader who has none (the mentor's)."""
    return {"at": moment.isoformat(), "zone": zone}


def day(value: date) -> dict[str, Any]:
    """A day (no time, no zone) as a word of a message, written as the reader's locale writes dates."""
    return {"day": value.isoformat()}


def times(moments: Iterable[datetime], zone: str | None = None) -> dict[str, Any]:
    """Times as one word of a message, written one after another (``; ``)."""
    return {"times": [moment.isoformat() for moment in moments], "zone": zone}


def phrase(template: str, **words: Any) -> dict[str, Any]:
    """A part of a message that is a template of its own, with its words."""
    return {"phrase": template, "words": words}


class _Words(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return ""  # a word a message was written without reads as nothing


def render(template: str, words: Mapping[str, Any], timezone: str | None, locale: str | None) -> str:
    """The message for a reader with this timezone and locale; a template without words is its own text."""
    if not words:
        return template
    return template.format_map(_Words({name: _word(value, timezone, locale) for name, value in words.items()}))


def _word(value: Any, timezone: str | None, locale: str | None) -> str:
    if isinstance(value, dict):
        if "at" in value:
            return when(datetime.fromisoformat(value["at"]), timezone, locale, fallback_timezone=value.get("zone"))
        if "day" in value:
            return format_date(date.fromisoformat(value["day"]), "long", locale=locale_of(locale))
        if "times" in value:
            return "; ".join(when(datetime.fromisoformat(one), timezone, locale, fallback_timezone=value.get("zone"))
                             for one in value["times"])
        if "phrase" in value:
            return render(value["phrase"], value["words"], timezone, locale)
    return "" if value is None else str(value)


_DIRECTION_MARKS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_direction_marks(text: str) -> str:
    """The words without the direction overrides, embeddings and isolates that would turn the text around them."""
    return _DIRECTION_MARKS.sub("", text)


def one_line(text: str) -> bool:
    """Whether a name people read inside others' mails and pages is one line: no control character and no line or
    paragraph separator (U+2028, U+2029), any of which would forge lines there."""
    return not any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text)
