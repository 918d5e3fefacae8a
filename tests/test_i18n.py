"""Bilingual interface: complete catalogs, every page in both languages, locale-aware
formatting, Chinese search and sorting."""
from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from liaison.i18n_tools import KEYWORDS, catalog_roots
from liaison.models import Contact, LeadStatus, TalentLead, User, db

from .factories import make_lead


def _keywords() -> dict:
    keywords = {}
    for spec in KEYWORDS:
        name, _, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


def _extracted(root):
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options, keywords=_keywords()
    ):
        if "/translations/" in filename.replace("\\", "/") or filename.startswith("translations"):
            continue
        yield filename, message


@pytest.mark.parametrize("root", catalog_roots(), ids=lambda root: root.name)
def test_chinese_catalog_translates_every_message(root):
    po = root / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    assert po.exists(), f"{root.name} has no Chinese catalog"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    for filename, message in _extracted(root):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid:
            continue
        entry = catalog.get(msgid)
        assert entry is not None, f"{root.name}: not in the zh catalog (run make translations): {msgid!r} ({filename})"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"{root.name}: untranslated: {msgid!r} ({filename})"
        assert not entry.fuzzy, f"{root.name}: fuzzy translation: {msgid!r}"
        for placeholder in set(re.findall(r"%\(\w+\)[sd]", msgid)):
            assert all(placeholder in s for s in strings), f"{root.name}: {placeholder} missing in {strings!r}"


class _Text(HTMLParser):
    """The visible text of a page: no tags, attributes, scripts."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


ENGLISH_UI = ["Stations", "Contacts", "Leads", "Log out", "Save", "Search", "Filter", "Status", "Review queue",
              "Profile", "Submitted", "Draft", "Actions", "Timeline", "Export to Excel", "Region", "Country",
              "Welcome", "Reviewer", "Category", "Priority", "Plugins", "Users", "Settings", "Recent", "Name"]
CHINESE_UI = ["退出登录", "联络对象", "人才线索", "审核", "保存", "搜索"]

PAGES = {
    "vol_hanoi": ["/", "/stations/", "/contacts/", "/leads/", "/profile", "/contacts/new",
                  "/contacts/{contact}", "/contacts/{contact}/edit", "/leads/{draft}", "/leads/{draft}/edit",
                  "/leads/{submitted}", "/leads/new?contact_id={contact}", "/stations/{station}"],
    "admin": ["/admin/users", "/admin/regions", "/admin/regions/new", "/admin/plugins/", "/review/",
              "/admin/plugins/asean_language_title/settings?scope=global"],
    # The bundled plugins' pages (each switched on for its region by ``plugins_on``).
    "vol_bangkok": ["/p/asean_language_title/", "/p/asean_language_title/statistics",
                    "/p/asean_language_title/new?contact_id={bangkok_contact}", "/contacts/{bangkok_contact}"],
    "vol_milan": ["/p/europe_school_partnership/", "/p/europe_school_partnership/board",
                  "/p/europe_school_partnership/counts", "/p/europe_school_partnership/overdue",
                  "/p/europe_school_partnership/new", "/stations/{milan}", "/",
                  # Services for students abroad (on for EUROPE): a Milan student with a request, a
                  # roll call for Italy and an internship (``plugin_records``).
                  "/p/student_service/", "/p/student_service/students/{ss_student}",
                  "/p/student_service/students/{ss_student}/edit",
                  "/p/student_service/students/{ss_student}/requests/new", "/p/student_service/requests",
                  "/p/student_service/requests/overdue", "/p/student_service/requests/{ss_request}",
                  "/p/student_service/roll-calls", "/p/student_service/roll-calls/{ss_roll_call}",
                  "/p/student_service/programmes", "/p/student_service/programmes/{ss_programme}"],
    # HQ's own pages of the student service (roll calls and programmes are opened by HQ; the teams).
    "hq": ["/", "/review/", "/review/report", "/leads/{submitted}", "/contacts/{contact}", "/stations/{station}",
           "/p/student_service/roll-calls/new", "/p/student_service/programmes/new", "/p/student_service/teams",
           "/p/student_service/roll-calls/{ss_roll_call}", "/p/student_service/students/{ss_student}"],
    # The skills-talent alliance (on for ASEAN): two Hanoi members, an agreement between them with a
    # milestone and a document, a recognition entry.
    "asean_admin": ["/", "/stations/", "/stations/{station}", "/stations/{station}/edit", "/stations/new",
                    "/admin/users", "/admin/users/new", "/admin/plugins/", "/leads/{submitted}",
                    "/p/skills_alliance/", "/p/skills_alliance/milestones", "/p/skills_alliance/members",
                    "/p/skills_alliance/members/new?station_id={station}", "/p/skills_alliance/members/{sa_member}",
                    "/p/skills_alliance/members/{sa_member}/edit",
                    "/p/skills_alliance/agreements/new?station_id={station}",
                    "/p/skills_alliance/agreements/{sa_agreement}", "/p/skills_alliance/agreements/{sa_agreement}/edit",
                    "/p/skills_alliance/agreements/{sa_agreement}/milestones/{sa_milestone}/edit",
                    "/p/skills_alliance/agreements/{sa_agreement}/documents/{sa_document}/edit",
                    "/p/skills_alliance/recognitions", "/p/skills_alliance/recognitions/new?station_id={station}",
                    "/p/skills_alliance/recognitions/import?station_id={station}",
                    "/p/skills_alliance/recognitions/{sa_recognition}/edit"],
}


@pytest.fixture(autouse=True)
def plugins_on(app, world):
    from liaison.plugins import activation

    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
        activation.set_enabled("europe_school_partnership", True, admin, region_id=world.regions["EUROPE"])
        activation.set_enabled("student_service", True, admin, region_id=world.regions["EUROPE"])
        activation.set_enabled("skills_alliance", True, admin, region_id=world.regions["ASEAN"])
        db.session.commit()


@pytest.fixture
def plugin_records(app, world, plugins_on) -> dict[str, int]:
    """A record of every kind the newer plugins' detail pages show (url values)."""
    from datetime import date

    from plugins.skills_alliance import services as alliance
    from plugins.skills_alliance.models import Document, Milestone
    from plugins.student_service import services as students
    from sqlalchemy.orm import selectinload

    from liaison.models import Station

    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        contact = db.session.scalar(db.select(Contact).where(Contact.id == world.contacts["milan"])
                                    .options(selectinload(Contact.station)))
        student = students.create_student(contact, {"school": "Politecnico di Milano", "field": "engineering",
                                                    "level": "master", "country": "IT", "city": "Milan"}, admin,
                                          stage="abroad")
        request = students.create_request(student, "counselling", "Stress before exams", admin)
        roll_call = students.open_roll_call("Floods", "IT", None, None, admin)
        programme = students.create_programme({"kind": "internship", "title": "Haiyan", "year": 2026, "places": 5,
                                               "fields": "engineering"}, admin)
        students.apply(programme, student, admin)
        hanoi = db.session.get(Station, world.stations["hanoi"])
        members = [alliance.create_member(hanoi, {
            "name": f"College {n}", "country": "CN", "kind": "technician_college", "joined_on": date(2025, 1, 10),
            "certificate_no": f"I18N-{n}", "status": "active"}, admin).id for n in (1, 2)]
        agreement = alliance.create_agreement(hanoi, {
            "title": "Framework agreement", "kind": "school_school", "areas": ["visits"], "member_ids": members,
            "home_institutions": "Chongqing Technician College", "proposed_on": date(2025, 1, 10)}, admin)
        milestone = Milestone(agreement_id=agreement.id, title="Visit", due_on=date(2099, 6, 1))
        document = Document(agreement_id=agreement.id, kind="agreement", title="Signed text")
        recognition = alliance.create_recognition(hanoi, {
            "issuing_country": "JP", "issuing_body": "MHLW", "name_original": "Ginou Kentei 1", "name_zh": "技能检定1级",
            "domestic_kind": "qualification", "domestic_name": "车工", "domestic_level": "technician",
            "source_document": "List 2", "source_date": date(2025, 1, 10)}, admin)
        db.session.add_all([milestone, document])
        db.session.commit()
        return {"ss_student": student.id, "ss_request": request.id, "ss_roll_call": roll_call.id,
                "ss_programme": programme.id, "sa_member": members[0], "sa_agreement": agreement.id,
                "sa_milestone": milestone.id, "sa_document": document.id, "sa_recognition": recognition.id}


