"""The events' forms: the organisers' and the public registration form."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import BaseForm, CountryCode, PhoneNumber, PlainSelect, SelectField, SelectMultipleField, optional_email
from ..models import LeadCategory
from ..notices.forms import WebAddress
from . import kinds
from .models import AttendanceStatus, Organiser

MAX_PHOTO_LINKS = 30
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class TimeZoneName:
    def __call__(self, form, field):
        try:
            ZoneInfo(field.data or "")
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_l("Enter a time zone such as Europe/Rome or Asia/Shanghai.")) from None


def to_utc(local: datetime | None, zone: str) -> datetime | None:
    """A wall-clock time in ``zone`` as naive UTC (as stored)."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc).replace(tzinfo=None)


def to_local(value: datetime | None, zone: str) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


class EventForm(BaseForm):
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    organiser = SelectField(_l("Organised by"), choices=Organiser.choices(), validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[Optional()],
                            description=_l("For an event a region organises."))
    station_ids = SelectMultipleField(_l("Organising stations"), coerce=int, validators=[Optional()])
    title = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title in Chinese"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    timezone = StringField(_l("Time zone"), default="Europe/Rome", validators=[DataRequired(), Length(max=64),
                                                                               TimeZoneName()],
                           description=_l("Where the event takes place, e.g. Europe/Rome, Asia/Shanghai."))
    starts_at = DateTimeLocalField(_l("Starts"), format=DATETIME_FORMAT,
                                   validators=[InputRequired(message=_l("Enter a date and time."))])
    ends_at = DateTimeLocalField(_l("Ends"), format=DATETIME_FORMAT,
                                 validators=[InputRequired(message=_l("Enter a date and time."))])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    online_link = StringField(_l("Online link"), validators=[Optional(), Length(max=500), WebAddress()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    country = StringField(_l("Country code"), validators=[Optional(), Length(max=2), CountryCode()],
                          description=_l("Two letters, e.g. IT, VN, CN."))
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=100000)],
                            description=_l("Blank: no limit."))
    registration_opens_at = DateTimeLocalField(_l("Registration opens"), format=DATETIME_FORMAT,
                                               validators=[Optional()])
    registration_closes_at = DateTimeLocalField(_l("Registration closes"), format=DATETIME_FORMAT,
                                                validators=[Optional()])
    target_fields = TextAreaField(_l("Target fields"), validators=[Optional(), Length(max=4000)],
                                  description=_l("One a line, or separated by commas."))
    partners = TextAreaField(_l("Partner organisations"), validators=[Optional(), Length(max=4000)],
                             description=_l("One a line."))
    version = HiddenField()

    def __init__(self, *args, regions=(), stations=(), **kwargs):
        super().__init__(*args, **kwargs)
        from ..i18n import display_name, region_label

        self.kind.choices = kinds.choices()
        self.region_id.choices = [(0, "—")] + [(r.id, region_label(r)) for r in regions]
        self.station_ids.choices = [(s.id, display_name(s)) for s in stations]

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data < self.starts_at.data:
            raise ValidationError(_l("The end cannot be before the start."))

    def validate_registration_closes_at(self, field):
        if field.data and self.registration_opens_at.data and field.data < self.registration_opens_at.data:
            raise ValidationError(_l("Registration cannot close before it opens."))

    def validate_station_ids(self, field):
        if self.organiser.data == Organiser.STATIONS and not field.data:
            raise ValidationError(_l("Choose at least one organising station."))

    def validate_region_id(self, field):
        if self.organiser.data == Organiser.REGION and not field.data:
            raise ValidationError(_l("Choose the organising region."))

    def event_data(self) -> dict:
        zone = self.timezone.data
        return {
            "kind": self.kind.data, "title": self.title.data, "title_zh": self.title_zh.data,
            "description": self.description.data or None, "timezone": zone,
            "starts_at": to_utc(self.starts_at.data, zone), "ends_at": to_utc(self.ends_at.data, zone),
            "venue": self.venue.data or None, "online_link": self.online_link.data or None,
            "city": self.city.data or None, "country": self.country.data or None, "capacity": self.capacity.data,
            "registration_opens_at": to_utc(self.registration_opens_at.data, zone),
            "registration_closes_at": to_utc(self.registration_closes_at.data, zone),
            "target_fields": self.target_fields.data, "partners": self.partners.data,
        }


class MoveForm(BaseForm):
    move = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class OutcomeForm(BaseForm):
    participants = IntegerField(_l("Participants"), validators=[InputRequired(message=_l("Enter a number.")),
                                                                NumberRange(min=0, max=1000000)],
                                description=_l("Everyone who took part, registered or not."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])
    photo_links = TextAreaField(_l("Links to photos"), validators=[Optional(), Length(max=20000)],
                                description=_l("One address a line, starting with https://."))

    def validate_photo_links(self, field):
        from ..notices.forms import _web_address

        links = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        for number, link in enumerate(links, start=1):
            if not _web_address(link) or len(link) > 500:
                raise ValidationError(_l("Line %(num)d: an address starting with https://.", num=number))
        if len(links) > MAX_PHOTO_LINKS:
            raise ValidationError(_l("At most %(num)d links.", num=MAX_PHOTO_LINKS))
        self.links = links


class InviteForm(BaseForm):
    contact_ids = SelectMultipleField(_l("Contacts"), coerce=int, validators=[DataRequired(
        message=_l("Tick at least one contact."))])


class StatusForm(BaseForm):
    status = SelectField(_l("Status"), choices=AttendanceStatus.choices(), validators=[DataRequired()])


class PersonForm(BaseForm):
    """A walk-in at the door; the public form adds what the public must give."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    name_original = StringField(_l("Name in original script"), validators=[Optional(), Length(max=200)],
                                description=_l("e.g. 王敏, Nguyễn Văn An"))
    email = optional_email(_l("E-mail"))
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40), PhoneNumber("country")],
                        description=_l("With the country code, e.g. +39 333 123 4567."))
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    field = StringField(_l("Field"), validators=[Optional(), Length(max=200)],
                        description=_l("e.g. new energy vehicles, biomedicine"))
    country = StringField(_l("Country code"), validators=[Optional(), Length(max=2), CountryCode()])


class RegistrationForm(PersonForm):
    consent = BooleanField(_l("I have read the privacy notice and agree that the organisers keep my "
                              "details to handle this registration and invite me to events."),
                           validators=[DataRequired(message=_l("Please tick the box: we cannot register you "
                                                               "without your agreement."))])
    # The honeypot: hidden from people by the stylesheet; a robot fills it in.
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.email.data and not self.phone.data:
            self.email.errors = [*self.email.errors, _l("Give an e-mail address or a phone number, so we can reach you.")]
            return False
        return valid


class LinkForm(BaseForm):
    contact_id = IntegerField(validators=[Optional()])
    station_id = IntegerField(validators=[Optional()])


class EventLeadForm(BaseForm):
    category = SelectField(_l("Category"), choices=LeadCategory.choices(), validators=[DataRequired()])
    field = StringField(_l("Field"), validators=[Optional(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=4000)])
    submission_token = HiddenField()


class PresentDemandForm(BaseForm):
    """Presents a demand (``liaison.demands``) the user manages at the event."""

    demand_id = SelectField(_l("Demand"), coerce=int, choices=[], widget=PlainSelect(),
                            validators=[InputRequired(message=_l("Choose a demand."))])
