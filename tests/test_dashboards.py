"""The home page per role: what needs me now and how we are doing — figures from SQL aggregates,
each chart beside its table, a constant number of statements whatever the data."""
from __future__ import annotations

import difflib
import re
from datetime import date, timedelta

import pytest

from liaison.models import Contact, Station, TalentLead, db
from liaison.models.base import utcnow

from .factories import make_lead

pytestmark = pytest.mark.usefixtures("world")


def _table(page: str, key: str) -> dict[str, list[str]]:
    """The rows of a dashboard table: label -> the other cells."""
    block = page[page.index(f'data-table="{key}"'):]
    block = block[:block.index("</section>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", block.split("<tbody>", 1)[1], re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def _chart(page: str, key: str) -> list[tuple[str, str]]:
    block = page[page.index(f'data-table="{key}"'):]
    svg = block[:block.index("</svg>")]
    return re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', svg)


def test_volunteer_home(app, login, world):
    with app.app_context():
        make_lead(world, "hanoi", "accepted")
        make_lead(world, "milan", "accepted")  # another station's: not counted
        db.session.add(Contact(station_id=world.stations["hanoi"], kind="scholar", name="Added by me",
                               created_by_id=world.users["vol_hanoi"]))
        db.session.add(Contact(station_id=world.stations["hanoi"], kind="scholar", name="Long ago",
                               created_by_id=world.users["vol_hanoi"], created_at=utcnow() - timedelta(days=70)))
        db.session.commit()
    page = login("vol_hanoi").get("/").get_data(as_text=True)
    rows = _table(page, "home_status")
    assert rows == {"Draft": ["1"], "Submitted": ["1"], "Accepted": ["1"]}
    assert sorted(_chart(page, "home_status")) == sorted((k, v[0]) for k, v in rows.items())  # chart = table
    assert re.search(r'data-figure="my-contacts-month">1<', page)
    assert "home_queue_age" not in page and "home_stations" not in page


def test_regional_admin_home(app, login, world):
    with app.app_context():
        quiet = Station(name="Quiet station", region_id=world.regions["ASEAN"], country="MY", city="Penang",
                        host_organisation="Penang association", host_kind="chinese_association")
        db.session.add(quiet)
        # Active long ago only: still quiet.
        db.session.flush()
        db.session.add(Contact(station_id=quiet.id, kind="scholar", name="Old contact",
                               created_at=utcnow() - timedelta(days=120)))
        db.session.commit()
    page = login("asean_admin").get("/").get_data(as_text=True)
    rows = _table(page, "home_stations")
    assert rows == {"Hanoi station": ["1", "2"], "Bangkok station": ["1", "2"], "Quiet station": ["1", "0"]}
    quiet_block = page[page.index('data-list="quiet-stations"'):]
    quiet_block = quiet_block[:quiet_block.index("</ul>")]
    assert "Quiet station" in quiet_block and "Hanoi station" not in quiet_block
    assert "Quiet station" not in login("europe_admin").get("/").get_data(as_text=True)


def test_hq_home(app, login, world):
    today = date.today()
    with app.app_context():
        old = make_lead(world, "hanoi", "submitted")
        db.session.get(TalentLead, old).submitted_at = utcnow() - timedelta(days=40)
        landed = make_lead(world, "milan", "landed")
        db.session.get(TalentLead, landed).landed_on = today
        last_year = make_lead(world, "bangkok", "accepted")
        db.session.get(TalentLead, last_year).submitted_at = utcnow().replace(year=today.year - 1)
        db.session.commit()
    page = login("hq").get("/").get_data(as_text=True)
    assert _table(page, "home_queue_age") == {"Under a week": ["3"], "1–4 weeks": ["0"], "1–3 months": ["1"],
                                              "Over 3 months": ["0"]}
    funnel = _table(page, "home_funnel")
    assert funnel["Submitted"] == ["1", "5"] and funnel["Accepted"] == ["1", "1"] and funnel["Landed"] == ["0", "1"]
    months = _table(page, "home_landings")
    assert len(months) == 12 and months[f"{today:%Y-%m}"] == ["1"] and sum(int(v[0]) for v in months.values()) == 1
    assert ("Submitted", "1") in _chart(page, "home_funnel") and ("Submitted", "5") in _chart(page, "home_funnel")
    # Each chart's CSV is its own table's (the funnel's: this year and last, not the report's one year).
    for key in ("home_queue_age", "home_funnel", "home_landings"):
        assert f'href="/charts/{key}.csv"' in page
    assert "/reports/table/" not in page


@pytest.mark.parametrize("who", ["vol_hanoi", "asean_admin", "hq"])
def test_home_statements_do_not_grow_with_the_data(app, login, world, count_queries, who):
    with app.app_context():  # every list of the page has something (an empty list loads nothing more)
        for station in ("hanoi", "bangkok"):
            for status in ("needs_info", "accepted"):
                make_lead(world, station, status)
    client = login(who)
    client.get("/")
    with count_queries() as before:
        assert client.get("/").status_code == 200
    with app.app_context():
        for station in ("hanoi", "bangkok", "milan"):
            for status in ("submitted", "accepted", "landed", "needs_info"):
                make_lead(world, station, status)
        for n in range(5):
            db.session.add(Station(name=f"Extra {n}", region_id=world.regions["ASEAN"], country="MY", city="KL",
                                   host_organisation="x", host_kind="chinese_association"))
            db.session.add(Contact(station_id=world.stations["hanoi"], kind="scholar", name=f"C {n}",
                                   created_by_id=world.users["vol_hanoi"]))
        db.session.commit()
    with count_queries() as after:
        assert client.get("/").status_code == 200
    assert after.count == before.count, "\n".join(difflib.unified_diff([s[:150] for s in before.statements], [s[:150] for s in after.statements], lineterm=""))


def test_home_in_chinese(login, world):
    client = login("hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = client.get("/").get_data(as_text=True)
    assert "待审队列（按等待时间）" in page and "今年与去年的转化漏斗" in page
    page = login("vol_hanoi").get("/").get_data(as_text=True)
    assert "本月我新增的联络对象" in page
