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


# Reminders before the deadline -------------------------------------------------------------------

def test_due_soon_across_the_national_day_week(app, world, working_days):
    """Due at the end of 14 Oct 2025 (5 working days from 30 Sep); 2 working days before is the
    end of Sat 11 Oct (a 调休 working day), so the reminder is due from 12 Oct, Beijing time."""
    hanoi = world.leads["hanoi_submitted"]
    _set_since(hanoi, datetime(2025, 9, 30, 2, 0))

    def due_soon(now):
        return hanoi in set(db.session.scalars(select(TalentLead.id).where(deadlines.due_soon_condition(now))))

    assert not due_soon(datetime(2025, 10, 8, 4, 0))  # still the holiday week
    assert not due_soon(datetime(2025, 10, 11, 15, 59))  # 11 Oct, 23:59 in Beijing
    assert due_soon(datetime(2025, 10, 11, 16, 1))  # 12 Oct, 00:01 in Beijing
    assert due_soon(datetime(2025, 10, 14, 15, 59))
    assert not due_soon(datetime(2025, 10, 14, 16, 1))  # overdue now: the overdue reminder's turn
    app.config["LEAD_DEADLINE_REMINDER_DAYS"] = {"submitted": 4}  # end of 9 Oct, the first day back
    assert not due_soon(datetime(2025, 10, 9, 15, 59)) and due_soon(datetime(2025, 10, 9, 16, 1))
    app.config["LEAD_DEADLINE_REMINDER_DAYS"] = 0
    assert deadlines.reminder_days() == {} and not due_soon(datetime(2025, 10, 13, 4, 0))


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Rome"])
def test_due_soon_condition_agrees_with_the_due_dates(app, world, working_days, zone):
    """The SQL filter picks a lead exactly when ``due_at(start, n − before) < now <= due_at(start, n)``,
    across the Spring Festival and National Day holidays of 2025–2026."""
    app.config["LEAD_DEADLINE_TIMEZONE"] = zone
    app.config["LEAD_DEADLINE_REMINDER_DAYS"] = {"submitted": 2, "needs_info": 3, "accepted": 5}
    hanoi = world.leads["hanoi_submitted"]
    rng = random.Random(20)
    for _ in range(60):
        start = datetime(2025, 1, 10) + timedelta(minutes=rng.randrange(60 * 24 * 400))
        now = start + timedelta(minutes=rng.randrange(60 * 24 * 16))
        _set_since(hanoi, start)
        picked = hanoi in set(db.session.scalars(select(TalentLead.id).where(deadlines.due_soon_condition(now))))
        expected = workdays.due_at(start, 3) < now <= workdays.due_at(start, 5)
        assert picked == expected, (start, now)


def _notified(kind):
    from liaison.models import Notification

    return sorted(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def test_due_soon_reminder_is_sent_once_per_stay(app, world):
    """From ``jobs run-due``: the reviewer (HQ while nobody is assigned) is told once, in their
    language, however often the command runs; a new stay in the status is a new reminder."""
    from liaison import jobs

    hanoi = world.leads["hanoi_submitted"]
    with app.app_context():
        _set_since(hanoi, utcnow() - timedelta(days=2))
        assert jobs.run_due(app)["notifications.due_soon"] == 0  # 5-day deadline, reminder 2 days before
        _set_since(hanoi, utcnow() - timedelta(days=3, hours=1))
        assert jobs.run_due(app)["notifications.due_soon"] == 1
        db.session.remove()
        assert jobs.run_due(app)["notifications.due_soon"] == 0  # already sent for this stay
        db.session.remove()
        hq = {world.users[k] for k in ("hq", "hq2", "admin")}
        assert set(_notified("lead_due_soon")) == hq and len(_notified("lead_due_soon")) == len(hq)
        from liaison.models import Notification
        from liaison.notifications.kinds import render_message

        params = db.session.scalar(select(Notification.params).where(Notification.kind == "lead_due_soon"))
        lead = db.session.get(TalentLead, hanoi)
        assert params["due"] == deadlines.last_day(deadlines.due_at(lead)).isoformat()
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert "its deadline is the end of" in render_message("lead_due_soon", params)
        _set_since(hanoi, utcnow() - timedelta(days=3, hours=2))  # left the status and came back
        assert jobs.run_due(app)["notifications.due_soon"] == 1
        # Overdue: no "due soon" any more.
        _set_since(hanoi, utcnow() - timedelta(days=6))
        assert jobs.run_due(app)["notifications.due_soon"] == 0
        db.session.remove()


def test_reminders_are_not_stuck_behind_those_already_sent(app, world, monkeypatch):
    """More overdue leads than one run queues: the next run queues the others, not the same ones."""
    from liaison import jobs

    monkeypatch.setattr(deadlines, "MAX_PER_RUN", 1)
    with app.app_context():
        leads = sorted(db.session.scalars(select(TalentLead.id).where(TalentLead.status == "submitted")))
        assert len(leads) >= 2
        for lead_id in leads:
            _set_since(lead_id, utcnow() - timedelta(days=9))
        counts = [jobs.run_due(app)["notifications.overdue"] for _ in range(len(leads) + 1)]
        assert counts == [1] * len(leads) + [0]
        db.session.remove()


# HQ sets the deadlines in the app ---------------------------------------------------------------

def test_hq_sets_deadlines_per_status_audited_with_the_config_as_default(app, client, login, world):
    from liaison.models import AuditEntry, LeadDeadline

    login("hq")
    page = client.get("/review/deadlines").get_data(as_text=True)
    assert 'name="days_submitted"' in page and "5 days, reminder 2 days before" in page  # the config's default
    response = client.post("/review/deadlines", data={"days_submitted": "7", "remind_submitted": "3",
                                                      "days_accepted": "0"})
    assert response.status_code == 302
    with app.test_request_context():
        assert deadlines.deadline_days() == {"submitted": 7, "needs_info": 14}  # accepted: none now
        assert deadlines.reminder_days() == {"submitted": 3, "needs_info": 2}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "deadlines.update"))
        assert entry.actor_id == world.users["hq"] and entry.details["after"] == {"submitted": [7, 3], "accepted": [0, 0]}
        lead = db.session.get(TalentLead, world.leads["hanoi_submitted"])
        lead.status_changed_at = utcnow() - timedelta(days=6)
        db.session.commit()
        assert not deadlines.is_overdue(lead)  # 7 days now, not 5
    # The same again: nothing changes, nothing is audited; a blank field goes back to the default.
    client.post("/review/deadlines", data={"days_submitted": "7", "remind_submitted": "3", "days_accepted": "0"})
    client.post("/review/deadlines", data={"days_submitted": "7", "remind_submitted": "3"})
    with app.test_request_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "deadlines.update")) == 2
        assert deadlines.deadline_days() == {"submitted": 7, "needs_info": 14, "accepted": 30}
        assert {row.status for row in db.session.scalars(select(LeadDeadline))} == {"submitted"}
    zh = client.get("/review/deadlines", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert 'name="days_submitted" type="number" value="7"' in zh or 'value="7"' in zh
    login("vol_hanoi")
    assert client.get("/review/deadlines").status_code == 403
