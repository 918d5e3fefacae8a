"""Bad input on every form of the core: never a 500, the error next to the field, the input
kept in the re-rendered form and nothing written to the database.

Each form has a valid submission (``FORMS``, checked to succeed by ``test_valid_submission_is_saved``);
every case of ``CASES`` spoils one field of it.
"""
from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from liaison.models import Contact, LeadEvent, Station, TalentLead, User, db

from .conftest import PASSWORD
from .helpers import snapshot
from .factories import make_lead

TEN_K = "x" * 10_000
TOMORROW = (date.today() + timedelta(days=2)).isoformat()  # two days ahead: "future" in every time zone

REQUIRED = "This field is required."
TOO_LONG = "cannot be longer than"
CHOICE = "Not a valid choice"
EMAIL = "Enter a valid e-mail address"
PHONE = "Enter a valid phone number"
DATE = "Not a valid date value"
FUTURE = "The date cannot be in the future."


@pytest.fixture(autouse=True)
def english(client):
    """Messages are checked in English, whatever the compiled catalogs say."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


# Helpers -----------------------------------------------------------------------------------



def count(app, model, *where) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(model).where(*where))
        finally:
            db.session.remove()


def lead_version(app, lead_id: int) -> int:
    with app.app_context():
        try:
            return db.session.get(TalentLead, lead_id).version
        finally:
            db.session.remove()


class Page(HTMLParser):
    """The form controls of a page (by name, with the index of their <form>) and the error
    blocks rendered by ``_macros.field`` (``<div class="invalid-feedback" id="<id>-errors">``)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.controls: list[dict] = []
        self.errors: list[dict] = []
        self._form = -1
        self._open: dict | None = None  # textarea or select being read
        self._error: dict | None = None
        self._depth = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._error is not None and tag == "div":
            self._depth += 1
        if tag == "form":
            self._form += 1
        elif tag in ("input", "textarea", "select") and attrs.get("name"):
            control = {"tag": tag, "name": attrs["name"], "id": attrs.get("id"), "type": attrs.get("type", tag),
                       "class": attrs.get("class") or "", "value": attrs.get("value", ""),
                       "checked": "checked" in attrs, "selected": [], "form": self._form,
                       "describedby": attrs.get("aria-describedby")}
            self.controls.append(control)
            if tag in ("textarea", "select"):
                control["value"] = ""
                self._open = control
        elif tag == "option" and self._open is not None and self._open["tag"] == "select":
            if "selected" in attrs:
                self._open["selected"].append(attrs.get("value", ""))
        elif tag == "div" and (attrs.get("id") or "").endswith("-errors") and self._error is None:
            self._error = {"id": attrs["id"][: -len("-errors")], "text": "", "form": self._form,
                           "class": attrs.get("class") or ""}
            self._depth = 1

    def handle_endtag(self, tag):
        if tag in ("textarea", "select") and self._open is not None:
            if self._open["tag"] == "textarea" and self._open["value"][:1] in ("\r", "\n"):
                self._open["value"] = self._open["value"].lstrip("\r").removeprefix("\n")
            self._open = None
        if tag == "div" and self._error is not None:
            self._depth -= 1
            if self._depth == 0:
                self.errors.append(self._error)
                self._error = None

    def handle_data(self, data):
        if self._open is not None and self._open["tag"] == "textarea":
            self._open["value"] += data
        if self._error is not None:
            self._error["text"] += " " + data.strip()

    # Queries -------------------------------------------------------------------------------
    def control(self, name: str, form: int | None = None) -> dict:
        found = [c for c in self.controls if c["name"] == name and (form is None or c["form"] == form)]
        assert found, f"no control named {name!r} in the page"
        return found[0]

    def form_with(self, name: str, value: str) -> int:
        """The index of the form with a control ``name`` of this ``value`` (e.g. move=reject)."""
        for c in self.controls:
            if c["name"] == name and c["value"] == value:
                return c["form"]
        raise AssertionError(f"no form with {name}={value!r}")

    def error_of(self, name: str, form: int | None = None) -> str:
        """The text of the field's own error block; asserts it is wired to the control."""
        control = self.control(name, form)
        blocks = [e for e in self.errors if e["id"] == control["id"] and e["form"] == control["form"]]
        if not blocks:
            return ""
        assert "invalid-feedback" in blocks[0]["class"]
        assert "is-invalid" in control["class"], f"{name} is not marked invalid"
        assert control["describedby"] == control["id"] + "-errors"
        return " ".join(blocks[0]["text"].split())

    def kept(self, name: str, form: int | None = None):
        control = self.control(name, form)
        if control["tag"] == "select":
            return control["selected"]
        return control["value"]


def page_of(response) -> Page:
    return Page(response.get_data(as_text=True))


def assert_no_server_error(response, what=""):
    assert response.status_code < 500, (what, response.status_code)


