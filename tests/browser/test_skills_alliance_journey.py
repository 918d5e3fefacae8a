"""Issue 16's alliance journey in a real Chromium, in Chinese: the Bangkok volunteer (the demo's
skills-talent alliance is followed there) records a school–school framework agreement between two
members, records its signing and puts it into force, plans a milestone and marks it done. Every page
passes the checks of ``journey.Journey.check`` (axe-core, one h1, a main landmark, labelled controls)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from .journey import DEMO_PASSWORD
from .test_journeys import BANGKOK, act, unique


def test_an_agreement_through_its_milestones(journey):
    title = unique("校际合作框架协议")
    milestone = unique("互派交换学生")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the users' today (BABEL_DEFAULT_TIMEZONE)

    v = journey("volunteer", locale="zh")
    page = v.page
    v.login(BANGKOK, DEMO_PASSWORD)
    v.nav("Skills alliance", "agreements")
    v.expect_heading("Skills-talent alliance")
    v.follow(page.get_by_role("link", name=v.tx("New agreement")), "new")
    v.field("Title").fill(title)
    v.field("Kind").select_option("school_school")
    v.field("Areas of cooperation").select_option(["visits", "student_exchange"])
    v.field("Member parties").select_option(label="俄罗斯圣彼得堡无线电通讯学院 (RU)")
    v.field("Home institutions").fill("重庆市渝中职业教育中心")
    v.follow(page.get_by_role("button", name=v.tx("Save")), "recorded")
    v.expect_heading(title)
    main = page.get_by_role("main")
    expect(main).to_contain_text(v.t("Proposed"))
    expect(main).to_contain_text("重庆市渝中职业教育中心")

    # The signing: a validity that ends before the signing is refused next to its field.
    v.allow_console(r"status of 400")
    act(v, "Signed", fill={"Valid until": (today - timedelta(days=1)).isoformat()}, shot="refused")
    expect(main).to_contain_text(v.t("The agreement must be valid after the day it is signed (%(date)s).",
                                     date=today.isoformat()))
    act(v, "Signed", fill={"Valid until": (today + timedelta(days=730)).isoformat()}, shot="signed")
    expect(main).to_contain_text(v.t("Signed"))
    act(v, "Put into force", shot="in-force")
    expect(main).to_contain_text(v.t("In force"))

    # A milestone, then its completion.
    milestones = page.locator("#milestones")
    milestones.get_by_text(v.t("Plan a milestone"), exact=True).click()
    v.field("Milestone", within=milestones).fill(milestone)
    # "Due on" is a word several catalogs translate; the field's id is the plugin's own.
    milestones.locator("#milestone-due_on").fill((today + timedelta(days=20)).isoformat())
    v.follow(milestones.get_by_role("button", name=v.tx("Add milestone")), "planned")
    expect(milestones).to_contain_text(milestone)
    v.follow(milestones.get_by_role("button", name=v.tx("Mark as done")).first, "done")
    expect(milestones).to_contain_text(v.t("done on %(date)s", date=""))
    expect(page.locator("#timeline")).to_contain_text(v.t("Milestone completed"))
