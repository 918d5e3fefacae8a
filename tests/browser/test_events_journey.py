"""Issue 14's event journey in a real Chromium: the Hanoi volunteer creates an event and opens
registration; someone registers on a phone without an account; the volunteer, on a phone, finds
them at the door (by the name in its original script), checks them in, confirms them as a contact
and creates a lead in two taps. Every page passes ``journey.Journey.check``."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .journey import DEMO_PASSWORD
from .test_journeys import HANOI, unique


def test_register_on_a_phone_check_in_and_create_a_lead(journey):
    title = unique("Talent salon")
    v = journey("volunteer")
    page = v.page
    v.login(HANOI, DEMO_PASSWORD)
    v.nav("Events")
    v.follow(page.get_by_role("link", name=v.tx("New event")), "new")
    v.field("Kind").select_option("salon")
    v.field("Organised by").select_option("stations")
    v.field("Organising stations").select_option(index=0)
    v.field("Title in English").fill(title)
    v.field("Title in Chinese").fill("人才沙龙 " + title[-8:])
    v.field("Time zone").fill("Asia/Bangkok")
    v.field("Starts").fill("2030-05-01T09:00")
    v.field("Ends").fill("2030-05-01T12:00")
    v.field("Capacity").fill("30")
    v.follow(page.get_by_role("button", name=v.tx("Save")), "created")
    v.expect_heading(title)
    v.follow(page.get_by_role("button", name=v.tx("Open registration")), "open")
    event_path = re.search(r"/events/\d+", page.url).group(0)
    public = page.locator("figcaption").inner_text()
    slug = re.search(r"/e/([\w-]+)", public).group(1)

    p = journey("public", phone=True)
    p.goto(f"/e/{slug}", "form")
    p.field("Name").fill("Le Thi Hoa")
    p.field("Name in original script").fill("Lê Thị Hoa")
    p.field("E-mail").fill("hoa.journey@example.org")
    p.field("Organisation").fill("Vietnam National University")
    p.page.get_by_label(re.compile(re.escape(p.t("I have read the privacy notice and agree that the organisers keep my "
                                                  "details to handle this registration and invite me to events.")))).check()
    p.follow(p.page.get_by_role("button", name=p.tx("Register")), "registered")
    p.expect_heading("You are registered")
    expect(p.page.locator("svg")).to_be_visible()

    d = journey("door", phone=True)
    door = d.page
    d.login(HANOI, DEMO_PASSWORD)
    d.goto(f"{event_path}/check-in", "door")
    d.page.get_by_label(d.t("Search by name")).fill("lê thị")
    d.follow(door.get_by_role("button", name=d.tx("Search")), "found")
    row = door.locator("li.list-group-item", has_text="Le Thi Hoa")
    d.follow(row.get_by_role("button", name=d.tx("Check in")), "checked-in")
    expect(door.locator("li.list-group-item", has_text="Le Thi Hoa")).to_contain_text(d.t("Checked in"))
    d.follow(door.locator("li.list-group-item", has_text="Le Thi Hoa").get_by_role(
        "link", name=d.tx("Confirm as contact")), "confirm")
    d.follow(door.get_by_role("button", name=d.tx("File as a new contact")), "contact")
    # Two taps: "Create lead", then "Save the lead".
    d.follow(door.locator("li.list-group-item", has_text="Le Thi Hoa").get_by_role(
        "link", name=d.tx("Create lead")), "lead")
    d.follow(door.get_by_role("button", name=d.tx("Save the lead")), "lead-saved")
    expect(door.locator("#leads").locator("xpath=following-sibling::ul[1]")).to_contain_text("Le Thi Hoa")
