"""The benchmark's data: a deterministic (fixed seed) installation of 200 stations, 20,000
contacts and 100,000 leads with a realistic status spread and timelines (``LeadEvent`` rows).

The database is built through the real migrations (``db upgrade heads``: FTS tables, triggers
and indexes exist) and filled with bulk ``insert()`` — which bypasses ORM events, so the columns
those events keep (sort keys, folded search text, short-query keys) are computed here with the
same pure functions the models use.

Built SQLite files are cached under ``instance/bench-cache/`` (``BENCH_CACHE_DIR``), keyed by
``GENERATOR_VERSION``, the migrations and the modules whose functions fill derived columns, so a
rerun starts in seconds. PostgreSQL databases are built fresh (they are scratch databases).
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import inspect, insert, text  # noqa: E402

GENERATOR_VERSION = 8  # 3: contacts carry a lawful basis for passing their profile to HQ; 4: the alliance plugin; 5: demands
# 6: the student-service plugin (students, a roll call); 7: its service requests and internships
# 8: the internships' fields as rows (student_service_programme_fields)
SEED = 20261126
PASSWORD = "bench-password-123"
HQ_EMAIL = "hq@bench.example"
VOLUNTEER_EMAIL = "vol@bench.example"
SIZES = {"large": (200, 20_000, 100_000), "small": (200, 20_000, 1_000)}
NOW = datetime(2026, 11, 1, 8, 0, 0)

REGIONS = [("ASEAN", "ASEAN", "东盟", ["VN", "TH", "ID", "MY", "PH", "SG"]),
           ("EUROPE", "Europe", "欧洲", ["IT", "DE", "FR", "GB", "ES", "NL"]),
           ("AMERICAS", "Americas", "美洲", ["US", "CA", "BR"]),
           ("OCEANIA", "Oceania", "大洋洲", ["AU", "NZ"])]
CITIES = {"VN": ["Hanoi", "Ho Chi Minh City", "Da Nang"], "TH": ["Bangkok", "Chiang Mai"], "ID": ["Jakarta", "Surabaya"],
          "MY": ["Kuala Lumpur", "Penang"], "PH": ["Manila", "Cebu"], "SG": ["Singapore"],
          "IT": ["Milan", "Rome", "Turin"], "DE": ["Berlin", "Munich"], "FR": ["Paris", "Lyon"], "GB": ["London", "Manchester"],
          "ES": ["Madrid", "Barcelona"], "NL": ["Amsterdam", "Delft"], "US": ["Boston", "San Jose"], "CA": ["Toronto", "Vancouver"],
          "BR": ["São Paulo"], "AU": ["Sydney", "Melbourne"], "NZ": ["Auckland"]}
# (latin name, Chinese name or None, name in its own script or None)
SURNAMES_ZH = [("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"), ("Zhao", "赵"),
               ("Huang", "黄"), ("Zhou", "周"), ("Wu", "吴")]
GIVEN_ZH = [("Ming", "明"), ("Wei", "伟"), ("Fang", "芳"), ("Min", "敏"), ("Jing", "静"), ("Lei", "磊"), ("Yan", "燕"),
            ("Jun", "军"), ("Hua", "华"), ("Xin", "欣")]
VIETNAMESE = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Nam", "Phạm Minh Đức", "Nguyễn Thị Hương", "Võ Quốc Bảo"]
THAI = [("Somchai Wongsakul", "สมชาย วงศ์สกุล"), ("Anong Srisuk", "อนงค์ ศรีสุข")]
EUROPEAN = ["Marco Rossi", "Giulia Bianchi", "Anna Müller", "Lukas Schmidt", "Élodie Martin", "Søren Nielsen",
            "José García", "Emma de Vries", "Oliver Smith"]
ORGANISATIONS = ["Politecnico di Milano", "TU Delft", "National University of Singapore", "VinUniversity",
                 "Chulalongkorn University", "Universität München", "Sorbonne", "CATL Europe", "Siemens Energy",
                 "Grab Holdings", "Sea Group", "Fraunhofer Institute", "University of Toronto", "CSIRO"]
FIELDS = ["battery materials", "robotics", "biomedicine", "intelligent manufacturing", "fintech", "agritech",
          "semiconductors", "translation", "fashion design", "new energy vehicles", "AI for healthcare", "water treatment"]
WORDS = ["battery", "robotics", "laboratory", "startup", "patent", "hydrogen", "vaccine", "chip", "drone", "textile",
         "software", "supply chain", "solar", "genomics", "logistics", "design"]
# final status → weight (per 1,000 leads): most leads are still moving through HQ.
STATUS_WEIGHTS = {"draft": 80, "submitted": 140, "under_review": 150, "needs_info": 60, "accepted": 90,
                  "referred": 120, "landed": 90, "rejected": 130, "withdrawn": 60, "closed_lost": 80}
# the path each final status takes through the workflow
PATHS = {
    "draft": ["draft"],
    "submitted": ["draft", "submitted"],
    "under_review": ["draft", "submitted", "under_review"],
    "needs_info": ["draft", "submitted", "under_review", "needs_info"],
    "accepted": ["draft", "submitted", "under_review", "accepted"],
    "referred": ["draft", "submitted", "under_review", "accepted", "referred"],
    "landed": ["draft", "submitted", "under_review", "accepted", "referred", "landed"],
    "rejected": ["draft", "submitted", "under_review", "rejected"],
    "withdrawn": ["draft", "submitted", "withdrawn"],
    "closed_lost": ["draft", "submitted", "under_review", "accepted", "closed_lost"],
}
HQ_MOVES = {"under_review", "needs_info", "accepted", "referred", "landed", "rejected", "closed_lost"}


def cache_dir() -> Path:
    return Path(os.environ.get("BENCH_CACHE_DIR") or ROOT / "instance" / "bench-cache")


def migration_heads() -> list[str]:
    """The Alembic heads (core and plugin branches), read from the revision files."""
    revisions, parents = set(), set()
    files = list(ROOT.glob("migrations/versions/*.py")) + list(ROOT.glob("plugins/*/migrations/*.py"))
    for path in files:
        source = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*['\"]([^'\"]+)", source, re.M)
        if revision:
            revisions.add(revision.group(1))
        down = re.search(r"^down_revision\s*=\s*(.+)$", source, re.M)
        if down:
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return sorted(revisions - parents)


def migrations_digest() -> str:
    """The content of every revision file: an index added to an unreleased revision changes no
    head and no column, yet the cached database must be rebuilt with it."""
    files = sorted(list(ROOT.glob("migrations/versions/*.py")) + list(ROOT.glob("plugins/*/migrations/*.py")))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key() -> str:
    """GENERATOR_VERSION, the migration heads and revision files, the core tables' columns (a
    column added to a placeholder revision changes no head) and which derived-column helpers exist."""
    from liaison import search
    from liaison.models import db

    from importlib.metadata import entry_points

    # Core tables only: plugins add theirs to the metadata once an app has been created here.
    plugins = tuple(e.name for e in entry_points(group="liaison.plugins"))
    tables = sorted((t.name, tuple(sorted(t.c.keys()))) for t in db.metadata.tables.values()
                    if not t.name.startswith(plugins))
    helpers = [hasattr(search, name) for name in ("lead_search_text", "contact_search_text", "contact_search_keys")]
    digest = hashlib.sha256(repr((GENERATOR_VERSION, migration_heads(), migrations_digest(), tables, helpers)).encode())
    return digest.hexdigest()[:16]


def sqlite_database(size: str, log=print) -> Path:
    """The cached SQLite file for ``size`` ("large" or "small"), built when missing."""
    path = cache_dir() / f"{size}-{cache_key()}.sqlite"
    if path.exists():
        log(f"{size} database: cached {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"{size}-*"):  # an older generator's or schema's file
        old.unlink(missing_ok=True)
    building = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(building) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    build(f"sqlite:///{building}", size)
    for suffix in ("-wal", "-shm"):
        Path(str(building) + suffix).unlink(missing_ok=True)
    os.replace(building, path)
    log(f"{size} database: built in {time.perf_counter() - started:.0f} s → {path}")
    return path


def working_copy(path: Path, directory: str) -> Path:
    """A copy to run against (the lead submissions write to it); the cache stays untouched."""
    target = Path(directory) / path.name
    shutil.copyfile(path, target)
    return target


def build(url: str, size: str) -> None:
    from flask_migrate import upgrade

    from liaison import create_app
    from liaison.models import db

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url,
                      "PASSWORD_HASH_METHOD": "scrypt", "BABEL_DEFAULT_LOCALE": "en"})
    with app.app_context():
        upgrade(revision="heads")
        populate(*SIZES[size])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection closed: SQLite checkpoints and drops the WAL


def _only_columns(model_or_table, rows: list[dict]) -> list[dict]:
    """Keep the keys that are columns today (the models change; the generator need not)."""
    table = getattr(model_or_table, "__table__", model_or_table)
    names = set(table.c.keys())
    return [{k: v for k, v in row.items() if k in names} for row in rows]


def _insert(model_or_table, rows: list[dict], chunk: int = 5000) -> None:
    from liaison.models import db

    rows = _only_columns(model_or_table, rows)
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model_or_table), rows[start:start + chunk])


BENCH_TAGS = ["PhD", "returnee", "salon 2024", "AI", "new energy", "alumni"]


def populate(stations: int, contacts: int, leads: int) -> None:
    from liaison import search
    from liaison.models import (
        Contact, LeadEvent, Region, Role, Station, TalentLead, User, db, station_membership,
    )
    from liaison.models import base as model_base

    rng = random.Random(SEED)
    sort_key = getattr(model_base, "sort_key", None)
    columns = {model: set(model.__table__.c.keys()) for model in (Contact, TalentLead, Station)}

    _insert(Region, [{"code": code, "name": name, "name_zh": zh, "created_at": NOW, "updated_at": NOW}
                     for code, name, zh, _ in REGIONS])
    station_rows = []
    for i in range(stations):
        region_index = i % len(REGIONS)
        country = REGIONS[region_index][3][(i // len(REGIONS)) % len(REGIONS[region_index][3])]
        city = CITIES[country][i % len(CITIES[country])]
        name = f"{city} Liaison Station {i + 1}"
        station_rows.append({
            "name": name, "name_zh": f"{city}联络站{i + 1}", "country": country, "city": city,
            "region_id": region_index + 1, "host_organisation": f"{city} Chinese Association",
            "host_kind": "chinese_association", "status": "active", "created_at": NOW, "updated_at": NOW,
            "sort_key": sort_key(f"{city}联络站{i + 1}") if sort_key else "",
        })
    _insert(Station, station_rows)
    db.session.flush()
    hq = User(email=HQ_EMAIL, name="HQ Reviewer", role=Role.HQ_REVIEWER)
    hq2 = User(email="hq2@bench.example", name="Second Reviewer", role=Role.HQ_REVIEWER)
    volunteer = User(email=VOLUNTEER_EMAIL, name="Volunteer", role=Role.VOLUNTEER)
    for user in (hq, hq2, volunteer):
        user.set_password(PASSWORD)
        db.session.add(user)
    db.session.flush()
    db.session.execute(insert(station_membership), [{"user_id": volunteer.id, "station_id": 1},
                                                    {"user_id": volunteer.id, "station_id": 2}])
    reviewers = [hq.id, hq2.id]

    contact_rows, key_rows, tag_rows = [], [], []
    tag_rng = random.Random(7)  # its own generator: the rest of the data stays as it was
    for i in range(contacts):
        station_id = 1 + i % stations
        kind_pick = rng.random()
        name_zh = name_original = None
        if kind_pick < 0.45:
            (s_latin, s_zh), (g_latin, g_zh) = rng.choice(SURNAMES_ZH), rng.choice(GIVEN_ZH)
            name, name_zh = f"{s_latin} {g_latin}", s_zh + g_zh
        elif kind_pick < 0.65:
            name = rng.choice(VIETNAMESE)
        elif kind_pick < 0.72:
            name, name_original = rng.choice(THAI)
        else:
            name = rng.choice(EUROPEAN)
        name = f"{name} {i + 1}" if not name_zh else name
        organisation = rng.choice(ORGANISATIONS)
        email = f"contact{i + 1}@example.org"
        row = {"station_id": station_id, "kind": rng.choice(["scholar", "researcher", "entrepreneur", "professional", "student"]),
               "name": name, "name_zh": name_zh, "name_original": name_original, "organisation": organisation,
               "field": rng.choice(FIELDS), "email": email, "email_normalized": email,
               "country": rng.choice(sum((r[3] for r in REGIONS), [])), "created_at": NOW - timedelta(days=rng.randint(30, 1600)),
               "updated_at": NOW, "created_by_id": volunteer.id}
        if "sort_key" in columns[Contact] and sort_key:
            row["sort_key"] = sort_key(name_zh or name)
        if "search_text" in columns[Contact] and hasattr(search, "contact_search_text"):
            row["search_text"] = search.contact_search_text(name, name_zh, name_original, organisation, email)
        if hasattr(search, "contact_search_keys"):
            key_rows += [{"contact_id": i + 1, "key": key}
                         for key in search.contact_search_keys(name, name_zh, name_original, organisation)]
        contact_rows.append(row)
        if i % 3 == 0:  # a third of the contacts carry one or two tags (rows of contact_tags)
            tag_rows += [{"contact_id": i + 1, "tag": tag, "position": p}
                         for p, tag in enumerate(tag_rng.sample(BENCH_TAGS, tag_rng.randint(1, 2)))]
    _insert(Contact, contact_rows)
    tags_table = db.metadata.tables.get("contact_tags")
    if tags_table is not None and tag_rows and tags_table.name in inspect(db.session.connection()).get_table_names():
        _insert(tags_table, tag_rows)
    keys_table = db.metadata.tables.get("contact_search_keys")
    if keys_table is not None and key_rows and keys_table.name in inspect(db.session.connection()).get_table_names():
        _insert(keys_table, key_rows)
    del contact_rows, key_rows, tag_rows

    # Every contact agreed to its profile going to HQ (a lead cannot be submitted without it:
    # liaison.privacy.consent); rows of contact_consents, when the table exists.
    consents_table = db.metadata.tables.get("contact_consents")
    if consents_table is not None and consents_table.name in inspect(db.session.connection()).get_table_names():
        _insert(consents_table, [{"contact_id": i + 1, "purpose": "pass_to_hq", "basis": "consent", "source": "form",
                                  "given_on": (NOW - timedelta(days=1700)).date(), "recorded_by_id": volunteer.id,
                                  "recorded_at": NOW} for i in range(contacts)])

    statuses, weights = zip(*STATUS_WEIGHTS.items())
    lead_rows, event_rows = [], []
    for i in range(leads):
        lead_id = i + 1
        contact = rng.randrange(contacts)
        final = rng.choices(statuses, weights)[0]
        if i < 4 * len(statuses):
            # The volunteer's two stations get every status a few times over, at any size: their
            # pages show the same kinds of rows at 1,000 leads as at 100,000.
            contact, final = (i % 2) + rng.randrange(contacts // stations) * stations, statuses[(i // 2) % len(statuses)]
        station_id = 1 + contact % stations
        created = NOW - timedelta(days=rng.randint(1, 1500), minutes=rng.randint(0, 1439))
        field = rng.choice(FIELDS)
        summary = (f"{rng.choice(['Researcher', 'Engineer', 'Founder', 'Professor', 'Designer'])} in {field}, "
                   f"interested in {rng.choice(WORDS)} and {rng.choice(WORDS)}; lead {lead_id}.")
        path = PATHS[final]
        when = created
        events = [{"lead_id": lead_id, "actor_id": volunteer.id, "kind": "created", "to_status": "draft",
                   "created_at": when}]
        submitted_at = None
        reviewer = rng.choice(reviewers) if len(path) > 2 or rng.random() < 0.5 else None
        if reviewer and len(path) > 2:
            events.append({"lead_id": lead_id, "actor_id": reviewer, "kind": "assigned", "created_at": when,
                           "text": "HQ Reviewer"})
        for previous, status in zip(path, path[1:]):
            when = when + timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
            actor = reviewer or reviewers[0] if status in HQ_MOVES else volunteer.id
            events.append({"lead_id": lead_id, "actor_id": actor, "kind": "status", "from_status": previous,
                           "to_status": status, "created_at": when,
                           "text": "Please add the CV." if status in ("needs_info", "rejected", "closed_lost") else None})
            if status == "submitted" and submitted_at is None:
                submitted_at = when
        if rng.random() < 0.3:
            when = when + timedelta(hours=rng.randint(1, 48))
            events.append({"lead_id": lead_id, "actor_id": volunteer.id, "kind": "comment", "created_at": when,
                           "text": "Met again at the association's dinner."})
        row = {"contact_id": contact + 1, "station_id": station_id, "submitter_id": volunteer.id,
               "category": rng.choice(["return_startup", "employment", "flexible", "project", "expert_pool", "internship", "referral"]),
               "field": field, "summary": summary, "wants": "A lab and housing support." if rng.random() < 0.5 else None,
               "priority": rng.choice([1, 2, 2, 2, 3, 3, 4]), "status": final, "reviewer_id": reviewer,
               "submitted_at": submitted_at, "status_changed_at": when, "created_at": created, "updated_at": when,
               "version": len(events),
               "referral_target": "Hangzhou talent office" if final in ("referred", "landed") else None,
               "landed_on": when.date() if final == "landed" else None,
               "landing_kind": "hired" if final == "landed" else None}
        if "search_text" in columns[TalentLead] and hasattr(search, "lead_search_text"):
            row["search_text"] = search.lead_search_text(summary, field)
        lead_rows.append(row)
        for event in events:
            event.setdefault("from_status", None)
            event.setdefault("to_status", None)
            event.setdefault("text", None)
        event_rows += events
        if len(lead_rows) >= 20_000:
            _insert(TalentLead, lead_rows)
            _insert(LeadEvent, event_rows)
            lead_rows, event_rows = [], []
    _insert(TalentLead, lead_rows)
    _insert(LeadEvent, event_rows)
    db.session.commit()
    populate_skills_alliance(stations)
    populate_demands(stations)
    populate_events(stations)
    populate_student_service(stations)


def populate_events(stations: int) -> None:
    """Events (liaison.events): three per station over the last two years, each organised by its
    station; the first event has 60 people (invited, registered, attended and walk-ins)."""
    from datetime import timedelta

    from sqlalchemy import select

    from liaison.events.kinds import CORE_KINDS
    from liaison.events.models import Event, EventRegistration, EventStation
    from liaison.models import Station, db
    from liaison.search import fold

    station_ids = list(db.session.scalars(select(Station.id).order_by(Station.id)))[:stations]
    statuses = ["planned", "registration_open", "held", "figures_recorded", "cancelled"]
    events = []
    for n, station_id in enumerate(station_ids * 3, start=1):
        starts = NOW - timedelta(days=n * 2)
        events.append({"slug": f"bench-event-{n}", "kind": CORE_KINDS[n % len(CORE_KINDS)].name,
                       "organiser": "stations", "title": f"Talent salon {n}", "title_zh": f"人才沙龙{n}",
                       "starts_at": starts, "ends_at": starts + timedelta(hours=3), "timezone": "Europe/Rome",
                       "city": "Milan", "capacity": 100, "seats_taken": 0, "status": statuses[n % len(statuses)],
                       "participants": 20 + n % 30 if n % 5 == 3 else None, "version": 1,
                       "created_at": starts, "updated_at": starts, "_station": station_id})
    _insert(Event, [{k: v for k, v in e.items() if k != "_station"} for e in events])
    ids = dict(db.session.execute(select(Event.slug, Event.id).where(Event.slug.like("bench-event-%"))).all())
    _insert(EventStation, [{"event_id": ids[e["slug"]], "station_id": e["_station"]} for e in events])
    first = ids["bench-event-1"]
    people = []
    for k in range(60):
        status = ["invited", "registered", "attended", "declined"][k % 4]
        name = f"Guest {k} Nguyen"
        people.append({"event_id": first, "token": f"bench-registration-{k}", "status": status,
                       "source": "walk_in" if k % 10 == 9 else ("invitation" if k % 2 else "public"),
                       "name": name, "email": f"guest{k}@example.org", "email_normalized": f"guest{k}@example.org",
                       "search_text": fold(name), "sort_name": fold(name), "created_at": NOW})
    _insert(EventRegistration, people)
    db.session.commit()


def populate_skills_alliance(stations: int) -> None:
    """The skills-talent alliance plugin switched on everywhere: per station two members, a
    framework agreement between them with three milestones (one overdue), two recognitions."""
    from datetime import timedelta

    from liaison.models import PluginScope, db
    from liaison.search import fold
    from plugins.skills_alliance import models as sa

    today = NOW.date()
    _insert(PluginScope, [{"plugin": "skills_alliance", "scope_key": "global", "enabled": True, "settings": {},
                           "updated_at": NOW}])
    kinds, countries = ["technician_college", "enterprise", "hr_agency", "vocational_school"], ["CN", "RU", "JP", "SG"]
    members, agreements, parties, areas, milestones, recognitions = [], [], [], [], [], []
    for station in range(1, stations + 1):
        for n in (0, 1):
            i = 2 * station + n - 1
            members.append({"id": i, "station_id": station, "name": f"Member college {i}", "name_zh": f"成员单位{i}",
                            "country": countries[i % 4], "kind": kinds[i % 4], "joined_on": today - timedelta(days=i % 700),
                            "certificate_no": f"BENCH-{i:06d}", "status": "active", "created_at": NOW, "updated_at": NOW})
        signed = today - timedelta(days=station % 600)
        agreements.append({"id": station, "station_id": station, "title": f"Framework agreement {station}",
                           "kind": "school_school" if station % 2 else "school_enterprise", "status": "in_force",
                           "status_since": signed, "signed_on": signed, "valid_until": signed + timedelta(days=1095),
                           "version": 1, "created_at": NOW, "updated_at": NOW})
        parties += [{"agreement_id": station, "member_id": 2 * station - 1}, {"agreement_id": station, "member_id": 2 * station}]
        areas.append({"agreement_id": station, "area": "visits" if station % 2 else "internships"})
        for k, due in enumerate((-30, 10, 60)):
            milestones.append({"agreement_id": station, "title": f"Milestone {k}", "due_on": today + timedelta(days=due),
                               "done_on": None, "created_at": NOW})
        for k in (0, 1):
            original, zh, domestic = f"Certificate {station}-{k}", f"证书{station}-{k}", f"工种{station}"
            recognitions.append({"station_id": station, "issuing_country": countries[(station + k) % 4],
                                 "issuing_body": "Issuing body", "name_original": original, "name_zh": zh,
                                 "domestic_kind": "qualification", "domestic_name": domestic, "domestic_level": "senior",
                                 "source_document": "Recognition list", "source_date": today - timedelta(days=400),
                                 "search_text": "\n".join(fold(x) for x in (original, zh, "Issuing body", domestic)),
                                 "created_at": NOW, "updated_at": NOW})
    _insert(sa.Member, members)
    _insert(sa.Agreement, agreements)
    _insert(sa.Party, parties)
    _insert(sa.AgreementArea, areas)
    _insert(sa.Milestone, milestones)
    _insert(sa.Recognition, recognitions)
    db.session.commit()


def populate_demands(stations: int) -> None:
    """Demands from home (liaison.demands): five per station, each with one or two fields and one
    target region, in every kind and status."""
    from datetime import timedelta

    from sqlalchemy import select

    from liaison.demands.models import Demand, DemandField, DemandKind, DemandRegion, DemandStatus
    from liaison.models import Region, db
    from liaison.search import fold

    kinds, statuses = [k.value for k in DemandKind], [s.value for s in DemandStatus]
    regions = list(db.session.scalars(select(Region.id).order_by(Region.id)))
    fields = ["new-energy vehicles", "battery", "intelligent manufacturing", "fashion design", "digital economy",
              "biomedicine", "新能源汽车", "vocational education"]
    count, demands, chosen_fields = stations * 5, [], []
    for i in range(1, count + 1):
        title, organisation = f"Demand {i}: engineers wanted", f"Wenzhou enterprise {i}"
        chosen = list(dict.fromkeys([fields[i % len(fields)], fields[(i * 3 + 1) % len(fields)]]))
        chosen_fields.append(chosen)
        created = NOW - timedelta(hours=i)
        demands.append({"title": title, "organisation": organisation, "source_kind": "enterprise",
                        "city": "Wenzhou", "kind": kinds[i % len(kinds)], "requirements": "Five years of experience.",
                        "status": statuses[i % len(statuses)], "status_changed_at": created, "version": 1,
                        "search_text": "\n".join(fold(x) for x in (title, organisation, "Wenzhou", *chosen)),
                        "created_at": created, "updated_at": created})
    _insert(Demand, demands)
    ids = list(db.session.scalars(select(Demand.id).order_by(Demand.id.desc()).limit(count)))[::-1]
    _insert(DemandField, [{"demand_id": demand_id, "field": f, "folded": fold(f), "position": n}
                          for demand_id, chosen in zip(ids, chosen_fields) for n, f in enumerate(chosen)])
    _insert(DemandRegion, [{"demand_id": demand_id, "region_id": regions[k % len(regions)]}
                           for k, demand_id in enumerate(ids)])
    db.session.commit()


def populate_student_service(stations: int) -> None:
    """The student-service plugin switched on everywhere: four student contacts per station (on
    average) followed as students where their station is, in every stage; one open roll call for
    the first station's country with an entry per student there, in every mark."""
    from datetime import timedelta

    from sqlalchemy import select

    from liaison.models import Contact, PluginScope, Station, db
    from plugins.student_service import models as ss
    from plugins.student_service.choices import Mark, Stage

    today = NOW.date()
    _insert(PluginScope, [{"plugin": "student_service", "scope_key": "global", "enabled": True, "settings": {},
                           "updated_at": NOW}])
    picked = db.session.execute(
        select(Contact.id, Contact.station_id, Station.country, Station.city)
        .join(Station, Station.id == Contact.station_id)
        .where(Contact.kind == "student").order_by(Contact.id).limit(stations * 4)).all()
    stages, fields = [s.value for s in Stage], ["battery materials", "fashion design", "AI", "biomedicine"]
    students = []
    for i, (contact_id, station_id, country, city) in enumerate(picked):
        students.append({"contact_id": contact_id, "station_id": station_id, "school": f"University {i % 50}",
                         "field": fields[i % len(fields)], "level": "master", "country": country, "city": city,
                         "stage": stages[i % len(stages)], "stage_since": today - timedelta(days=i % 900),
                         "version": 1, "created_at": NOW, "updated_at": NOW})
    _insert(ss.Student, students)
    if picked:
        country = picked[0][2]
        _insert(ss.RollCall, [{"title": "Bench roll call", "country": country, "reason": "Floods",
                               "opened_at": NOW - timedelta(hours=6)}])
        roll_call = db.session.scalar(select(ss.RollCall.id).where(ss.RollCall.title == "Bench roll call"))
        marks = [m.value for m in Mark]
        there = db.session.execute(select(ss.Student.id, ss.Student.station_id).where(ss.Student.country == country)
                                   .order_by(ss.Student.id)).all()
        _insert(ss.RollCallEntry, [{"roll_call_id": roll_call, "student_id": sid, "station_id": station_id,
                                    "mark": marks[k % len(marks)],
                                    "marked_at": None if k % len(marks) == 0 else NOW - timedelta(minutes=k)}
                                   for k, (sid, station_id) in enumerate(there)])
    # Service requests: one per student, in every status, a quarter of the open ones past due; and
    # three internships (fields the students study) with an application from every tenth student.
    from plugins.student_service.choices import RequestStatus, ServiceKind

    kinds, statuses = [k.value for k in ServiceKind], [s.value for s in RequestStatus]
    rows = db.session.execute(select(ss.Student.id, ss.Student.station_id).order_by(ss.Student.id)).all()
    _insert(ss.ServiceRequest, [{"student_id": sid, "station_id": station_id, "kind": kinds[k % len(kinds)],
                                 "summary": f"Service request {k}", "status": statuses[k % len(statuses)],
                                 "due_on": today + timedelta(days=(k % 8) * 7 - 14), "version": 1,
                                 "created_at": NOW, "updated_at": NOW} for k, (sid, station_id) in enumerate(rows)])
    _insert(ss.Programme, [{"kind": "internship", "title": f"Summer internship {n}", "year": today.year, "places": 50,
                            "host": f"Host enterprise {n}", "created_at": NOW} for n in range(3)])
    programme_ids = db.session.scalars(select(ss.Programme.id).order_by(ss.Programme.id)).all()
    _insert(ss.ProgrammeField, [{"programme_id": pid, "field": value, "position": position}
                                for n, pid in enumerate(programme_ids)
                                for position, value in enumerate(dict.fromkeys(fields[n:n + 2]))])
    programme = programme_ids[0]
    _insert(ss.Application, [{"programme_id": programme, "student_id": sid, "station_id": station_id,
                              "status": "applied", "created_at": NOW} for sid, station_id in rows[::10]])
    db.session.commit()


