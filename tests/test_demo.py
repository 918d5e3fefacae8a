"""The demo data loads, is idempotent and covers every lead status."""
from sqlalchemy import func, select

from liaison.models import Contact, LeadStatus, Region, Station, TalentLead, User, db


def _counts(app):
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Region, Station, User, Contact, TalentLead)}


def test_demo_load_is_idempotent(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin@liaison.example" in first.output and "liaison-demo-2026" in first.output
    counts = _counts(app)
    assert counts["Region"] == 2 and counts["Station"] == 6 and counts["User"] == 10
    assert 25 <= counts["Contact"] <= 40 and 35 <= counts["TalentLead"] <= 50
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert _counts(app) == counts
    third = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "not loaded" in third.output
    assert _counts(app) == counts


def test_demo_covers_every_status_and_scripts(app, runner):
    runner.invoke(args=["demo", "load"])
    with app.app_context():
        statuses = set(db.session.scalars(select(TalentLead.status).distinct()))
        assert statuses == {status.value for status in LeadStatus}
        originals = db.session.scalars(select(Contact.name_original).where(Contact.name_original.is_not(None))).all()
        assert any("ສ" in name for name in originals)  # Lao script
        assert any("ส" in name for name in originals)  # Thai script
        landed = db.session.scalars(select(TalentLead).where(TalentLead.status == LeadStatus.LANDED)).all()
        assert all(lead.landed_on and lead.landing_kind for lead in landed)


def test_demo_accounts_can_log_in(app, runner, client):
    runner.invoke(args=["demo", "load"])
    response = client.post("/login", data={"email": "milan@liaison.example", "password": "liaison-demo-2026"})
    assert response.status_code == 302
    assert "Milan liaison station" in client.get("/").get_data(as_text=True)  # the home page lists her station
