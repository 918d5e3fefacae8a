"""Stations: listing in scope, counts, and the changes regional admins make."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, func, select

from .. import plugins
from ..forms import normalise_phone
from ..models import AuditEntry, Contact, Region, Role, Station, StationStatus, TalentLead, User, db
from ..search import contains
from ..scope import visible_stations_query, visible_users_query

STATION_FIELDS = (
    "name", "name_zh", "region_id", "country", "city", "host_organisation", "host_kind",
    "established_on", "contact_email", "contact_phone", "notes", "volunteers_may_export",
)


def filtered_stations(user: User, region: str | None = None, country: str | None = None,
                      status: str | None = None, q: str | None = None) -> Select:
    stmt = visible_stations_query(user)
    if region:
        stmt = stmt.join(Region, Region.id == Station.region_id).where(Region.code == region)
    if country:
        stmt = stmt.where(Station.country == country.upper())
    if status:
        stmt = stmt.where(Station.status == status)
    if q:
        stmt = stmt.where(contains(q, Station.name, Station.name_zh, Station.city, Station.host_organisation))
    return stmt


def counts_by_station(station_ids: list[int]) -> dict[int, dict]:
    """Contacts and leads by status for many stations, in two grouped queries."""
    counts: dict[int, dict] = defaultdict(lambda: {"contacts": 0, "leads": defaultdict(int), "open_leads": 0})
    if not station_ids:
        return counts
    for station_id, number in db.session.execute(
        select(Contact.station_id, func.count()).where(Contact.station_id.in_(station_ids)).group_by(Contact.station_id)
    ):
        counts[station_id]["contacts"] = number
    from ..models import OPEN_LEAD_STATUSES

    for station_id, status, number in db.session.execute(
        select(TalentLead.station_id, TalentLead.status, func.count())
        .where(TalentLead.station_id.in_(station_ids))
        .group_by(TalentLead.station_id, TalentLead.status)
    ):
        counts[station_id]["leads"][status] = number
        if status in OPEN_LEAD_STATUSES:
            counts[station_id]["open_leads"] += number
    return counts


def _audit(actor: User, action: str, station: Station, **details) -> None:
    db.session.add(AuditEntry(actor_id=actor.id, action=action, object_type="station", object_id=station.id,
                              region_id=station.region_id, station_id=station.id, details=details))


def _normalise(data: dict) -> dict:
    """The contact phone as E.164 (read in the station's country when typed without "+")."""
    if data.get("contact_phone"):
        data = {**data, "contact_phone": normalise_phone(data["contact_phone"], data.get("country")) or data["contact_phone"]}
    return data


def create_station(data: dict, actor: User) -> Station:
    data = _normalise(data)
    station = Station(**{name: data[name] for name in STATION_FIELDS if name in data})
    station.country = station.country.upper()
    db.session.add(station)
    db.session.flush()
    _audit(actor, "station.create", station, name=station.name)
    db.session.commit()
    plugins.emit("liaison_event_station_created", station.id, station=station, user=actor)
    return station


def update_station(station: Station, data: dict, actor: User) -> None:
    data = _normalise({"country": station.country, **data})
    changed = {}
    for name in STATION_FIELDS:
        if name in data and getattr(station, name) != data[name]:
            changed[name] = str(data[name]) if data[name] is not None else None
            setattr(station, name, data[name])
    if changed:
        _audit(actor, "station.update", station, changed=sorted(changed))
    db.session.commit()


def set_status(station: Station, status: str, actor: User, reason: str | None = None) -> None:
    if status == station.status:
        return
    _audit(actor, "station.status", station, before=station.status, after=status, reason=reason or "")
    station.status = StationStatus(status)
    db.session.commit()


def candidate_members(station: Station, actor: User) -> list[User]:
    """Active volunteers the actor manages who are not members of the station yet."""
    from ..models import station_membership

    members = select(station_membership.c.user_id).where(station_membership.c.station_id == station.id)
    return list(db.session.scalars(
        visible_users_query(actor).where(User.role == Role.VOLUNTEER, User.active.is_(True), User.id.not_in(members))
    ))


def add_member(station: Station, user: User, actor: User) -> None:
    from ..models import station_membership

    exists = db.session.scalar(select(func.count()).select_from(station_membership).where(
        station_membership.c.station_id == station.id, station_membership.c.user_id == user.id))
    if not exists:
        db.session.execute(station_membership.insert().values(station_id=station.id, user_id=user.id))
        _audit(actor, "station.member_add", station, user_id=user.id, email=user.email)
    db.session.commit()


def remove_member(station: Station, user: User, actor: User) -> None:
    from ..models import station_membership

    result = db.session.execute(station_membership.delete().where(
        station_membership.c.station_id == station.id, station_membership.c.user_id == user.id))
    if result.rowcount:
        _audit(actor, "station.member_remove", station, user_id=user.id, email=user.email)
    db.session.commit()
