"""``make messages``: the service's texts gathered into ``workflows/locales/messages.pot`` and the web app's into
``web/locales/webapp.pot``, and each language's catalogue brought up to date with them (Babel's own merge, as
``pybabel update`` does): a new text arrives untranslated, a reworded one comes back fuzzy (its earlier translation
kept for the translator to look at again), one no longer declared is kept as obsolete at the end of the file.

It also writes the screens' table of each language (``web/locales/tables/<code>.json``), which the server sends as a
file, and each language's compiled catalogue (``messages.mo``), which the processes read. ``python -m
devstack.messages --check`` changes nothing and fails when a template, a table or a compiled catalogue is not what
the code and the catalogues say.

The service's texts are read from the code's declarations (``workflows.language.text``), not by scanning source
files: each has a key (its ``msgctxt``), and its English words are its ``msgid``; a refusal's English is read from
the code by Babel's Python extractor (``REFUSING``), under the context ``error``. The web app's are read from its
modules by Babel's JavaScript extractor: the English of each ``t('…')`` and ``tn('…', '…', n)`` is its ``msgid``,
with the module and line that say it.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel.messages import jslexer
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from api.webapp import screens
from workflows import language

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 120
HEADER = "The texts of the service, by key (msgctxt); see docs/translating.md."
SCREENS_HEADER = "The words of the web app's screens, by their English (msgid); see docs/translating.md."
# The web app's words: t('English', {words}), tn('one', 'other', count, {words}) and tParts('English', {words}).
KEYWORDS = {"t": None, "tn": (1, 2), "tParts": None}


def template() -> Catalog:
    """Every declared text, by key, in key order; then every refusal's words, by their English."""
    catalog = Catalog(project="mentorship-booking", header_comment=f"# {HEADER}", fuzzy=False,
                      creation_date=None, revision_date=None, charset="utf-8")
    for key, said in sorted(language.declared().items()):
        catalog.add(said.english if said.plural is None else (said.english, said.plural), context=key,
                    auto_comments=_notes(said))
    for english, where in sorted(refusals().items()):
        named = sorted(set(re.findall(r"\{(\w+)\}", english)))
        catalog.add(english, context=language.REFUSAL, locations=where,
                    auto_comments=[f"Words kept as they are: {', '.join('{' + name + '}' for name in named)}"]
                    if named else [])
    return catalog


# The calls that say a refusal's English: a domain error's first words, or the second after a status or a rule, and
# ``refusal("…")``, which marks the words of one kept apart from where it is raised.
REFUSING: dict[str, tuple[int, ...] | None] = {
    **dict.fromkeys(("DomainError", "NotFound", "Forbidden", "BusinessRuleViolation", "Conflict", "InvalidInput",
                     "RateLimited", "LockedOut", "Overloaded", "Unauthenticated", "refusal")),
    **dict.fromkeys(("http_error", "refused", "Refused", "BodyRefused"), (2,)),
}


def refusals() -> dict[str, list[tuple[str, int]]]:
    """Every refusal's English in the service's code (Babel's Python extractor), with where it is said."""
    found: dict[str, list[tuple[str, int]]] = {}
    for path in sorted([*(ROOT / "workflows").rglob("*.py"), *(ROOT / "api").rglob("*.py")]):
        where = path.relative_to(ROOT).as_posix()
        for line, message, _comments, _context in extract_from_file("python", path, keywords=REFUSING):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append((where, line))
    return found


def screens_template() -> Catalog:
    """Every text of the web app's modules, by its English, with where each is said."""
    catalog = Catalog(project="mentorship-booking", header_comment=f"# {SCREENS_HEADER}", fuzzy=False,
                      creation_date=None, revision_date=None, charset="utf-8")
    web = screens.SCREENS.parent
    for path in sorted((web / "js").rglob("*.js")):
        where = path.relative_to(ROOT).as_posix()
        for line, message, _comments, _context in extract_from_file("javascript", path, keywords=KEYWORDS,
                                                                    options={"parse_template_string": True}):
            if message and all(message if isinstance(message, tuple) else (message,)):
                catalog.add(message, locations=[(where, line)])
    return catalog


