from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import BaseForm, SelectField
from .models import TokenAccess
from .tokens import LIFETIMES


class TokenForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. “provincial talent database sync”."))
    access = SelectField(_l("Access"), choices=[(TokenAccess.READ, _l("Read only")),
                                                (TokenAccess.WRITE, _l("Read and write"))],
                         default=TokenAccess.READ)
    days = SelectField(_l("Expires after"), coerce=int, default=90,
                       choices=[(days, _l("%(days)s days", days=days)) for days in LIFETIMES])
    station = SelectField(_l("Restrict to a station"), validate_choice=True, default="",
                          description=_l("Optional: the token then sees and changes only this station's records."))
    submit = SubmitField(_l("Create token"))


class RevokeForm(BaseForm):
    submit = SubmitField(_l("Revoke"))
