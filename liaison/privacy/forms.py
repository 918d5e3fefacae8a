"""Forms of the masking layer: revealing a contact's masked fields, with a reason."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm, SelectField, none_if_blank
from ..models import RevealReason


class RevealForm(BaseForm):
    reason = SelectField(_l("Why do you need to see them?"),
                         choices=[("", _l("Choose a reason…"))] + RevealReason.choices(),
                         validators=[DataRequired(message=_l("Choose why you need to see the personal fields."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=300)], filters=[none_if_blank])
    next = HiddenField()
