"""Property-based tests: random, unicode, very long and malformed values in every form and
query string never cause a 5xx, and a rejected form writes nothing."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select, table

from liaison.models import db

NASTY = st.sampled_from([
    "", " ", "0", "-1", "1.5", "99999999999999999999", "1e309", "NaN", "null", "None", "true",
    "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "%%", "\\", "\x00", "a\x00b", "\u202e", "\ufeff",
    "🙂" * 50, "𝕏𝕐ℤ", "阮文安", "ສົມພອນ", "สมชาย", "2025-02-30", "2999-01-01", "0000-00-00", "#1", "//evil.example",
    "x" * 5000, "名" * 3000,
])
VALUES = st.one_of(NASTY, st.text(max_size=80), st.text(min_size=300, max_size=2000),
                   st.integers(min_value=-(2**70), max_value=2**70).map(str))
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

CONTACT = ["kind", "name", "name_zh", "name_original", "organisation", "position", "field", "country", "city",
           "email", "phone", "messaging", "languages", "tags", "notes", "confirm_duplicate", "submission_token"]
LEAD = ["category", "field", "summary", "wants", "offer", "priority", "submission_token", "version", "save",
        "save_and_submit"]
STATION = ["name", "name_zh", "region_id", "country", "city", "host_organisation", "host_kind", "established_on",
           "contact_email", "contact_phone", "notes"]
MASS = ["status", "station_id", "reviewer_id", "role", "id", "csrf_token"]

FORMS = [
    ("vol_hanoi", "/contacts/new?station_id={station}", CONTACT),
    ("vol_hanoi", "/contacts/{contact}/edit", CONTACT),
    ("vol_hanoi", "/leads/new?contact_id={contact}", LEAD),
    ("vol_hanoi", "/leads/{draft}/edit", LEAD),
    ("hq", "/leads/{submitted}/move", ["move", "version", "comment", "referral_target", "landed_on", "landing_kind"]),
    ("vol_hanoi", "/leads/{submitted}/comment", ["text"]),
    ("hq", "/leads/{submitted}/assign", ["reviewer_id", "version"]),
    ("hq", "/review/assign", ["lead_ids", "reviewer_id", "next"]),
    ("asean_admin", "/stations/new", STATION),
    ("asean_admin", "/stations/{station}/edit", STATION),
    ("asean_admin", "/stations/{station}/status", ["status-status", "status-reason"]),
    ("asean_admin", "/stations/{station}/members", ["member-user_id"]),
    ("admin", "/admin/users/new", ["name", "email", "role", "regions", "stations"]),
    ("admin", "/admin/regions/new", ["code", "name", "name_zh"]),
    ("vol_hanoi", "/profile", ["profile-name", "profile-locale", "profile-timezone", "password-current_password",
                               "password-new_password", "password-new_password_repeat"]),
    ("admin", "/admin/plugins/fixture_good/settings", ["scope", "greeting", "limit"]),
    ("admin", "/admin/plugins/fixture_good/switch", ["scope", "state"]),
    (None, "/login", ["email", "password", "next"]),
    (None, "/forgot-password", ["email"]),
    ("vol_hanoi", "/language", ["locale", "next"]),
]

QUERIES = [
    ("hq", "/review/", ["q", "status", "region", "station", "category", "reviewer", "submitted_from", "submitted_to",
                        "sort", "page"]),
    ("vol_hanoi", "/leads/", ["q", "status", "station", "category", "sort", "page"]),
    ("vol_hanoi", "/contacts/", ["q", "station", "kind", "tag", "page"]),
    ("asean_admin", "/stations/", ["region", "country", "status", "q", "page"]),
    ("hq", "/review/report", ["date_from", "date_to"]),
    ("hq", "/exports/leads.xlsx", ["q", "status", "station", "reviewer", "submitted_from"]),
    ("vol_hanoi", "/exports/contacts.xlsx", ["q", "station", "kind", "tag"]),
    ("admin", "/admin/users", ["q", "role", "page"]),
    ("vol_hanoi", "/contacts/new", ["station_id"]),
    ("vol_hanoi", "/leads/new", ["contact_id"]),
    (None, "/login", ["next"]),
]


@pytest.fixture
def app_config():
    return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        names = [name for name in inspect(db.engine).get_table_names() if name != "alembic_version"]
        return {name: db.session.scalar(select(func.count()).select_from(table(name))) for name in names}


def _fill(url: str, world) -> str:
    return url.format(station=world.stations["hanoi"], contact=world.contacts["hanoi"],
                      draft=world.leads["hanoi_draft"], submitted=world.leads["hanoi_submitted"])


@pytest.mark.parametrize("role,url,fields", FORMS, ids=[f[1] for f in FORMS])
def test_forms_never_fail_and_rejections_write_nothing(app, client, auth, world, role, url, fields):
    if role:
        auth.login(world.emails[role])
    path = _fill(url, world)

    @SETTINGS
    @given(data=st.dictionaries(st.sampled_from(fields + MASS), VALUES, max_size=len(fields) + 3))
    def check(data):
        before = _row_counts(app)
        response = client.post(path, data=data)
        assert response.status_code < 500, (path, data, response.status_code)
        if response.status_code != 302:  # re-rendered with errors, or refused: nothing written
            after = _row_counts(app)
            changed = {name for name in after if after[name] != before[name] and name not in ("plugin_errors",)}
            assert not changed, (path, data, response.status_code, changed)

    check()


@pytest.mark.parametrize("role,url,fields", QUERIES, ids=[q[1] for q in QUERIES])
def test_query_strings_never_fail(client, auth, world, role, url, fields):
    if role:
        auth.login(world.emails[role])

    @SETTINGS
    @given(args=st.dictionaries(st.sampled_from(fields), VALUES, max_size=len(fields)))
    def check(args):
        response = client.get(url, query_string=args)
        assert response.status_code < 500, (url, args, response.status_code)

    check()


@SETTINGS
@given(segment=VALUES)
def test_random_paths_never_fail(client, segment):
    for prefix in ["/leads/", "/contacts/", "/stations/", "/p/fixture_good/", "/admin/plugins/"]:
        response = client.get(prefix + segment.replace("?", "").replace("#", ""))
        assert response.status_code < 500
