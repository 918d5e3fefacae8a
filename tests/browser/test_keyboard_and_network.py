"""Without a mouse, behind the page's CSP, and on a slow link."""
from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import expect

from .journey import DEMO_PASSWORD, SCREENSHOTS

MILAN = "milan@liaison.example"

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  return (label || el.getAttribute("aria-label") || el.innerText || el.value || "").trim();
}"""


def tab_to(j, english: str, *, limit: int = 60) -> None:
    """Press Tab until the element named ``english`` (its label or its text) has the focus."""
    wanted = re.compile(r"^\s*" + re.escape(j.t(english)) + r"\s*\*?\s*$")
    seen = []
    for _ in range(limit):
        j.page.keyboard.press("Tab")
        name = j.page.evaluate(FOCUSED)
        seen.append(name)
        if wanted.match(name):
            return
    raise AssertionError(f"Tab never reached {english!r}; focus went through: {seen}")


def test_log_in_and_submit_a_lead_with_the_keyboard_alone(journey):
    v = journey("keyboard")
    page, keyboard = v.page, v.page.keyboard
    v.goto("/login", "login")
    tab_to(v, "E-mail")
    keyboard.type(MILAN)
    tab_to(v, "Password")
    keyboard.type(DEMO_PASSWORD)
    keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    v.check("home")

    tab_to(v, "Contacts")
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/contacts/"))
    v.check("contacts")
    tab_to(v, "Marco Rossi")
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/contacts/\d+$"))
    v.check("contact")
    tab_to(v, "New talent lead")
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/leads/new"))
    v.check("lead-form")

    tab_to(v, "Category")
    keyboard.press("ArrowDown")  # a closed select changes its choice with the arrow keys
    chosen = v.field("Category").input_value()
    tab_to(v, "Summary")
    summary = f"Typed without a mouse {uuid.uuid4().hex[:8]}"
    keyboard.type(summary)
    tab_to(v, "Save and submit to HQ")
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/leads/\d+$"))
    v.check("submitted")
    expect(page.get_by_role("heading", level=1)).to_contain_text(v.t("Submitted"))
    expect(page.get_by_role("main")).to_contain_text(summary)
    assert chosen, "the category was chosen with the keyboard"


def test_the_pages_csp_stays_enforced_while_axe_is_injected(journey):
    v = journey("csp")
    response = v.goto("/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert v.page.evaluate("() => typeof axe") == "object"  # injected for the checks, past the CSP
    try:
        v.page.add_script_tag(content="window.__injected = 1;")
    except Exception:  # noqa: BLE001 - Playwright reports the refused script as an error
        pass
    assert v.page.evaluate("() => window.__injected") is None, "an inline script ran despite the CSP"
    refused = [p for p in v.problems if "Content Security Policy" in p]
    assert refused, f"no CSP violation was reported: {v.problems}"
    v.problems[:] = [p for p in v.problems if p not in refused]


def test_lead_form_on_a_slow_link(journey, record_property):
    """400 kbit/s and 400 ms round trips (Chromium's network emulation): the form still works;
    how long it takes to become usable is printed in the summary, not asserted."""
    v = journey("slow", phone=True)
    page = v.page
    v.login(MILAN, DEMO_PASSWORD)
    v.nav("Contacts")
    page.get_by_role("link", name="Zheng Xiaodong").first.click()
    v.check("contact")
    form_url = page.get_by_role("link", name=v.tx("New talent lead")).get_attribute("href")

    cdp = v.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8,
    })
    figures = {}
    for label, cache_disabled in (("first visit", True), ("cached", False)):
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": cache_disabled})
        started = time.monotonic()
        page.goto(form_url, wait_until="commit")
        summary = v.field("Summary")
        expect(summary).to_be_editable(timeout=60_000)
        expect(page.get_by_role("button", name=v.tx("Save and submit to HQ"))).to_be_visible(timeout=60_000)
        shown = time.monotonic() - started
        # Styled, with its scripts running (they come after the stylesheets): usable as designed.
        page.wait_for_load_state("domcontentloaded", timeout=60_000)
        usable = time.monotonic() - started
        page.wait_for_load_state("load", timeout=60_000)
        figures[label] = (shown, usable, time.monotonic() - started)
    v.check("lead-form-slow")
    text = f"Slow link {unique_suffix()}"
    v.field("Summary").fill(text)
    page.get_by_role("button", name=v.tx("Save and submit to HQ")).click()
    page.wait_for_url(re.compile(r"/leads/\d+$"), timeout=60_000)
    v.check("submitted-slow")
    expect(page.get_by_role("main")).to_contain_text(text)
    report = "; ".join(f"{label}: fields shown {shown:.1f} s, usable {usable:.1f} s, loaded {loaded:.1f} s"
                       for label, (shown, usable, loaded) in figures.items())
    line = f"Slow link (400 kbit/s, 400 ms RTT), the lead form — {report}."
    record_property("slow_link", line)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "slow-link.txt").write_text(line + "\n", encoding="utf-8")  # make test prints it
    print("\n" + line)


def unique_suffix() -> str:
    return uuid.uuid4().hex[:8]


def test_wide_report_tables_scroll_by_keyboard_on_a_phone(journey):
    """The report's tables are wider than a phone: they scroll inside a focusable region, and the
    page itself does not scroll sideways (axe-core: scrollable-region-focusable)."""
    h = journey("hq-phone", phone=True)
    h.login("hq@liaison.example", DEMO_PASSWORD)
    h.nav("Reports", "report")
    region = h.page.get_by_role("region", name=h.t("Leads by region"), exact=True)
    expect(region).to_have_attribute("tabindex", "0")
