"""The recognition catalogue as a spreadsheet import (``liaison_import_types``): a station's
catalogue — e.g. a bureau's published list of recognised international vocational
qualifications — imported through the core (``flask --app liaison imports records`` or the
plugin's import page), all rows or none.

Headers are recognised by the column labels below in either language or by their keys. The
domestic kind and level are given as their key or label in either language ("title", "职称").
"""
from __future__ import annotations

from datetime import date

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask import current_app
from sqlalchemy import delete

from liaison.imports.types import ImportType, Target
from liaison.models import db
from liaison.search import fold

from .choices import NAME, DomesticKind, Level
from .lifecycle import IllegalMove
from .models import Recognition

KEY = f"{NAME}.recognitions"

TARGETS = (
    Target("issuing_country", _l("Issuing country"), 60),
    Target("issuing_body", _l("Issuing body"), 200),
    Target("name_original", _l("Name in the original language"), 300),
    Target("name_zh", _l("Chinese name"), 300),
    Target("level", _l("Level abroad"), 100),
    Target("domestic_kind", _l("Recognised as"), 60),
    Target("domestic_name", _l("Domestic qualification or title"), 300),
    Target("domestic_level", _l("Domestic level"), 60),
    Target("source_document", _l("Source document"), 300),
    Target("source_date", _l("Date of the source document"), 20),
)
REQUIRED = ("issuing_country", "issuing_body", "name_original", "name_zh", "domestic_kind", "domestic_name",
            "domestic_level", "source_document", "source_date")


def _vocabulary(enum) -> dict[str, str]:
    """Every way to write a value of ``enum``: its key and its label in each interface language."""
    known = {}
    for member in enum:
        known[fold(member.value)] = member.value
        for locale in current_app.config["LANGUAGES"]:
            with force_locale(locale):
                known[fold(str(member.label))] = member.value
    return known


def _country(text: str) -> str:
    from liaison.i18n import COUNTRY_CODES, country_choices

    text = text.strip()
    if text.upper() in COUNTRY_CODES:
        return text.upper()
    folded = fold(text)
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            for code, label in country_choices():
                if code and fold(str(label)) == folded:
                    return code
    raise ValueError(str(_l("Unknown country: %(value)s", value=text)))


def create(station, values: dict[str, str], actor) -> int:
    from . import services

    if not services.can_manage(actor, station):
        raise ValueError(str(_l("You cannot add to this station's catalogue.")))
    data = dict(values)
    data["issuing_country"] = _country(values.get("issuing_country", ""))
    for name, enum in (("domestic_kind", DomesticKind), ("domestic_level", Level)):
        data[name] = _vocabulary(enum).get(fold(values.get(name, "")), values.get(name))
    try:
        data["source_date"] = date.fromisoformat(values.get("source_date", "").strip()[:10])
    except ValueError:
        raise ValueError(str(_l("Write the date as YYYY-MM-DD: %(value)s", value=values.get("source_date", ""))))
    try:
        record = services.recognition_from(station, data, actor)
    except IllegalMove as exc:
        raise ValueError(f"{exc.field}: {exc.message}" if exc.field else str(exc.message))
    db.session.flush()
    return record.id


def remove(ids: list[int]) -> None:
    db.session.execute(delete(Recognition).where(Recognition.id.in_(ids)))


IMPORT_TYPE = ImportType(key=KEY, label=_l("Recognised international qualifications"), targets=TARGETS,
                         create=create, required=REQUIRED, remove=remove)
