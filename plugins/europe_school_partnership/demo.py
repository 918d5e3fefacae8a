"""Demo partnerships drawn from the seed report of the Wenzhou delegation to Italy and the UK
(August 2019), on the core's demo stations and contacts. Dates are relative to today so that
the board, the due-this-month card and the overdue list always have something to show.

Idempotent: a partnership is found by station, home institution and partner; the plugin is
switched on for the EUROPE region only if no switch exists there yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select

from liaison.models import Contact, PluginScope, Region, Role, Station, User, db
from liaison.plugins import activation

from .choices import NAME, EventKind, Stage
from .dates import local_today, month_end
from .models import Partnership, PartnershipDocument, PartnershipEvent
from .stages import apply_move

HQ_EMAIL = "hq@liaison.example"


@dataclass
class Step:
    move: str
    days_ago: int
    note: str | None = None
    by_hq: bool = False  # HQ's delegation made the move (e.g. a signing abroad)


@dataclass
class Sample:
    station: str  # the core demo station's city
    home: tuple[str, str, str, str]  # name, Chinese name, kind, city
    partner: tuple[str, str | None, str, str | None, str]  # name, original name, country, city, kind
    programme: str
    majors: str | None
    first_contact_days_ago: int
    steps: list[Step] = field(default_factory=list)
    contacts: tuple[str, ...] = ()
    notes: str | None = None
    documents: list[tuple[str, str, int | None, str | None]] = field(default_factory=list)  # kind, title, days ago, note
    next_step: str | None = None
    next_step_due: str | None = None  # "overdue", "month_end" or "+<days>"


SAMPLES = [
    Sample(
        station="London",
        home=("Wenzhou Technician College", "温州技师学院", "technician_college", "Wenzhou"),
        partner=("University of South Wales", None, "GB", "Pontypridd", "university"),
        programme="joint_3_2",
        majors="智能制造, 新能源汽车, 数字经济, 商务会计",
        first_contact_days_ago=150,
        steps=[Step("declare_intent", 120, "双方有意在四个专业开展“3+2联合培养项目”。"),
               Step("negotiate", 95, "考察团访问期间洽谈：3+2联合培养、师生互访、专业教师柔性引进；"
                                     "约定在温州签署合作谅解备忘录。")],
        contacts=("James Wilson",),
        notes="温州技师学院与南威尔士大学就“3+2联合培养项目”以及师生互访、专业教师柔性引进进行洽谈，"
              "达成在温州签署合作谅解备忘录的共识。",
        next_step="将谅解备忘录草案发给南威尔士大学征求意见",
        next_step_due="overdue",
    ),
    Sample(
        station="Milan",
        home=("Wenzhou University College of Fine Arts and Design", "温州大学美术与设计学院", "university_school",
              "Wenzhou"),
        partner=("Istituto Europeo di Design", None, "IT", "Milan", "art_design_school"),
        programme="joint_2_1_1",
        majors="服装与服饰设计",
        first_contact_days_ago=110,
        steps=[Step("declare_intent", 90, "就服装与服饰设计专业“2+1+1联合培养项目”、时尚设计人才培训达成共识；"
                                          "意方同意降低外语入学要求。", by_hq=True)],
        contacts=("Istituto Europeo di Design",),
        next_step="请意方书面确认降低外语入学要求",
        next_step_due="month_end",
    ),
    Sample(
        station="London",
        home=("Wenzhou University Oujiang College", "温州大学瓯江学院", "university_school", "Wenzhou"),
        partner=("Middlesex University", None, "GB", "London", "university"),
        programme="student_exchange",
        majors="商务, 设计",
        first_contact_days_ago=900,
        steps=[Step("declare_intent", 860), Step("negotiate", 800),
               Step("sign_mou", 700, "签署学生交流谅解备忘录。"),
               Step("sign_agreement", 95, "在原有合作基础上深化合作并签署协议；英方授予瓯江学院荣誉证书。",
                    by_hq=True),
               Step("start", 30, "新协议下的首批交流学生已入学。")],
        contacts=("Middlesex University",),
        documents=[("mou", "学生交流谅解备忘录 (MoU on student exchange)", 700, None),
                   ("agreement", "深化合作协议 (Agreement on deepening cooperation)", 95, "考察团访问期间签署。")],
        next_step="收集交流学生第一学期成绩",
        next_step_due="+75",
    ),
    Sample(
        station="Milan",
        home=("Wenzhou Polytechnic", "温州职业技术学院", "vocational_college", "Wenzhou"),
        partner=("Galtos Institute", None, "IT", None, "vocational_institute"),
        programme="other",
        majors=None,
        first_contact_days_ago=100,
        steps=[Step("declare_intent", 93, "在国际教育和文化交流方面达成合作意向，并举行签约授牌仪式。", by_hq=True)],
        notes="考察团通报中称“加尔托斯学院”（英文名为音译）。",
        documents=[("other", "国际教育和文化交流合作意向书", 93, "签约授牌仪式上签署。")],
    ),
    Sample(
        station="Turin",
        home=("Wenzhou University College of Fine Arts and Design", "温州大学美术与设计学院", "university_school",
              "Wenzhou"),
        partner=("Accademia Albertina di Belle Arti", None, "IT", "Turin", "art_design_school"),
        programme="teacher_exchange",
        majors="美术",
        first_contact_days_ago=92,
        contacts=("Accademia Albertina di Belle Arti",),
        next_step="提出两名绘画专业教师互访的日期",
        next_step_due="+40",
    ),
    Sample(
        station="Milan",
        home=("Wenzhou Technician College", "温州技师学院", "technician_college", "Wenzhou"),
        partner=("Chinese-Italian Youth Association", None, "IT", "Milan", "other"),
        programme="short_training",
        majors="中式烹饪",
        first_contact_days_ago=60,
        steps=[Step("declare_intent", 45, "组织在意侨二代和意大利人来温州技师学院参加1—3个月的中式烹饪暑期短期培训，"
                                          "推广瓯菜和中华优秀传统文化。")],
    ),
]


def load(app) -> dict[str, int]:
    created = {"partnerships": 0, "switched_on": 0}
    today = local_today()
    stations = {s.city: s for s in db.session.scalars(select(Station).where(Station.city.in_(
        {sample.station for sample in SAMPLES})))}
    hq = db.session.scalar(select(User).where(User.email == HQ_EMAIL))
    for sample in SAMPLES:
        station = stations.get(sample.station)
        if station is None or _exists(station, sample):
            continue
        volunteer = db.session.scalar(select(User).where(User.email == f"{sample.station.lower()}@liaison.example"))
        if volunteer is None or hq is None:
            continue
        _add(sample, station, volunteer, hq, today)
        created["partnerships"] += 1
    db.session.commit()
    created["switched_on"] = _switch_on_for_europe()
    db.session.commit()
    return created


def _exists(station: Station, sample: Sample) -> bool:
    return db.session.scalar(select(Partnership.id).where(
        Partnership.station_id == station.id, Partnership.home_name == sample.home[0],
        Partnership.partner_name == sample.partner[0])) is not None


def _at(day) -> datetime:
    return datetime.combine(day, time(9, 30))


def _add(sample: Sample, station: Station, volunteer: User, hq: User, today) -> None:
    home_name, home_name_zh, home_kind, home_city = sample.home
    partner_name, partner_original, country, partner_city, partner_kind = sample.partner
    started = today - timedelta(days=sample.first_contact_days_ago)
    partnership = Partnership(
        station_id=station.id, home_name=home_name, home_name_zh=home_name_zh, home_kind=home_kind,
        home_city=home_city, partner_name=partner_name, partner_name_original=partner_original,
        partner_country=country, partner_city=partner_city, partner_kind=partner_kind,
        programme_kind=sample.programme, majors=sample.majors, notes=sample.notes,
        stage=Stage.FIRST_CONTACT, stage_since=started, created_by_id=volunteer.id, updated_by_id=volunteer.id,
        created_at=_at(started), updated_at=_at(started),
    )
    partnership.station = station
    partnership.contacts = list(db.session.scalars(select(Contact).where(
        Contact.station_id == station.id, Contact.name.in_(sample.contacts)))) if sample.contacts else []
    db.session.add(partnership)
    db.session.add(PartnershipEvent(partnership=partnership, actor_id=volunteer.id, happened_on=started,
                                    created_at=_at(started), kind=EventKind.CREATED, to_stage=Stage.FIRST_CONTACT))
    # Documents first: a signing is recorded only with its document registered.
    for kind, title, days_ago, note in sample.documents:
        signed_on = today - timedelta(days=days_ago) if days_ago is not None else None
        db.session.add(PartnershipDocument(partnership=partnership, kind=kind, title=title, signed_on=signed_on,
                                           note=note, created_by_id=volunteer.id))
    db.session.flush()
    for step in sample.steps:
        on = today - timedelta(days=step.days_ago)
        event = apply_move(partnership, step.move, hq if step.by_hq else volunteer, on=on, note=step.note, today=today,
                           confirmed=True)
        event.created_at = _at(on)
    if sample.next_step:
        due = _due(sample.next_step_due, today, started)
        partnership.next_step, partnership.next_step_due = sample.next_step, due
        noted_on = min(partnership.stage_since + timedelta(days=1), today)
        db.session.add(PartnershipEvent(partnership=partnership, actor_id=volunteer.id, happened_on=noted_on,
                                        created_at=_at(noted_on), kind=EventKind.NEXT_STEP, text=sample.next_step,
                                        due_on=due))
    partnership.updated_at = _at(partnership.stage_since)


def _due(rule: str | None, today, started):
    if rule == "overdue":
        return today - timedelta(days=12)
    if rule == "month_end":
        return month_end(today)
    return today + timedelta(days=int((rule or "+30").lstrip("+")))


def _switch_on_for_europe() -> int:
    """Switch the plugin on for EUROPE unless an admin already decided there (either way)."""
    region = db.session.scalar(select(Region).where(Region.code == "EUROPE"))
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if region is None or admin is None:
        return 0
    key = activation.scope_key(region_id=region.id)
    if db.session.scalar(select(PluginScope.id).where(PluginScope.plugin == NAME, PluginScope.scope_key == key)):
        return 0
    activation.set_enabled(NAME, True, admin, region_id=region.id)
    return 1
