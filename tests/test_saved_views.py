"""Saved views (liaison.saved_views): what is stored, who may share with whom, who sees what."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from liaison.models import SavedView, Sharing, User, db
from liaison.saved_views import services


def _user(world, key) -> User:
    return db.session.get(User, world.users[key])


def _view(world, owner, endpoint="leads.index", name="Mine", query="status=submitted", shared=Sharing.PRIVATE,
          region=None) -> int:
    view = SavedView(user_id=world.users[owner], endpoint=endpoint, name=name, query=query, shared=shared,
                     region_id=world.regions[region] if region else None)
    db.session.add(view)
    db.session.commit()
    return view.id


@pytest.mark.parametrize("raw, cleaned", [
    ("status=submitted&sort=-submitted", "status=submitted&sort=-submitted"),
    ("sort=-priority&q=%E7%8E%8B&cursor=abc&page=3", "q=%E7%8E%8B&sort=-priority"),
    ("evil=1&next=http://x.example&status=", ""),
    ("q=a&q=b", "q=a"),
    ("q=" + "x" * 500, "q=" + "x" * services.MAX_VALUE),
    ("q=%00%01a", "q=a"),
    ("", ""),
])
def test_only_allowed_parameters_are_kept(raw, cleaned):
    assert services.clean_query("leads.index", raw) == cleaned


def test_contact_list_has_its_own_parameters():
    assert services.clean_query("contacts.index", "q=x&tag=y&status=submitted&kind=scholar") == "q=x&kind=scholar&tag=y"


def test_sharing_choices(world, ctx):
    assert [v for v, _ in services.sharing_choices(_user(world, "vol_hanoi"))] == ["private"]
    assert [v for v, _ in services.sharing_choices(_user(world, "asean_admin"))] == \
        ["private", f"region:{world.regions['ASEAN']}"]
    assert [v for v, _ in services.sharing_choices(_user(world, "hq"))] == ["private", "hq"]
    with pytest.raises(services.Rejected):
        services.save(_user(world, "vol_hanoi"), "leads.index", "x", "", "hq")
    with pytest.raises(services.Rejected):
        services.save(_user(world, "asean_admin"), "leads.index", "x", "", f"region:{world.regions['EUROPE']}")
    with pytest.raises(services.Rejected):
        services.save(_user(world, "hq"), "leads.index", "x", "", f"region:{world.regions['ASEAN']}")
    with pytest.raises(services.Rejected):
        services.save(_user(world, "vol_hanoi"), "review.queue", "x", "", "private")  # not HQ
    with pytest.raises(services.Rejected):
        services.save(_user(world, "vol_hanoi"), "admin.users", "x", "", "private")
    assert db.session.scalar(select(db.func.count()).select_from(SavedView)) == 0


def test_who_sees_which_view(world, ctx):
    own = _view(world, "vol_hanoi", name="Hanoi private")
    asean = _view(world, "asean_admin", name="ASEAN shared", shared=Sharing.REGION, region="ASEAN")
    europe = _view(world, "europe_admin", name="Europe shared", shared=Sharing.REGION, region="EUROPE")
    hq = _view(world, "hq", name="HQ shared", shared=Sharing.HQ)
    hq_private = _view(world, "hq", name="HQ private")
    other_list = _view(world, "vol_hanoi", endpoint="contacts.index", name="Contacts")

    def seen(key, endpoint="leads.index"):
        return {v.id for v in services.visible_views(_user(world, key), endpoint)}

    assert seen("vol_hanoi") == {own, asean}
    assert seen("vol_bangkok") == {asean}
    assert seen("vol_milan") == {europe}
    assert seen("asean_admin") == {asean}
    assert seen("europe_admin") == {europe}
    assert seen("hq") == {hq, hq_private}
    assert seen("hq2") == {hq}
    assert seen("admin") == {hq}
    assert seen("vol_hanoi", "contacts.index") == {other_list}


def test_save_from_a_list_and_open_it(world, login):
    client = login("vol_hanoi")
    page = client.get("/saved-views/new?list=leads.index&query=status%3Dsubmitted%26evil%3D1").get_data(as_text=True)
    assert 'name="query" type="hidden" value="status=submitted"' in page or \
        'type="hidden" name="query" value="status=submitted"' in page or 'value="status=submitted"' in page
    assert 'value="status=submitted&amp;evil' not in page
    response = client.post("/saved-views/new", data={"list": "leads.index", "query": "status=submitted&evil=1&sort=-priority",
                                                     "name": "Submitted", "share": "private"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/leads/?status=submitted&sort=-priority")
    with client.application.app_context():
        view = db.session.scalar(select(SavedView))
        assert (view.name, view.query, view.user_id) == ("Submitted", "status=submitted&sort=-priority",
                                                          world.users["vol_hanoi"])
    with client.application.test_request_context("/leads/?status=submitted"):
        from flask import render_template_string
        from flask_login import login_user

        login_user(db.session.get(User, world.users["vol_hanoi"]))
        panel = render_template_string('{% include "saved_views/_panel.html" %}')
    assert "Submitted" in panel and "/leads/?status=submitted&amp;sort=-priority" in panel
    assert "/saved-views/new?list=leads.index&amp;query=status%3Dsubmitted" in panel


def test_rename_and_delete_own_only(world, login, app):
    with app.app_context():
        mine = _view(world, "vol_hanoi", name="Old")
        theirs = _view(world, "asean_admin", name="Shared", shared=Sharing.REGION, region="ASEAN")
    client = login("vol_hanoi")
    assert client.post(f"/saved-views/{theirs}/rename", data={f"v{theirs}-name": "Hijacked"}).status_code == 404
    assert client.post(f"/saved-views/{theirs}/delete").status_code == 404
    assert client.post(f"/saved-views/{mine}/rename", data={f"v{mine}-name": "New"}).status_code == 302
    response = client.post(f"/saved-views/{mine}/rename", data={f"v{mine}-name": ""})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SavedView, mine).name == "New"
        assert db.session.get(SavedView, theirs).name == "Shared"
    assert client.post(f"/saved-views/{mine}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(SavedView, mine) is None and db.session.get(SavedView, theirs) is not None


def test_duplicate_name_and_bad_input(world, login, app):
    client = login("hq")
    data = {"list": "review.queue", "query": "sort=-submitted", "name": "Mine", "share": "hq"}
    assert client.post("/saved-views/new", data=data).status_code == 302
    page = client.post("/saved-views/new", data=data).get_data(as_text=True)
    assert "You already have a view of this list with that name." in page
    assert client.post("/saved-views/new", data={**data, "list": "admin.users"}).status_code == 404
    assert client.get("/saved-views/new?list=nope").status_code == 404
    assert login("vol_hanoi").get("/saved-views/new?list=review.queue").status_code == 403
    page = login("vol_hanoi").post("/saved-views/new", data={**data, "list": "leads.index", "name": "V"}).get_data(as_text=True)
    assert "You may not share a view that way." in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(SavedView)) == 1


def test_shared_view_applies_the_viewers_scope(world, login, app):
    """A view is only a query string: opening Milan's station filter from Hanoi shows nothing of Milan."""
    with app.app_context():
        view = _view(world, "hq", name="Milan", query=f"station={world.stations['milan']}", shared=Sharing.HQ)
    with app.test_request_context():
        url = services.url_of(db.session.get(SavedView, view))
    assert "Lead of milan" in login("hq").get(url).get_data(as_text=True)
    assert "Lead of milan" not in login("vol_hanoi").get(url).get_data(as_text=True)


@pytest.mark.parametrize("user, path, endpoint", [
    ("vol_hanoi", "/leads/?status=submitted", "leads.index"),
    ("hq", "/review/?status=submitted", "review.queue"),
    ("vol_hanoi", "/contacts/?kind=scholar", "contacts.index"),
])
def test_lists_show_their_views_and_the_save_link(world, login, app, user, path, endpoint):
    with app.app_context():
        _view(world, user, endpoint=endpoint, name="My list view", query="sort=-priority")
        _view(world, user, endpoint="leads.index" if endpoint != "leads.index" else "contacts.index", name="Elsewhere")
    client = login(user)
    page = client.get(path).get_data(as_text=True)
    assert 'id="saved-views"' in page and "My list view" in page and "Elsewhere" not in page
    assert f"/saved-views/new?list={endpoint}" in page
    assert 'id="saved-views"' not in client.get("/").get_data(as_text=True)
