from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import BaseForm, SelectField
from ..models import LandingKind, LeadCategory, Priority
from . import files as attachment_files
from .workflow import MOVES


class AttachableFiles:
    """Checks every chosen file (``liaison.leads.files``) and keeps the good ones in
    ``field.uploads``; one message per refused file, shown next to the field."""

    def __init__(self, required: bool = False):
        self.required = required

    def __call__(self, form, field):
        uploads, problems = attachment_files.check_uploads(field.data or [])
        field.uploads = [] if problems else uploads
        if problems:
            field.errors.extend(problems)
        elif self.required and not uploads:
            raise ValidationError(_l("Choose a file to attach."))


class LeadForm(BaseForm):
    category = SelectField(_l("Category"), choices=LeadCategory.choices(), validators=[DataRequired()])
    field = StringField(_l("Field"), validators=[Optional(), Length(max=200)],
                        description=_l("e.g. intelligent manufacturing, biomedicine"))
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=4000)],
                            description=_l("Who the person is and why the lead matters, in a few sentences."))
    wants = TextAreaField(_l("What the person wants"), validators=[Optional(), Length(max=4000)])
    offer = TextAreaField(_l("What we can offer"), validators=[Optional(), Length(max=4000)])
    priority = SelectField(_l("Priority"), coerce=int, choices=Priority.choices(), default=Priority.NORMAL)
    submission_token = HiddenField()
    version = HiddenField()
    save = SubmitField(_l("Save draft"))
    save_and_submit = SubmitField(_l("Save and submit to HQ"))


class MoveForm(BaseForm):
    move = SelectField(choices=[(name, move.label) for name, move in MOVES.items()], validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])
    referral_target = StringField(_l("Referred to"), validators=[Optional(), Length(max=200)],
                                  description=_l("A department or partner, e.g. the talent office, a development zone, an enterprise."))
    landed_on = DateField(_l("Landed on"), validators=[Optional()])
    landing_kind = SelectField(_l("What landed"), choices=[("", "—")] + LandingKind.choices(), validate_choice=False)
    files = MultipleFileField(_l("Attach files"), validators=[AttachableFiles()])


class AttachForm(BaseForm):
    files = MultipleFileField(_l("Files"), validators=[AttachableFiles(required=True)])


class CommentForm(BaseForm):
    text = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=4000)])


class AssignForm(BaseForm):
    reviewer_id = SelectField(_l("Reviewer"), coerce=int, validators=[InputRequired()])
    version = IntegerField(validators=[Optional()])


class LeadFilterForm(BaseForm):
    """Query-string filters shared by the lead list, the review queue and the exports."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    region = SelectField(_l("Region"), validators=[Optional()], validate_choice=False)
    station = SelectField(_l("Station"), validators=[Optional()], validate_choice=False)
    category = SelectField(_l("Category"), validators=[Optional()], validate_choice=False)
    reviewer = SelectField(_l("Reviewer"), validators=[Optional()], validate_choice=False)
    submitted_from = DateField(_l("Submitted from"), validators=[Optional()])
    submitted_to = DateField(_l("Submitted until"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), validators=[Optional()], validate_choice=False, choices=[
        ("-submitted", _l("Newest submitted first")),
        ("submitted", _l("Oldest submitted first")),
        ("-priority", _l("Highest priority first")),
        ("-updated", _l("Recently changed first")),
    ])
