"""Retention that runs: the core's rules, dry run against run, the stored counts, the command,
the retention page."""
from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from liaison.models import (
    Contact,
    ErasureRequest,
    ErasureStatus,
    LeadAttachment,
    LeadEvent,
    LeadStatus,
    RetentionRun,
    RetentionRunCount,
    TalentLead,
    User,
    db,
    utcnow,
)
from liaison.privacy import retention
from liaison.review.services import build_report

from .factories import make_lead
from .helpers import snapshot

RETENTION_TABLES = {"retention_runs", "retention_run_counts"}
LONG_AGO = timedelta(days=6 * 366)  # beyond RETENTION_CONTACT_YEARS (5)


def _contact(world, name: str, *, station: str = "hanoi", age: timedelta | None = None) -> int:
    contact = Contact(station_id=world.stations[station], kind="scholar", name=name,
                      email=f"{name.split()[0].lower()}@example.org", phone="+84 24 3825 9999",
                      notes=f"Met {name} at the fair", created_by_id=world.users["admin"])
    db.session.add(contact)
    db.session.commit()
    if age is not None:
        _age_contact(contact.id, age)
    return contact.id


def _age_contact(contact_id: int, age: timedelta) -> None:
    when = utcnow() - age
    db.session.execute(update(Contact).where(Contact.id == contact_id).values(created_at=when, updated_at=when))
    db.session.commit()


def _age_lead(lead_id: int, age: timedelta) -> None:
    when = utcnow() - age
    db.session.execute(update(TalentLead).where(TalentLead.id == lead_id)
                       .values(updated_at=when, status_changed_at=when, created_at=when))
    db.session.commit()


def _lead_for(world, contact_id: int, status: LeadStatus, **fields) -> int:
    """A lead of another contact of the Hanoi station (``make_lead`` uses the world's contact)."""
    lead_id = make_lead(world, "hanoi", status, **fields)
    db.session.execute(update(TalentLead).where(TalentLead.id == lead_id).values(contact_id=contact_id))
    db.session.commit()
    return lead_id


def _counts(run: RetentionRun) -> dict[str, int]:
    return {row.rule: row.count for row in db.session.scalars(
        select(RetentionRunCount).where(RetentionRunCount.run_id == run.id))}


def _without_retention(rows: dict) -> dict:
    return {table: value for table, value in rows.items() if table not in RETENTION_TABLES}


def _report():
    report = build_report()
    return repr(dataclasses.asdict(report)) if dataclasses.is_dataclass(report) else repr(vars(report))


@pytest.fixture
def setup(app, world):
    """Contacts and leads on both sides of every line the core's rules draw."""
    with app.test_request_context():
        ids = {
            "old": _contact(world, "Old Person", age=LONG_AGO),
            "old_milan": _contact(world, "Ancient Person", station="milan", age=LONG_AGO),
            "recent": _contact(world, "Recent Person", age=timedelta(days=30)),
            "old_open_lead": _contact(world, "Waiting Person", age=LONG_AGO),
            "old_recent_lead": _contact(world, "Busy Person", age=LONG_AGO),
            "old_pending": _contact(world, "Pending Person", age=LONG_AGO),
        }
        # An open lead, however old, protects its contact.
        ids["open_lead"] = _lead_for(world, ids["old_open_lead"], LeadStatus.DRAFT)
        _age_lead(ids["open_lead"], LONG_AGO)
        # A closed lead that changed recently protects its contact too.
        ids["recent_lead"] = _lead_for(world, ids["old_recent_lead"], LeadStatus.REJECTED, wants="A job in Hangzhou")
        _age_contact(ids["old_recent_lead"], LONG_AGO)
        # A pending erasure request: people are deciding; the rule leaves it to them.
        db.session.add(ErasureRequest(contact_id=ids["old_pending"], station_id=world.stations["hanoi"],
                                      status=ErasureStatus.REQUESTED, reason="asked by e-mail",
                                      requested_by_id=world.users["vol_hanoi"]))
        db.session.commit()
        # Leads closed without landing, four years ago (beyond RETENTION_REJECTED_LEAD_YEARS = 3).
        ids["old_rejected"] = make_lead(world, "hanoi", LeadStatus.REJECTED, wants="Wants a lab", offer="Offers AI",
                                        field="Robotics", summary="Dr Nguyen, robotics, Hanoi University")
        ids["old_withdrawn"] = make_lead(world, "bangkok", LeadStatus.WITHDRAWN)
        ids["old_lost"] = make_lead(world, "milan", LeadStatus.CLOSED_LOST)
        ids["old_landed"] = make_lead(world, "milan", LeadStatus.LANDED, summary="Landed summary")
        for key in ("old_rejected", "old_withdrawn", "old_lost", "old_landed"):
            _age_lead(ids[key], timedelta(days=4 * 366))
        ids["recent_rejected"] = make_lead(world, "bangkok", LeadStatus.REJECTED, summary="Recently rejected")
        # A file of the old rejected lead, on disk.
        from liaison.leads import files

        key = secrets.token_hex(16)
        path = files.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 cv")
        db.session.add(LeadAttachment(lead_id=ids["old_rejected"], storage_key=key, filename="cv-nguyen.pdf",
                                      content_type="application/pdf", size=11, sha256="0" * 64))
        db.session.commit()
        ids["file"] = str(path)
    return ids


