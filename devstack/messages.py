"""``make messages``: the service's texts gathered into ``workflows/locales/messages.pot``, and each language's
catalogue brought up to date with it (Babel's own merge, as ``pybabel update`` does): a new text arrives
untranslated, a reworded one comes back fuzzy (its earlier translation kept for the translator to look at again),
one no longer declared is kept as obsolete at the end of the file.

``python -m devstack.messages --check`` changes nothing and fails when the template is not what the code declares.

The texts are read from the code's declarations (``workflows.language.text``), not by scanning source files: each
has a key (its ``msgctxt``), and its English words are its ``msgid``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from workflows import language

TEMPLATE = language.CATALOGUES / f"{language.DOMAIN}.pot"
WIDTH = 120
HEADER = "The texts of the service, by key (msgctxt); see docs/translating.md."


def template() -> Catalog:
    """Every declared text, by key, in key order."""
    catalog = Catalog(project="mentorship-booking", header_comment=f"# {HEADER}", fuzzy=False,
                      creation_date=None, revision_date=None, charset="utf-8")
    for key, said in sorted(language.declared().items()):
        catalog.add(said.english if said.plural is None else (said.english, said.plural), context=key,
                    auto_comments=_notes(said))
    return catalog


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


def catalogue_path(code: str) -> Path:
    return language.CATALOGUES / code / "LC_MESSAGES" / f"{language.DOMAIN}.po"


def update() -> None:
    source = template()
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_bytes(written(source))
    for code in language.LANGUAGES:
        if code == language.SOURCE:
            continue
        path = catalogue_path(code)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=code, domain=language.DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=code, domain=language.DOMAIN, project="mentorship-booking", fuzzy=False)
        catalog.update(source, update_header_comment=False)
        catalog.obsolete.clear()  # what no longer exists is in git's history, not in the file a translator reads
        path.write_bytes(written(catalog))
        untranslated = sum(1 for message in catalog if message.id and not _done(message.string))
        fuzzy = sum(1 for message in catalog if message.id and message.fuzzy)
        print(f"{code}: {len(source)} texts, {untranslated} untranslated, {fuzzy} fuzzy")


def _done(string: str | tuple[str, ...] | None) -> bool:
    if isinstance(string, tuple):
        return all(string)
    return bool(string)


def check() -> int:
    """0 when the template on disk is what the code declares; else 1, and what to run."""
    if not TEMPLATE.exists() or TEMPLATE.read_bytes() != written(template()):
        print("workflows/locales/messages.pot is not what the code declares: run `make messages`")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail when the template is stale")
    if parser.parse_args().check:
        return check()
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
