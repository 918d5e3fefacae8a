"""Demo data from the Jiashan county report (嘉善县留学人员全链条服务): the seven member
departments of the service alliance, the county's home service team, students abroad at the core's
demo stations (Europe and ASEAN) at every stage, service requests before, during and after study,
the programmes the county runs (海燕云集结 internships, the 海燕集结 summer camp, 留学那些事儿
lectures) and one closed roll call.

Idempotent: departments by code, the team by name, students by their contact's name and station,
programmes by title and year; the plugin is switched on for EUROPE and ASEAN only where no
switch exists yet.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from liaison.i18n import local_today
from liaison.models import Contact, PluginScope, Region, Role, Station, User, db, utcnow
from liaison.plugins import activation

from .choices import NAME, Mark, Stage
from .models import (Application, Department, HomeTeam, Programme, RequestEvent, RollCall, RollCallEntry,
                     ServiceRequest, Student, StudentEvent, team_members)

HQ_EMAIL = "hq@liaison.example"

DEPARTMENTS = [
    ("united_front", "United Front Work Department (Overseas Chinese Federation)", "县委统战部（县侨联）"),
    ("talent_office", "County Talent Office", "县委人才办"),
    ("education", "Education Bureau", "县教育局"),
    ("hr_social_security", "Human Resources and Social Security Bureau", "县人力社保局"),
    ("commerce", "Commerce Bureau", "县商务局"),
    ("health", "Health Bureau", "县卫生健康局"),
    ("exit_entry", "Exit-Entry Administration (Public Security Bureau)", "县公安局出入境管理大队"),
]

TEAM = ("Jiashan County", "嘉善县")

# city of the station, name, name_zh, school, field, level, city of study, country, stage, days at stage
STUDENTS = [
    ("Milan", "Shen Yiran", "沈怡然", "Politecnico di Milano", "mechanical engineering", "master", "Milan", "IT",
     Stage.ABROAD, 400),
    ("Milan", "Gu Jiahao", "顾嘉豪", "Istituto Marangoni", "fashion design", "bachelor", "Milan", "IT", Stage.ABROAD, 200),
    # Two of the core's demo contacts (students at Milan and Turin), then new ones.
    ("Milan", "Lin Jiayi", "林佳怡", "Politecnico di Milano", "new-energy vehicles", "doctorate", "Milan", "IT", Stage.ABROAD, 90),
    ("Turin", "Ye Chen", "叶晨", "Università di Torino", "business accounting", "master", "Turin", "IT", Stage.ABROAD, 300),
    ("Turin", "Lu Wenbo", "陆文博", "Politecnico di Torino", "automotive engineering", "master", "Turin", "IT",
     Stage.RETURNED, 60),
    ("London", "Wang Zihan", "王子涵", "University College London", "computer science", "master", "London", "GB",
     Stage.ABROAD, 250),
    ("London", "Sun Yutong", "孙雨桐", "Middlesex University", "business accounting", "bachelor", "London", "GB",
     Stage.PROSPECTIVE, 30),
    ("London", "Qian Hao", "钱浩", "Imperial College London", "materials science", "doctorate", "London", "GB",
     Stage.FOUNDED_COMPANY, 500),
    ("London", "Jiang Lin", "蒋琳", "King's College London", "public health", "master", "London", "GB",
     Stage.EMPLOYED_AT_HOME, 120),
    ("Bangkok", "Fei Xiaoyu", "费晓雨", "Chulalongkorn University", "international trade", "bachelor", "Bangkok", "TH",
     Stage.ABROAD, 150),
]

# student name, kind, summary, department code or None, status, due in days (negative: overdue), outcome
REQUESTS = [
    ("Sun Yutong", "policy_consultation", "准留学生咨询留学政策及学历认证事项。", "education", "done", -20,
     "已由县教育局一对一解答，并提供学历认证办理指南。"),
    ("Sun Yutong", "exit_entry_training", "出国前参加出入境注意事项培训。", "exit_entry", "referred", 10, None),
    ("Shen Yiran", "health_consultation", "在线咨询：长期失眠，希望得到医生建议。", "health", "in_progress", -3, None),
    ("Gu Jiahao", "counselling", "学业压力大，希望安排心理教师线上疏导。", "education", "referred", -5, None),
    ("Lin Jiayi", "family_care", "父母年迈，希望联谊会在其留学期间定期探望。", "united_front", "open", None, None),
    ("Lu Wenbo", "internship", "暑期回国，希望在嘉善汽车零部件企业实习。", "hr_social_security", "done", -40,
     "经“海燕云集结”匹配至县内汽车零部件企业实习两个月。"),
    ("Qian Hao", "startup_support", "新材料项目落地嘉善，申请创业场地及导师支持。", "talent_office", "done", -100,
     "入驻归谷园区海归创业学院，公司已注册。"),
    ("Qian Hao", "policy_benefits", "申请海归创业人才政策兑现。", "talent_office", "in_progress", 15, None),
    ("Jiang Lin", "job", "回国求职，希望推荐县内医疗卫生岗位。", "hr_social_security", "declined", -30,
     "本人已自行落实工作，服务终止。"),
]

PROGRAMMES = [
    # kind, title, title_zh, year offset, places, host, fields, location
    ("internship", "Haiyan cloud gathering: summer internships", "“海燕云集结”暑期实习", 0, 40,
     "Jiashan high-tech enterprises", "mechanical engineering, automotive engineering, computer science, finance",
     "嘉善县"),
    ("internship", "Haiyan cloud gathering: summer internships", "“海燕云集结”暑期实习", -1, 38,
     "Jiashan high-tech enterprises", "mechanical engineering, computer science, international trade", "嘉善县"),
    ("summer_camp", "Haiyan gathering action plan: summer camp", "“海燕集结行动计划”夏令营", 0, 60, None, None,
     "祥符荡创新中心"),
    ("lecture", "All about studying abroad: public lecture", "“留学那些事儿”公益讲座", 0, None, None, None,
     "嘉善县留联会"),
]


def load() -> None:
    hq = db.session.scalar(select(User).where(User.email == HQ_EMAIL)) or db.session.scalar(
        select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if hq is None:
        return
    _switch_on(hq)
    departments = _departments()
    team = _team()
    students = _students(hq, team)
    _requests(students, departments, hq)
    _programmes(students, hq)
    _roll_call(hq)
    db.session.commit()


def _switch_on(actor: User) -> None:
    for code in ("EUROPE", "ASEAN"):
        region = db.session.scalar(select(Region).where(Region.code == code))
        if region is None:
            continue
        exists = db.session.scalar(select(PluginScope.id).where(PluginScope.plugin == NAME,
                                                                PluginScope.region_id == region.id))
        if exists is None:
            activation.set_enabled(NAME, True, actor, region_id=region.id)


def _departments() -> dict[str, Department]:
    existing = {d.code: d for d in db.session.scalars(select(Department))}
    for position, (code, name, name_zh) in enumerate(DEPARTMENTS):
        if code not in existing:
            existing[code] = Department(code=code, name=name, name_zh=name_zh, position=position)
            db.session.add(existing[code])
    db.session.flush()
    return existing


def _team() -> HomeTeam:
    team = db.session.scalar(select(HomeTeam).where(HomeTeam.name == TEAM[0]))
    if team is None:
        team = HomeTeam(name=TEAM[0], name_zh=TEAM[1])
        db.session.add(team)
        db.session.flush()
        # The county's liaison volunteers at home and abroad (the seed: 15 appointed): here the
        # demo's Milan and London volunteers, who then see the county's students everywhere.
        for email in ("milan@liaison.example", "london@liaison.example"):
            user = db.session.scalar(select(User).where(User.email == email))
            if user is not None:
                db.session.execute(team_members.insert().values(team_id=team.id, user_id=user.id))
    return team


def _students(hq: User, team: HomeTeam) -> dict[str, Student]:
    stations = {s.city: s for s in db.session.scalars(select(Station))}
    today = local_today()
    result = {}
    for city, name, name_zh, school, field, level, study_city, country, stage, days in STUDENTS:
        station = stations.get(city)
        if station is None:
            continue
        contact = db.session.scalar(select(Contact).where(Contact.station_id == station.id, Contact.name == name))
        if contact is None:
            contact = Contact(station_id=station.id, kind="student", name=name, name_zh=name_zh, organisation=school,
                              field=field, country=country, city=study_city, created_by_id=hq.id)
            db.session.add(contact)
            db.session.flush()
        student = db.session.scalar(select(Student).where(Student.contact_id == contact.id))
        if student is None:
            since = today - timedelta(days=days)
            start = today - timedelta(days=days + (400 if stage in (Stage.RETURNED, Stage.FOUNDED_COMPANY,
                                                                     Stage.EMPLOYED_AT_HOME) else 0))
            student = Student(contact_id=contact.id, station_id=station.id, home_team_id=team.id, school=school,
                              field=field, level=level, start_on=start if stage != Stage.PROSPECTIVE else None,
                              expected_end_on=start + timedelta(days=730), country=country, city=study_city,
                              family_contact="母亲 138 0573 0000" if stage != Stage.FOUNDED_COMPANY else None,
                              emergency_contact="同学会 +39 02 0000 0000" if country == "IT" else None,
                              stage=stage, stage_since=since, created_by_id=hq.id,
                              returned_on=since if stage == Stage.RETURNED else (
                                  since - timedelta(days=200) if stage in (Stage.FOUNDED_COMPANY,
                                                                           Stage.EMPLOYED_AT_HOME) else None),
                              company="嘉善新材科技有限公司" if stage == Stage.FOUNDED_COMPANY else None,
                              employer="嘉善县第一人民医院" if stage == Stage.EMPLOYED_AT_HOME else None)
            db.session.add(student)
            db.session.add(StudentEvent(student=student, actor_id=hq.id, happened_on=since, to_stage=stage))
        result[name] = student
    db.session.flush()
    return result


def _requests(students, departments, hq: User) -> None:
    today = local_today()
    for name, kind, summary, department, status, due, outcome in REQUESTS:
        student = students.get(name)
        if student is None or db.session.scalar(select(ServiceRequest.id).where(
                ServiceRequest.student_id == student.id, ServiceRequest.kind == kind)):
            continue
        request = ServiceRequest(student_id=student.id, station_id=student.station_id, kind=kind, summary=summary,
                                 status=status, department_id=departments[department].id if status != "open" else None,
                                 due_on=today + timedelta(days=due) if due is not None else None, outcome=outcome,
                                 closed_on=today + timedelta(days=due) if outcome else None, created_by_id=hq.id)
        db.session.add(request)
        db.session.add(RequestEvent(request=request, actor_id=hq.id, to_status="open"))
        if status != "open":
            db.session.add(RequestEvent(request=request, actor_id=hq.id, from_status="open", to_status=status,
                                        department_id=request.department_id, text=outcome))
    db.session.flush()


def _programmes(students, hq: User) -> None:
    year = local_today().year
    for kind, title, title_zh, offset, places, host, fields, location in PROGRAMMES:
        programme = db.session.scalar(select(Programme).where(Programme.title == title, Programme.year == year + offset))
        if programme is not None:
            continue
        programme = Programme(kind=kind, title=title, title_zh=title_zh, year=year + offset, places=places, host=host,
                              fields=fields, location=location, created_by_id=hq.id,
                              starts_on=date(year + offset, 7, 1), ends_on=date(year + offset, 8, 31))
        db.session.add(programme)
        db.session.flush()
        if kind == "internship" and offset == -1:
            for name in ("Lu Wenbo", "Wang Zihan"):
                if name in students:
                    db.session.add(Application(programme_id=programme.id, student_id=students[name].id,
                                               station_id=students[name].station_id, status="matched", attended=True,
                                               created_by_id=hq.id, decided_at=utcnow()))
        if kind == "internship" and offset == 0 and "Shen Yiran" in students:
            db.session.add(Application(programme_id=programme.id, student_id=students["Shen Yiran"].id,
                                       station_id=students["Shen Yiran"].station_id, created_by_id=hq.id))
        if kind == "summer_camp":
            for name in ("Gu Jiahao", "Ye Chen", "Fei Xiaoyu"):
                if name in students:
                    db.session.add(Application(programme_id=programme.id, student_id=students[name].id,
                                               station_id=students[name].station_id, created_by_id=hq.id))
    db.session.flush()


def _roll_call(hq: User) -> None:
    """A past, closed roll call for Italy: every student there reached within the hour."""
    title = "Flooding in northern Italy"
    if db.session.scalar(select(RollCall.id).where(RollCall.title == title)):
        return
    opened = utcnow() - timedelta(days=45)
    call = RollCall(title=title, country="IT", reason="北部暴雨洪水，逐一联络在意留学生。", opened_by_id=hq.id,
                    opened_at=opened, closed_at=opened + timedelta(days=1), closed_by_id=hq.id)
    db.session.add(call)
    db.session.flush()
    italy = db.session.scalars(select(Student).where(Student.country == "IT", Student.stage == Stage.ABROAD)).all()
    for minutes, student in enumerate(italy, start=1):
        db.session.add(RollCallEntry(roll_call_id=call.id, student_id=student.id, station_id=student.station_id,
                                     mark=Mark.SAFE if minutes % 3 else Mark.NEEDS_HELP, channel="wechat",
                                     marked_at=opened + timedelta(minutes=12 * minutes), marked_by_id=hq.id))
    call.everyone_reached_at = opened + timedelta(minutes=12 * max(len(italy), 1))
