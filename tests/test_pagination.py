"""Keyset pagination (``liaison.pagination``): the pages walk exactly the rows a plain ORDER BY
returns, NULL sort keys and ties included, forwards and backwards; cursors are in the URL and a
tampered one shows the first page; counts stop at a cap unless the exact number is asked for."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from liaison import pagination
from liaison.leads.queries import SORTS
from liaison.models import Contact, LeadStatus, TalentLead, db
from liaison.pagination import decode_cursor, encode_cursor, keyset_page, parse_order

from .factories import make_lead

BASE = datetime(2026, 1, 5, 9, 30)


def _insert_leads(world, number: int = 41) -> None:
    """Leads with many ties and NULLs on every sort key (drafts have no submission date)."""
    contact = db.session.get(Contact, world.contacts["hanoi"])
    for n in range(number):
        submitted = None if n % 4 == 0 else BASE + timedelta(days=n % 5)  # 5 values and NULL
        db.session.add(TalentLead(
            contact_id=contact.id, station_id=contact.station_id, category="employment",
            summary=f"Keyset lead {n}", priority=1 + n % 3, status=LeadStatus.SUBMITTED,
            submitted_at=submitted, updated_at=BASE + timedelta(hours=n % 3),
        ))
    db.session.commit()


def _python_order(leads: list[TalentLead], sort: str) -> list[int]:
    """The order each sort means, computed in Python: the databases must both agree with it."""
    def seconds(moment):
        return (moment - datetime(2000, 1, 1)).total_seconds() if moment else 0

    keys = {
        "-submitted": lambda l: (l.submitted_at is None, -seconds(l.submitted_at), -l.id),
        "submitted": lambda l: (l.submitted_at is None, seconds(l.submitted_at), l.id),
        "-priority": lambda l: (-l.priority, l.submitted_at is None, -seconds(l.submitted_at), -l.id),
        "-updated": lambda l: (-seconds(l.updated_at), -l.id),
    }
    return [lead.id for lead in sorted(leads, key=keys[sort])]


def _walk_forward(stmt, per_page: int) -> list[list[int]]:
    pages, args = [], {}
    for _ in range(100):
        page = keyset_page(stmt, per_page, args=args, count=False)
        pages.append([lead.id for lead in page.items])
        if not page.has_next:
            return pages
        args = {"after": page.next_cursor}
    raise AssertionError("the pages never end")


def _walk_backward(stmt, per_page: int) -> list[list[int]]:
    pages, args = [], {"last": "1"}
    for _ in range(100):
        page = keyset_page(stmt, per_page, args=args, count=False)
        pages.append([lead.id for lead in page.items])
        if not page.has_prev:
            return pages[::-1]
        args = {"before": page.prev_cursor}
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("per_page", [1, 4, 7, 50])
def test_pages_walk_the_plain_order_by_both_ways(app, world, sort, per_page):
    with app.test_request_context():
        _insert_leads(world)
        stmt = select(TalentLead).order_by(*SORTS[sort])
        expected = list(db.session.scalars(stmt).all())
        ids = [lead.id for lead in expected]
        assert ids == _python_order(expected, sort)  # NULLs and ties ordered the same on every database

        forward = _walk_forward(stmt, per_page)
        assert [i for page in forward for i in page] == ids
        assert all(len(page) == per_page for page in forward[:-1]) and 0 < len(forward[-1]) <= per_page

        backward = _walk_backward(stmt, per_page)
        later = [i for page in backward[1:] for i in page]
        assert later == ids[len(ids) - len(later):]  # every page back is exactly the rows before
        assert all(len(page) == per_page for page in backward[1:])
        # arriving at the start, the first page is the full first page (as its own link shows it)
        assert backward[0] == ids[:per_page] and set(backward[0]) | set(later) == set(ids)
        assert backward[-1] == ids[-per_page:]


def test_first_and_last_pages_and_their_links(app, world):
    with app.test_request_context():
        _insert_leads(world, 12)
        stmt = select(TalentLead).order_by(*SORTS["-submitted"])
        ids = list(db.session.scalars(stmt.with_only_columns(TalentLead.id)))
        first = keyset_page(stmt, 5, args={})
        assert [l.id for l in first.items] == ids[:5]
        assert first.has_next and not first.has_prev and first.prev_cursor is None
        last = keyset_page(stmt, 5, args={"last": "1"})
        assert [l.id for l in last.items] == ids[-5:]
        assert last.has_prev and not last.has_next and last.next_cursor is None
        # "previous" from the second page is the first page, full
        second = keyset_page(stmt, 5, args={"after": first.next_cursor})
        assert [l.id for l in second.items] == ids[5:10]
        back = keyset_page(stmt, 5, args={"before": second.prev_cursor})
        assert [l.id for l in back.items] == ids[:5] and not back.has_prev
        # a "previous" from a short way in (page starting at row 3) gives the full first page
        row_2 = db.session.get(TalentLead, ids[1])
        third_row = keyset_page(stmt, 5, args={"after": encode_cursor(parse_order(stmt._order_by_clauses),
                                                                      [row_2.submitted_at, row_2.id])})
        assert [l.id for l in third_row.items] == ids[2:7]
        before_it = keyset_page(stmt, 5, args={"before": third_row.prev_cursor})
        assert [l.id for l in before_it.items] == ids[:5]


def test_a_cursor_past_the_end_shows_the_last_page(app, world):
    with app.test_request_context():
        _insert_leads(world, 9)
        stmt = select(TalentLead).order_by(*SORTS["-updated"])
        ids = list(db.session.scalars(stmt.with_only_columns(TalentLead.id)))
        keys = parse_order(stmt._order_by_clauses)
        beyond = encode_cursor(keys, [datetime(1990, 1, 1), 1])
        page = keyset_page(stmt, 4, args={"after": beyond})
        assert [l.id for l in page.items] == ids[-4:] and not page.has_next


def _token(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_garbage_cursors_give_the_first_page(app, world):
    with app.test_request_context():
        _insert_leads(world, 9)
        stmt = select(TalentLead).order_by(*SORTS["-submitted"])
        keys = parse_order(stmt._order_by_clauses)
        good = encode_cursor(keys, [BASE, 5])
        fingerprint = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))[0]
        garbage = [
            "", "abc", "%%%", "A" * 5000, "=====", good[:-3], good + "x" * 2000,
            _token([fingerprint ^ 1, [{"t": BASE.isoformat()}, 5]]),  # another ordering's cursor
            _token([fingerprint, [{"t": BASE.isoformat()}]]),  # too few values
            _token([fingerprint, ["yesterday", 5]]),  # a string for a datetime
            _token([fingerprint, [{"t": "not a date"}, 5]]),
            _token([fingerprint, [{"t": BASE.isoformat()}, "5"]]),  # a string for an id
            _token([fingerprint, [{"t": BASE.isoformat()}, 10**30]]),  # beyond any integer column
            _token([fingerprint, [{"t": BASE.isoformat()}, None]]),  # NULL for the id
            _token([fingerprint, [{"t": BASE.isoformat()}, True]]),
            _token([fingerprint, [[[[]]], 5]]), _token({"a": 1}), _token([fingerprint]), _token("x"),
            base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        ]
        first = [l.id for l in keyset_page(stmt, 4, args={}).items]
        for token in garbage:
            assert decode_cursor(keys, token) is None, token
            for name in ("after", "before"):
                assert [l.id for l in keyset_page(stmt, 4, args={name: token}).items] == first, (name, token)


def test_order_by_a_nullable_column_needs_nulls_first_or_last(app):
    with pytest.raises(ValueError):
        parse_order(select(TalentLead).order_by(TalentLead.submitted_at.desc(), TalentLead.id)._order_by_clauses)


def test_counts_stop_at_the_cap_unless_the_exact_number_is_asked(app, world):
    with app.test_request_context():
        _insert_leads(world, 14)
        stmt = select(TalentLead).order_by(*SORTS["-submitted"])
        total = len(db.session.scalars(stmt).all())
        capped = keyset_page(stmt, 5, args={}, count_cap=10)
        assert capped.total == 11 and capped.total_is_capped
        exact = keyset_page(stmt, 5, args={"count": "exact"}, count_cap=10)
        assert exact.total == total and not exact.total_is_capped
        assert keyset_page(stmt, 5, args={}, count_cap=100).total == total


# Through the pages ------------------------------------------------------------------------

def _lead_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/leads/(\d+)"', html)]


def _link(html: str, text: str) -> str | None:
    match = re.search(r'<a class="page-link"[^>]*href="([^"#]+)"[^>]*>' + re.escape(text) + "<", html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_review_queue_pages_by_cursor_links(app, client, login, world):
    with app.test_request_context():
        _insert_leads(world, 120)
        expected = list(db.session.scalars(
            select(TalentLead.id).where(TalentLead.status != LeadStatus.DRAFT).order_by(*SORTS["-submitted"])))
    login("hq")
    seen, url = [], "/review/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _lead_ids(html)
        url = _link(html, "Next")
        assert len(seen) <= len(expected)
    assert seen == expected
    first = client.get("/review/").get_data(as_text=True)
    assert _link(first, "Previous") is None and _link(first, "First page") is None
    last = client.get(_link(first, "Last page")).get_data(as_text=True)
    assert _lead_ids(last) == expected[-50:] and _link(last, "Next") is None
    previous = client.get(_link(last, "Previous")).get_data(as_text=True)
    assert _lead_ids(previous) == expected[-100:-50]
    assert _lead_ids(client.get(_link(last, "First page")).get_data(as_text=True)) == expected[:50]
    # the filters travel with the cursor; the cursor is in the link, shareable
    filtered = client.get("/review/?category=employment&sort=-updated").get_data(as_text=True)
    assert "category=employment" in _link(filtered, "Next") and "after=" in _link(filtered, "Next")


@pytest.mark.parametrize("url", ["/review/?page=7", "/review/?after=garbage", "/review/?before=%00",
                                 "/review/?after=" + "A" * 3000, "/review/?last=yes", "/leads/?page=2",
                                 "/leads/?after=e30", "/contacts/?page=3&after=xyz", "/stations/?before=abc"])
def test_old_page_links_and_garbage_cursors_show_the_first_page(app, client, login, world, url):
    with app.test_request_context():
        _insert_leads(world, 60)
    login("hq")
    response = client.get(url)
    assert response.status_code == 200
    base = url.split("?")[0]
    assert _lead_ids(response.get_data(as_text=True)) == _lead_ids(client.get(base).get_data(as_text=True))


def test_the_count_shows_a_cap_and_the_exact_number_on_request(app, client, login, world, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 20)
    with app.test_request_context():
        _insert_leads(world, 30)
        total = db.session.scalar(select(db.func.count()).select_from(TalentLead))
    login("hq")
    html = client.get("/leads/").get_data(as_text=True)
    assert "20+ results" in html and "Count them all" in html
    exact = client.get("/leads/?count=exact").get_data(as_text=True)
    assert f"{total} results" in exact and "20+ results" not in exact
    assert "count=exact" in _link(exact, "Next")  # the exact count is kept while paging


@pytest.mark.parametrize("path", ["/review/", "/leads/", "/contacts/", "/stations/", "/"])
def test_list_pages_issue_as_many_queries_for_5_as_for_60_leads(app, login, world, count_queries, path):
    client = login("hq")
    with app.test_request_context():
        for n in range(5):
            make_lead(world, "hanoi", LeadStatus.SUBMITTED)
    client.get(path)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    with app.test_request_context():
        _insert_leads(world, 55)
    with count_queries() as many:
        assert client.get(path).status_code == 200
    assert many.count == few.count, (few.count, many.count)
    if path in ("/review/", "/leads/"):
        with count_queries() as deep:
            html = client.get(path + "?last=1").get_data(as_text=True)
        assert deep.count == few.count and _lead_ids(html)


def test_closed_leads_have_no_selection_box_in_the_queue(app, client, login, world):
    with app.test_request_context():
        open_id = make_lead(world, "hanoi", LeadStatus.SUBMITTED)
        closed = [make_lead(world, "hanoi", status) for status in
                  (LeadStatus.LANDED, LeadStatus.REJECTED, LeadStatus.WITHDRAWN, LeadStatus.CLOSED_LOST)]
    login("hq")
    html = client.get("/review/").get_data(as_text=True)
    boxes = {int(n) for n in re.findall(r'name="lead_ids" value="(\d+)"', html)}
    assert open_id in boxes and not boxes & set(closed)
    assert set(closed) <= set(_lead_ids(html))  # still listed


# Status counts ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["hq", "vol_hanoi", "asean_admin"])
def test_capped_status_counts_agree_with_group_by_and_use_the_indexes(app, world, role, count_queries):
    from flask_login import login_user
    from sqlalchemy import event

    from liaison.leads.queries import status_counts
    from liaison.models import User

    with app.test_request_context():
        _insert_leads(world, 30)
        make_lead(world, "milan", LeadStatus.LANDED)
        user = db.session.get(User, world.users[role])
        login_user(user)
        exact = status_counts(user)
        statements = []
        listener = lambda conn, cursor, sql, params, context, many: statements.append((sql, params))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert status_counts(user, cap=1000) == exact
            assert len(statements) == 1  # one query for every status
            capped = status_counts(user, cap=5)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert capped == {status: min(n, 6) for status, n in exact.items()}
        if db.engine.dialect.name == "sqlite":
            sql, params = statements[0]
            plan = [row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            assert not [step for step in plan if step.startswith("SCAN leads")], plan  # no scan of the lead table


def test_queue_and_home_show_capped_status_counts(app, client, login, world, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 20)
    with app.test_request_context():
        _insert_leads(world, 30)  # 30 more submitted leads
    login("hq")
    queue = client.get("/review/").get_data(as_text=True)
    assert re.search(r"Submitted\s*<span[^>]*>20\+</span>", queue), "the cap shows as 20+"
    home = client.get("/").get_data(as_text=True)
    assert '<div class="stat-number">20+</div>' in home


def test_cursor_at_gives_a_deep_page(app, world):
    from liaison.pagination import cursor_at

    with app.test_request_context():
        _insert_leads(world, 30)
        stmt = select(TalentLead).order_by(*SORTS["-priority"])
        ids = list(db.session.scalars(stmt.with_only_columns(TalentLead.id)))
        page = keyset_page(stmt, 5, args={"after": cursor_at(stmt, 17)}, count=False)
        assert [l.id for l in page.items] == ids[17:22]
        assert cursor_at(stmt, 0) is None and cursor_at(stmt, 10_000) is None
