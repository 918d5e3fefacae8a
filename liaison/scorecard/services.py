"""The scorecard's figures, computed in SQL per station (GROUP BY station, a constant number of
statements whatever the number of stations), HQ's weights and the ranking.

Figures of a station in a year (the bureau's calendar year, ``liaison.reports.periods``):

* ``contacts`` — contacts added in the year;
* ``submitted`` — leads submitted in the year;
* ``accepted`` — leads whose first move to "accepted" falls in the year;
* ``landed`` — leads landed in the year (their landing date);
* ``answer_days`` — the median number of days the station took to answer HQ's questions
  answered in the year: from a ``needs_info`` event to the lead's next event leaving
  ``needs_info`` (lower is better);
* ``volunteers`` — volunteers who recorded anything on the station's leads in the year.

The score: each weighted figure gives ``weight × value / best value`` points (for the answer
time: ``weight × (fastest + 1) / (own + 1)`` in days), so a station that is best at everything scores the sum of
the weights. Plugins add figures through ``liaison_scorecard_figures(year, station_ids)``;
HQ weighs them like the core's (stored with the year's weights under the figure's key,
``<plugin>.<figure>``; 0 until set) and they count in the score the same way
(``lower_is_better`` figures like the answer time). A plugin is asked for the figures of every
station where it is active when the viewer sees one of them, or when HQ gave one of its figures a
weight this year (the ranking is the bureau's); otherwise not at all.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, and_, cast, distinct, extract, func, select
from sqlalchemy.orm import aliased

from ..models import AuditEntry, Contact, LeadEvent, LeadStatus, Region, Station, TalentLead, User, db
from ..models.choices import Role
from ..reports import periods
from ..reports.figures import _sqlite_percentiles
from ..reports.charts import Table
from ..reports.services import neutralise
from ..scope import visible_station_ids

S = LeadStatus
MAX_WEIGHT = 100
FIGURES: tuple[tuple[str, Any], ...] = (
    ("contacts", _l("Contacts added")),
    ("submitted", _l("Leads submitted")),
    ("accepted", _l("Leads accepted")),
    ("landed", _l("Leads landed")),
    ("answer_days", _l("Median days to answer HQ")),
    ("volunteers", _l("Active volunteers")),
)
KEYS = tuple(key for key, _label in FIGURES)
LOWER_IS_BETTER = frozenset({"answer_days"})
DEFAULT_WEIGHTS: dict[str, float] = {"contacts": 1, "submitted": 2, "accepted": 3, "landed": 5,
                                     "answer_days": 2, "volunteers": 1}


@dataclass
class ScorecardFigure:
    """What a plugin returns from ``liaison_scorecard_figures``: a figure per station
    (``values``: station id → number; stations missing count 0)."""

    key: str
    label: Any
    values: dict[int, float] = field(default_factory=dict)
    plugin: str = ""
    lower_is_better: bool = False


@dataclass
class Card:
    station_id: int
    name: str
    name_zh: str | None
    region: str
    figures: dict[str, float | None]
    points: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    rank: int = 0
    plugin_figures: dict[str, float] = field(default_factory=dict)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _days(later, earlier):
    if _dialect() == "postgresql":
        return cast(extract("epoch", later - earlier) / 86400.0, Float)
    return cast(func.julianday(later) - func.julianday(earlier), Float)


def station_ids_for(user: User) -> tuple[int, ...] | None:
    """The stations whose cards ``user`` sees (``liaison.scope``); ``None``: every station (HQ)."""
    visible = visible_station_ids(user)
    if visible is None:
        return None
    return tuple(db.session.scalars(select(Station.id).where(Station.id.in_(visible)).order_by(Station.id)))


def _in(column, station_ids):
    return [column.in_(station_ids)] if station_ids is not None else []


def figures(year: int, station_ids: tuple[int, ...] | None) -> dict[int, dict[str, float | None]]:
    """Every core figure of every station (in ``station_ids``; ``None``: all) for ``year``."""
    period = periods.named(str(year))
    start, end = period.utc_bounds()
    result: dict[int, dict[str, float | None]] = {}

    def put(key: str, stmt) -> None:
        for station_id, value in db.session.execute(stmt):
            result.setdefault(station_id, {})[key] = value

    put("contacts", select(Contact.station_id, func.count())
        .where(Contact.created_at >= start, Contact.created_at < end, *_in(Contact.station_id, station_ids))
        .group_by(Contact.station_id))
    put("submitted", select(TalentLead.station_id, func.count())
        .where(TalentLead.submitted_at >= start, TalentLead.submitted_at < end,
               *_in(TalentLead.station_id, station_ids))
        .group_by(TalentLead.station_id))
    firsts = (select(LeadEvent.lead_id, func.min(LeadEvent.created_at).label("at"))
              .where(LeadEvent.to_status == S.ACCEPTED.value).group_by(LeadEvent.lead_id).subquery("firsts"))
    put("accepted", select(TalentLead.station_id, func.count())
        .join(firsts, firsts.c.lead_id == TalentLead.id)
        .where(firsts.c.at >= start, firsts.c.at < end, *_in(TalentLead.station_id, station_ids))
        .group_by(TalentLead.station_id))
    put("landed", select(TalentLead.station_id, func.count())
        .where(TalentLead.status == S.LANDED, TalentLead.landed_on >= period.first,
               TalentLead.landed_on <= period.last, *_in(TalentLead.station_id, station_ids))
        .group_by(TalentLead.station_id))
    put("volunteers", select(TalentLead.station_id, func.count(distinct(LeadEvent.actor_id)))
        .join(TalentLead, TalentLead.id == LeadEvent.lead_id).join(User, User.id == LeadEvent.actor_id)
        .where(LeadEvent.created_at >= start, LeadEvent.created_at < end, User.role == Role.VOLUNTEER,
               *_in(TalentLead.station_id, station_ids))
        .group_by(TalentLead.station_id))
    for station_id, median in answer_medians(start, end, station_ids).items():
        result.setdefault(station_id, {})["answer_days"] = median
    return result


def answer_medians(start, end, station_ids) -> dict[int, float]:
    """Median days from HQ's question (an event to ``needs_info``) to the answer (the lead's
    next event from ``needs_info``) per station, over the answers given in ``[start, end)``."""
    question, answer = aliased(LeadEvent), aliased(LeadEvent)
    answered_at = func.min(answer.created_at)
    pairs = (select(TalentLead.station_id.label("metric"), answered_at.label("answered_at"),
                    _days(answered_at, question.created_at).label("days"))
             .join(TalentLead, TalentLead.id == question.lead_id)
             .join(answer, and_(answer.lead_id == question.lead_id, answer.from_status == S.NEEDS_INFO.value,
                                answer.created_at > question.created_at))
             .where(question.to_status == S.NEEDS_INFO.value, *_in(TalentLead.station_id, station_ids))
             .group_by(TalentLead.station_id, question.id, question.created_at)).subquery("pairs")
    answered = (select(pairs.c.metric, pairs.c.days)
                .where(pairs.c.answered_at >= start, pairs.c.answered_at < end)).subquery("answered")
    if _dialect() == "postgresql":
        stmt = (select(answered.c.metric, func.count(), func.percentile_cont(0.5).within_group(answered.c.days))
                .group_by(answered.c.metric))
    else:
        stmt = _sqlite_percentiles(answered)
    return {int(row[0]): round(float(row[2]), 2) for row in db.session.execute(stmt) if row[2] is not None}


# Weights, scores, the ranking ------------------------------------------------------------------

def weights_for(year: int, extra: Iterable[ScorecardFigure] = ()) -> dict[str, float]:
    """The year's weights: stored ones, else the defaults — the core's figures', and those of the
    plugins' figures ``extra`` (0 until HQ sets one)."""
    from ..models import ScorecardWeights

    record = db.session.get(ScorecardWeights, year)
    stored = dict(record.weights) if record is not None else {}
    weights = {key: float(stored.get(key, DEFAULT_WEIGHTS[key])) for key in KEYS}
    for figure in extra:
        weights[figure.key] = float(stored.get(figure.key, 0.0))
    return weights


