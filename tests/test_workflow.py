"""The lead state machine: every move from every status by every kind of actor.

The expectations are written out here, independently of ``liaison.leads.workflow.MOVES``, so
that a change to the machine fails this test until the table below is changed too.
"""
from datetime import date, timedelta

import pytest

from liaison.leads import services
from liaison.leads.workflow import MOVES, IllegalMove, apply_move, available_moves
from liaison.models import LeadEvent, LeadStatus, Station, StationStatus, TalentLead, User, db

from .factories import make_lead

S = LeadStatus
STATION, HQ = "station", "hq"
OPEN = [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO, S.ACCEPTED, S.REFERRED]

EXPECTED = {
    ("submit", S.DRAFT): (STATION, S.SUBMITTED),
    ("start_review", S.SUBMITTED): (HQ, S.UNDER_REVIEW),
    ("request_info", S.UNDER_REVIEW): (HQ, S.NEEDS_INFO),
    ("answer", S.NEEDS_INFO): (STATION, S.SUBMITTED),
    ("accept", S.UNDER_REVIEW): (HQ, S.ACCEPTED),
    ("reject", S.UNDER_REVIEW): (HQ, S.REJECTED),
    ("refer", S.ACCEPTED): (HQ, S.REFERRED),
    ("land", S.REFERRED): (HQ, S.LANDED),
    ("close_lost", S.ACCEPTED): (HQ, S.CLOSED_LOST),
    ("close_lost", S.REFERRED): (HQ, S.CLOSED_LOST),
    **{("withdraw", status): (STATION, S.WITHDRAWN) for status in OPEN},
}

# Who speaks for the Hanoi station, who is HQ, who is neither.
ACTORS = {
    "vol_hanoi": {STATION},
    "asean_admin": {STATION},
    "admin": {STATION, HQ},
    "hq": {HQ},
    "vol_bangkok": set(),
    "europe_admin": set(),
}

MOVE_DATA = {"referral_target": "市人才办", "landed_on": date(2025, 3, 1), "landing_kind": "hired"}

CASES = [(move, status) for move in MOVES for status in S]


def test_expectations_cover_the_machine():
    machine = {(name, status) for name, move in MOVES.items() for status in move.sources}
    assert machine == set(EXPECTED)


def _event_count(lead_id: int) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(LeadEvent).where(LeadEvent.lead_id == lead_id))


@pytest.mark.parametrize("move,status", CASES)
def test_move(ctx, world, move, status):
    """Each actor tries ``move`` on a fresh Hanoi lead in ``status``."""
    expected = EXPECTED.get((move, status))
    for actor, sides in ACTORS.items():
        lead = _lead(world, status)
        user = db.session.get(User, world.users[actor])
        events_before = _event_count(lead.id)
        if expected is not None and expected[0] in sides:
            event = services.make_move(lead, move, user, expected_version=lead.version, comment="a reason", **MOVE_DATA)
            assert lead.status == expected[1], actor
            assert (event.from_status, event.to_status, event.actor_id) == (status, expected[1], user.id)
            assert _event_count(lead.id) == events_before + 1
        else:
            with pytest.raises(IllegalMove):
                services.make_move(lead, move, user, expected_version=lead.version, comment="a reason", **MOVE_DATA)
            db.session.rollback()
            db.session.refresh(lead)
            assert lead.status == status, actor
            assert _event_count(lead.id) == events_before, actor


@pytest.mark.parametrize("move,status", [("request_info", S.UNDER_REVIEW), ("reject", S.UNDER_REVIEW),
                                          ("close_lost", S.ACCEPTED), ("answer", S.NEEDS_INFO)])
def test_moves_that_need_a_comment(ctx, world, move, status):
    lead = _lead(world, status)
    actor = db.session.get(User, world.users["vol_hanoi" if move == "answer" else "hq"])
    with pytest.raises(IllegalMove) as error:
        apply_move(lead, move, actor, "   ")
    assert error.value.field == "comment"
    assert lead.status == status


def _lead(world, status):
    lead_id = make_lead(world, "hanoi", status)
    return db.session.scalar(db.select(TalentLead).where(TalentLead.id == lead_id)
                             .options(db.selectinload(TalentLead.station)))


def test_refer_needs_a_target_and_land_needs_date_and_kind(ctx, world):
    hq = db.session.get(User, world.users["hq"])
    lead = _lead(world, S.ACCEPTED)
    with pytest.raises(IllegalMove) as error:
        apply_move(lead, "refer", hq, referral_target=" ")
    assert error.value.field == "referral_target"
    lead = _lead(world, S.REFERRED)
    with pytest.raises(IllegalMove) as error:
        apply_move(lead, "land", hq, landing_kind="hired")
    assert error.value.field == "landed_on"
    with pytest.raises(IllegalMove) as error:
        apply_move(lead, "land", hq, landed_on=date.today() + timedelta(days=3), landing_kind="hired")
    assert error.value.field == "landed_on"
    with pytest.raises(IllegalMove) as error:
        apply_move(lead, "land", hq, landed_on=date(2025, 1, 1), landing_kind="bought lunch")
    assert error.value.field == "landing_kind"
    assert lead.status == S.REFERRED and lead.landed_on is None


def test_landing_counts_once(ctx, world):
    hq = db.session.get(User, world.users["hq"])
    lead = _lead(world, S.LANDED)
    with pytest.raises(IllegalMove):
        apply_move(lead, "land", hq, landed_on=date(2025, 1, 2), landing_kind="hired")