def _paths(world, role, records=None):
    values = {"contact": world.contacts["hanoi"], "draft": world.leads["hanoi_draft"],
              "submitted": world.leads["hanoi_submitted"], "station": world.stations["hanoi"],
              "bangkok_contact": world.contacts["bangkok"], "milan": world.stations["milan"], **(records or {})}
    return [path.format(**values) for path in PAGES[role]]


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_in_chinese_has_no_english_ui(client, auth, world, role, plugin_records):
    auth.login(world.emails[role])
    client.post("/language", data={"locale": "zh_Hans_CN"})
    for path in _paths(world, role, plugin_records):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert '<html lang="zh-Hans-CN">' in html, path
        text = visible_text(html)
        leftovers = [word for word in ENGLISH_UI if re.search(rf"\b{re.escape(word)}\b", text)]
        assert not leftovers, f"{path}: English UI words on a Chinese page: {leftovers}"


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_in_english_has_no_chinese_ui(client, auth, world, role, plugin_records):
    auth.login(world.emails[role])
    client.post("/language", data={"locale": "en"})
    for path in _paths(world, role, plugin_records):
        response = client.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.get_data(as_text=True))
        leftovers = [word for word in CHINESE_UI if word in text]
        assert not leftovers, f"{path}: Chinese UI words on an English page: {leftovers}"


