"""The languages people read the service in: one gettext catalogue per language (``workflows/locales``), read with
plain Babel, chosen for each reader by their own locale.

A text shown to people is declared once, where it is used, with a stable key and its English words
(``text("session.reminder.title", "Reminder: {title}")``); the catalogues hold it under that key (gettext's
``msgctxt``) with the English as ``msgid``, so a reworded English text keeps its key, and its translations come back
marked fuzzy by ``make messages`` (which a test refuses until a translator looks again). What is stored to be read
later (a notification) keeps the key and its words, never the words of one language.

A catalogue is read the first time a reader of its language is served, once per process (a process that never serves
Japanese never loads it), from the compiled ``.mo`` beside its ``.po`` that ``make messages`` writes (reading the
``.po`` itself would cost a process five times the memory); a ``.mo`` not written yet is compiled in memory.

The pseudo-locale ``en-XA`` (CLDR's name for it) reads every text accented, 40% longer and bracketed
(``[Ŝéśśîöñś ƒöŕ ţöðåý·····]``), its dates and numbers as Japanese writes them: shown anywhere, it tells at a glance
an English word that bypassed the catalogues, and a box too narrow for longer words. No account may choose it; a
browser (a test) asks for it.
"""

from __future__ import annotations

import importlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

# The languages shipped, in the order the switcher offers them; English is the source.
LANGUAGES = ("en", "fr", "de", "es", "ja", "ar")
SOURCE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
# Every language's own name, as its readers write it (the switcher's words: never translated).
NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "ja": "日本語", "ar": "العربية"}
CATALOGUES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# The modules that declare texts (``text``): imported once when a stored key is read in a process that has not
# imported its module yet (a test keeps this list whole).
DECLARING = (
    "workflows.notifications.texts",
    "workflows.notifications.messages",
    "workflows.notifications.mail",
    "workflows.notifications.together",
    "workflows.notifications.digests",
    "workflows.notifications.message_mail",
    "workflows.notifications.preferences",
    "workflows.accounts.emails",
    "workflows.accounts.users",
    "workflows.accounts.second_steps",
    "workflows.sessions.reminders",
    "workflows.programmes.nudges",
    "workflows.mentors.invitations",
    "workflows.sign_on.accounts",
    "workflows.conversations.safety",
    "workflows.conversations.conversations",
    "workflows.conversations.reports",
    "workflows.webhooks.outcomes",
    "workflows.calendars.sync",
    "workflows.calendars.feeds",
    "workflows.programmes.history_lines",
    "workflows.wording",
)
# The modules that declare the words of pages the API renders: in the catalogues, never read for a stored key (a
# worker does not import the API).
PAGES = ("api.webapp.words",)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PSEUDO = "en-XA"
# The pseudo-locale's formats: a language whose dates and numbers hold no English word.
PSEUDO_FORMATS = "ja-JP"
# The pseudo-locale's letters: each ASCII letter an accented one of its own shape.
_ACCENTED = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                          "åƀçðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ")
_NAMED = re.compile(r"(\{\w+\})")


def pseudo(english: str) -> str:
    """A text in the pseudo-locale: its letters accented (never its {named} words), 40% longer (in words of up to six
    dots, as a longer language's words break), in brackets."""
    said = "".join(part if _NAMED.fullmatch(part) else part.translate(_ACCENTED) for part in _NAMED.split(english))
    longer = "·" * max(1, round(len(english) * 0.4))
    return f"[{said}{' '.join(longer[at:at + 6] for at in range(0, len(longer), 6))}]"


class _Pseudo(NullTranslations):
    """The pseudo-locale's catalogue: every text its own English, accented, longer and bracketed."""

    def gettext(self, message: str) -> str:
        return pseudo(message)

    def pgettext(self, context: str, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)


@dataclass(frozen=True)
class Text:
    """Words shown to people: a stable key, the English (a template of named words: ``{name}``) and, for words
    that depend on a number, the English plural and the word that counts."""

    key: str
    english: str
    plural: str | None = None
    count: str = "count"

    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.english)) | set(_PLACEHOLDER.findall(self.plural or ""))


_DECLARED: dict[str, Text] = {}