def in_child_process(app, scenario) -> None:
    """Run ``scenario()`` in a forked process: if the application crashes the interpreter
    (a segmentation fault), this test fails instead of the whole test run dying."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            with app.app_context():
                db.engine.dispose(close=False)
            scenario()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(status)
    _pid, status = os.waitpid(pid, 0)
    assert not os.WIFSIGNALED(status), f"the application crashed the process (signal {os.WTERMSIG(status)})"
    assert os.WEXITSTATUS(status) == 0, "the scenario failed in the child process (traceback above)"


# The forms and a valid submission of each ---------------------------------------------------

@dataclass
class FormSpec:
    role: str | None
    url: Callable
    data: Callable  # (world, app) -> dict
    normalise: dict = field(default_factory=dict)  # field -> how the form filters its value


def _station_data(world, app, **changes):
    data = {
        "name": "Jakarta station", "name_zh": "雅加达联络站", "region_id": str(world.regions["ASEAN"]),
        "country": "ID", "city": "Jakarta", "host_organisation": "Jakarta Chinese Association",
        "host_kind": "chinese_association", "established_on": "2020-05-01",
        "contact_email": "jakarta@example.org", "contact_phone": "+66 2 123 4567",
        "notes": "Set up at the 2020 salon.",
    }
    data.update(changes)
    return data


def _contact_data(world, app, **changes):
    data = {
        "kind": "scholar", "name": "Tran Thi Binh", "name_zh": "陈氏平", "name_original": "Trần Thị Bình",
        "organisation": "Hanoi University of Science", "position": "Lecturer", "field": "AI",
        "country": "VN", "city": "Hanoi", "email": "binh@example.org", "phone": "+84 24 3825 9999",
        "messaging": "WeChat: binh", "languages": "Vietnamese, English", "tags": "PhD, returnee",
        "notes": "Met at the 2024 salon.", "submission_token": "bad-input-contact-token",
    }
    data.update(changes)
    return data


def _lead_data(world, app, **changes):
    data = {"category": "employment", "field": "biomedicine", "summary": "A PhD in biomedicine who wants to come back.",
            "wants": "A lab", "offer": "Talent-office support", "priority": "3",
            "submission_token": "bad-input-lead-token", "save": "Save draft"}
    data.update(changes)
    return data


def _consent_data(world, app, **changes):
    data = {"purpose": "policy_news", "basis": "consent", "source": "email", "given_on": "2025-06-01",
            "expires_on": (date.today() + timedelta(days=400)).isoformat(), "evidence": "E-mail of 1 June 2025",
            "text_version": "2025-01"}
    data.update(changes)
    return data


def _contact_agreed_data(world, app):
    return _contact_data(world, app, agree_keep_in_touch="y", agree_pass_to_hq="y", consent_source="paper",
                         consent_given_on="2025-06-01", consent_evidence="Signed form, binder 2025/7")


def _lead_edit_data(world, app):
    lead = world.leads["hanoi_draft"]
    data = _lead_data(world, app, summary="An edited summary.")
    del data["submission_token"]
    data["version"] = str(lead_version(app, lead))
    return data


FORMS = {
    "station_new": FormSpec("admin", lambda w: "/stations/new", _station_data),
    "station_new_regional": FormSpec("asean_admin", lambda w: "/stations/new", _station_data),
    "station_edit": FormSpec("asean_admin", lambda w: f"/stations/{w.stations['hanoi']}/edit",
                             lambda w, a: _station_data(w, a, name="Hanoi station (renamed)", country="VN",
                                                        city="Hanoi", contact_phone="+84 24 3825 1234")),
    "contact_new": FormSpec("vol_hanoi", lambda w: f"/contacts/new?station_id={w.stations['hanoi']}", _contact_data),
    "contact_edit": FormSpec("vol_hanoi", lambda w: f"/contacts/{w.contacts['hanoi']}/edit",
                             lambda w, a: _contact_data(w, a, name="Nguyen Van An", email="an.new@example.org",
                                                        phone="+84 24 3825 4321")),
    "contact_new_agreed": FormSpec("vol_hanoi", lambda w: f"/contacts/new?station_id={w.stations['hanoi']}",
                                   _contact_agreed_data),
    "consent_record": FormSpec("vol_hanoi", lambda w: f"/privacy/consents/contacts/{w.contacts['hanoi']}/new",
                               _consent_data),
    "consent_withdraw": FormSpec("asean_admin", lambda w: f"/privacy/consents/{w.consents['hanoi_pass_to_hq']}/withdraw",
                                 lambda w, a: {"note": "Asked by e-mail on 3 March to stop passing her profile"}),
    "lead_new": FormSpec("vol_hanoi", lambda w: f"/leads/new?contact_id={w.contacts['hanoi']}", _lead_data),
    "lead_edit": FormSpec("vol_hanoi", lambda w: f"/leads/{w.leads['hanoi_draft']}/edit", _lead_edit_data),
    "user_new": FormSpec("admin", lambda w: "/admin/users/new",
                         lambda w, a: {"name": "New Volunteer", "email": "new.volunteer@example.org",
                                       "role": "volunteer", "stations": [str(w.stations["hanoi"])]}),
    "user_new_regional": FormSpec("asean_admin", lambda w: "/admin/users/new",
                                  lambda w, a: {"name": "New Volunteer", "email": "new.volunteer@example.org",
                                                "role": "volunteer", "stations": [str(w.stations["bangkok"])]}),
    "user_edit": FormSpec("admin", lambda w: f"/admin/users/{w.users['vol_hanoi']}/edit",
                          lambda w, a: {"name": "Hanoi Volunteer", "email": "vol_hanoi@example.org",
                                        "role": "volunteer", "stations": [str(w.stations["hanoi"])]}),
    "user_edit_regional": FormSpec("asean_admin", lambda w: f"/admin/users/{w.users['vol_hanoi']}/edit",
                                   lambda w, a: {"name": "Hanoi Volunteer", "email": "vol_hanoi@example.org",
                                                 "role": "volunteer", "stations": [str(w.stations["hanoi"])]}),
    "region_new": FormSpec("admin", lambda w: "/admin/regions/new",
                           lambda w, a: {"code": "AFRICA", "name": "Africa", "name_zh": "非洲"},
                           normalise={"code": str.upper}),
    "region_edit": FormSpec("admin", lambda w: f"/admin/regions/{w.regions['ASEAN']}/edit",
                            lambda w, a: {"code": "ASEAN", "name": "South-East Asia", "name_zh": "东盟"},
                            normalise={"code": str.upper}),
    "api_token": FormSpec("vol_hanoi", lambda w: "/profile/tokens",
                          lambda w, a: {"name": "Talent database sync", "access": "write", "days": "90",
                                        "station": str(w.stations["hanoi"])}),
    "profile": FormSpec("vol_hanoi", lambda w: "/profile",
                        lambda w, a: {"profile-name": "Hanoi Volunteer", "profile-locale": "en",
                                      "profile-timezone": "Asia/Ho_Chi_Minh"}),
    "password": FormSpec("vol_hanoi", lambda w: "/profile",
                         lambda w, a: {"password-current_password": PASSWORD,
                                       "password-new_password": "a-brand-new-password",
                                       "password-new_password_repeat": "a-brand-new-password"}),
    "login": FormSpec(None, lambda w: "/login",
                      lambda w, a: {"email": "vol_hanoi@example.org", "password": PASSWORD, "next": "/leads/"}),
    "forgot_password": FormSpec(None, lambda w: "/forgot-password",
                                lambda w, a: {"email": "vol_hanoi@example.org"}),
    # Notification settings: one select per kind (liaison.notifications); the reset-password form
    # is covered in tests/test_password_reset.py (its URL holds a fresh token).
    "notification_preferences": FormSpec("vol_hanoi", lambda w: "/notifications/preferences",
                                         lambda w, a: {"kind__lead_decided": "off", "kind__info_requested": "digest",
                                                       "kind__lead_comment": "email"}),
    # The data subject's rights (liaison.privacy.erasure): a request for the Milan contact; the
    # decision on a Hanoi request vol_hanoi made (``_erasure_request`` below creates it).
    "erasure_request": FormSpec("vol_milan", lambda w: f"/privacy/rights/contacts/{w.contacts['milan']}/erasure",
                                lambda w, a: {"reason": "The person asked by e-mail on 3 May."}),
    "erasure_approve": FormSpec("asean_admin", lambda w: f"/privacy/rights/erasures/{w.erasure_id}/approve",
                                lambda w, a: {"confirm": "y", "note": "Checked the e-mail."}),
    "erasure_reject": FormSpec("asean_admin", lambda w: f"/privacy/rights/erasures/{w.erasure_id}/reject",
                               lambda w, a: {"note": "A signed agreement binds the bureau."}),
    # HQ reveals a contact's masked fields, with a reason (liaison.privacy.masking).
    "reveal": FormSpec("hq", lambda w: f"/privacy/contacts/{w.contacts['hanoi']}/reveal",
                       lambda w, a: {"reason": "review_lead", "note": "Checking lead #3"}),
    # Reports (liaison.reports): HQ closes a period; an admin reopens one (``_report_period`` below).
    "report_close": FormSpec("hq", lambda w: "/reports/periods/close", lambda w, a: {"period": "2025-Q4"}),
    "report_reopen": FormSpec("admin", lambda w: f"/reports/periods/{w.report_period_id}/reopen",
                              lambda w, a: {"reason": "A landing in November was recorded late."}),
    # The station scorecard (liaison.scorecard): HQ sets a year's weights.
    "scorecard_weights": FormSpec("hq", lambda w: "/reports/scorecard/weights",
                                  lambda w, a: {"year": "2025", "w_contacts": "1", "w_submitted": "2",
                                                "w_accepted": "3", "w_landed": "5.5", "w_answer_days": "2",
                                                "w_volunteers": "0"}),
    # Policy notices (liaison.notices): HQ publishes one to the Hanoi station; appointments
    # (liaison.appointments): a regional admin appoints vol_bangkok to Hanoi.
    # Events (liaison.events): vol_hanoi creates one for the Hanoi station; the public registers
    # for an open one without an account (``_open_event`` below creates it: ``world.event_slug``).
    "event_new": FormSpec("vol_hanoi", lambda w: "/events/new",
                          lambda w, a: {"kind": "symposium", "organiser": "stations",
                                        "station_ids": [str(w.stations["hanoi"])], "region_id": "0",
                                        "title": "Talent symposium", "title_zh": "人才座谈会",
                                        "timezone": "Europe/Rome", "starts_at": "2030-05-01T09:00",
                                        "ends_at": "2030-05-01T12:00", "capacity": "40", "country": "IT",
                                        "online_link": "https://meet.example.org/x"}),
    "event_register": FormSpec(None, lambda w: f"/e/{w.event_slug}",
                               lambda w, a: {"name": "Le Thi Hoa", "name_original": "Lê Thị Hoa",
                                             "email": "hoa@example.org", "phone": "+84 24 3825 7777",
                                             "organisation": "VNU", "field": "AI", "country": "VN", "consent": "y"}),
    "notice_new": FormSpec("hq", lambda w: "/notices/new",
                           lambda w, a: {"title": "New visa rules", "title_zh": "签证新规", "body": "The text.",
                                         "body_zh": "正文。", "link": "https://www.gov.cn/policy",
                                         "effective_from": "2025-01-01", "effective_until": "2025-12-31",
                                         "attachments": "Form | https://example.org/form.pdf",
                                         "stations": [str(w.stations["hanoi"])], "host_kinds": ["university"]}),
    "appointment_new": FormSpec("asean_admin", lambda w: "/appointments/new",
                                lambda w, a: {"user_id": str(w.users["vol_bangkok"]),
                                              "station_id": str(w.stations["hanoi"]), "appointed_on": "2025-01-01",
                                              "term_start": "2025-01-01", "term_end": "2027-12-31",
                                              "appointing_body": "County Overseas Chinese Federation",
                                              "letter_number": "侨联聘〔2025〕3号"}),
    # Assignment rules (liaison.assignment): HQ gives the ASEAN region's leads to two reviewers in turn.
    "assignment_rule_new": FormSpec("hq", lambda w: "/review/rules",
                                    lambda w, a: {"name": "ASEAN desk", "position": "5", "criterion": "region",
                                                  "region_id": str(w.regions["ASEAN"]), "strategy": "round_robin",
                                                  "member_ids": [str(w.users["hq"]), str(w.users["hq2"])]}),
    # Review deadlines (liaison.assignment): HQ gives "submitted" 7 days with a reminder 2 days before.
    "review_deadlines": FormSpec("hq", lambda w: "/review/deadlines",
                                 lambda w, a: {"days_submitted": "7", "remind_submitted": "2",
                                               "days_needs_info": "14", "remind_needs_info": "3"}),
    # Demands (liaison.demands): the ASEAN admin records a demand for the region.
    "demand_new": FormSpec("asean_admin", lambda w: "/demands/new",
                           lambda w, a: {"title": "Battery engineers", "organisation": "Wenzhou NEV Co.",
                                         "source_kind": "enterprise", "city": "Wenzhou", "contact_name": "Li Hua",
                                         "contact_phone": "+86 577 8888 1234", "contact_email": "lihua@nev.example",
                                         "kind": "hire", "fields": "new-energy vehicles, battery",
                                         "requirements": "Five years in battery systems.",
                                         "salary_range": "400,000–600,000 CNY", "funding": "5 million CNY",
                                         "policy_support": "Talent apartment", "deadline": "2030-12-31",
                                         "regions": [str(w.regions["ASEAN"])]}),
    # Demands presented at events: the ASEAN admin presents the region's demand at a Hanoi event.
    "event_demand": FormSpec("asean_admin", lambda w: f"/events/{w.present_event_id}/demands",
                             lambda w, a: {"demand_id": str(w.present_demand_id)}),
    # Saved views (liaison.saved_views): a regional admin shares a view of the lead list with the region.
    "saved_view_new": FormSpec("asean_admin", lambda w: "/saved-views/new",
                               lambda w, a: {"list": "leads.index", "query": "status=submitted&sort=-submitted",
                                             "name": "ASEAN submitted", "share": f"region:{w.regions['ASEAN']}"}),
}


@pytest.fixture(autouse=True)
def _report_period(request, app, world):
    """For the reopening form: a closed period (``world.report_period_id``)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("form_name") != "report_reopen":
        return
    from liaison.models import ReportPeriod

    with app.app_context():
        record = ReportPeriod(key="2025-Q3", kind="quarter", starts_on=date(2025, 7, 1), ends_on=date(2025, 9, 30),
                              closed=True, snapshot={})
        db.session.add(record)
        db.session.commit()
        world.report_period_id = record.id
        db.session.remove()


