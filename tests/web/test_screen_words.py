"""The web app's words: every text its screens show goes through ``t()``/``tn()`` (a lint of its modules), and each
shipped language's table of them is served as JSON, only for its own readers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from api.webapp import screens
from devstack import messages
from workflows import language

ROOT = Path(__file__).resolve().parents[2]
JS = screens.SCREENS.parent / "js"
MODULES = sorted(JS.rglob("*.js"))


def test_no_module_shows_words_that_bypass_the_catalogue() -> None:
    bypassing = [f"{path.relative_to(messages.ROOT)}:{line}: {said}" for path in MODULES
                 for line, said in messages.bypassing(path.read_text())]
    assert not bypassing, "\n".join(bypassing[:40])


def test_every_text_said_to_t_is_gathered_into_the_template() -> None:
    """Babel's extractor does not see a ``t()`` inside a template literal's ``${…}`` or among another call's words:
    such a text would stay English in every language. Each module's calls, read token by token, are all in the
    template (a text of two lines joined by ``+`` is found by its first)."""
    with (screens.SCREENS / f"{screens.DOMAIN}.pot").open("rb") as pot:
        gathered = [one for message in read_po(pot) for one in
                    (message.id if isinstance(message.id, tuple) else (message.id,)) if one]
    missing = [f"{path.relative_to(ROOT)}:{line}: {english}"
               for path in MODULES
               for line, english in messages.said_to_t(path.read_text())
               if not any(one.startswith(english) for one in gathered)]
    assert len(missing) == 0, "say each text in a call of its own, outside template literals:\n" + "\n".join(missing)


def test_the_check_of_gathered_texts_reads_inside_template_literals() -> None:
    source = ("const a = `${n} · ${t('{uses} of {most} used', { uses })}`;\n"
              "x(t('Request from {p}', { p: t('a mentee') }));")
    assert [english for _line, english in messages.said_to_t(source)] == [
        "{uses} of {most} used", "Request from {p}", "a mentee"]



@pytest.mark.parametrize("source", [
    "h('p', {}, 'Nothing booked yet.')",
    "const title = `${count} seats left`;",
    "button.textContent = 'Save';",
    "errorBox(`Could not save ${name}: try again.`)",
    "h('a', { title: t(`Open ${name}`) }, 'x')",  # a template literal is not the catalogue's English
    "h('span', { class: 'meta' }, ` · with ${name}`)",  # one word among a sentence's values
    "`${item.title}, due ${day}`",
])
def test_the_lint_finds_words_outside_t(source: str) -> None:
    assert messages.bypassing(source)


@pytest.mark.parametrize("source", [
    "h('p', {}, t('Nothing booked yet.'))",
    "tn('{count} seat left', '{count} seats left', n)",
    "h('div', { class: 'actions card' }, x)",
    "headers: { 'Content-Type': 'application/json' }",
    "h('p', {}, `${t('Saved.')} ${when(at)}`)",
    "h('span', { class: `badge ${kind}` })",  # an element's classes
    "sessionStorage.getItem(`mentorship.link.${route}`)",  # a key
])
def test_the_lint_leaves_code_and_translated_words_alone(source: str) -> None:
    assert messages.bypassing(source) == []


@pytest.mark.usefixtures("few_words")
def test_each_language_is_served_as_one_table_for_its_readers(client: FlaskClient) -> None:
    french = client.get("/words/fr-CA.json")
    assert french.status_code == 200 and french.mimetype == "application/json"
    body = french.get_json()
    assert (body["language"], body["direction"]) == ("fr", "ltr")
    assert body["words"] == {"Sign in": "Se connecter"}  # the fuzzy and the untranslated left out: shown in English
    assert client.get("/words/ar.json").get_json()["direction"] == "rtl"
    # Revalidated on each load, and not sent again while the words are the same.
    assert french.headers["Cache-Control"] == "no-cache" and french.headers["ETag"]
    assert client.get("/words/fr-CA.json", headers={"If-None-Match": french.headers["ETag"]}).status_code == 304
    # A language not shipped, or not a language at all: English, which has no table (the screens' own words).
    for tag in ("pt-BR", "zz", "x" * 200, "..%2F..%2Fpyproject"):
        answered = client.get(f"/words/{tag}.json")
        assert answered.status_code in {200, 404}
        if answered.status_code == 200:
            assert answered.get_json() == {"language": "en", "direction": "ltr", "words": {}, "counted": {}}


@pytest.mark.usefixtures("few_words")
def test_a_counted_text_is_served_by_the_browsers_plural_categories(client: FlaskClient) -> None:
    arabic = client.get("/words/ar.json").get_json()["counted"]["{count} review"]
    # Arabic's six forms, each under the category Intl.PluralRules('ar') names for the numbers that take it.
    assert arabic == {"zero": "0 ar", "one": "1 ar", "two": "2 ar", "few": "3 ar", "many": "11 ar", "other": "100 ar"}
    french = client.get("/words/fr.json").get_json()["counted"]["{count} review"]
    assert french == {"one": "{count} avis (un)", "other": "{count} avis"}


@pytest.fixture
def few_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """French and Arabic tables of a few words, read in place of web/locales/ (a table is compiled once per
    process: its cache is emptied before and after)."""
    root = tmp_path
    (root / "fr.po").write_text(PO_HEADER.format(code="fr", forms="nplurals=2; plural=(n > 1);") + """
