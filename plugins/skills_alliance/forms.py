from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional, ValidationError

from liaison.forms import BaseForm, CountryCode, SelectField, SelectMultipleField
from liaison.i18n import country_choices, local_today

from .choices import AgreementKind, Area, DocumentKind, DomesticKind, Level, MemberKind, MemberStatus
from .lifecycle import MOVES


def not_in_future(form, field):
    if field.data and field.data > local_today():
        raise ValidationError(_l("The date cannot be in the future."))


def _contact_label(contact) -> str:
    return " ".join(part for part in (contact.name, contact.name_zh or "",
                                      f"— {contact.organisation}" if contact.organisation else "") if part)


class MemberForm(BaseForm):
    name = StringField(_l("Institution"), validators=[DataRequired(), Length(max=200)],
                       description=_l("e.g. St. Petersburg College of Radio Communications"))
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country"), validators=[DataRequired(), CountryCode()])
    kind = SelectField(_l("Kind"), choices=MemberKind.choices(), validators=[DataRequired()])
    joined_on = DateField(_l("Joined on"), validators=[InputRequired(), not_in_future])
    certificate_no = StringField(_l("Membership certificate number"), validators=[DataRequired(), Length(max=60)])
    status = SelectField(_l("Status"), choices=MemberStatus.choices(), validators=[DataRequired()])
    contact_ids = SelectMultipleField(_l("Contact persons"), coerce=int, validators=[Optional()],
                                      description=_l("Contacts of the station who speak for the member."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(blank=_l("Choose a country"))
        self.contact_ids.choices = [(contact.id, _contact_label(contact)) for contact in contacts]


class RenewalForm(BaseForm):
    renewed_on = DateField(_l("Renewed on"), validators=[InputRequired(), not_in_future])
    valid_until = DateField(_l("Valid until"), validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def validate_valid_until(self, field):
        if field.data and self.renewed_on.data and field.data <= self.renewed_on.data:
            raise ValidationError(_l("The renewal must be valid after the day it was renewed."))


class AgreementForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)],
                        description=_l("e.g. Framework agreement on school–enterprise cooperation"))
    kind = SelectField(_l("Kind"), choices=AgreementKind.choices(), validators=[DataRequired()])
    areas = SelectMultipleField(_l("Areas of cooperation"), choices=Area.choices(),
                                validators=[DataRequired(message=_l("Choose at least one area of cooperation."))])
    member_ids = SelectMultipleField(_l("Member parties"), coerce=int, validators=[Optional()])
    home_institutions = TextAreaField(_l("Home institutions"), validators=[Optional(), Length(max=2000)],
                                      description=_l("One per line, e.g. Chongqing Technician College."))
    proposed_on = DateField(_l("Proposed on"), validators=[InputRequired(), not_in_future])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.member_ids.choices = [(m.id, f"{m.display} ({m.country})") for m in members]


class AgreementEditForm(AgreementForm):
    """The details of an agreement (its dates and status are the lifecycle's), with the version
    the user saw."""

    proposed_on = None
    version = HiddenField()


class MoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in MOVES.items()], validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give the date it happened."))])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    confirm = BooleanField(_l("I confirm"))


class MilestoneForm(BaseForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=300)],
                        description=_l("e.g. First exchange students arrive"))
    due_on = DateField(_l("Due on"), validators=[InputRequired()])


class MilestoneEditForm(MilestoneForm):
    version = HiddenField()


class RemoveForm(BaseForm):
    """Remove a part of an agreement: the version the user saw (a stale page removes nothing)."""

    version = IntegerField(validators=[InputRequired()])


class CompleteMilestoneForm(BaseForm):
    done_on = DateField(_l("Done on"), validators=[InputRequired(), not_in_future])


class DocumentForm(BaseForm):
    kind = SelectField(_l("Kind of document"), choices=DocumentKind.choices(), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    signed_on = DateField(_l("Signed on"), validators=[Optional(), not_in_future])
    url = StringField(_l("Link"), validators=[Optional(), Length(max=500), URL(message=_l("Give a web address."))],
                      description=_l("Where the document is kept, e.g. the bureau's file share."))


class DocumentEditForm(DocumentForm):
    version = HiddenField()


class RecognitionForm(BaseForm):
    issuing_country = SelectField(_l("Issuing country"), validators=[DataRequired(), CountryCode()])
    issuing_body = StringField(_l("Issuing body"), validators=[DataRequired(), Length(max=200)])
    name_original = StringField(_l("Name in the original language"), validators=[DataRequired(), Length(max=300)])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=300)])
    level = StringField(_l("Level abroad"), validators=[Optional(), Length(max=100)])
    domestic_kind = SelectField(_l("Recognised as"), choices=DomesticKind.choices(), validators=[DataRequired()])
    domestic_name = StringField(_l("Domestic qualification or title"), validators=[DataRequired(), Length(max=300)])
    domestic_level = SelectField(_l("Domestic level"), choices=Level.choices(), validators=[DataRequired()])
    source_document = StringField(_l("Source document"), validators=[DataRequired(), Length(max=300)])
    source_date = DateField(_l("Date of the source document"), validators=[InputRequired(), not_in_future])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issuing_country.choices = country_choices(blank=_l("Choose a country"))


class RemoveRecognitionForm(BaseForm):
    confirm = BooleanField(_l("Yes, remove this entry from the catalogue."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])


class ImportForm(BaseForm):
    file = FileField(_l("Spreadsheet (CSV or Excel .xlsx)"))


class ListFilterForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    kind = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False)
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)