@pytest.fixture(autouse=True)
def _open_event(request, app, world):
    """For the public registration form: an open event of the Hanoi station (``world.event_slug``)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("form_name") != "event_register":
        return
    from datetime import datetime

    from liaison.events.models import Event, EventStation

    with app.app_context():
        event = Event(kind="symposium", organiser="stations", title="Symposium", title_zh="座谈会",
                      starts_at=datetime(2030, 1, 1, 9), ends_at=datetime(2030, 1, 1, 12), timezone="UTC",
                      status="registration_open", seats_taken=0,
                      organising=[EventStation(station_id=world.stations["hanoi"])])
        db.session.add(event)
        db.session.commit()
        world.event_slug = event.slug
        db.session.remove()


@pytest.fixture(autouse=True)
def _event_and_demand(request, app, world):
    """For presenting a demand at an event: a Hanoi event and an ASEAN demand
    (``world.present_event_id``, ``world.present_demand_id``)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("form_name") != "event_demand":
        return
    from datetime import datetime

    from liaison.demands.models import Demand, DemandRegion
    from liaison.events.models import Event, EventStation

    with app.app_context():
        event = Event(kind="symposium", organiser="stations", title="Expo", title_zh="对接会",
                      starts_at=datetime(2030, 1, 1, 9), ends_at=datetime(2030, 1, 1, 12), timezone="UTC",
                      status="registration_open", seats_taken=0,
                      organising=[EventStation(station_id=world.stations["hanoi"])])
        demand = Demand(title="Battery engineers", organisation="Wenzhou NEV Co.", source_kind="enterprise",
                        kind="hire", requirements="Five years.", status="open",
                        region_rows=[DemandRegion(region_id=world.regions["ASEAN"])])
        db.session.add_all([event, demand])
        db.session.commit()
        world.present_event_id, world.present_demand_id = event.id, demand.id
        db.session.remove()


