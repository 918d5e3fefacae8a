from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import BaseForm, SelectField


class AppointmentForm(BaseForm):
    user_id = SelectField(_l("Volunteer"), coerce=int, validators=[DataRequired(message=_l("Choose a volunteer."))])
    station_id = SelectField(_l("Station"), coerce=int, validators=[DataRequired(message=_l("Choose a station."))])
    appointed_on = DateField(_l("Appointed on"), validators=[InputRequired(message=_l("Enter a date."))])
    term_start = DateField(_l("Term starts"), validators=[InputRequired(message=_l("Enter a date."))])
    term_end = DateField(_l("Term ends"), validators=[InputRequired(message=_l("Enter a date."))])
    appointing_body = StringField(_l("Appointing body"), validators=[DataRequired(), Length(max=200)],
                                  description=_l("e.g. the county's Overseas Chinese Affairs Office"))
    letter_number = StringField(_l("Letter number"), validators=[Optional(), Length(max=80)],
                                description=_l("The number of the appointment letter, e.g. 侨联聘〔2026〕12号"))

    def __init__(self, *args, volunteers=(), stations=(), **kwargs):
        super().__init__(*args, **kwargs)
        from ..i18n import display_name

        self.user_id.choices = [(0, _l("Choose a volunteer"))] + [(u.id, f"{u.name} <{u.email}>") for u in volunteers]
        self.station_id.choices = [(0, _l("Choose a station"))] + [(s.id, display_name(s)) for s in stations]

    def validate_term_end(self, field):
        if field.data and self.term_start.data and field.data < self.term_start.data:
            raise ValidationError(_l("The end cannot be before the start."))