def test_selection_of_the_contact_rule(app, setup):
    with app.test_request_context():
        matched = set(db.session.scalars(retention.inactive_contacts(utcnow())))
    assert setup["old"] in matched and setup["old_milan"] in matched
    for protected in ("recent", "old_open_lead", "old_recent_lead", "old_pending"):
        assert setup[protected] not in matched, protected
    # The world's own contacts have open leads.
    assert matched == {setup["old"], setup["old_milan"]}


def test_selection_of_the_lead_rule(app, setup):
    with app.test_request_context():
        matched = set(db.session.scalars(retention.closed_leads(utcnow())))
    assert matched == {setup["old_rejected"], setup["old_withdrawn"], setup["old_lost"]}


def test_durations_come_from_the_configuration(app, setup):
    app.config["RETENTION_CONTACT_YEARS"] = 10
    app.config["RETENTION_REJECTED_LEAD_YEARS"] = 1
    with app.test_request_context():
        assert set(db.session.scalars(retention.inactive_contacts(utcnow()))) == set()
        matched = set(db.session.scalars(retention.closed_leads(utcnow())))
    assert {setup["old_rejected"], setup["old_withdrawn"], setup["old_lost"]} <= matched
    assert setup["recent_rejected"] not in matched  # closed today


def test_dry_run_changes_nothing_but_logs_its_counts(app, setup):
    before = snapshot(app)
    with app.test_request_context():
        done = retention.run(dry_run=True)
        assert done.dry_run and done.finished_at is not None and done.triggered_by_id is None
        assert _counts(done) == {"core.inactive_contacts": 2, "core.closed_leads": 3}
        results = {r.rule.key: (r.matched, r.handled) for r in done.results}
        assert results == {"core.inactive_contacts": (2, 0), "core.closed_leads": (3, 0)}
    after = snapshot(app)
    assert _without_retention(after) == _without_retention(before)
    assert len(after["retention_runs"]) == len(before.get("retention_runs", [])) + 1
    import os

    assert os.path.exists(setup["file"])


