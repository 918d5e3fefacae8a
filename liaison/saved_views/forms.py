from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm, SelectField


class SaveViewForm(BaseForm):
    list = HiddenField(validators=[DataRequired(), Length(max=40)])
    query = HiddenField(validators=[Optional()])  # cleaned by services.clean_query, never refused
    name = StringField(_l("Name of the view"), validators=[DataRequired(), Length(max=100)],
                       description=_l("e.g. “Milan, submitted this month”"))
    share = SelectField(_l("Who sees it"), validators=[Optional()], validate_choice=False)


class RenameViewForm(BaseForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=100)])


class DeleteViewForm(BaseForm):
    pass
