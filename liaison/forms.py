"""Shared form pieces: field helpers and validators used by every area's forms."""
from __future__ import annotations

import phonenumbers
from flask import request
import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from .i18n import COUNTRY_CODES, country_name


# Control characters have no place in form input, and PostgreSQL refuses NUL in text outright.
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def prefill(record):
    """The record to prefill a form from — only when the form is shown (GET). A submitted form
    must carry its fields itself: otherwise fields missing from a POST would validate with the
    stored values, and an empty POST would "save" whatever a field could not map back."""
    return record if request.method == "GET" else None


def strip(value):
    return value.translate(_CONTROL).strip() if isinstance(value, str) else value


def none_if_blank(value):
    value = strip(value)
    return value or None


class _WTFormsTranslations:
    """WTForms' own messages in the request's language, like Flask-WTF's — which loads the
    catalog from disk once per request (a field without a label asks for it as it is built);
    here each language's catalog is loaded once per process."""

    _catalogs: dict = {}

    def _catalog(self):
        from flask import has_request_context
        from flask_babel import get_locale

        if not has_request_context():
            return None
        locale = get_locale()
        catalog = self._catalogs.get(str(locale))
        if catalog is None:
            from babel import support
            from wtforms.i18n import messages_path

            catalog = self._catalogs[str(locale)] = support.Translations.load(messages_path(), [locale], domain="wtforms")
        return catalog

    def gettext(self, string):
        catalog = self._catalog()
        return string if catalog is None else catalog.ugettext(string)

    def ngettext(self, singular, plural, n):
        catalog = self._catalog()
        if catalog is None:
            return singular if n == 1 else plural
        return catalog.ungettext(singular, plural, n)


_wtforms_translations = _WTFormsTranslations()


class BaseForm(FlaskForm):
    """Strips surrounding whitespace and control characters from every input but passwords."""

    class Meta:
        def get_translations(self, form):
            from flask import current_app

            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations

        def bind_field(self, form, unbound_field, options):
            if not issubclass(unbound_field.field_class, PasswordField):
                filters = unbound_field.kwargs.get("filters", ())
                options = dict(options, filters=(strip, *filters))
            return unbound_field.bind(form=form, **options)


def optional_email(label, **kwargs):
    return StringField(label, validators=[Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address, e.g. name@example.org."))], **kwargs)


class CountryCode:
    """An ISO 3166-1 alpha-2 code."""

    def __call__(self, form, field):
        if field.data and str(field.data).upper() not in COUNTRY_CODES:
            raise ValidationError(_l("Choose a country from the list."))


class PhoneNumber:
    """A phone number that ``phonenumbers`` can parse, in international form or local to a
    country: the form's ``phone_region`` (a contact's station's country) if it has one, else the
    country chosen in ``country_field``.

    A valid number is rewritten in international form ("+39 02 1234 5678") so the page shows how
    it was read; an invalid one stays as typed, with the error next to it.
    """

    def __init__(self, country_field: str | None = None):
        self.country_field = country_field

    def __call__(self, form, field):
        if not field.data or not str(field.data).strip():
            return
        region = self._country(form)
        e164 = normalise_phone(field.data, region)
        if e164 is None:
            if region and not str(field.data).strip().startswith("+"):
                raise ValidationError(_l(
                    "Enter a valid phone number, e.g. +39 02 1234 5678. A number without “+” and a country "
                    "code is read as a number in %(country)s.", country=country_name(region)))
            raise ValidationError(_l("Enter a valid phone number, e.g. +39 02 1234 5678."))
        field.data = format_phone(e164)

    def _country(self, form):
        region = getattr(form, "phone_region", None)
        if region:
            return region
        if self.country_field and self.country_field in form:
            return form[self.country_field].data or None
        return None


def format_phone(value: str | None) -> str:
    """A stored (E.164) number in international format for pages; see ``i18n.phone_display``."""
    from .i18n import phone_display

    return phone_display(value)


def normalise_phone(raw: str | None, country: str | None = None) -> str | None:
    """E.164 form (``+390212345678``) or ``None`` if the number is not valid."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def options(pairs) -> list[SelectChoice] | None:
    """``(value, label)`` pairs as WTForms ``SelectChoice`` objects (tuples are deprecated)."""
    if pairs is None or callable(pairs):
        return pairs
    return [pair if isinstance(pair, SelectChoice) else SelectChoice(*pair) for pair in pairs]


def _options_field(base):
    """``base`` accepting ``choices=[(value, label), ...]`` as before, without the deprecation."""

    class Field(base):
        def __init__(self, *args, choices=None, **kwargs):
            super().__init__(*args, choices=options(choices), **kwargs)

        @property
        def choices(self):
            return base.choices.fget(self)

        @choices.setter
        def choices(self, value):
            base.choices.fset(self, options(value))

    Field.__name__ = Field.__qualname__ = base.__name__
    return Field


SelectField = _options_field(wtforms.SelectField)
SelectMultipleField = _options_field(wtforms.SelectMultipleField)


class PlainSelect(Select):
    """WTForms' ``Select`` for a list of plain options (a filter's few, or the few hundred demands
    of an event's form): the same HTML, each option written in one step rather than through
    WTForms' per-option machinery (signature inspection, attribute sorting, escaping twice).
    Grouped options or options with their own attributes go to WTForms' ``Select``."""

    def __call__(self, field, **kwargs):
        choices = field.choices or []
        if (self.multiple or not isinstance(choices, list)
                or any(getattr(c, "optgroup", None) is not None or getattr(c, "render_kw", True) for c in choices)):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        coerce, data = field.coerce, field.data
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for c in choices:
            value = str(c.value) if isinstance(c.value, bool) else c.value
            selected = " selected" if coerce(c.value) == data else ""
            html.append(f'<option{selected} value="{escape(value)}">{escape(c.label or c.value)}</option>')
        html.append("</select>")
        return Markup("".join(html))