@pytest.fixture(autouse=True)
def _erasure_request(request, app, world):
    """For the erasure forms: a request for the Hanoi contact, made by vol_hanoi (``world.erasure_id``)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or not str(callspec.params.get("form_name", "")).startswith("erasure_"):
        return
    from liaison.models import ErasureRequest

    with app.app_context():
        erasure = ErasureRequest(contact_id=world.contacts["hanoi"], station_id=world.stations["hanoi"],
                                 reason="The person asked.", requested_by_id=world.users["vol_hanoi"])
        db.session.add(erasure)
        db.session.commit()
        world.erasure_id = erasure.id
        db.session.remove()


def _post(app, client, login, world, form_name, changes=None, drop=()):
    spec = FORMS[form_name]
    data = spec.data(world, app)
    data.update(changes or {})
    for name in drop:
        data.pop(name, None)
    return client.post(spec.url(world), data=data), data, spec


@pytest.mark.parametrize("form_name", [name for name in FORMS if name != "password"])
def test_valid_submission_is_saved(app, client, login, world, form_name):
    """The base data of each form is valid: the cases below fail for the spoilt field only."""
    if FORMS[form_name].role:
        login(FORMS[form_name].role)
    before = snapshot(app)
    response, _data, _spec = _post(app, client, login, world, form_name)
    if form_name.startswith("user_new"):  # the temporary password is shown on the answer itself
        assert response.status_code == 200 and 'id="temporary-password"' in response.get_data(as_text=True)
    elif form_name == "api_token":  # the new token is shown once, on the answer itself
        assert response.status_code == 200 and 'id="new-token"' in response.get_data(as_text=True)
    else:
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert snapshot(app) != before


def test_valid_password_change_is_saved(app, client, login, world):
    """In a child process: this once crashed the interpreter (``login_user(current_user)``)."""
    login("vol_hanoi")

    def scenario():
        response, _data, _spec = _post(app, client, login, world, "password")
        assert response.status_code == 302 and response.headers["Location"].endswith("/profile")
        assert client.get("/profile").status_code == 200  # still logged in

    in_child_process(app, scenario)
    with app.app_context():
        assert db.session.get(User, world.users["vol_hanoi"]).check_password("a-brand-new-password")


# One field spoilt at a time ----------------------------------------------------------------

def _cases():
    station = [
        ("name", "", REQUIRED), ("name", "   ", REQUIRED), ("name", TEN_K, TOO_LONG),
        ("name_zh", TEN_K, TOO_LONG),
        ("region_id", "", None), ("region_id", "abc", None), ("region_id", "999999", CHOICE),
        ("country", "", None), ("country", "XX", None), ("country", "zz", None), ("country", "ITA", None),
        ("country", TEN_K, None),
        ("city", "", REQUIRED), ("city", TEN_K, TOO_LONG),
        ("host_organisation", "", REQUIRED), ("host_organisation", TEN_K, TOO_LONG),
        ("host_kind", "", None), ("host_kind", "bogus", CHOICE),
        ("established_on", "2024-02-30", DATE), ("established_on", "yesterday", DATE),
        ("established_on", "31/12/2020", DATE), ("established_on", TOMORROW, FUTURE),
        ("established_on", "2999-01-01", FUTURE),
        ("contact_email", "not-an-email", EMAIL), ("contact_email", "a@", EMAIL),
        ("contact_email", "@example.org", EMAIL), ("contact_email", "name@@example.org", EMAIL),
        ("contact_email", TEN_K + "@example.org", None),
        ("contact_phone", "abc", PHONE), ("contact_phone", "123", PHONE), ("contact_phone", "+99 1234 5678", PHONE),
        ("contact_phone", "0912", PHONE), ("contact_phone", "+39 091", PHONE), ("contact_phone", "091 234 56789 0123", PHONE),
        ("contact_phone", TEN_K, None),
        ("notes", TEN_K, TOO_LONG),
        ("name", "Milan station", "already exists"), ("name", "MILAN STATION", "already exists"),
    ]
    contact = [
        ("kind", "", None), ("kind", "bogus", CHOICE),
        ("name", "", REQUIRED), ("name", "   ", REQUIRED), ("name", TEN_K, TOO_LONG),
        ("name_zh", TEN_K, TOO_LONG), ("name_original", TEN_K, TOO_LONG), ("organisation", TEN_K, TOO_LONG),
        ("position", TEN_K, TOO_LONG), ("field", TEN_K, TOO_LONG), ("city", TEN_K, TOO_LONG),
        ("messaging", TEN_K, TOO_LONG), ("languages", TEN_K, TOO_LONG), ("tags", TEN_K, TOO_LONG),
        ("notes", TEN_K, TOO_LONG),
        ("country", "XX", None), ("country", "zz", None), ("country", "VNM", None),
        ("email", "not-an-email", EMAIL), ("email", "a@b", EMAIL), ("email", "an @example.org", EMAIL),
        ("email", TEN_K + "@example.org", None),
        ("phone", "abc", PHONE), ("phone", "12", PHONE), ("phone", "+99 12 3456", PHONE),
        ("phone", "0912", PHONE), ("phone", "024 38", PHONE), ("phone", "+84 091234", PHONE),
        ("phone", TEN_K, None),
    ]
    lead = [
        ("category", "", None), ("category", "bogus", CHOICE),
        ("summary", "", REQUIRED), ("summary", "  \n ", REQUIRED), ("summary", TEN_K, TOO_LONG),
        ("field", TEN_K, TOO_LONG), ("wants", TEN_K, TOO_LONG), ("offer", TEN_K, TOO_LONG),
        ("priority", "abc", None), ("priority", "9", CHOICE), ("priority", "0", CHOICE),
    ]
    user = [
        ("name", "", REQUIRED), ("name", TEN_K, TOO_LONG),
        ("email", "", REQUIRED), ("email", "not-an-email", EMAIL), ("email", "a@b", EMAIL),
        ("email", TEN_K + "@example.org", None),
        ("email", "hq@example.org", "Another account already uses this e-mail address."),
        ("email", "HQ@Example.ORG", "Another account already uses this e-mail address."),
        ("role", "", None), ("role", "bogus", CHOICE),
        ("stations", "abc", None), ("stations", "999999", None), ("stations", TEN_K, None),
    ]
    region = [
        ("code", "", REQUIRED), ("code", "1ASIA", "Capital letters"), ("code", "AS-IA", "Capital letters"),
        ("code", "AS IA", "Capital letters"), ("code", "亚洲", "Capital letters"), ("code", TEN_K, TOO_LONG),
        ("name", "", REQUIRED), ("name", TEN_K, TOO_LONG), ("name_zh", TEN_K, TOO_LONG),
    ]
    cases = []
    cases += [("station_new", *c) for c in station]
    cases += [("station_edit", *c) for c in station if c[0] != "name" or c[1] != "Milan station"]
    cases += [("station_new_regional", "region_id", str("EUROPE"), None)]
    cases += [("contact_new", *c) for c in contact]
    cases += [("contact_edit", *c) for c in contact]
    cases += [
        ("contact_new_agreed", "consent_source", "", "Say how the person agreed"),
        ("contact_new_agreed", "consent_source", "bogus", CHOICE),
        ("contact_new_agreed", "consent_given_on", TOMORROW, FUTURE),
        ("contact_new_agreed", "consent_given_on", "2024-02-30", DATE),
        ("contact_new_agreed", "consent_given_on", "", "Give the date the person agreed."),
        ("contact_new_agreed", "consent_evidence", TEN_K, TOO_LONG),
    ]
    cases += [("consent_record", *c) for c in [
        ("purpose", "", None), ("purpose", "bogus", CHOICE), ("purpose", TEN_K, CHOICE),
        ("basis", "", None), ("basis", "bogus", CHOICE),
        ("source", "", "Say where the basis comes from"), ("source", "bogus", CHOICE),
        ("given_on", "", "Give the date"), ("given_on", "2024-02-30", DATE), ("given_on", "yesterday", DATE),
        ("given_on", TOMORROW, FUTURE), ("given_on", "2999-01-01", FUTURE),
        ("expires_on", "2025-05-31", "cannot be before the date given"), ("expires_on", "2025-06-02", "has passed"),
        ("expires_on", "2024-02-30", DATE),
        ("evidence", TEN_K, TOO_LONG), ("text_version", "x" * 41, TOO_LONG),
    ]]
    cases += [("consent_withdraw", "note", "", "Say how and when the person withdrew"),
              ("consent_withdraw", "note", "   ", "Say how and when the person withdrew"),
              ("consent_withdraw", "note", "x" * 301, TOO_LONG)]
    cases += [("lead_new", *c) for c in lead]
    cases += [("lead_edit", *c) for c in lead]
    cases += [("user_new", *c) for c in user]
    cases += [("user_edit", *c) for c in user]
    cases += [("user_new_regional", "role", role, CHOICE) for role in ("admin", "hq_reviewer", "regional_admin")]
    cases += [("user_edit_regional", "role", role, CHOICE) for role in ("admin", "hq_reviewer", "regional_admin")]
    cases += [("region_new", *c) for c in region]
    cases += [("region_new", "code", code, "already exists") for code in ("ASEAN", "europe", " Asean ")]
    cases += [("region_edit", *c) for c in region]
    cases += [("region_edit", "code", "EUROPE", "already exists")]
    cases += [
        ("api_token", "name", "", REQUIRED), ("api_token", "name", TEN_K, TOO_LONG),
        ("api_token", "access", "admin", CHOICE), ("api_token", "days", "12345", CHOICE),
        ("api_token", "station", "999999", CHOICE),
        ("profile", "profile-name", "", REQUIRED), ("profile", "profile-name", TEN_K, TOO_LONG),
        ("profile", "profile-locale", "fr", CHOICE), ("profile", "profile-locale", "", None),
        ("profile", "profile-timezone", "Mars/Olympus_Mons", CHOICE), ("profile", "profile-timezone", TEN_K, CHOICE),
        ("password", "password-current_password", "", REQUIRED),
        ("password", "password-current_password", "wrong-password", "This is not your current password."),
        ("password", "password-new_password_repeat", "another-new-password", "The two passwords differ."),
        ("password", "password-new_password", "short", "Use at least 10 characters."),
        ("password", "password-new_password", "", REQUIRED),
        ("password", "password-new_password", TEN_K, TOO_LONG),
        ("login", "email", "", REQUIRED), ("login", "password", "", REQUIRED),
        ("login", "email", TEN_K, TOO_LONG), ("login", "password", TEN_K, TOO_LONG),
        ("login", "password", "wrong-password", "The e-mail address or the password is not correct."),
        ("forgot_password", "email", "", REQUIRED), ("forgot_password", "email", TEN_K, TOO_LONG),
        ("notification_preferences", "kind__lead_decided", "sms", CHOICE),
        ("notification_preferences", "kind__lead_decided", "", CHOICE),
        ("notification_preferences", "kind__info_requested", TEN_K, CHOICE),
        ("reveal", "reason", "", "Choose why you need to see the personal fields."),
        ("reveal", "reason", "curiosity", CHOICE), ("reveal", "reason", TEN_K, CHOICE),
        ("reveal", "note", "x" * 301, TOO_LONG), ("reveal", "note", TEN_K, TOO_LONG),
        ("erasure_request", "reason", "", REQUIRED), ("erasure_request", "reason", "   ", REQUIRED),
        ("erasure_request", "reason", TEN_K, TOO_LONG),
        ("erasure_approve", "confirm", "", "Tick the box to confirm the erasure."),
        ("erasure_approve", "note", TEN_K, TOO_LONG),
        ("erasure_reject", "note", "", REQUIRED), ("erasure_reject", "note", "   ", REQUIRED),
        ("erasure_reject", "note", TEN_K, TOO_LONG),
        ("scorecard_weights", "w_landed", "-1", "Number must be between 0 and 100."),
        ("scorecard_weights", "w_landed", "101", "Number must be between 0 and 100."),
        ("scorecard_weights", "w_landed", "five", "Not a valid decimal value."),
        ("scorecard_weights", "w_landed", "99999999999999999999", "Number must be between 0 and 100."),
        ("scorecard_weights", "w_contacts", "", REQUIRED),
        ("scorecard_weights", "year", "1999", "Number must be between 2000 and 2100."),
        ("scorecard_weights", "year", "next", "Not a valid integer value."),
        ("scorecard_weights", "year", "", REQUIRED),
        ("report_close", "period", "", REQUIRED), ("report_close", "period", "   ", REQUIRED),
        ("report_close", "period", "2025-Q5", "Write a year (2025), a quarter (2025-Q4) or a month (2025-11)."),
        ("report_close", "period", "1999", "Choose a year from 2000 to 2100."),
        ("report_close", "period", "2025-01-01..2025-02-01", TOO_LONG),
        ("report_close", "period", TEN_K, TOO_LONG),
        ("report_close", "period", str(date.today().year + 1), "A period can be closed once it has ended."),
        ("report_reopen", "reason", "", REQUIRED), ("report_reopen", "reason", " \n ", REQUIRED),
        ("report_reopen", "reason", TEN_K, TOO_LONG),
        ("notice_new", "title", "", REQUIRED), ("notice_new", "title", "   ", REQUIRED),
        ("notice_new", "title", TEN_K, TOO_LONG), ("notice_new", "title_zh", "", REQUIRED),
        ("notice_new", "body", "", REQUIRED), ("notice_new", "body_zh", "x" * 20_001, TOO_LONG),
        ("notice_new", "link", "javascript:alert(1)", "Enter a web address starting with https://"),
        ("notice_new", "link", TEN_K, TOO_LONG),
        ("notice_new", "effective_from", "", "Enter a date."), ("notice_new", "effective_from", "2025-13-01", DATE),
        ("notice_new", "effective_until", "2024-12-31", "The end cannot be before the start."),
        ("notice_new", "attachments", "a form", "Line 1: write a label"),
        ("notice_new", "attachments", "Form | /local/path", "Line 1: write a label"),
        ("notice_new", "stations", "999999", "is not a valid choice"),
        ("notice_new", "host_kinds", "martians", "is not a valid choice"),
        ("appointment_new", "user_id", "", "Choose a volunteer."),
        ("appointment_new", "user_id", "abc", "Choose a volunteer."),
        ("appointment_new", "user_id", "{vol_milan}", CHOICE),  # not a volunteer of the admin's region
        ("appointment_new", "station_id", "{milan}", CHOICE), ("appointment_new", "station_id", TEN_K, "Choose a station."),
        ("appointment_new", "term_start", "soon", DATE), ("appointment_new", "term_end", "", "Enter a date."),
        ("appointment_new", "term_end", "2024-12-31", "The end cannot be before the start."),
        ("appointment_new", "appointing_body", "", REQUIRED), ("appointment_new", "appointing_body", TEN_K, TOO_LONG),
        ("appointment_new", "letter_number", TEN_K, TOO_LONG),
        ("assignment_rule_new", "name", "", REQUIRED), ("assignment_rule_new", "name", "   ", REQUIRED),
        ("assignment_rule_new", "name", TEN_K, TOO_LONG),
        ("assignment_rule_new", "position", "abc", "Not a valid integer value"),
        ("assignment_rule_new", "position", "-1", "Number must be between"),
        ("assignment_rule_new", "position", "", REQUIRED),
        ("assignment_rule_new", "criterion", "bogus", CHOICE), ("assignment_rule_new", "criterion", TEN_K, CHOICE),
        ("assignment_rule_new", "region_id", "", "Choose one for this kind of rule."),
        ("assignment_rule_new", "region_id", "999999", CHOICE), ("assignment_rule_new", "region_id", "abc", CHOICE),
        ("assignment_rule_new", "strategy", "bogus", CHOICE), ("assignment_rule_new", "strategy", "", None),
        ("assignment_rule_new", "member_ids", "{vol_milan}", "is not a valid choice"),
        ("assignment_rule_new", "member_ids", TEN_K, "is not a valid choice"),
        ("review_deadlines", "days_submitted", "-1", "Number must be between 0 and 365."),
        ("review_deadlines", "days_submitted", "366", "Number must be between 0 and 365."),
        ("review_deadlines", "days_submitted", "five", "Not a valid integer value."),
        ("review_deadlines", "days_submitted", TEN_K, "Not a valid integer value."),
        ("review_deadlines", "remind_submitted", "8", "at most the deadline's days"),
        ("review_deadlines", "days_needs_info", "", "Set the deadline too, or leave the reminder empty."),
        ("demand_new", "title", "", REQUIRED), ("demand_new", "title", "   ", REQUIRED),
        ("demand_new", "title", TEN_K, TOO_LONG), ("demand_new", "organisation", "", REQUIRED),
        ("demand_new", "organisation", TEN_K, TOO_LONG), ("demand_new", "source_kind", "bogus", CHOICE),
        ("demand_new", "kind", "bogus", CHOICE), ("demand_new", "kind", TEN_K, CHOICE),
        ("demand_new", "city", TEN_K, TOO_LONG), ("demand_new", "contact_name", TEN_K, TOO_LONG),
        ("demand_new", "contact_phone", "abc", PHONE), ("demand_new", "contact_phone", "+99 1234", PHONE),
        ("demand_new", "contact_phone", TEN_K, None), ("demand_new", "contact_email", "not-an-email", EMAIL),
        ("demand_new", "fields", "", REQUIRED), ("demand_new", "fields", " , ，、", "Name at least one field."),
        ("demand_new", "fields", ", ".join(f"f{i}" for i in range(13)), "At most 12 fields."),
        ("demand_new", "fields", "x" * 101, "at most 100 characters"), ("demand_new", "fields", TEN_K, TOO_LONG),
        ("demand_new", "requirements", "", REQUIRED), ("demand_new", "requirements", "x" * 10_001, TOO_LONG),
        ("demand_new", "salary_range", TEN_K, TOO_LONG), ("demand_new", "funding", TEN_K, TOO_LONG),
        ("demand_new", "policy_support", TEN_K, TOO_LONG), ("demand_new", "deadline", "2030-02-30", DATE),
        ("demand_new", "deadline", "soon", DATE), ("demand_new", "regions", "{europe}", "is not a valid choice"),
        ("demand_new", "regions", "abc", None), ("demand_new", "regions", "", "Choose at least one region."),
        ("event_new", "title", "", REQUIRED), ("event_new", "title", TEN_K, TOO_LONG),
        ("event_new", "title_zh", "   ", REQUIRED), ("event_new", "kind", "bogus", CHOICE),
        ("event_new", "organiser", "bogus", CHOICE), ("event_new", "timezone", "Mars/Base", "time zone"),
        ("event_new", "starts_at", "tomorrow", "Not a valid datetime value"),
        ("event_new", "ends_at", "2030-04-01T09:00", "The end cannot be before the start."),
        ("event_new", "capacity", "-1", "Number must be between"), ("event_new", "capacity", "five", "integer"),
        ("event_new", "online_link", "javascript:alert(1)", "https://"),
        ("event_new", "country", "ZZ", "Choose a country"), ("event_new", "station_ids", "{milan}", "is not a valid choice"),
        ("event_new", "description", "x" * 10_001, TOO_LONG),
        ("event_register", "name", "", REQUIRED), ("event_register", "name", TEN_K, TOO_LONG),
        ("event_register", "email", "not-an-email", EMAIL), ("event_register", "phone", "abc", PHONE),
        ("event_register", "phone", TEN_K, None), ("event_register", "country", "ZZZ", None),
        ("event_register", "organisation", "<script>" + TEN_K, TOO_LONG),
        ("event_demand", "demand_id", "abc", None), ("event_demand", "demand_id", "9" * 30, CHOICE),
        ("event_demand", "demand_id", "", "Choose a demand."), ("event_demand", "demand_id", TEN_K, None),
        ("saved_view_new", "name", "", REQUIRED), ("saved_view_new", "name", "   ", REQUIRED),
        ("saved_view_new", "name", TEN_K, TOO_LONG),
        ("saved_view_new", "share", "hq", "You may not share a view that way."),
        ("saved_view_new", "share", "region:999999", "You may not share a view that way."),
        ("saved_view_new", "share", TEN_K, "You may not share a view that way."),
    ]
    return cases


def _case_id(case):
    form_name, name, value, _message = case
    shown = value if len(value) <= 20 else f"{value[:8]}…{len(value)}"
    return f"{form_name}-{name}-{shown!r}"


CASES = _cases()


@pytest.mark.parametrize("form_name,name,value,message", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_value_is_refused_next_to_the_field(app, client, login, world, form_name, name, value, message):
    spec = FORMS[form_name]
    if spec.role:
        login(spec.role)
    if form_name == "station_new_regional" and value == "EUROPE":
        value = str(world.regions["EUROPE"])  # a region the regional admin does not run
    if value == "{europe}":
        value = str(world.regions["EUROPE"])  # a region the ASEAN admin does not run
    if value in ("{vol_milan}", "{milan}"):
        value = str(world.users["vol_milan"] if value == "{vol_milan}" else world.stations["milan"])
    before = snapshot(app)
    response, data, spec = _post(app, client, login, world, form_name, {name: value})

    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    page = page_of(response)
    form = page.control(name)["form"]
    error = page.error_of(name, form)
    assert error, f"no error shown next to {name}"
    if message:
        assert message in error, error
    # What the user typed is still there, in every field but the passwords.
    for other, typed in data.items():
        control = page.control(other, form)
        if control["type"] == "password":
            assert control["value"] == ""
            continue
        if control["tag"] == "select" or control["type"] in ("submit", "checkbox"):
            if other != name and control["tag"] == "select":
                expected = typed if isinstance(typed, list) else [typed]
                assert page.kept(other, form) == expected, other
            continue
        expected = typed.strip()
        if other in spec.normalise:
            expected = spec.normalise[other](expected)
        assert page.kept(other, form) == expected, other
    assert snapshot(app) == before


@pytest.mark.parametrize("form_name,name", [
    ("station_new", "name"), ("station_new", "city"), ("station_new", "country"), ("station_new", "region_id"),
    ("contact_new", "name"), ("contact_new", "kind"), ("lead_new", "summary"), ("lead_new", "category"),
    ("user_new", "email"), ("user_new", "name"), ("user_new", "role"), ("region_new", "code"),
    ("region_new", "name"), ("login", "email"), ("reveal", "reason"),
    ("erasure_request", "reason"), ("erasure_approve", "confirm"), ("erasure_reject", "note"),
    ("report_close", "period"), ("report_reopen", "reason"), ("scorecard_weights", "w_landed"),
    ("notice_new", "title"), ("notice_new", "effective_from"), ("appointment_new", "term_end"),
    ("appointment_new", "user_id"), ("assignment_rule_new", "name"), ("assignment_rule_new", "member_ids"),
    ("event_demand", "demand_id"),
])
def test_missing_required_field(app, client, login, world, form_name, name):
    """The field not sent at all (not just empty)."""
    spec = FORMS[form_name]
    if spec.role:
        login(spec.role)
    before = snapshot(app)
    response, _data, _spec = _post(app, client, login, world, form_name, drop=[name])
    assert response.status_code == 200
    assert page_of(response).error_of(name)
    assert snapshot(app) == before


def test_passwords_are_never_echoed(app, client, login, world):
    login("vol_hanoi")
    response = client.post("/profile", data={"password-current_password": "secret-current-1",
                                             "password-new_password": "secret-new-22",
                                             "password-new_password_repeat": "secret-other-333"})
    body = response.get_data(as_text=True)
    for secret in ("secret-current-1", "secret-new-22", "secret-other-333"):
        assert secret not in body


def test_regional_admin_without_region_is_refused(app, client, login, world):
    login("admin")
    before = snapshot(app)
    response = client.post("/admin/users/new", data={"name": "Regional", "email": "regional@example.org",
                                                     "role": "regional_admin"})
    assert response.status_code == 200
    assert "Choose at least one region" in page_of(response).error_of("regions")
    assert snapshot(app) == before
    response = client.post(f"/admin/users/{world.users['asean_admin']}/edit",
                           data={"name": "Asean Admin", "email": "asean_admin@example.org", "role": "regional_admin"})
    assert response.status_code == 200
    assert "Choose at least one region" in page_of(response).error_of("regions")
    assert snapshot(app) == before


def test_regional_admin_cannot_give_stations_of_another_region(app, client, login, world):
    login("asean_admin")
    before = snapshot(app)
    response = client.post("/admin/users/new", data={"name": "Sneaky", "email": "sneaky@example.org",
                                                     "role": "volunteer", "stations": [str(world.stations["milan"])]})
    assert response.status_code == 200
    assert page_of(response).error_of("stations")
    assert snapshot(app) == before


# Contacts: the duplicate warning -----------------------------------------------------------

DUPLICATES = {
    "same e-mail": {"email": "an@example.org"},
    "same e-mail, other case and spaces": {"email": "  AN@Example.ORG "},
    "same phone": {"phone": "+84 24 3825 1234"},
    "same phone, local form": {"phone": "024 3825 1234", "country": "VN"},
    "same phone, other spacing": {"phone": "+84-24-38251234"},
}


@pytest.mark.parametrize("changes", list(DUPLICATES.values()), ids=list(DUPLICATES))
def test_duplicate_contact_warns_and_writes_nothing_until_confirmed(app, client, login, world, changes):
    login("vol_hanoi")
    url = f"/contacts/new?station_id={world.stations['hanoi']}"
    data = _contact_data(world, app, **changes)
    before = snapshot(app)
    response = client.post(url, data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "alert-warning" in body and "already has a contact" in body
    assert f'href="/contacts/{world.contacts["hanoi"]}"' in body  # a link to the existing contact
    page = page_of(response)
    assert page.control("confirm_duplicate")["type"] == "checkbox"
    assert page.kept("name") == data["name"] and page.kept("submission_token") == data["submission_token"]
    assert snapshot(app) == before

    response = client.post(url, data={**data, "confirm_duplicate": "y"})
    assert response.status_code == 302
    assert count(app, Contact, Contact.station_id == world.stations["hanoi"]) == 2


def test_duplicate_warning_on_edit(app, client, login, world):
    login("vol_hanoi")
    with app.app_context():
        other = Contact(station_id=world.stations["hanoi"], kind="student", name="Le Thi Hoa",
                        email="hoa@example.org", email_normalized="hoa@example.org")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    url = f"/contacts/{other_id}/edit"
    data = _contact_data(world, app, name="Le Thi Hoa", email="an@example.org", phone="")
    before = snapshot(app)
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert f'href="/contacts/{world.contacts["hanoi"]}"' in response.get_data(as_text=True)
    assert snapshot(app) == before
    # The contact's own address is no duplicate of itself.
    response = client.post(url, data=_contact_data(world, app, name="Le Thi Hoa", email="hoa@example.org", phone=""))
    assert response.status_code == 302
    response = client.post(url, data={**data, "confirm_duplicate": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Contact, other_id).email == "an@example.org"


def test_local_phone_number_is_read_in_the_stations_country(app, client, login, world):
    login("vol_hanoi")
    url = f"/contacts/new?station_id={world.stations['hanoi']}"
    before = snapshot(app)
    response = client.post(url, data=_contact_data(world, app, phone="024 3825", country=""))
    assert response.status_code == 200
    error = page_of(response).error_of("phone")
    assert PHONE in error and "Vietnam" in error  # says where a number without "+" is read
    assert 'value="024 3825"' in response.get_data(as_text=True)  # what was typed is kept
    assert snapshot(app) == before
    # No contact country, or another one: the station's country (Vietnam) reads the number.
    response = client.post(url, data=_contact_data(world, app, phone="024 3825 9999", country="IT"))
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "Tran Thi Binh"))
        assert (contact.phone, contact.phone_e164) == ("+842438259999", "+842438259999")  # stored as E.164


def test_same_email_in_another_station_is_noted_without_its_personal_data(app, client, login, world):
    """Another station's contact is no duplicate of this station's, but HQ knows the person there:
    the form says so (a count only: nothing of the other station's contact), writes nothing, and
    saves once confirmed (issue 12)."""
    login("vol_bangkok")
    data = _contact_data(world, app, email="an@example.org", phone="+84 24 3825 1234", country="TH")
    before = snapshot(app)
    response = client.post(f"/contacts/new?station_id={world.stations['bangkok']}", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HQ already knows a person with matching details at 1 other station" in body
    assert f'href="/contacts/{world.contacts["hanoi"]}"' not in body and "Hanoi station" not in body
    assert snapshot(app) == before
    response = client.post(f"/contacts/new?station_id={world.stations['bangkok']}", data={**data, "confirm_duplicate": "y"})
    assert response.status_code == 302
    assert count(app, Contact, Contact.email_normalized == "an@example.org") == 2


# Lead moves --------------------------------------------------------------------------------

def _lead_at(app, world, status, station="hanoi"):
    with app.app_context():
        try:
            return make_lead(world, station, status)
        finally:
            db.session.remove()


MOVE_CASES = {
    # name: (status, move, extra data, field with the error or None for a flashed message, message)
    "reject without comment": ("under_review", "reject", {"comment": ""}, "comment", "Please add a comment"),
    "reject with blank comment": ("under_review", "reject", {"comment": "  \n "}, "comment", "Please add a comment"),
    "request_info without comment": ("under_review", "request_info", {}, "comment", "Please add a comment"),
    "close_lost without comment": ("accepted", "close_lost", {}, "comment", "Please add a comment"),
    "comment too long": ("under_review", "reject", {"comment": TEN_K}, "comment", TOO_LONG),
    "refer without target": ("accepted", "refer", {"referral_target": ""}, "referral_target", "Name the department"),
    "refer with blank target": ("accepted", "refer", {"referral_target": "   "}, "referral_target",
                                "Name the department"),
    "refer with too long target": ("accepted", "refer", {"referral_target": TEN_K}, "referral_target", TOO_LONG),
    "land without date": ("referred", "land", {"landing_kind": "hired"}, "landed_on", "Give the date"),
    "land without kind": ("referred", "land", {"landed_on": "2025-01-02"}, "landing_kind", "Choose what landed"),
    "land with unknown kind": ("referred", "land", {"landed_on": "2025-01-02", "landing_kind": "lunch"},
                               "landing_kind", "Choose what landed"),
    "land in the future": ("referred", "land", {"landed_on": TOMORROW, "landing_kind": "hired"},
                           "landed_on", "cannot be in the future"),
    "land on an impossible date": ("referred", "land", {"landed_on": "2025-02-30", "landing_kind": "hired"},
                                   "landed_on", DATE),
    "land on a non-date": ("referred", "land", {"landed_on": "last week", "landing_kind": "hired"},
                           "landed_on", DATE),
}


@pytest.mark.parametrize("case", list(MOVE_CASES))
def test_move_with_missing_or_bad_data(app, client, login, world, case):
    status, move, extra, name, message = MOVE_CASES[case]
    lead_id = _lead_at(app, world, status)
    login("hq")
    before = snapshot(app)
    data = {"move": move, "version": str(lead_version(app, lead_id)), **extra}
    response = client.post(f"/leads/{lead_id}/move", data=data)
    assert response.status_code == 400
    page = page_of(response)
    form = page.form_with("move", move)
    error = page.error_of(name, form)
    assert message in error, error
    for other, typed in extra.items():
        if other != name and other != "landing_kind":
            assert page.kept(other, form) == typed.strip()
    assert snapshot(app) == before


@pytest.mark.parametrize("data", [
    {"move": "fly_away"}, {"move": ""}, {"move": TEN_K}, {"move": "start_review", "version": ""},
    {"move": "start_review", "version": "abc"}, {"move": "start_review", "version": "-"},
    {"move": "accept"},  # not possible from "submitted"
    {"move": "submit"},  # not HQ's move
])
def test_unknown_or_impossible_move_changes_nothing(app, client, login, world, data):
    lead_id = world.leads["hanoi_submitted"]
    login("hq")
    data = {"version": str(lead_version(app, lead_id)), **data}
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", data=data)
    assert response.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("data", [{"move": "fly_away"}, {"move": "start_review", "version": ""},
                                  {"move": "start_review", "version": "abc"}])
def test_unknown_move_or_bad_version_says_what_is_wrong(app, client, login, world, data):
    lead_id = world.leads["hanoi_submitted"]
    login("hq")
    data = {"version": str(lead_version(app, lead_id)), **data}
    response = client.post(f"/leads/{lead_id}/move", data=data)
    assert response.status_code == 400
    page = page_of(response)
    body = response.get_data(as_text=True)
    assert "alert-danger" in body or any(e["text"].strip() for e in page.errors), "no message shown"


def test_stale_version_is_409_with_a_clear_message(app, client, login, world):
    lead_id = world.leads["hanoi_submitted"]
    version = lead_version(app, lead_id)
    login("hq")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", data={"move": "start_review", "version": str(version - 1)})
    assert response.status_code == 409
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    assert snapshot(app) == before
    # With the current version it works.
    response = client.post(f"/leads/{lead_id}/move", data={"move": "start_review", "version": str(version)})
    assert response.status_code == 302


def test_lead_edit_with_stale_version_saves_nothing(app, client, login, world):
    lead_id = world.leads["hanoi_draft"]
    login("vol_hanoi")
    data = _lead_edit_data(world, app)
    data["version"] = str(int(data["version"]) - 1)
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/edit", data=data, follow_redirects=True)
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    assert snapshot(app) == before


# "In the future" is judged in the user's time zone (the default is Asia/Shanghai) ---------

def _zone_a_day_apart_from_utc() -> tuple[str, date]:
    """A real time zone whose calendar date differs from UTC's right now, and its date:
    Kiritimati (UTC+14) is a day ahead from 10:00 UTC, Pago Pago (UTC-11) a day behind before 11:00."""
    now = datetime.now(timezone.utc)
    zone = "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"
    local = now.astimezone(ZoneInfo(zone)).date()
    assert local != now.date()
    return zone, local


def _set_timezone(app, key, world, tz):
    with app.app_context():
        db.session.get(User, world.users[key]).timezone = tz
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("days_ahead,accepted", [(0, True), (1, False)], ids=["local-today", "local-tomorrow"])
def test_landing_date_is_judged_on_the_users_calendar(app, client, login, world, days_ahead, accepted):
    zone, today = _zone_a_day_apart_from_utc()
    lead_id = _lead_at(app, world, "referred")
    _set_timezone(app, "hq", world, zone)
    login("hq")
    typed = (today + timedelta(days=days_ahead)).isoformat()
    response = client.post(f"/leads/{lead_id}/move", data={
        "move": "land", "version": str(lead_version(app, lead_id)), "landed_on": typed, "landing_kind": "hired"})
    assert response.status_code == (302 if accepted else 400), (zone, typed)


@pytest.mark.parametrize("days_ahead,accepted", [(0, True), (1, False)], ids=["local-today", "local-tomorrow"])
def test_founding_date_is_judged_on_the_users_calendar(app, client, login, world, days_ahead, accepted):
    zone, today = _zone_a_day_apart_from_utc()
    _set_timezone(app, "admin", world, zone)
    login("admin")
    typed = (today + timedelta(days=days_ahead)).isoformat()
    response = client.post("/stations/new", data=_station_data(world, app, established_on=typed))
    assert response.status_code == (302 if accepted else 200), (zone, typed)


def test_markup_in_input_is_kept_and_shown_escaped(app, client, login, world):
    login("vol_hanoi")
    name = """<b onmouseover="x()">O'Brien & "Sons"</b>"""
    url = f"/contacts/new?station_id={world.stations['hanoi']}"
    response = client.post(url, data=_contact_data(world, app, name=name, email="not-an-email"))
    page = page_of(response)
    assert page.kept("name", page.control("email")["form"]) == name
    assert name not in response.get_data(as_text=True)
    response = client.post(url, data=_contact_data(world, app, name=name), follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "&lt;b onmouseover=" in body and "<b onmouseover" not in body


# Comments and reviewer assignment ----------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", TEN_K, "x" * 4001])
def test_bad_comment_is_refused(app, client, login, world, text):
    lead_id = world.leads["hanoi_submitted"]
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/comment", data={"text": text}, follow_redirects=True)
    assert response.status_code == 200
    assert "Write a comment of at most 4,000 characters." in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_comment_of_exactly_4000_characters_is_kept(app, client, login, world):
    lead_id = world.leads["hanoi_submitted"]
    login("vol_hanoi")
    response = client.post(f"/leads/{lead_id}/comment", data={"text": "y" * 4000})
    assert response.status_code == 302
    assert count(app, LeadEvent, LeadEvent.lead_id == lead_id, LeadEvent.kind == "comment") == 1


@pytest.mark.parametrize("reviewer", ["abc", "", "999999", "-1", "vol_hanoi", "asean_admin", "99999999999999999999",
                                      "2147483648"])
def test_bad_reviewer_is_refused(app, client, login, world, reviewer):
    lead_id = world.leads["hanoi_submitted"]
    value = str(world.users[reviewer]) if reviewer in world.users else reviewer
    login("hq")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/assign", data={"reviewer_id": value}, follow_redirects=True)
    assert response.status_code == 200
    assert "Choose a reviewer from the list." in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_assign_with_stale_version_is_refused(app, client, login, world):
    lead_id = world.leads["hanoi_submitted"]
    login("hq")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/assign", follow_redirects=True, data={
        "reviewer_id": str(world.users["hq2"]), "version": str(lead_version(app, lead_id) - 1)})
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("data,message", [
    ({"reviewer_id": "hq"}, "Select at least one lead."),
    ({"reviewer_id": "hq", "lead_ids": ["abc", "", "-3"]}, "Select at least one lead."),
    ({"lead_ids": ["L"], "reviewer_id": "abc"}, "Choose a reviewer from the list."),
    ({"lead_ids": ["L"], "reviewer_id": ""}, "Choose a reviewer from the list."),
    ({"lead_ids": ["L"]}, "Choose a reviewer from the list."),
    ({"lead_ids": ["L"], "reviewer_id": "999999"}, "Choose a reviewer from the list."),
    ({"lead_ids": ["L"], "reviewer_id": "vol_hanoi"}, "Choose a reviewer from the list."),
    ({"lead_ids": ["L"], "reviewer_id": "99999999999999999999"}, "Choose a reviewer from the list."),
    ({"lead_ids": ["L"], "reviewer_id": "2147483648"}, "Choose a reviewer from the list."),
])
def test_bad_bulk_assignment_is_refused(app, client, login, world, data, message):
    data = dict(data)
    if "lead_ids" in data:
        data["lead_ids"] = [str(world.leads["hanoi_submitted"]) if v == "L" else v for v in data["lead_ids"]]
    if data.get("reviewer_id") in world.users:
        data["reviewer_id"] = str(world.users[data["reviewer_id"]])
    login("hq")
    before = snapshot(app)
    response = client.post("/review/assign", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_bulk_assignment_ignores_unknown_lead_ids(app, client, login, world):
    login("hq")
    lead_id = world.leads["hanoi_submitted"]
    response = client.post("/review/assign", data={
        "lead_ids": [str(lead_id), "999999", "abc"], "reviewer_id": str(world.users["hq2"])})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(TalentLead, lead_id).reviewer_id == world.users["hq2"]


def test_bulk_assignment_with_huge_lead_id_is_no_server_error(app, client, login, world):
    login("hq")
    before = snapshot(app)
    response = client.post("/review/assign", data={"lead_ids": ["99999999999999999999", "2147483648"],
                                                   "reviewer_id": str(world.users["hq2"])})
    assert_no_server_error(response)
    assert snapshot(app) == before


# Station status and members ---------------------------------------------------------------

@pytest.mark.parametrize("data,name", [
    ({"status-status": "bogus", "status-reason": "moving"}, "status-status"),
    ({"status-status": "", "status-reason": "moving"}, "status-status"),
    ({"status-reason": "moving"}, "status-status"),
    ({"status-status": "closed", "status-reason": TEN_K}, "status-reason"),
])
def test_bad_station_status_is_refused_next_to_the_field(app, client, login, world, data, name):
    login("asean_admin")
    before = snapshot(app)
    response = client.post(f"/stations/{world.stations['hanoi']}/status", data=data, follow_redirects=True)
    assert response.status_code in (200, 400)
    page = page_of(response)
    form = page.control("status-reason")["form"]
    assert page.error_of(name, form), f"no error next to {name}"
    assert page.kept("status-reason", form) == data["status-reason"]
    assert snapshot(app) == before


@pytest.mark.parametrize("user", ["abc", "", "999999", "vol_milan", "hq", "vol_hanoi", "99999999999999999999",
                                  "2147483648"])
def test_bad_member_is_refused(app, client, login, world, user):
    value = str(world.users[user]) if user in world.users else user
    login("asean_admin")
    before = snapshot(app)
    response = client.post(f"/stations/{world.stations['hanoi']}/members", data={"member-user_id": value},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Choose a volunteer from the list." in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("path", [
    "/stations/{hanoi}/members/{vol_milan}/remove", "/stations/{hanoi}/members/999999/remove",
    "/stations/{hanoi}/members/{hq}/remove", "/stations/{hanoi}/members/99999999999999999999/remove",
    "/stations/{hanoi}/members/2147483648/remove", "/stations/99999999999999999999/members",
])
def test_removing_an_unknown_or_foreign_member_is_404(app, client, login, world, path):
    login("asean_admin")
    before = snapshot(app)
    url = path.format(hanoi=world.stations["hanoi"], vol_milan=world.users["vol_milan"], hq=world.users["hq"])
    assert client.post(url).status_code == 404
    assert snapshot(app) == before