def set_weights(year: int, weights: dict[str, float], actor: User, extra: Iterable[ScorecardFigure] = ()) -> None:
    """Store the year's weights (the core's figures' and the plugins' figures ``extra``) and audit
    the change (before and after). A plugin's weight stored earlier stays when its figure is not
    offered now (plugin switched off). Commits."""
    from ..models import ScorecardWeights

    extra = list(extra)
    record = db.session.get(ScorecardWeights, year)
    stored = dict(record.weights) if record is not None else {}
    before = {**{k: float(v) for k, v in stored.items() if k not in KEYS}, **weights_for(year, extra)}
    after = {**{k: float(v) for k, v in stored.items() if k not in KEYS},
             **{key: float(weights[key]) for key in KEYS},
             **{f.key: float(weights[f.key]) for f in extra if f.key in weights}}
    if record is None:
        record = ScorecardWeights(year=year, weights=after, updated_by_id=actor.id)
        db.session.add(record)
    else:
        record.weights = after
        record.updated_by_id = actor.id
    db.session.add(AuditEntry(actor_id=actor.id, action="scorecard.weights", object_type="scorecard_weights",
                              object_id=year, details={"year": year, "before": before, "after": after}))
    db.session.commit()


def score(cards: list[Card], weights: dict[str, float], extra: Iterable[ScorecardFigure] = ()) -> list[Card]:
    """Points per figure (the core's and the plugins' ``extra``), the score and the rank (score,
    then landed, then name) of every card, each figure compared with the best station among
    ``cards``."""
    extra = list(extra)
    keys = KEYS + tuple(f.key for f in extra)
    lower = LOWER_IS_BETTER | {f.key for f in extra if f.lower_is_better}
    best: dict[str, float] = {}
    for key in keys:
        values = [c.figures.get(key) for c in cards if c.figures.get(key) is not None]
        if key in lower:
            best[key] = min(values) if values else 0.0
        else:
            best[key] = max(values) if values else 0.0
    for card in cards:
        card.points = {}
        for key in keys:
            value, weight = card.figures.get(key), weights.get(key, 0.0)
            if key in lower:
                # A day added to both: an answer the same day is not infinitely better.
                points = weight * (best[key] + 1) / (value + 1) if value is not None else 0.0
            else:
                points = weight * (value or 0) / best[key] if best[key] else 0.0
            card.points[key] = round(points, 2)
        card.score = round(sum(card.points.values()), 2)
    ranked = sorted(cards, key=lambda c: (-c.score, -(c.figures.get("landed") or 0), c.name.casefold(), c.station_id))
    for rank, card in enumerate(ranked, 1):
        card.rank = rank
    return ranked


