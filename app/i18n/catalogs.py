"""Keeping the catalogs: the messages of the templates and the code, extracted with Babel, and
each language's catalog brought up to date with them (`make messages`, then translate the
new entries in app/locale/<code>/LC_MESSAGES/messages.po)."""

from __future__ import annotations

from pathlib import Path

import jinja2.ext
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR

APP_DIR = LOCALE_DIR.parent
METHODS = [("**.py", "python"), ("templates/**.html", jinja2.ext.babel_extract)]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def extract() -> Catalog:
    """Every message of the interface, with where it is used."""
    catalog = Catalog(project="Courtwatch", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(APP_DIR),
        METHODS,  # type: ignore[arg-type]
        OPTIONS,
        keywords=KEYWORDS,
        strip_comment_tags=True,
    ):
        if filename.startswith("i18n/"):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"


def update() -> list[str]:
    """Write messages.pot and bring every language's catalog up to date; new messages are
    left untranslated (and the catalog test says which)."""
    template = extract()
    with (LOCALE_DIR / "messages.pot").open("wb") as handle:
        write_po(handle, template, omit_header=False, sort_output=True, include_lineno=False)
    changed = []
    for code in LANGUAGES:
        if code == DEFAULT_LANGUAGE:
            continue
        path = catalog_path(code)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=code)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=code, project="Courtwatch", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True)
        changed.append(str(path))
    return changed


if __name__ == "__main__":
    for written in update():
        print(f"updated {written}")
