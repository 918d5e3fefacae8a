"""The example client in docs/api.md runs as written: it creates a lead and submits it, against
the app through httpx's WSGI transport."""
from __future__ import annotations

import re
from pathlib import Path

import httpx

from .test_api import make_token

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Example client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_docs_example_creates_and_submits_a_lead(app, world):
    with app.test_request_context():
        secret = make_token(app, world, "vol_hanoi")
    namespace = {"__name__": "example"}
    exec(compile(_example(), str(DOC), "exec"), namespace)  # the block as a reader copies it
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://localhost",
                      headers={"Authorization": f"Bearer {secret}"}) as client:
        lead = namespace["main"](client, world.contacts["hanoi"])
    assert lead["status"] == "submitted"
    assert lead["submitted_at"].endswith("Z")