def test_run_handles_exactly_the_matching_records(app, world, setup):
    with app.test_request_context():
        report_before = _report()
        names_before = dict(db.session.execute(select(Contact.id, Contact.name)).all())
        leads_before = dict(db.session.execute(select(TalentLead.id, TalentLead.summary)).all())
        done = retention.run(dry_run=False)
        assert not done.dry_run
        assert _counts(done) == {"core.inactive_contacts": 2, "core.closed_leads": 3}

        # Contacts: the two inactive ones anonymised as system erasures, nobody else touched.
        erased = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.erased_at.is_not(None)))}
        assert set(erased) == {setup["old"], setup["old_milan"]}
        for contact in erased.values():
            assert contact.email is None and contact.phone is None and contact.notes is None
            assert "Old Person" not in contact.name and "Ancient" not in contact.name
        requests = db.session.scalars(select(ErasureRequest).where(
            ErasureRequest.contact_id.in_(erased), ErasureRequest.status == ErasureStatus.DONE)).all()
        assert {r.contact_id for r in requests} == set(erased)
        assert all(r.reason == retention.INACTIVE_CONTACT_REASON for r in requests)
        names_after = dict(db.session.execute(select(Contact.id, Contact.name)).all())
        assert {k: v for k, v in names_after.items() if k not in erased} == \
            {k: v for k, v in names_before.items() if k not in erased}

        # Leads: the three closed-not-landed ones stripped, the rest untouched.
        leads = {lead.id: lead for lead in db.session.scalars(select(TalentLead))}
        stripped = {i for i, lead in leads.items() if lead.summary == retention.LEAD_PLACEHOLDER}
        assert stripped == {setup["old_rejected"], setup["old_withdrawn"], setup["old_lost"]}
        rejected = leads[setup["old_rejected"]]
        assert (rejected.wants, rejected.offer, rejected.field) == (None, None, None)
        assert rejected.status == LeadStatus.REJECTED and rejected.category == "employment"
        assert "nguyen" not in rejected.search_text.lower()
        texts = db.session.scalars(select(LeadEvent.text).where(LeadEvent.lead_id == rejected.id)).all()
        assert "because" not in texts and retention.LEAD_NOTE in texts
        assert leads[setup["old_landed"]].summary == "Landed summary"
        assert leads[setup["recent_rejected"]].summary == "Recently rejected"
        for lead_id, summary in leads_before.items():
            if lead_id not in stripped and lead_id in leads:
                assert leads[lead_id].summary == summary
        # The file is gone, from the database and from the disk.
        assert db.session.scalar(select(func.count()).select_from(LeadAttachment)
                                 .where(LeadAttachment.lead_id == rejected.id)) == 0
        import os

        assert not os.path.exists(setup["file"])
        # Stripping is no activity: the lead keeps its dates (and the contact rule its view).
        assert rejected.updated_at < utcnow() - timedelta(days=3 * 365)

        # Every figure of HQ's report is the same.
        assert _report() == report_before


def test_second_run_handles_nothing(app, setup):
    with app.test_request_context():
        retention.run(dry_run=False)
        rows = snapshot(app)
        again = retention.run(dry_run=False)
        assert _counts(again) == {"core.inactive_contacts": 0, "core.closed_leads": 0}
        assert _without_retention(snapshot(app)) == _without_retention(rows)


def test_recent_activity_protects_a_contact(app, world, setup):
    """The contact is edited (activity): no longer inactive; its data stays."""
    with app.test_request_context():
        contact = db.session.get(Contact, setup["old"])
        contact.position = "Professor"
        db.session.commit()
        retention.run(dry_run=False)
        contact = db.session.get(Contact, setup["old"])
        assert contact.erased_at is None and contact.name == "Old Person"


def test_a_recently_recorded_basis_protects_a_contact(app, world, setup):
    from datetime import date

    from liaison.models import ContactConsent

    with app.test_request_context():
        db.session.add(ContactConsent(contact_id=setup["old"], purpose="keep_in_touch", basis="consent",
                                      source="email", given_on=date.today(), recorded_by_id=world.users["vol_hanoi"]))
        db.session.commit()
        assert set(db.session.scalars(retention.inactive_contacts(utcnow()))) == {setup["old_milan"]}


def test_leads_an_erasure_stripped_are_not_handled_again(app, setup):
    with app.test_request_context():
        db.session.execute(update(TalentLead).where(TalentLead.id == setup["old_lost"])
                           .values(summary=retention.ERASED_PLACEHOLDER))
        db.session.commit()
        assert setup["old_lost"] not in set(db.session.scalars(retention.closed_leads(utcnow())))