def test_first_submission_date_is_kept_on_resubmission(ctx, world):
    lead = _lead(world, S.NEEDS_INFO)
    first = lead.submitted_at
    volunteer = db.session.get(User, world.users["vol_hanoi"])
    services.make_move(lead, "answer", volunteer, expected_version=lead.version, comment="more details")
    assert lead.status == S.SUBMITTED and lead.submitted_at == first


@pytest.mark.parametrize("station_status", [StationStatus.SUSPENDED, StationStatus.CLOSED])
def test_inactive_station_cannot_move_but_hq_can(ctx, world, station_status):
    lead_id = _lead(world, S.UNDER_REVIEW).id
    db.session.get(Station, world.stations["hanoi"]).status = station_status
    db.session.commit()
    lead = db.session.get(TalentLead, lead_id, options=[db.selectinload(TalentLead.station)], populate_existing=True)
    volunteer = db.session.get(User, world.users["vol_hanoi"])
    with pytest.raises(IllegalMove):
        apply_move(lead, "withdraw", volunteer)
    hq = db.session.get(User, world.users["hq"])
    apply_move(lead, "accept", hq)
    assert lead.status == S.ACCEPTED


def test_stale_version_is_a_conflict(ctx, world):
    lead = _lead(world, S.UNDER_REVIEW)
    hq = db.session.get(User, world.users["hq"])
    with pytest.raises(services.Conflict):
        services.make_move(lead, "accept", hq, expected_version=lead.version - 1)
    assert lead.status == S.UNDER_REVIEW


# Closed leads keep their reviewer (issue 8, item 3) ------------------------------------------

CLOSED = [S.LANDED, S.REJECTED, S.CLOSED_LOST, S.WITHDRAWN]


@pytest.mark.parametrize("status", CLOSED)
def test_closed_lead_cannot_be_reassigned_by_the_service(ctx, world, status):
    lead = _lead(world, status)
    hq, hq2 = (db.session.get(User, world.users[key]) for key in ("hq", "hq2"))
    for reviewer in (hq2, None):
        with pytest.raises(IllegalMove) as error:
            services.assign_reviewer([lead], reviewer, hq)
        assert "cannot be reassigned" in str(error.value.message)
    assert lead.reviewer_id is None and not services.can_assign(lead, hq)


def test_open_lead_can_be_reassigned(ctx, world):
    lead = _lead(world, S.UNDER_REVIEW)
    hq, hq2 = (db.session.get(User, world.users[key]) for key in ("hq", "hq2"))
    assert services.can_assign(lead, hq)
    assert services.assign_reviewer([lead], hq2, hq) == 1
    assert lead.reviewer_id == hq2.id


def _reviewer_of(app, lead_id):
    with app.app_context():
        reviewer = db.session.get(TalentLead, lead_id).reviewer_id
        db.session.remove()
        return reviewer


@pytest.mark.parametrize("status", CLOSED)
def test_closed_lead_cannot_be_reassigned_over_http(app, login, world, status):
    with app.test_request_context():
        closed = make_lead(world, "hanoi", status)
        open_ = make_lead(world, "hanoi", S.SUBMITTED)
    client = login("hq")
    response = client.post(f"/leads/{closed}/assign", data={"reviewer_id": world.users["hq2"]},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "cannot be reassigned" in response.get_data(as_text=True)
    assert _reviewer_of(app, closed) is None
    # The queue's bulk action refuses the whole selection, the open lead included.
    response = client.post("/review/assign", follow_redirects=True,
                           data={"lead_ids": [closed, open_], "reviewer_id": world.users["hq2"]})
    assert "cannot be reassigned" in response.get_data(as_text=True)
    assert _reviewer_of(app, closed) is None and _reviewer_of(app, open_) is None


# One rule for suspended and closed stations, core and plugins alike ------------------------

@pytest.mark.parametrize("station_status", [StationStatus.SUSPENDED, StationStatus.CLOSED])
def test_inactive_station_keeps_only_hq_moves(ctx, world, station_status):
    """The rule in ``liaison.workflow``: the station side is read-only, HQ's moves remain."""
    from liaison.workflow import Side, sides_of

    lead_id = _lead(world, S.SUBMITTED).id
    station = db.session.get(Station, world.stations["hanoi"])
    station.status = station_status
    db.session.commit()
    lead = db.session.get(TalentLead, lead_id, options=[db.selectinload(TalentLead.station)], populate_existing=True)
    for key, sides in (("vol_hanoi", set()), ("asean_admin", set()), ("admin", {Side.HQ}), ("hq", {Side.HQ})):
        user = db.session.get(User, world.users[key])
        assert sides_of(user, lead.station) == sides, key
    assert [m.name for m in available_moves(lead, db.session.get(User, world.users["vol_hanoi"]))] == []
    assert [m.name for m in available_moves(lead, db.session.get(User, world.users["hq"]))] == ["start_review"]


def test_core_and_plugins_share_one_machinery():
    """One workflow module, one IllegalMove, one Conflict family, one commit helper, one today."""
    from liaison import concurrency, workflow
    from liaison.i18n import local_today
    from plugins.asean_language_title import services as asean_services
    from plugins.asean_language_title import workflow as asean
    from plugins.europe_school_partnership import dates as europe_dates
    from plugins.europe_school_partnership import services as europe_services
    from plugins.europe_school_partnership import stages as europe

    from liaison.leads import workflow as leads

    for module in (leads, asean, europe):
        assert isinstance(module.WORKFLOW, workflow.Workflow)
        assert module.IllegalMove is workflow.IllegalMove
        assert all(isinstance(move, workflow.Move) for move in module.MOVES.values())
    for conflict in (services.Conflict, asean_services.Conflict, europe_services.Conflict):
        assert issubclass(conflict, concurrency.Conflict)
    assert europe_dates.local_today is local_today
