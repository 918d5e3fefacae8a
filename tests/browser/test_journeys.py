"""The five journeys of issue 10, in a real Chromium: volunteers on a phone, HQ on a desktop in
Chinese. Every page passes the checks in ``journey.Journey.check`` (axe-core, one h1, a main
landmark, labelled controls, no sideways scrolling on a phone) and no page logs a console error,
fails a request or asks another host for anything.

Each journey makes its own records (unique texts), so they run in any order on one demo database.
"""
from __future__ import annotations

import re
import uuid
from datetime import date

from playwright.sync_api import expect

from .journey import DEMO_PASSWORD

MILAN = "milan@liaison.example"
LONDON = "london@liaison.example"
HANOI = "hanoi@liaison.example"
BANGKOK = "bangkok@liaison.example"
HQ = "hq@liaison.example"
ASEAN_ADMIN = "asean.admin@liaison.example"


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def report_figure(page, label: str) -> int:
    """A funnel figure at the top of the report (its card: the number above its label)."""
    card = page.locator(".card-body", has=page.get_by_text(label, exact=True)).first
    return int(re.sub(r"[^\d]", "", card.locator(".stat-number").inner_text()) or 0)


def number_near(page, label: str) -> int:
    """The figure shown with a label on the home page's and the report's counters."""
    text = page.get_by_text(label, exact=True).first.locator("xpath=..").inner_text()
    return int(re.sub(r"[^\d]", "", text.replace(label, "")) or 0)


def chart_drawn(page, where: str) -> None:
    """The first server-drawn chart (``svg.report-chart``) inside ``where`` is visible, has a size
    and draws its bars or points."""
    chart = page.locator(f"{where} svg.report-chart").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 20, box
    assert chart.locator("rect[data-value], circle[data-value]").count() > 0


# --- steps shared by the journeys ---------------------------------------------------------------

def volunteer_writes_lead(v, contact: str, summary: str, *, keyboard: bool = False) -> str:
    """From the contact's page: a new lead, saved and submitted. Returns the lead's URL."""
    page = v.page
    v.nav("Contacts")
    v.follow(page.get_by_role("link", name=contact).first, "contact")
    v.follow(page.get_by_role("link", name=v.tx("New talent lead")), "lead-form")
    v.field("Category").select_option("employment")
    v.field("Summary").fill(summary)
    v.field("What the person wants").fill("A research post near Wenzhou.")
    page.get_by_role("button", name=v.tx("Save and submit to HQ")).click()
    page.wait_for_url(re.compile(r"/leads/\d+$"))
    v.check("lead-submitted")
    expect(page.get_by_role("main")).to_contain_text(summary)
    expect(page.get_by_role("heading", level=1)).to_contain_text(v.t("Submitted"))
    return page.url


def act(j, opener: str, *, button: str | None = None, comment: str | None = None, fill: dict | None = None,
        select: dict | None = None, shot: str | None = None) -> None:
    """Open a folded action (a <details> group named by its summary), fill it in and confirm it."""
    page = j.page
    group = page.get_by_role("group").filter(has=page.get_by_text(j.t(opener), exact=True)).first
    if group.get_attribute("open") is None:
        group.get_by_text(j.t(opener), exact=True).first.click()
    for label, value in (fill or {}).items():
        j.field(label, within=group).fill(value)
    for label, value in (select or {}).items():
        j.field(label, within=group).select_option(value)
    if comment is not None:
        j.field("Comment", within=group).fill(comment)
    j.follow(group.get_by_role("button", name=j.tx(button or opener)), shot)


hq_moves = act


