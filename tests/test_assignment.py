"""Assignment rules (liaison.assignment): each criterion, order, round-robin fairness,
least-loaded, bulk re-apply, the timeline entry and the assignee's notification; the pages."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from liaison.assignment import services
from liaison.models import AssignmentRule, LeadEvent, LeadEventKind, LeadStatus, Notification, TalentLead, User, db

from .factories import make_lead


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def add_rule(world, name, criterion="any", strategy="reviewer", reviewer=None, members=(), position=10, **target):
    rule = AssignmentRule(name=name, criterion=criterion, strategy=strategy, position=position,
                          reviewer_id=world.users[reviewer] if reviewer else None, **target)
    rule.members = [db.session.get(User, world.users[m]) for m in members]
    db.session.add(rule)
    db.session.commit()
    return rule.id


def submit(app, world, station, **fields) -> int:
    """A lead of ``station`` submitted through the workflow's services (the rules apply there)."""
    from liaison.leads import services as lead_services

    with app.test_request_context():
        volunteer = db.session.get(User, world.users[f"vol_{station}"])
        lead_id = make_lead(world, station, LeadStatus.DRAFT, **fields)
        lead = db.session.scalars(select(TalentLead).where(TalentLead.id == lead_id).options(
            selectinload(TalentLead.contact), selectinload(TalentLead.station))).one()
        lead_services.make_move(lead, "submit", volunteer, expected_version=lead.version)
        db.session.remove()
    return lead_id


def reviewer_of(app, lead_id) -> int | None:
    with app.app_context():
        try:
            return db.session.get(TalentLead, lead_id).reviewer_id
        finally:
            db.session.remove()


def test_no_rule_leaves_the_lead_unassigned(app, world):
    assert reviewer_of(app, submit(app, world, "hanoi")) is None


@pytest.mark.parametrize("criterion, target, hit, miss", [
    ("region", lambda w: {"region_id": w.regions["ASEAN"]}, "hanoi", "milan"),
    ("station", lambda w: {"station_id": w.stations["milan"]}, "milan", "hanoi"),
    ("category", lambda w: {"category": "project"}, "project", "employment"),
])
def test_each_criterion(app, world, criterion, target, hit, miss):
    with app.app_context():
        add_rule(world, "r", criterion, reviewer="hq2", **target(world))
        db.session.remove()
    if criterion == "category":
        hit_lead, miss_lead = submit(app, world, "hanoi", category=hit), submit(app, world, "hanoi", category=miss)
    else:
        hit_lead, miss_lead = submit(app, world, hit), submit(app, world, miss)
    assert reviewer_of(app, hit_lead) == world.users["hq2"]
    assert reviewer_of(app, miss_lead) is None


def test_plugin_criterion_follows_the_plugins_activation(app, world):
    """The ASEAN plugin switched on for the ASEAN region only."""
    from liaison.plugins import activation

    with app.app_context():
        activation.set_enabled("asean_language_title", True, db.session.get(User, world.users["admin"]),
                               region_id=world.regions["ASEAN"])
        db.session.commit()
        add_rule(world, "plugin", "plugin", reviewer="hq2", plugin="asean_language_title")
        db.session.remove()
    on, off = submit(app, world, "hanoi"), submit(app, world, "milan")
    assert reviewer_of(app, on) == world.users["hq2"]
    assert reviewer_of(app, off) is None


def test_rules_apply_in_order_and_skip_rules_without_an_eligible_reviewer(app, world):
    with app.app_context():
        add_rule(world, "second", reviewer="hq", position=20)
        add_rule(world, "first", "region", reviewer="hq2", position=5, region_id=world.regions["ASEAN"])
        add_rule(world, "dead group", "station", "round_robin", members=(), position=1,
                 station_id=world.stations["milan"])
        db.session.remove()
    assert reviewer_of(app, submit(app, world, "hanoi")) == world.users["hq2"]
    assert reviewer_of(app, submit(app, world, "milan")) == world.users["hq"]  # empty group: next rule


