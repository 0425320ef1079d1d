"""Languages (``workflows/language.py``, ``workflows/locales``): every text is declared once with a key, every shipped
catalogue translates all of them with the same named words, and each person reads what is addressed to them in their
own language: two people of one session each in theirs, a reminder in Spanish, a digest in Arabic."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import DigestPeriod, EmailChoice, Listing, Notification, OutboxEvent, Telling
from tests.factories.accounts import actor_of
from tests.factories.sessions import make_session
from tests.mail import Mailbox
from workflows import language, wording
from workflows.events import EventType
from workflows.inbox import shown
from workflows.notifications import digests, mail, messages, preferences, texts
from workflows.roles import Role
from workflows.sessions import lifecycle as sessions
from workflows.sessions import reminders

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"\{(\w+)\}")
SHIPPED = [code for code in language.LANGUAGES if code != language.SOURCE]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_the_template_is_what_the_code_declares() -> None:
    """``make messages`` was run after the last change of a text (a fresh process reads the declarations)."""
    checked = _run("-m", "devstack.messages", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_module_that_declares_texts_is_listed_for_reading_stored_keys() -> None:
    """A process reading a stored key imports the declaring modules it has not imported yet: every one of them."""
    found = _run("-c", (
        "import importlib, pkgutil, workflows\n"
        "from workflows import language\n"
        "listed = set(language.declared())\n"
        "for one in pkgutil.walk_packages(workflows.__path__, 'workflows.'):\n"
        "    importlib.import_module(one.name)\n"
        "print(sorted(set(language._DECLARED) - listed))\n"))
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]", "add their modules to workflows.language.DECLARING"


@pytest.fixture(scope="module")
def declared() -> dict[str, language.Text]:
    """The service's texts, as a fresh process declares them (this one also holds the texts tests declare)."""
    listed = _run("-c", "import json; from workflows import language; print(json.dumps("
                        "{key: [said.english, said.plural, said.count] for key, said in language.declared().items()}))")
    assert listed.returncode == 0, listed.stderr
    return {key: language.Text(key, english, plural, count)
            for key, (english, plural, count) in json.loads(listed.stdout).items()}


@pytest.mark.parametrize("code", SHIPPED)
def test_a_shipped_catalogue_translates_every_text_with_the_same_words(code: str,
                                                                       declared: dict[str, language.Text]) -> None:
    with (language.CATALOGUES / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=code)
    problems: list[str] = []
    entries = [one for one in catalogue if one.id]
    assert {one.context for one in entries if one.context != language.REFUSAL} == set(declared)
    refusals = [one for one in entries if one.context == language.REFUSAL]
    assert len(refusals) > 300  # a refusal's words are held by their English (``devstack.messages.refusals``)
    for one in entries:
        said = declared[str(one.context)] if one.context != language.REFUSAL else language.Text(one.context, one.id)
        strings = one.string if isinstance(one.string, tuple) else (one.string,)
        if one.fuzzy or not all(strings):
            problems.append(f"{one.context}: {'fuzzy' if one.fuzzy else 'untranslated'}")
            continue
        if said.plural is not None and len(strings) != catalogue.num_plurals:
            problems.append(f"{one.context}: {len(strings)} plural forms of {catalogue.num_plurals}")
        used = [set(NAMED.findall(string)) for string in strings]
        if set().union(*used) != said.placeholders() or any(not names <= said.placeholders() for names in used):
            problems.append(f"{one.context}: names {sorted(set().union(*used))}, not {sorted(said.placeholders())}")
        english = said.english
        if any(string.startswith("\n") != english.startswith("\n") for string in strings):
            problems.append(f"{one.context}: its first line differs")
    assert not problems, "\n".join(problems)


def test_a_word_a_template_names_and_lacks_fails_here_not_in_front_of_a_reader() -> None:
    lacking = language.Text("test.lacking", "Hello {name}, see you {when}")
    with pytest.raises(KeyError, match="when"):
        wording.render(lacking, {"name": "Ada"}, None, "en")


def test_a_locale_reads_its_language_and_a_browser_is_answered_in_the_first_it_ships() -> None:
    assert [language.language_of(tag) for tag in ("fr-CA", "es", "es-419", "ar-EG", "pt-BR", None, "x-bad!")] == [
        "fr", "es", "es", "ar", "en", "en", "en"]
    assert language.negotiate("pt-BR, es;q=0.8, fr;q=0.9") == "fr"
    assert language.negotiate("en-US,en;q=0.9,es;q=0.8") == "en"
    assert language.negotiate("q=;;,,") == "en"
    assert language.direction("ar-SA") == "rtl" and language.direction("fr") == "ltr"


def _translated(code: str, said: language.Text) -> str:
    english = said.english
    translated = language.catalogue(code).pgettext(said.key, english)
    assert translated != english, f"{said.key} is not translated into {code}"
    return translated


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _text(message: Message) -> str:
    """The words of an email (its text part, beside any calendar file)."""
    (part,) = [one for one in message.walk() if one.get_content_type() == "text/plain"]
    return part.get_payload(decode=True).decode().replace("\r\n", "\n")  # type: ignore[union-attr]


