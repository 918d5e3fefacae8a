"""One person's browser session in a journey, with the checks every page must pass."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ZH = "zh_Hans_CN"
SCREENSHOTS = Path(__file__).parent / "screenshots"  # git-ignored
DEMO_PASSWORD = "liaison-demo-2026"  # the demo accounts' password (liaison/demo.py)
LANGUAGE_BUTTONS = {"en": "English", "zh": "简体中文"}  # the language switch in the menu, each in its own language


class Translator:
    """The app's own Chinese for an English message, so that selectors read like the page."""

    def __init__(self):
        self.catalog: dict[str, str] = {}
        catalogs = sorted(ROOT.glob("plugins/*/translations/%s/LC_MESSAGES/*.po" % ZH))
        catalogs.append(ROOT / "liaison" / "translations" / ZH / "LC_MESSAGES" / "messages.po")
        for path in catalogs:  # the core's catalog last: it wins, as in the app
            with path.open("rb") as handle:
                for message in read_po(handle):
                    if message.id and isinstance(message.id, str) and message.string:
                        self.catalog[message.id] = message.string

    def __call__(self, english: str, locale: str, **values) -> str:
        text = self.catalog.get(english, english) if locale.startswith("zh") else english
        return text % values if values else text


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").join(" "))}));
}"""

STRUCTURE = """() => {
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const controls = [...document.querySelectorAll("input, select, textarea")]
    .filter(el => !["hidden", "submit", "button", "reset", "image"].includes(el.type));
  const unlabelled = controls.filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
    && !el.getAttribute("aria-labelledby")).map(el => el.outerHTML.slice(0, 120));
  return {
    title: document.title.trim(),
    h1: [...document.querySelectorAll("h1")].filter(visible).length,
    main: document.querySelectorAll("main, [role=main]").length,
    lang: document.documentElement.lang,
    unlabelled: unlabelled,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: [...document.querySelectorAll("body *")].filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
      && visible(el) && !el.closest(".table-responsive, .board, [data-scrolls]"))
      .slice(0, 5).map(el => el.tagName + "." + el.className),
  };
}"""


class Journey:
    def __init__(self, browser: Browser, base_url: str, *, folder: Path, label: str, phone: bool,
                 viewport: dict, locale: str, tr: Translator):
        self.base_url = base_url
        self.origin = urlsplit(base_url).netloc
        self.folder = folder
        self.label = label
        self.phone = phone
        self.locale = locale
        self._tr = tr
        self.problems: list[str] = []
        self.allowed: list[re.Pattern] = []  # console messages a journey expects (see allow_console)
        self.checked: set[str] = set()
        self.visited: list[str] = []
        self.context = browser.new_context(
            base_url=base_url, viewport=viewport, locale="zh-CN" if locale.startswith("zh") else "en-GB",
            is_mobile=phone, has_touch=phone, timezone_id="Europe/Rome",
        )
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"[{label}] page error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("request", self._request)
        self.page.on("response", self._response)
        self.page.on("framenavigated", self._navigated)
        self.page.on("dialog", lambda dialog: dialog.accept())  # data-confirm buttons
        self._shots = 0

    # --- listeners -----------------------------------------------------------------------
    def allow_console(self, pattern: str) -> None:
        """Expect a console error matching ``pattern`` from now on, e.g. Chromium's "Failed to load
        resource: … 400" when a journey sends a form with a mistake on purpose."""
        self.allowed.append(re.compile(pattern))

    def _console(self, message):
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed):
            self.problems.append(f"[{self.label}] console error on {self.page.url}: {message.text}")

    def _failed(self, request):
        self.problems.append(f"[{self.label}] request failed: {request.method} {request.url} ({request.failure})")

    def _request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.origin:
            self.problems.append(f"[{self.label}] request to another host: {request.method} {request.url}")

    def _response(self, response):
        if response.status >= 500:
            self.problems.append(f"[{self.label}] server error {response.status}: {response.url}")

    def _navigated(self, frame):
        if frame == self.page.main_frame:
            self.visited.append(frame.url)

    # --- helpers -------------------------------------------------------------------------
    def t(self, english: str, **values) -> str:
        return self._tr(english, self.locale, **values)

    def tx(self, english: str, **values) -> re.Pattern:
        """The message as an exact, whitespace-tolerant pattern (for role names)."""
        return re.compile(r"^\s*" + re.escape(self.t(english, **values)) + r"\s*$")

    def field(self, english: str, within=None, **values):
        """A form control by its label as shown (a required field's label ends in "*")."""
        pattern = re.compile(r"^\s*" + re.escape(self.t(english, **values)) + r"\s*\*?\s*$")
        return (within or self.page).get_by_label(pattern)

    def goto(self, path: str, shot: str | None = None):
        response = self.page.goto(path)
        assert response is not None and response.status < 400, f"{path}: {response and response.status}"
        self.check(shot)
        return response

    def check(self, shot: str | None = None) -> None:
        """The checks every page passes: title, one h1, a main landmark, labelled controls,
        no horizontal scrolling on a phone, no serious or critical axe-core violation."""
        page = self.page
        page.wait_for_load_state("load")
        url = page.url
        where = f"[{self.label}] {urlsplit(url).path}"
        facts = page.evaluate(STRUCTURE)
        assert facts["title"] and not facts["title"].startswith("·"), f"{where}: no page title ({facts['title']!r})"
        assert facts["h1"] == 1, f"{where}: {facts['h1']} visible h1 elements, expected one"
        assert facts["main"] == 1, f"{where}: {facts['main']} main landmarks"
        assert facts["lang"], f"{where}: no lang on <html>"
        assert not facts["unlabelled"], f"{where}: form controls without a label: {facts['unlabelled']}"
        if self.phone:
            assert facts["scrollWidth"] <= facts["innerWidth"], (
                f"{where}: scrolls sideways on a phone ({facts['scrollWidth']} > {facts['innerWidth']} px); "
                f"too wide: {facts['wide']}")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # DevTools evaluation is not subject to the page's CSP, which stays enforced.
            page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        violations = [v for v in page.evaluate(AXE_RUN) if v["impact"] in ("serious", "critical")]
        assert not violations, f"{where}: axe-core violations:\n" + json.dumps(violations, indent=1, ensure_ascii=False)
        self.checked.add(url)
        if shot:
            self.screenshot(shot)

    def screenshot(self, name: str) -> None:
        self._shots += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.label}-{self._shots:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def follow(self, locator, shot: str | None = None, **kwargs) -> None:
        """Click a link or a submit button, wait for the page it leads to, check that page."""
        with self.page.expect_navigation(**kwargs):
            locator.click()
        self.check(shot)

    def expect_heading(self, english: str, **values):
        expect(self.page.get_by_role("heading", level=1)).to_contain_text(self.t(english, **values))

    def login(self, email: str, password: str) -> None:
        page = self.page
        self.goto("/login", "login")
        self.field("E-mail").fill(email)
        self.field("Password").fill(password)
        self.follow(page.get_by_role("button", name=self.tx("Log in")))
        assert "/login" not in page.url, f"[{self.label}] could not log in as {email}"
        # A user's language is stored with the account, and another journey may have switched it
        # (journey 5 does): switch back through the menu so this journey sees the language it expects.
        if not (page.locator("html").get_attribute("lang") or "").startswith(self.locale):
            self.open_menu()
            with page.expect_navigation():
                page.get_by_role("button", name=LANGUAGE_BUTTONS[self.locale]).click()

    def open_menu(self) -> None:
        """On a phone the navigation is folded behind the menu button."""
        # Found by its target, not its label: the page may still be in another language (see login).
        toggler = self.page.locator("button[data-bs-target='#main-nav']")
        if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
            toggler.click()
            expect(toggler).to_have_attribute("aria-expanded", "true")
            # Wait for the unfolding to end (Bootstrap swaps "collapsing" for "show"): a click on an item
            # still sliding in can land on nothing when the machine is slow and the menu is long.
            expect(self.page.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))

    def nav(self, english: str, shot: str | None = None) -> None:
        self.open_menu()
        self.follow(self.page.get_by_role("navigation").get_by_role("link", name=self.tx(english)).first, shot)

    def unchecked(self) -> list[str]:
        return [url for url in self.visited if url not in self.checked and url != "about:blank"]

    def close(self) -> None:
        missed = self.unchecked()
        if missed:
            self.problems.append(f"[{self.label}] pages visited without the page checks: {missed}")
        self.context.close()
