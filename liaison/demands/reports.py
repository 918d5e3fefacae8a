"""The demands' section of the report page (the core's ``liaison_report_sections``): demands by
kind and status, matches by stage per region, what landed and the leads demands produced —
each counted in SQL (GROUP BY), over the report's stations.

* Demands are not station-owned: a demand counts for the report when it targets the region of
  one of the report's stations (every demand when the report covers every station), recorded by
  the end of the period; at its status today, with those recorded in the period apart.
* Matches are the contacts' stations': those recorded by the end of the period, at their stage
  today; "landed in the period" are those that reached "landed" in it. Counted per station
  (GROUP BY station, stage) and summed per region in Python (a few hundred rows at most).
* Leads from demands: leads with the demand as their source, created in the period.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from ..i18n import display_name
from ..models import Region, Station, TalentLead, db
from ..models.base import rarely
from ..reports.sections import ReportSection, ReportTable
from .models import Demand, DemandKind, DemandMatch, DemandRegion, DemandStatus, MatchStage


def _region_ids(stations) -> list[int] | None:
    if stations is None:
        return None
    return list(db.session.scalars(select(Station.region_id).where(Station.id.in_(list(stations))).distinct()))


def demand_counts(period, stations) -> dict[str, dict[str, list[int]]]:
    """``{kind: {status: [count, recorded in the period]}}``."""
    start, end = period.utc_bounds()
    stmt = (select(Demand.kind, Demand.status, func.count(), func.sum(case((Demand.created_at >= start, 1), else_=0)))
            .where(Demand.created_at < end).group_by(Demand.kind, Demand.status))
    regions = _region_ids(stations)
    if regions is not None:
        stmt = stmt.where(Demand.id.in_(select(DemandRegion.demand_id).where(DemandRegion.region_id.in_(regions))))
    counts: dict[str, dict[str, list[int]]] = {}
    for kind, status, n, fresh in db.session.execute(stmt):
        counts.setdefault(kind, {})[status] = [int(n), int(fresh or 0)]
    return counts


def demand_counts_by_region(period, stations) -> dict[int, dict[str, list[int]]]:
    """``{region_id: {status: [count, recorded in the period]}}`` by the demands' target regions
    (a demand presented to two regions counts for each) — one GROUP BY."""
    start, end = period.utc_bounds()
    stmt = (select(DemandRegion.region_id, Demand.status, func.count(),
                   func.sum(case((Demand.created_at >= start, 1), else_=0)))
            .join(Demand, Demand.id == DemandRegion.demand_id).where(Demand.created_at < end)
            .group_by(DemandRegion.region_id, Demand.status))
    regions = _region_ids(stations)
    if regions is not None:
        stmt = stmt.where(DemandRegion.region_id.in_(regions))
    counts: dict[int, dict[str, list[int]]] = {}
    for region_id, status, n, fresh in db.session.execute(stmt):
        counts.setdefault(region_id, {})[status] = [int(n), int(fresh or 0)]
    return counts


def match_counts_by_station(period, stations) -> dict[int, dict[str, int]]:
    """``{station_id: {stage: count, "landed_in_period": n, "leads": n}}`` — the contact's station
    (``demand_matches.station_id``; a lead's own station), one GROUP BY each."""
    start, end = period.utc_bounds()
    landed_now = case(((DemandMatch.stage == MatchStage.LANDED.value) & (DemandMatch.stage_changed_at >= start)
                       & (DemandMatch.stage_changed_at < end), 1), else_=0)
    stmt = (select(DemandMatch.station_id, DemandMatch.stage, func.count(), func.sum(landed_now))
            .where(DemandMatch.created_at < end).group_by(DemandMatch.station_id, DemandMatch.stage))
    leads = (select(TalentLead.station_id, func.count())
             .where(rarely(TalentLead.source_demand_id.is_not(None)), TalentLead.created_at >= start,
                    TalentLead.created_at < end).group_by(TalentLead.station_id))
    if stations is not None:
        stmt = stmt.where(DemandMatch.station_id.in_(list(stations)))
        leads = leads.where(TalentLead.station_id.in_(list(stations)))
    result: dict[int, dict[str, int]] = {}
    for station_id, stage, n, landed in db.session.execute(stmt):
        row = result.setdefault(station_id, {})
        row[stage] = int(n)
        row["landed_in_period"] = row.get("landed_in_period", 0) + int(landed or 0)
    for station_id, n in db.session.execute(leads):
        result.setdefault(station_id, {})["leads"] = int(n)
    return result


def _region_of(station_ids) -> dict[int, int]:
    if not station_ids:
        return {}
    return dict(db.session.execute(select(Station.id, Station.region_id).where(Station.id.in_(list(station_ids)))).all())


def match_counts(period, stations, *, per_station: dict[int, dict[str, int]] | None = None) -> dict[int, dict[str, int]]:
    """``{region_id: {stage: count, "landed_in_period": n, "leads": n}}``: the stations' counts
    (``match_counts_by_station``, or ``per_station`` when given) summed per region."""
    if per_station is None:
        per_station = match_counts_by_station(period, stations)
    region_of = _region_of(per_station)
    result: dict[int, dict[str, int]] = {}
    for station_id, counts in per_station.items():
        row = result.setdefault(region_of.get(station_id, 0), {})
        for name, n in counts.items():
            row[name] = row.get(name, 0) + n
    return result


def section(period, stations) -> ReportSection:
    statuses, kinds, stages = list(DemandStatus), list(DemandKind), list(MatchStage)
    counts = demand_counts(period, stations)
    kind_rows = []
    for kind in kinds:
        row = counts.get(kind.value, {})
        if not row:
            continue
        kind_rows.append([kind.label, *[row.get(s.value, [0, 0])[0] for s in statuses],
                          sum(v[0] for v in row.values()), sum(v[1] for v in row.values())])
    per_station = match_counts_by_station(period, stations)
    matches = match_counts(period, stations, per_station=per_station)
    by_region = demand_counts_by_region(period, stations)
    regions = {r.id: r for r in db.session.scalars(select(Region).where(Region.id.in_([*matches, *by_region])))}
    demand_region_ids = sorted(by_region, key=lambda i: regions[i].code if i in regions else "")
    demand_region_rows = [[display_name(regions[i]) if i in regions else str(i),
                           *[by_region[i].get(s.value, [0, 0])[0] for s in statuses],
                           sum(v[0] for v in by_region[i].values()), sum(v[1] for v in by_region[i].values())]
                          for i in demand_region_ids]
    region_ids = sorted(matches, key=lambda i: regions[i].code if i in regions else "")

    def counted(row: dict[str, int]) -> list[int]:
        return [*[row.get(s.value, 0) for s in stages], sum(row.get(s.value, 0) for s in stages),
                row.get("landed_in_period", 0), row.get("leads", 0)]

    match_rows = [[display_name(regions[i]) if i in regions else str(i), *counted(matches[i])] for i in region_ids]
    station_list = list(db.session.scalars(select(Station).where(Station.id.in_(list(per_station)))
                                           .order_by(Station.sort_key, Station.id)))
    station_rows = [[display_name(s), display_name(regions[s.region_id]) if s.region_id in regions else "",
                     *counted(per_station[s.id])] for s in station_list]
    return ReportSection(_l("Demands and matchmaking"), [
        ReportTable("demands.kind_status", _l("Demands by kind and status"),
                    [_l("Kind"), *[s.label for s in statuses], _l("Total"), _l("Recorded in the period")],
                    kind_rows, keys=[k.value for k in kinds if counts.get(k.value)], chart="bar",
                    series=(len(statuses) + 1,),
                    note=_l("Demands recorded by the end of the period, at their status today; for a selection "
                            "of stations, the demands presented to their regions.")),
        ReportTable("demands.region_status", _l("Demands by target region and status"),
                    [_l("Region"), *[s.label for s in statuses], _l("Total"), _l("Recorded in the period")],
                    demand_region_rows, keys=[str(i) for i in demand_region_ids], chart="bar",
                    series=(len(statuses) + 1,),
                    note=_l("A demand presented to several regions counts for each. Demands belong to no station: "
                            "a station's figures are its matches and leads below.")),
        ReportTable("demands.match_stage", _l("Matches by stage and region"),
                    [_l("Region"), *[s.label for s in stages], _l("Total"), _l("Landed in the period"),
                     _l("Leads from demands in the period")],
                    match_rows, keys=[str(i) for i in region_ids], chart="bar",
                    series=(len(stages) + 1, len(stages) + 2),
                    note=_l("Matches recorded by the end of the period, at their stage today, by the region of "
                            "the contact's station.")),
        ReportTable("demands.match_station", _l("Matches by stage and station"),
                    [_l("Station"), _l("Region"), *[s.label for s in stages], _l("Total"),
                     _l("Landed in the period"), _l("Leads from demands in the period")],
                    station_rows, keys=[str(s.id) for s in station_list], chart=None,
                    note=_l("The same matches by the contact's station; leads from demands by the lead's station.")),
    ], order=50, plugin="core")
