from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from ..forms import BaseForm, SelectField, SelectMultipleField
from ..models import Role


class UserForm(BaseForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254),
                                                 Email(message=_l("Enter a valid e-mail address, e.g. name@example.org."))])
    role = SelectField(_l("Role"), choices=Role.choices(), validators=[DataRequired()])
    regions = SelectMultipleField(_l("Regions"), coerce=int, validators=[Optional()],
                                  description=_l("For regional admins: the regions they run."))
    stations = SelectMultipleField(_l("Stations"), coerce=int, validators=[Optional()],
                                   description=_l("For volunteers: the stations they work for."))


class UserFilterForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), validators=[Optional()], validate_choice=False,
                       choices=[("", _l("Any role"))] + Role.choices())


class RegionForm(BaseForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20),
                                              Regexp(r"^[A-Z][A-Z0-9_]*$", message=_l("Capital letters, digits and _ only, e.g. ASEAN."))],
                       filters=[lambda v: v.upper() if isinstance(v, str) else v])
    name = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=120)],
                       description=_l("Shown to readers using English, e.g. Europe."))
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=120)],
                          description=_l("Shown to readers using Chinese, e.g. 欧洲; blank shows the English name."))