def answer_hq(v, lead_url: str, question: str, answer: str) -> None:
    """The volunteer opens the lead, finds HQ's question at the top, answers and resubmits."""
    page = v.page
    v.goto(lead_url, "question")
    panel = page.get_by_role("region", name=v.t("HQ asks for more information"))
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(question)
    # The question comes before the lead's details: at the top, where the eye lands.
    box_top = panel.bounding_box()["y"]
    details_top = page.get_by_text(v.t("What the person wants"), exact=True).first.bounding_box()["y"]
    assert box_top < details_top, "HQ's question is not at the top of the lead"
    panel.get_by_label(v.t("Your answer to HQ")).fill(answer)
    v.follow(panel.get_by_role("button", name=v.tx("Send the answer and resubmit")), "answered")
    expect(page.get_by_role("heading", level=1)).to_contain_text(v.t("Submitted"))
    expect(page.get_by_role("main")).to_contain_text(answer)


# --- journey 1 ----------------------------------------------------------------------------------

def test_volunteer_adds_contact_and_lead_then_answers_hq_on_a_phone(journey):
    v = journey("volunteer", phone=True)
    page = v.page
    v.login(MILAN, DEMO_PASSWORD)
    v.nav("Contacts", "contacts")
    v.follow(page.get_by_role("link", name=v.tx("New contact")), "contact-form")
    name = unique("Marco Rossini")
    v.field("Kind").select_option("scholar")
    v.field("Name").fill(name)
    v.field("Organisation").fill("Politecnico di Milano")
    v.field("E-mail").fill("marco.rossi@polimi.example")  # an existing contact's
    # What the person agreed to: without a basis for passing the profile to HQ no lead is submitted.
    v.field("having their profile passed to HQ and partner departments in China").check()
    v.field("How the person agreed").select_option("form")
    v.follow(page.get_by_role("button", name=v.tx("Save")), "duplicate-warning")
    warning = page.get_by_role("alert").filter(has_text=v.t(
        "This station's network already has a contact who may be the same person:"))
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name=re.compile("Marco Rossi"))).to_be_visible()
    expect(v.field("Name")).to_have_value(name)  # what was typed is kept
    v.field("Save anyway: this is a different contact").check()
    page.get_by_role("button", name=v.tx("Save")).click()
    page.wait_for_url(re.compile(r"/contacts/\d+$"))
    v.check("contact-saved")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    summary = unique("Robotics professor open to a joint lab in Wenzhou")
    lead_url = volunteer_writes_lead(v, name, summary)

    hq = journey("hq", locale="zh")
    hq.login(HQ, DEMO_PASSWORD)
    hq.goto(lead_url, "lead")
    hq_moves(hq, "Start review")
    question = "请补充：对方何时可以回国面谈？"
    hq_moves(hq, "Ask for more information", comment=question, shot="asked")

    answer_hq(v, lead_url, question, "He can visit Wenzhou in March.")


# --- journey 2 ----------------------------------------------------------------------------------

