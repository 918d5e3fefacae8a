"""Duplicates across stations: matching (phones, e-mail, names across scripts), the contact
forms' warning, the HQ queue's scope, ranking and pages, and "not the same person"."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from liaison.duplicates import matching
from liaison.duplicates.matching import Probe, name_keys, normalise_phone_number, score
from liaison.models import Contact, DuplicatePair, PairStatus, contact_name_keys, db

from .helpers import snapshot


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _contact(station_id, **fields) -> int:
    contact = Contact(station_id=station_id, kind=fields.pop("kind", "scholar"), **fields)
    db.session.add(contact)
    db.session.commit()
    return contact.id


def _pair_of(a: int, b: int) -> DuplicatePair | None:
    return db.session.scalar(select(DuplicatePair).where(DuplicatePair.contact_a_id == min(a, b),
                                                         DuplicatePair.contact_b_id == max(a, b)))


# Phones: every way a number is written, read in the station's country ---------------------

PHONES = {
    # country: (E.164, ways it is written — without "+" read in that country)
    "IT": [("+390212345678", ["02 1234 5678", "+39 02 1234 5678", "0039 02 1234 5678", "+39-02-12345678"]),
           ("+393471234567", ["347 1234567", "+39 347 123 4567", "(+39) 347.123.4567"])],
    "GB": [("+442079460018", ["020 7946 0018", "+44 20 7946 0018", "+44 (0)20 7946 0018", "0044 20 7946 0018"]),
           ("+447911123456", ["07911 123456", "+44 7911 123456"])],
    "VN": [("+842438251234", ["024 3825 1234", "+84 24 3825 1234", "0084-24-3825-1234"]),
           ("+84912345678", ["0912 345 678", "+84 912 345 678", "84912345678"])],
    "TH": [("+6621234567", ["02 123 4567", "+66 2 123 4567", "02-123-4567"]),
           ("+66812345678", ["081 234 5678", "+66 81 234 5678", "0812345678"])],
    "LA": [("+85621212345", ["021 212 345", "+856 21 212 345"]),
           ("+8562055123456", ["020 5512 3456", "+856 20 5512 3456", "+856-20-55-123-456"])],
    "CN": [("+8613800138000", ["138 0013 8000", "+86 138 0013 8000", "0086 138-0013-8000", "+86 13800138000"]),
           ("+861065529988", ["010 6552 9988", "(010) 6552-9988", "+86 10 6552 9988"])],
}
PHONE_CASES = [(country, e164, written) for country, numbers in PHONES.items()
               for e164, ways in numbers for written in ways]


@pytest.mark.parametrize("country,e164,written", PHONE_CASES, ids=[f"{c}-{w}" for c, _e, w in PHONE_CASES])
def test_phone_formats_are_one_number(country, e164, written):
    assert normalise_phone_number(written, country) == e164


def test_local_form_is_read_in_the_stations_country_not_another():
    assert normalise_phone_number("02 123 4567", "TH") == "+6621234567"
    assert normalise_phone_number("02 123 4567", "IT") != "+6621234567"


def test_same_phone_written_differently_in_two_stations_is_a_pair(app, world):
    with app.app_context():
        bangkok = _contact(world.stations["bangkok"], name="Somsak Wong", phone="081 234 5678",
                           phone_e164=normalise_phone_number("081 234 5678", "TH"))
        milan = _contact(world.stations["milan"], name="S. Wong", phone="+66 81 234 5678",
                         phone_e164=normalise_phone_number("+66 81 234 5678", "IT"))
        pair = _pair_of(bangkok, milan)
        assert pair is not None and ["phone", {}] in pair.reasons and pair.score == 40


# Names across scripts ------------------------------------------------------------------------

SAME_PERSON = ["王小明", "Wang Xiaoming", "WANG Xiao Ming", "Xiaoming Wang", "wang  xiao-ming", "ＷＡＮＧ Ｘｉａｏｍｉｎｇ"]


@pytest.mark.parametrize("first", SAME_PERSON)
@pytest.mark.parametrize("second", SAME_PERSON)
def test_chinese_name_pinyin_and_orders_share_a_key(first, second):
    assert name_keys(first) & name_keys(second), (first, second)


@pytest.mark.parametrize("first,second", [
    ("Nguyễn Văn An", "NGUYEN VAN AN"), ("Nguyễn Văn An", "An Nguyen Van"), ("Đặng Thị Hoa", "Dang Thi Hoa"),
    ("曾国藩", "Zeng Guofan"), ("吕小明", "Lü Xiaoming"), ("欧阳娜娜", "Nana Ouyang"), ("สมชาย ใจดี", "ใจดี สมชาย"),
])
def test_other_scripts_diacritics_and_orders(first, second):
    assert name_keys(first) & name_keys(second), (first, second)


@pytest.mark.parametrize("first,second", [
    ("Wang Xiaoming", "Wang Xiaohong"), ("王小明", "王晓明 Li"), ("Nguyen Van An", "Nguyen Van Binh"),
])
def test_different_names_do_not_match(first, second):
    assert not name_keys(first) & name_keys(second)


def test_a_single_word_makes_no_key():
    assert name_keys("Madonna") == set() and name_keys("") == set() and name_keys(None) == set()


def test_score_and_reasons_in_both_languages(app):
    a = Probe(name="Wang Xiaoming", name_zh="王小明", phone_e164="+8613800138000", organisation="Tsinghua University")
    b = Probe(name="WANG Xiao Ming", phone_e164="+8613800138000", organisation="tsinghua  university")
    points, reasons = score(a, b)
    assert points == 40 + 35 + 10
    with app.test_request_context():
        assert matching.describe(reasons) == ["same phone number", "Wang Xiaoming = WANG Xiao Ming",
                                              "same organisation"]
    c = Probe(name_zh="王小明")
    points, reasons = score(c, b)
    assert points == 35 and reasons == [["name", {"a": "王小明", "b": "WANG Xiao Ming"}]]
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import refresh

        refresh()
        words = matching.describe([["phone", {}], *reasons, ["email", {}]])
        assert words[1] == "王小明 = WANG Xiao Ming"
        assert words[0] != "same phone number" and words[2] != "same e-mail address"  # translated


def test_name_keys_follow_every_change_of_a_name(app, world):
    with app.app_context():
        contact_id = _contact(world.stations["hanoi"], name="Tran Van Binh")
        keys = lambda: set(db.session.scalars(select(contact_name_keys.c.key)  # noqa: E731
                                              .where(contact_name_keys.c.contact_id == contact_id)))
        assert "tranvanbinh" in keys()
        contact = db.session.get(Contact, contact_id)
        contact.name_zh = "陈文平"
        db.session.commit()
        assert {"tranvanbinh", "chenwenping"} <= keys()
        contact.name = "Le Binh"
        db.session.commit()
        assert "tranvanbinh" not in keys() and "lebinh" in keys()


def test_candidates_come_from_indexes_not_from_all_pairs(app, world, count_queries):
    """The number of statements does not grow with the number of contacts."""
    with app.app_context():
        probe = Probe(name="Wang Xiaoming", email_normalized="wxm@example.org", phone_e164="+8613800138000")
        with count_queries() as few:
            matching.find(db.session, probe)
        for n in range(30):
            db.session.add(Contact(station_id=world.stations["milan"], kind="student", name=f"Student {n} Rossi",
                                   email=f"s{n}@example.org", email_normalized=f"s{n}@example.org"))
        db.session.commit()
        _contact(world.stations["milan"], name="Xiaoming Wang")
        with count_queries() as many:
            found = matching.find(db.session, probe)
        assert few.count <= 4 and many.count <= 4  # three indexed lookups and one read of the candidates
        assert [c.reasons[0][0] for c in found] == ["name"]


def test_explain_uses_the_indexes(app, world):
    """The lookups are index searches on both databases (a full scan would read every contact)."""
    from liaison.models import Contact as C

    with app.app_context():
        dialect = db.session.get_bind().dialect.name
        for stmt in (select(C.id).where(C.email_normalized == "x@example.org"),
                     select(C.id).where(C.phone_e164 == "+8613800138000"),
                     select(contact_name_keys.c.contact_id).where(contact_name_keys.c.key.in_(["a", "b"]))):
            sql = str(stmt.compile(db.session.get_bind(), compile_kwargs={"literal_binds": True}))
            if dialect == "sqlite":
                plan = " ".join(str(row) for row in db.session.execute(db.text("EXPLAIN QUERY PLAN " + sql)))
                assert "USING" in plan and "INDEX" in plan, plan
            else:
                db.session.execute(db.text("SET enable_seqscan = off"))
                plan = " ".join(str(row) for row in db.session.execute(db.text("EXPLAIN " + sql)))
                assert "Index" in plan, plan


# The contact forms: this station's candidates, and only a count of others ----------------------

def _form(world, **changes):
    data = {"kind": "scholar", "name": "Xiaoming Wang", "name_zh": "", "country": "IT", "email": "", "phone": "",
            "submission_token": "dup-form-token"}
    data.update(changes)
    return data


def test_form_in_the_station_warns_with_the_reason_and_a_link(app, client, login, world):
    with app.app_context():
        existing = _contact(world.stations["milan"], name="Wang Xiaoming", name_zh="王小明")
    login("vol_milan")
    before = snapshot(app)
    response = client.post(f"/contacts/new?station_id={world.stations['milan']}", data=_form(world))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "may be the same person" in body and "same name" in body
    assert f'href="/contacts/{existing}"' in body and 'name="confirm_duplicate"' in body
    assert snapshot(app) == before
    response = client.post(f"/contacts/new?station_id={world.stations['milan']}",
                           data=_form(world, confirm_duplicate="y"))
    assert response.status_code == 302


def test_form_notes_another_stations_match_without_its_personal_data(app, client, login, world):
    """vol_milan types the Hanoi contact's phone: told that HQ knows a match at one other station,
    and nothing about it — no name, e-mail, phone, station or link."""
    login("vol_milan")
    data = _form(world, name="An Nguyen", phone="+84 24 3825 1234", email="an@example.org")
    before = snapshot(app)
    response = client.post(f"/contacts/new?station_id={world.stations['milan']}", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HQ already knows a person with matching details at 1 other station" in body
    for secret in ("阮文安", "Hanoi station", "Hanoi University", f'/contacts/{world.contacts["hanoi"]}'):
        assert secret not in body, secret
    assert snapshot(app) == before
    response = client.post(f"/contacts/new?station_id={world.stations['milan']}", data={**data, "confirm_duplicate": "y"})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(Contact.id).where(Contact.name == "An Nguyen"))
        pair = _pair_of(new, world.contacts["hanoi"])
        assert pair.status == PairStatus.OPEN and pair.score >= 90  # in HQ's queue


def test_a_common_name_elsewhere_is_not_mentioned(app, client, login, world):
    login("vol_milan")
    response = client.post(f"/contacts/new?station_id={world.stations['milan']}",
                           data=_form(world, name="An Nguyen Van"))  # same name as Hanoi's, nothing else
    assert response.status_code == 302


def test_edit_does_not_raise_a_pair_already_known(app, client, login, world):
    with app.app_context():
        twin = _contact(world.stations["milan"], name="Marco Rossi Jr", email="marco@example.org",
                        email_normalized="marco@example.org")
        _pair_of(twin, world.contacts["milan"]).status = PairStatus.DISMISSED
        db.session.commit()
    login("vol_milan")
    response = client.post(f"/contacts/{twin}/edit", data=_form(world, name="Marco Rossi Jr", email="marco@example.org"))
    assert response.status_code == 302


# The queue ---------------------------------------------------------------------------------

@pytest.fixture
def pairs(app, world):
    """An ASEAN pair (Hanoi–Bangkok, same phone), a cross-region pair (Hanoi–Milan, same
    e-mail and name) and a Europe pair (Milan–Milan, same name only)."""
    with app.app_context():
        asean = _contact(world.stations["bangkok"], name="Nguyen Van An Bkk", phone="+84 24 3825 1234",
                         phone_e164="+842438251234")
        cross = _contact(world.stations["milan"], name="An Nguyen Van", email="an@example.org",
                         email_normalized="an@example.org")
        europe = _contact(world.stations["milan"], name="Rossi Marco")
        ids = {"asean": _pair_of(asean, world.contacts["hanoi"]).id,
               "cross": _pair_of(cross, world.contacts["hanoi"]).id,
               "europe": _pair_of(europe, world.contacts["milan"]).id}
        db.session.remove()
    return ids


def _queue_ids(client) -> list[int]:
    response = client.get("/duplicates/")
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'/duplicates/(\d+)/dismiss', response.get_data(as_text=True))]


def test_queue_scope_per_role(app, login, world, pairs):
    hq = _queue_ids(login("hq"))
    assert set(pairs.values()) <= set(hq)
    assert hq.index(pairs["cross"]) < hq.index(pairs["asean"]) < hq.index(pairs["europe"])  # by score
    asean = _queue_ids(login("asean_admin"))
    assert pairs["asean"] in asean and pairs["cross"] not in asean and pairs["europe"] not in asean
    europe = _queue_ids(login("europe_admin"))
    assert pairs["europe"] in europe and pairs["cross"] not in europe and pairs["asean"] not in europe
    for volunteer in ("vol_hanoi", "vol_milan", "vol_bangkok"):
        assert login(volunteer).get("/duplicates/").status_code == 403


def test_queue_shows_reasons_and_never_leaks_to_volunteers(app, login, world, pairs):
    page = login("hq").get("/duplicates/").get_data(as_text=True)
    assert "same e-mail address" in page and "Nguyen Van An = An Nguyen Van" in page
    nav = login("vol_hanoi").get("/contacts/").get_data(as_text=True)
    assert "/duplicates/" not in nav
    assert "/duplicates/" in login("asean_admin").get("/contacts/").get_data(as_text=True)


def test_queue_is_keyset_paginated(app, login, world):
    with app.app_context():
        for n in range(27):
            phone = f"+3902123456{n:02d}"
            db.session.add_all([Contact(station_id=world.stations["milan"], kind="student", name=f"A{n} Person",
                                        phone=phone, phone_e164=phone),
                                Contact(station_id=world.stations["milan"], kind="student", name=f"B{n} Someone",
                                        phone=phone, phone_e164=phone)])
        db.session.commit()
    client = login("europe_admin")
    first = client.get("/duplicates/").get_data(as_text=True)
    following = re.search(r'rel="next" href="([^"]+)"', first)
    assert following and "after=" in following.group(1)
    second = client.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    ids_first = set(re.findall(r'/duplicates/(\d+)/dismiss', first))
    ids_second = set(re.findall(r'/duplicates/(\d+)/dismiss', second))
    assert len(ids_first) == 25 and len(ids_second) == 2 and not ids_first & ids_second


def test_dismiss_is_remembered(app, login, world, pairs):
    client = login("asean_admin")
    response = client.post(f"/duplicates/{pairs['asean']}/dismiss", follow_redirects=True)
    assert "two different people" in response.get_data(as_text=True)
    assert pairs["asean"] not in _queue_ids(client)
    with app.app_context():
        pair = db.session.get(DuplicatePair, pairs["asean"])
        assert pair.status == PairStatus.DISMISSED and pair.dismissed_by_id == world.users["asean_admin"]
        # An edit of either contact recomputes the pairs but keeps the answer.
        contact = db.session.get(Contact, pair.contact_b_id)
        contact.name_zh = "阮文安"
        db.session.commit()
        assert db.session.get(DuplicatePair, pairs["asean"]).status == PairStatus.DISMISSED
    # Dismissing twice changes nothing.
    assert client.post(f"/duplicates/{pairs['asean']}/dismiss").status_code == 302


def test_dismiss_out_of_scope_or_unknown_is_404_and_volunteers_403(app, login, world, pairs):
    before = snapshot(app)
    assert login("europe_admin").post(f"/duplicates/{pairs['asean']}/dismiss").status_code == 404
    assert login("asean_admin").post(f"/duplicates/{pairs['cross']}/dismiss").status_code == 404
    assert login("hq").post("/duplicates/999999/dismiss").status_code == 404
    assert login("vol_hanoi").post(f"/duplicates/{pairs['asean']}/dismiss").status_code == 403
    # (log-ins write their time; the pairs are untouched)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DuplicatePair)
                                 .where(DuplicatePair.status == PairStatus.DISMISSED)) == 0
    assert snapshot(app)["duplicate_pairs"] == before["duplicate_pairs"]


def test_erased_contacts_are_no_candidates(app, world):
    from liaison.models import utcnow

    with app.app_context():
        other = _contact(world.stations["milan"], name="Marco Rossi")
        assert _pair_of(other, world.contacts["milan"]) is not None
        contact = db.session.get(Contact, other)
        contact.erased_at = utcnow()
        db.session.commit()
        assert _pair_of(other, world.contacts["milan"]) is None


def test_rebuild_command_recomputes_keys_and_pairs(app, runner, world):
    with app.app_context():
        other = _contact(world.stations["milan"], name="Marco Rossi")
        db.session.execute(contact_name_keys.delete())
        db.session.execute(DuplicatePair.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["duplicates", "scan"])
    assert result.exit_code == 0 and "contacts scanned" in result.output
    with app.app_context():
        assert _pair_of(other, world.contacts["milan"]) is not None


def test_queue_and_merge_pages_in_chinese(app, client, login, world, pairs):
    login("hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    queue = client.get("/duplicates/").get_data(as_text=True)
    assert "疑似重复" in queue and "不是同一人" in queue and "电子邮箱相同" in queue
    page = client.get(f"/duplicates/merge/{world.contacts['hanoi']}/{world.contacts['bangkok']}").get_data(as_text=True)
    assert "合并两位联络对象" in page and "人才线索" in page
