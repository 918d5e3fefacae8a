"""The report's rules: what a user's report covers, the tables shown (and drawn, and downloaded),
the plugins' sections, closing and reopening periods, and the differences between a closed
period's snapshot and today's data."""
from __future__ import annotations

import copy
import csv
import io
from dataclasses import dataclass, field
from typing import Any, Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..i18n import country_name, display_name
from ..models import (AuditEntry, ContactKind, LandingKind, LeadCategory, LeadStatus, ReportPeriod, Station, User,
                      db, utcnow)
from ..scope import visible_station_ids
from . import figures as F
from .charts import Table
from .periods import Period
from .sections import ReportSection

# The audit trail's descriptions of this area's actions.

STAGE_LABELS = {"submitted": _l("Submitted"), "accepted": _l("Accepted"), "referred": _l("Referred"),
                "landed": _l("Landed")}
TIME_LABELS = {"review": _l("First review"), "acceptance": _l("Acceptance"), "landing": _l("Landing")}


class Refused(Exception):
    """A rule says no; ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


# What a report covers ----------------------------------------------------------------------

def station_ids_in_scope(user: User, region_id: int | None = None, station_id: int | None = None) -> tuple[int, ...] | None:
    """The stations the report counts: the user's scope (``liaison.scope``) narrowed by the
    filters; ``None`` means every station (HQ without a region or station filter)."""
    visible = visible_station_ids(user)
    if visible is None and region_id is None and station_id is None:
        return None
    stmt = select(Station.id)
    if visible is not None:
        stmt = stmt.where(Station.id.in_(visible))
    if region_id is not None:
        stmt = stmt.where(Station.region_id == region_id)
    if station_id is not None:
        stmt = stmt.where(Station.id == station_id)
    return tuple(db.session.scalars(stmt.order_by(Station.id)))


def whole_bureau(selection: F.Selection) -> bool:
    """The selection a closed period's snapshot is about: every station, every category."""
    return selection.station_ids is None and not selection.category


@dataclass
class ReportView:
    selection: F.Selection
    figures: dict[str, Any]
    tables: list[Table]
    closed: ReportPeriod | None = None
    from_snapshot: bool = False
    differences: list[dict[str, Any]] = field(default_factory=list)
    sections: list[ReportSection] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.all_tables() if t.key == key), None)

    def all_tables(self) -> Iterable[Table]:
        yield from self.tables
        for section in self.sections:
            yield from section.tables


def closed_period(key: str) -> ReportPeriod | None:
    return db.session.scalar(select(ReportPeriod).where(ReportPeriod.key == key, ReportPeriod.closed.is_(True)))


# Computed figures, per process: the times to review, acceptance and landing read the timeline of
# every lead of the period (a few hundred ms at 100,000 leads on SQLite). An entry is used only
# while the data it was computed from is unchanged — the newest timeline entry, the last change
# to a lead, the newest contact and the last change to a station or region (one indexed probe
# each) — and at most ``REPORTS_CACHE_SECONDS`` (default 300; 0 turns the cache off).
_CACHE_KEY = "liaison_reports_cache"
_CACHE_SIZE = 64


def _data_version() -> tuple:
    from sqlalchemy import func

    from ..models import Contact, LeadEvent, Region, TalentLead

    return tuple(db.session.execute(select(
        select(func.max(LeadEvent.id)).scalar_subquery(),
        select(func.max(TalentLead.updated_at)).scalar_subquery(),
        select(func.max(Contact.id)).scalar_subquery(),
        select(func.max(Station.updated_at)).scalar_subquery(),
        select(func.max(Region.updated_at)).scalar_subquery(),
    )).one())


def live_figures(selection: F.Selection) -> dict[str, Any]:
    """Today's figures for ``selection`` (see the cache above)."""
    import threading
    import time
    from collections import OrderedDict

    from flask import current_app

    seconds = float(current_app.config.get("REPORTS_CACHE_SECONDS", 300))
    if seconds <= 0:
        return F.compute(selection)
    cache = current_app.extensions.setdefault(_CACHE_KEY, {"lock": threading.Lock(), "entries": OrderedDict()})
    key = (selection.period.key, selection.station_ids, selection.category, _data_version())
    now = time.monotonic()
    with cache["lock"]:
        found = cache["entries"].get(key)
        if found is not None and now - found[0] < seconds:
            cache["entries"].move_to_end(key)
            return copy.deepcopy(found[1])
    figures = F.compute(selection)
    with cache["lock"]:
        cache["entries"][key] = (now, copy.deepcopy(figures))
        while len(cache["entries"]) > _CACHE_SIZE:
            cache["entries"].popitem(last=False)
    return figures