def test_hq_reviews_refers_and_records_landing_on_a_desktop_in_chinese(journey):
    v = journey("volunteer", phone=True)
    v.login(MILAN, DEMO_PASSWORD)
    summary = unique("Fashion entrepreneur plans a design studio")
    lead_url = volunteer_writes_lead(v, "Zheng Xiaodong", summary)

    h = journey("hq", locale="zh")
    page = h.page
    h.login(HQ, DEMO_PASSWORD)
    h.check("home")
    home_landed = number_near(page, h.t("Landed"))
    h.nav("Reports", "report")
    report_landed = report_figure(page, h.t("Landed"))

    h.nav("Review queue", "queue")
    number = lead_url.rsplit("/", 1)[1]
    page.get_by_role("textbox", name=h.t("Search")).fill(number)
    h.follow(page.get_by_role("button", name=h.tx("Filter")), "queue-filtered")
    rows = page.get_by_role("main").get_by_role("link", name=re.compile(rf"^\s*#?{number}\b"))
    expect(rows).to_have_count(1)
    rows.click()
    page.wait_for_url(lead_url)
    h.check("lead")

    reviewer = h.field("Reviewer")
    reviewer.select_option(label="王敏 Wang Min")
    h.follow(page.get_by_role("button", name=h.tx("Save reviewer")), "assigned")
    expect(page.get_by_role("main")).to_contain_text(h.t("Reviewer: %(name)s", name="王敏 Wang Min"))

    hq_moves(h, "Start review")
    question = "请说明工作室的投资规模。"
    hq_moves(h, "Ask for more information", comment=question)

    answer_hq(v, lead_url, question, "About 2 million yuan in the first year.")

    h.goto(lead_url)
    hq_moves(h, "Start review")
    hq_moves(h, "Accept", shot="accepted")
    hq_moves(h, "Refer", fill={"Referred to": "温州市人才发展服务中心"}, shot="referred")
    hq_moves(h, "Record landing", fill={"Landed on": date.today().isoformat()}, select={"What landed": "project_signed"},
             shot="landed")
    expect(page.get_by_role("heading", level=1)).to_contain_text(h.t("Landed"))

    h.goto("/", "home-after")
    assert number_near(page, h.t("Landed")) == home_landed + 1
    h.nav("Reports", "report-after")
    assert report_figure(page, h.t("Landed")) == report_landed + 1

    # The charts render on the report and on HQ's home page, in both languages.
    chart_drawn(page, ".report-chart-box")
    h.goto("/", "home-charts-zh")
    chart_drawn(page, ".dashboard-chart")
    h.open_menu()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    h.locale = "en"
    h.check("home-charts-en")
    chart_drawn(page, ".dashboard-chart")
    h.nav("Reports", "report-charts-en")
    chart_drawn(page, ".report-chart-box")


# --- journey 3 ----------------------------------------------------------------------------------

def switch_plugin(admin, row: str, state: str) -> None:
    """On the Plugins page: press On / Off / Inherit in the row of one region or station."""
    page = admin.page
    section = page.locator("section").filter(has=page.get_by_text(admin.t("Translator titles in ASEAN languages")))
    line = section.get_by_role("row").filter(has_text=row).first
    admin.follow(line.get_by_role("button", name=admin.tx(state)))


def test_regional_admin_switches_asean_plugin_for_one_station(journey):
    a = journey("asean-admin")
    page = a.page
    a.login(ASEAN_ADMIN, DEMO_PASSWORD)
    a.goto("/admin/plugins/", "plugins")
    # The demo has the plugin on for the whole region: leave that to the stations, then pick one.
    switch_plugin(a, "Region ASEAN", "Inherit")
    switch_plugin(a, "Hanoi", "On")
    a.screenshot("hanoi-on")
    try:
        v = journey("hanoi", phone=True)
        v.login(HANOI, DEMO_PASSWORD)
        v.nav("Translator titles", "titles")
        v.nav("Contacts")
        v.follow(v.page.get_by_role("link", name=re.compile("Nguyen Van An")).first, "translator")
        v.follow(v.page.get_by_role("link", name=v.tx("New title application")).first, "title-form")
        v.field("Translation language").select_option("vi")
        v.field("Level applied for").select_option(index=1)
        v.field("Years of translation practice").fill("6")
        v.page.get_by_role("button", name=v.tx("Save draft")).click()
        v.page.wait_for_url(re.compile(r"/p/asean_language_title/\d+$"))
        v.check("title-saved")
        expect(v.page.get_by_role("heading", level=1)).to_be_visible()

        bangkok = journey("bangkok", phone=True)
        bangkok.login(BANGKOK, DEMO_PASSWORD)
        bangkok.open_menu()
        expect(bangkok.page.get_by_role("navigation").get_by_role("link", name=bangkok.tx("Translator titles"))) \
            .to_have_count(0)

        europe = journey("milan", phone=True)
        europe.login(MILAN, DEMO_PASSWORD)
        europe.open_menu()
        expect(europe.page.get_by_role("navigation")).not_to_contain_text(europe.t("Translator titles"))
        expect(europe.page.get_by_role("main")).not_to_contain_text(europe.t("Translator titles"))
        response = europe.page.request.get("/p/asean_language_title/", max_redirects=0)
        assert response.status in (403, 404), response.status
    finally:
        a.goto("/admin/plugins/")
        switch_plugin(a, "Hanoi", "Inherit")
        switch_plugin(a, "Region ASEAN", "On")
        a.screenshot("restored")


