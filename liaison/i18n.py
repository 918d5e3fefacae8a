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
    return str(get_locale() or "").startswith("zh")


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


def display_name(record) -> str:
    """A station's or region's name in the viewer's language, if it has one."""
    if is_chinese() and getattr(record, "name_zh", None):
        return record.name_zh
    return record.name
