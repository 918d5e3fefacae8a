"""Beyond the journeys: every page of the main navigation, and the first record of each list,
for each role, in the language and on the device that role uses, passes the page checks
(axe-core, one h1, a main landmark, labelled controls, no sideways scrolling on a phone)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .journey import DEMO_PASSWORD

ROLES = [
    # who, e-mail, phone, locale
    ("volunteer", "milan@liaison.example", True, "en"),
    ("regional-admin", "europe.admin@liaison.example", True, "zh"),
    ("hq", "hq@liaison.example", False, "zh"),
    ("admin", "admin@liaison.example", False, "en"),
]
# Record pages reached from the lists (the first link of each pattern in the page's main part).
DETAIL_PREFIXES = ("/contacts/", "/leads/", "/stations/", "/p/europe_school_partnership/", "/p/asean_language_title/")


@pytest.mark.parametrize("who, email, phone, locale", ROLES, ids=[r[0] for r in ROLES])
def test_every_navigation_page_passes_the_page_checks(journey, who, email, phone, locale):
    j = journey(who, phone=phone, locale=locale)
    page = j.page
    j.login(email, DEMO_PASSWORD)
    j.open_menu()
    links = page.get_by_role("navigation").get_by_role("link")
    targets = []
    for index in range(links.count()):
        href = links.nth(index).get_attribute("href") or ""
        if href.startswith("/") and href not in targets:
            targets.append(href)
    targets.append("/profile")
    assert len(targets) >= 3, targets
    details = []
    for target in targets:
        j.goto(target)
        for anchor in page.get_by_role("main").get_by_role("link").all()[:60]:
            href = anchor.get_attribute("href") or ""
            path = urlsplit(href).path
            prefix = next((p for p in DETAIL_PREFIXES if path.startswith(p) and path[len(p):].isdigit()), None)
            if prefix and not any(d.startswith(prefix) for d in details):
                details.append(path)
    for target in details:
        j.goto(target)
