"""The example client in docs/api.md runs as written: it records a new contact with the person's
consent, creates a lead about them and submits it — through the API only, against the app through
httpx's WSGI transport."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import select

from liaison.models import Contact, ContactConsent, db

from .test_api import make_token

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Example client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_docs_example_creates_a_contact_with_consent_and_submits_a_lead(app, world):
    with app.test_request_context():
        secret = make_token(app, world, "vol_hanoi")
    namespace = {"__name__": "example"}
    exec(compile(_example(), str(DOC), "exec"), namespace)  # the block as a reader copies it
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://localhost",
                      headers={"Authorization": f"Bearer {secret}"}) as client:
        lead = namespace["main"](client)
    assert lead["status"] == "submitted"
    assert lead["submitted_at"].endswith("Z")
    with app.app_context():
        contact = db.session.get(Contact, lead["contact"]["id"])
        assert contact.id not in world.contacts.values() and contact.station_id == world.stations["hanoi"]
        basis = db.session.scalar(select(ContactConsent).where(ContactConsent.contact_id == contact.id))
        assert (basis.purpose, basis.basis, basis.source) == ("pass_to_hq", "consent", "form")
        assert basis.recorded_by_id == world.users["vol_hanoi"] and basis.evidence