def test_round_robin_is_fair(app, world):
    with app.app_context():
        add_rule(world, "rr", strategy="round_robin", members=("hq", "hq2", "admin"))
        db.session.remove()
    got = [reviewer_of(app, submit(app, world, "hanoi")) for _ in range(6)]
    ids = sorted([world.users["hq"], world.users["hq2"], world.users["admin"]])
    assert got == ids + ids


def test_round_robin_skips_an_inactive_member(app, world):
    with app.app_context():
        add_rule(world, "rr", strategy="round_robin", members=("hq", "hq2"))
        db.session.get(User, world.users["hq"]).active = False
        db.session.commit()
        db.session.remove()
    assert {reviewer_of(app, submit(app, world, "hanoi")) for _ in range(3)} == {world.users["hq2"]}


def test_least_loaded_picks_the_reviewer_with_fewest_open_leads(app, world):
    with app.app_context():
        # hq already reviews two open leads, hq2 none.
        for key in ("hanoi_submitted", "milan_submitted"):
            db.session.get(TalentLead, world.leads[key]).reviewer_id = world.users["hq"]
        db.session.commit()
        add_rule(world, "ll", strategy="least_loaded", members=("hq", "hq2"))
        db.session.remove()
    got = [reviewer_of(app, submit(app, world, "hanoi")) for _ in range(4)]
    assert got[:2] == [world.users["hq2"]] * 2  # 0 → 1 → 2: hq2 catches up
    assert sorted(got[2:]) == sorted([world.users["hq"], world.users["hq2"]])  # then in turn


def test_timeline_names_the_rule_and_the_assignee_is_notified(app, client, login, world):
    with app.app_context():
        rule_id = add_rule(world, "ASEAN desk", "region", reviewer="hq2", region_id=world.regions["ASEAN"])
        db.session.remove()
    login("vol_hanoi")
    lead = world.leads["hanoi_draft"]
    with app.app_context():
        version = db.session.get(TalentLead, lead).version
        db.session.remove()
    assert client.post(f"/leads/{lead}/move", data={"move": "submit", "version": version}).status_code == 302
    with app.app_context():
        event = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead,
                                                           LeadEvent.kind == LeadEventKind.ASSIGNED)).one()
        assert event.actor_id is None and f"#{rule_id} ASEAN desk" in event.text and "Hq2" in event.text
        got = db.session.execute(select(Notification.user_id, Notification.kind)
                                 .where(Notification.kind == "lead_assigned")).all()
        assert got == [(world.users["hq2"], "lead_assigned")]
        db.session.remove()
    login("hq")
    page = client.get(f"/leads/{lead}").get_data(as_text=True)
    assert "Assigned automatically by a rule" in page and "ASEAN desk" in page


def test_bulk_reapply_assigns_unassigned_open_leads_only(app, client, login, world):
    with app.app_context():
        closed = make_lead(world, "hanoi", LeadStatus.REJECTED)
        db.session.get(TalentLead, closed).reviewer_id = None
        assigned = make_lead(world, "milan", LeadStatus.SUBMITTED)
        db.session.get(TalentLead, assigned).reviewer_id = world.users["hq"]
        db.session.commit()
        add_rule(world, "all", reviewer="hq2")
        db.session.remove()
    login("hq")
    response = client.post("/review/rules/apply", follow_redirects=True)
    assert "The rules assigned 3 open leads." in response.get_data(as_text=True)
    assert reviewer_of(app, world.leads["hanoi_submitted"]) == world.users["hq2"]
    assert reviewer_of(app, world.leads["milan_submitted"]) == world.users["hq2"]
    assert reviewer_of(app, world.leads["hanoi_draft"]) is None  # drafts are not HQ's yet
    assert reviewer_of(app, closed) is None
    assert reviewer_of(app, assigned) == world.users["hq"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.kind == "lead_assigned")) == 3
        db.session.remove()


