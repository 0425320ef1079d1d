"""The web app's words in each shipped language: ``web/locales/<lang>.po`` (gettext, its msgids the English the
screens are written in) served as one JSON table, compiled once per process when first asked for.

``make messages`` writes each language's table beside its catalogue (``web/locales/tables/<code>.json``), and the
server sends that file as it is: a process serving every language holds none of them in memory. A table not
written yet is compiled in the process, once.

The pseudo-locale (``workflows.language.PSEUDO``) has a table of its own, made from the template: a screen shown in
it tells at a glance an English word that bypassed the catalogue, a box too narrow for longer words, a button's text
cut.

A counted text's forms are named by CLDR's plural categories (``one``, ``few``, ``other``…), which the browser's
``Intl.PluralRules`` chooses among: the catalogue's own plural forms, matched to the categories by the numbers
that select them.
"""

from __future__ import annotations

import gettext
import json
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from workflows import language

SCREENS = Path(__file__).resolve().parents[2] / "web" / "locales"
DOMAIN = "webapp"
# Numbers enough to meet every category of the shipped languages' rules (Arabic's "many" starts at 11, its
# "other" at 100).
_SAMPLES = range(1001)


@cache
def pseudo_table() -> dict[str, Any]:
    """Every text of the screens' template in the pseudo-locale; dates and numbers in Japanese formats (``formats``),
    so that no English word on a screen comes from anywhere but a text that bypassed the catalogue."""
    found: dict[str, Any] = {"language": language.PSEUDO, "direction": "ltr", "formats": language.PSEUDO_FORMATS,
                             "words": {}, "counted": {}}
    with (SCREENS / f"{DOMAIN}.pot").open("rb") as pot:
        for message in read_po(pot, domain=DOMAIN):
            if isinstance(message.id, tuple):
                found["counted"][message.id[0]] = {"one": language.pseudo(message.id[0]),
                                                   "other": language.pseudo(message.id[1])}
            elif isinstance(message.id, str) and message.id:
                found["words"][message.id] = language.pseudo(message.id)
    return found


def table_path(code: str) -> Path:
    return SCREENS / "tables" / f"{code}.json"


def written_table(code: str) -> bytes:
    """The table of a shipped language (or of the pseudo-locale) as the file ``make messages`` writes."""
    found = pseudo_table() if code == language.PSEUDO else table(code)
    return json.dumps(found, ensure_ascii=False, sort_keys=True, indent=0).encode() + b"\n"


def catalogue_path(code: str) -> Path:
    return SCREENS / f"{code}.po"


@cache
def table(code: str) -> dict[str, Any]:
    """The words of the screens in a shipped language: ``words`` (English → translation), ``counted`` (the
    singular English → {category: form}). Untranslated and fuzzy entries are left out: the screen shows English."""
    found: dict[str, Any] = {"language": code, "direction": language.direction(code), "words": {}, "counted": {}}
    path = catalogue_path(code)
    if code == language.SOURCE or not path.exists():
        return found
    with path.open("rb") as po:
        catalog = read_po(po, locale=code, domain=DOMAIN)
    categories = _categories(catalog, code)
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = message.string if isinstance(message.string, tuple) else ()
            if forms and all(forms):
                found["counted"][message.id[0]] = {category: forms[index] for category, index in categories.items()
                                                   if index < len(forms)}
        elif message.string:
            found["words"][message.id] = message.string
    return found


def _categories(catalog: Catalog, code: str) -> dict[str, int]:
    """Each CLDR plural category of the language, and the index of the catalogue's form its numbers take."""
    rule = Locale.parse(code).plural_form
    choose = gettext.c2py(catalog.plural_expr)  # the standard library's reading of a Plural-Forms expression
    forms: dict[str, int] = {}
    for n in _SAMPLES:
        forms.setdefault(rule(n), choose(n))
    return forms
