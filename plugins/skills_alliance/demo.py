"""Demo records from the Chongqing seed: the New International Land-Sea Trade Corridor skills-talent
alliance (陆海新通道技术技能人才国际发展联盟), founded on 22 November with 20 member institutions
from 7 countries (China, Russia, Japan, Singapore and others) — technician colleges, enterprises
and HR service agencies — 6 framework agreements signed at the ceremony, and a recognition list of
international vocational qualifications. A few of each, on the core's demo station in Bangkok
(region ASEAN); dates relative to today so that the milestone lists always show something.

Idempotent: members by certificate number, agreements by title, recognitions by original name;
the plugin is switched on for ASEAN only if no switch exists there yet.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from liaison.i18n import local_today
from liaison.models import PluginScope, Region, Role, Station, User, db
from liaison.plugins import activation

from .choices import NAME, EventKind, Status
from .lifecycle import apply_move
from .models import Agreement, AgreementArea, AgreementEvent, Document, Member, Milestone, Party, Recognition

STATION_CITY = "Bangkok"
FOUNDED_DAYS_AGO = 370

MEMBERS = [
    # certificate, name, Chinese name, country, kind
    ("LHXTD-2023-001", "Chongqing Industry Technician College", "重庆工业技师学院", "CN", "technician_college"),
    ("LHXTD-2023-002", "Chongqing Changan Automobile Co., Ltd.", "重庆长安汽车股份有限公司", "CN", "enterprise"),
    ("LHXTD-2023-003", "St. Petersburg College of Radio Communications", "俄罗斯圣彼得堡无线电通讯学院", "RU",
     "vocational_school"),
    ("LHXTD-2023-004", "ITE Education Services", "新加坡工教局教育咨询服务机构", "SG", "hr_agency"),
    ("LHXTD-2023-005", "Osaka Human Resources Service Co.", "日本大阪人力资源服务株式会社", "JP", "hr_agency"),
    ("LHXTD-2023-006", "Vocational Training Authority of Sri Lanka", "斯里兰卡职业培训局", "LK", "vocational_school"),
    ("LHXTD-2023-007", "Chongqing Human Resources Service Industrial Park", "重庆人力资源服务产业园", "CN", "hr_agency"),
]

AGREEMENTS = [
    # title, kind, areas, member certificates, home institutions, steps (move, days ago, valid years), milestones
    ("校企合作框架协议：新能源汽车专业共建与就业实习", "school_enterprise", ("majors", "internships", "training"),
     ("LHXTD-2023-001", "LHXTD-2023-002"), (), [("sign", FOUNDED_DAYS_AGO, 3), ("start", 340, None)],
     [("首批20名学生进入企业实习", -60, -65), ("共建新能源汽车专业课程标准", -20, None), ("年度实习评估", 45, None)]),
    ("校际合作框架协议：学校互访、学生交流与友好学校共建", "school_school",
     ("visits", "student_exchange", "teacher_training", "sister_schools"), ("LHXTD-2023-003",),
     ("重庆市渝中职业教育中心",), [("sign", FOUNDED_DAYS_AGO, 1), ("start", 350, None)],
     [("俄方教师代表团来渝交流", -200, -190), ("互派交换学生", 30, None)]),
    ("人力资源交流合作框架协议", "school_enterprise", ("training",), ("LHXTD-2023-004", "LHXTD-2023-007"), (),
     [("negotiate", 30, None)], []),
]

RECOGNITIONS = [
    # country, body, original name, Chinese name, level abroad, domestic kind, domestic name, domestic level
    ("SG", "SkillsFuture Singapore", "WSQ Advanced Certificate in Precision Engineering", "新加坡劳动力技能资格精密工程高级证书",
     "Advanced Certificate", "qualification", "机床装调维修工", "senior"),
    ("JP", "厚生労働省", "技能検定 機械加工 1級", "日本技能检定机械加工1级", "1級", "qualification", "车工", "technician"),
    ("RU", "Министерство просвещения", "Техник по радиосвязи", "俄罗斯无线电通讯技术员", "СПО", "title",
     "无线电通信工程师", "intermediate"),
    ("GB", "City & Guilds", "Level 3 Diploma in Electrical Installations", "伦敦城市行业协会三级电气安装文凭",
     "Level 3", "qualification", "电工", "senior"),
]
SOURCE = ("重庆市专技类国际职业资格认可清单（第二批）", 420)


def load(app) -> dict[str, int]:
    created = {"members": 0, "agreements": 0, "recognitions": 0, "switched_on": 0}
    station = db.session.scalar(select(Station).where(Station.city == STATION_CITY))
    volunteer = db.session.scalar(select(User).where(User.email == f"{STATION_CITY.lower()}@liaison.example"))
    if station is None or volunteer is None:
        return created
    today = local_today()
    founded = today - timedelta(days=FOUNDED_DAYS_AGO)
    members = {m.certificate_no: m for m in db.session.scalars(select(Member))}
    for number, name, name_zh, country, kind in MEMBERS:
        if number not in members:
            members[number] = Member(station_id=station.id, certificate_no=number, name=name, name_zh=name_zh,
                                     country=country, kind=kind, joined_on=founded, created_by_id=volunteer.id)
            db.session.add(members[number])
            created["members"] += 1
    db.session.flush()
    for title, kind, areas, numbers, homes, steps, milestones in AGREEMENTS:
        if db.session.scalar(select(Agreement.id).where(Agreement.title == title)) is not None:
            continue
        agreement = Agreement(station_id=station.id, title=title, kind=kind, status=Status.PROPOSED,
                              status_since=founded - timedelta(days=30), created_by_id=volunteer.id,
                              updated_by_id=volunteer.id)
        agreement.station = station
        agreement.parties = [Party(member_id=members[n].id) for n in numbers] + [Party(home_institution=h)
                                                                                for h in homes]
        agreement.areas = [AgreementArea(area=a) for a in areas]
        agreement.documents, agreement.milestones = [], []
        db.session.add(agreement)
        db.session.add(AgreementEvent(agreement=agreement, actor_id=volunteer.id, happened_on=agreement.status_since,
                                      kind=EventKind.CREATED, to_status=Status.PROPOSED))
        db.session.flush()
        for move, days_ago, years in steps:
            on = today - timedelta(days=days_ago)
            until = on.replace(year=on.year + years) if years else None
            apply_move(agreement, move, volunteer, on=on, valid_until=until, confirmed=True,
                       note="联盟成立仪式上签订。" if move == "sign" else None)
            if move == "sign":
                db.session.add(Document(agreement_id=agreement.id, kind="agreement", title=title, signed_on=on,
                                        created_by_id=volunteer.id))
        for text, due_days, done_days in milestones:
            db.session.add(Milestone(agreement_id=agreement.id, title=text, due_on=today + timedelta(days=due_days),
                                     done_on=today + timedelta(days=done_days) if done_days is not None else None,
                                     created_by_id=volunteer.id))
        created["agreements"] += 1
    known = set(db.session.scalars(select(Recognition.name_original)))
    for country, body, original, zh, level, domestic_kind, domestic, domestic_level in RECOGNITIONS:
        if original in known:
            continue
        db.session.add(Recognition(station_id=station.id, issuing_country=country, issuing_body=body,
                                   name_original=original, name_zh=zh, level=level, domestic_kind=domestic_kind,
                                   domestic_name=domestic, domestic_level=domestic_level, source_document=SOURCE[0],
                                   source_date=today - timedelta(days=SOURCE[1]), created_by_id=volunteer.id))
        created["recognitions"] += 1
    db.session.commit()
    created["switched_on"] = _switch_on_for_asean()
    db.session.commit()
    return created


def _switch_on_for_asean() -> int:
    region = db.session.scalar(select(Region).where(Region.code == "ASEAN"))
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if region is None or admin is None:
        return 0
    key = activation.scope_key(region_id=region.id)
    if db.session.scalar(select(PluginScope.id).where(PluginScope.plugin == NAME, PluginScope.scope_key == key)):
        return 0
    activation.set_enabled(NAME, True, admin, region_id=region.id)
    return 1
