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
    regions: tuple[int, ...] | None = None  # the regions whose snapshot is shown
    sections_today: bool = False  # a snapshot kept before sections were frozen: today's sections
    # The snapshot put together from the figures kept per station (a station, a volunteer's
    # stations); its sections (kept for the bureau and each region only) are today's.
    stations_kept: bool = False

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


def cached(key: tuple, compute):
    """``compute()``, kept per process for ``key`` while the data it reads is unchanged (see
    above): the report's figures, the scorecard's figures of every station. A copy is returned,
    so callers may change what they get."""
    import threading
    import time
    from collections import OrderedDict

    from flask import current_app

    seconds = float(current_app.config.get("REPORTS_CACHE_SECONDS", 300))
    if seconds <= 0:
        return compute()
    cache = current_app.extensions.setdefault(_CACHE_KEY, {"lock": threading.Lock(), "entries": OrderedDict()})
    key = (*key, _data_version())
    now = time.monotonic()
    with cache["lock"]:
        found = cache["entries"].get(key)
        if found is not None and now - found[0] < seconds:
            cache["entries"].move_to_end(key)
            return copy.deepcopy(found[1])
    value = compute()
    with cache["lock"]:
        cache["entries"][key] = (now, copy.deepcopy(value))
        while len(cache["entries"]) > _CACHE_SIZE:
            cache["entries"].popitem(last=False)
    return value


def live_figures(selection: F.Selection) -> dict[str, Any]:
    """Today's figures for ``selection`` (see the cache above)."""
    return cached(("figures", selection.period.key, selection.station_ids, selection.category),
                  lambda: F.compute(selection))


def build(selection: F.Selection, *, with_sections: bool = True, regions: tuple[int, ...] | None = None) -> ReportView:
    """The report for ``selection``: for a closed period, the snapshot kept for the selection —
    the whole bureau's, or one region's (or a regional admin's set of regions, ``regions``) — and
    how today's data differs from it (plugins' sections included); otherwise today's figures."""
    closed = closed_period(selection.period.key) if selection.period.closable else None
    live = live_figures(selection)
    kept = snapshot_for(closed, selection, regions) if closed is not None else None
    if kept is not None:
        snapshot = kept.get("figures", {})
        view = ReportView(selection, snapshot, tables(snapshot), closed, True)
        view.differences = differences(view.tables, tables(live))
        view.stations_kept = bool(kept.get("per_station"))
        view.regions = regions if selection.station_ids is not None and not view.stations_kept else None
    else:
        view = ReportView(selection, live, tables(live), closed, False)
    if with_sections:
        today = plugin_sections(selection)
        if kept is not None and "sections" in kept:
            view.sections = thaw_sections(kept["sections"])
            view.differences += differences([t for s in view.sections for t in s.tables],
                                            [t for s in today for t in s.tables], sections=True)
        else:
            view.sections = today
            view.sections_today = kept is not None and not view.stations_kept
    return view


def snapshot_for(record: ReportPeriod, selection: F.Selection, regions: tuple[int, ...] | None) -> dict | None:
    """The part of a closed period's snapshot that is about ``selection``: the whole bureau's
    (every station, every category); the figures kept for exactly ``regions`` (every station of
    those regions, every category), with their sections; or else the selection's stations' figures
    put together from those kept per station (``F.combine``; ``per_station`` marks them, they have
    no sections). ``None`` when nothing was kept for it: a category, a snapshot taken before
    stations were kept, a set of stations whose times were not kept (``F.combine``)."""
    if selection.category:
        return None
    if selection.station_ids is None:
        return record.snapshot
    if regions:
        kept = (record.snapshot.get("regions") or {}).get(region_key(regions))
        if kept is not None:
            return kept
    stations = record.snapshot.get("stations")
    if not stations:
        return None
    figures = F.combine(selection.period, selection.station_ids, stations, record.snapshot.get("figures", {}))
    return {"figures": figures, "per_station": True} if figures is not None else None


def region_key(regions: Iterable[int]) -> str:
    return ",".join(str(r) for r in sorted(set(regions)))


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
    return result + on_time_tables(figures.get("on_time"))


DEADLINE_LABELS = {"submitted": _l("Review started (from submitted)"),
                   "needs_info": _l("Answered by the station (from needs information)"),
                   "accepted": _l("Referred (from accepted)")}


