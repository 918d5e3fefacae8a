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
    """HQ's weights of one year: a number from 0 to 100 per figure (``for_figures`` adds the
    plugins' figures of the year)."""

    year = IntegerField(_l("Year"), id="weights-year", validators=[InputRequired(), NumberRange(MIN_YEAR, MAX_YEAR)])
    extra_keys: tuple[str, ...] = ()

    def weights(self) -> dict[str, float]:
        found = {key: float(getattr(self, f"w_{key}").data) for key, _label in FIGURES}
        found.update({key: float(getattr(self, field_name(key)).data) for key in self.extra_keys})
        return found

    def weight_fields(self):
        return [getattr(self, f"w_{key}") for key, _label in FIGURES] + [getattr(self, field_name(key))
                                                                          for key in self.extra_keys]


def field_name(key: str) -> str:
    """The form field of a plugin figure's weight ("asean_language_title.granted" →
    "w_asean_language_title__granted")."""
    return "w_" + key.replace(".", "__")


def for_figures(extra) -> type[WeightsForm]:
    """A subclass of ``WeightsForm`` with a field per plugin figure (a new class each time: the
    shared class is never changed)."""
    if not extra:
        return WeightsForm
    fields = {field_name(f.key): DecimalField(
        f.label, places=None, validators=[InputRequired(), NumberRange(0, MAX_WEIGHT)],
        description=_l("From 0 (not counted) to %(max)d.", max=MAX_WEIGHT)) for f in extra}
    return type("PluginWeightsForm", (WeightsForm,), {**fields, "extra_keys": tuple(f.key for f in extra)})


for _key, _label in FIGURES:
    setattr(WeightsForm, f"w_{_key}", DecimalField(
        _label, places=None, validators=[InputRequired(), NumberRange(0, MAX_WEIGHT)],
        description=_l("From 0 (not counted) to %(max)d.", max=MAX_WEIGHT)))