def build(selection: F.Selection, *, with_sections: bool = True) -> ReportView:
    """The report for ``selection``: for a closed period over the whole bureau, the snapshot and
    how today's data differs from it; otherwise today's figures."""
    closed = closed_period(selection.period.key) if selection.period.closable else None
    live = live_figures(selection)
    if closed is not None and whole_bureau(selection):
        snapshot = closed.snapshot.get("figures", {})
        view = ReportView(selection, snapshot, tables(snapshot), closed, True)
        view.differences = differences(view.tables, tables(live))
    else:
        view = ReportView(selection, live, tables(live), closed, False)
    if with_sections:
        view.sections = plugin_sections(selection)
    return view


# Tables ------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def tables(figures: dict[str, Any]) -> list[Table]:
    """The report's tables from its figures (today's or a snapshot's), labelled in the viewer's
    language. Charts are drawn from these rows; the CSV downloads are these rows."""
    if not figures:
        return []
    stage_columns = [STAGE_LABELS[s] for s in F.STAGES]
    result = [
        Table("funnel", _l("Funnel"), [_l("Stage"), _l("Leads"), _l("Of the previous stage"), _l("Of all submitted")],
              [[STAGE_LABELS[r["stage"]], r["count"], _pct(r["rate"]), _pct(r["overall"])] for r in figures["funnel"]],
              keys=[r["stage"] for r in figures["funnel"]], chart="bar"),
        Table("status", _l("Leads by status"), [_l("Status"), _l("Leads")],
              [[LeadStatus.label_of(s), n] for s, n in _ordered(figures["by_status"], LeadStatus)],
              keys=[s for s, _n in _ordered(figures["by_status"], LeadStatus)], chart="bar"),
        Table("category", _l("Leads by category"), [_l("Category"), *stage_columns],
              [[LeadCategory.label_of(r["category"]), *[r[s] for s in F.STAGES]] for r in figures["by_category"]],
              keys=[r["category"] for r in figures["by_category"]], chart="bar", series=(1, 4)),
        Table("region", _l("Leads by region"), [_l("Region"), *stage_columns],
              [[display_name(r["name"], r["name_zh"]), *[r[s] for s in F.STAGES]] for r in figures["by_region"]],
              keys=[r["region"] for r in figures["by_region"]], chart="bar", series=(1, 4)),
        Table("month", _l("Leads by month"), [_l("Month"), _l("Submitted"), _l("Landed")],
              [[r["month"], r["submitted"], r["landed"]] for r in figures["by_month"]],
              keys=[r["month"] for r in figures["by_month"]], chart="line", series=(1, 2),
              note=_l("Submitted: by the date of submission. Landed: by the landing date.")),
        Table("times", _l("Time from submission (days)"),
              [_l("Stage reached"), _l("Leads"), _l("Median"), _l("90th percentile")],
              [[TIME_LABELS[name], t["count"], _days(t["median"]), _days(t["p90"])]
               for name, t in figures["times"].items()],
              keys=list(figures["times"]), chart=None,
              note=_l("From the first submission to the first time the lead reached the stage, "
                      "over the leads submitted in the period that reached it.")),
        Table("landings", _l("What landed"), [_l("Kind"), _l("Landings")],
              [[LandingKind.label_of(k), n] for k, n in _ordered(figures["landings_by_kind"], LandingKind)],
              keys=[k for k, _n in _ordered(figures["landings_by_kind"], LandingKind)], chart="bar",
              note=_l("Leads that landed in the period, by their landing date.")),
        Table("stations", _l("Ranking of stations"),
              [_l("Rank"), _l("Station"), _l("Region"), *stage_columns],
              [[r["rank"], display_name(r["name"], r["name_zh"]), display_name(r["region_name"], r["region_name_zh"]),
                *[r[s] for s in F.STAGES]] for r in figures["by_station"]],
              keys=[str(r["station_id"]) for r in figures["by_station"]], chart=None,
              note=_l("Ranked by leads landed, then accepted, then submitted.")),
        Table("contact_kind", _l("Contacts added, by kind"), [_l("Kind"), _l("Contacts")],
              [[ContactKind.label_of(k), n] for k, n in _ordered(figures["contacts_by_kind"], ContactKind)],
              keys=[k for k, _n in _ordered(figures["contacts_by_kind"], ContactKind)], chart="bar"),
        Table("contact_country", _l("Contacts added, by country"), [_l("Country"), _l("Contacts")],
              [[country_name(c) or _("Unknown"), n] for c, n in figures["contacts_by_country"].items()],
              keys=list(figures["contacts_by_country"]), chart="bar"),
    ]
    return result


