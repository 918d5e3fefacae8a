"""Notifications: who is told of what (never anyone outside scope), the bell, the list, mark
read, preferences per kind, e-mails in the recipient's language (read from a real local SMTP
server) and the daily digest."""
from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import func, select

from liaison.models import (Channel, EmailState, JobRun, JobStatus, LeadStatus, Notification,
                            NotificationPreference, TalentLead, User, db)

from .factories import make_lead
from .helpers import snapshot


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def version(app, lead_id) -> str:
    with app.app_context():
        try:
            return str(db.session.get(TalentLead, lead_id).version)
        finally:
            db.session.remove()


def move(app, client, lead_id, name, **data):
    response = client.post(f"/leads/{lead_id}/move", data={"move": name, "version": version(app, lead_id), **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def received(app, world, kind=None) -> dict[str, int]:
    """{user key: number of notifications} (of ``kind``)."""
    by_id = {v: k for k, v in world.users.items()}
    with app.app_context():
        try:
            stmt = select(Notification.user_id, func.count()).group_by(Notification.user_id)
            if kind:
                stmt = stmt.where(Notification.kind == kind)
            return {by_id[user_id]: count for user_id, count in db.session.execute(stmt)}
        finally:
            db.session.remove()


def lead_at(app, world, station, status) -> int:
    with app.app_context():
        try:
            return make_lead(world, station, status)  # fixtures notify nobody (no request)
        finally:
            db.session.remove()


# Who is told: every kind, every role; nobody outside scope --------------------------------------

def test_fixtures_and_demo_data_notify_nobody(app, world):
    assert received(app, world) == {}


def test_lead_submitted_reaches_hq_and_the_regions_admins_only(app, client, login, world):
    login("vol_hanoi")
    move(app, client, world.leads["hanoi_draft"], "submit")
    assert received(app, world, "lead_submitted") == {"admin": 1, "hq": 1, "hq2": 1, "asean_admin": 1}


def test_milan_submission_reaches_the_europe_admin_not_asean(app, client, login, world):
    login("vol_milan")
    move(app, client, world.leads["milan_draft"], "submit")
    assert received(app, world, "lead_submitted") == {"admin": 1, "hq": 1, "hq2": 1, "europe_admin": 1}


def test_assignment_reaches_the_reviewer_only(app, client, login, world):
    login("hq")
    lead = world.leads["hanoi_submitted"]
    response = client.post(f"/leads/{lead}/assign", data={"reviewer_id": str(world.users["hq2"]),
                                                          "version": version(app, lead)})
    assert response.status_code == 302
    assert received(app, world) == {"hq2": 1}


def test_assigning_oneself_notifies_nobody(app, client, login, world):
    login("hq")
    lead = world.leads["hanoi_submitted"]
    client.post(f"/leads/{lead}/assign", data={"reviewer_id": str(world.users["hq"]), "version": version(app, lead)})
    assert received(app, world) == {}


def test_question_answer_and_decision_round_trip(app, client, login, world):
    lead = world.leads["hanoi_submitted"]
    login("hq")
    move(app, client, lead, "start_review")
    assert received(app, world) == {}  # starting the review tells nobody
    move(app, client, lead, "request_info", comment="Which university?")
    assert received(app, world, "info_requested") == {"vol_hanoi": 1}
    login("vol_hanoi")
    move(app, client, lead, "answer", comment="Politecnico di Milano")
    # Nobody assigned: all of HQ hears the answer.
    assert received(app, world, "info_answered") == {"admin": 1, "hq": 1, "hq2": 1}
    login("hq")
    move(app, client, lead, "start_review")
    move(app, client, lead, "accept")
    assert received(app, world, "lead_decided") == {"vol_hanoi": 1}


def test_the_answer_reaches_the_assigned_reviewer_only(app, client, login, world):
    with app.app_context():
        lead = make_lead(world, "hanoi", LeadStatus.NEEDS_INFO, reviewer_id=world.users["hq2"])
        db.session.remove()
    login("vol_hanoi")
    move(app, client, lead, "answer", comment="Here it is")
    assert received(app, world, "info_answered") == {"hq2": 1}


def test_comments_cross_sides(app, client, login, world):
    lead = world.leads["hanoi_submitted"]
    login("hq")
    client.post(f"/leads/{lead}/assign", data={"reviewer_id": str(world.users["hq2"]), "version": version(app, lead)})
    client.post(f"/leads/{lead}/comment", data={"text": "A question from HQ"})
    assert received(app, world, "lead_comment") == {"vol_hanoi": 1}
    login("vol_hanoi")
    client.post(f"/leads/{lead}/comment", data={"text": "A remark from the station"})
    assert received(app, world, "lead_comment") == {"vol_hanoi": 1, "hq2": 1}
    # Free text is not copied into notifications (nor e-mails): it may be about the person.
    with app.app_context():
        params = [str(p) for p in db.session.scalars(select(Notification.params))]
        db.session.remove()
    assert not [p for p in params if "A question from HQ" in p or "A remark from the station" in p]


@pytest.mark.parametrize("path,role,chinese,english", [
    ("/notifications/", "vol_hanoi", ["通知", "全部标为已读", "设置"], ["Mark all as read", "Settings"]),
    ("/notifications/preferences", "vol_hanoi", ["通知设置", "总部对线索作出决定", "系统内及电子邮件", "保存设置"],
     ["HQ decided on a lead", "In the app", "Save settings"]),
    ("/admin/jobs/", "admin", ["失败的后台任务", ">重试</button>", "尝试次数"], ["Background jobs that failed", "Retry"]),
])
def test_pages_in_chinese(app, client, login, world, path, role, chinese, english):
    _notify(app, world, count=1)
    with app.app_context():
        db.session.add(JobRun(key="zh-page", name="notifications.digest", kwargs={}, status=JobStatus.FAILED,
                              attempts=4, last_error="ConnectionRefusedError"))  # a failed job to list
        db.session.commit()
        db.session.remove()
    login(role)
    client.post("/language", data={"locale": "zh_Hans_CN"})
    with app.app_context():
        db.session.get(User, world.users[role]).locale = "zh_Hans_CN"
        db.session.commit()
        db.session.remove()
    body = client.get(path).get_data(as_text=True)
    for text in chinese:
        assert text in body, text
    for text in english:
        assert text not in body, text


@pytest.mark.parametrize("station", ["hanoi", "milan"])
def test_scope_matrix_nobody_outside_scope(app, world, station):
    """Whatever recipients a rule (or a plugin) names, only those who may see the station's
    records get anything: the matrix of every account against each station."""
    from liaison.notifications import services

    sees = {"hanoi": {"admin", "hq", "hq2", "asean_admin", "vol_hanoi"},
            "milan": {"admin", "hq", "hq2", "europe_admin", "vol_milan"}}[station]
    with app.test_request_context():
        written = services.deliver("lead_decided", world.users.values(), station_id=world.stations[station],
                                   params={"lead": 1, "status": "accepted"})
        db.session.commit()
        assert written == len(sees)
    assert set(received(app, world)) == sees


# The recipient matrix: every core kind the issue lists × every account of the test world ----------

def _assign(app, client, lead, reviewer):
    response = client.post(f"/leads/{lead}/assign", data={"reviewer_id": str(reviewer), "version": version(app, lead)})
    assert response.status_code == 302


def _run_due(app):
    from liaison import jobs

    with app.app_context():
        try:
            return jobs.run_due(app)
        finally:
            db.session.remove()


def _given_reviewer(app, lead_id, reviewer_id):
    with app.app_context():
        db.session.get(TalentLead, lead_id).reviewer_id = reviewer_id
        db.session.commit()
        db.session.remove()


def _case_lead_submitted(app, client, login, world):
    login("vol_hanoi")
    move(app, client, world.leads["hanoi_draft"], "submit")
    return {"admin", "hq", "hq2", "asean_admin"}  # HQ and the region's admins; not the actor


def _case_lead_submitted_milan(app, client, login, world):
    login("vol_milan")
    move(app, client, world.leads["milan_draft"], "submit")
    return {"admin", "hq", "hq2", "europe_admin"}


def _case_lead_assigned(app, client, login, world):
    login("hq")
    _assign(app, client, world.leads["hanoi_submitted"], world.users["hq2"])
    return {"hq2"}


def _case_info_requested(app, client, login, world):
    login("hq")
    move(app, client, world.leads["hanoi_submitted"], "start_review")
    move(app, client, world.leads["hanoi_submitted"], "request_info", comment="Which university?")
    return {"vol_hanoi"}  # the station's volunteers and the submitter


def _case_info_answered(app, client, login, world):
    with app.app_context():
        lead = make_lead(world, "hanoi", LeadStatus.NEEDS_INFO, reviewer_id=world.users["hq2"])
        db.session.remove()
    login("vol_hanoi")
    move(app, client, lead, "answer", comment="Here it is")
    return {"hq2"}


def _case_info_answered_unassigned(app, client, login, world):
    with app.app_context():
        lead = make_lead(world, "milan", LeadStatus.NEEDS_INFO)
        db.session.remove()
    login("vol_milan")
    move(app, client, lead, "answer", comment="Here it is")
    return {"admin", "hq", "hq2"}


def _case_lead_decided(app, client, login, world):
    login("hq")
    move(app, client, world.leads["hanoi_submitted"], "start_review")
    move(app, client, world.leads["hanoi_submitted"], "accept")
    return {"vol_hanoi"}


def _case_lead_comment(app, client, login, world):
    login("hq")
    _assign(app, client, world.leads["hanoi_submitted"], world.users["hq2"])
    client.post(f"/leads/{world.leads['hanoi_submitted']}/comment", data={"text": "From HQ"})
    login("vol_hanoi")
    client.post(f"/leads/{world.leads['hanoi_submitted']}/comment", data={"text": "From the station"})
    return {"vol_hanoi", "hq2"}  # HQ's comment reaches the station; the station's the reviewer


def _case_lead_due_soon(app, client, login, world):
    _given_reviewer(app, world.leads["hanoi_submitted"], world.users["hq2"])
    _age(app, world.leads["hanoi_submitted"], 4)  # deadline 5 days, reminded 2 days ahead
    _run_due(app)
    return {"hq2"}


def _case_lead_due_soon_unassigned(app, client, login, world):
    _age(app, world.leads["milan_submitted"], 4)
    _run_due(app)
    return {"admin", "hq", "hq2"}


def _case_lead_overdue(app, client, login, world):
    app.config["LEAD_OVERDUE_ALSO_NOTIFY"] = [world.emails["admin"], world.emails["asean_admin"]]
    _given_reviewer(app, world.leads["hanoi_submitted"], world.users["hq2"])
    _age(app, world.leads["hanoi_submitted"], 6)
    _run_due(app)
    return {"hq2", "admin"}  # the reviewer and the HQ supervisors (a regional admin never is one)


def _case_lead_overdue_question(app, client, login, world):
    with app.app_context():
        lead = make_lead(world, "milan", LeadStatus.NEEDS_INFO, reviewer_id=world.users["hq2"])
        db.session.remove()
    _age(app, lead, 15)
    _run_due(app)
    return {"vol_milan"}  # HQ's question unanswered: the station is reminded


def _case_notice_published(app, client, login, world):
    login("hq")
    response = client.post("/notices/new", data={
        "title": "New visa rules", "title_zh": "签证新规", "body": "Body", "body_zh": "正文",
        "effective_from": "2020-01-01", "stations": str(world.stations["hanoi"]), "regions": str(world.regions["EUROPE"])})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return {"vol_hanoi", "vol_milan"}  # the targeted stations' volunteers only


def _case_appointment_expiring(app, client, login, world):
    from datetime import timedelta

    from liaison.models import Appointment, utcnow

    today = utcnow().date()
    with app.app_context():
        db.session.add(Appointment(user_id=world.users["vol_hanoi"], station_id=world.stations["hanoi"],
                                   appointed_on=today - timedelta(days=300), term_start=today - timedelta(days=300),
                                   term_end=today + timedelta(days=20), appointing_body="County OCF"))
        db.session.commit()
        db.session.remove()
    _run_due(app)
    return {"vol_hanoi", "asean_admin"}  # the volunteer and the admins of the station's region


def _case_event_registration(app, client, login, world):
    from datetime import datetime

    from liaison.events import services as events
    from liaison.events.models import Event, EventStation

    with app.test_request_context():
        event = Event(kind="symposium", organiser="stations", region_id=None, title="Talent symposium",
                      title_zh="人才座谈会", starts_at=datetime(2030, 5, 1, 8), ends_at=datetime(2030, 5, 1, 12),
                      timezone="Asia/Bangkok", city="Hanoi", capacity=None, status="registration_open",
                      seats_taken=0, created_by_id=world.users["vol_hanoi"],
                      organising=[EventStation(station_id=world.stations["hanoi"]),
                                  EventStation(station_id=world.stations["milan"])])
        db.session.add(event)
        db.session.commit()
        events.register_public(event, {"name": "Le Thi Hoa", "email": "hoa@example.org"})
        db.session.remove()
    return {"vol_hanoi", "vol_milan"}  # the volunteers of every organising station (the creator among them)


def _case_export_ready(app, client, login, world):
    import tempfile

    app.config.update(EXPORT_JOB_THRESHOLD=0, EXPORTS_DIR=tempfile.mkdtemp(prefix="liaison-exports-"))
    login("asean_admin")
    response = client.get("/exports/leads.csv")
    assert response.status_code == 303, response.status_code  # prepared in the background (inline here)
    return {"asean_admin"}  # the requester only


RECIPIENT_MATRIX = {
    "lead_submitted": [_case_lead_submitted, _case_lead_submitted_milan],
    "lead_assigned": [_case_lead_assigned],
    "info_requested": [_case_info_requested],
    "info_answered": [_case_info_answered, _case_info_answered_unassigned],
    "lead_decided": [_case_lead_decided],
    "lead_comment": [_case_lead_comment],
    "lead_due_soon": [_case_lead_due_soon, _case_lead_due_soon_unassigned],
    "lead_overdue": [_case_lead_overdue, _case_lead_overdue_question],
    "notice_published": [_case_notice_published],
    "appointment_expiring": [_case_appointment_expiring],
    "event_registration": [_case_event_registration],
    "export_ready": [_case_export_ready],
}


@pytest.mark.parametrize("kind,case", [(kind, case) for kind, cases in RECIPIENT_MATRIX.items() for case in cases],
                         ids=lambda value: value if isinstance(value, str) else value.__name__[len("_case_"):])
def test_recipient_matrix_every_kind_every_account(app, client, login, world, kind, case):
    """Each kind, triggered the way the app triggers it: exactly the accounts that must hear of it
    get one notification; every other account of the world (other stations, other regions,
    other roles) gets none."""
    expected = case(app, client, login, world)
    got = received(app, world, kind)
    matrix = {account: got.get(account, 0) for account in world.users}
    assert matrix == {account: int(account in expected) for account in world.users}, kind


def test_the_matrix_covers_every_core_kind():
    """A core kind added later must be added to the matrix (plugins' kinds, and the demands'
    match stages, have their own tests: tests/test_demands.py)."""
    from liaison.notifications.kinds import CORE_KINDS

    import liaison.appointments.services  # noqa: F401  (kinds registered on import)
    import liaison.events.services  # noqa: F401
    import liaison.exports.services  # noqa: F401
    import liaison.notices.services  # noqa: F401
    import liaison.notifications.deadlines  # noqa: F401

    assert {kind.name for kind in CORE_KINDS} - {"demand_match_stage"} <= set(RECIPIENT_MATRIX)


def test_deactivated_accounts_are_not_notified(app, client, login, world):
    with app.app_context():
        db.session.get(User, world.users["hq2"]).active = False
        db.session.commit()
        db.session.remove()
    login("vol_hanoi")
    move(app, client, world.leads["hanoi_draft"], "submit")
    assert "hq2" not in received(app, world)


def test_a_refused_move_notifies_nobody_and_queues_nothing(app, client, login, world):
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{world.leads['hanoi_submitted']}/move",
                           data={"move": "accept", "version": version(app, world.leads["hanoi_submitted"])})
    assert response.status_code == 400
    assert snapshot(app) == before


def test_the_fan_out_is_one_job_per_event_and_idempotent(app, client, login, world):
    from liaison import jobs

    login("vol_hanoi")
    move(app, client, world.leads["hanoi_draft"], "submit")
    with app.app_context():
        runs = db.session.scalars(select(JobRun).where(JobRun.name == "notifications.lead_event")).all()
        assert len(runs) == 1 and runs[0].status == JobStatus.DONE
        key = runs[0].key
        db.session.remove()
        assert jobs.run_key(app, key, inline=True) == "skipped"
    assert sum(received(app, world).values()) == 4


# The bell, the list, mark read ---------------------------------------------------------------

def _notify(app, world, user="vol_hanoi", count=3, station="hanoi"):
    from liaison.notifications import services

    with app.test_request_context():
        for _ in range(count):
            services.deliver("lead_decided", [world.users[user]], station_id=world.stations[station],
                             params={"lead": world.leads[f"{station}_submitted"], "status": "accepted",
                                     "station_name": "Hanoi station", "station_name_zh": "河内联络站"},
                             lead_id=world.leads[f"{station}_submitted"],
                             path=f"/leads/{world.leads[f'{station}_submitted']}")
        db.session.commit()
        ids = db.session.scalars(select(Notification.id).where(Notification.user_id == world.users[user])
                                 .order_by(Notification.id)).all()
        db.session.remove()
    return ids


def test_the_bell_shows_the_unread_count(app, client, login, world):
    login("vol_hanoi")
    assert 'id="notification-bell"' in client.get("/").get_data(as_text=True)
    assert "text-bg-danger" not in client.get("/").get_data(as_text=True).split('id="notification-bell"')[1][:300]
    _notify(app, world, count=3)
    page = client.get("/").get_data(as_text=True)
    bell = page.split('id="notification-bell"')[1][:400]
    assert ">3<" in bell


def test_the_bell_costs_one_query_whatever_the_count(app, client, login, world, count_queries):
    login("vol_hanoi")
    client.get("/")
    with count_queries() as few:
        client.get("/")
    _notify(app, world, count=30)
    with count_queries() as many:
        client.get("/")
    assert many.count == few.count
    assert sum("FROM notifications" in s for s in many.statements) == 1


def test_list_and_mark_read(app, client, login, world):
    ids = _notify(app, world, count=2)
    login("vol_hanoi")
    body = client.get("/notifications/").get_data(as_text=True)
    assert "is now “Accepted”" in body and "Mark all as read" in body
    response = client.post(f"/notifications/{ids[0]}/read", data={"open": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/leads/{world.leads['hanoi_submitted']}")
    with app.app_context():
        assert db.session.get(Notification, ids[0]).read_at is not None
        assert db.session.get(Notification, ids[1]).read_at is None
        db.session.remove()
    assert client.post("/notifications/read-all").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.read_at.is_(None))) == 0


def test_someone_elses_notification_is_404_and_unchanged(app, client, login, world):
    ids = _notify(app, world, user="vol_hanoi", count=1)
    login("vol_milan")
    before = snapshot(app)
    assert client.post(f"/notifications/{ids[0]}/read").status_code == 404
    assert client.post("/notifications/read-all").status_code == 302  # only their own (none)
    assert snapshot(app) == before


@pytest.mark.parametrize("ident", ["0", "-1", "abc", "99999999999999999999", "2147483648"])
def test_bad_notification_ids_are_404(app, client, login, world, ident):
    login("vol_hanoi")
    assert client.post(f"/notifications/{ident}/read").status_code == 404


def test_the_list_is_paginated(app, client, login, world):
    _notify(app, world, count=35)
    login("vol_hanoi")
    body = client.get("/notifications/").get_data(as_text=True)
    assert body.count("list-group-item ") == 30 and 'rel="next"' in body


# Preferences ------------------------------------------------------------------------------------

def test_preferences_are_saved_per_kind(app, client, login, world):
    login("vol_hanoi")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "HQ decided on a lead" in page
    response = client.post("/notifications/preferences", data={"kind__lead_decided": "off",
                                                                "kind__info_requested": "digest"})
    assert response.status_code == 302
    with app.app_context():
        saved = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.channel).where(
            NotificationPreference.user_id == world.users["vol_hanoi"])).all())
        db.session.remove()
    assert saved["lead_decided"] == "off" and saved["info_requested"] == "digest"
    assert _notify(app, world, count=1) == []  # "off": nothing at all


