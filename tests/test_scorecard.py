"""The yearly station scorecard: figures against a hand-computed fixture, the score and ranking
with HQ's weights, the scope of every role, the weights' audit trail, the XLSX export and both
languages."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from liaison.models import AuditEntry, Contact, LeadEvent, ScorecardWeights, Station, TalentLead, db
from liaison.scorecard import services

pytestmark = pytest.mark.usefixtures("world")

D = datetime
V, HQ = "vol", "hq"  # who moves: the station's volunteer or HQ
# key: (station, status now, submitted_at (UTC, noon: no time-zone edge), [(from, to, days after, who)], landed_on)
LEADS = {
    "H1": ("hanoi", "landed", D(2025, 2, 1, 4),
           [("submitted", "under_review", 1, HQ), ("under_review", "accepted", 3, HQ),
            ("accepted", "referred", 5, HQ), ("referred", "landed", 20, HQ)], date(2025, 3, 1)),
    # Two questions from HQ, answered after 2 and 4 days: the median is 3.
    "H2": ("hanoi", "accepted", D(2025, 4, 1, 4),
           [("submitted", "under_review", 1, HQ), ("under_review", "needs_info", 2, HQ),
            ("needs_info", "submitted", 4, V), ("submitted", "under_review", 5, HQ),
            ("under_review", "needs_info", 6, HQ), ("needs_info", "submitted", 10, V),
            ("submitted", "accepted", 11, HQ)], None),
    # Submitted in 2024, accepted in January 2025: accepted in 2025, not submitted in it.
    "H3": ("hanoi", "accepted", D(2024, 11, 1, 4),
           [("submitted", "under_review", 5, HQ), ("under_review", "accepted", 70, HQ)], None),
    "B1": ("bangkok", "submitted", D(2025, 5, 1, 4),
           [("submitted", "under_review", 1, HQ), ("under_review", "needs_info", 2, HQ),
            ("needs_info", "submitted", 12, V)], None),
    "B2": ("bangkok", "submitted", D(2025, 6, 1, 4), [], None),
    "M1": ("milan", "landed", D(2025, 7, 1, 4),
           [("submitted", "under_review", 1, HQ), ("under_review", "accepted", 2, HQ),
            ("accepted", "referred", 3, HQ), ("referred", "landed", 10, HQ)], date(2025, 7, 11)),
    # Submitted in 2024 (by HQ's hand in the fixture), landed in 2025.
    "M2": ("milan", "landed", D(2024, 6, 1, 4),
           [("submitted", "under_review", 1, HQ), ("under_review", "accepted", 2, HQ),
            ("accepted", "referred", 3, HQ), ("referred", "landed", 233, HQ)], date(2025, 1, 20)),
}
CONTACTS = [("hanoi", D(2025, 3, 1, 4)), ("hanoi", D(2025, 6, 1, 4)), ("hanoi", D(2024, 6, 1, 4)),
            ("bangkok", D(2025, 9, 1, 4))]

# Hand-computed from the tables above -------------------------------------------------------------
EXPECTED = {
    #          contacts submitted accepted landed answer_days volunteers
    "hanoi": dict(contacts=2, submitted=2, accepted=3, landed=1, answer_days=3.0, volunteers=1),
    "bangkok": dict(contacts=1, submitted=2, accepted=0, landed=0, answer_days=10.0, volunteers=1),
    "milan": dict(contacts=0, submitted=1, accepted=1, landed=2, answer_days=None, volunteers=1),
}
# Default weights 1, 2, 3, 5, 2, 1; best: contacts 2, submitted 2, accepted 3, landed 2, answer 3, volunteers 1.
# hanoi: 1 + 2 + 3 + 2.5 + 2·4/4 + 1 = 11.5; milan: 0 + 1 + 1 + 5 + 0 + 1 = 8;
# bangkok: 0.5 + 2 + 0 + 0 + 2·4/11 (0.73) + 1 = 4.23.
EXPECTED_SCORES = {"hanoi": 11.5, "milan": 8.0, "bangkok": 4.23}


def build_fixture(world) -> None:
    for key, (station, status, submitted, steps, landed_on) in LEADS.items():
        volunteer = world.users[f"vol_{station}"]
        submitter = world.users["hq"] if key == "M2" else volunteer
        lead = TalentLead(contact_id=world.contacts[station], station_id=world.stations[station],
                          submitter_id=volunteer, category="employment", summary=f"{key} lead", status=status,
                          submitted_at=submitted, created_at=submitted - timedelta(days=1), updated_at=submitted,
                          status_changed_at=submitted, landed_on=landed_on,
                          landing_kind="hired" if landed_on else None)
        db.session.add(lead)
        db.session.flush()
        db.session.add(LeadEvent(lead_id=lead.id, actor_id=submitter, kind="created", to_status="draft",
                                 created_at=submitted - timedelta(days=1)))
        db.session.add(LeadEvent(lead_id=lead.id, actor_id=submitter, kind="status", from_status="draft",
                                 to_status="submitted", created_at=submitted))
        for before, after, days, who in steps:
            db.session.add(LeadEvent(lead_id=lead.id, actor_id=volunteer if who == V else world.users["hq"],
                                     kind="status", from_status=before, to_status=after,
                                     created_at=submitted + timedelta(days=days)))
    for station, created in CONTACTS:
        db.session.add(Contact(station_id=world.stations[station], kind="scholar", name=f"Contact {created:%Y%m%d}",
                               created_at=created, updated_at=created))
    db.session.commit()


@pytest.fixture
def fixture(app, world):
    with app.app_context():
        build_fixture(world)
        db.session.remove()


def _by_station(world, cards):
    names = {v: k for k, v in world.stations.items()}
    return {names[c.station_id]: c for c in cards if c.station_id in names}


def test_figures_match_the_hand_computed_fixture(app, world, fixture):
    with app.test_request_context():
        found = services.figures(2025, None)
        for station, expected in EXPECTED.items():
            got = found.get(world.stations[station], {})
            assert {key: got.get(key, 0 if key != "answer_days" else None) for key in expected} == expected, station
        # Narrowed to some stations: the same figures, only theirs.
        narrowed = services.figures(2025, (world.stations["bangkok"],))
        assert set(narrowed) == {world.stations["bangkok"]}
        assert narrowed[world.stations["bangkok"]]["answer_days"] == 10.0
        # Another year: nothing of the fixture.
        assert all(not row.get("submitted") for row in services.figures(2023, None).values())


def test_figures_are_a_constant_number_of_aggregates(app, world, fixture, count_queries):
    with app.test_request_context():
        with count_queries() as counter:
            services.figures(2025, None)
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 6, selects
    assert all("GROUP BY" in s.upper() for s in selects)


def test_scores_and_ranking_with_default_weights(app, world, fixture):
    with app.test_request_context():
        cards, _extra = services.scorecard(2025, None)
        mine = _by_station(world, cards)
        assert {k: c.score for k, c in mine.items()} == EXPECTED_SCORES
        assert [k for k, _c in sorted(mine.items(), key=lambda kc: kc[1].rank)] == ["hanoi", "milan", "bangkok"]
        assert mine["hanoi"].points == {"contacts": 1.0, "submitted": 2.0, "accepted": 3.0, "landed": 2.5,
                                        "answer_days": 2.0, "volunteers": 1.0}
        assert mine["bangkok"].points["answer_days"] == 0.73
        assert mine["milan"].points["answer_days"] == 0.0  # no question answered


def test_weights_change_the_ranking_and_are_audited(app, login, world, fixture):
    client = login("hq")
    data = {"year": "2025", **{f"w_{key}": "0" for key in services.KEYS}, "w_landed": "20"}
    response = client.post("/reports/scorecard/weights", data=data)
    assert response.status_code == 302 and "year=2025" in response.headers["Location"]
    page = client.get("/reports/scorecard/?year=2025").get_data(as_text=True)
    milan, hanoi = page.index('data-station="%d"' % world.stations["milan"]), page.index('data-station="%d"' % world.stations["hanoi"])
    assert milan < hanoi  # landed weighs everything: Milan (2 landed) first
    with app.app_context():
        assert db.session.get(ScorecardWeights, 2025).weights["landed"] == 20.0
        assert services.weights_for(2024) == services.DEFAULT_WEIGHTS  # per year
        cards, _ = services.scorecard(2025, None)
        assert {k: c.score for k, c in _by_station(world, cards).items()} == {"milan": 20.0, "hanoi": 10.0,
                                                                              "bangkok": 0.0}
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "scorecard.weights")).one()
        assert entry.actor_id == world.users["hq"] and entry.object_id == 2025
        assert entry.details["before"]["landed"] == 5.0 and entry.details["after"]["landed"] == 20.0
    # A second change: a second audit row, before = the stored weights.
    data["w_contacts"] = "2.5"
    assert client.post("/reports/scorecard/weights", data=data).status_code == 302
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "scorecard.weights")
                                     .order_by(AuditEntry.id)).all()
        assert len(entries) == 2 and entries[1].details["before"]["contacts"] == 0.0
        assert entries[1].details["after"]["contacts"] == 2.5


@pytest.mark.parametrize("field, value", [("w_landed", "-1"), ("w_landed", "101"), ("w_landed", "many"),
                                          ("w_landed", ""), ("year", "1800"), ("year", "next")])
def test_bad_weights_are_explained_and_write_nothing(app, login, world, field, value):
    client = login("hq")
    data = {"year": "2025", **{f"w_{key}": "1" for key in services.KEYS}, field: value}
    response = client.post("/reports/scorecard/weights", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is-invalid" in page or "text-danger" in page
    with app.app_context():
        assert db.session.scalar(select(ScorecardWeights)) is None
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "scorecard.weights")) is None


def test_only_hq_sets_weights(app, login, world):
    data = {"year": "2025", **{f"w_{key}": "1" for key in services.KEYS}}
    for who in ("vol_hanoi", "asean_admin"):
        assert login(who).post("/reports/scorecard/weights", data=data).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(ScorecardWeights)) is None


@pytest.mark.parametrize("who, stations, ranked", [
    ("hq", {"hanoi", "bangkok", "milan"}, True),
    ("admin", {"hanoi", "bangkok", "milan"}, True),
    ("asean_admin", {"hanoi", "bangkok"}, False),
    ("europe_admin", {"milan"}, False),
    ("vol_hanoi", {"hanoi"}, False),
    ("vol_milan", {"milan"}, False),
])
def test_every_role_sees_its_own_cards(login, world, fixture, who, stations, ranked):
    client = login(who)
    page = client.get("/reports/scorecard/?year=2025").get_data(as_text=True)
    shown = {key for key, sid in world.stations.items() if f'data-station="{sid}"' in page}
    assert shown == stations
    assert ('name="w_landed"' in page) is ranked  # only HQ sees (and sets) the weights
    assert ("scorecard-table" in page) is ranked
    if who == "vol_hanoi":
        assert "11.50" in page and "rank 1" in page  # the bureau's rank, not one among one
    book = load_workbook(io.BytesIO(client.get("/reports/scorecard/scorecard.xlsx?year=2025").data))
    names = {row[1] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert names == {f"{key.title()} station" for key in stations}


def test_xlsx_has_the_ranking_and_neutralises_formulas(app, login, world, fixture):
    with app.app_context():
        db.session.get(Station, world.stations["bangkok"]).name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    response = login("hq").get("/reports/scorecard/scorecard.xlsx?year=2025")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Rank", "Station", "Region", "Contacts added") and "Total score" in rows[0]
    by_name = {row[1]: row for row in rows[1:]}
    hanoi = by_name["Hanoi station"]
    assert hanoi[0] == 1 and hanoi[3:9] == (2, 2, 3, 1, 3.0, 1) and 11.5 in hanoi
    assert "'=HYPERLINK(\"http://x\")" in by_name  # neutralised, not a formula
    assert all(not (isinstance(c, str) and c.startswith("=")) for row in rows for c in row)
    assert "Weights" in book.sheetnames


def test_bad_year_is_explained(login, world):
    client = login("hq")
    for year in ("1800", "soon", "2101"):
        response = client.get(f"/reports/scorecard/?year={year}")
        assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)
        response = client.get(f"/reports/scorecard/scorecard.xlsx?year={year}")
        assert response.status_code == 200 and response.mimetype == "text/html"


def test_scorecard_in_chinese(login, world, fixture):
    client = login("hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = client.get("/reports/scorecard/?year=2025").get_data(as_text=True)
    assert "站点年度考核" in page and "Hanoi联络站" in page
    book = load_workbook(io.BytesIO(client.get("/reports/scorecard/scorecard.xlsx?year=2025").data))
    header = next(book.active.iter_rows(values_only=True))
    assert header[:3] == ("名次", "联络站", "区域") and "总分" in header
    assert "Hanoi联络站" in {row[1] for row in book.active.iter_rows(min_row=2, values_only=True)}


def test_bundled_plugins_add_their_figures(app, login, world, fixture):
    from liaison.models import User
    from liaison.plugins import activation

    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
        activation.set_enabled("europe_school_partnership", True, admin, region_id=world.regions["EUROPE"])
        db.session.commit()
        cards, extra = services.scorecard(2025, None)
        assert {f.key for f in extra} == {"asean_language_title.applications", "asean_language_title.granted",
                                          "europe_school_partnership.partnerships"}
        by_key = {f.key: f for f in extra}
        # Each plugin is given (and answers for) only the stations where it is on.
        assert set(by_key["europe_school_partnership.partnerships"].values) <= {world.stations["milan"]}
    page = login("hq").get("/reports/scorecard/?year=2025").get_data(as_text=True)
    assert "Title applications submitted" in page and "School partnerships recorded" in page
    assert "School partnerships recorded" not in login("vol_hanoi").get("/reports/scorecard/?year=2025").get_data(as_text=True)


def test_plugin_figures_are_weighted_and_count_in_the_score(app, login, world, fixture):
    """HQ weighs a plugin's figure like the core's (per year, stored, audited); it counts in the
    score and the ranking; 0 until set."""
    from liaison.models import User
    from liaison.plugins import activation
    from plugins.asean_language_title import scorecard as asean_scorecard

    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
        db.session.commit()
    key = "asean_language_title.applications"
    original = asean_scorecard.figures

    def figures(year, station_ids):  # Bangkok: 4 applications, Hanoi: 1
        found = original(year, station_ids)
        for figure in found:
            if figure.key.endswith("applications"):
                figure.values = {world.stations["bangkok"]: 4, world.stations["hanoi"]: 1}
        return found

    asean_scorecard.figures = figures
    try:
        client = login("hq")
        page = client.get("/reports/scorecard/?year=2025").get_data(as_text=True)
        assert 'name="w_asean_language_title__applications"' in page
        with app.test_request_context():
            cards, extra = services.scorecard(2025, None)
            before = {k: c.score for k, c in _by_station(world, cards).items()}
            assert services.weights_for(2025, extra)[key] == 0.0
        data = {"year": "2025", **{f"w_{k}": str(v) for k, v in services.DEFAULT_WEIGHTS.items()},
                "w_asean_language_title__applications": "10", "w_asean_language_title__granted": "0"}
        assert client.post("/reports/scorecard/weights", data=data).status_code == 302
        with app.test_request_context():
            assert db.session.get(ScorecardWeights, 2025).weights[key] == 10.0
            cards, extra = services.scorecard(2025, None)
            after = {k: c.score for k, c in _by_station(world, cards).items()}
            assert after["bangkok"] == pytest.approx(before["bangkok"] + 10.0)  # the best: the whole weight
            assert after["hanoi"] == pytest.approx(before["hanoi"] + 2.5)  # 10 × 1 ÷ 4
            assert after["milan"] == before["milan"]
            entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "scorecard.weights")).one()
            assert entry.details["before"][key] == 0.0 and entry.details["after"][key] == 10.0
        bad = client.post("/reports/scorecard/weights", data={**data, "w_asean_language_title__applications": "101"})
        assert bad.status_code == 200 and "Number must be between 0 and 100." in bad.get_data(as_text=True)
        hanoi = login("vol_hanoi").get("/reports/scorecard/?year=2025").get_data(as_text=True)
        assert "Title applications submitted" in hanoi and "2.50" in hanoi
    finally:
        asean_scorecard.figures = original