def test_a_handled_lead_refuses_a_stale_edit(app, setup):
    """The version moves on: an edit form opened before the run cannot write the text back."""
    with app.test_request_context():
        before = db.session.get(TalentLead, setup["old_rejected"]).version
        retention.run(dry_run=False)
        db.session.expire_all()
        assert db.session.get(TalentLead, setup["old_rejected"]).version == before + 1


def test_a_failing_rule_is_reported_and_the_others_run(app, setup, monkeypatch):
    def broken(now):
        raise RuntimeError("broken rule")

    with app.test_request_context():
        rule = retention.RetentionRule("broken", "Broken", "Things", "Never works", broken,
                                       lambda ids, run: 0, plugin="fixture_broken")
        monkeypatch.setattr(retention, "plugin_rules", lambda: [rule])
        done = retention.run(dry_run=False)
        results = {r.rule.key: r for r in done.results}
        assert "broken rule" in results["fixture_broken.broken"].error
        assert results["core.closed_leads"].handled == 3
        assert "fixture_broken.broken" not in _counts(done)


def test_run_records_who_started_it(app, world, setup):
    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        done = retention.run(dry_run=True, actor=admin)
        assert db.session.get(RetentionRun, done.id).triggered_by_id == admin.id


# The daily job (one cron line: jobs run-due) ---------------------------------------------------

def _run_due(app):
    from liaison import jobs

    with app.app_context():
        try:
            return jobs.run_due(app)
        finally:
            db.session.remove()


def test_run_due_applies_retention_once_a_day(app, setup):
    from liaison.models import JobRun, JobStatus

    report = _run_due(app)
    assert report["privacy.retention"] == 1
    with app.app_context():
        runs = db.session.scalars(select(RetentionRun)).all()
        assert len(runs) == 1 and not runs[0].dry_run and runs[0].triggered_by_id is None
        assert _counts(runs[0]) == {"core.inactive_contacts": 2, "core.closed_leads": 3}
        assert db.session.get(Contact, setup["old"]).erased_at is not None
        job = db.session.scalar(select(JobRun).where(JobRun.name == "privacy.retention"))
        assert job.key == f"retention:{utcnow().date().isoformat()}" and job.status == JobStatus.DONE
        db.session.remove()
    # The same day again: the job is done; no second run.
    _run_due(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RetentionRun)) == 1
        db.session.remove()


def test_a_failing_daily_run_is_a_failed_job_an_admin_sees_and_retries(app, login, setup, monkeypatch):
    from liaison.models import JobRun, JobStatus

    def broken(now):
        raise RuntimeError("broken rule")

    rule = retention.RetentionRule("broken", "Broken", "Things", "Never works", broken, lambda ids, run: 0,
                                   plugin="fixture_broken")
    monkeypatch.setattr(retention, "plugin_rules", lambda: [rule])
    app.config["JOB_RETRY_BACKOFF"] = [30]  # one retry, then failed
    _run_due(app)
    with app.app_context():
        job = db.session.scalar(select(JobRun).where(JobRun.name == "privacy.retention"))
        assert job.status == JobStatus.RETRYING and "fixture_broken.broken" in job.last_error
        job.next_attempt_at = utcnow() - timedelta(seconds=1)  # the backoff is over
        db.session.commit()
        db.session.remove()
    _run_due(app)  # the retry: still broken, no attempt left
    with app.app_context():
        job = db.session.scalar(select(JobRun).where(JobRun.name == "privacy.retention"))
        assert job.status == JobStatus.FAILED and job.attempts == 2 and "broken rule" in job.last_error
        job_id = job.id
        # The other rules ran all the same (the second attempt found nothing left to do).
        assert db.session.get(Contact, setup["old"]).erased_at is not None
        db.session.remove()
    client = login("admin")
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "privacy.retention" in page and "broken rule" in page
    monkeypatch.setattr(retention, "plugin_rules", lambda: [])  # fixed
    assert client.post(f"/admin/jobs/{job_id}/retry").status_code == 302
    with app.app_context():
        assert db.session.get(JobRun, job_id).status == JobStatus.DONE
        db.session.remove()


def test_the_daily_run_can_be_switched_off(app, setup):
    app.config["RETENTION_DAILY"] = False
    assert _run_due(app)["privacy.retention"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RetentionRun)) == 0
        db.session.remove()