def test_login_page_has_the_switch_and_both_languages(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "登录" in page and "简体中文" in page and "English" in page
    client.post("/language", data={"locale": "en"})
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_dates_follow_the_locale_and_the_users_time_zone(app, client, auth, world):
    with app.app_context():
        lead = db.session.get(TalentLead, world.leads["hanoi_submitted"])
        lead.submitted_at = datetime(2025, 3, 1, 23, 30)  # UTC
        user = db.session.get(User, world.users["vol_hanoi"])
        user.timezone = "Asia/Ho_Chi_Minh"  # UTC+7: already 2 March there
        db.session.commit()
    auth.login(world.emails["vol_hanoi"])
    client.post("/language", data={"locale": "en"})
    english = client.get(f"/leads/{world.leads['hanoi_submitted']}").get_data(as_text=True)
    assert "2 Mar 2025" in english and "06:30" in english  # day-month-year, 24-hour clock
    assert "Mar 2, 2025" not in english and "3/2/25" not in english
    client.post("/language", data={"locale": "zh_Hans_CN"})
    chinese = client.get(f"/leads/{world.leads['hanoi_submitted']}").get_data(as_text=True)
    assert "2025年3月2日" in chinese and "06:30" in chinese and "2025/3/2" not in chinese


def test_one_medium_date_format_per_locale(app):
    """Issue 8: English as en-GB (27 Nov 2026), Chinese as 2026年11月27日 — whatever format a
    template asks for, never 2026/11/27 or the US 11/27/26."""
    from datetime import date

    render = app.jinja_env.from_string("{{ day|date }}|{{ day|date('short') }}|{{ moment|datetime('short') }}")
    with app.test_request_context():
        from flask_babel import force_locale

        day, moment = date(2026, 11, 27), datetime(2026, 11, 27, 6, 5)  # UTC; 14:05 in Shanghai
        with force_locale("en"):
            assert render.render(day=day, moment=moment) == "27 Nov 2026|27 Nov 2026|27 Nov 2026, 14:05"
        with force_locale("zh_Hans_CN"):
            assert render.render(day=day, moment=moment) == "2026年11月27日|2026年11月27日|2026年11月27日 14:05"


def test_numbers_follow_the_locale(app):
    from flask_babel import force_locale, format_decimal

    with app.test_request_context():
        with force_locale("en"):
            assert format_decimal(1234567.5) == "1,234,567.5"
        with force_locale("de"):  # a locale with other separators proves the formatter is locale-aware
            assert format_decimal(1234567.5) == "1.234.567,5"


def test_country_names_come_from_cldr(client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    client.post("/language", data={"locale": "zh_Hans_CN"})
    assert "越南" in client.get(f"/stations/{world.stations['hanoi']}").get_data(as_text=True)
    client.post("/language", data={"locale": "en"})
    assert "Vietnam" in client.get(f"/stations/{world.stations['hanoi']}").get_data(as_text=True)


def test_chinese_search_and_pinyin_sorting(app, client, auth, world):
    with app.app_context():
        for name, name_zh in [("Zhang Wei", "张伟"), ("Anna Li", "安娜"), ("Li Na", "李娜")]:
            db.session.add(Contact(station_id=world.stations["hanoi"], kind="student", name=name, name_zh=name_zh))
        db.session.commit()
    auth.login(world.emails["vol_hanoi"])
    client.post("/language", data={"locale": "zh_Hans_CN"})
    page = client.get("/contacts/").get_data(as_text=True)
    positions = [page.index(name) for name in ("安娜", "李娜", "阮文安", "张伟")]  # an, li, ruan, zhang
    assert positions == sorted(positions)
    assert "张伟" in client.get("/contacts/", query_string={"q": "张伟"}).get_data(as_text=True)
    assert "张伟" not in client.get("/contacts/", query_string={"q": "李娜"}).get_data(as_text=True)
    client.post("/language", data={"locale": "en"})
    page = client.get("/contacts/").get_data(as_text=True)
    positions = [page.index(name) for name in ("Anna Li", "Li Na", "Nguyen Van An", "Zhang Wei")]
    assert positions == sorted(positions)


def test_language_names_come_from_cldr_with_the_glossary(app):
    from flask_babel import force_locale

    from liaison.i18n import language_name

    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert [language_name(c) for c in ("vi", "id", "th", "km")] == ["越南语", "印尼语", "泰语", "柬埔寨语（高棉语）"]
        with force_locale("en"):
            assert language_name("lo") == "Lao"


def test_status_names_are_translated(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert str(LeadStatus.LANDED.label) == "已落地"
        assert str(LeadStatus.NEEDS_INFO.label) == "需补充材料"


def test_plural_forms(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context():
        with force_locale("en"):
            assert ngettext("%(num)d result", "%(num)d results", 1) == "1 result"
            assert ngettext("%(num)d result", "%(num)d results", 3) == "3 results"
        with force_locale("zh_Hans_CN"):
            assert "3" in ngettext("%(num)d result", "%(num)d results", 3)


def test_landing_dates_localised_on_the_lead_page(app, client, auth, world):
    with app.test_request_context():
        lead_id = make_lead(world, "hanoi", LeadStatus.LANDED)
    auth.login(world.emails["hq"])
    client.post("/language", data={"locale": "zh_Hans_CN"})
    assert "2025年5月1日" in client.get(f"/leads/{lead_id}").get_data(as_text=True)
