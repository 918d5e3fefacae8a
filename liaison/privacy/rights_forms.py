"""Forms of the data subject's rights (search, erasure request and decision)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm


class SubjectSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name, e-mail address or phone number"), validators=[Optional(), Length(max=200)])


class ErasureRequestForm(BaseForm):
    reason = TextAreaField(
        _l("Why should this person's data be erased?"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("E.g. the person asked on 3 May by e-mail. The approver reads this; do not repeat "
                       "the person's contact details here."),
    )


class ApproveForm(BaseForm):
    confirm = BooleanField(_l("I have checked the request: erase this person's data now. This cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm the erasure."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()


class RejectForm(BaseForm):
    note = TextAreaField(_l("Why is the request rejected?"), validators=[DataRequired(), Length(max=2000)])
    version = HiddenField()


class CancelForm(BaseForm):
    version = HiddenField()


class ResolveFlagForm(BaseForm):
    pass