def text(key: str, english: str, *, plural: str | None = None, count: str = "count") -> Text:
    """Declare the words of ``key`` (once: a second declaration with other words is a mistake)."""
    declared = Text(key, english, plural, count)
    if _DECLARED.setdefault(key, declared) != declared:
        raise ValueError(f"the text {key!r} is declared twice with different words")
    return declared


def declared(modules: tuple[str, ...] = DECLARING + PAGES) -> dict[str, Text]:
    """Every text of the service, by key (its declaring modules imported)."""
    for module in modules:
        importlib.import_module(module)
    return dict(_DECLARED)


def find(key: str) -> Text | None:
    """The text of a stored key; ``None`` for one no longer declared."""
    if key not in _DECLARED:
        declared(DECLARING)
    return _DECLARED.get(key)


def language_of(locale: str | None) -> str:
    """The shipped language of a BCP 47 locale (``fr-CA``: French; ``pt-BR``: English, the source, as for none), or
    the pseudo-locale."""
    if locale and locale.lower() == PSEUDO.lower():
        return PSEUDO
    if locale:
        try:
            language = Locale.parse(locale, sep="-").language
        except (ValueError, UnknownLocaleError):
            return SOURCE
        if language in LANGUAGES:
            return language
    return SOURCE


def negotiate(accept_language: str | None) -> str:
    """The shipped language a browser asks for first (``Accept-Language``, by its q-values); English otherwise."""
    return language_of(preferred_tag(accept_language))


def preferred_tag(accept_language: str | None) -> str | None:
    """The first tag of ``Accept-Language`` (by its q-values) whose language is shipped, as a BCP 47 locale Babel
    knows (``fr-CA``); ``None`` when it asks for none of them."""
    wanted: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "")[:1000].split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            wanted.append((-quality, n, tag))
    for _quality, _n, tag in sorted(wanted):
        if tag.lower() == PSEUDO.lower():
            return PSEUDO
        try:
            parsed = Locale.parse(tag[:35], sep="-")
        except (ValueError, UnknownLocaleError):
            continue
        if parsed.language in LANGUAGES:
            return "-".join(part for part in (parsed.language, parsed.script, parsed.territory) if part)
    return None


def catalogue_path(language: str, suffix: str = ".po") -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compiled(language: str) -> bytes:
    """A language's ``.po`` compiled to a ``.mo``, the same bytes whenever its words are the same."""
    with catalogue_path(language).open("rb") as po:
        read = read_po(po, locale=language, domain=DOMAIN)
    read.creation_date = _NO_DATE
    written = io.BytesIO()
    write_mo(written, read)
    return written.getvalue()


_NO_DATE = datetime(2000, 1, 1, tzinfo=UTC)


@cache
def catalogue(language: str) -> NullTranslations:
    """A language's translations, read once, when first needed; English reads the source."""
    if language == PSEUDO:
        return _Pseudo()
    if language == SOURCE or language not in LANGUAGES or not catalogue_path(language).exists():
        return NullTranslations()
    mo = catalogue_path(language, ".mo")
    return Translations(io.BytesIO(mo.read_bytes() if mo.exists() else compiled(language)), domain=DOMAIN)


def words_of(said: Text, locale: str | None, number: int | None = None) -> str:
    """The template of ``said`` in the reader's language (its plural form for ``number``, when it has one)."""
    translations = catalogue(language_of(locale))
    if said.plural is not None:
        return translations.npgettext(said.key, said.english, said.plural, 1 if number is None else number)
    return translations.pgettext(said.key, said.english)


# The catalogues' context of a refusal's words (``workflows.errors``): their English is the key.
REFUSAL = "error"


@cache
def known_refusals() -> frozenset[str]:
    """The English of every refusal the catalogues' template holds (``make messages`` gathers them)."""
    with (CATALOGUES / f"{DOMAIN}.pot").open("rb") as template:
        return frozenset(message.id for message in read_po(template)
                         if message.context == REFUSAL and isinstance(message.id, str))


def refusal_in(english: str, locale: str | None) -> str:
    """A refusal's template in the reader's language; its English where the catalogue has none."""
    return catalogue(language_of(locale)).pgettext(REFUSAL, english)


def direction(locale: str | None) -> str:
    """``rtl`` for a reader of a right-to-left language, else ``ltr`` (an HTML page's ``dir``)."""
    return "rtl" if language_of(locale) in RIGHT_TO_LEFT else "ltr"

