"""The words of the pages the server renders (the public directory, a mentor's page, a booking page, their error
page, an email's unsubscribe page), declared once with their keys (``workflows.language``) and written in the
reader's language by ``say`` in the templates; what people wrote (names, titles, headlines) are words of them, never
translated, and escaped once, by the template.

A visitor's language is the one their browser asks for first (``Accept-Language``), or the one they chose on the
page (``?lang=``, its switcher); the unsubscribe page speaks the language of the person the email was sent to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from workflows import language, wording
from workflows.language import Text, text

SITE = text("page.site", "Mentorship")
TITLED = text("page.titled", "{title} · Mentorship")
SKIP = text("page.skip", "Skip to content")
MAIN_NAV = text("page.nav", "Main")
MENTORS = text("page.mentors", "Mentors")
SIGN_IN = text("page.sign_in", "Sign in")
SIGN_UP = text("page.sign_up", "Sign up")
API_DOCS = text("page.api_docs", "API documentation")
LANGUAGE = text("page.language", "Language")

FIND = text("directory.title", "Find a mentor")
FIND_DESCRIPTION = text("directory.description", "Mentors who take bookings: see their free times and book one.")
SEARCH_LABEL = text("directory.search_label", "Skill, name or headline")
SEARCH = text("directory.search", "Search")
NO_MATCH = text("directory.no_match", "No mentor matches these words.")
NONE_PUBLIC = text("directory.none_public", "No mentor has a public page yet.")
MORE = text("directory.more", "More mentors")
PRIVATE_ONES = text("directory.private_ones", "Mentors who keep their pages private are found once you sign in.")

REVIEWS = text("mentor.reviews", "★ {rating} ({count} review)", plural="★ {rating} ({count} reviews)")
BOOK_A_TIME = text("mentor.book_a_time", "Book a time")
NO_BOOKINGS = text("mentor.no_bookings", "{name} takes no bookings at the moment.")
MINUTES = text("listing.minutes", "{minutes} min")
GROUP_OF = text("listing.group_of", "group of up to {capacity}")
AT_ONCE = text("listing.at_once", "confirmed at once")
FREE = text("listing.free", "Free")
WITH = text("listing.with", "{listing} with {name}")

SESSIONS_FROM = text("booking.sessions_from", "Sessions from {week}")
FREE_TIMES_FROM = text("booking.free_times_from", "Free times from {week}")
TIMES_IN = text("booking.times_in", "Times in {zone}.")
UNKNOWN_ZONE = text("booking.unknown_zone", "Times in {zone} (your browser's timezone is not one we know).")
CHOOSE_TO_BOOK = text("booking.choose_to_book", (
    "Choose one: you sign in or create an account (a minute), then come straight back to it to book it."))
CHOOSE_TO_REQUEST = text("booking.choose_to_request", (
    "Choose one: you sign in or create an account (a minute), then come straight back to it to request it."))
WEEKS = text("booking.weeks", "Weeks")
PREVIOUS_WEEK = text("booking.previous_week", "Previous week")
NEXT_WEEK = text("booking.next_week", "Next week")
SEATS_LEFT = text("booking.seats_left", "{count} seat left", plural="{count} seats left")
NO_TIME = text("booking.no_time", "No free time this week.")
SEE_NEXT_WEEK = text("booking.see_next_week", "See the next week")

NOT_FOUND = text("error.not_found", "Not found")
CANNOT_SHOW = text("error.cannot_show", "Cannot show this page")
NO_PAGE = text("error.no_page", (
    "There is no public page at this address: the link may be mistyped, or its mentor made their pages private."))
BROWSE = text("error.browse", "Browse the mentors")

EMAIL_PREFERENCES = text("unsubscribe.title", "Email preferences")
CANNOT_USE = text("unsubscribe.cannot_use", "Cannot use this link")
NOT_VALID = text("unsubscribe.not_valid", "This link is not valid or has expired.")
CHOOSE_IN_SETTINGS = text("unsubscribe.choose_in_settings", "Choose how you are told in your settings.")
STOPPED = text("unsubscribe.stopped", "Emails stopped")
NO_LONGER = text("unsubscribe.no_longer", "You will no longer get emails about {kinds}. You still see them in the app.")
CHANGE_IN_SETTINGS = text("unsubscribe.change_in_settings", "Change it in your settings.")
STOP_THESE = text("unsubscribe.stop_these", "Stop these emails?")
YOU_GET = text("unsubscribe.you_get", "You get emails about {kinds}. You will still see them in the app.")
STOP_BUTTON = text("unsubscribe.stop_button", "Stop emails about {kinds}")
OR_DIGEST = text("unsubscribe.or_digest", "Or choose a daily or weekly digest in your settings.")


@dataclass(frozen=True)
class Reader:
    """Who reads a page: the language of its words and the locale of its formats (a ``pt-BR`` browser reads English
    words with Brazilian dates)."""

    language: str
    locale: str

    @property
    def direction(self) -> str:
        return language.direction(self.language)

    def say(self, said: Text, **words: Any) -> str:
        return wording.render(said, words, None, self.locale if language.language_of(self.locale) == self.language
                              else self.language)


def reader_of(accept_language: str | None, chosen: str | None, account_locale: str | None = None) -> Reader:
    """A page's reader: the language chosen on the page, else the account's (an email's page), else the one the
    browser asks for first; formats by the browser's locale when it is of that language."""
    tag = language.preferred_tag(accept_language)
    if chosen in language.LANGUAGES:
        return Reader(chosen, tag if language.language_of(tag) == chosen and tag else chosen)
    if account_locale:
        return Reader(language.language_of(account_locale), account_locale)
    return Reader(language.language_of(tag), tag or language.SOURCE)


def switcher(args: Mapping[str, str], current: str) -> list[dict[str, Any]]:
    """The page's language switcher: each shipped language in its own name, a link to this page in it."""
    kept = {name: value for name, value in args.items() if name != "lang"}
    return [{"code": code, "name": language.NAMES[code], "current": code == current,
             "href": "?" + urlencode({**kept, "lang": code})} for code in language.LANGUAGES]


def context(reader: Reader, args: Mapping[str, str]) -> dict[str, Any]:
    """What every page's template reads: ``say`` (the reader's words), ``W`` (this module's texts), the switcher."""
    say: Callable[..., str] = reader.say
    return {"say": say, "W": _Texts(), "reader": reader, "languages": switcher(args, reader.language)}


class _Texts:
    """This module's texts by name, for the templates (``W.BOOK_A_TIME``)."""

    def __getattr__(self, name: str) -> Text:
        found = globals().get(name)
        if not isinstance(found, Text):
            raise AttributeError(name)
        return found
