from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from liaison.forms import BaseForm, CountryCode, SelectField
from liaison.i18n import country_choices, local_today

from .choices import Channel, Level, Mark, ProgrammeKind, ServiceKind, Stage
from .workflow import REQUEST_WORKFLOW, STAGE_WORKFLOW


def not_in_future(form, field):
    if field.data and field.data > local_today():
        raise ValidationError(_l("The date cannot be in the future."))


class StudentForm(BaseForm):
    school = StringField(_l("School or university"), validators=[DataRequired(), Length(max=200)],
                         description=_l("e.g. University of Milan"))
    programme = StringField(_l("Programme of study"), validators=[Optional(), Length(max=200)])
    field = StringField(_l("Field"), validators=[DataRequired(), Length(max=120)],
                        description=_l("e.g. mechanical engineering, design, finance"))
    level = SelectField(_l("Level"), choices=Level.choices(), validators=[DataRequired()])
    start_on = DateField(_l("Start of study"), validators=[Optional()])
    expected_end_on = DateField(_l("Expected end"), validators=[Optional()])
    country = SelectField(_l("Country of study"), validators=[DataRequired(), CountryCode()])
    city = StringField(_l("City of study"), validators=[DataRequired(), Length(max=120)])
    family_contact = StringField(_l("Family contact at home"), validators=[Optional(), Length(max=300)],
                                 description=_l("Name, relation and phone"))
    emergency_contact = StringField(_l("Emergency contact abroad"), validators=[Optional(), Length(max=300)],
                                    description=_l("Name and phone"))
    home_team_id = SelectField(_l("Home county or city"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                               validators=[Optional()])
    version = HiddenField()

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(blank=_l("Choose a country"))
        self.home_team_id.choices = [("", _l("None"))] + [(team.id, f"{team.name_zh} {team.name}") for team in teams]

    def validate_expected_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError(_l("The expected end cannot be before the start."))


class NewStudentForm(StudentForm):
    stage = SelectField(_l("Stage today"), choices=Stage.choices(), validators=[DataRequired()],
                        description=_l("Record a student who has already left or returned at their stage today."))
    since = DateField(_l("Since"), validators=[InputRequired(message=_l("Give the date.")), not_in_future])


class StageForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in STAGE_WORKFLOW.items()], validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give the date it happened.")), not_in_future])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    employer = StringField(_l("Employer"), validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class RequestForm(BaseForm):
    kind = SelectField(_l("Service"), choices=ServiceKind.choices(), validators=[DataRequired()])
    summary = TextAreaField(_l("What the student needs"), validators=[DataRequired(), Length(max=4000)])


class RequestMoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in REQUEST_WORKFLOW.items()],
                       validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    department_id = SelectField(_l("Department of the alliance"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                                validators=[Optional()], validate_choice=True)
    due_on = DateField(_l("Answer due on"), validators=[Optional()])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=4000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.department_id.choices = [("", _l("Choose a department"))] + [
            (d.id, f"{d.name_zh} — {d.name}") for d in departments]


class RollCallForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("e.g. Flooding in northern Italy"))
    country = SelectField(_l("Country"), validators=[DataRequired(), CountryCode()])
    city = StringField(_l("City (optional)"), validators=[Optional(), Length(max=120)],
                       description=_l("Leave empty for the whole country."))
    reason = TextAreaField(_l("What happened"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(blank=_l("Choose a country"))


class MarkForm(BaseForm):
    mark = SelectField(_l("Answer"), choices=[(m.value, m.label) for m in Mark if m is not Mark.PENDING],
                       validators=[DataRequired()])
    channel = SelectField(_l("Channel"), choices=[("", _l("Choose a channel"))] + Channel.choices(),
                          validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ProgrammeForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=ProgrammeKind.choices(), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Chinese title"), validators=[Optional(), Length(max=200)])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    places = IntegerField(_l("Places"), validators=[Optional(), NumberRange(min=1, max=10000)])
    host = StringField(_l("Host enterprise"), validators=[Optional(), Length(max=200)],
                       description=_l("For an internship: the enterprise that takes the students."))
    fields = StringField(_l("Fields it suits"), validators=[Optional(), Length(max=300)],
                         description=_l("Separate with commas; students are matched by field."))
    location = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    event_id = SelectField(_l("Event"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                           validators=[Optional()],
                           description=_l("Optional: the event of the core's calendar where this happens."))

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.event_id.choices = [("", _l("No event"))] + [(e.id, f"{e.starts_at:%Y-%m-%d} {e.title_zh} {e.title}")
                                                          for e in events]

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end cannot be before the start."))


class ApplyForm(BaseForm):
    student_id = IntegerField(_l("Student"), validators=[InputRequired()])


class DecideForm(BaseForm):
    decision = SelectField(choices=[("match", _l("Give a place")), ("decline", _l("No place")),
                                    ("attended", _l("Attended")), ("absent", _l("Did not attend"))],
                           validators=[DataRequired()])


class DepartmentForm(BaseForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=200)],
                          description=_l("e.g. 县人力社保局"))
    name = StringField(_l("English name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("e.g. County human resources and social security bureau"))
    position = IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=0, max=1000)],
                            description=_l("Smaller numbers come first in the referral list."))
    active = BooleanField(_l("Active: offered for referrals"), default=True)


class TeamForm(BaseForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=200)],
                          description=_l("e.g. 嘉善县"))
    name = StringField(_l("English name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("e.g. Jiashan County"))


class MemberForm(BaseForm):
    email = StringField(_l("E-mail of the account"), validators=[DataRequired(), Length(max=200)])


class FilterForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    stage = SelectField(_l("Stage"), validators=[Optional()], validate_choice=False)
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    field = StringField(_l("Field"), validators=[Optional(), Length(max=120)])
