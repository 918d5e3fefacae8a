from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from liaison.forms import BaseForm, SelectField, SelectMultipleField
from liaison.models import utcnow

from .choices import Document, Level, Route, Status
from .rules import MAX_YEARS
from .workflow import AUTOMATIC, MOVES


class CheckboxListField(SelectMultipleField):
    """A checklist: one checkbox per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def not_in_future(form, field):
    if field.data and field.data > utcnow().date():
        raise ValidationError(_l("This date cannot be in the future."))


class ApplicationForm(BaseForm):
    language = SelectField(_l("Translation language"), validators=[DataRequired()])
    level = SelectField(_l("Level applied for"), choices=Level.choices(), validators=[DataRequired()])
    practice_years = IntegerField(
        _l("Years of translation practice"), validators=[InputRequired(), NumberRange(min=0, max=MAX_YEARS)],
        description=_l("Full years of professional translation or interpreting work."))
    current_title = SelectField(_l("Current title"), choices=[("", _l("No title yet"))] + Level.choices(),
                                validators=[Optional()])
    current_title_since = DateField(_l("Current title held since"), validators=[Optional(), not_in_future],
                                    description=_l("The date on the certificate of the current title."))
    education = StringField(_l("Education"), validators=[Optional(), Length(max=300)],
                            description=_l("Highest degree, major and school, e.g. BA in Vietnamese, "
                                           "Guangxi University for Nationalities, 2012."))
    credentials = TextAreaField(_l("Credentials"), validators=[Optional(), Length(max=2000)],
                                description=_l("Translation certificates (e.g. CATTI level 2), awards, "
                                               "memberships."))
    representative_works = TextAreaField(_l("Representative works"), validators=[Optional(), Length(max=4000)],
                                         description=_l("Published translations or interpreting assignments, "
                                                        "one per line."))
    documents = CheckboxListField(_l("Documents at hand"), choices=Document.choices(), validators=[Optional()])
    submission_token = HiddenField()
    version = HiddenField()
    save = SubmitField(_l("Save draft"))
    save_and_submit = SubmitField(_l("Save and submit"))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # Not an inline validator: Optional() would stop the chain before it on an empty date.
        since = self.current_title_since
        if self.current_title.data and not since.data and not since.errors:
            since.errors.append(_l("Give the date the current title was obtained."))
            valid = False
        return valid


class MoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in MOVES.items()], validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])
    certificate_number = StringField(_l("Certificate number"), validators=[Optional(), Length(max=60)])
    decision_date = DateField(_l("Date of the decision"), validators=[Optional()],
                              description=_l("For a title granted, the date on the certificate."))


class RouteForm(BaseForm):
    route = SelectField(_l("Evaluation route"), validators=[DataRequired()], choices=[
        *Route.choices(), (AUTOMATIC, _l("Automatic (from the region's settings)"))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l(
        "Give the reason for changing the route; it is kept in the timeline.")), Length(max=2000)])
    version = IntegerField(validators=[InputRequired()])


class ApplicationFilterForm(BaseForm):
    class Meta:
        csrf = False

    language = SelectField(_l("Translation language"), validators=[Optional()], validate_choice=False)
    level = SelectField(_l("Level"), validators=[Optional()], validate_choice=False)
    route = SelectField(_l("Route"), validators=[Optional()], validate_choice=False,
                        choices=[("", _l("Any route")), *Route.choices()])
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False,
                         choices=[("", _l("Any status")), ("open", _l("Open (not decided)")), *Status.choices()])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=1990, max=2100)])


class StatisticsForm(BaseForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=1990, max=2100)])
    language = SelectField(_l("Translation language"), validators=[Optional()], validate_choice=False)
    level = SelectField(_l("Level"), validators=[Optional()], validate_choice=False)
    route = SelectField(_l("Route"), validators=[Optional()], validate_choice=False,
                        choices=[("", _l("Any route")), *Route.choices()])
