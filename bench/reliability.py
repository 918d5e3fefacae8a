"""Reliability run: ``make reliability`` (SQLite) or ``DATABASE_URL=postgresql://… make reliability``.

Starts gunicorn on 127.0.0.1 with a scratch database, then:

1. ``VOLUNTEERS`` volunteers submit ``SUBMISSIONS`` leads in all, concurrently, through the real
   forms (CSRF token, idempotency token); some forms are sent twice (a double click, a resent
   POST) at the same moment;
2. one gunicorn worker is killed with SIGKILL a third of the way through; gunicorn replaces it;
3. pairs of HQ reviewers act on the same lead at the same moment (optimistic locking).

Afterwards it checks the database: every acknowledged lead is stored exactly once, no form token
produced two leads, no lead is half-written (each has its "created" event and its status agrees
with its last status event), and every conflict was answered 409 with nothing overwritten.
It prints the figures, writes them to docs/reliability.md, and exits non-zero if a check fails.
The load is bounded (a fixed number of requests, a time limit) and targets 127.0.0.1 only.
"""
from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from liaison import create_app  # noqa: E402
from liaison.models import (  # noqa: E402
    Contact, ContactConsent, LeadEvent, LeadEventKind, LeadStatus, Region, Role, Station, TalentLead, User, db,
)

VOLUNTEERS = int(os.environ.get("RELIABILITY_VOLUNTEERS", 24))
SUBMISSIONS = int(os.environ.get("RELIABILITY_SUBMISSIONS", 2400))
DOUBLE_EVERY = 10  # every 10th form is sent twice at once
CONFLICT_PAIRS = int(os.environ.get("RELIABILITY_CONFLICTS", 60))
TIME_LIMIT = int(os.environ.get("RELIABILITY_TIME_LIMIT", 600))  # seconds, whole run
PASSWORD = "reliability-password"
TOKEN = re.compile(r'name="(csrf_token|submission_token)" type="hidden" value="([^"]+)"')


@dataclass
class Figures:
    sent: int = 0
    acknowledged: int = 0
    failed_5xx: int = 0
    failed_other: int = 0  # connection cut, timeout: reported to the client as failed
    double_sent: int = 0
    conflicts_409: int = 0
    conflict_wins: int = 0
    acknowledged_tokens: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **changes):
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, getattr(self, name) + value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str) -> dict:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        region = Region(code="ASEAN", name="ASEAN")
        db.session.add(region)
        db.session.flush()
        stations = [Station(name=f"Station {i}", country="VN", city=f"City {i}", region_id=region.id,
                            host_organisation="Host", host_kind="other") for i in range(6)]
        db.session.add_all(stations)
        db.session.flush()
        people = {"volunteers": [], "reviewers": []}
        for i in range(VOLUNTEERS):
            station = stations[i % len(stations)]
            user = User(email=f"vol{i}@example.org", name=f"Volunteer {i}", role=Role.VOLUNTEER, stations=[station],
                        regions=[])
            user.set_password(PASSWORD)
            contact = Contact(station_id=station.id, kind="scholar", name=f"Contact {i}")
            db.session.add_all([user, contact])
            db.session.flush()
            # A lead goes to HQ only with a lawful basis for it (liaison.privacy.consent).
            db.session.add(ContactConsent(contact_id=contact.id, purpose="pass_to_hq", basis="consent", source="form",
                                          given_on=date(2026, 1, 5)))
            people["volunteers"].append((user.email, contact.id))
        for i in range(2):
            user = User(email=f"hq{i}@example.org", name=f"Reviewer {i}", role=Role.HQ_REVIEWER, stations=[], regions=[])
            user.set_password(PASSWORD)
            db.session.add(user)
            people["reviewers"].append(user.email)
        db.session.commit()
        db.engine.dispose()
    return people


def start_gunicorn(url: str, port: int, instance: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="reliability-secret", LIAISON_INSTANCE_PATH=instance,
               LIAISON_SERVER_BIND=f"127.0.0.1:{port}", LIAISON_SERVER_WORKERS="3", LIAISON_SERVER_THREADS="4",
               LIAISON_LOGIN_RATE_LIMIT="10000 per minute", LIAISON_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    env.pop("LIAISON_ENV", None)  # development cookies (no Secure flag) so plain http works locally
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--access-logfile", "/dev/null",
         "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start: " + process.stderr.read().decode()[-2000:])


def worker_pids(master: int) -> list[int]:
    output = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in output.split()]


def tokens(html: str) -> dict[str, str]:
    """The CSRF and idempotency tokens of a rendered WTForms form."""
    return dict(TOKEN.findall(html))


