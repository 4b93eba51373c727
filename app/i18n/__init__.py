"""Languages of the interface: English (the messages as written) and Spanish (gettext catalogs
in app/locale/<code>/LC_MESSAGES/messages.po, read with Babel).

The language of a request is the user's own choice if they made one, otherwise the best match
of the browser's Accept-Language, otherwise English. It is held in a context variable while a
page renders, so templates (`{{ _("…") }}`), Python code (`gettext`) and the number and date
filters all speak it. A message without a translation is shown in English, never blank.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_day_names
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as babel_format_decimal

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "en"
# Each language's name in itself, as the language menu shows it.
LANGUAGES = {"en": "English", "es": "Español"}
LANGUAGE_COOKIE = "courtwatch_language"

_current: ContextVar[str] = ContextVar("courtwatch_language", default=DEFAULT_LANGUAGE)
_QUALITY = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q=([0-9.]+))?\s*$")


@lru_cache(maxsize=8)
def catalog(code: str) -> dict[str, Any]:
    """msgid → translation (a string, or a tuple of plural forms) for one language; only
    messages that are translated and not marked fuzzy."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if code == DEFAULT_LANGUAGE or not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=code)
    found: dict[str, Any] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string or ())
            if forms and all(forms):
                found[message.id[0]] = forms
        elif message.string:
            found[message.id] = message.string
    return found


def language() -> str:
    """The language being spoken now (of the request being rendered)."""
    return _current.get()


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Speak `code` within the block."""
    token = _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def use_language(code: str) -> None:
    """Speak `code` for the rest of this context (a request being rendered)."""
    _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """Marks a message for the catalog (`make messages`); it is translated where it is shown."""
    return message


def label(labels: dict[Any, str], key: Any) -> str:
    """A fixed label (a status, a calendar type) in the current language; the key itself when
    it has none."""
    text = labels.get(key)
    return gettext(text) if text else str(key)


def gettext(message: str, **values: Any) -> str:
    text = catalog(language()).get(message) or message
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n`, not yet filled in (Jinja fills in %(num)s; Python callers do)."""
    forms = catalog(language()).get(singular)
    if isinstance(forms, tuple):
        index = _plural_index(Locale.parse(language()), n)
        return str(forms[min(index, len(forms) - 1)])
    return singular if n == 1 else plural


def _plural_index(locale: Locale, n: int) -> int:
    # Babel's plural rule names the form; gettext catalogs order forms one, (few, many,) other.
    tag = locale.plural_form(n)
    order = [t for t in ("one", "two", "few", "many", "other") if t in locale.plural_form.tags]
    order.append("other")
    return order.index(tag) if tag in order else len(order) - 1


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The user's own choice if supported; else the best Accept-Language match; else English."""
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        match = _QUALITY.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            preferred.append((-quality, position, match.group(1)))
    for _, _, tag in sorted(preferred):
        if tag == "*":
            return DEFAULT_LANGUAGE
        base = tag.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def format_number(value: float | int | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return babel_format_decimal(value, format=pattern, locale=_locale())


def format_day(value: date | datetime | None, form: str = "medium") -> str:
    if value is None:
        return ""
    return babel_format_date(value, format=form, locale=_locale())


def format_moment(value: datetime | None, form: str = "medium") -> str:
    if value is None:
        return ""
    return babel_format_datetime(value, format=form, locale=_locale())


def weekday_name(index: int) -> str:
    """The name of a weekday (0 = Monday) as a sentence uses it: "Monday", "lunes"."""
    return str(get_day_names("wide", locale=_locale())[index])


def _locale() -> Locale:
    try:
        return Locale.parse(language())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def install(env: Any) -> None:
    """Give a Jinja2 environment `_`, `gettext`, `ngettext` in the current language, and the
    number and date filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["current_language"] = language
    env.filters["number"] = format_number
    env.filters["day"] = format_day
    env.filters["moment"] = format_moment
