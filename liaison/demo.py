"""Demo data drawn from the seed documents: two regions, six stations, their people, about
30 contacts and 40 leads spread over every status. Loading is idempotent: records are found by
natural keys (codes, names, e-mail addresses, form tokens) and only missing ones are added.

Demo accounts share one password, ``DEMO_PASSWORD``; it exists only here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from . import plugins
from .leads.workflow import apply_move
from .models import (
    Contact,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    Region,
    Role,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)

DEMO_PASSWORD = "liaison-demo-2026"

REGIONS = [("ASEAN", "ASEAN", "东盟"), ("EUROPE", "Europe", "欧洲")]

STATIONS = [
    # name, name_zh, region, country, city, host, host kind, established
    ("Milan liaison station", "米兰海外人才工作联络站", "EUROPE", "IT", "Milan",
     "Chinese-Italian Youth Association (意大利华侨华人青年联合会)", "chinese_association", date(2019, 11, 8)),
    ("Turin liaison station", "都灵海外人才工作联络站", "EUROPE", "IT", "Turin",
     "Association of Chinese in Turin (都灵华侨华人协会)", "chinese_association", date(2020, 5, 20)),
    ("London liaison station", "伦敦海外人才工作联络站", "EUROPE", "GB", "London",
     "Wenzhou University Alumni Association UK (温州大学英国校友会)", "alumni_association", date(2021, 3, 12)),
    ("Hanoi liaison station", "河内海外人才工作联络站", "ASEAN", "VN", "Hanoi",
     "Chinese Chamber of Commerce in Vietnam (越南中国商会)", "chamber_of_commerce", date(2018, 9, 1)),
    ("Vientiane liaison station", "万象海外人才工作联络站", "ASEAN", "LA", "Vientiane",
     "China Chamber of Commerce in Laos (老挝中国总商会)", "chamber_of_commerce", date(2019, 6, 18)),
    ("Bangkok liaison station", "曼谷海外人才工作联络站", "ASEAN", "TH", "Bangkok",
     "Guangxi University Alumni Association in Thailand (广西大学泰国校友会)", "alumni_association", date(2020, 10, 9)),
]

# e-mail, name, role, regions or stations (by city)
USERS = [
    ("admin@liaison.example", "系统管理员 Admin", Role.ADMIN, ()),
    ("hq@liaison.example", "王敏 Wang Min", Role.HQ_REVIEWER, ()),
    ("europe.admin@liaison.example", "陈立 Chen Li", Role.REGIONAL_ADMIN, ("EUROPE",)),
    ("asean.admin@liaison.example", "黄海燕 Huang Haiyan", Role.REGIONAL_ADMIN, ("ASEAN",)),
    ("milan@liaison.example", "郑宇 Zheng Yu", Role.VOLUNTEER, ("Milan",)),
    ("turin@liaison.example", "叶青 Ye Qing", Role.VOLUNTEER, ("Turin",)),
    ("london@liaison.example", "周晓 Zhou Xiao", Role.VOLUNTEER, ("London",)),
    ("hanoi@liaison.example", "梁峰 Liang Feng", Role.VOLUNTEER, ("Hanoi",)),
    ("vientiane@liaison.example", "韦丽 Wei Li", Role.VOLUNTEER, ("Vientiane",)),
    ("bangkok@liaison.example", "覃文 Qin Wen", Role.VOLUNTEER, ("Bangkok",)),
]

# city, kind, name, name_zh, original script, organisation, position, field, country, e-mail, languages, tags
CONTACTS = [
    ("Milan", "scholar", "Marco Rossi", "马可·罗西", None, "Politecnico di Milano", "Associate professor",
     "intelligent manufacturing", "IT", "marco.rossi@polimi.example", "Italian, English", "professor, robotics"),
    ("Milan", "entrepreneur", "Zheng Xiaodong", "郑晓东", None, "Moda Zheng S.r.l.", "Founder",
     "fashion and accessory design", "IT", "xiaodong@modazheng.example", "Chinese, Italian", "returnee candidate, fashion"),
    ("Milan", "professional", "Giulia Bianchi", "朱莉娅·比安基", None, "Istituto Marangoni", "Programme director",
     "fashion and accessory design", "IT", "g.bianchi@marangoni.example", "Italian, English", "partner school"),
    ("Milan", "student", "Lin Jiayi", "林佳怡", None, "Politecnico di Milano", "PhD candidate",
     "new-energy vehicles", "IT", "jiayi.lin@mail.polimi.example", "Chinese, Italian, English", "PhD, internship"),
    ("Milan", "organisation", "Istituto Europeo di Design", "欧洲设计学院", None, "IED Milano", "International office",
     "design", "IT", "international@ied.example", "Italian, English", "partner school, 2+1+1"),
    ("Turin", "researcher", "Luca Ferrari", "卢卡·法拉利", None, "Politecnico di Torino", "Senior researcher",
     "new-energy vehicles", "IT", "luca.ferrari@polito.example", "Italian, English", "battery systems"),
    ("Turin", "entrepreneur", "Hu Wei", "胡伟", None, "Torino Auto Parts S.p.A.", "General manager",
     "automotive parts", "IT", "huwei@tap.example", "Chinese, Italian", "entrepreneur, Wenzhou"),
    ("Turin", "organisation", "Accademia Albertina di Belle Arti", "都灵美术学院", None, "Accademia Albertina",
     "Rector's office", "fine arts", "IT", "relazioni@albertina.example", "Italian", "partner school"),
    ("Turin", "scholar", "Chiara Romano", "基娅拉·罗马诺", None, "Università di Torino", "Professor",
     "digital economy", "IT", "chiara.romano@unito.example", "Italian, English", "expert pool"),
    ("Turin", "student", "Ye Chen", "叶晨", None, "Università di Torino", "Master's student",
     "business accounting", "IT", "yechen@edu.unito.example", "Chinese, Italian", "summer internship"),
    ("London", "scholar", "James Wilson", "詹姆斯·威尔逊", None, "University of South Wales", "Head of engineering",
     "intelligent manufacturing", "GB", "james.wilson@southwales.example", "English", "3+2, partner school"),
    ("London", "researcher", "Zhou Lei", "周蕾", None, "Imperial College London", "Research fellow",
     "biomedicine", "GB", "lei.zhou@imperial.example", "Chinese, English", "PhD, returnee candidate"),
    ("London", "organisation", "Middlesex University", "密德萨斯大学", None, "Middlesex University",
     "International partnerships", "higher education", "GB", "partnerships@mdx.example", "English", "partner school"),
    ("London", "entrepreneur", "Xu Hang", "徐航", None, "Lumen Fintech Ltd", "Co-founder",
     "financial technology", "GB", "xu.hang@lumenfintech.example", "Chinese, English", "startup, return"),
    ("London", "professional", "Emily Clarke", "艾米丽·克拉克", None, "AIESEC in the United Kingdom", "Partnerships lead",
     "youth exchange", "GB", "emily.clarke@aiesec.example", "English", "internship exchange"),
    ("Hanoi", "professional", "Nguyen Van An", "阮文安", "Nguyễn Văn An", "Vietnam News Agency", "Senior translator",
     "Chinese–Vietnamese translation", "VN", "an.nguyen@vna.example", "Vietnamese, Chinese", "translator, title"),
    ("Hanoi", "scholar", "Tran Thi Mai", "陈氏梅", "Trần Thị Mai", "Vietnam National University", "Lecturer",
     "business accounting", "VN", "mai.tran@vnu.example", "Vietnamese, English, Chinese", "expert pool"),
    ("Hanoi", "entrepreneur", "Huang Zhiqiang", "黄志强", None, "Hai Phong Electronics Co.", "Director",
     "electronics manufacturing", "VN", "zq.huang@hpe.example", "Chinese, Vietnamese", "investment"),
    ("Hanoi", "student", "Pham Minh Tuan", "范明俊", "Phạm Minh Tuấn", "Guangxi University", "Master's student",
     "civil engineering", "VN", "tuan.pham@gxu.example", "Vietnamese, Chinese", "internship"),
    ("Hanoi", "organisation", "Hanoi College of Technology", "河内科技职业学院", "Trường Cao đẳng Công nghệ Hà Nội",
     "Hanoi College of Technology", "International cooperation office", "vocational education", "VN",
     "hoptac@hct.example", "Vietnamese", "vocational, online courses"),
    ("Vientiane", "professional", "Somphone Vongsavanh", "宋蓬·翁萨万", "ສົມພອນ ວົງສະຫວັນ",
     "Lao National Radio", "Translator", "Chinese–Lao translation", "LA", "somphone@lnr.example",
     "Lao, Chinese, Thai", "translator, title"),
    ("Vientiane", "professional", "Bounmy Phommachanh", "本米·蓬马占", "ບຸນມີ ພົມມະຈັນ", "Laos-China Railway Co.",
     "Operations engineer", "railway operations", "LA", "bounmy@lcr.example", "Lao, Chinese", "rail, training"),
    ("Vientiane", "entrepreneur", "Li Ming", "李明", None, "Vientiane Green Agriculture Co.", "Founder",
     "agricultural technology", "LA", "liming@vga.example", "Chinese, Lao", "project, agriculture"),
    ("Vientiane", "organisation", "Lao-German Technical College", "老德技术学院", "ວິທະຍາໄລເຕັກນິກລາວ-ເຢຍລະມັນ",
     "Lao-German Technical College", "Director's office", "vocational education", "LA", "info@lgtc.example",
     "Lao, English", "vocational, skills alliance"),
    ("Vientiane", "student", "Sengdeuane Keomany", "森德安·乔玛尼", "ແສງເດືອນ ແກ້ວມະນີ", "Guangxi Normal University",
     "Undergraduate", "Chinese language teaching", "LA", "sengdeuane@gxnu.example", "Lao, Chinese", "student"),
    ("Bangkok", "professional", "Somchai Jaidee", "颂猜·再迪", "สมชาย ใจดี", "Thai-Chinese Translation Centre",
     "Senior translator", "Chinese–Thai translation", "TH", "somchai@tctc.example", "Thai, Chinese, English",
     "translator, title"),
    ("Bangkok", "scholar", "Piyanuch Srisuk", "碧雅努·西素", "ปิยะนุช ศรีสุข", "Chulalongkorn University",
     "Assistant professor", "digital economy", "TH", "piyanuch.s@chula.example", "Thai, English, Chinese", "expert pool"),
    ("Bangkok", "entrepreneur", "Chen Zhiming", "陈志明", None, "Siam EV Battery Co.", "CEO",
     "new-energy vehicles", "TH", "zhiming.chen@siamev.example", "Chinese, Thai, English", "investment, battery"),
    ("Bangkok", "researcher", "Anan Wongsakul", "阿南·翁萨军", "อนันต์ วงศ์สกุล", "King Mongkut's University of Technology Thonburi",
     "Researcher", "solar energy", "TH", "anan.w@kmutt.example", "Thai, English", "flexible engagement"),
    ("Bangkok", "organisation", "Panyapiwat Institute of Management", "泰国正大管理学院", "สถาบันการจัดการปัญญาภิวัฒน์",
     "PIM", "Chinese programme office", "management education", "TH", "cn@pim.example", "Thai, Chinese",
     "partner school"),
]

# Leads: (contact name, category, priority, field, summary, wants, offer, path of moves)
# Moves are the workflow's own (``liaison.leads.workflow``); the last status is where the path ends.
LEAD_STORIES = [
    ("Zheng Xiaodong", "return_startup", 3, "fashion design",
     "郑晓东在米兰经营服装品牌十余年，计划回温州设立设计研发中心。",
     "Premises in a creative park, start-up subsidy", "Fashion industry park, talent apartment", "landed"),
    ("Marco Rossi", "flexible", 2, "intelligent manufacturing",
     "Prof. Rossi would advise a Wenzhou machinery company remotely on robotic welding lines.",
     "Consulting contract, two visits a year", "Flexible engagement subsidy", "referred"),
    ("Lin Jiayi", "employment", 2, "new-energy vehicles",
     "PhD graduating in 2027 on battery thermal management; interested in an R&D post at home.",
     "R&D position, housing support", "Returnee PhD package", "under_review"),
    ("Giulia Bianchi", "project", 2, "fashion education",
     "Istituto Marangoni is open to a short course for Wenzhou design teachers.",
     "Course fee covered by the city", "Teacher training budget", "accepted"),
    ("Istituto Europeo di Design", "project", 3, "fashion and accessory design",
     "IED discussed a 2+1+1 joint training programme in fashion and accessory design with Wenzhou University.",
     "Lower language requirement for entry", "Student cohort of 20 per year", "referred"),
    ("Luca Ferrari", "expert_pool", 2, "new-energy vehicles",
     "Battery-systems researcher willing to join the expert pool for project reviews.",
     "Expert fee per review", "Expert pool membership", "landed"),
    ("Hu Wei", "return_startup", 4, "automotive parts",
     "胡伟计划在瓯江口新区投资新能源汽车零部件工厂，需要用地和人才政策对接。",
     "Land, tax incentives, skilled workers", "Development zone service team", "needs_info"),
    ("Chiara Romano", "expert_pool", 1, "digital economy",
     "Digital-economy scholar; could lecture at salons and review policy papers.",
     "Occasional lectures", "Expert pool", "submitted"),
    ("Ye Chen", "internship", 1, "business accounting",
     "叶晨希望暑期回国到会计师事务所实习。",
     "Summer internship, 2 months", "Returning students' summer internship programme", "landed"),
    ("Accademia Albertina di Belle Arti", "project", 2, "fine arts",
     "Exchange of art teachers and a joint summer workshop in Turin.",
     "Travel support for students", "Teacher exchange budget", "closed_lost"),
    ("James Wilson", "project", 4, "intelligent manufacturing",
     "South Wales proposes a 3+2 joint training programme with Wenzhou Technician College (intelligent manufacturing, new-energy vehicles, digital economy, business accounting).",
     "MoU this autumn", "Joint programme office", "accepted"),
    ("Zhou Lei", "employment", 3, "biomedicine",
     "周蕾博士（帝国理工博士后）有意回国加入生物医药企业研发团队。",
     "Senior researcher post, lab", "High-level talent subsidy", "under_review"),
    ("Middlesex University", "project", 2, "higher education",
     "Middlesex University and Oujiang College deepen cooperation; new agreement signed.",
     "Continue the dual-degree track", "Scholarships", "landed"),
    ("Xu Hang", "return_startup", 3, "financial technology",
     "Fintech co-founder considering a Wenzhou branch for SME credit scoring.",
     "Office space, data-compliance advice", "Start-up package", "submitted"),
    ("Emily Clarke", "referral", 1, "youth exchange",
     "AIESEC UK could bring interns to Wenzhou companies (以才引才).",
     "Host companies", "Youth internship exchange", "rejected"),
    ("Nguyen Van An", "expert_pool", 2, "translation",
     "阮文安为越南通讯社资深翻译，可加入小语种专家库并参加翻译职称评审。",
     "Title evaluation, expert fee", "Minor-language expert pool", "accepted"),
    ("Tran Thi Mai", "flexible", 2, "business accounting",
     "Lecturer willing to co-teach an online accounting course for vocational students.",
     "Online teaching contract", "Flexible engagement", "draft"),
    ("Huang Zhiqiang", "project", 4, "electronics manufacturing",
     "黄志强拟将部分电子产品产线转移至北部湾，需要对接园区与技工培训资源。",
     "Industrial land, technician training", "Park services", "under_review"),
    ("Pham Minh Tuan", "internship", 1, "civil engineering",
     "Master's student seeks an internship at a construction group in Nanning.",
     "Internship with accommodation", "Internship programme", "withdrawn"),
    ("Hanoi College of Technology", "project", 2, "vocational education",
     "Shared training videos and online courses with a Guangxi technician college.",
     "Course materials in Vietnamese", "Online course platform", "referred"),
    ("Somphone Vongsavanh", "expert_pool", 2, "translation",
     "ສົມພອນ (宋蓬) 老挝国家电台资深翻译，申请译审职称并可委托评审。",
     "Senior translator title", "Entrusted evaluation", "landed"),
    ("Bounmy Phommachanh", "internship", 1, "railway operations",
     "Railway engineer wants a 3-month training at a Guangxi rail college.",
     "Training place", "Vocational skills cooperation", "needs_info"),
    ("Li Ming", "return_startup", 3, "agricultural technology",
     "李明计划在广西设立热带农业技术公司，引进老挝种植经验。",
     "Start-up subsidy, land lease", "Agricultural park", "submitted"),
    ("Lao-German Technical College", "project", 2, "vocational education",
     "Joint training of teachers in computer networking and electrical engineering.",
     "Teachers sent by Guangxi colleges", "Lancang-Mekong skills project", "under_review"),
    ("Sengdeuane Keomany", "employment", 1, "Chinese teaching",
     "Graduate wants to teach Chinese at a Vientiane school after a year in Nanning.",
     "Teaching post", "Scholarship referral", "draft"),
    ("Somchai Jaidee", "expert_pool", 2, "translation",
     "สมชาย (颂猜) Thai-Chinese translator, 15 years of practice; title evaluation and expert pool.",
     "Associate senior title", "Expert pool", "referred"),
    ("Piyanuch Srisuk", "flexible", 2, "digital economy",
     "Would advise on cross-border e-commerce training remotely.",
     "Advisory contract", "Flexible engagement", "accepted"),
    ("Chen Zhiming", "project", 4, "new-energy vehicles",
     "陈志明的电池企业拟与柳州车企合作建设电池回收项目。",
     "Partner OEM, land", "Project matchmaking", "closed_lost"),
    ("Anan Wongsakul", "flexible", 2, "solar energy",
     "Solar researcher offers two months a year at a Guangxi university lab.",
     "Visiting researcher post", "Flexible engagement subsidy", "needs_info"),
    ("Panyapiwat Institute of Management", "project", 2, "management education",
     "PIM proposes a Chinese-language management programme with a Nanning college.",
     "Student exchange", "Joint programme", "rejected"),
    ("Marco Rossi", "expert_pool", 1, "robotics",
     "Prof. Rossi agreed to be listed in the expert pool for robotics project reviews.",
     "", "", "submitted"),
    ("Lin Jiayi", "internship", 1, "new-energy vehicles",
     "Summer internship at a battery maker before her PhD defence.",
     "", "", "draft"),
    ("James Wilson", "flexible", 2, "intelligent manufacturing",
     "Dr Wilson could teach a module each spring in Wenzhou (专业教师柔性引进).",
     "Visiting teacher contract", "Flexible engagement", "under_review"),
    ("Luca Ferrari", "project", 3, "new-energy vehicles",
     "Joint lab proposal on solid-state batteries with a Wenzhou company.",
     "Co-funding", "Project cooperation fund", "withdrawn"),
    ("Zhou Lei", "referral", 2, "biomedicine",
     "周蕾推荐其同事（药物化学方向）了解回国政策。",
     "", "", "draft"),
    ("Nguyen Van An", "referral", 1, "translation",
     "Recommends two Vietnamese translators for the minor-language title evaluation.",
     "", "", "submitted"),
    ("Somchai Jaidee", "employment", 2, "translation",
     "Interested in a translator post at a Nanning publishing house.",
     "Full-time post", "Talent apartment", "needs_info"),
    ("Chen Zhiming", "return_startup", 3, "energy storage",
     "Plans an energy-storage system assembly line in Qinzhou.",
     "Factory building", "Investment promotion", "draft"),
    ("Huang Zhiqiang", "referral", 1, "electronics",
     "黄志强推荐三位越南籍工程师参加技能人才交流。",
     "", "", "landed"),
    ("Hu Wei", "employment", 2, "automotive parts",
     "Hu Wei's son, an automotive engineer, looks for a job in Wenzhou.",
     "Engineer position", "Job matching", "accepted"),
]

PATHS = {
    LeadStatus.DRAFT: [],
    LeadStatus.SUBMITTED: ["submit"],
    LeadStatus.UNDER_REVIEW: ["submit", "start_review"],
    LeadStatus.NEEDS_INFO: ["submit", "start_review", "request_info"],
    LeadStatus.ACCEPTED: ["submit", "start_review", "accept"],
    LeadStatus.REFERRED: ["submit", "start_review", "accept", "refer"],
    LeadStatus.LANDED: ["submit", "start_review", "request_info", "answer", "start_review", "accept", "refer", "land"],
    LeadStatus.REJECTED: ["submit", "start_review", "reject"],
    LeadStatus.WITHDRAWN: ["submit", "withdraw"],
    LeadStatus.CLOSED_LOST: ["submit", "start_review", "accept", "close_lost"],
}

COMMENTS = {
    "request_info": "请补充对方的具体时间安排和联系方式。 Please add the person's timetable and contact details.",
    "answer": "已补充：对方计划明年三月来访，联系方式已更新。",
    "reject": "不符合本年度引才方向。 Outside this year's priorities.",
    "close_lost": "对方已选择其他城市落地。 The person chose another city.",
}
REFERRAL_TARGETS = ["市人才办 (talent office)", "市人社局 (HR bureau)", "瓯江口新区管委会 (development zone)",
                    "北部湾经济区 (Beibu Gulf economic zone)", "温州大学 (Wenzhou University)"]
LANDING_KINDS = ["company_registered", "hired", "project_signed", "service_agreement"]


@dataclass
class DemoResult:
    created: dict[str, int]
    accounts: list[tuple[str, str, str]]


def existing_accounts() -> list[tuple[str, str, str]]:
    """The demo accounts still present with the demo password, for ``make run`` to print."""
    emails = {email for email, _name, _role, _scope in USERS}
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    return [(email, role.value, DEMO_PASSWORD) for email, _name, role, _scope in USERS
            if email in users and users[email].check_password(DEMO_PASSWORD)]


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def load() -> DemoResult:
    created = {"regions": 0, "stations": 0, "users": 0, "contacts": 0, "consents": 0, "leads": 0}
    regions = _regions(created)
    stations = _stations(regions, created)
    users = _users(regions, stations, created)
    contacts = _contacts(stations, users, created)
    _consents(contacts, users, created)
    _leads(contacts, users, created)
    db.session.commit()
    from .demands import demo as demands_demo

    demands_demo.load(created)  # demands from home and their matches (liaison.demands)
    from .events import demo as events_demo

    events_demo.load(created)  # events: the Milan symposium, an ASEAN Expo roadshow, a summer camp
    from flask import current_app

    plugins.host().call("liaison_demo_data", None, app=current_app._get_current_object())
    db.session.commit()
    accounts = [(email, role.value, DEMO_PASSWORD) for email, _name, role, _scope in USERS]
    return DemoResult(created, accounts)


def _regions(created) -> dict[str, Region]:
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    for code, name, name_zh in REGIONS:
        if code not in regions:
            regions[code] = Region(code=code, name=name, name_zh=name_zh)
            db.session.add(regions[code])
            created["regions"] += 1
    db.session.flush()
    return regions


def _stations(regions, created) -> dict[str, Station]:
    existing = {s.name: s for s in db.session.scalars(select(Station))}
    by_city = {}
    for name, name_zh, region, country, city, host, kind, established in STATIONS:
        station = existing.get(name)
        if station is None:
            station = Station(name=name, name_zh=name_zh, region_id=regions[region].id, country=country, city=city,
                              host_organisation=host, host_kind=kind, established_on=established,
                              contact_email=f"{city.lower()}@stations.example")
            db.session.add(station)
            created["stations"] += 1
        by_city[city] = station
    db.session.flush()
    return by_city


def _users(regions, stations, created) -> dict[str, User]:
    """Accounts by e-mail address."""
    from .models import region_admin, station_membership

    users = {}
    for email, name, role, scope in USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
            created["users"] += 1
            for item in scope:
                if role == Role.REGIONAL_ADMIN:
                    db.session.execute(region_admin.insert().values(user_id=user.id, region_id=regions[item].id))
                else:
                    db.session.execute(station_membership.insert().values(user_id=user.id, station_id=stations[item].id))
        users[email] = user
    return users


def volunteer_of(city: str, users: dict[str, User]) -> User:
    return users[f"{city.lower()}@liaison.example"]


def _contacts(stations, users, created) -> dict[str, Contact]:
    contacts = {}
    for (city, kind, name, name_zh, original, organisation, position, field, country, email, languages,
         tags) in CONTACTS:
        station = stations[city]
        contact = db.session.scalar(select(Contact).where(Contact.station_id == station.id, Contact.name == name))
        if contact is None:
            author = volunteer_of(city, users)
            contact = Contact(station_id=station.id, kind=kind, name=name, name_zh=name_zh, name_original=original,
                              organisation=organisation, position=position, field=field, country=country,
                              city=None, email=email, email_normalized=email.lower(), languages=languages,
                              tags=tags, created_by_id=author.id, updated_by_id=author.id)
            db.session.add(contact)
            created["contacts"] += 1
        contacts[name] = contact
    db.session.flush()
    return contacts


# Lawful bases (liaison.privacy.consent): most people agreed on the station's form; organisations'
# offices are kept on legitimate interest; a few consents expire soon or have expired, one person
# withdrew from policy news, and two people whose leads are still drafts have not yet agreed to
# their profile going to HQ (their leads cannot be submitted until that is recorded).
NOT_YET_AGREED_TO_HQ = {"Tran Thi Mai", "Sengdeuane Keomany"}
CONSENT_TEXT_VERSION = "2025-01"


def _consents(contacts, users, created) -> None:
    from .models import ContactConsent

    have = set(db.session.scalars(select(ContactConsent.contact_id).distinct()))
    today = utcnow().date()
    for number, (name, contact) in enumerate(contacts.items()):
        if contact.id in have:
            continue
        author = users.get(f"{db.session.get(Station, contact.station_id).city.lower()}@liaison.example")
        given = today - timedelta(days=430 - number * 3)
        if contact.kind == "organisation":
            basis, source, evidence = "legitimate_interest", "email", "Institutional contact of the office; no private data kept"
        elif number % 5 == 3:
            basis, source, evidence = "consent", "verbal", "Agreed at the station's salon; noted by the volunteer"
        elif number % 5 == 4:
            basis, source, evidence = "consent", "paper", f"Signed paper form, station binder {given.year}/{number:02d}"
        else:
            basis, source, evidence = "consent", "form", "Station contact form, submitted online"
        version = CONSENT_TEXT_VERSION if basis == "consent" else None

        def add(purpose, *, basis=basis, source=source, given_on=given, expires_on=None, evidence=evidence, **extra):
            db.session.add(ContactConsent(contact_id=contact.id, purpose=purpose, basis=basis, source=source,
                                          given_on=given_on, expires_on=expires_on, evidence=evidence,
                                          text_version=version if basis == "consent" else None,
                                          recorded_by_id=author.id if author else None, **extra))
            created["consents"] += 1

        add("keep_in_touch")
        if name not in NOT_YET_AGREED_TO_HQ:
            # Two consents to pass the profile to HQ run out soon: the station should ask again.
            expires = today + timedelta(days={1: 21, 7: 45}[number]) if number in (1, 7) else None
            add("pass_to_hq", expires_on=expires)
        if contact.kind != "organisation" and number % 3 == 0:
            add("event_invitations", source="event_registration", evidence="Ticked the box on the salon's registration form")
        if number % 4 == 1 and contact.kind != "organisation":
            withdrawn = number == 5
            add("policy_news", withdrawn_at=utcnow() - timedelta(days=10) if withdrawn else None,
                withdrawn_by_id=author.id if withdrawn and author else None,
                withdrawal_note="Asked by e-mail to stop receiving policy news" if withdrawn else None)
        if number in (2, 10):  # photos at an event a year ago, consent for one year: expired
            add("event_photos", given_on=today - timedelta(days=400), expires_on=today - timedelta(days=35),
                source="event_registration", evidence="Photo consent on the 2025 spring salon's registration form")
    db.session.flush()


def _leads(contacts, users, created) -> None:
    reviewer = users["hq@liaison.example"]
    today = utcnow().date()
    start = utcnow() - timedelta(days=400)
    for number, (contact_name, category, priority, field, summary, wants, offer, final) in enumerate(LEAD_STORIES, 1):
        token = f"demo-lead-{number:02d}"
        if db.session.scalar(select(TalentLead.id).where(TalentLead.submission_token == token)):
            continue
        contact = contacts[contact_name]
        station = db.session.get(Station, contact.station_id)
        volunteer = volunteer_of(station.city, users)
        when = start + timedelta(days=number * 9)
        lead = TalentLead(contact_id=contact.id, station_id=station.id, submitter_id=volunteer.id, category=category,
                          priority=priority, field=field, summary=summary, wants=wants or None, offer=offer or None,
                          status=LeadStatus.DRAFT, submission_token=token, created_at=when, updated_at=when,
                          status_changed_at=when)
        lead.station = station
        db.session.add(lead)
        db.session.add(LeadEvent(lead=lead, actor_id=volunteer.id, kind=LeadEventKind.CREATED,
                                 to_status=LeadStatus.DRAFT, created_at=when))
        if final != LeadStatus.DRAFT:
            lead.reviewer_id = reviewer.id if number % 3 else None
        for step, move in enumerate(PATHS[LeadStatus(final)], 1):
            actor = volunteer if move in ("submit", "answer", "withdraw") else reviewer
            event = apply_move(
                lead, move, actor, COMMENTS.get(move),
                referral_target=REFERRAL_TARGETS[number % len(REFERRAL_TARGETS)],
                landed_on=min((when + timedelta(days=step * 6)).date(), today),
                landing_kind=LANDING_KINDS[number % len(LANDING_KINDS)],
            )
            moment = when + timedelta(days=step * 6, hours=step)
            event.created_at = moment
            lead.status_changed_at = moment
            if move == "submit":
                lead.submitted_at = moment
        lead.updated_at = lead.status_changed_at
        created["leads"] += 1
    db.session.flush()
