from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm, CountryCode, PhoneNumber, SelectField, format_phone, optional_email
from ..i18n import country_choices
from ..models import ContactKind
from ..privacy.consent_forms import AgreedOnCreation


class ListItems:
    """Each item of a comma-separated list (tags, languages: one row each) fits its column."""

    def __call__(self, form, field):
        from wtforms.validators import ValidationError

        from ..models.contact import TAG_MAX_LENGTH, split_list

        if any(len(item) > TAG_MAX_LENGTH for item in split_list(field.data)):
            raise ValidationError(_l("Each item must be at most %(limit)s characters.", limit=TAG_MAX_LENGTH))


class ContactForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=ContactKind.choices(), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("As the person writes it in Latin letters, e.g. Marco Rossi or Nguyen Van An."))
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=200)])
    name_original = StringField(_l("Name in original script"), validators=[Optional(), Length(max=200)],
                                description=_l("e.g. Nguyễn Văn An, สมชาย ใจดี"))
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    field = StringField(_l("Field"), validators=[Optional(), Length(max=200)],
                        description=_l("e.g. new-energy vehicles, AI, fashion design"))
    country = SelectField(_l("Country"), validators=[Optional(), CountryCode()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    email = optional_email(_l("E-mail"))
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40), PhoneNumber("country")],
                        description=_l("International form, e.g. +39 02 1234 5678; a number without “+” is read "
                                       "as a number in the station's country."))
    messaging = StringField(_l("Messaging handle"), validators=[Optional(), Length(max=200)],
                            description=_l("e.g. WeChat: marco_rossi"))
    languages = StringField(_l("Languages"), validators=[Optional(), Length(max=200), ListItems()],
                            description=_l("Comma-separated, e.g. Italian, English, Chinese"))
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=300), ListItems()],
                       description=_l("Comma-separated, e.g. PhD, returnee, salon 2024"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    confirm_duplicate = BooleanField(_l("Save anyway: this is a different contact"))
    submission_token = HiddenField()

    # The time of the last change the editor saw (contacts have no version column): a change
    # saved since makes the save a conflict (liaison.contacts.services.update_contact).
    seen = HiddenField()

    def __init__(self, *args, phone_region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(blank="—")
        # A number typed without "+" is read in the station's country (see forms.PhoneNumber).
        self.phone_region = phone_region
        if self.phone.data and not self.is_submitted():
            self.phone.data = format_phone(self.phone.data)  # stored as E.164, edited as "+66 2 123 4567"


class ContactSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    station = SelectField(_l("Station"), validators=[Optional()], validate_choice=False)
    kind = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False,
                       choices=[("", _l("Any kind"))] + ContactKind.choices())
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=60)])


class NewContactForm(AgreedOnCreation, ContactForm):
    """The form for a new contact, with "The person agreed to…": the lawful bases recorded with
    the contact (``liaison.privacy.consent``)."""
