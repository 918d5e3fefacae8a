"""The rules of policy notices: targeting, visibility, receipts, the fan-out of notifications."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, exists, literal, or_, select, true
from sqlalchemy.orm import selectinload

from .. import jobs
from ..models import (
    Channel,
    NoticeAttachment,
    NoticeReceipt,
    NoticeTarget,
    NoticeTargetKind,
    PolicyNotice,
    Role,
    Station,
    User,
    db,
    station_membership,
    utcnow,
)
from ..notifications import mail
from ..notifications.kinds import CORE_KINDS, NotificationKind
from ..scope import station_filter

if not any(kind.name == "notice_published" for kind in CORE_KINDS):
    CORE_KINDS.append(NotificationKind(
        "notice_published", _l("HQ published a policy notice"),
        _l("HQ published a policy notice: “%(title)s”."), Channel.APP,
        _l("The volunteers of the stations the notice is for.")))


# Targeting -------------------------------------------------------------------------------------

def targets_station(notice_id_column=PolicyNotice.id, to_all_column=PolicyNotice.to_all):
    """A condition on ``Station`` (and a notice in the same query): the notice is for the station."""
    matching = exists(select(NoticeTarget.id).where(
        NoticeTarget.notice_id == notice_id_column,
        or_(and_(NoticeTarget.kind == NoticeTargetKind.STATION, NoticeTarget.station_id == Station.id),
            and_(NoticeTarget.kind == NoticeTargetKind.REGION, NoticeTarget.region_id == Station.region_id),
            and_(NoticeTarget.kind == NoticeTargetKind.HOST_KIND, NoticeTarget.host_kind == Station.host_kind)),
    ).correlate_except(NoticeTarget))
    if isinstance(to_all_column, bool):  # a loaded notice
        return true() if to_all_column else matching
    return or_(to_all_column.is_(True), matching)


def targeted_stations_query(notice: PolicyNotice):
    from ..i18n import name_order

    return select(Station).where(targets_station(notice.id, notice.to_all)).order_by(*name_order(Station))


def visible_condition(user: User):
    """Notices ``user`` may see: all for HQ; else those for a station in the user's scope."""
    if user.is_hq:
        return PolicyNotice.id.is_not(None)
    return exists(select(Station.id).where(station_filter(Station.id, user), targets_station()))


def visible_notices(user: User):
    return select(PolicyNotice).where(visible_condition(user))


def get_visible_or_404(notice_id, user: User) -> PolicyNotice:
    from flask import abort

    from ..params import parse_id

    ident = parse_id(notice_id)
    if ident is None:
        abort(404)
    notice = db.session.scalar(visible_notices(user).where(PolicyNotice.id == ident).options(
        selectinload(PolicyNotice.targets), selectinload(PolicyNotice.attachments)))
    if notice is None:
        abort(404)
    return notice


def in_effect(today: date | None = None):
    today = today or utcnow().date()
    return and_(PolicyNotice.effective_from <= today,
                or_(PolicyNotice.effective_until.is_(None), PolicyNotice.effective_until >= today))