# What a string looks like when people read it: a capitalised word, three words in a row, or words and a full stop.
_WORDS = re.compile(r"\b[A-Z][a-z]+|\b[A-Z] [a-z]{2,}|[a-z]+ [a-z]+ [a-z]+|\w+ [a-z]{2,}[.:!?…]( |$)|[a-z]{2,}…")
# Strings the screens' code uses that only look like words: HTTP's names, keyboard keys, zones, codes.
NOT_WORDS = frozenset({
    "Accept", "Authorization", "Bearer", "Content-Type", "Idempotency-Key", "Last-Event-ID", "If-Match", "ETag",
    "Retry-After", "Location", "Escape", "Enter", "Tab", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home",
    "End", "PageUp", "PageDown", "Google Calendar", "Apple Calendar", "Outlook", "Edge", "Opera", "Firefox", "Chrome",
    "Safari", "Android", "Windows", "Mac OS X", "Linux", "iPhone", "iPad", "macOS", "Etc/Unknown", "Accept-Language",
    "Content-Disposition", "UTC", "Etc/UTC", "USD", "EUR", "GBP", "NodeFilter", "Sans-Serif",
    # A reason the screens send the API for its audit log, kept as written (an audit entry is a record, not a page).
    "Named when the programme was created",
})
_EXPRESSION = re.compile(r"\$\{")
# Words between a template literal's expressions: "${count} seats left", or one lower-case word as a sentence has it
# (" · with ${name}", ", due ${day}"); not a key or a path ("mentorship.link.${route}").
_TWO_WORDS = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")
_ONE_WORD = re.compile(r"(?:^|\s)([a-z]{3,})(?=\s|[,;!?)]|:\s|\.\s|\.$|$)")
# A template literal's word that is a class of its element, not a word people read ("badge ${kind}").
CLASSES = frozenset({"live", "slot", "badge"})


_PRODUCT_TOKEN = re.compile(r"[\w.]+/")  # a browser's mark in a User-Agent ("Firefox/")


def _said(value: str) -> bool:
    # A language's own name (the settings' choice of language) is never translated.
    kept = NOT_WORDS | set(language.NAMES.values())
    return bool(_WORDS.search(value)) and value.strip() not in kept and not _PRODUCT_TOKEN.fullmatch(value)


def _literal_parts(template_string: str) -> tuple[str, list[str]]:
    """A template literal's own text, and the code of its ``${…}`` expressions."""
    body, text, code = template_string[1:-1], [], []
    at = 0
    while (found := _EXPRESSION.search(body, at)) is not None:
        text.append(body[at:found.start()])
        depth, end = 1, found.end()
        while end < len(body) and depth:
            depth += {"{": 1, "}": -1}.get(body[end], 0)
            end += 1
        code.append(body[found.end():end - 1])
        at = end
    text.append(body[at:])
    return " ".join(text), code


def bypassing(source: str, first_line: int = 1) -> list[tuple[int, str]]:
    """The strings of a module that people read and that do not go through ``t()`` or ``tn()``: (line, string)."""
    found: list[tuple[int, str]] = []
    tokens = [token for token in jslexer.tokenize(source, jsx=False, template_string=True)
              if token.type not in {"linecomment", "multilinecomment"}]
    for n, token in enumerate(tokens):
        line = first_line + token.lineno - 1
        if token.type == "template_string":
            text, code = _literal_parts(token.value)
            for expression in code:
                found.extend(bypassing(expression, line))
            # Never the English of t(): the extractor cannot read a template literal's words.
            if _said(text) or _TWO_WORDS.search(text) or set(_ONE_WORD.findall(text)) - CLASSES:
                found.append((line, token.value))
        elif token.type == "string" and _said(token.value[1:-1]) and not _translated(tokens, n):
            found.append((line, token.value))
    return found


def said_to_t(source: str, first_line: int = 1) -> list[tuple[int, str]]:
    """The English of every ``t(``, ``tn(`` and ``tParts(`` call of a module, read token by token (inside template
    literals too): (line, first words). What the extractor cannot gather (a call inside a template literal's
    ``${…}``, or among another call's words) is here, so that a test finds it missing from the template."""
    found: list[tuple[int, str]] = []
    tokens = [token for token in jslexer.tokenize(source, jsx=False, template_string=True)
              if token.type not in {"linecomment", "multilinecomment"}]
    before = [None, None, None, *tokens]  # the three tokens before each: the call's name, "(" and no "." first
    for token, (dot, name, opened) in zip(tokens, zip(before, before[1:], before[2:], strict=False), strict=False):
        line = first_line + token.lineno - 1
        if token.type == "template_string":
            for expression in _literal_parts(token.value)[1]:
                found.extend(said_to_t(expression, line))
        elif (token.type == "string" and opened is not None and opened.value == "(" and name is not None
              and name.value in KEYWORDS and (dot is None or dot.value != ".")):
            found.append((line, jslexer.unquote_string(token.value)))
    return found


