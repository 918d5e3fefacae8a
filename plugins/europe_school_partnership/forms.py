from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from liaison.forms import BaseForm, CountryCode, SelectField, SelectMultipleField
from liaison.i18n import country_choices

from .choices import DocumentKind, HomeKind, PartnerKind, ProgrammeKind
from .dates import local_today
from .stages import MOVES


def not_in_future(form, field):
    if field.data and field.data > local_today():
        raise ValidationError(_l("The date cannot be in the future."))


class PartnershipForm(BaseForm):
    home_name = StringField(_l("Home institution"), validators=[DataRequired(), Length(max=200)],
                            description=_l("e.g. Wenzhou Technician College"))
    home_name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=200)],
                               description=_l("e.g. 温州技师学院"))
    home_kind = SelectField(_l("Kind of home institution"), choices=HomeKind.choices(), validators=[DataRequired()])
    home_city = StringField(_l("City of the home institution"), validators=[DataRequired(), Length(max=120)],
                            description=_l("e.g. Wenzhou"))
    partner_name = StringField(_l("European partner"), validators=[DataRequired(), Length(max=200)],
                               description=_l("e.g. University of South Wales"))
    partner_name_original = StringField(_l("Name in the original language"), validators=[Optional(), Length(max=200)],
                                        description=_l("e.g. Istituto Europeo di Design"))
    partner_kind = SelectField(_l("Kind of partner"), choices=PartnerKind.choices(), validators=[DataRequired()])
    partner_country = SelectField(_l("Partner's country"), validators=[DataRequired(), CountryCode()])
    partner_city = StringField(_l("Partner's city"), validators=[Optional(), Length(max=120)])
    programme_kind = SelectField(_l("Programme"), choices=ProgrammeKind.choices(), validators=[DataRequired()])
    majors = StringField(_l("Majors"), validators=[Optional(), Length(max=1000)],
                         description=_l("Separate with commas, e.g. intelligent manufacturing, new-energy vehicles"))
    contact_ids = SelectMultipleField(_l("Contacts"), coerce=int, validators=[Optional()],
                                      description=_l("People of the station's network who follow this partnership."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_country.choices = country_choices(blank=_l("Choose a country"))
        self.contact_ids.choices = [(contact.id, _contact_label(contact)) for contact in contacts]


class NewPartnershipForm(PartnershipForm):
    first_contact_on = DateField(_l("First contact on"), validators=[InputRequired(), not_in_future])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=500)],
                            description=_l("e.g. Send the draft MoU to the partner"))
    next_step_due = DateField(_l("Due on"), validators=[Optional()])

    def validate_next_step_due(self, field):
        if self.next_step.data and not field.data:
            raise ValidationError(_l("Give the date the next step is due."))
        if field.data and not self.next_step.data:
            raise ValidationError(_l("Say what the next step is, or leave the date empty."))
        if field.data and field.data < local_today():
            raise ValidationError(_l("Choose today or a later date: a step due in the past would be overdue at once."))


def _contact_label(contact) -> str:
    parts = [contact.name]
    if contact.name_zh:
        parts.append(contact.name_zh)
    if contact.organisation:
        parts.append(f"— {contact.organisation}")
    return " ".join(parts)


class MoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in MOVES.items()], validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give the date it happened."))],
                   description=_l("The day of the meeting or the signing."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    # Ending a partnership must be confirmed: checked by the stage machine, not only in the page.
    confirm = BooleanField(_l("I confirm"))
    override_reason = TextAreaField(
        _l("Go ahead without the document — reason"), validators=[Optional(), Length(max=2000)],
        description=_l("Only if the signed document cannot be registered now; the reason is kept in the timeline."))


class NextStepForm(BaseForm):
    version = IntegerField(validators=[InputRequired()])
    next_step = StringField(_l("Next step"), validators=[DataRequired(), Length(max=500)])
    next_step_due = DateField(_l("Due on"), validators=[InputRequired(message=_l("Give the date the next step is due."))])
    save = SubmitField(_l("Save next step"))


class CompleteStepForm(BaseForm):
    version = IntegerField(validators=[InputRequired()])


class DocumentForm(BaseForm):
    kind = SelectField(_l("Kind of document"), choices=DocumentKind.choices(), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)],
                        description=_l("e.g. Memorandum of understanding on the 3+2 programme"))
    signed_on = DateField(_l("Signed on"), validators=[Optional(), not_in_future])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class FilterForm(BaseForm):
    """Query-string filters of the list, the board and the counts."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    programme = SelectField(_l("Programme"), validators=[Optional()], validate_choice=False)
    station = SelectField(_l("Station"), validators=[Optional()], validate_choice=False)
    stage = SelectField(_l("Stage"), validators=[Optional()], validate_choice=False)
    due = SelectField(_l("Next step"), validators=[Optional()], validate_choice=False)