def _ordered(counts: dict[str, int], vocabulary) -> list[tuple[str, int]]:
    order = {member.value: i for i, member in enumerate(vocabulary)}
    return sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def differences(snapshot: list[Table], today: list[Table]) -> list[dict[str, Any]]:
    """Every cell of the snapshot's tables that today's data gives differently (rows added or gone
    included): the late corrections of a closed period."""
    now = {t.key: t for t in today}
    found = []
    for table in snapshot:
        other = now.get(table.key)
        if other is None:
            continue
        before = dict(zip(table.keys, table.rows))
        after = dict(zip(other.keys, other.rows))
        for key in list(before) + [k for k in after if k not in before]:
            old, new = before.get(key), after.get(key)
            label = (old or new)[0] if table.key != "stations" else (old or new)[1]
            for index, column in enumerate(table.columns):
                if index == 0 or (table.key == "stations" and index in (0, 1, 2)):
                    continue
                a = old[index] if old else None
                b = new[index] if new else None
                if a != b:
                    found.append({"table": table.title, "table_key": table.key, "row": label, "column": column,
                                  "closed": a, "today": b})
    return found


# Plugins' sections -------------------------------------------------------------------------

def plugin_sections(selection: F.Selection) -> list[ReportSection]:
    """Sections of the plugins active for at least one of the stations in the selection; each
    is given only those of the stations where it is active."""
    from ..plugins import activation, host

    plugin_host = host()
    snapshot = activation.current()
    sections: list[ReportSection] = []
    for name in activation.installed():
        if "liaison_report_sections" not in plugin_host.implemented_hooks(name):
            continue
        if not snapshot.switches(name).ever_on:
            continue
        active = activation.active_station_ids(name)
        stations = sorted(active if selection.station_ids is None else active & set(selection.station_ids))
        if not stations:
            continue
        failed, results = plugin_host.call_one("liaison_report_sections", name,
                                               period=selection.period, stations=stations)
        if failed:
            continue
        for result in results:
            for section in result if isinstance(result, (list, tuple)) else [result]:
                if not isinstance(section, ReportSection):
                    plugin_host.record_error(name, "liaison_report_sections",
                                             TypeError(f"expected ReportSection, got {type(section).__name__}"))
                    continue
                section.plugin = name
                for table in section.tables:
                    if not table.key.startswith(f"{name}."):
                        table.key = f"{name}.{table.key}"
                sections.append(section)
    return sorted(sections, key=lambda s: (s.order, s.plugin))


# CSV ---------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell must not start like a formula (spreadsheet formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(table: Table) -> bytes:
    """The table as CSV: UTF-8 with a BOM (Excel then reads Chinese correctly), text cells that
    could start a formula neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(str(c)) for c in table.columns])
    for row in table.rows:
        writer.writerow([neutralise(str(c)) if not isinstance(c, (int, float)) else c for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# Closing and reopening periods ---------------------------------------------------------------

def close_period(period: Period, actor: User, today) -> ReportPeriod:
    """Freeze the figures of ``period`` over the whole bureau; refuse a period that has not ended,
    a range of days or one already closed. Commits."""
    if not period.closable:
        raise Refused(_("Only a year, a quarter or a month can be closed."), "period")
    if period.last >= today:
        raise Refused(_("A period can be closed once it has ended."), "period")
    record = db.session.scalar(select(ReportPeriod).where(ReportPeriod.key == period.key))
    if record is not None and record.closed:
        raise Refused(_("This period is already closed."), "period")
    selection = F.Selection(period, None, None)
    snapshot = {"figures": F.compute(selection), "computed_at": utcnow().isoformat(timespec="seconds")}
    if record is None:
        record = ReportPeriod(key=period.key, kind=period.kind, starts_on=period.first, ends_on=period.last)
        db.session.add(record)
    record.closed, record.snapshot = True, snapshot
    record.closed_at, record.closed_by_id = utcnow(), actor.id
    record.reopened_at = record.reopened_by_id = record.reopen_reason = None
    db.session.flush()
    db.session.add(AuditEntry(actor_id=actor.id, action="report.close", object_type="report_period",
                              object_id=record.id, details={"name": period.key}))
    db.session.commit()
    return record


def reopen_period(record: ReportPeriod, actor: User, reason: str) -> None:
    """An admin reopens a closed period (its figures follow today's data again). Audited; commits."""
    if not actor.is_admin:
        raise Refused(_("Only an administrator can reopen a period."))
    if not record.closed:
        raise Refused(_("This period is not closed."))
    record.closed = False
    record.reopened_at, record.reopened_by_id, record.reopen_reason = utcnow(), actor.id, reason
    db.session.add(AuditEntry(actor_id=actor.id, action="report.reopen", object_type="report_period",
                              object_id=record.id, details={"name": record.key, "reason": reason}))
    db.session.commit()
