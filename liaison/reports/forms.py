from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import BaseForm
from ..i18n import display_name, local_today
from ..models import LeadCategory, db
from ..scope import visible_regions_query, visible_stations_query
from . import periods


class ReportFilterForm(BaseForm):
    """The report's filters (GET, no token). ``selection_values()`` after ``validate()``."""

    class Meta:
        csrf = False

    period = StringField(_l("Period"), validators=[Optional(), Length(max=20)],
                         description=_l("A year (2025), a quarter (2025-Q4) or a month (2025-11)."))
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    station = SelectField(_l("Station"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])

    parsed: periods.Period | None = None

    def fill_choices(self) -> None:
        """Choices in the user's scope (``liaison.scope``): a station or region outside it is
        "not a valid choice", like any other value not in the list."""
        stations = db.session.scalars(visible_stations_query()).all()
        self.station.choices = [("", _("All stations"))] + [(str(s.id), display_name(s)) for s in stations]
        self._station_regions = {s.id: s.region_id for s in stations}
        regions = [r for r in db.session.scalars(visible_regions_query())]
        self.region.choices = [("", _("All regions"))] + [(r.code, display_name(r)) for r in regions]
        self._region_ids = {r.code: r.id for r in regions}
        self.category.choices = [("", _("All categories"))] + LeadCategory.choices()

    def validate_period(self, field) -> None:
        if field.data:
            try:
                self.parsed = periods.named(field.data)
            except periods.PeriodError as error:
                raise ValidationError(str(error)) from None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        start, end = self.date_from.data, self.date_to.data
        if start or end:
            if self.period.data:
                self.period.errors.append(_("Choose a named period or dates, not both."))
                return False
            # An open end: from the first day the reports know, or until today.
            start = start or date(periods.MIN_YEAR, 1, 1)
            end = end or max(local_today(), start)
            try:
                self.parsed = periods.between(start, end)
            except periods.PeriodError as error:
                self.date_to.errors.append(str(error))
                return False
        return True

    @property
    def region_id(self) -> int | None:
        return self._region_ids.get(self.region.data) if self.region.data else None

    @property
    def station_id(self) -> int | None:
        return int(self.station.data) if self.station.data else None


class ClosePeriodForm(BaseForm):
    period = StringField(_l("Period to close"), validators=[DataRequired(), Length(max=20)],
                         description=_l("A year (2025), a quarter (2025-Q4) or a month (2025-11) that has ended."))

    parsed: periods.Period | None = None

    def validate_period(self, field) -> None:
        try:
            self.parsed = periods.named(field.data)
        except periods.PeriodError as error:
            raise ValidationError(str(error)) from None


class ReopenPeriodForm(BaseForm):
    reason = TextAreaField(_l("Why is the period reopened?"), validators=[DataRequired(), Length(max=2000)])