# Garbage in query strings and URLs: never a 500 -------------------------------------------

GARBAGE_URLS = [
    "/leads/new?contact_id=abc", "/leads/new?contact_id=", "/leads/new?contact_id=-5", "/leads/new?contact_id=1.5",
    "/contacts/new?station_id=xyz", "/contacts/new?station_id=-1", "/contacts/new?station_id=",
    "/contacts/?page=-1", "/contacts/?page=abc", "/contacts/?page=0", "/contacts/?page=99999",
    "/contacts/?station=xyz", "/contacts/?station=-1", "/contacts/?kind=bogus&tag=" + "t" * 500,
    "/contacts/?q=" + TEN_K,
    "/contacts/?q=%25", "/contacts/?q=_", "/contacts/?q=%00",
    "/leads/?page=-1", "/leads/?page=abc", "/leads/?station=abc&region=NOPE&category=bogus&reviewer=abc",
    "/leads/?status=bogus&sort=bogus", "/leads/?submitted_from=2024-13-45&submitted_to=abc", "/leads/?q=" + TEN_K,
    "/leads/?q=%23abc", "/leads/?q=%23", "/leads/?q=%23-1",
    "/review/?page=-1", "/review/?page=abc", "/review/?reviewer=abc&station=xyz&submitted_from=x",
    "/review/report?date_from=abc&date_to=2024-02-30", "/review/report?date_from=2025-12-31&date_to=2020-01-01",
    "/stations/?page=abc", "/stations/?page=-1", "/stations/?region=NOPE&country=zz&status=bogus&q=" + TEN_K,
    "/admin/users?page=abc", "/admin/users?page=-1", "/admin/users?role=bogus&q=" + TEN_K,
    "/notifications/?after=garbage", "/notifications/?before=%00&last=1", "/notifications/?after=" + TEN_K,
    "/admin/jobs/?after=abc", "/admin/jobs/?last=1&count=exact", "/reset-password/" + "x" * 2000,
    "/exports/leads.xlsx?station=abc&page=abc&submitted_from=x", "/exports/contacts.xlsx?station=xyz&kind=bogus",
    "/imports/?station_id=xyz&after=garbage", "/imports/new?station_id=xyz", "/imports/new?station_id=-1",
    "/privacy/consents/expiring?after=garbage&before=%00&last=x", "/privacy/consents/expiring?after=" + TEN_K,
    "/privacy/consents/contacts/1/new?purpose=" + TEN_K,
    "/privacy/log?date_from=2024-13-45&date_to=abc", "/privacy/log?user=abc&action=bogus&contact=" + TEN_K,
    "/privacy/log?after=garbage&before=%00&last=x", "/privacy/log?contact=%25&date_from=2025-12-31&date_to=2020-01-01",
    "/privacy/log.csv?date_from=x&user=abc", "/privacy/log.xlsx?action=bogus&contact=%00",
    "/exports/leads.csv?station=abc&reviewer=abc&submitted_to=2024-02-30&sort=bogus&queue=%00",
    "/exports/contacts.csv?station=-1&kind=bogus&q=" + TEN_K, "/exports/?after=garbage&before=%00&last=x",
    "/exports/?after=" + TEN_K,
    "/duplicates/?after=garbage&before=%00&last=x", "/duplicates/?after=" + TEN_K, "/duplicates/merges?before=abc",
    "/duplicates/merge/1/abc", "/duplicates/merge/-1/1", "/duplicates/merges/abc",
]


