"""Locale and time zone of each request, and locale-aware formatting helpers.

The locale comes from the user's saved preference, else the language picked on the login page
(kept in the session), else the browser's Accept-Language, else ``BABEL_DEFAULT_LOCALE``.
Times are stored in UTC and shown in the user's time zone.
"""
from __future__ import annotations

import os
from datetime import date, datetime, time, timezone
from functools import lru_cache

import pycountry
from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from .extensions import babel
from .models.base import sort_key  # one rule for sorting in Python and in SQL

TRANSLATIONS = os.path.join(os.path.dirname(__file__), "translations")


def init_app(app: Flask) -> None:
    from .plugins import translation_dirs

    # Flask-Babel merges the catalogs in order, later ones winning: the core's comes last, so a
    # plugin cannot change the core's wording of a shared string.
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([*translation_dirs(app), TRANSLATIONS])
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)


def supported_locales() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def match_locale(tag: str | None) -> str | None:
    """Map a language tag (``zh-CN``, ``zh_Hans_CN``, ``en-GB`` …) to a supported locale."""
    if not tag:
        return None
    tag = tag.replace("-", "_")
    supported = supported_locales()
    if tag in supported:
        return tag
    language = tag.split("_")[0].lower()
    for locale in supported:
        if locale.split("_")[0].lower() == language:
            return locale
    return None


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        chosen = match_locale(current_user.locale)
        if chosen:
            return chosen
    chosen = match_locale(session.get("locale"))
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        chosen = match_locale(tag)
        if chosen:
            return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return None  # BABEL_DEFAULT_TIMEZONE


def local_today() -> date:
    """Today in the user's time zone: "not in the future" means on the user's calendar, not UTC's."""
    return datetime.now(get_timezone()).date()


def utc_start_of(day: date) -> datetime:
    """The UTC moment (naive, like stored timestamps) when ``day`` begins in the user's time zone."""
    local = datetime.combine(day, time.min).replace(tzinfo=get_timezone())
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def is_chinese() -> bool:
    locale = get_locale()  # its language, not str(locale): called for every name a table shows
    return locale is not None and locale.language == "zh"


# Dates ------------------------------------------------------------------------------------

# One medium date format per language (issue 8): English reads day-month-year ("27 Nov 2026"),
# as British English writes it, not CLDR's US default ("Nov 27, 2026", "11/27/26").
DATE_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}


def date_locale(locale: str) -> str:
    """The locale whose date patterns a language uses: a bare language takes ``DATE_LOCALES``."""
    return locale if "_" in locale else DATE_LOCALES.get(locale, locale)


class DateFormatter:
    """Dates and times in one locale and time zone, patterns parsed once.

    Built once per request (``date_formatter()``) and used for every row of a table, instead of
    Babel's per-call lookup of locale, time zone and pattern. Naive datetimes are UTC, as stored.
    """

    def __init__(self, locale: str, tz):
        from babel.dates import parse_pattern

        self.locale = Locale.parse(date_locale(locale))
        self.tz = tz
        self._date = parse_pattern(self.locale.date_formats["medium"].pattern)
        self._time = parse_pattern(self.locale.time_formats["short"].pattern)
        self._joiner = str(self.locale.datetime_formats["medium"])  # "{1}, {0}": date, time
        self._days: dict[date, str] = {}  # rows of a table share few days: format each once

    def _local(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(self.tz)

    def date(self, value) -> str:
        if not value:
            return ""
        if isinstance(value, datetime):
            value = self._local(value).date()
        text = self._days.get(value)
        if text is None:
            text = self._days[value] = self._date.apply(value, self.locale)
        return text

    def datetime(self, value) -> str:
        if not value:
            return ""
        if not isinstance(value, datetime):
            return self.date(value)
        value = self._local(value)
        return self._joiner.replace("{1}", self.date(value.date())).replace(
            "{0}", self._time.apply(value, self.locale))


def date_formatter() -> DateFormatter:
    """The request's formatter for the user's locale and time zone (one per request)."""
    locale, tz = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]), get_timezone()
    if not has_request_context():
        return DateFormatter(locale, tz)
    from flask import g

    cached = g.get("_date_formatter")
    if cached is None or cached[0] != (locale, str(tz)):
        cached = ((locale, str(tz)), DateFormatter(locale, tz))
        g._date_formatter = cached
    return cached[1]


def format_date(value) -> str:
    """A date (or the day of a UTC datetime in the user's time zone), medium format."""
    return date_formatter().date(value)


def format_datetime(value) -> str:
    """Medium date and short time in the user's time zone: "27 Nov 2026, 14:05"."""
    return date_formatter().datetime(value)


# Names ------------------------------------------------------------------------------------

# Names an official Chinese platform must use where CLDR's differ; for languages, the terms of
# the domain glossary (shared/domain.md).
TERRITORY_OVERRIDES = {"zh": {"TW": "中国台湾"}, "en": {"TW": "Taiwan, China"}}
LANGUAGE_OVERRIDES = {"zh": {"id": "印尼语", "km": "柬埔寨语（高棉语）"}}


@lru_cache(maxsize=8)
def _territories(locale: str) -> dict[str, str]:
    names = dict(Locale.parse(locale).territories)
    names.update(TERRITORY_OVERRIDES.get(locale.split("_")[0], {}))
    return names


@lru_cache(maxsize=8)
def _languages(locale: str) -> dict[str, str]:
    names = dict(Locale.parse(locale).languages)
    names.update(LANGUAGE_OVERRIDES.get(locale.split("_")[0], {}))
    return names


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return _territories(str(get_locale() or "en")).get(code.upper(), code)


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return _languages(str(get_locale() or "en")).get(code, code)


COUNTRY_CODES = tuple(sorted(country.alpha_2 for country in pycountry.countries))


def country_choices(blank: str | None = None) -> list[tuple[str, str]]:
    """ISO 3166-1 countries, named in the viewer's language, sorted by that name."""
    names = _territories(str(get_locale() or "en"))
    choices = sorted(((code, names.get(code, code)) for code in COUNTRY_CODES), key=lambda item: sort_key(item[1]))
    return ([("", blank)] if blank is not None else []) + choices




def name_order(model):
    """Order by pinyin for Chinese readers (``sort_key``), by the name as written otherwise."""
    return (model.sort_key if is_chinese() else model.name), model.id


def display_name(record=None, name_zh: str | None = None, *, chinese: bool | None = None) -> str:
    """A station's or region's name in the viewer's language: the Chinese name for a Chinese
    reader when there is one, else the (English) name.

    ``record`` is anything with ``name`` and ``name_zh`` (a model, a result row, a dict), or the
    name itself with the Chinese one in ``name_zh``. Every screen, export and report showing a
    station or region name goes through here. A caller naming many records passes ``chinese``
    (``is_chinese()``, looked up once) instead of a locale lookup per record.
    """
    if record is None:
        return ""
    if isinstance(record, str):
        name = record
    elif isinstance(record, dict):
        name, name_zh = record.get("name") or "", record.get("name_zh")
    else:
        name, name_zh = record.name, getattr(record, "name_zh", None)
    if name_zh and (is_chinese() if chinese is None else chinese):
        return name_zh
    return name or name_zh or ""


def region_label(region) -> str:
    """A region as a choice: its code and its name in the viewer's language."""
    return f"{region.code} — {display_name(region)}"


def phone_display(value: str | None) -> str:
    """A stored phone number (E.164) in international format, "+39 02 1234 5678"; anything the
    library cannot parse (legacy data) as it was stored."""
    if not value:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
