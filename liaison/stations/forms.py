from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import BaseForm, CountryCode, PhoneNumber, SelectField, format_phone, optional_email
from ..i18n import country_choices, local_today, region_label
from ..models import HostKind, StationStatus


class StationForm(BaseForm):
    name = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=160)],
                       description=_l("Shown to readers using English, e.g. Milan overseas talent liaison station."))
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=160)],
                          description=_l("Shown to readers using Chinese, e.g. 米兰海外人才工作联络站; blank shows the English name."))
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[DataRequired(), CountryCode()])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=120)])
    host_organisation = StringField(_l("Host organisation"), validators=[DataRequired(), Length(max=200)])
    host_kind = SelectField(_l("Kind of host"), choices=HostKind.choices(), validators=[DataRequired()])
    established_on = DateField(_l("Established on"), validators=[Optional()])
    contact_email = optional_email(_l("Contact e-mail"))
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40), PhoneNumber("country")])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    volunteers_may_export = BooleanField(
        _l("Volunteers may export"), default=True,
        description=_l("The station's volunteers may download its contacts and leads as spreadsheets."))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region_id.choices = [(region.id, region_label(region)) for region in regions]
        self.country.choices = country_choices(blank=_l("Choose a country"))
        if self.contact_phone.data and not self.is_submitted():
            self.contact_phone.data = format_phone(self.contact_phone.data)  # stored as E.164

    def validate_established_on(self, field):
        if field.data and field.data > local_today():
            raise ValidationError(_l("The date cannot be in the future."))


class StationStatusForm(BaseForm):
    status = SelectField(_l("Status"), choices=StationStatus.choices(), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class StationFilterForm(BaseForm):
    class Meta:
        csrf = False

    region = SelectField(_l("Region"), validators=[Optional()], validate_choice=False)
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False,
                         choices=[("", _l("Any status"))] + StationStatus.choices())
    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])


class MemberForm(BaseForm):
    user_id = SelectField(_l("Volunteer"), coerce=int, validators=[DataRequired()])
