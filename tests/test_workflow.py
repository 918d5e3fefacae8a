"""The lead state machine: every move from every status by every kind of actor.

The expectations are written out here, independently of ``liaison.leads.workflow.MOVES``, so
that a change to the machine fails this test until the table below is changed too.
"""
from datetime import date, timedelta

import pytest

from liaison.leads import services
from liaison.leads.workflow import MOVES, IllegalMove, apply_move
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