def login(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    response = session.post(f"{base}/login", data={"email": email, "password": PASSWORD,
                                                   "csrf_token": tokens(page)["csrf_token"]},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 302, (email, response.status_code)
    return session


def submit(base: str, session: requests.Session, contact_id: int, figures: Figures, index: int, rng: random.Random):
    url = f"{base}/leads/new?contact_id={contact_id}"
    try:
        form = tokens(session.get(url, timeout=30).text)
    except requests.RequestException:
        figures.add(failed_other=1)
        return
    data = {"csrf_token": form["csrf_token"], "submission_token": form["submission_token"],
            "category": rng.choice(["employment", "flexible", "project"]), "priority": "2",
            "summary": f"Reliability lead {index}", "save_and_submit": "1"}
    copies = 2 if index % DOUBLE_EVERY == 0 else 1
    if copies == 2:
        figures.add(double_sent=1)

    def post():
        figures.add(sent=1)
        try:
            response = session.post(url, data=data, allow_redirects=False, timeout=30)
        except requests.RequestException:
            figures.add(failed_other=1)
            return
        if response.status_code == 302 and "/leads/" in response.headers.get("Location", ""):
            figures.add(acknowledged=1)
            with figures.lock:
                figures.acknowledged_tokens.add(data["submission_token"])
        elif response.status_code >= 500:
            figures.add(failed_5xx=1)
        else:
            figures.add(failed_other=1)

    threads = [threading.Thread(target=post) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def volunteer_run(base, email, contact_id, count, offset, figures, stop_at):
    rng = random.Random(offset)
    try:
        session = login(base, email)
    except Exception:
        figures.add(failed_other=count)
        return
    for i in range(count):
        if time.time() > stop_at:
            return
        submit(base, session, contact_id, figures, offset + i, rng)


def conflicts(base: str, reviewers: list[str], figures: Figures, url: str) -> list[int]:
    """Two reviewers decide the same lead at the same moment (accept vs reject); returns the leads used."""
    sessions = [login(base, email) for email in reviewers]
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    with app.app_context():
        lead_ids = db.session.scalars(select(TalentLead.id).where(TalentLead.status == LeadStatus.SUBMITTED)
                                      .order_by(TalentLead.id).limit(CONFLICT_PAIRS)).all()
        db.engine.dispose()
    for lead_id in lead_ids:
        detail = f"{base}/leads/{lead_id}"
        page = sessions[0].get(detail, timeout=30).text
        sessions[0].post(f"{detail}/move", data={"move": "start_review", "version": _version_in(page),
                                                  "csrf_token": _csrf(page)}, timeout=30)
        pages = [session.get(detail, timeout=30).text for session in sessions]  # both see the same version
        results = [None, None]

        def act(which: int, move: str):
            data = {"move": move, "version": _version_in(pages[which]), "csrf_token": _csrf(pages[which]),
                    "comment": "decided at the same moment"}
            results[which] = sessions[which].post(f"{detail}/move", data=data, allow_redirects=False,
                                                  timeout=30).status_code

        threads = [threading.Thread(target=act, args=(0, "accept")), threading.Thread(target=act, args=(1, "reject"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        figures.add(conflict_wins=results.count(302), conflicts_409=results.count(409))
    return lead_ids


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    return match.group(1) if match else ""


def _version_in(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    return match.group(1) if match else "0"


def verify(url: str, figures: Figures, conflict_leads: list[int]) -> dict:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    with app.app_context():
        rows = db.session.execute(select(TalentLead.submission_token, func.count())
                                  .where(TalentLead.summary.like("Reliability lead %"))
                                  .group_by(TalentLead.submission_token)).all()
        per_token = dict(rows)
        stored = sum(per_token.values())
        duplicates = sum(n - 1 for n in per_token.values() if n > 1)
        missing = [t for t in figures.acknowledged_tokens if per_token.get(t, 0) != 1]
        leads = db.session.scalars(select(TalentLead).where(TalentLead.summary.like("Reliability lead %"))).all()
        events = db.session.execute(select(LeadEvent.lead_id, LeadEvent.kind, LeadEvent.to_status, LeadEvent.id)
                                    .order_by(LeadEvent.id)).all()
        created, last_status = set(), {}
        for lead_id, kind, to_status, _id in events:
            if kind == LeadEventKind.CREATED:
                created.add(lead_id)
            if kind == LeadEventKind.STATUS:
                last_status[lead_id] = to_status
        half_written = [lead.id for lead in leads
                        if lead.id not in created or last_status.get(lead.id, LeadStatus.DRAFT) != lead.status]
        conflict_statuses = Counter(db.session.scalars(select(TalentLead.status).where(TalentLead.id.in_(conflict_leads))))
        db.engine.dispose()
    return {"stored": stored, "duplicates": duplicates, "acknowledged_missing": len(missing),
            "half_written": len(half_written), "conflict_statuses": dict(conflict_statuses)}


def run(url: str, label: str) -> tuple[bool, str]:
    people = prepare(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    figures = Figures()
    with tempfile.TemporaryDirectory() as instance:
        gunicorn = start_gunicorn(url, port, instance)
        started = time.time()
        stop_at = started + TIME_LIMIT
        killed = []
        try:
            per_volunteer = SUBMISSIONS // VOLUNTEERS

            def killer():
                while figures.sent < SUBMISSIONS // 3 and time.time() < stop_at:
                    time.sleep(0.2)
                pids = worker_pids(gunicorn.pid)
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])

            kill_thread = threading.Thread(target=killer, daemon=True)
            kill_thread.start()
            with ThreadPoolExecutor(max_workers=VOLUNTEERS) as pool:
                for i, (email, contact_id) in enumerate(people["volunteers"]):
                    pool.submit(volunteer_run, base, email, contact_id, per_volunteer, i * per_volunteer, figures, stop_at)
            kill_thread.join(timeout=5)
            respawned = len(worker_pids(gunicorn.pid))
            conflict_leads = conflicts(base, people["reviewers"], figures, url)
        finally:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        elapsed = time.time() - started
    result = verify(url, figures, conflict_leads)
    ok = (result["duplicates"] == 0 and result["acknowledged_missing"] == 0 and result["half_written"] == 0
          and figures.failed_5xx == 0 and figures.conflicts_409 + figures.conflict_wins == 2 * len(conflict_leads)
          and figures.conflict_wins == len(conflict_leads) and bool(killed) and respawned >= 3)
    lines = [
        f"### {label}",
        "",
        f"- volunteers: {VOLUNTEERS}, forms sent twice at once: {figures.double_sent}, elapsed: {elapsed:.0f} s",
        f"- worker killed with SIGKILL mid-run: {'yes' if killed else 'NO'} (workers afterwards: {respawned})",
        f"- POSTs sent: {figures.sent}",
        f"- acknowledged (2xx/302): {figures.acknowledged}",
        f"- leads stored: {result['stored']} (distinct forms acknowledged: {len(figures.acknowledged_tokens)})",
        f"- acknowledged but not stored exactly once: {result['acknowledged_missing']}",
        f"- duplicates (one form, two leads): {result['duplicates']}",
        f"- half-written leads: {result['half_written']}",
        f"- 5xx: {figures.failed_5xx}; reported to the client as failed (connection cut, timeout): {figures.failed_other}",
        f"- concurrent reviewer pairs: {len(conflict_leads)}; one wins: {figures.conflict_wins}; "
        f"the other gets 409: {figures.conflicts_409}; final statuses: {result['conflict_statuses']}",
        f"- result: {'PASS' if ok else 'FAIL'}",
        "",
    ]
    return ok, "\n".join(lines)


def main() -> int:
    server = os.environ.get("DATABASE_URL", "")
    reports = []
    all_ok = True
    with tempfile.TemporaryDirectory() as tmp:
        if server.startswith("postgres"):
            from tests.conftest import _scratch_postgres

            context, label = _scratch_postgres(server), "PostgreSQL"
        else:
            context, label = nullcontext(f"sqlite:///{tmp}/reliability.sqlite"), "SQLite"
        with context as url:
            ok, report = run(url, label)
    print(report)
    all_ok &= ok
    reports.append(report)
    write_docs(label, report)
    return 0 if all_ok else 1


HEADER = """# Reliability figures

Written by `make reliability` (SQLite) and `DATABASE_URL=postgresql://… make reliability`
(PostgreSQL). Last run: {date}. What the run does is described in `bench/reliability.py`: volunteers
submit leads concurrently through gunicorn's real forms, every tenth form is sent twice at the same
moment, one worker is killed with SIGKILL a third of the way through, then pairs of HQ reviewers
decide the same lead at the same moment.

How to read the figures:

- *acknowledged* counts POSTs answered with the redirect to the lead; both copies of a form sent
  twice are acknowledged, with the same lead. *Distinct forms acknowledged* is the number of forms.
- *leads stored* may exceed the distinct forms acknowledged: a request cut off by the killed
  worker after its commit is stored but reported to the client as failed — the client retries
  with the same form token and gets the same lead. Never the other way round: every acknowledged
  form is stored exactly once.
- *half-written* leads would be leads without their "created" event or whose status disagrees
  with their last status event; a transaction either commits all of it or nothing.
- Of two reviewers deciding at once, one wins and the other gets 409 ("someone else changed this
  lead"): nothing is silently overwritten.

"""


def write_docs(label: str, report: str) -> None:
    path = ROOT / "docs" / "reliability.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    sections = dict(re.findall(r"(### \w+)\n(.*?)(?=\n### |\Z)", text, re.S))
    sections[f"### {label}"] = report.split("\n", 1)[1].strip("\n") + "\n"
    header = HEADER.format(date=time.strftime("%Y-%m-%d"))
    body = "\n".join(f"{name}\n{content}" for name, content in sorted(sections.items()))
    path.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