def scorecard(year: int, station_ids: tuple[int, ...] | None) -> tuple[list[Card], list[ScorecardFigure]]:
    """The ranked cards of the stations (``None``: every station) for ``year``, and the plugins'
    figures. Stations are ranked among all stations (so a station's rank is the bureau's), then
    narrowed to ``station_ids``."""
    stmt = (select(Station.id, Station.name, Station.name_zh, Region.code)
            .join(Region, Region.id == Station.region_id).order_by(Station.sort_key, Station.id))
    from ..reports.services import cached

    found = cached(("scorecard", year), lambda: figures(year, None))
    cards = [Card(sid, name, name_zh, region,
                  {key: _value(found.get(sid, {}).get(key), key) for key in KEYS})
             for sid, name, name_zh, region in db.session.execute(stmt)]
    # The plugins' figures of every station (the ranking is the bureau's), weighted like the rest:
    # from the plugins the viewer sees, and those HQ weighs this year.
    from ..models import ScorecardWeights

    record = db.session.get(ScorecardWeights, year)
    weighted = {key.split(".", 1)[0] for key, value in (record.weights if record else {}).items()
                if "." in key and value}
    visible = None if station_ids is None else set(station_ids)
    extra = plugin_figures(year, [c.station_id for c in cards],
                           wanted=lambda name, active: visible is None or bool(active & visible) or name in weighted)
    for figure in extra:
        for card in cards:
            value = figure.values.get(card.station_id, 0)
            card.plugin_figures[figure.key] = value
            card.figures[figure.key] = value
    ranked = score(cards, weights_for(year, extra), extra)
    if station_ids is not None:
        wanted = set(station_ids)
        ranked = [c for c in ranked if c.station_id in wanted]
        offered = {f.key for f in plugin_figures_offered(extra, ranked)}
        extra = [f for f in extra if f.key in offered]
    return ranked, extra