# The command ----------------------------------------------------------------------------------

def test_command_dry_run_prints_each_rule(app, runner, setup):
    before = _without_retention(snapshot(app))
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert "Inactive contacts [core.inactive_contacts]: 2 matched, 0 handled" in result.output
    assert "Leads closed without landing [core.closed_leads]: 3 matched, 0 handled" in result.output
    assert _without_retention(snapshot(app)) == before


def test_command_run(app, runner, setup):
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "[core.closed_leads]: 3 matched, 3 handled" in result.output
    assert "[core.inactive_contacts]: 2 matched, 2 handled" in result.output
    result = runner.invoke(args=["retention", "run"])
    assert "[core.closed_leads]: 0 matched, 0 handled" in result.output


def test_command_exits_with_1_when_a_rule_fails(app, runner, setup, monkeypatch):
    def broken(now):
        raise RuntimeError("broken rule")

    rule = retention.RetentionRule("broken", "Broken", "Things", "Never works", broken, lambda ids, run: 0,
                                   plugin="fixture_broken")
    monkeypatch.setattr(retention, "plugin_rules", lambda: [rule])
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 1
    assert "failed: RuntimeError: broken rule" in result.output
    assert "[core.closed_leads]: 3 matched, 0 handled" in result.output


def test_command_speaks_the_default_language(app, runner, setup):
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_Hans_CN"
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "不活跃的联络对象" in result.output and "匹配" in result.output


# The page ---------------------------------------------------------------------------------------

def test_retention_page_shows_rules_settings_and_runs(app, login, setup):
    client = login("admin")
    page = client.get("/privacy/retention").get_data(as_text=True)
    assert "Inactive contacts" in page and "RETENTION_CONTACT_YEARS" in page and "No run yet." in page
    response = client.post("/privacy/retention/dry-run")
    assert response.status_code == 302
    page = client.get("/privacy/retention").get_data(as_text=True)
    assert "dry run" in page and "2 would be handled" in page and "3 would be handled" in page
    with app.app_context():
        run = db.session.scalars(select(RetentionRun)).one()
        assert run.dry_run
        assert db.session.get(Contact, setup["old"]).erased_at is None


@pytest.mark.parametrize("role", ["hq", "asean_admin", "vol_hanoi"])
def test_only_admins_run_or_see_retention(app, login, setup, role):
    client = login(role)
    assert client.get("/privacy/retention").status_code == 403
    assert client.post("/privacy/retention/dry-run").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RetentionRun)) == 0


# The documentation cannot drift ----------------------------------------------------------------

def test_every_privacy_setting_is_documented():
    from pathlib import Path

    from liaison.config import DefaultConfig

    root = Path(__file__).resolve().parent.parent
    docs = (root / "docs" / "privacy.md").read_text(encoding="utf-8")
    keys = [key for key in vars(DefaultConfig) if key.startswith(("PRIVACY_", "RETENTION_"))]
    assert {"RETENTION_CONTACT_YEARS", "RETENTION_REJECTED_LEAD_YEARS"} <= set(keys)
    missing = [key for key in keys if f"`{key}`" not in docs]
    assert not missing, f"docs/privacy.md does not explain {missing}"
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "flask --app liaison retention run" in readme and "docs/privacy.md" in readme
    assert "RETENTION_DAILY" in readme


def test_selection_is_indexed_sql(app, setup):
    """Each batch of each core rule is an index search (SQLite's plan): no table is scanned."""
    import re

    from sqlalchemy import text

    with app.test_request_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's EXPLAIN QUERY PLAN")
        for rule in retention.core_rules():
            found = rule.find(utcnow()).subquery()
            query = select(found.c[0]).where(found.c[0] > 1).order_by(found.c[0]).limit(retention.BATCH_SIZE)
            sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
            plan = [row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql))]
            scans = [line for line in plan if re.match(r"SCAN (contacts|leads|contact_consents|erasure_requests)\b", line)]
            assert not scans, (rule.key, plan)
