from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms import BaseForm, strip
from ..i18n import display_name
from ..models import LeadCategory, RuleCriterion, RuleStrategy, db
from ..plugins import activation
from ..scope import visible_regions_query, visible_stations_query

CRITERIA = lambda: [  # noqa: E731 - labels in the reader's language
    (RuleCriterion.ANY, _("Every lead")), (RuleCriterion.REGION, _("Region")),
    (RuleCriterion.CATEGORY, _("Category")), (RuleCriterion.STATION, _("Station")),
    (RuleCriterion.PLUGIN, _("Plugin active for the lead's station")),
]
STRATEGIES = lambda: [  # noqa: E731
    (RuleStrategy.REVIEWER, _("One reviewer")), (RuleStrategy.ROUND_ROBIN, _("Round-robin within a group")),
    (RuleStrategy.LEAST_LOADED, _("Least-loaded within a group")),
]


def criterion_label(value: str) -> str:
    return dict(CRITERIA()).get(value, value)


def strategy_label(value: str) -> str:
    return dict(STRATEGIES()).get(value, value)


class RuleForm(BaseForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=120)])
    position = IntegerField(_l("Order"), default=10, validators=[InputRequired(), NumberRange(min=0, max=9999)],
                            description=_l("Rules are tried from the lowest number; the first that matches assigns."))
    active = BooleanField(_l("In force"), default=True)
    criterion = SelectField(_l("Applies to"), validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=str, default="")
    category = SelectField(_l("Category"), coerce=str, default="")
    station_id = SelectField(_l("Station"), coerce=str, default="")
    plugin = SelectField(_l("Plugin"), coerce=str, default="")
    strategy = SelectField(_l("Assign to"), validators=[DataRequired()])
    reviewer_id = SelectField(_l("Reviewer"), coerce=str, default="")
    member_ids = SelectMultipleField(_l("Reviewer group"), coerce=str)

    def fill_choices(self, reviewers) -> None:
        blank = [("", "—")]
        self.criterion.choices = CRITERIA()
        self.strategy.choices = STRATEGIES()
        self.region_id.choices = blank + [(str(r.id), display_name(r)) for r in db.session.scalars(visible_regions_query())]
        self.station_id.choices = blank + [(str(s.id), display_name(s))
                                           for s in db.session.scalars(visible_stations_query())]
        self.category.choices = blank + LeadCategory.choices()
        self.plugin.choices = blank + [(name, name) for name in activation.installed()]
        self.reviewer_id.choices = blank + [(str(u.id), u.name) for u in reviewers]
        self.member_ids.choices = [(str(u.id), u.name) for u in reviewers]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        needed = {RuleCriterion.REGION: self.region_id, RuleCriterion.CATEGORY: self.category,
                  RuleCriterion.STATION: self.station_id, RuleCriterion.PLUGIN: self.plugin}.get(self.criterion.data)
        if needed is not None and not needed.data:
            needed.errors = list(needed.errors) + [_("Choose one for this kind of rule.")]
            valid = False
        if self.strategy.data == RuleStrategy.REVIEWER and not self.reviewer_id.data:
            self.reviewer_id.errors = list(self.reviewer_id.errors) + [_("Choose the reviewer.")]
            valid = False
        if self.strategy.data in (RuleStrategy.ROUND_ROBIN, RuleStrategy.LEAST_LOADED) and not self.member_ids.data:
            self.member_ids.errors = list(self.member_ids.errors) + [_("Choose at least one reviewer for the group.")]
            valid = False
        return valid

    def values(self) -> dict:
        def as_id(value):
            return int(value) if value else None

        return {"name": self.name.data, "position": self.position.data, "active": self.active.data,
                "criterion": self.criterion.data, "strategy": self.strategy.data,
                "region_id": as_id(self.region_id.data), "station_id": as_id(self.station_id.data),
                "category": self.category.data or None, "plugin": self.plugin.data or None,
                "reviewer_id": as_id(self.reviewer_id.data)}

    def member_id_list(self) -> list[int]:
        return [int(v) for v in self.member_ids.data or []]


class ConfirmForm(BaseForm):
    """A POST with only the CSRF token (delete, re-apply)."""


# Review deadlines (/review/deadlines) ------------------------------------------------------------

DEADLINE_STATUSES = ("submitted", "under_review", "needs_info", "accepted", "referred")


class DeadlinesForm(BaseForm):
    """HQ's deadline per status: days allowed in it (0: none; blank: the configured default) and
    how many days before it the reminder goes out."""

    def rows(self):
        return [(status, getattr(self, f"days_{status}"), getattr(self, f"remind_{status}"))
                for status in DEADLINE_STATUSES]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for _status, days, remind in self.rows():
            if days.data is None and remind.data is not None:
                days.errors = list(days.errors) + [_("Set the deadline too, or leave the reminder empty.")]
                valid = False
            elif days.data is not None and remind.data is not None and remind.data > days.data:
                remind.errors = list(remind.errors) + [_("The reminder cannot come before the status begins: "
                                                         "at most the deadline's days.")]
                valid = False
        return valid

    def values(self) -> dict:
        return {status: None if days.data is None else (days.data, remind.data or 0)
                for status, days, remind in self.rows()}


def _deadline_fields() -> None:
    from ..models import LeadStatus
    from ..models.deadlines import MAX_DEADLINE_DAYS
    from wtforms.validators import Optional

    for status in DEADLINE_STATUSES:
        label = LeadStatus.label_of(status)
        setattr(DeadlinesForm, f"days_{status}", IntegerField(
            _l("Days in “%(status)s”", status=label), validators=[Optional(), NumberRange(0, MAX_DEADLINE_DAYS)],
            description=_l("0: no deadline; empty: the default.")))
        setattr(DeadlinesForm, f"remind_{status}", IntegerField(
            _l("Reminder, days before (“%(status)s”)", status=label),
            validators=[Optional(), NumberRange(0, MAX_DEADLINE_DAYS)]))


_deadline_fields()