def _kept(counts: dict[str, int]) -> list[Any]:
    done = counts["on_time"] + counts["late"]
    return [counts["on_time"], counts["late"], _pct(_share(counts["on_time"], done)), counts["open_overdue"]]


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _sum(items: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(("on_time", "late", "open_overdue"), 0)
    for counts in items:
        for name in total:
            total[name] += counts.get(name, 0)
    return total


def on_time_tables(kept: dict[str, Any] | None) -> list[Table]:
    """The review deadlines kept: per deadline, per region, per station (a snapshot taken before
    these figures existed has none)."""
    if not kept or not kept.get("statuses"):
        return []
    columns = [_l("On time"), _l("Late"), _l("On-time rate"), _l("Open, overdue")]
    statuses = kept["statuses"]
    by_status = {s: _sum(row["by_status"].get(s, {}) for row in kept["by_station"]) for s in statuses}
    regions: dict[str, dict[str, Any]] = {}
    for row in kept["by_station"]:
        region = regions.setdefault(row["region"], {"name": row["region_name"], "name_zh": row["region_name_zh"],
                                                    "counts": []})
        region["counts"].extend(row["by_status"].values())
    note = (_l("Deadlines in working days (Chinese public holidays and make-up days).") if kept.get("working_days")
            else _l("Deadlines in calendar days."))
    return [
        Table("on_time", _l("Review deadlines kept"), [_l("Deadline"), *columns],
              [[DEADLINE_LABELS.get(s) or LeadStatus.label_of(s), *_kept(by_status[s])] for s in statuses],
              keys=list(statuses), chart="bar", series=(1, 2, 4),
              note=" ".join((_("On time and late: stays in the status that ended in the period. Open, overdue: "
                                 "still waiting at the end of the period (now, for a period not yet over) and past "
                                 "the deadline."), str(note)))),
        Table("on_time_region", _l("Review deadlines kept, by region"), [_l("Region"), *columns],
              [[display_name(r["name"], r["name_zh"]), *_kept(_sum(r["counts"]))]
               for _code, r in sorted(regions.items())],
              keys=sorted(regions), chart="bar", series=(1, 2, 4)),
        Table("on_time_station", _l("Review deadlines kept, by station"), [_l("Station"), _l("Region"), *columns],
              [[display_name(r["name"], r["name_zh"]), display_name(r["region_name"], r["region_name_zh"]),
                *_kept(_sum(r["by_status"].values()))] for r in kept["by_station"]],
              keys=[str(r["station_id"]) for r in kept["by_station"]], chart=None),
    ]


def _ordered(counts: dict[str, int], vocabulary) -> list[tuple[str, int]]:
    order = {member.value: i for i, member in enumerate(vocabulary)}
    return sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float)) else str(value)


def differences(snapshot: list[Table], today: list[Table], *, sections: bool = False) -> list[dict[str, Any]]:
    """Every cell of the snapshot's tables that today's data gives differently (rows added or gone
    included): the late corrections of a closed period. ``sections``: plugins' tables (their row
    labels are compared as text, in the viewer's language)."""
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
                a = _cell(old[index]) if old and index < len(old) else None
                b = _cell(new[index]) if new and index < len(new) else None
                if a != b:
                    found.append({"table": table.title, "table_key": table.key, "row": label, "column": column,
                                  "closed": a, "today": b, "section": sections})
    return found


# The core areas' sections (``liaison.core_hooks``: demands, …) -----------------------------

def core_sections(selection: F.Selection) -> list[ReportSection]:
    """The core's own ``liaison_report_sections`` over the selection's stations (``None``: every
    station); they come first among the plugins' sections (``plugin_sections``)."""
    from ..core_hooks import liaison_report_sections

    sections = []
    for section in liaison_report_sections(period=selection.period, stations=selection.station_ids):
        section.plugin = "core"
        sections.append(section)
    return sections


# Plugins' sections -------------------------------------------------------------------------

def plugin_sections(selection: F.Selection) -> list[ReportSection]:
    """Sections of the plugins active for at least one of the stations in the selection; each
    is given only those of the stations where it is active."""
    from ..plugins import activation, host

    plugin_host = host()
    snapshot = activation.current()
    sections: list[ReportSection] = core_sections(selection)
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


# Frozen sections (closed periods) ------------------------------------------------------------

LANGUAGES = ("en", "zh")


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float)) else str(value)