@pytest.mark.parametrize("url", GARBAGE_URLS, ids=[u[:60] for u in GARBAGE_URLS])
def test_garbage_in_the_query_string_is_no_server_error(app, client, login, world, url):
    login("vol_hanoi" if url.startswith(("/contacts/new", "/leads/new")) else "admin")
    before = snapshot(app)
    response = client.get(url)
    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    after = snapshot(app)
    if url.startswith("/exports/"):  # every export is written to the access log, and nothing else
        for table in ("privacy_access_log", "privacy_access_log_fields", "export_records", "export_stations"):
            after.pop(table), before.pop(table)
    assert after == before


HUGE = "99999999999999999999"  # beyond SQLite's 64-bit integers
INT4 = "2147483648"  # beyond PostgreSQL's INTEGER
HUGE_URLS = [url.format(n=n) for n in (HUGE, INT4) for url in [
    "/leads/new?contact_id={n}", "/contacts/new?station_id={n}", "/contacts/?station={n}",
    "/leads/?station={n}", "/review/?reviewer={n}", "/leads/?q=%23{n}",
    "/contacts/?page={n}", "/leads/?page={n}", "/stations/?page={n}", "/review/?page={n}", "/admin/users?page={n}",
    "/leads/{n}", "/contacts/{n}", "/stations/{n}", "/admin/users/{n}/edit",
    "/admin/regions/{n}/edit", "/leads/{n}/edit", "/contacts/{n}/edit",
    "/notifications/?after={n}",
    "/exports/leads.xlsx?station={n}&reviewer={n}", "/exports/contacts.xlsx?station={n}",
    "/exports/leads.csv?station={n}&reviewer={n}", "/exports/contacts.csv?station={n}", "/exports/?after={n}",
    "/exports/files/{n}", "/exports/files/{n}/download",
    "/imports/?station_id={n}", "/imports/new?station_id={n}", "/imports/{n}", "/imports/{n}/mapping",
    "/imports/{n}/review",
    "/privacy/consents/contacts/{n}/new", "/privacy/consents/{n}/withdraw",
    "/privacy/log?user={n}&contact={n}", "/privacy/log?contact=%23{n}", "/privacy/log.csv?user={n}",
    "/duplicates/merge/{n}/{n}", "/duplicates/merge/1/{n}", "/duplicates/merges/{n}",
]]


