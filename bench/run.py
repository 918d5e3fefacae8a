"""Speed targets at 100,000 leads: ``make bench``.

Builds a scratch database (SQLite in a temporary directory, or a scratch PostgreSQL database
when ``DATABASE_URL`` points at a server), fills it with 100,000 leads over 40 stations, then
times the pages HQ and volunteers use most through the app itself. Prints median and 95th
percentile per page and exits non-zero when a target is missed.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from liaison import create_app  # noqa: E402
from liaison.models import (  # noqa: E402
    Contact, LeadCategory, LeadEvent, LeadStatus, Region, Role, Station, TalentLead, User, db, station_membership, utcnow,
)

LEADS = int(os.environ.get("BENCH_LEADS", 100_000))
STATIONS = 40
CONTACTS = 20_000
RUNS = int(os.environ.get("BENCH_RUNS", 15))
PASSWORD = "bench-password-123"

# page -> target for the median, in milliseconds
TARGETS = {
    "/review/": 250,
    "/review/?page=1000": 300,
    "/review/?status=under_review": 250,
    "/review/?sort=-priority": 250,
    "/review/?region=ASEAN&category=employment&reviewer=none": 300,
    "/review/?submitted_from=2025-01-01&submitted_to=2025-03-31": 300,
    "/review/?q=battery": 800,
    "/review/report": 800,
    "/": 300,
    "volunteer /leads/": 200,
    "volunteer /": 200,
}


def populate(app) -> None:
    rng = random.Random(7)
    with app.app_context():
        db.session.execute(insert(Region), [{"code": "ASEAN", "name": "ASEAN", "created_at": utcnow(), "updated_at": utcnow()},
                                            {"code": "EUROPE", "name": "Europe", "created_at": utcnow(), "updated_at": utcnow()}])
        now = utcnow()
        db.session.execute(insert(Station), [
            {"name": f"Station {i}", "country": "IT" if i % 2 else "VN", "city": f"City {i}", "region_id": 1 + i % 2,
             "host_organisation": "Host", "host_kind": "other", "status": "active", "created_at": now, "updated_at": now}
            for i in range(STATIONS)])
        hq = User(email="hq@bench.example", name="HQ", role=Role.HQ_REVIEWER)
        volunteer = User(email="vol@bench.example", name="Volunteer", role=Role.VOLUNTEER)
        for user in (hq, volunteer):
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.flush()
        db.session.execute(insert(station_membership), [{"user_id": volunteer.id, "station_id": 1}])
        db.session.execute(insert(Contact), [
            {"station_id": 1 + i % STATIONS, "kind": "scholar", "name": f"Contact {i}", "name_zh": f"联系人{i}",
             "created_at": now, "updated_at": now} for i in range(CONTACTS)])
        statuses = [s.value for s in LeadStatus]
        categories = [c.value for c in LeadCategory]
        words = ["battery", "robotics", "fashion", "translation", "biomedicine", "agriculture", "fintech", "design"]
        batch = []
        for i in range(LEADS):
            contact = 1 + i % CONTACTS
            status = rng.choice(statuses)
            created = now - timedelta(days=rng.randint(0, 1500), minutes=rng.randint(0, 1440))
            batch.append({
                "contact_id": contact, "station_id": 1 + (contact - 1) % STATIONS, "submitter_id": volunteer.id,
                "category": rng.choice(categories), "summary": f"Lead {i} about {rng.choice(words)} and {rng.choice(words)}",
                "priority": rng.randint(1, 4), "status": status, "reviewer_id": hq.id if rng.random() < 0.5 else None,
                "submitted_at": None if status == "draft" else created + timedelta(days=1),
                "status_changed_at": created, "created_at": created, "updated_at": created, "version": 1,
            })
            if len(batch) == 10_000:
                db.session.execute(insert(TalentLead), batch)
                batch = []
        if batch:
            db.session.execute(insert(TalentLead), batch)
        db.session.execute(insert(LeadEvent), [
            {"lead_id": lead_id, "actor_id": volunteer.id, "kind": "created", "to_status": "draft", "created_at": now}
            for lead_id in range(1, LEADS + 1)])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
        else:
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")


def measure(client, path: str) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> int:
    from tests.conftest import _scratch_postgres  # the same scratch-database helper as the tests

    server = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as tmp:
        if server.startswith("postgres"):
            context = _scratch_postgres(server)
        else:
            from contextlib import nullcontext

            context = nullcontext(f"sqlite:///{tmp}/bench.sqlite")
        with context as url:
            config = {"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
            app = create_app(config)
            with app.app_context():
                from flask_migrate import upgrade

                upgrade(revision="heads")
            started = time.perf_counter()
            populate(app)
            print(f"{LEADS:,} leads in {db_name(url)} built in {time.perf_counter() - started:.1f} s; {RUNS} runs per page\n")
            hq = app.test_client()
            hq.post("/login", data={"email": "hq@bench.example", "password": PASSWORD})
            volunteer = app.test_client()
            volunteer.post("/login", data={"email": "vol@bench.example", "password": PASSWORD})
            failed = 0
            print(f"{'page':62} {'median':>8} {'p95':>8} {'target':>8}")
            for page, target in TARGETS.items():
                client, path = (volunteer, page.split(" ", 1)[1]) if page.startswith("volunteer ") else (hq, page)
                times = sorted(measure(client, path))
                median = statistics.median(times)
                p95 = times[int(len(times) * 0.95) - 1]
                ok = median <= target
                failed += not ok
                print(f"{page:62} {median:7.0f}ms {p95:7.0f}ms {target:7d}ms {'ok' if ok else 'SLOW'}")
            with app.app_context():
                db.engine.dispose()
    print("\nall targets met" if not failed else f"\n{failed} target(s) missed")
    return 1 if failed else 0


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"


if __name__ == "__main__":
    raise SystemExit(main())
