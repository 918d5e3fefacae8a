"""The benchmark's parts that can break silently when the models change (``make bench`` is not
part of ``make test``): the data generator's bulk inserts, and the ceiling app's SQL."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from liaison.models import Contact, LeadEvent, TalentLead, db

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import ceiling  # noqa: E402
import data  # noqa: E402


@pytest.fixture
def bench_data(app):
    with app.app_context():
        data.populate(stations=4, contacts=40, leads=60)
    return app


def test_generator_fills_every_status_with_timelines(bench_data):
    with bench_data.app_context():
        statuses = dict(db.session.execute(select(TalentLead.status, func.count()).group_by(TalentLead.status)).all())
        assert set(statuses) == set(data.STATUS_WEIGHTS) and sum(statuses.values()) == 60
        events = db.session.scalar(select(func.count()).select_from(LeadEvent))
        assert events >= 60 * 2
        landed = db.session.scalars(select(TalentLead).where(TalentLead.status == "landed")).first()
        assert landed.submitted_at is not None and landed.landed_on is not None


def test_generated_rows_are_found_by_the_app_search(bench_data):
    """Bulk inserts bypass ORM events: the generator fills the search columns itself."""
    client = bench_data.test_client()
    response = client.post("/login", data={"email": data.HQ_EMAIL, "password": data.PASSWORD})
    assert response.status_code == 302
    with bench_data.app_context():
        contact = db.session.scalars(select(Contact).where(Contact.name.like("Nguyễn%"))).first()
        assert contact is not None
    html = client.get("/contacts/?q=nguyen").get_data(as_text=True)
    assert contact.name in html
    first_lead = client.get("/review/?q=battery")
    assert first_lead.status_code == 200


def test_volunteer_sees_drafts_and_waiting_leads_at_any_size(bench_data):
    with bench_data.app_context():
        mine = select(TalentLead.status).where(TalentLead.station_id.in_([1, 2]))
        statuses = set(db.session.scalars(mine))
    assert {"draft", "needs_info", "submitted"} <= statuses


def test_migration_heads_name_the_core_and_plugin_branches():
    heads = data.migration_heads()
    assert any(head.startswith("00") for head in heads) and len(heads) >= 2


def test_ceiling_pages_run_on_the_generated_data(bench_data, database_url, monkeypatch):
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    monkeypatch.setattr(ceiling, "DATABASE", url.removeprefix("sqlite:///"))
    monkeypatch.setattr(ceiling, "POSTGRES", url.startswith("postgres"))
    monkeypatch.setattr(ceiling, "_local", type(ceiling._local)())
    client = ceiling.app.test_client()
    for path in ["/queue", "/queue?region=ASEAN&status=submitted&q=battery", "/queue?q=nguyen",
                 "/queue?after_submitted=2030-01-01 00:00:00&after_id=999999", "/lead/1", "/contacts",
                 "/contacts?q=nguyen", "/station/1", "/report", "/home/3", "/leads/3", "/alliance",
                 "/alliance?q=certificate+1", "/demands", "/events", "/event/1", "/students", "/roll-call/1",
                 "/alliance-members", "/agreement/1", "/student-requests", "/student-requests?overdue=1"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"<table>" in response.data
    response = client.post("/submit/3", data={"contact_id": "1", "category": "employment",
                                               "summary": "battery", "priority": "2"})
    assert response.status_code == 302
    with bench_data.app_context():
        assert db.session.scalar(select(func.count()).select_from(TalentLead)) == 61
    for connection in [getattr(ceiling._local, "connection", None)]:
        if connection is not None:
            connection.close()


def test_generator_fills_the_student_service_plugin(bench_data):
    """Students in every stage and one roll call with an entry per student of its country."""
    from plugins.student_service.models import RollCall, RollCallEntry, Student

    with bench_data.app_context():
        stages = set(db.session.scalars(select(Student.stage).distinct()))
        assert len(stages) == 5
        country = db.session.scalar(select(RollCall.country).where(RollCall.id == 1))
        there = db.session.scalar(select(func.count()).select_from(Student).where(Student.country == country))
        assert there and db.session.scalar(select(func.count()).select_from(RollCallEntry)) == there
        assert db.session.scalar(select(func.count()).select_from(Student)) == db.session.scalar(
            select(func.count()).select_from(Contact).where(Contact.kind == "student"))


def test_generator_fills_the_skills_alliance_plugin(bench_data):
    """Two members and an agreement in force per station, its parties and areas, three milestones
    (one overdue) and two recognitions whose folded search text the app finds."""
    from plugins.skills_alliance.models import Agreement, Milestone, Party, Recognition
    from plugins.skills_alliance.models import Member as AllianceMember

    with bench_data.app_context():
        assert db.session.scalar(select(func.count()).select_from(AllianceMember)) == 4 * 2
        assert set(db.session.scalars(select(Agreement.status).distinct())) == {"in_force"}
        assert db.session.scalar(select(func.count()).select_from(Party)) == 4 * 2
        overdue = db.session.scalar(select(func.count()).select_from(Milestone).where(
            Milestone.due_on < data.NOW.date(), Milestone.done_on.is_(None)))  # overdue on the data's day
        assert overdue == 4 and db.session.scalar(select(func.count()).select_from(Recognition)) == 4 * 2
    client = bench_data.test_client()
    assert client.post("/login", data={"email": data.HQ_EMAIL, "password": data.PASSWORD}).status_code == 302
    assert "证书1-1" in client.get("/p/skills_alliance/recognitions?q=certificate+1").get_data(as_text=True)
    assert "成员单位2" in client.get("/p/skills_alliance/agreements/1").get_data(as_text=True)  # a party, by its Chinese name


def _student_service_rows(app):
    """A service request past due and an internship with an application (the generator makes
    neither): the requests lists and the programme page have rows to show."""
    from datetime import timedelta

    from plugins.student_service.models import Application, Programme, ServiceRequest, Student

    from liaison.i18n import local_today

    with app.app_context():
        student = db.session.scalars(select(Student).where(Student.stage == "abroad").order_by(Student.id)).first()
        db.session.add(ServiceRequest(student_id=student.id, station_id=student.station_id, kind="counselling",
                                      summary="Exam stress", status="referred",
                                      due_on=local_today() - timedelta(days=3)))
        programme = Programme(kind="internship", title="Haiyan internships", year=2026, places=5,
                              fields="battery materials, AI")
        db.session.add(programme)
        db.session.flush()
        db.session.add(Application(programme_id=programme.id, student_id=student.id, station_id=student.station_id))
        db.session.commit()
        return programme.id


def test_every_endpoint_answers_on_the_generated_data_in_the_app_and_the_ceiling(bench_data, database_url,
                                                                                 monkeypatch):
    """``endpoints()`` as ``make bench`` builds them from the generated data: each page answers 200
    in the app (logged in as its user) and its ceiling 200 with a table."""
    import run

    programme_id = _student_service_rows(bench_data)
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    database = url.removeprefix("sqlite:///")
    facts = run.facts(database)
    assert facts.agreement_id and facts.programme_id
    monkeypatch.setattr(ceiling, "DATABASE", database)
    monkeypatch.setattr(ceiling, "POSTGRES", url.startswith("postgres"))
    monkeypatch.setattr(ceiling, "_local", type(ceiling._local)())
    ceiling_client = ceiling.app.test_client()
    clients = {}
    for user, email in (("hq", data.HQ_EMAIL), ("volunteer", data.VOLUNTEER_EMAIL)):
        clients[user] = bench_data.test_client()
        assert clients[user].post("/login", data={"email": email, "password": data.PASSWORD}).status_code == 302
    points = run.endpoints(facts, ("/review/?page=2", "/queue?offset=50"))
    names = {endpoint.name for endpoint in points}
    assert {"alliance members (plugin)", "agreement page (plugin)", "service requests (plugin)",
            "overdue requests (plugin)", "programme page (plugin)"} <= names
    for endpoint in points:
        if endpoint.post:
            continue
        assert clients[endpoint.user].get(endpoint.path).status_code == 200, endpoint.path
        response = ceiling_client.get(endpoint.ceiling)
        assert response.status_code == 200 and b"<table>" in response.data, endpoint.ceiling
    requests_page = ceiling_client.get("/student-requests?overdue=1").get_data(as_text=True)
    assert "Exam stress" in requests_page
    programme_page = ceiling_client.get(f"/programme/{programme_id}").get_data(as_text=True)
    assert "Haiyan internships" in programme_page and "battery materials" in programme_page  # the candidates
    connection = getattr(ceiling._local, "connection", None)
    if connection is not None:
        connection.close()


def test_the_lead_export_streams_the_whole_queue_as_csv(bench_data, database_url, monkeypatch):
    """The export line: ours (the threshold off, as the bench's server runs it) and the ceiling's
    stream every lead of the queue and a header."""
    import run

    with bench_data.app_context():
        queued = db.session.scalar(select(func.count()).select_from(TalentLead).where(TalentLead.status != "draft"))
    bench_data.config["EXPORT_JOB_THRESHOLD"] = None
    client = bench_data.test_client()
    assert client.post("/login", data={"email": data.HQ_EMAIL, "password": data.PASSWORD}).status_code == 302
    response = client.get(run.EXPORT_PATH)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data().count(b"\n") >= queued + 1
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    monkeypatch.setattr(ceiling, "DATABASE", url.removeprefix("sqlite:///"))
    monkeypatch.setattr(ceiling, "POSTGRES", url.startswith("postgres"))
    monkeypatch.setattr(ceiling, "_local", type(ceiling._local)())
    csv_response = ceiling.app.test_client().get(run.EXPORT_CEILING)
    assert csv_response.status_code == 200 and csv_response.get_data().count(b"\n") == queued + 1
    figures = run.export_line({"ours": run.Download(200, 2.0, 0.05, 3 * 2**20, 2**20, queued + 1),
                               "ceiling": run.Download(200, 1.0, 0.01, 2 * 2**20, 2**20, queued + 1)}, 100_000)
    assert "50,000 leads/s" in figures and "time ours ÷ ceiling 2.0" in figures
    connection = getattr(ceiling._local, "connection", None)
    if connection is not None:
        connection.close()
