"""Times as a person reads them: in their own timezone, written the way their locale writes dates (Babel, CLDR).

"Tue 25 Nov, 10:00 (Europe/Paris)" in en-GB, "Tue, Nov 25, 10:00 AM (America/New_York)" in en-US,
"Di., 25. Nov., 10:00 (Europe/Berlin)" in de-DE: the zone always named, so a message forwarded, read while
travelling or read by someone who never chose a zone says which clock it means. A person with no timezone reads
the fallback's (the mentor's, for a session), else UTC.

A message is a template and its words (``render``), kept apart until someone reads it: the template is a declared
text (``workflows.language``), read in the reader's language; its times are typed words (``at``, ``times``, ``day``),
written for each reader in the zone and locale they have when they read it; a part of it may be a text of its own
(``phrase``), a list of them (``each``) or quoted words (``quoted``, in the reader's language's quotation marks).
Only the service's own templates are rendered; what people wrote (a name, a reason) is a word, never a template, and
never translated.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal
from babel.units import format_unit

from infra.config import get_settings
from workflows.language import PSEUDO, PSEUDO_FORMATS, Text, find, text, words_of

DEFAULT_LOCALE = "en-GB"


def locale_of(tag: str | None) -> Locale:
    """The Babel locale of a BCP 47 tag (``pt-BR``); English (GB) for none or one Babel does not know; the
    pseudo-locale's formats for it."""
    if tag and tag.lower() == PSEUDO.lower():
        tag = PSEUDO_FORMATS
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


@dataclass(frozen=True)
class Notice:
    """A notification's words: its key (what is stored), a title and a body (declared texts of its words)."""

    key: str
    title: Text
    body: Text


def notice(key: str, title: str, body: str, *, plural: str | None = None, count: str = "count") -> Notice:
    """Declare a notification's title and body (``{key}.title``, ``{key}.body``; the body may have a plural)."""
    return Notice(key, text(f"{key}.title", title), text(f"{key}.body", body, plural=plural, count=count))


def notice_of(key: str) -> Notice | None:
    """The words of a stored notification's key; ``None`` for one no longer declared."""
    title, body = find(f"{key}.title"), find(f"{key}.body")
    return Notice(key, title, body) if title is not None and body is not None else None


def phrase(said: Text, **words: Any) -> dict[str, Any]:
    """A part of a message that is a text of its own, with its words."""
    return {"phrase": said.key, "words": words}


def each(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Parts of a message written one a line, each after a dash."""
    return {"each": list(parts)}


def money(cents: int, currency: str) -> dict[str, Any]:
    """An amount of money, written as the reader's locale writes it in its currency."""
    return {"cents": cents, "currency": currency}


def duration(count: int, unit: str) -> dict[str, Any]:
    """A length of time in one unit (``hour``, ``minute``, ``second``), as the reader's language writes it."""
    return {"count": count, "unit": unit}


def span(length: timedelta) -> dict[str, Any]:
    """A length of time in its largest whole unit: "2 days", "1 hour", "90 minutes", in the reader's language."""
    minutes = int(length.total_seconds() // 60)
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes and minutes % size == 0:
            return duration(minutes // size, unit)
    return duration(minutes, "minute")


def quoted(words: str) -> dict[str, Any]:
    """What people wrote (a listing's title, a programme's name), in the reader's language's quotation marks."""
    return {"quoted": words}


QUOTED = text("wording.quoted", "\u201c{words}\u201d")


class _Words(dict[str, str]):
    def __missing__(self, name: str) -> str:
        # Tests render strictly: a template naming a word it was given no value for fails there; a reader is shown
        # the rest of the message.
        if get_settings().app_env == "test":
            raise KeyError(f"a template names {{{name}}}, which its words lack")
        return ""


def render(template: Text | str, words: Mapping[str, Any], timezone: str | None, locale: str | None) -> str:
    """The message for a reader with this timezone and locale: a declared text in their language; a template of
    another time (a stored notification from before texts had keys) as it was written. A template without words
    is its own text."""
    if isinstance(template, Text):
        count = words.get(template.count) if template.plural is not None else None
        template = words_of(template, locale, count if isinstance(count, int) else None)
    if not words:
        return template
    return template.format_map(_Words({name: _word(value, timezone, locale) for name, value in words.items()}))


def say(said: Text, locale: str | None, timezone: str | None = None, **words: Any) -> str:
    """A declared text with its words, for a reader of this locale (and zone, when it names a time)."""
    return render(said, words, timezone, locale)


def _word(value: Any, timezone: str | None, locale: str | None) -> str:
    if isinstance(value, dict):
        for kind, written in _TYPED.items():
            if kind in value:
                return written(value, timezone, locale)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=locale_of(locale))
    return "" if value is None else str(value)


def _times(value: dict[str, Any], timezone: str | None, locale: str | None) -> str:
    return "; ".join(when(datetime.fromisoformat(one), timezone, locale, fallback_timezone=value.get("zone"))
                     for one in value["times"])


def _phrase(value: dict[str, Any], timezone: str | None, locale: str | None) -> str:
    said = find(value["phrase"])  # a phrase stored before texts had keys is its English template
    return render(said or value["phrase"], value["words"], timezone, locale)


def _money(value: dict[str, Any], _timezone: str | None, locale: str | None) -> str:
    amount = value["cents"] / 100
    if not value["currency"]:
        return format_decimal(amount, format="#,##0.00", locale=locale_of(locale))
    return format_currency(amount, value["currency"], locale=locale_of(locale))


# Each typed word, by the key that marks it, and how it is written for a reader.
_TYPED: dict[str, Callable[[dict[str, Any], str | None, str | None], str]] = {
    "at": lambda value, timezone, locale: when(datetime.fromisoformat(value["at"]), timezone, locale,
                                                fallback_timezone=value.get("zone")),
    "day": lambda value, _timezone, locale: format_date(date.fromisoformat(value["day"]), "long",
                                                         locale=locale_of(locale)),
    "times": _times,
    "phrase": _phrase,
    "each": lambda value, timezone, locale: "".join(f"\n- {_word(one, timezone, locale)}" for one in value["each"]),
    "unit": lambda value, _timezone, locale: _length_of_time(value["count"], value["unit"], locale_of(locale)),
    "cents": _money,
    "quoted": lambda value, timezone, locale: render(QUOTED, {"words": value["quoted"]}, timezone, locale),
}


def _length_of_time(count: int, unit: str, locale: Locale) -> str:
    """"50 minutes" in the reader's language: the long form, else the short one where the locale's data has no long
    pattern (Babel writes Japanese's long form as "50 duration-minute")."""
    for length in ("long", "short"):
        written = format_unit(count, f"duration-{unit}", length=length, locale=locale)
        if "duration-" not in written:
            return written
    return format_decimal(count, locale=locale) + " " + unit


_DIRECTION_MARKS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_direction_marks(text: str) -> str:
    """The words without the direction overrides, embeddings and isolates that would turn the text around them."""
    return _DIRECTION_MARKS.sub("", text)


def one_line(text: str) -> bool:
    """Whether a name people read inside others' mails and pages is one line: no control character and no line or
    paragraph separator (U+2028, U+2029), any of which would forge lines there."""
    return not any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text)