def postgres_database(server_url: str, size: str, log=print):
    """A context manager: a scratch PostgreSQL database holding the same rows as the cached
    SQLite file of ``size`` (migrated by the real migrations, then filled with ``COPY``: seconds,
    where generating the data again would take minutes), dropped afterwards."""
    from contextlib import contextmanager

    from tests.conftest import _scratch_postgres

    @contextmanager
    def _database():
        source = sqlite_database(size, log=log)
        with _scratch_postgres(server_url) as url:
            started = time.perf_counter()
            copy_into_postgres(source, url)
            log(f"{size} database: copied into a scratch PostgreSQL database in {time.perf_counter() - started:.0f} s")
            yield url

    return _database()


def copy_into_postgres(source: Path, url: str) -> None:
    import sqlite3

    import psycopg
    from flask_migrate import upgrade

    from liaison import create_app
    from liaison.models import db

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    with app.app_context():
        upgrade(revision="heads")
        order = [t.name for t in db.metadata.sorted_tables]
        target_tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    plain_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    reader = sqlite3.connect(source)
    source_tables = {row[0] for row in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    with psycopg.connect(plain_url) as connection:
        for table in order:
            if table not in source_tables or table not in target_tables or table == "alembic_version":
                continue
            target_columns = {row[0] for row in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))}
            columns = [row[1] for row in reader.execute(f'PRAGMA table_info("{table}")') if row[1] in target_columns]
            quoted = ", ".join(f'"{c}"' for c in columns)
            with connection.cursor().copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in reader.execute(f'SELECT {quoted} FROM "{table}"'):
                    copy.write_row(row)
            if "id" in columns:
                connection.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                   f'coalesce((SELECT max(id) FROM "{table}"), 1))')
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")
    reader.close()


if __name__ == "__main__":
    for name in sys.argv[1:] or ["small", "large"]:
        sqlite_database(name)
