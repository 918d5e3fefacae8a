"""Forms of demands and matches."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import BaseForm, PhoneNumber, PlainSelect, SelectField, SelectMultipleField, optional_email
from .models import FIELD_LENGTH, DemandKind, DemandSource, DemandStatus
from .services import DEMAND_WORKFLOW, MATCH_WORKFLOW

MAX_FIELDS = 12


class DemandForm(BaseForm):
    phone_region = "CN"  # the demand's contact person is at home: numbers without "+" are Chinese

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("What is needed, in a line, e.g. Battery-system engineers for a new plant."))
    organisation = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=200)])
    source_kind = SelectField(_l("The organisation is"), choices=DemandSource.choices(),
                              validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("Contact person's phone"), validators=[Optional(), Length(max=40), PhoneNumber()])
    contact_email = optional_email(_l("Contact person's e-mail"))
    kind = SelectField(_l("Kind of demand"), choices=DemandKind.choices(), validators=[DataRequired()])
    fields = StringField(_l("Fields"), validators=[DataRequired(), Length(max=1200)],
                         description=_l("Separated by commas, e.g. new-energy vehicles, battery, 新能源汽车. "
                                        "Suggestions of talent are found by these."))
    requirements = TextAreaField(_l("Requirements"), validators=[DataRequired(), Length(max=10000)])
    salary_range = StringField(_l("Salary range"), validators=[Optional(), Length(max=100)],
                               description=_l("E.g. 400,000–600,000 CNY a year."))
    funding = StringField(_l("Funding"), validators=[Optional(), Length(max=200)])
    policy_support = TextAreaField(_l("Policy support"), validators=[Optional(), Length(max=4000)])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    regions = SelectMultipleField(_l("Presented to the stations of"), coerce=int,
                                  validators=[DataRequired(message=_l("Choose at least one region."))])
    version = HiddenField()

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        from ..i18n import region_label

        self.regions.choices = [(r.id, region_label(r)) for r in regions]

    def validate_fields(self, field):
        from ..models.contact import split_list

        items = split_list(field.data)
        if not items:
            raise ValidationError(_l("Name at least one field."))
        if len(items) > MAX_FIELDS:
            raise ValidationError(_l("At most %(num)d fields.", num=MAX_FIELDS))
        if any(len(item) > FIELD_LENGTH for item in items):
            raise ValidationError(_l("A field is at most %(num)d characters long.", num=FIELD_LENGTH))

    def data_for_service(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "title", "organisation", "source_kind", "city", "contact_name", "contact_phone", "contact_email",
            "kind", "requirements", "salary_range", "funding", "policy_support", "deadline")}


class DemandMoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in DEMAND_WORKFLOW.items()],
                       validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class MatchForm(BaseForm):
    """HQ introduces a contact (from the suggestions, or by number) to the demand."""

    contact_id = IntegerField(_l("Contact no."), validators=[InputRequired(message=_l("Choose a contact."))])
    lead_id = IntegerField(_l("Lead no."), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    # The events the demand was presented at (set by the view); 0: not at an event.
    event_id = SelectField(_l("Made at the event"), coerce=int, choices=[], validators=[Optional()])


class MatchMoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in MATCH_WORKFLOW.items()],
                       validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    comment = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class DemandFilterForm(BaseForm):
    """The list's filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), choices=[("", _l("Any status"))] + DemandStatus.choices(),
                         validators=[Optional()], widget=PlainSelect())
    kind = SelectField(_l("Kind"), choices=[("", _l("Any kind"))] + DemandKind.choices(), validators=[Optional()],
                       widget=PlainSelect())
    field = StringField(_l("Field"), validators=[Optional(), Length(max=FIELD_LENGTH)])
    region = SelectField(_l("Region"), coerce=lambda v: int(v) if str(v).isdigit() else None,
                         validators=[Optional()], widget=PlainSelect())

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        from ..i18n import region_label

        self.region.choices = [("", _l("Any region"))] + [(r.id, region_label(r)) for r in regions]