def all_station_ids() -> list[int]:
    return list(db.session.scalars(select(Station.id).order_by(Station.id)))


def plugin_figures_offered(extra: list[ScorecardFigure], cards: list[Card]) -> list[ScorecardFigure]:
    """The plugins' figures about at least one of ``cards``' stations (a station sees only the
    figures of plugins switched on for it)."""
    from ..plugins import activation

    stations = {c.station_id for c in cards}
    active = {plugin: activation.active_station_ids(plugin) for plugin in {f.plugin for f in extra}}
    return [f for f in extra if stations & set(active[f.plugin])]


def _value(value, key: str):
    if key in LOWER_IS_BETTER:
        return value
    return int(value or 0)


def plugin_figures(year: int, station_ids: Iterable[int], wanted=None) -> list[ScorecardFigure]:
    """Figures of the plugins active for some of ``station_ids``, each given only those
    (``wanted(plugin, its stations)``: whether to ask that plugin at all)."""
    from ..plugins import activation, host

    plugin_host = host()
    snapshot = activation.current()
    out: list[ScorecardFigure] = []
    stations_wanted = set(station_ids)
    for name in activation.installed():
        if "liaison_scorecard_figures" not in plugin_host.implemented_hooks(name):
            continue
        if not snapshot.switches(name).ever_on:
            continue
        stations = sorted(activation.active_station_ids(name) & stations_wanted)
        if not stations or (wanted is not None and not wanted(name, set(stations))):
            continue
        failed, results = plugin_host.call_one("liaison_scorecard_figures", name, year=year, station_ids=stations)
        if failed:
            continue
        for result in results:
            for figure in result if isinstance(result, (list, tuple)) else [result]:
                if not isinstance(figure, ScorecardFigure):
                    plugin_host.record_error(name, "liaison_scorecard_figures",
                                             TypeError(f"expected ScorecardFigure, got {type(figure).__name__}"))
                    continue
                figure.plugin = name
                if not figure.key.startswith(f"{name}."):
                    figure.key = f"{name}.{figure.key}"
                allowed = set(stations)
                figure.values = {int(k): v for k, v in figure.values.items() if int(k) in allowed}
                out.append(figure)
    return out


# XLSX ---------------------------------------------------------------------------------------

def ranked_table(year: int, cards: list[Card], extra: list[ScorecardFigure], station_label) -> Table:
    """The ranked table (rank, station, region, figures, score, points per figure): the XLSX's
    first sheet and the CSV are these rows."""
    from flask_babel import gettext as _

    header = [_("Rank"), _("Station"), _("Region")] + [str(label) for _k, label in FIGURES]
    header += [str(f.label) for f in extra] + [_("Total score")] + [_("Points: %(figure)s", figure=str(label))
                                                              for _k, label in FIGURES]
    header += [_("Points: %(figure)s", figure=str(f.label)) for f in extra]
    rows = []
    for card in cards:
        row: list[Any] = [card.rank, station_label(card), card.region]
        row += [card.figures.get(key) for key in KEYS]
        row += [card.plugin_figures.get(f.key, 0) for f in extra]
        row += [card.score] + [card.points.get(key, 0.0) for key in KEYS]
        row += [card.points.get(f.key, 0.0) for f in extra]
        rows.append(row)
    return Table("scorecard", str(year), header, rows, keys=[str(c.station_id) for c in cards])


def workbook(year: int, cards: list[Card], extra: list[ScorecardFigure], weights: dict[str, float],
             station_label) -> bytes:
    """The ranked table (figures, points, score) and the weights, formula-like text neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from flask_babel import gettext as _

    book = Workbook()
    sheet = book.active
    sheet.title = f"{year}"
    table = ranked_table(year, cards, extra, station_label)
    sheet.append([neutralise(str(h)) for h in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([neutralise(c) if isinstance(c, str) else c for c in row])
    page = book.create_sheet(_("Weights")[:28] or "Weights")
    page.append([_("Figure"), _("Weight")])
    for key, label in FIGURES:
        page.append([neutralise(str(label)), weights.get(key, 0.0)])
    for figure in extra:
        page.append([neutralise(str(figure.label)), weights.get(figure.key, 0.0)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
