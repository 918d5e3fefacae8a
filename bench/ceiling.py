"""The ceiling: what Flask itself does on this machine with the same data.

A minimal Flask app — no ORM, no plugins, no log-in, no forms — that runs the equivalent SQL of
each page the benchmark measures (the same rows, the same counts, the same indexes) straight
through ``sqlite3`` or ``psycopg`` and renders a table of those rows with Jinja. ``bench/run.py``
serves it under gunicorn with the app's own ``gunicorn.conf.py`` and divides our figures by its.

``BENCH_CEILING_DB``: a SQLite file path, or a ``postgresql://`` URL.
"""
from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timezone

from flask import Flask, abort, redirect, render_template_string, request

DATABASE = os.environ.get("BENCH_CEILING_DB", "")
POSTGRES = DATABASE.startswith("postgres")
_local = threading.local()

app = Flask(__name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1>
{% if counts %}<ul>{% for status, n in counts %}<li>{{ status }}: {{ n }}</li>{% endfor %}</ul>{% endif %}
{% for heading, columns, rows in tables %}<h2>{{ heading }}</h2>
<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for value in row %}<td>{{ value if value is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% endfor %}
{% if next_url %}<a href="{{ next_url }}" rel="next">next</a>{% endif %}
</body></html>"""

LEAD_COLUMNS = "l.id, l.summary, l.status, l.priority, l.category, l.submitted_at, l.updated_at, c.name, c.name_zh, s.name"
LEAD_JOINS = "FROM leads l JOIN contacts c ON c.id = l.contact_id JOIN stations s ON s.id = l.station_id"
LEAD_HEADINGS = ["#", "summary", "status", "priority", "category", "submitted", "updated", "contact", "中文名", "station"]


def _connection():
    connection = getattr(_local, "connection", None)
    if connection is None:
        if POSTGRES:
            import psycopg

            connection = psycopg.connect(DATABASE, autocommit=True)
        else:
            import sqlite3

            connection = sqlite3.connect(DATABASE, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 30000")
        _local.connection = connection
    return connection


def query(sql: str, params: tuple = ()) -> list[tuple]:
    if POSTGRES:
        sql = sql.replace("?", "%s")
    return list(_connection().execute(sql, params).fetchall())


def _has_fts() -> bool:
    if POSTGRES:
        return bool(query("SELECT 1 FROM information_schema.columns WHERE table_name = 'leads' AND column_name = 'search_text'"))
    return bool(query("SELECT 1 FROM sqlite_master WHERE name = 'leads_fts'"))


def _has_search_text() -> bool:
    if getattr(_local, "search_text", None) is None:
        if POSTGRES:
            found = query("SELECT 1 FROM information_schema.columns WHERE table_name = 'leads' AND column_name = 'search_text'")
        else:
            found = [r for r in query("PRAGMA table_info(leads)") if r[1] == "search_text"]
        _local.search_text = bool(found)
    return _local.search_text


def _lead_ids_matching(q: str) -> tuple[str, tuple]:
    """The same search the app runs: the lead's own text or its contact's, through the indexes."""
    folded = q.casefold()
    if not getattr(_local, "fts", None):
        _local.fts = "yes" if _has_fts() else "no"
    if _local.fts == "no":
        pattern = f"%{folded}%"
        return ("l.id IN (SELECT id FROM leads WHERE lower(summary) LIKE ? UNION "
                "SELECT leads.id FROM leads JOIN contacts ON contacts.id = leads.contact_id WHERE lower(contacts.name) LIKE ?)",
                (pattern, pattern))
    if POSTGRES:
        pattern = f"%{folded}%"
        return ("l.id IN (SELECT id FROM leads WHERE search_text LIKE ? UNION SELECT leads.id FROM leads "
                "WHERE leads.contact_id IN (SELECT id FROM contacts WHERE search_text LIKE ?))", (pattern, pattern))
    phrase = '"' + folded.replace('"', '""') + '"'
    return ("l.id IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ? UNION SELECT leads.id FROM leads "
            "WHERE leads.contact_id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?))", (phrase, phrase))


def _status_counts(where: str = "", params: tuple = ()) -> list[tuple]:
    return query(f"SELECT status, count(*) FROM leads {where} GROUP BY status ORDER BY status", params)


@app.route("/queue")
def queue():
    """The review queue: newest submitted first, 50 rows, the status counts; filters and the
    keyset seek (``after_submitted``, ``after_id``) or an ``offset`` for the deep page."""
    where, params = ["l.status != 'draft'"], []
    if request.args.get("status"):
        where.append("l.status = ?")
        params.append(request.args["status"])
    if request.args.get("region"):
        where.append("s.region_id = (SELECT id FROM regions WHERE code = ?)")
        params.append(request.args["region"])
    if request.args.get("q"):
        condition, values = _lead_ids_matching(request.args["q"])
        where.append(condition)
        params += values
    if request.args.get("after_id"):
        where.append("(l.submitted_at, l.id) < (?, ?)")  # a row value: the index seeks to it
        params += [request.args["after_submitted"], int(request.args["after_id"])]
    offset = int(request.args.get("offset", 0))
    rows = query(f"SELECT {LEAD_COLUMNS} {LEAD_JOINS} WHERE {' AND '.join(where)} "
                 f"ORDER BY l.submitted_at DESC, l.id DESC LIMIT 51 OFFSET {offset}", tuple(params))
    return render_template_string(PAGE, title="Queue", counts=_status_counts(),
                                  tables=[("Leads", LEAD_HEADINGS, rows[:50])],
                                  next_url=f"/queue?after_id={rows[49][0]}" if len(rows) > 50 else None)


@app.route("/lead/<int:lead_id>")
def lead(lead_id: int):
    rows = query("SELECT l.id, l.summary, l.field, l.wants, l.offer, l.status, l.priority, l.category, l.submitted_at, "
                 "l.referral_target, l.landed_on, c.name, c.name_zh, c.organisation, s.name, r.name, sub.name, rev.name "
                 "FROM leads l JOIN contacts c ON c.id = l.contact_id JOIN stations s ON s.id = l.station_id "
                 "JOIN regions r ON r.id = s.region_id LEFT JOIN users sub ON sub.id = l.submitter_id "
                 "LEFT JOIN users rev ON rev.id = l.reviewer_id WHERE l.id = ?", (lead_id,))
    if not rows:
        abort(404)
    events = query("SELECT e.created_at, e.kind, e.from_status, e.to_status, e.text, u.name FROM lead_events e "
                   "LEFT JOIN users u ON u.id = e.actor_id WHERE e.lead_id = ? ORDER BY e.id", (lead_id,))
    return render_template_string(PAGE, title=f"Lead {lead_id}", counts=None, next_url=None, tables=[
        ("Lead", ["#", "summary", "field", "wants", "offer", "status", "priority", "category", "submitted",
                  "referred to", "landed", "contact", "中文名", "organisation", "station", "region", "by", "reviewer"], rows),
        ("Timeline", ["when", "kind", "from", "to", "text", "who"], events)])


@app.route("/contacts")
def contacts():
    where, params = "", ()
    if request.args.get("q"):
        folded = request.args["q"].casefold()
        if POSTGRES:
            where, params = "WHERE c.search_text LIKE ?", (f"%{folded}%",)
        else:
            where, params = "WHERE c.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?)", (f'"{folded}"',)
    rows = query("SELECT c.id, c.name, c.name_zh, c.organisation, c.kind, c.country, s.name FROM contacts c "
                 f"JOIN stations s ON s.id = c.station_id {where} ORDER BY c.sort_key, c.id LIMIT 26", params)
    return render_template_string(PAGE, title="Contacts", counts=None, next_url=None,
                                  tables=[("Contacts", ["#", "name", "中文名", "organisation", "kind", "country", "station"], rows[:25])])


@app.route("/alliance")
def alliance():
    """The skills-alliance plugin's agreement list (a page of 25 with parties and areas) or, with
    ``q``, its recognition catalogue searched in the folded text."""
    if request.args.get("q"):
        rows = query("SELECT r.id, r.name_zh, r.name_original, r.issuing_body, r.domestic_name FROM "
                     "skills_alliance_recognitions r WHERE r.search_text LIKE ? "
                     "ORDER BY r.issuing_country, r.name_zh, r.id LIMIT 25", (f"%{request.args['q'].casefold()}%",))
        return render_template_string(PAGE, title="Recognitions", counts=None, next_url=None,
                                      tables=[("Recognitions", ["#", "中文名", "name", "body", "domestic"], rows)])
    agreements = query("SELECT a.id, a.title, a.kind, a.status, a.valid_until, s.name FROM skills_alliance_agreements a "
                       "JOIN stations s ON s.id = a.station_id ORDER BY a.updated_at DESC, a.id DESC LIMIT 25")
    ids = _in([row[0] for row in agreements])
    parties = query(f"SELECT p.agreement_id, m.name FROM skills_alliance_parties p JOIN skills_alliance_members m "
                    f"ON m.id = p.member_id WHERE p.agreement_id IN ({ids})") if agreements else []
    count = query("SELECT count(*) FROM skills_alliance_agreements")
    return render_template_string(PAGE, title="Agreements", counts=[("agreements", count[0][0])], next_url=None,
                                  tables=[("Agreements", ["#", "title", "kind", "status", "valid until", "station"],
                                           agreements), ("Parties", ["agreement", "member"], parties)])


@app.route("/alliance-members")
def alliance_members():
    """The skills-alliance plugin's member list: a page of 25 by country and name, the count, and
    the countries for the filter (one DISTINCT)."""
    rows = query("SELECT m.id, m.name, m.name_zh, m.country, m.kind, m.certificate_no, m.joined_on, m.status "
                 "FROM skills_alliance_members m ORDER BY m.country, m.name, m.id LIMIT 25")
    count = query("SELECT count(*) FROM skills_alliance_members")
    countries = query("SELECT DISTINCT country FROM skills_alliance_members")
    return render_template_string(PAGE, title="Members", counts=[("members", count[0][0])], next_url=None,
                                  tables=[("Members", ["#", "name", "中文名", "country", "kind", "certificate", "joined",
                                                       "status"], rows), ("Countries", ["country"], countries)])


@app.route("/agreement/<int:agreement_id>")
def agreement(agreement_id: int):
    """An agreement's page: the agreement and its station, its parties (with the members), areas,
    documents, milestones and timeline (with each line's actor) — one query each."""
    rows = query("SELECT a.id, a.title, a.kind, a.status, a.status_since, a.signed_on, a.valid_until, a.notes, "
                 "a.version, s.name FROM skills_alliance_agreements a JOIN stations s ON s.id = a.station_id "
                 "WHERE a.id = ?", (agreement_id,))
    if not rows:
        abort(404)
    parties = query("SELECT p.id, m.id, m.name, m.name_zh, p.home_institution FROM skills_alliance_parties p "
                    "LEFT JOIN skills_alliance_members m ON m.id = p.member_id WHERE p.agreement_id = ? ORDER BY p.id",
                    (agreement_id,))
    areas = query("SELECT area FROM skills_alliance_areas WHERE agreement_id = ? ORDER BY area", (agreement_id,))
    documents = query("SELECT id, kind, title, signed_on, url FROM skills_alliance_documents WHERE agreement_id = ? "
                      "ORDER BY id", (agreement_id,))
    milestones = query("SELECT id, title, due_on, done_on FROM skills_alliance_milestones WHERE agreement_id = ? "
                       "ORDER BY due_on, id", (agreement_id,))
    events = query("SELECT e.id, e.happened_on, e.kind, e.from_status, e.to_status, e.text, u.name "
                   "FROM skills_alliance_events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.agreement_id = ? "
                   "ORDER BY e.happened_on, e.id", (agreement_id,))
    return render_template_string(PAGE, title="Agreement", counts=None, next_url=None, tables=[
        ("Agreement", ["#", "title", "kind", "status", "since", "signed", "valid until", "notes", "version", "station"],
         rows), ("Parties", ["#", "member", "name", "中文名", "home"], parties), ("Areas", ["area"], areas),
        ("Documents", ["#", "kind", "title", "signed", "link"], documents),
        ("Milestones", ["#", "title", "due", "done"], milestones),
        ("Timeline", ["#", "on", "kind", "from", "to", "text", "by"], events)])


OPEN_REQUESTS = "('open', 'referred', 'in_progress')"


@app.route("/student-requests")
def student_requests():
    """The student-service plugin's service requests: a page of 25 (newest first, or with
    ``overdue`` the open ones past due, the longest overdue first) with the student's name, the
    department and the station, and the count."""
    where, order = "", "r.id DESC"
    if request.args.get("overdue"):
        where, order = f"WHERE r.status IN {OPEN_REQUESTS} AND r.due_on < ?", "r.due_on, r.id"
    params = (datetime.now(timezone.utc).date(),) if where else ()
    rows = query("SELECT r.id, r.kind, r.status, r.due_on, r.summary, c.name, d.name, st.name "
                 "FROM student_service_requests r JOIN student_service_students s ON s.id = r.student_id "
                 "JOIN contacts c ON c.id = s.contact_id LEFT JOIN student_service_departments d ON d.id = r.department_id "
                 f"JOIN stations st ON st.id = r.station_id {where} ORDER BY {order} LIMIT 25", params)
    count = query(f"SELECT count(*) FROM student_service_requests r {where}", params)
    return render_template_string(PAGE, title="Service requests", counts=[("requests", count[0][0])], next_url=None,
                                  tables=[("Requests", ["#", "kind", "status", "due", "summary", "student",
                                                        "department", "station"], rows)])


@app.route("/programme/<int:programme_id>")
def programme(programme_id: int):
    """A programme's page: the programme, its applications (with the student), the counts by
    status (one GROUP BY) and, for an internship, up to 20 students abroad or returned whose field
    matches one of the programme's and who have not applied (the matching query)."""
    rows = query("SELECT id, kind, title, title_zh, year, places, host FROM student_service_programmes "
                 "WHERE id = ?", (programme_id,))
    if not rows:
        abort(404)
    applications = query("SELECT a.id, a.status, a.attended, c.name, s.school, st.name "
                         "FROM student_service_applications a JOIN student_service_students s ON s.id = a.student_id "
                         "JOIN contacts c ON c.id = s.contact_id JOIN stations st ON st.id = a.station_id "
                         "WHERE a.programme_id = ? ORDER BY a.id", (programme_id,))
    counts = query("SELECT status, count(*) FROM student_service_applications WHERE programme_id = ? GROUP BY status",
                   (programme_id,))
    fields = [row[0] for row in query("SELECT field FROM student_service_programme_fields WHERE programme_id = ? "
                                      "ORDER BY position", (programme_id,))]
    rows = [(*rows[0], ", ".join(fields))]
    candidates = []
    if rows[0][1] == "internship" and fields:
        candidates = query("SELECT s.id, c.name, s.school, s.field, st.name FROM student_service_students s "
                           "JOIN contacts c ON c.id = s.contact_id JOIN stations st ON st.id = s.station_id "
                           "WHERE EXISTS (SELECT 1 FROM student_service_programme_fields f WHERE f.programme_id = ? "
                           "AND lower(s.field) LIKE '%%' || lower(f.field) || '%%') "
                           "AND s.stage IN ('abroad', 'returned') AND s.id NOT IN "
                           "(SELECT student_id FROM student_service_applications WHERE programme_id = ?) "
                           "ORDER BY s.id LIMIT 20", (programme_id, programme_id))
    return render_template_string(PAGE, title="Programme", counts=counts, next_url=None, tables=[
        ("Programme", ["#", "kind", "title", "title_zh", "year", "places", "host", "fields"], rows),
        ("Applications", ["#", "status", "attended", "student", "school", "station"], applications),
        ("Candidates", ["#", "student", "school", "field", "station"], candidates)])


@app.route("/leads.csv")
def leads_csv():
    """The HQ queue (every lead but the drafts, newest submitted first) as a streamed CSV, read
    in batches of 1,000 rows."""
    import csv
    import io

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(LEAD_HEADINGS)
        cursor = _connection().execute(f"SELECT {LEAD_COLUMNS} {LEAD_JOINS} WHERE l.status != 'draft' "
                                       "ORDER BY l.submitted_at DESC, l.id DESC")
        while True:
            batch = cursor.fetchmany(1000)
            if not batch:
                break
            writer.writerows(batch)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue().encode()

    return app.response_class(rows(), mimetype="text/csv; charset=utf-8",
                              headers={"Content-Disposition": 'attachment; filename="leads.csv"'})


@app.route("/students")
def students():
    """The student-service plugin's student list: a page of 25, newest first, with name and station."""
    rows = query("SELECT s.id, c.name, s.school, s.field, s.country, s.stage, st.name FROM student_service_students s "
                 "JOIN contacts c ON c.id = s.contact_id JOIN stations st ON st.id = s.station_id "
                 "ORDER BY s.id DESC LIMIT 26")
    return render_template_string(PAGE, title="Students", counts=None, next_url=None,
                                  tables=[("Students", ["#", "name", "school", "field", "country", "stage", "station"],
                                           rows[:25])])


@app.route("/roll-call/<int:roll_call_id>")
def roll_call(roll_call_id):
    """A roll call: the call, its counts by mark (one GROUP BY) and a page of 50 entries, the
    pending first, with the student's name and station."""
    call = query("SELECT id, title, country, opened_at FROM student_service_roll_calls WHERE id = ?", (roll_call_id,))
    counts = query("SELECT mark, count(*) FROM student_service_roll_call_entries WHERE roll_call_id = ? GROUP BY mark",
                   (roll_call_id,))
    entries = query("SELECT e.id, c.name, st.name, e.mark, e.marked_at FROM student_service_roll_call_entries e "
                    "JOIN student_service_students s ON s.id = e.student_id JOIN contacts c ON c.id = s.contact_id "
                    "JOIN stations st ON st.id = e.station_id WHERE e.roll_call_id = ? "
                    "ORDER BY e.mark <> 'pending', COALESCE(e.marked_at, '1970-01-01'), e.id LIMIT 51",
                    (roll_call_id,))
    return render_template_string(PAGE, title="Roll call", counts=[(mark, n) for mark, n in counts], next_url=None,
                                  tables=[("Roll call", ["#", "title", "country", "opened"], call),
                                          ("Entries", ["#", "name", "station", "mark", "marked"], entries[:50])])


@app.route("/demands")
def demands():
    """The demand list (liaison.demands): a page of 25, newest first, with each demand's fields."""
    rows = query("SELECT d.id, d.title, d.organisation, d.kind, d.status, d.deadline FROM demands d "
                 "ORDER BY d.created_at DESC, d.id DESC LIMIT 26")
    ids = _in([row[0] for row in rows[:25]])
    fields = query(f"SELECT demand_id, field FROM demand_fields WHERE demand_id IN ({ids}) "
                   "ORDER BY demand_id, position") if rows else []
    return render_template_string(PAGE, title="Demands", counts=None, next_url=None,
                                  tables=[("Demands", ["#", "title", "organisation", "kind", "status", "deadline"],
                                           rows[:25]), ("Fields", ["demand", "field"], fields)])


@app.route("/events")
def events():
    """The event list (liaison.events): a page of 30, latest start first."""
    rows = query("SELECT e.id, e.title, e.title_zh, e.kind, e.starts_at, e.city, e.status FROM events e "
                 "ORDER BY e.starts_at DESC, e.id DESC LIMIT 31")
    return render_template_string(PAGE, title="Events", counts=None, next_url=None,
                                  tables=[("Events", ["#", "title", "title_zh", "kind", "starts", "city", "status"],
                                           rows[:30])])


@app.route("/event/<int:event_id>")
def event(event_id: int):
    """An event's page: the event, its stations, the counts (one GROUP BY) and its leads."""
    rows = query("SELECT id, title, title_zh, kind, starts_at, ends_at, city, capacity, seats_taken, status "
                 "FROM events WHERE id = ?", (event_id,))
    stations = query("SELECT s.name FROM event_stations es JOIN stations s ON s.id = es.station_id "
                     "WHERE es.event_id = ?", (event_id,))
    counts = query("SELECT status, source, count(*) FROM event_registrations WHERE event_id = ? "
                   "GROUP BY status, source", (event_id,))
    leads = query("SELECT l.id, c.name, l.status FROM leads l JOIN contacts c ON c.id = l.contact_id "
                  "WHERE l.source_event_id = ? ORDER BY l.id", (event_id,))
    return render_template_string(PAGE, title="Event", counts=None, next_url=None,
                                  tables=[("Event", ["#", "title", "title_zh", "kind", "starts", "ends", "city",
                                                     "capacity", "seats", "status"], rows),
                                          ("Stations", ["name"], stations), ("Counts", ["status", "source", "n"], counts),
                                          ("Leads", ["#", "contact", "status"], leads)])


@app.route("/station/<int:station_id>")
def station(station_id: int):
    rows = query("SELECT s.id, s.name, s.name_zh, s.country, s.city, s.host_organisation, s.status, r.name "
                 "FROM stations s JOIN regions r ON r.id = s.region_id WHERE s.id = ?", (station_id,))
    if not rows:
        abort(404)
    members = query("SELECT u.name, u.email FROM users u JOIN station_memberships m ON m.user_id = u.id WHERE m.station_id = ?",
                    (station_id,))
    recent = query("SELECT l.id, l.summary, l.status, l.updated_at, c.name FROM leads l JOIN contacts c ON c.id = l.contact_id "
                   "WHERE l.station_id = ? ORDER BY l.updated_at DESC, l.id DESC LIMIT 10", (station_id,))
    return render_template_string(PAGE, title=rows[0][1], next_url=None,
                                  counts=_status_counts("WHERE station_id = ?", (station_id,)), tables=[
        ("Station", ["#", "name", "中文名", "country", "city", "host", "status", "region"], rows),
        ("Members", ["name", "e-mail"], members),
        ("Recent leads", ["#", "summary", "status", "updated", "contact"], recent)])


@app.route("/report")
def report():
    by_region = query("SELECT r.code, l.status, count(*) FROM leads l JOIN stations s ON s.id = l.station_id "
                      "JOIN regions r ON r.id = s.region_id WHERE l.status != 'draft' GROUP BY r.code, l.status ORDER BY 1, 2")
    by_category = query("SELECT category, status, count(*) FROM leads WHERE status != 'draft' GROUP BY 1, 2 ORDER BY 1, 2")
    year = "extract(year from submitted_at)" if POSTGRES else "strftime('%Y', submitted_at)"
    by_year = query(f"SELECT {year} AS y, count(*) FROM leads WHERE submitted_at IS NOT NULL GROUP BY y ORDER BY y")
    return render_template_string(PAGE, title="Report", counts=_status_counts(), next_url=None, tables=[
        ("By region", ["region", "status", "leads"], by_region),
        ("By category", ["category", "status", "leads"], by_category),
        ("By year", ["year", "leads"], by_year)])


def _stations_of(user_id: int) -> list[int]:
    return [row[0] for row in query("SELECT station_id FROM station_memberships WHERE user_id = ?", (user_id,))]


def _in(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids) or "NULL"


@app.route("/home/<int:user_id>")
def home(user_id: int):
    stations = _stations_of(user_id)
    station_rows = query(f"SELECT s.id, s.name, r.name FROM stations s JOIN regions r ON r.id = s.region_id WHERE s.id IN ({_in(stations)})")
    per_station = query(f"SELECT station_id, status, count(*) FROM leads WHERE station_id IN ({_in(stations)}) GROUP BY 1, 2")
    drafts = query(f"SELECT {LEAD_COLUMNS} {LEAD_JOINS} WHERE l.station_id IN ({_in(stations)}) AND l.status = 'draft' "
                   "AND l.submitter_id = ? ORDER BY l.updated_at DESC LIMIT 10", (user_id,))
    waiting = query(f"SELECT {LEAD_COLUMNS} {LEAD_JOINS} WHERE l.station_id IN ({_in(stations)}) AND l.status = 'needs_info' "
                    "ORDER BY l.updated_at DESC LIMIT 10")
    return render_template_string(PAGE, title="Home", next_url=None,
                                  counts=_status_counts(f"WHERE station_id IN ({_in(stations)})"), tables=[
        ("Stations", ["#", "name", "region"], station_rows), ("Per station", ["station", "status", "leads"], per_station),
        ("Drafts", LEAD_HEADINGS, drafts), ("Waiting", LEAD_HEADINGS, waiting)])


@app.route("/leads/<int:user_id>")
def leads(user_id: int):
    stations = _stations_of(user_id)
    rows = query(f"SELECT {LEAD_COLUMNS} {LEAD_JOINS} WHERE l.station_id IN ({_in(stations)}) "
                 "ORDER BY l.updated_at DESC, l.id DESC LIMIT 26")
    return render_template_string(PAGE, title="Leads", counts=None, next_url=None, tables=[("Leads", LEAD_HEADINGS, rows[:25])])


@app.route("/submit/<int:user_id>", methods=["POST"])
def submit(user_id: int):
    """A lead submission: the lead and its two timeline entries in one transaction."""
    contact_id = int(request.form["contact_id"])
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection = _connection()
    placeholder = "%s" if POSTGRES else "?"
    summary = request.form["summary"]
    columns = ("contact_id, station_id, submitter_id, category, summary, priority, status, submitted_at, "
               "status_changed_at, created_at, updated_at, submission_token, version")
    values = [contact_id, user_id, request.form["category"], summary, int(request.form["priority"]),
              "submitted", now, now, now, now, uuid.uuid4().hex, 1]
    if _has_search_text():  # the folded copy the app's search indexes read
        columns += ", search_text"
        values.append(summary.casefold())
    # station_id comes from the contact
    sql = (f"INSERT INTO leads ({columns}) SELECT ?, station_id, "
           + ", ".join(["?"] * (len(values) - 1)) + " FROM contacts WHERE id = ? RETURNING id")
    values = tuple(values + [contact_id])
    if POSTGRES:
        sql = sql.replace("?", placeholder)
        with connection.transaction():
            lead_id = connection.execute(sql, values).fetchone()[0]
            connection.execute("INSERT INTO lead_events (lead_id, actor_id, kind, to_status, created_at) VALUES "
                               "(%s, %s, 'created', 'draft', %s), (%s, %s, 'status', 'submitted', %s)",
                               (lead_id, user_id, now, lead_id, user_id, now))
    else:
        connection.execute("BEGIN IMMEDIATE")
        try:
            lead_id = connection.execute(sql, values).fetchone()[0]
            connection.execute("INSERT INTO lead_events (lead_id, actor_id, kind, to_status, created_at) VALUES "
                               "(?, ?, 'created', 'draft', ?), (?, ?, 'status', 'submitted', ?)",
                               (lead_id, user_id, now, lead_id, user_id, now))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return redirect(f"/lead/{lead_id}")