def test_hq_creates_edits_and_deletes_a_rule(app, client, login, world):
    login("hq")
    assert client.get("/review/rules").status_code == 200
    response = client.post("/review/rules", data={
        "name": "Europe desk", "position": "3", "active": "y", "criterion": "region",
        "region_id": str(world.regions["EUROPE"]), "strategy": "round_robin",
        "member_ids": [str(world.users["hq"]), str(world.users["hq2"])]})
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.scalars(select(AssignmentRule)).one()
        rule_id, members = rule.id, {m.id for m in db.session.scalars(select(User).join(
            AssignmentRule.members.property.secondary).where(AssignmentRule.members.property.secondary.c.rule_id == rule.id))}
        assert (rule.criterion, rule.region_id, rule.reviewer_id) == ("region", world.regions["EUROPE"], None)
        assert members == {world.users["hq"], world.users["hq2"]}
        db.session.remove()
    assert "Europe desk" in client.get("/review/rules").get_data(as_text=True)
    assert client.get(f"/review/rules/{rule_id}/edit").status_code == 200
    response = client.post(f"/review/rules/{rule_id}/edit", data={
        "name": "Europe desk", "position": "3", "criterion": "any", "strategy": "reviewer",
        "reviewer_id": str(world.users["hq2"])})
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.get(AssignmentRule, rule_id)
        assert (rule.criterion, rule.region_id, rule.reviewer_id, rule.active) == ("any", None, world.users["hq2"], False)
        db.session.remove()
    assert client.post(f"/review/rules/{rule_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(AssignmentRule, rule_id) is None
        db.session.remove()


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "criterion": "any", "strategy": "reviewer", "reviewer_id": "HQ"}, "name", "This field is required."),
    ({"name": "x", "criterion": "region", "strategy": "reviewer", "reviewer_id": "HQ"}, "region_id",
     "Choose one for this kind of rule."),
    ({"name": "x", "criterion": "any", "strategy": "reviewer"}, "reviewer_id", "Choose the reviewer."),
    ({"name": "x", "criterion": "any", "strategy": "round_robin"}, "member_ids",
     "Choose at least one reviewer for the group."),
    ({"name": "x", "criterion": "bogus", "strategy": "reviewer", "reviewer_id": "HQ"}, "criterion", "Not a valid choice"),
    ({"name": "x", "criterion": "any", "strategy": "reviewer", "reviewer_id": "VOL"}, "reviewer_id",
     "Not a valid choice"),
    ({"name": "x", "position": "-1", "criterion": "any", "strategy": "reviewer", "reviewer_id": "HQ"}, "position",
     "Number must be between"),
])
def test_bad_rule_input_is_refused_next_to_the_field(app, client, login, world, data, field, message):
    login("hq")
    data = {"position": "1", **data}
    data = {k: (str(world.users["hq"]) if v == "HQ" else str(world.users["vol_hanoi"]) if v == "VOL" else v)
            for k, v in data.items()}
    response = client.post("/review/rules", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-errors"' in page and message in page
    if data.get("name"):
        assert f'value="{data["name"]}"' in page  # input kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0
        db.session.remove()


def test_unknown_rule_is_404(client, login, world):
    login("hq")
    for path in ("/review/rules/999999/edit", "/review/rules/abc/edit"):
        assert client.get(path).status_code == 404
    assert client.post("/review/rules/999999/delete").status_code == 404


def test_workload_counts_open_leads_per_reviewer_by_age(app, client, login, world):
    from datetime import timedelta

    from liaison.models import utcnow

    with app.app_context():
        old = db.session.get(TalentLead, world.leads["hanoi_submitted"])
        old.reviewer_id, old.submitted_at = world.users["hq"], utcnow() - timedelta(days=40)
        old.status_changed_at = utcnow() - timedelta(days=40)
        db.session.commit()
        rows = {(row.reviewer.name if row.reviewer else None): (row.buckets, row.overdue) for row in services.workload()}
        assert rows["Hq"] == ([0, 0, 1, 0], 1)
        assert rows[None] == ([2, 0, 0, 0], 0)  # milan's and bangkok's, just submitted, unassigned
        db.session.remove()
    login("hq")
    page = client.get("/review/workload").get_data(as_text=True)
    assert "1–3 months" in page and "Not assigned" in page