@pytest.mark.parametrize("value", ["sms", "", "x" * 10_000, "OFF"])
def test_bad_preference_is_refused_next_to_the_field(app, client, login, world, value):
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post("/notifications/preferences", data={"kind__lead_decided": value,
                                                                "kind__info_requested": "digest"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="kind__lead_decided-errors"' in body
    assert 'selected value="digest"' in body  # the other field keeps its input
    assert snapshot(app) == before


# E-mail -----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on localhost (aiosmtpd) keeping what arrives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Keep(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, handler.messages
    finally:
        controller.stop()


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


def smtp_config(port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_BACKEND": "smtp",
            "MAIL_DEFAULT_SENDER": "liaison@example.org", "PUBLIC_URL": "https://liaison.example.org"}


def _body(message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return text, html


def _wait_for(messages, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return messages


def test_emails_arrive_by_smtp_in_each_recipients_language(app, client, login, world, smtp_server):
    controller, messages = smtp_server
    app.config.update(smtp_config(controller.port))
    from liaison.notifications import mail

    mail.mail.init_app(app)
    with app.app_context():
        db.session.get(User, world.users["hq"]).locale = "zh_Hans_CN"
        db.session.get(User, world.users["hq2"]).locale = "en"
        db.session.commit()
        db.session.remove()
    login("vol_hanoi")
    move(app, client, world.leads["hanoi_draft"], "submit")
    _wait_for(messages, 4)
    by_recipient = {m["To"]: m for m in messages}
    assert set(by_recipient) == {world.emails[k] for k in ("admin", "hq", "hq2", "asean_admin")}
    lead = world.leads["hanoi_draft"]
    zh_text, zh_html = _body(by_recipient[world.emails["hq"]])
    en_text, _en_html = _body(by_recipient[world.emails["hq2"]])
    assert f"线索 #{lead}" in zh_text and "Hanoi联络站" in zh_text and "报送至总部" in zh_text
    assert f"Lead #{lead} from Hanoi station was submitted to HQ by Vol Hanoi." in en_text
    link = f"https://liaison.example.org/leads/{lead}"
    assert link in en_text and link in zh_text and f'href="{link}"' in zh_html
    assert by_recipient[world.emails["hq2"]]["From"] == "liaison@example.org"
    with app.app_context():
        states = set(db.session.scalars(select(Notification.email_state)))
        db.session.remove()
    assert states == {EmailState.SENT}


def test_links_ignore_a_forged_host_header(app, world):
    """E-mails link to PUBLIC_URL, whatever Host the request that caused them named."""
    from liaison.notifications import services

    app.config["PUBLIC_URL"] = "https://liaison.example.org"
    with app.test_request_context("/", base_url="http://evil.example.com"):
        services.deliver("lead_decided", [world.users["vol_hanoi"]], station_id=world.stations["hanoi"],
                         params={"lead": 1, "status": "accepted"}, path="/leads/1")
        db.session.commit()
        db.session.remove()
    outbox = getattr(app.extensions["mailman"], "outbox", [])
    assert len(outbox) == 1
    assert "evil.example.com" not in outbox[0].body and "https://liaison.example.org/leads/1" in outbox[0].body


def test_an_smtp_failure_is_a_failed_job_an_admin_retries(app, client, login, world, smtp_server):
    controller, messages = smtp_server
    config = smtp_config(_free_port())  # nothing listens there
    app.config.update(config)
    from liaison.notifications import mail

    mail.mail.init_app(app)
    ids = _notify(app, world, user="vol_hanoi", count=1)  # lead_decided: e-mail by default
    with app.app_context():
        run = db.session.scalar(select(JobRun).where(JobRun.key == f"mail:{ids[0]}"))
        assert run.status == JobStatus.RETRYING and run.attempts == 1 and "Error" in run.last_error
        run_id = run.id
        db.session.remove()
    # The inline retries (jobs run-due) use up the attempts: the job is then "failed".
    from datetime import timedelta

    from liaison import jobs
    from liaison.models import utcnow

    for _attempt in app.config["JOB_RETRY_BACKOFF"]:
        with app.app_context():
            jobs.run_due(app, now=utcnow() + timedelta(days=1))
            db.session.remove()
    with app.app_context():
        run = db.session.get(JobRun, run_id)
        assert run.status == JobStatus.FAILED and run.attempts == 1 + len(app.config["JOB_RETRY_BACKOFF"])
        db.session.remove()
    login("admin")
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "notifications.email" in page and f"mail:{ids[0]}" in page
    # The mail server is back: Retry sends it.
    app.config.update(smtp_config(controller.port))
    mail.mail.init_app(app)
    assert client.post(f"/admin/jobs/{run_id}/retry").status_code == 302
    assert len(_wait_for(messages, 1)) == 1
    with app.app_context():
        assert db.session.get(JobRun, run_id).status == JobStatus.DONE
        assert db.session.get(Notification, ids[0]).email_state == EmailState.SENT


def test_retry_of_an_unknown_or_finished_job_is_404(app, client, login, world):
    login("admin")
    assert client.post("/admin/jobs/999999/retry").status_code == 404
    assert client.post("/admin/jobs/abc/retry").status_code == 404


def test_daily_digest_collects_and_sends_once_a_day(app, client, login, world):
    from liaison import jobs

    with app.app_context():
        db.session.add(NotificationPreference(user_id=world.users["vol_hanoi"], kind="lead_decided",
                                              channel=Channel.DIGEST))
        db.session.commit()
        db.session.remove()
    _notify(app, world, count=3)
    outbox = lambda: [m for m in getattr(app.extensions["mailman"], "outbox", []) if world.emails["vol_hanoi"] in m.to]  # noqa: E731
    assert outbox() == []
    with app.app_context():
        jobs.run_due(app)
        db.session.remove()
    mails = outbox()
    assert len(mails) == 1 and "3 notifications" in mails[0].subject and mails[0].body.count("- Lead #") == 3
    _notify(app, world, count=1)
    with app.app_context():
        jobs.run_due(app)  # the same day: the digest is not sent twice
        db.session.remove()
    assert len(outbox()) == 1


# Plugins ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}], indirect=True)
def test_a_plugin_kind_is_listed_and_delivered_in_scope(app, client, login, world):
    from liaison.notifications import notify

    login("vol_hanoi")
    assert "A fixture event" in client.get("/notifications/preferences").get_data(as_text=True)
    with app.test_request_context():
        notify("fixture_good.event", [world.users[k] for k in ("vol_hanoi", "vol_milan", "europe_admin", "hq")],
               station_id=world.stations["hanoi"], params={"what": "a fixture thing"}, path="/")
        db.session.commit()
        db.session.remove()
    assert received(app, world) == {"vol_hanoi": 1, "hq": 1}
    assert "Fixture event: a fixture thing" in client.get("/notifications/").get_data(as_text=True)


def test_an_unknown_kind_is_refused(app, world):
    from liaison.notifications import notify

    with app.test_request_context(), pytest.raises(LookupError):
        notify("nobody.nothing", [world.users["hq"]], station_id=None)


@pytest.mark.parametrize("path", ["//evil.example.com/x", "/\\evil.example.com", "https://evil.example.com/",
                                  "javascript:alert(1)"])
def test_a_foreign_link_is_never_followed_nor_mailed(app, client, login, world, path):
    from liaison.notifications import services

    with app.test_request_context():
        services.deliver("lead_decided", [world.users["vol_hanoi"]], station_id=world.stations["hanoi"],
                         params={"lead": 1, "status": "accepted"}, path=path)
        db.session.commit()
        notification_id = db.session.scalar(select(Notification.id))
        db.session.remove()
    login("vol_hanoi")
    response = client.post(f"/notifications/{notification_id}/read", data={"open": "1"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    assert "javascript" not in response.headers["Location"]
    mails = getattr(app.extensions["mailman"], "outbox", [])
    assert mails and all("evil" not in m.body and "javascript" not in m.body for m in mails)


# Review deadlines ------------------------------------------------------------------------------

def _age(app, lead_id, days):
    from datetime import timedelta

    from liaison.models import utcnow

    with app.app_context():
        db.session.get(TalentLead, lead_id).status_changed_at = utcnow() - timedelta(days=days)
        db.session.commit()
        db.session.remove()


def test_an_overdue_lead_is_reminded_once(app, world):
    from liaison import jobs
    from liaison.notifications import deadlines

    _age(app, world.leads["hanoi_submitted"], 4)
    with app.app_context():
        assert jobs.run_due(app)["notifications.overdue"] == 0  # 4 days: not yet due (5)
        db.session.remove()
    _age(app, world.leads["hanoi_submitted"], 6)
    with app.test_request_context():
        lead = db.session.get(TalentLead, world.leads["hanoi_submitted"])
        assert deadlines.is_overdue(lead)
        assert db.session.scalars(select(TalentLead.id).where(deadlines.overdue_condition())).all() == [lead.id]
        db.session.remove()
        assert jobs.run_due(app)["notifications.overdue"] == 1
        db.session.remove()
        jobs.run_due(app)  # again: the same stay in the status is reminded once
        db.session.remove()
    assert received(app, world, "lead_overdue") == {"admin": 1, "hq": 1, "hq2": 1}


def _overdue_recipients(app, world, also=None) -> dict[str, int]:
    from liaison import jobs

    if also is not None:
        app.config["LEAD_OVERDUE_ALSO_NOTIFY"] = also
    with app.app_context():
        db.session.get(TalentLead, world.leads["hanoi_submitted"]).reviewer_id = world.users["hq"]
        db.session.commit()
        db.session.remove()
    _age(app, world.leads["hanoi_submitted"], 6)
    with app.app_context():
        jobs.run_due(app)
        db.session.remove()
    return received(app, world, "lead_overdue")


def test_an_assigned_overdue_lead_reaches_its_reviewer_only_by_default(app, world):
    assert _overdue_recipients(app, world) == {"hq": 1}


def test_an_overdue_lead_also_reaches_the_configured_hq_supervisors(app, world):
    # Only active HQ accounts qualify: a volunteer's or an unknown address is ignored; case does not matter.
    also = [world.emails["hq2"].upper(), world.emails["vol_hanoi"], "nobody@example.org", world.emails["hq"]]
    assert _overdue_recipients(app, world, also) == {"hq": 1, "hq2": 1}


def test_supervisors_may_be_one_comma_separated_setting(app, world):
    assert _overdue_recipients(app, world, f" {world.emails['admin']} , {world.emails['hq2']}") == {
        "hq": 1, "hq2": 1, "admin": 1}


def test_an_unanswered_question_reminds_the_station(app, world):
    from liaison import jobs

    with app.app_context():
        lead = make_lead(world, "milan", LeadStatus.NEEDS_INFO)
        db.session.remove()
    _age(app, lead, 15)
    with app.app_context():
        jobs.run_due(app)
        db.session.remove()
    assert received(app, world, "lead_overdue") == {"vol_milan": 1}


def test_deadlines_are_configurable(app, world):
    from liaison.notifications import deadlines

    app.config["LEAD_DEADLINE_DAYS"] = {"submitted": 1, "bogus": 3, "accepted": 0}
    _age(app, world.leads["milan_submitted"], 2)
    with app.test_request_context():
        assert deadlines.deadline_days() == {"submitted": 1}
        lead = db.session.get(TalentLead, world.leads["milan_submitted"])
        assert deadlines.is_overdue(lead) and deadlines.due_at(lead) < lead.status_changed_at.__class__.max
