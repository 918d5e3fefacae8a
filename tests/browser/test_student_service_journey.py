"""Issue 16's roll call in a real Chromium: HQ opens an emergency roll call for Italy on a desktop;
the Milan volunteer, on a phone and in Chinese, finds it on the home page and marks students with
one tap each (one refused without a channel, the message next to it); HQ's open page shows the new
counts without a reload (the static script polls the JSON endpoint; no inline script), then HQ
closes the roll call and the record stays. Every page passes ``journey.Journey.check`` (axe-core,
one h1, a main landmark, labelled controls, no sideways scrolling on the phone)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .journey import DEMO_PASSWORD
from .test_journeys import HQ, MILAN, unique

BASE = "/p/student_service"


def test_a_roll_call_on_a_phone(journey):
    title = unique("Floods in Lombardy")

    hq = journey("hq")
    page = hq.page
    hq.login(HQ, DEMO_PASSWORD)
    hq.goto(f"{BASE}/roll-calls", "roll-calls")
    hq.follow(page.get_by_role("link", name=hq.tx("Open a roll call")), "new")
    hq.field("Title").fill(title)
    hq.field("Country").select_option("IT")
    hq.field("What happened").fill("Heavy rain and floods around Milan.")
    hq.follow(page.get_by_role("button", name=hq.tx("Open the roll call")), "opened")
    hq.expect_heading(title)
    counts = page.locator("#counts")
    total = int(counts.locator('[data-count="total"]').inner_text())
    assert total >= 3, total  # the demo's students abroad in Italy (Milan and Turin)
    expect(counts.locator('[data-count="pending"]')).to_have_text(str(total))
    roll_call_url = page.url

    v = journey("volunteer", phone=True, locale="zh")
    phone = v.page
    v.login(MILAN, DEMO_PASSWORD)
    v.follow(phone.get_by_role("link", name=title), "home-widget")
    v.expect_heading(title)
    entries = phone.locator("li[id^=entry-]")
    expect(entries.first).to_be_visible()

    # One tap: safe (the channel is preset to phone) — on the first student this volunteer may mark
    # (students of other stations in Italy are listed without buttons).
    first = entries.filter(has=phone.get_by_role("button", name=v.tx("Safe"))).first
    v.follow(first.get_by_role("button", name=v.tx("Safe")), "safe")
    expect(phone.locator(".alert").first).to_contain_text(v.t("Safe"))
    # Reached without a channel is refused (HTTP 400, the form again), the message next to the channel.
    v.allow_console(r"status of 400")
    second = phone.locator("li[id^=entry-]").filter(has=phone.get_by_role("button", name=v.tx("Needs help"))).first
    second.get_by_label(v.t("Channel")).select_option("")
    with phone.expect_navigation():
        second.get_by_role("button", name=v.tx("Needs help")).click()
    v.check("refused")
    expect(phone.get_by_text(v.t("Say how the student was reached."))).to_be_visible()
    refused = phone.locator("li[id^=entry-]").filter(has=phone.get_by_text(v.t("Say how the student was reached.")))
    refused.get_by_label(v.t("Channel")).select_option("wechat")
    refused.get_by_label(v.t("Note")).fill("护照丢失，已联系领馆")
    v.follow(refused.get_by_role("button", name=v.tx("Needs help")), "needs-help")
    expect(phone.locator("#counts [data-count='needs_help']")).to_have_text("1")

    # HQ's page, still open, follows without a reload.
    expect(counts.locator('[data-count="reached_total"]')).to_have_text("2", timeout=30_000)
    expect(counts.locator('[data-count="safe"]')).to_have_text("1")
    assert page.url == roll_call_url

    # Closing keeps the record; the phone shows no buttons any more.
    hq.follow(page.get_by_role("button", name=hq.tx("Close the roll call")), "closed")
    expect(page.locator(".badge", has_text=re.compile(r"^\s*Closed\s*$")).first).to_be_visible()
    v.goto(re.sub(r"^https?://[^/]+", "", roll_call_url), "after-close")
    expect(phone.get_by_role("button", name=v.tx("Safe"))).to_have_count(0)
    expect(phone.locator("#counts [data-count='needs_help']")).to_have_text("1")