def test_a_french_mentee_and_a_german_mentor_of_one_session_each_read_its_cancellation_in_their_language(
        db: Session, mailbox: Mailbox) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    mentor, mentee, session = make_session(db, start)
    mentor.user.locale, mentor.user.timezone = "de-DE", "Europe/Berlin"
    mentee.user.locale, mentee.user.timezone = "fr-CA", "America/Montreal"
    for one in (mentor.user, mentee.user):
        one.email_verified_at = datetime.now(UTC)
    db.flush()
    db.get_one(Listing, session.listing_id).title = "Code {review} <b>"  # what people write stays theirs
    db.flush()
    sessions.cancel_session(db, actor_of(mentor.user), session.id, reason="Grippe")
    cancelled = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                     OutboxEvent.type == EventType.SESSION_CANCELLED)).one()
    messages.handle_events(db, [cancelled])
    told = db.scalars(select(Notification).where(Notification.event_id == cancelled.id)).all()
    assert {one.message for one in told} == {"session.cancelled"} and all(one.title is None for one in told)
    for one in told:
        assert mail.deliver_email(db, one.id)

    said = texts.MESSAGES[EventType.SESSION_CANCELLED][Role.MENTOR]
    for reader, code, zone in ((mentee.user, "fr", "America/Montreal"), (mentor.user, "de", "Europe/Berlin")):
        (email,) = mailbox.inbox.to(reader.email)
        assert _subject(email) == _translated(code, said.title)
        body = _text(email)
        # The time in the reader's zone, written as their locale writes it; the listing's title as its mentor wrote
        # it, once, in the reader's quotation marks.
        assert wording.when(start, zone, reader.locale) in body
        assert body.count("Code {review} <b>") == 1
        quote = _translated(code, wording.QUOTED).split("{words}")
        assert f"{quote[0]}Code {{review}} <b>{quote[1]}" in body
        # The email's own lines too: where to open it, and where to choose how one is told.
        assert _translated(code, mail.CHOOSE).split("{link}")[0] in body
        assert "Choose how you are told" not in body and "Open it" not in body


@pytest.mark.parametrize(("locale", "zone", "minutes"), [("es-ES", "Europe/Madrid", r"\b\d+ minutos\b"),
                                                        ("ja-JP", "Asia/Tokyo", r"\d+ 分")])
def test_a_reminder_reads_in_the_readers_language(db: Session, locale: str, zone: str, minutes: str) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=50)
    _mentor, mentee, session = make_session(db, start)
    mentee.user.locale, mentee.user.timezone = locale, zone
    db.flush()
    assert reminders.send_due_reminders(db, now=datetime.now(UTC)) >= 1
    reminder = db.scalars(select(Notification).where(Notification.user_id == mentee.user.id,
                                                     Notification.type == EventType.SESSION_REMINDER)).one()
    (read,) = shown(db, [reminder])
    title = db.get_one(Notification, reminder.id).words["title"]
    assert read.title == _translated(locale[:2], reminders.REMINDER.title).format(title=title)
    assert wording.when(session.start_time, zone, locale) in read.body
    assert re.search(minutes, read.body), read.body  # "in 50 minutes", as the language writes it
    assert "duration" not in read.body and "minutes" not in read.body


def test_a_digest_reads_in_arabic(db: Session, mailbox: Mailbox) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    mentor, _mentee, session = make_session(db, start)
    reader = mentor.user
    reader.locale, reader.email_verified_at = "ar-EG", datetime.now(UTC)
    preferences.choose(db, reader.id, {Telling.BOOKINGS: EmailChoice.DAILY})
    sessions.cancel_session(db, actor_of(reader), session.id, reason="")
    cancelled = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                     OutboxEvent.type == EventType.SESSION_CANCELLED)).one()
    messages.handle_events(db, [cancelled])
    for one in db.scalars(select(Notification.id).where(Notification.user_id == reader.id)):
        mail.deliver_email(db, one)
    assert digests.send(db, reader.id, DigestPeriod.DAILY) is True
    (email,) = mailbox.inbox.to(reader.email)
    subject = language.catalogue("ar").npgettext(digests.SUBJECTS[DigestPeriod.DAILY].key,
                                                 digests.SUBJECTS[DigestPeriod.DAILY].english,
                                                 str(digests.SUBJECTS[DigestPeriod.DAILY].plural), 1)
    assert _subject(email) == subject.format(count=format_decimal(1, locale=wording.locale_of("ar-EG")))
    body = _text(email)
    assert _translated("ar", digests.WHAT_HAPPENED) in body
    assert _translated("ar", texts.MESSAGES[EventType.SESSION_CANCELLED][Role.MENTOR].title) in body


def test_a_length_of_time_is_written_in_each_language_even_where_its_long_form_is_missing() -> None:
    """Babel's data has no long pattern for Japanese units ("30 duration-minute"): its short form is used there."""
    length = {"minutes": wording.duration(30, "minute")}
    written = {locale: wording.render("{minutes}", length, None, locale)
               for locale in ("en-GB", "fr", "de", "ja", "ar")}
    assert written["en-GB"] == "30 minutes" and written["fr"] == "30 minutes" and written["de"] == "30 Minuten"
    assert written["ja"] == "30 分"
    assert not [text for text in written.values() if "duration" in text], written


def test_the_kinds_of_news_are_named_in_the_readers_language(db: Session) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    _mentor, mentee, _session = make_session(db, start)
    mentee.user.locale = "fr-BE"
    db.flush()
    named = {one.kind: one.described for one in preferences.listed(db, mentee.user.id)}
    french = _translated("fr", preferences.DESCRIBED[Telling.BOOKINGS])
    assert named[Telling.BOOKINGS] == french != "Bookings and sessions"
    mentee.user.locale = None
    db.flush()
    english = {said.english for said in preferences.DESCRIBED.values()}
    assert preferences.listed(db, mentee.user.id)[0].described in english