msgid "Sign in"
msgstr "Se connecter"

#, fuzzy
msgid "Sign up"
msgstr "S'inscrire"

msgid "Settings"
msgstr ""

msgid "{count} review"
msgid_plural "{count} reviews"
msgstr[0] "{count} avis (un)"
msgstr[1] "{count} avis"
""")
    arabic_forms = ("nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 "
                    ": 5);")
    (root / "ar.po").write_text(PO_HEADER.format(code="ar", forms=arabic_forms) + """
msgid "{count} review"
msgid_plural "{count} reviews"
""" + "".join(f'msgstr[{n}] "{count} ar"\n' for n, count in enumerate((0, 1, 2, 3, 11, 100))))
    monkeypatch.setattr(screens, "SCREENS", root)
    screens.table.cache_clear()
    yield
    screens.table.cache_clear()


PO_HEADER = """msgid ""
msgstr ""
"Language: {code}\\n"
"Plural-Forms: {forms}\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"""


@pytest.mark.parametrize("code", [code for code in language.LANGUAGES if code != language.SOURCE])
def test_every_screen_text_is_translated_in_each_shipped_language(code: str) -> None:
    with screens.catalogue_path(code).open("rb") as po:
        catalog = read_po(po, locale=code)
    with (screens.SCREENS / f"{screens.DOMAIN}.pot").open("rb") as pot:
        template = read_po(pot)
    missing = [m.id for m in template if m.id and not messages.done(getattr(catalog.get(m.id), "string", None))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not missing and not fuzzy, (len(missing), missing[:10], fuzzy[:10])


def test_the_page_code_has_no_catalogue_in_it() -> None:
    """The tables are fetched per language, never part of the English page's code."""
    assert not [p for p in Path(screens.SCREENS).rglob("*") if p.suffix in {".js", ".css", ".html"}]


def test_the_settings_offer_the_languages_the_service_speaks() -> None:
    source = (screens.SCREENS.parent / "js" / "words.js").read_text()
    offered = re.search(r"export const LANGUAGES = \{([^}]*)\}", source)
    assert offered is not None
    assert dict(re.findall(r"(\w+): '([^']+)'", offered.group(1))) == language.NAMES


@pytest.mark.parametrize("code", [code for code in language.LANGUAGES if code != language.SOURCE])
def test_a_translation_names_the_words_its_english_names(code: str) -> None:
    """A placeholder renamed or dropped in a translation fails here, not on a reader's screen (a counted text's form
    may leave out the number itself, as Arabic's forms for one and two do)."""
    with screens.catalogue_path(code).open("rb") as po:
        catalog = read_po(po, locale=code)
    named = lambda text: set(re.findall(r"\{(\w+)\}", text))  # noqa: E731
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            english = named(message.id[0]) | named(message.id[1])
            wrong += [form for form in message.string if not named(form) <= english
                      or not english - {"count"} <= named(form)]
        elif named(message.string) != named(message.id):
            wrong.append(message.string)
    assert not wrong, wrong[:10]
