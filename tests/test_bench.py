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
                 "/alliance?q=certificate+1", "/demands", "/events", "/event/1", "/students", "/roll-call/1"]:
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