def freeze_sections(selection: F.Selection) -> dict[str, list[dict[str, Any]]]:
    """The plugins' sections for ``selection`` as plain data, once per language (each plugin is
    asked under that locale, so its labels, row keys included, are that language's)."""
    from flask_babel import force_locale

    frozen: dict[str, list[dict[str, Any]]] = {}
    for language in LANGUAGES:
        with force_locale(language):
            frozen[language] = [{
                "plugin": section.plugin, "order": section.order, "title": _text(section.title),
                "note": _text(section.note) or "",
                "tables": [{"key": t.key, "title": _text(t.title), "columns": [_text(c) for c in t.columns],
                            "rows": [[_text(c) for c in row] for row in t.rows], "keys": [str(k) for k in t.keys],
                            "chart": t.chart, "series": list(t.series), "unit": _text(t.unit) or "",
                            "note": _text(t.note) or ""} for t in section.tables],
            } for section in plugin_sections(selection)]
    return frozen


def thaw_sections(frozen: dict[str, list[dict[str, Any]]]) -> list[ReportSection]:
    """Frozen sections in the viewer's language (English when the snapshot lacks it)."""
    from flask_babel import get_locale

    locale = get_locale()
    language = locale.language if locale is not None else "en"
    chosen = frozen.get(language) or frozen.get("en") or []
    sections = []
    for data in chosen:
        sections.append(ReportSection(data["title"], [
            Table(t["key"], t["title"], t["columns"], t["rows"], keys=t["keys"], chart=t["chart"],
                  series=tuple(t["series"]), unit=t.get("unit", ""), note=t.get("note", ""))
            for t in data["tables"]], note=data.get("note", ""), order=data.get("order", 100), plugin=data["plugin"]))
    return sections


def region_sets() -> list[tuple[int, ...]]:
    """The selections a closed period keeps figures for besides the whole bureau: every region
    with stations, and each set of several regions one regional admin holds (their whole scope)."""
    from ..models import Region
    from ..models.user import region_admin

    singles = [(r,) for r in db.session.scalars(
        select(Region.id).where(Region.id.in_(select(Station.region_id))).order_by(Region.id))]
    held: dict[int, set[int]] = {}
    for user_id, region_id in db.session.execute(select(region_admin.c.user_id, region_admin.c.region_id)):
        held.setdefault(user_id, set()).add(region_id)
    several = sorted({tuple(sorted(regions)) for regions in held.values() if len(regions) > 1})
    return singles + several


def station_sets() -> list[tuple[int, ...]]:
    """Each set of several stations one volunteer holds (their whole scope): the selections besides
    single stations whose times (medians do not add up) a closed period keeps."""
    from ..models import Role
    from ..models.user import station_membership

    held: dict[int, set[int]] = {}
    for user_id, station_id in db.session.execute(
            select(station_membership.c.user_id, station_membership.c.station_id)
            .join(User, User.id == station_membership.c.user_id).where(User.role == Role.VOLUNTEER)):
        held.setdefault(user_id, set()).add(station_id)
    return sorted({tuple(sorted(stations)) for stations in held.values() if len(stations) > 1})


def snapshot(period: Period) -> dict[str, Any]:
    """What closing ``period`` keeps: the whole bureau's figures and plugins' sections, the same
    for every region set of ``region_sets`` (keyed "3" or "3,5"), and every station's figures in a
    compact, additive form (``F.station_parts``, ``F.times_by_set``: a few statements grouped by
    station, never one per station), from which any set of stations' figures is put together."""
    whole = F.Selection(period, None, None)
    kept: dict[str, Any] = {"figures": F.compute(whole), "sections": freeze_sections(whole),
                            "computed_at": utcnow().isoformat(timespec="seconds"), "regions": {},
                            "stations": {**F.station_parts(period),
                                         "times": F.times_by_set(period, station_sets())}}
    for regions in region_sets():
        stations = tuple(db.session.scalars(select(Station.id).where(Station.region_id.in_(regions))
                                            .order_by(Station.id)))
        part = F.Selection(period, stations, None)
        kept["regions"][region_key(regions)] = {"figures": F.compute(part), "sections": freeze_sections(part),
                                                "stations": list(stations)}
    return kept


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
        writer.writerow(["" if c is None else c if isinstance(c, (int, float)) else neutralise(str(c)) for c in row])
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
    kept = snapshot(period)
    if record is None:
        record = ReportPeriod(key=period.key, kind=period.kind, starts_on=period.first, ends_on=period.last)
        db.session.add(record)
    record.closed, record.snapshot = True, kept
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