@pytest.mark.parametrize("url", HUGE_URLS)
def test_huge_numbers_are_no_server_error(app, client, login, world, url):
    login("vol_hanoi" if url.startswith(("/contacts/new", "/leads/new")) else "admin")
    response = client.get(url)
    assert response.status_code in (200, 302, 404), response.status_code


def test_contact_new_with_bad_station_id_asks_for_the_station(app, client, login, world):
    """An admin records for every station: a bad ``station_id`` shows the list to choose from."""
    login("admin")
    response = client.get("/contacts/new?station_id=xyz")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for station in ("hanoi", "bangkok", "milan"):
        assert f"station_id={world.stations[station]}" in body


def test_lead_new_with_bad_contact_id_is_not_a_lead_form(app, client, login, world):
    login("vol_hanoi")
    response = client.get("/leads/new?contact_id=abc")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/contacts/")
    before = snapshot(app)
    response = client.post("/leads/new?contact_id=abc", data=_lead_data(world, app))
    assert response.status_code == 302
    assert snapshot(app) == before


def test_login_failure_keeps_the_email_and_writes_nothing(app, client, world):
    before = snapshot(app)
    response = client.post("/login", data={"email": "vol_hanoi@example.org", "password": "wrong-password"})
    assert response.status_code == 200
    page = page_of(response)
    assert page.kept("email") == "vol_hanoi@example.org"
    assert "not correct" in page.error_of("password")
    assert snapshot(app) == before