# --- journey 4 ----------------------------------------------------------------------------------

def test_europe_partnership_from_first_contact_to_active_agreement(journey):
    v = journey("london", phone=True)
    page = v.page
    v.login(LONDON, DEMO_PASSWORD)
    v.nav("School partnerships", "partnerships")
    v.follow(page.get_by_role("link", name=v.tx("New partnership")), "partnership-form")
    v.field("Home institution").fill("Wenzhou Technician College")
    v.field("Chinese name").fill("温州技师学院")
    v.field("Kind of home institution").select_option("technician_college")
    v.field("City of the home institution").fill("Wenzhou")
    partner = unique("University of South Wales")
    v.field("European partner").fill(partner)
    v.field("Kind of partner").select_option("university")
    v.field("Partner's country").select_option("GB")
    v.field("Programme").select_option("joint_3_2")
    v.field("Majors").fill("智能制造, 新能源汽车")
    page.get_by_role("button", name=v.tx("Save")).click()
    page.wait_for_url(re.compile(r"/p/europe_school_partnership/\d+$"))
    v.check("first-contact")
    expect(page.get_by_role("heading", level=1)).to_contain_text(partner)
    today = date.today().isoformat()
    act(v, "Record the intent", shot="intent")
    act(v, "Open negotiation", shot="negotiation")
    act(v, "Add a document", button="Add document", select={"Kind of document": "mou"},
        fill={"Title": "Memorandum of understanding on the 3+2 programme", "Signed on": today})
    act(v, "MoU signed", shot="mou")
    act(v, "Add a document", button="Add document", select={"Kind of document": "agreement"},
        fill={"Title": "3+2 joint training agreement", "Signed on": today})
    act(v, "Agreement signed", shot="agreement")
    act(v, "Programme started", shot="active")
    expect(page.get_by_role("heading", level=1)).to_contain_text(v.t("Programme active"))


# --- journey 5 ----------------------------------------------------------------------------------

def test_switching_language_keeps_the_page_and_the_typed_input(journey):
    v = journey("volunteer", phone=True, locale="zh")
    page = v.page
    v.goto("/login", "login-zh")
    expect(page.get_by_role("heading", level=1)).to_have_text(v.t("Log in"))
    v.field("E-mail").fill(MILAN)
    v.open_menu()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    v.locale = "en"
    v.check("login-en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(v.field("E-mail")).to_have_value(MILAN)
    v.field("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile(r"^\s*Log in\s*$")).click()
    page.wait_for_url(lambda url: "/login" not in url)
    v.check("home-en")

    v.nav("Contacts", "contacts-en")
    v.follow(page.get_by_role("link", name=v.tx("New contact")), "contact-form-en")
    v.field("Name").fill("Lucia Verdi")
    v.field("Organisation").fill("Università di Pavia")
    v.open_menu()
    with page.expect_navigation():
        page.get_by_role("button", name="简体中文").click()
    v.locale = "zh"
    v.check("contact-form-zh")
    assert urlparse_path(page.url) == "/contacts/new"
    expect(page.get_by_role("heading", level=1)).to_have_text(v.t("New contact"))
    expect(v.field("Name")).to_have_value("Lucia Verdi")
    expect(v.field("Organisation")).to_have_value("Università di Pavia")

    v.goto("/leads/", "leads-zh")
    v.open_menu()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    v.locale = "en"
    v.check("leads-en")
    assert urlparse_path(page.url) == "/leads/"
    expect(page.get_by_role("heading", level=1)).to_have_text(v.t("Talent leads"))


def urlparse_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path