def unread_for(user: User, limit: int = 10) -> list[PolicyNotice]:
    """A volunteer's notices in effect that they have not acknowledged yet (the home page)."""
    if not user.is_volunteer:
        return []
    acknowledged = select(NoticeReceipt.notice_id).where(NoticeReceipt.user_id == user.id,
                                                         NoticeReceipt.acknowledged_at.is_not(None))
    stmt = (visible_notices(user).where(in_effect(), PolicyNotice.id.not_in(acknowledged))
            .order_by(PolicyNotice.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


# Publishing ------------------------------------------------------------------------------------

def publish(author: User, *, title: str, title_zh: str, body: str, body_zh: str, link: str | None,
            effective_from: date, effective_until: date | None, to_all: bool, region_ids=(), station_ids=(),
            host_kinds=(), attachments=()) -> PolicyNotice:
    notice = PolicyNotice(title=title, title_zh=title_zh, body=body, body_zh=body_zh, link=link or None,
                          effective_from=effective_from, effective_until=effective_until, to_all=to_all,
                          created_by_id=author.id)
    if not to_all:
        notice.targets = (
            [NoticeTarget(kind=NoticeTargetKind.REGION, region_id=i) for i in sorted(set(region_ids))]
            + [NoticeTarget(kind=NoticeTargetKind.STATION, station_id=i) for i in sorted(set(station_ids))]
            + [NoticeTarget(kind=NoticeTargetKind.HOST_KIND, host_kind=k) for k in sorted(set(host_kinds))])
    notice.attachments = [NoticeAttachment(position=n, label=label, url=url)
                          for n, (label, url) in enumerate(attachments)]
    db.session.add(notice)
    db.session.flush()
    if effective_from <= utcnow().date():
        _announce(notice.id, author.id)
    # else: the daily ``notices.effective`` work announces it on the day it takes effect.
    db.session.commit()
    return notice


def _announce(notice_id: int, actor_id: int | None) -> None:
    """The notification fan-out of a notice, once per notice (its key)."""
    jobs.enqueue("notices.published", key=f"notice_published:{notice_id}", notice_id=notice_id, actor_id=actor_id)


CATCH_UP_DAYS = 31  # a notice whose day the scheduled work missed (cron down) is still announced this late


@jobs.scheduled("notices.effective")
def announce_effective(today: date | None = None) -> int:
    """Every ``jobs run-due``: notify the notices that took effect since they were published (a
    notice published ahead of its ``effective_from``), once each — those in effect today whose
    fan-out job was never asked for."""
    from ..models import JobRun

    today = today or utcnow().date()
    key = literal("notice_published:").concat(cast(PolicyNotice.id, String))
    due = db.session.execute(select(PolicyNotice.id, PolicyNotice.created_by_id).where(
        in_effect(today), PolicyNotice.effective_from >= today - timedelta(days=CATCH_UP_DAYS),
        ~exists(select(JobRun.id).where(JobRun.key == key)))
        .order_by(PolicyNotice.id).limit(500)).all()
    for notice_id, actor_id in due:
        _announce(notice_id, actor_id)
    return len(due)


@jobs.job("notices.published")
def published_job(notice_id: int, actor_id: int | None = None) -> int:
    """One notification per volunteer of each targeted station (scope checked by ``deliver``)."""
    from ..notifications.services import deliver

    notice = db.session.get(PolicyNotice, notice_id)
    if notice is None:
        return 0
    rows = db.session.execute(
        select(Station.id, User.id)
        .join(station_membership, station_membership.c.station_id == Station.id)
        .join(User, User.id == station_membership.c.user_id)
        .where(targets_station(notice.id, notice.to_all), User.role == Role.VOLUNTEER, User.active.is_(True))
        .order_by(Station.id, User.id)).all()
    by_station: dict[int, set[int]] = {}
    for station_id, user_id in rows:
        by_station.setdefault(station_id, set()).add(user_id)
    told: set[int] = set()
    written = 0
    path = mail.app_path("notices.detail", notice_id=notice.id)
    for station_id, user_ids in by_station.items():
        user_ids -= told  # a volunteer of two targeted stations is told once
        user_ids.discard(actor_id)
        if not user_ids:
            continue
        told |= user_ids
        written += deliver("notice_published", user_ids, station_id=station_id, actor_id=actor_id,
                           params={"title": bilingual_title(notice)}, path=path)
    return written


def bilingual_title(notice: PolicyNotice) -> str:
    """Both titles (a notification's text is kept as written, whatever the reader's language)."""
    return notice.title if notice.title_zh == notice.title else f"{notice.title_zh} / {notice.title}"


# Receipts --------------------------------------------------------------------------------------

def receipt_of(notice: PolicyNotice, user: User) -> NoticeReceipt | None:
    return db.session.scalar(select(NoticeReceipt).where(NoticeReceipt.notice_id == notice.id,
                                                         NoticeReceipt.user_id == user.id))


def is_for_volunteer(notice: PolicyNotice, user: User) -> bool:
    """The notice is for one of the volunteer's own stations."""
    if not user.is_volunteer:
        return False
    return db.session.scalar(select(Station.id).where(
        Station.id.in_(select(station_membership.c.station_id).where(station_membership.c.user_id == user.id)),
        targets_station(notice.id, notice.to_all)).limit(1)) is not None


def mark_read(notice: PolicyNotice, user: User) -> NoticeReceipt | None:
    """A volunteer of a targeted station opened the notice (committed)."""
    if not is_for_volunteer(notice, user):
        return None
    receipt = receipt_of(notice, user)
    if receipt is None:
        receipt = NoticeReceipt(notice_id=notice.id, user_id=user.id, read_at=utcnow())
        db.session.add(receipt)
        try:
            db.session.commit()
        except Exception:  # the same volunteer in two tabs: the other request wrote it
            db.session.rollback()
            receipt = receipt_of(notice, user)
    return receipt


def acknowledge(notice: PolicyNotice, user: User) -> NoticeReceipt:
    receipt = receipt_of(notice, user)
    now = utcnow()
    if receipt is None:
        receipt = NoticeReceipt(notice_id=notice.id, user_id=user.id, read_at=now)
        db.session.add(receipt)
    if receipt.acknowledged_at is None:
        receipt.acknowledged_at = now
    db.session.commit()
    return receipt


@dataclass
class StationReceipts:
    station: Station
    rows: list[tuple[User, datetime | None, datetime | None]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(1 for _u, read_at, _a in self.rows if read_at)

    @property
    def acknowledged(self) -> int:
        return sum(1 for _u, _r, acknowledged_at in self.rows if acknowledged_at)


def receipts_by_station(notice: PolicyNotice) -> list[StationReceipts]:
    """Every targeted station with its volunteers and when each read and acknowledged."""
    stations = db.session.scalars(targeted_stations_query(notice)).all()
    result = {s.id: StationReceipts(s) for s in stations}
    if not result:
        return []
    members = db.session.execute(
        select(station_membership.c.station_id, User)
        .join(User, User.id == station_membership.c.user_id)
        .where(station_membership.c.station_id.in_(list(result)), User.role == Role.VOLUNTEER)
        .order_by(User.name, User.id)).all()
    receipts = {r.user_id: r for r in db.session.scalars(select(NoticeReceipt).where(
        NoticeReceipt.notice_id == notice.id))}
    for station_id, user in members:
        receipt = receipts.get(user.id)
        result[station_id].rows.append((user, receipt.read_at if receipt else None,
                                        receipt.acknowledged_at if receipt else None))
    return list(result.values())


def target_labels(notice: PolicyNotice) -> list[str]:
    """The notice's targets in the reader's language."""
    from ..i18n import display_name
    from ..models import HostKind, Region

    if notice.to_all:
        return [str(_l("All stations"))]
    region_ids = [t.region_id for t in notice.targets if t.kind == NoticeTargetKind.REGION]
    station_ids = [t.station_id for t in notice.targets if t.kind == NoticeTargetKind.STATION]
    labels = []
    if region_ids:
        labels += [display_name(r) for r in db.session.scalars(select(Region).where(Region.id.in_(region_ids))
                                                             .order_by(Region.code))]
    if station_ids:
        labels += [display_name(s) for s in db.session.scalars(select(Station).where(Station.id.in_(station_ids))
                                                              .order_by(Station.name))]
    labels += [str(HostKind.label_of(t.host_kind)) for t in notice.targets if t.kind == NoticeTargetKind.HOST_KIND]
    return labels


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG (made here, by segno: no outside service)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, svgclass="notice-qr", title=url)
