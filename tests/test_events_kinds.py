"""The hook ``liaison_event_kinds``: plugins add kinds of event (named ``<plugin>.<kind>``)."""
from __future__ import annotations

import pytest

from liaison.events import kinds

from .plugins import good_plugin


@pytest.fixture
def app_config():
    return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}


def test_event_kinds_from_a_plugin(app, login, world):
    check_event_kinds(app, login, world)


def check_event_kinds(app, login, world):
    """The contract of ``liaison_event_kinds`` (also run by tests/test_plugin_system.py)."""
    with app.test_request_context():
        found = kinds.all_kinds()
        assert "fixture_good.fair" in found and "symposium" in found
        assert "unprefixed" not in found  # a kind not named after its plugin is refused (and logged)
        assert kinds.label_of("fixture_good.fair") == "A fixture fair"
    assert ("event_kinds",) in good_plugin.CALLS
    client = login("vol_hanoi")
    page = client.get("/events/new").get_data(as_text=True)
    assert 'value="fixture_good.fair"' in page and "A fixture fair" in page
    response = client.post("/events/new", data={
        "kind": "fixture_good.fair", "organiser": "stations", "station_ids": str(world.stations["hanoi"]),
        "region_id": "0", "title": "Fair", "title_zh": "博览会", "timezone": "Asia/Bangkok",
        "starts_at": "2030-03-01T09:00", "ends_at": "2030-03-01T17:00"})
    assert response.status_code == 302
    assert client.post("/events/new", data={
        "kind": "unprefixed", "organiser": "stations", "station_ids": str(world.stations["hanoi"]),
        "region_id": "0", "title": "Fair", "title_zh": "博览会", "timezone": "Asia/Bangkok",
        "starts_at": "2030-03-01T09:00", "ends_at": "2030-03-01T17:00"}).status_code == 200