def _translated(tokens: list[jslexer.Token], n: int) -> bool:
    """Whether the string at ``n`` is the English of a ``t(`` or ``tn(`` call (its first, or tn's second)."""
    def called(at: int) -> bool:
        return at >= 1 and tokens[at].value == "(" and tokens[at - 1].value in KEYWORDS

    def start(at: int) -> int:
        """The first string of ``'one line ' + 'the next'``: one English text, as the extractor reads it."""
        while at > 1 and tokens[at - 1].value == "+" and tokens[at - 2].type == "string":
            at -= 2
        return at

    n = start(n)
    if called(n - 1):
        return True
    if n <= 1 or tokens[n - 1].value != "," or tokens[n - 2].type != "string":
        return False
    first = start(n - 2)  # tn('one', 'other', …): the second text of a tn( call
    return called(first - 1) and tokens[first - 2].value == "tn"


@dataclass(frozen=True)
class Texts:
    """One set of texts: its template, and where each language's catalogue of it lives."""

    name: str
    template: Callable[[], Catalog]
    template_path: Path
    catalogue_path: Callable[[str], Path]
    domain: str


SETS = (
    Texts("service", template, language.CATALOGUES / f"{language.DOMAIN}.pot",
          language.catalogue_path, language.DOMAIN),
    Texts("screens", screens_template, screens.SCREENS / f"{screens.DOMAIN}.pot", screens.catalogue_path,
          screens.DOMAIN),
)


def _notes(said: language.Text) -> list[str]:
    named = sorted(said.placeholders())
    notes = [f"Words kept as they are: {', '.join('{' + name + '}' for name in named)}"] if named else []
    if said.plural is not None:
        notes.append(f"Counted by {{{said.count}}}")
    return notes


def written(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, omit_header=False, include_previous=True)
    return _without_dates(out.getvalue())


def _without_dates(po: bytes) -> bytes:
    """A catalogue's text without the dates Babel stamps on it: the files change only when their words do."""
    return b"\n".join(line for line in po.split(b"\n")
                      if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:')))


def update() -> None:
    for texts in SETS:
        _update(texts)
    screens.table_path(language.SOURCE).parent.mkdir(exist_ok=True)
    for code in TABLED:
        screens.table_path(code).write_bytes(screens.written_table(code))
    for code in TRANSLATED:
        language.catalogue_path(code, ".mo").write_bytes(language.compiled(code))


# The screens' tables the server sends as files: every shipped language's, and the pseudo-locale's.
TABLED = (*language.LANGUAGES, language.PSEUDO)
# The service's catalogues the processes read compiled (``.mo``): every shipped language's but the source's.
TRANSLATED = tuple(code for code in language.LANGUAGES if code != language.SOURCE)


def _update(texts: Texts) -> None:
    source = texts.template()
    texts.template_path.parent.mkdir(parents=True, exist_ok=True)
    texts.template_path.write_bytes(written(source))
    for code in language.LANGUAGES:
        if code == language.SOURCE:
            continue
        path = texts.catalogue_path(code)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=code, domain=texts.domain)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=code, domain=texts.domain, project="mentorship-booking", fuzzy=False)
        catalog.update(source, update_header_comment=False)
        catalog.obsolete.clear()  # what no longer exists is in git's history, not in the file a translator reads
        path.write_bytes(written(catalog))
        untranslated = sum(1 for message in catalog if message.id and not done(message.string))
        fuzzy = sum(1 for message in catalog if message.id and message.fuzzy)
        print(f"{texts.name}, {code}: {len(source)} texts, {untranslated} untranslated, {fuzzy} fuzzy")


def done(string: str | tuple[str, ...] | None) -> bool:
    """Whether a catalogue entry is translated (every plural form of a counted one)."""
    if isinstance(string, tuple):
        return all(string)
    return bool(string)


def check() -> int:
    """0 when the templates on disk are what the code says; else 1, and what to run."""
    stale = [texts.template_path for texts in SETS
             if not texts.template_path.exists() or texts.template_path.read_bytes() != written(texts.template())]
    stale += [screens.table_path(code) for code in TABLED
              if not screens.table_path(code).exists() or screens.table_path(code).read_bytes()
              != screens.written_table(code)]
    stale += [language.catalogue_path(code, ".mo") for code in TRANSLATED
              if not language.catalogue_path(code, ".mo").exists()
              or language.catalogue_path(code, ".mo").read_bytes() != language.compiled(code)]
    for path in stale:
        print(f"{path.relative_to(ROOT)} is not what the code says: run `make messages`")
    return 1 if stale else 0


def report_bypassing(paths: list[Path]) -> int:
    found = 0
    for path in paths:
        for line, said in bypassing(path.read_text()):
            print(f"{path}:{line}: {said}")
            found += 1
    return 1 if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail when the template is stale")
    parser.add_argument("--bypass", nargs="*", metavar="MODULE",
                        help="list the web app's strings people read that bypass t() (every module, or these)")
    arguments = parser.parse_args()
    if arguments.bypass is not None:
        return report_bypassing([Path(p) for p in arguments.bypass] or sorted((ROOT / "web" / "js").rglob("*.js")))
    if arguments.check:
        return check()
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
