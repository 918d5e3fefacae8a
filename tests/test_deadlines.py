"""Review deadlines in the UI and in working days (liaison.assignment.workdays,
liaison.notifications.deadlines): Chinese public holidays and 调休, time zones, the queue's
overdue filter and badge, the due date on the lead page, on-time rates."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from liaison.assignment import services, workdays
from liaison.models import LeadEvent, LeadEventKind, LeadStatus, TalentLead, db, utcnow
from liaison.notifications import deadlines

from .factories import make_lead


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def working_days(app):
    app.config["LEAD_DEADLINE_WORKING_DAYS"] = True
    with app.app_context():
        yield
        db.session.remove()


def test_chinese_calendar_knows_national_day_and_makeup_days(working_days):
    assert not workdays.is_working_day(date(2025, 10, 1))  # National Day
    assert not workdays.is_working_day(date(2025, 10, 8))
    assert workdays.is_working_day(date(2025, 9, 28))  # a Sunday worked in exchange (调休)
    assert workdays.is_working_day(date(2025, 10, 11))  # a Saturday worked in exchange
    assert not workdays.is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert workdays.add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)


def test_due_date_skips_the_national_day_week(working_days):
    # Tue 30 Sep 2025, 10:00 in Beijing: 9 Oct (1), 10 Oct (2), Sat 11 Oct (3, 调休), 13 Oct (4), 14 Oct (5).
    start = datetime(2025, 9, 30, 2, 0)
    assert workdays.due_at(start, 5) == datetime(2025, 10, 14, 16, 0)  # Beijing midnight ending 14 Oct
    # Calendar days would have made it 5 October.
    lead = TalentLead(status="submitted", status_changed_at=start)
    assert deadlines.due_at(lead) == datetime(2025, 10, 14, 16, 0)


def test_the_day_is_counted_in_the_bureaus_time_zone(app, working_days):
    # 29 Sep 17:00 UTC is already 30 Sep 01:00 in Beijing; 15:00 UTC is still 29 Sep 23:00.
    assert workdays.due_at(datetime(2025, 9, 29, 17, 0), 5) == datetime(2025, 10, 14, 16, 0)
    assert workdays.due_at(datetime(2025, 9, 29, 15, 0), 5) == datetime(2025, 10, 13, 16, 0)
    app.config["LEAD_DEADLINE_TIMEZONE"] = "Europe/Rome"  # UTC+2 in October (summer time)
    assert workdays.due_at(datetime(2025, 9, 29, 17, 0), 5) == datetime(2025, 10, 13, 22, 0)


def test_calendar_days_without_the_option(app):
    with app.app_context():
        lead = TalentLead(status="submitted", status_changed_at=datetime(2025, 9, 30, 2, 0))
        assert deadlines.due_at(lead) == datetime(2025, 10, 5, 2, 0)
        db.session.remove()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_overdue_cutoff_agrees_with_the_due_date(app, working_days, zone):
    """``start < overdue_before(now)`` exactly when ``due_at(start) < now`` (what the SQL filter
    and the badge rely on), across the holidays of 2025–2026."""
    app.config["LEAD_DEADLINE_TIMEZONE"] = zone
    rng = random.Random(15)
    base = datetime(2025, 9, 1)
    for _ in range(300):
        now = base + timedelta(minutes=rng.randrange(60 * 24 * 200))
        n = rng.choice([1, 5, 14, 30])
        cutoff = workdays.overdue_before(now, n)
        for start in (cutoff - timedelta(seconds=1), cutoff, now - timedelta(minutes=rng.randrange(60 * 24 * 60))):
            assert (start < cutoff) == (workdays.due_at(start, n) < now), (now, n, start)


def _set_since(lead_id, since):
    lead = db.session.get(TalentLead, lead_id)
    lead.status_changed_at = since
    db.session.commit()


def test_overdue_condition_in_working_days(app, world, working_days):
    _set_since(world.leads["hanoi_submitted"], datetime(2025, 9, 30, 2, 0))
    _set_since(world.leads["milan_submitted"], datetime(2025, 10, 13, 2, 0))
    _set_since(world.leads["bangkok_submitted"], datetime(2025, 10, 9, 2, 0))
    now = datetime(2025, 10, 15, 1, 0)  # 15 Oct, 09:00 in Beijing
    overdue = set(db.session.scalars(select(TalentLead.id).where(deadlines.overdue_condition(now))))
    # Hanoi's was due at the end of 14 Oct; Bangkok's (9 Oct) at the end of the 16th; Milan's later.
    assert overdue == {world.leads["hanoi_submitted"]}


def test_queue_shows_due_dates_and_filters_the_overdue(app, client, login, world):
    with app.app_context():
        _set_since(world.leads["hanoi_submitted"], utcnow() - timedelta(days=8))
        db.session.remove()
    hanoi, milan = world.leads["hanoi_submitted"], world.leads["milan_submitted"]
    login("hq")
    page = client.get("/review/").get_data(as_text=True)
    assert ">Due<" in page and f'href="/leads/{milan}"' in page and "text-bg-danger\">Overdue" in page
    page = client.get("/review/?overdue=1").get_data(as_text=True)
    assert f'href="/leads/{hanoi}"' in page and f'href="/leads/{milan}"' not in page
    assert 'aria-pressed="true"' in page
    detail = client.get(f"/leads/{hanoi}").get_data(as_text=True)
    assert ">Due<" in detail and "Overdue" in detail
    detail = client.get(f"/leads/{milan}").get_data(as_text=True)
    assert ">Due<" in detail and "text-bg-danger\">Overdue" not in detail
    login("vol_hanoi")  # the queue is HQ's
    assert client.get("/review/?overdue=1").status_code == 403


@pytest.mark.parametrize("value", ["0", "yes", "1' OR 1=1", ""])
def test_overdue_filter_ignores_other_values(client, login, world, value):
    login("hq")
    response = client.get(f"/review/?overdue={value}")
    assert response.status_code == 200 and 'aria-pressed="true"' not in response.get_data(as_text=True)


def test_on_time_rates(app, world):
    with app.app_context():
        leads = [make_lead(world, "hanoi", LeadStatus.UNDER_REVIEW) for _ in range(3)]
        t0 = datetime(2025, 6, 2, 8, 0)
        for lead_id, took in zip(leads, (2, 4, 9)):
            events = db.session.scalars(select(LeadEvent).where(
                LeadEvent.lead_id == lead_id, LeadEvent.kind == LeadEventKind.STATUS).order_by(LeadEvent.id)).all()
            submitted, started = events[-2], events[-1]
            assert (submitted.to_status, started.to_status) == ("submitted", "under_review")
            submitted.created_at, started.created_at = t0, t0 + timedelta(days=took)
        db.session.commit()
        rates = services.on_time_rates(datetime(2025, 6, 1), datetime(2025, 7, 1))
        assert rates["submitted"] == (2, 3)  # 2 and 4 days on time, 9 late (5 days)
        assert rates["accepted"] == (0, 0)
        db.session.remove()
