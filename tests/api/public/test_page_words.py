"""The pages the server renders speak their reader's language (``api/webapp/words.py``): no word of a template
bypasses the catalogue, a visitor reads the language their browser asks for or the one they chose, in its direction,
and an email's unsubscribe page reads in the language of the person it was sent to."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Telling
from tests.factories.accounts import UserFactory
from workflows import language
from workflows.notifications import preferences

TEMPLATES = Path(__file__).resolve().parents[3] / "api" / "webapp" / "templates"
# Jinja's own syntax, the tags and the comments: what is left is what a reader reads, written in the template.
_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<!--.*?-->|<[^>]*>", re.DOTALL)
_READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|alt|placeholder|content)="([^"{]*)"')
_LETTERS = re.compile(r"[^\W\d_]{2,}")


def _bypassing(source: str) -> list[str]:
    """The words of a template a reader reads that are written in it instead of coming from the catalogue."""
    found = [word for word in _LETTERS.findall(_CODE.sub(" ", source)) if word not in {"html"}]
    tags_only = "".join(re.findall(r"<[^>]*>", re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.DOTALL)))
    found += [value for value in _READ_ATTRIBUTES.findall(tags_only)
              if _LETTERS.search(value) and not value.startswith(("width=", "noindex"))]
    return found


def test_no_word_of_a_page_bypasses_the_catalogue() -> None:
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) >= 6
    written = {path.name: _bypassing(path.read_text()) for path in templates}
    assert {name: words for name, words in written.items() if words} == {}
    # The check sees a word written in a template.
    assert _bypassing('<p class="x">{{ say(W.FREE) }} Book now</p><nav aria-label="Weeks">') == ["Book", "now",
                                                                                                  "Weeks"]


def _page(client: FlaskClient, path: str, accept: str | None = None) -> str:
    response = client.get(path, headers={"Accept-Language": accept} if accept else {})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _said(code: str, key: str, english: str) -> str:
    return html.escape(language.catalogue(code).pgettext(key, english), quote=True)


@pytest.mark.parametrize(("accept", "code", "direction"), [
    ("fr-CA,fr;q=0.9,en;q=0.5", "fr", "ltr"), ("ar-EG", "ar", "rtl"), ("es-MX", "es", "ltr"), ("pt-BR", "en", "ltr")])
def test_the_directory_reads_in_the_language_the_browser_asks_for(client: FlaskClient, accept: str, code: str,
                                                                 direction: str) -> None:
    page = _page(client, "/mentors", accept)
    assert f'<html lang="{code}" dir="{direction}">' in page
    assert f"<h1>{_said(code, 'directory.title', 'Find a mentor')}</h1>" in page
    if code != "en":
        assert "Find a mentor" not in page and "Sign in" not in page


def test_a_visitor_chooses_another_language_on_the_page(client: FlaskClient) -> None:
    page = _page(client, "/mentors", "fr-FR")
    # The switcher names each language in its own words and links to this page in it.
    for code, name in language.NAMES.items():
        assert f'hreflang="{code}"' in page and name in page
    chosen = _page(client, "/mentors?lang=es", "fr-FR")
    assert '<html lang="es" dir="ltr">' in chosen
    assert _said("es", "directory.title", "Find a mentor") in chosen
    assert '<input type="hidden" name="lang" value="es">' in chosen  # a search keeps the language


def test_an_unsubscribe_page_reads_in_the_language_of_the_person_it_was_sent_to(client: FlaskClient,
                                                                               db: Session) -> None:
    reader = UserFactory(locale="fr-BE")
    db.flush()
    stop = preferences.unsubscribe_url(reader.id, [Telling.MESSAGES, Telling.REMINDERS])
    assert stop is not None
    link = urlsplit(stop)
    page = _page(client, f"{link.path}?{link.query}", "en-US")
    assert '<html lang="fr" dir="ltr">' in page
    named = preferences.named([Telling.MESSAGES, Telling.REMINDERS], "fr-BE")
    assert named.startswith(language.catalogue("fr").pgettext("telling.named.messages", "messages"))
    assert html.escape(named, quote=True) in page
    # A link not ours reads in the visitor's language.
    refused = client.get("/unsubscribe?token=nope", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert _said("ar", "unsubscribe.not_valid", "This link is not valid or has expired.") in refused