def test_user_count_unchanged_after_every_refused_user_form(app, client, login, world):
    """Belt and braces for the row counts the brief asks for."""
    login("admin")
    users = count(app, User)
    for data in [{"name": "", "email": "x@example.org", "role": "volunteer"},
                 {"name": "X", "email": "vol_milan@example.org", "role": "volunteer"},
                 {"name": "X", "email": "x@example.org", "role": "regional_admin"},
                 {"name": "X", "email": "x@example", "role": "volunteer"}]:
        assert client.post("/admin/users/new", data=data).status_code == 200
    assert count(app, User) == users
    assert count(app, Station) == 3


# The access log's filters (a GET form): the error next to the field, the input kept, no list,
# nothing written --------------------------------------------------------------------------------

@pytest.mark.parametrize("query,name,message,kept", [
    ("?date_from=2024-13-45", "date_from", DATE, "2024-13-45"),
    ("?date_to=abc", "date_to", DATE, "abc"),
    ("?date_from=2025-12-31&date_to=2020-01-01", "date_to", "The end date is before the start date.", "2020-01-01"),
    ("?user=abc", "user", CHOICE, None),
    ("?user=" + HUGE, "user", CHOICE, None),
    ("?action=bogus", "action", CHOICE, None),
    ("?station=" + INT4, "station", CHOICE, None),
    ("?contact=" + "x" * 101, "contact", TOO_LONG, "x" * 101),
])
def test_bad_access_log_filter_is_refused_next_to_the_field(app, client, login, world, query, name, message, kept):
    login("admin")
    before = snapshot(app)
    response = client.get("/privacy/log" + query)
    assert response.status_code == 200
    page = page_of(response)
    assert message in page.error_of(name)
    if kept is not None:
        assert page.kept(name) == kept
    assert "Correct the filters marked above to see the log." in response.get_data(as_text=True)
    assert snapshot(app) == before


# Duplicates: the merge form, "not the same person" and undo ----------------------------------

@pytest.mark.parametrize("data,name,message", [
    ({}, "confirm", "Tick this box to confirm the merge."),
    ({"confirm": "false"}, "confirm", "Tick this box to confirm the merge."),
    ({"confirm": "y", "field_name": "bogus"}, "field_name", CHOICE),
    ({"confirm": "y", "field_notes": TEN_K}, "field_notes", CHOICE),
    ({"confirm": "y", "field_email": "both"}, "field_email", CHOICE),  # "keep both" is for notes only
])
def test_bad_merge_is_refused_next_to_the_field(app, client, login, world, data, name, message):
    login("hq")
    url = f"/duplicates/merge/{world.contacts['hanoi']}/{world.contacts['bangkok']}"
    before = snapshot(app)
    response = client.post(url, data={"field_phone": "merged", **data})
    assert response.status_code == 200
    page = page_of(response)
    assert message in page.error_of(name)
    kept = [c for c in page.controls if c["name"] == "field_phone" and c["value"] == "merged"]
    assert kept and kept[0]["checked"]  # the other choices are kept
    assert snapshot(app) == before


@pytest.mark.parametrize("path", [
    "/duplicates/999999/dismiss", "/duplicates/99999999999999999999/dismiss", "/duplicates/2147483648/dismiss",
    "/duplicates/merges/999999/undo", "/duplicates/merges/2147483648/undo", "/duplicates/merge/1/999999",
])
def test_unknown_pair_merge_or_contact_is_404_and_writes_nothing(app, client, login, world, path):
    login("hq")
    before = snapshot(app)
    assert client.post(path).status_code == 404
    assert snapshot(app) == before


# Spreadsheet imports: bad files are in tests/test_imports.py; here the forms around them.

@pytest.mark.parametrize("data,message", [
    ({"mode": "everything"}, "Not a valid choice"),
    ({}, "This field is required."),
])
def test_bad_import_mode_is_refused_and_imports_nothing(app, client, login, world, data, message):
    from liaison.imports import services as imports
    from liaison.models import Contact, ImportBatch, Station, User

    login("vol_hanoi")
    with app.test_request_context():
        batch = imports.stage(db.session.get(Station, world.stations["hanoi"]), "a.csv", b"Name\nAn Tran\n",
                              db.session.get(User, world.users["vol_hanoi"]))
        import_id = batch.id
    before = snapshot(app)
    response = client.post(f"/imports/{import_id}/review", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.get(ImportBatch, import_id).status == "staged"
        assert not db.session.scalar(db.select(Contact).where(Contact.name == "An Tran"))


def test_bad_import_mapping_is_refused_next_to_the_field(app, client, login, world):
    from liaison.imports import services as imports
    from liaison.models import ImportBatch, Station, User

    login("vol_hanoi")
    with app.test_request_context():
        batch = imports.stage(db.session.get(Station, world.stations["hanoi"]), "a.csv", b"Name,Mail\nAn Tran,x\n",
                              db.session.get(User, world.users["vol_hanoi"]))
        import_id, mapping = batch.id, dict(batch.mapping)
    response = client.post(f"/imports/{import_id}/mapping", data={"col_0": "name", "col_1": "<script>" + "x" * 5000})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Not a valid choice" in body and "<script>" not in body
    with app.app_context():
        assert db.session.get(ImportBatch, import_id).mapping == mapping


@pytest.mark.parametrize("record_type", ["everything", "<b>leads</b>", "x" * 3000])
def test_bad_import_type_is_refused_next_to_the_field(app, client, login, world, record_type):
    import io

    from liaison.models import ImportBatch

    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/imports/new?station_id={world.stations['hanoi']}", content_type="multipart/form-data",
                           data={"record_type": record_type, "file": (io.BytesIO(b"Name\nAn Tran\n"), "a.csv")})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Not a valid choice" in body and "<b>leads</b>" not in body
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ImportBatch)) == 0


def test_a_lead_column_is_no_choice_in_an_import_of_contacts(app, client, login, world):
    from liaison.imports import services as imports
    from liaison.models import ImportBatch, Station, User

    login("vol_hanoi")
    with app.test_request_context():
        batch = imports.stage(db.session.get(Station, world.stations["hanoi"]), "a.csv", b"Name,Summary\nAn Tran,x\n",
                              db.session.get(User, world.users["vol_hanoi"]))
        import_id, mapping = batch.id, dict(batch.mapping)
    assert mapping == {"0": "name", "1": ""}
    response = client.post(f"/imports/{import_id}/mapping", data={"col_0": "name", "col_1": "lead_summary"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ImportBatch, import_id).mapping == mapping


@pytest.mark.parametrize("path", ["/imports/{n}/revert", "/imports/{n}/discard"])
def test_unknown_import_is_404_on_post(app, client, login, world, path):
    login("vol_hanoi")
    for n in (HUGE, INT4, "0"):
        assert client.post(path.format(n=n)).status_code == 404
