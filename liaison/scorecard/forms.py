from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from ..forms import BaseForm
from ..reports.periods import MAX_YEAR, MIN_YEAR
from .services import FIGURES, MAX_WEIGHT


class YearForm(BaseForm):
    """The scorecard's year (GET, no token)."""

    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(MIN_YEAR, MAX_YEAR)])


class WeightsForm(BaseForm):
    """HQ's weights of one year: a number from 0 to 100 per figure."""

    year = IntegerField(_l("Year"), id="weights-year", validators=[InputRequired(), NumberRange(MIN_YEAR, MAX_YEAR)])

    def weights(self) -> dict[str, float]:
        return {key: float(getattr(self, f"w_{key}").data) for key, _label in FIGURES}

    def weight_fields(self):
        return [getattr(self, f"w_{key}") for key, _label in FIGURES]


for _key, _label in FIGURES:
    setattr(WeightsForm, f"w_{_key}", DecimalField(
        _label, places=None, validators=[InputRequired(), NumberRange(0, MAX_WEIGHT)],
        description=_l("From 0 (not counted) to %(max)d.", max=MAX_WEIGHT)))
