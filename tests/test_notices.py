"""Policy notices: targeting (all, regions, stations, host kinds), the notification to the
targeted stations' volunteers only, read and acknowledgement receipts per station, the home-page
list, the public page (no log-in, unknown slug 404, a QR code) and who may publish."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from liaison.models import NoticeReceipt, NoticeTarget, Notification, PolicyNotice, Station, db

from .helpers import snapshot


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def form(world, **targets):
    data = {"title": "New visa rules", "title_zh": "签证新规", "body": "Line one\nLine two",
            "body_zh": "第一行\n第二行", "link": "https://www.gov.cn/policy", "effective_from": "2020-01-01",
            "attachments": "Application form | https://example.org/form.pdf\n\nGuide | https://example.org/guide.pdf"}
    data.update(targets)
    return data


def publish(login, world, **targets) -> int:
    client = login("hq")
    response = client.post("/notices/new", data=form(world, **targets))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def notified(app, world, notice_id) -> set[str]:
    by_id = {v: k for k, v in world.users.items()}
    with app.app_context():
        try:
            return {by_id[u] for u in db.session.scalars(select(Notification.user_id).where(
                Notification.kind == "notice_published"))}
        finally:
            db.session.remove()


def sees(login, key, notice_id) -> int:
    return login(key).get(f"/notices/{notice_id}").status_code


@pytest.mark.parametrize("targets,reached", [
    ({"to_all": "y"}, {"vol_hanoi", "vol_bangkok", "vol_milan"}),
    ({"regions": "ASEAN"}, {"vol_hanoi", "vol_bangkok"}),
    ({"stations": "milan"}, {"vol_milan"}),
    ({"stations": "hanoi", "regions": "EUROPE"}, {"vol_hanoi", "vol_milan"}),
    ({"host_kinds": "chinese_association"}, {"vol_hanoi", "vol_bangkok", "vol_milan"}),
    ({"host_kinds": "university"}, set()),
])
def test_targeting_reaches_the_targeted_stations_volunteers_only(app, world, login, targets, reached):
    resolved = {}
    for key, value in targets.items():
        if key == "regions":
            resolved[key] = str(world.regions[value])
        elif key == "stations":
            resolved[key] = str(world.stations[value])
        else:
            resolved[key] = value
    notice_id = publish(login, world, **resolved)
    assert notified(app, world, notice_id) == reached
    for volunteer in ("vol_hanoi", "vol_bangkok", "vol_milan"):
        assert sees(login, volunteer, notice_id) == (200 if volunteer in reached else 404), volunteer
    # Regional admins see the notices for their region's stations; HQ all.
    assert sees(login, "asean_admin", notice_id) == (200 if reached & {"vol_hanoi", "vol_bangkok"} else 404)
    assert sees(login, "europe_admin", notice_id) == (200 if "vol_milan" in reached else 404)
    assert sees(login, "admin", notice_id) == 200


def test_a_university_target_matches_a_university_station(app, world, login):
    with app.app_context():
        db.session.get(Station, world.stations["bangkok"]).host_kind = "university"
        db.session.commit()
        db.session.remove()
    notice_id = publish(login, world, host_kinds="university")
    assert notified(app, world, notice_id) == {"vol_bangkok"}
    with app.app_context():
        kinds = db.session.execute(select(NoticeTarget.kind, NoticeTarget.host_kind)
                                   .where(NoticeTarget.notice_id == notice_id)).all()
        db.session.remove()
    assert kinds == [("host_kind", "university")]


def test_read_and_acknowledge_receipts_per_station(app, world, login):
    notice_id = publish(login, world, regions=str(world.regions["ASEAN"]))
    # On the home page until acknowledged.
    home = login("vol_hanoi").get("/").get_data(as_text=True)
    assert "New visa rules" in home and f"/notices/{notice_id}" in home
    page = login("vol_hanoi").get(f"/notices/{notice_id}").get_data(as_text=True)
    assert "签证新规" in page and "New visa rules" in page and "Line one<br>" in page
    assert "https://example.org/form.pdf" in page and "I have read it" in page
    receipts = login("hq").get(f"/notices/{notice_id}/receipts").get_data(as_text=True)
    assert "1 of 1 read, 0 acknowledged" in receipts  # Hanoi: vol_hanoi has read it
    assert receipts.count("0 of 1 read, 0 acknowledged") == 1  # Bangkok: not yet
    assert "Milan station" not in receipts
    client = login("vol_hanoi")
    assert client.post(f"/notices/{notice_id}/acknowledge").status_code == 302
    assert client.post(f"/notices/{notice_id}/acknowledge").status_code == 302  # twice: the same receipt
    assert f"/notices/{notice_id}" not in client.get("/").get_data(as_text=True)
    assert f"/notices/{notice_id}" in login("vol_bangkok").get("/").get_data(as_text=True)
    receipts = login("hq").get(f"/notices/{notice_id}/receipts").get_data(as_text=True)
    assert "1 of 1 read, 1 acknowledged" in receipts
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NoticeReceipt)) == 1
        db.session.remove()
    # Only a targeted station's volunteer acknowledges; others in scope are refused.
    assert login("asean_admin").post(f"/notices/{notice_id}/acknowledge").status_code == 403
    assert login("hq").post(f"/notices/{notice_id}/acknowledge").status_code == 403
    assert login("vol_milan").post(f"/notices/{notice_id}/acknowledge").status_code == 404
    # HQ opening the notice writes no receipt.
    login("hq").get(f"/notices/{notice_id}")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NoticeReceipt)) == 1
        db.session.remove()


def test_notices_out_of_effect_leave_the_home_page(app, world, login):
    notice_id = publish(login, world, to_all="y", effective_from=(date.today() + timedelta(days=10)).isoformat())
    assert f"/notices/{notice_id}" not in login("vol_hanoi").get("/").get_data(as_text=True)


def test_a_notice_published_ahead_notifies_when_it_takes_effect(app, world, login, monkeypatch):
    from liaison import jobs
    from liaison.notices import services

    start = date.today() + timedelta(days=10)
    notice_id = publish(login, world, regions=str(world.regions["ASEAN"]), effective_from=start.isoformat())
    assert notified(app, world, notice_id) == set()  # not yet in effect: nobody is told

    def run_due(day):
        monkeypatch.setattr(services, "utcnow", lambda: datetime.combine(day, time(8)))
        with app.app_context():
            try:
                return jobs.run_due(app)
            finally:
                db.session.remove()

    assert run_due(start - timedelta(days=1))["notices.effective"] == 0
    assert notified(app, world, notice_id) == set()
    assert run_due(start)["notices.effective"] == 1
    assert notified(app, world, notice_id) == {"vol_hanoi", "vol_bangkok"}
    # Once: later runs tell nobody again.
    assert run_due(start)["notices.effective"] == 0
    assert run_due(start + timedelta(days=1))["notices.effective"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
        db.session.remove()


def test_a_notice_in_effect_notifies_at_once_and_only_once(app, world, login):
    from liaison import jobs

    notice_id = publish(login, world, stations=str(world.stations["milan"]))
    assert notified(app, world, notice_id) == {"vol_milan"}
    with app.app_context():
        try:
            assert jobs.run_due(app)["notices.effective"] == 0
        finally:
            db.session.remove()
    assert notified(app, world, notice_id) == {"vol_milan"}


def test_public_page_needs_no_login_and_has_a_qr_code(app, world, login, client):
    notice_id = publish(login, world, stations=str(world.stations["hanoi"]))
    with app.app_context():
        slug = db.session.get(PolicyNotice, notice_id).slug
        db.session.remove()
    assert len(slug) >= 20
    client.post("/logout")
    response = client.get(f"/notices/p/{slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "签证新规" in page and "New visa rules" in page
    assert '<svg' in page and 'class="notice-qr"' in page and "<path" in page
    assert f"/notices/p/{slug}" in page
    assert client.get("/notices/p/not-a-real-slug").status_code == 404
    assert client.get(f"/notices/p/{slug[:-1]}").status_code == 404
    assert client.get(f"/notices/{notice_id}").status_code == 302  # the in-app page needs a log-in


@pytest.mark.parametrize("role,status", [("vol_hanoi", 403), ("asean_admin", 403), ("hq", 200), ("admin", 200)])
def test_only_hq_publishes(world, login, role, status):
    assert login(role).get("/notices/new").status_code == status


@pytest.mark.parametrize("field,value,message", [
    ("title", "", "This field is required."),
    ("link", "javascript:alert(1)", "Enter a web address starting with https://"),
    ("effective_until", "2019-01-01", "The end cannot be before the start."),
    ("attachments", "no bar here", "Line 1: write a label"),
    ("attachments", "Form | ftp://example.org/x", "Line 1: write a label"),
    ("to_all", "", "Choose all stations, or at least one region, station or kind of host."),
])
def test_bad_notice_input_writes_nothing(app, world, login, field, value, message):
    data = form(world, to_all="y")
    if field == "to_all":
        data.pop("to_all")
    else:
        data[field] = value
    client = login("hq")
    before = snapshot(app)
    response = client.post("/notices/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "is-invalid" in page
    assert "签证新规" in page  # the input is kept
    assert snapshot(app) == before


def test_a_station_out_of_the_choices_is_refused(app, world, login):
    client = login("hq")
    before = snapshot(app)
    response = client.post("/notices/new", data=form(world, stations="999999"))
    assert response.status_code == 200 and "is not a valid choice" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_the_list_is_scoped(app, world, login):
    hanoi = publish(login, world, stations=str(world.stations["hanoi"]))
    milan = publish(login, world, stations=str(world.stations["milan"]))
    page = login("vol_hanoi").get("/notices/").get_data(as_text=True)
    assert f"/notices/{hanoi}" in page and f"/notices/{milan}\"" not in page
    page = login("hq").get("/notices/").get_data(as_text=True)
    assert f"/notices/{hanoi}" in page and f"/notices/{milan}" in page
    assert login("hq").get("/notices/99999999").status_code == 404
    assert login("vol_milan").get(f"/notices/{hanoi}/receipts").status_code == 403
