"""Issue 8, items 6, 7 and 9: names in the reader's language everywhere (screens, report,
exports), words for people instead of developer words (Plugins page, activity feed), and phone
numbers validated, stored as E.164 and shown in international format."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from liaison.i18n import display_name, phone_display
from liaison.models import AuditEntry, Contact, Region, Station, User, db
from liaison.plugins import activation

ASEAN_PLUGIN = "asean_language_title"


def chinese(client):
    client.post("/language", data={"locale": "zh_Hans_CN"})
    return client


def english(client):
    client.post("/language", data={"locale": "en"})
    return client


def options(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", select_html, re.S)]


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


# 6. Names in the reader's language ---------------------------------------------------------

def test_display_name_takes_records_rows_and_plain_names(app):
    region = Region(code="ASEAN", name="ASEAN", name_zh="东盟")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert display_name(region) == "东盟"
        assert display_name("ASEAN", "东盟") == "东盟"
        assert display_name({"name": "Europe", "name_zh": "欧洲"}) == "欧洲"
        assert display_name(Region(code="X", name="Oceania", name_zh=None)) == "Oceania"  # no Chinese name
        assert display_name(None) == ""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert display_name(region) == "ASEAN" and display_name("ASEAN", "东盟") == "ASEAN"


def test_filters_show_station_and_region_names_in_chinese(login, world):
    client = chinese(login("admin"))
    leads = client.get("/leads/").get_data(as_text=True)
    assert "Hanoi联络站" in options(leads, "station") and "Hanoi station" not in options(leads, "station")
    assert options(leads, "region")[1:] == ["东盟", "欧洲"]
    queue = client.get("/review/").get_data(as_text=True)
    assert "Milan联络站" in options(queue, "station")
    contacts = client.get("/contacts/").get_data(as_text=True)
    assert "Bangkok联络站" in options(contacts, "station") and "Bangkok station" not in options(contacts, "station")
    stations = client.get("/stations/").get_data(as_text=True)
    assert options(stations, "region")[1:] == ["东盟", "欧洲"]
    new_station = client.get("/stations/new").get_data(as_text=True)
    assert "ASEAN — 东盟" in options(new_station, "region_id")
    new_user = client.get("/admin/users/new").get_data(as_text=True)
    assert "ASEAN — 东盟" in options(new_user, "regions") and "Hanoi联络站 (ASEAN)" in options(new_user, "stations")
    english(client)
    assert "Hanoi station" in options(client.get("/leads/").get_data(as_text=True), "station")


def test_report_names_regions_in_the_readers_language(login, world):
    client = chinese(login("hq"))
    label = '<th scope="row" class="fw-normal">{}</th>'
    html = client.get("/review/report?date_from=2000-01-01").get_data(as_text=True)
    assert label.format("东盟") in html and label.format("Asean") not in html
    english(client)
    assert label.format("Asean") in client.get("/review/report?date_from=2000-01-01").get_data(as_text=True)


def test_station_and_region_forms_have_a_name_per_language(login, world):
    client = english(login("admin"))
    for url in ("/stations/new", f"/admin/regions/{world.regions['ASEAN']}/edit"):
        html = client.get(url).get_data(as_text=True)
        assert "Name in English" in html and "Chinese name" in html and "blank shows the English name" in html, url
    html = chinese(client).get("/stations/new").get_data(as_text=True)
    assert "英文名称" in html and "中文名" in html


def test_users_list_scope_column_in_chinese(login, world):
    html = chinese(login("admin")).get("/admin/users?per_page=100").get_data(as_text=True)
    scopes = re.findall(r'<td class="small">([^<]*)</td>', html)
    assert "东盟" in scopes and "Hanoi联络站" in scopes
    assert "ASEAN" not in scopes and "Hanoi station" not in scopes


def test_exports_use_the_readers_names_and_country_names(app, login, world):
    with app.app_context():
        db.session.get(Contact, world.contacts["hanoi"]).country = "VN"
        db.session.commit()
    client = chinese(login("asean_admin"))  # the region's admin sees phone numbers unmasked
    header, *body = sheet_rows(client.get("/exports/contacts.xlsx"))
    hanoi = next(row for row in body if row[0] == world.contacts["hanoi"])
    assert "Hanoi联络站" in hanoi and "越南" in hanoi and "VN" not in hanoi
    assert hanoi[header.index("电话")].endswith("+84 24 3825 1234")  # international format (quoted against formulas)
    header, *body = sheet_rows(client.get("/exports/leads.xlsx"))
    stations = {row[4] for row in body}
    assert "Hanoi联络站" in stations and "Hanoi station" not in stations
    english(client)
    header, *body = sheet_rows(client.get("/exports/contacts.xlsx"))
    hanoi = next(row for row in body if row[0] == world.contacts["hanoi"])
    assert hanoi[header.index("Station")] == "Hanoi station" and hanoi[header.index("Country")] == "Vietnam"


# 7. Words for people on the Plugins page and in the activity feed ----------------------------

def test_plugins_page_keeps_hook_names_for_admins_technical_details(login, world):
    page = login("asean_admin").get("/admin/plugins/").get_data(as_text=True)
    assert "liaison_" not in page and "Hooks implemented" not in page and "Technical details" not in page
    assert "Region Asean" in page  # the region's name, not only its code
    page = login("admin").get("/admin/plugins/").get_data(as_text=True)
    details = re.findall(r'<details class="small text-muted plugin-technical">(.*?)</details>', page, re.S)
    asean = next(section for section in details if f"<code>{ASEAN_PLUGIN}</code>" in section)
    assert "Technical details" in asean and "liaison_nav_items" in asean
    outside = re.sub(r'<details class="small text-muted plugin-technical">.*?</details>', "", page, flags=re.S)
    assert "liaison_" not in outside and f"{ASEAN_PLUGIN} ·" not in outside


def test_activity_feed_names_the_plugin_and_the_region(app, login, world):
    with app.app_context():
        admin = db.session.get(User, world.users["asean_admin"])
        activation.set_enabled(ASEAN_PLUGIN, True, admin, region_id=world.regions["ASEAN"])
        activation.set_enabled(ASEAN_PLUGIN, False, admin, station_id=world.stations["hanoi"])
        db.session.commit()
        assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "plugin.switch").limit(1))
    client = english(login("asean_admin"))
    page = client.get("/").get_data(as_text=True)
    feed = page[page.index("Recent activity"):]
    feed = feed[:feed.index("</section>")]  # the chart beside it says "Hanoi station: 1" on purpose
    assert f"plugin {ASEAN_PLUGIN}" not in feed and "region:" not in feed and "station:" not in feed
    assert re.search(r"switched the plugin [^<(]+ on \(Asean\)", page)
    assert re.search(r"switched the plugin [^<(]+ off \(Hanoi station\)", page)
    page = chinese(client).get("/").get_data(as_text=True)
    assert "（东盟）" in page and "（Hanoi联络站）" in page and f"{ASEAN_PLUGIN} " not in page


# 9. Phone numbers ----------------------------------------------------------------------------

def _contact_form(**fields) -> dict:
    return {"kind": "scholar", "name": "Pham Minh", "country": "", "phone": "", "email": "",
            "submission_token": fields.pop("submission_token", "tok-" + fields.get("phone", "x")), **fields}


def test_a_local_number_is_read_in_the_stations_country_and_stored_as_e164(app, login, world):
    client = english(login("vol_hanoi"))
    url = f"/contacts/new?station_id={world.stations['hanoi']}"
    response = client.post(url, data=_contact_form(phone="0912345678"))
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "Pham Minh"))
        assert (contact.phone, contact.phone_e164) == ("+84912345678", "+84912345678")
        contact_id = contact.id
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "+84 912 345 678" in page and "0912345678" not in page


def test_an_invalid_number_is_refused_next_to_the_field_and_kept(app, login, world):
    client = english(login("vol_milan"))
    url = f"/contacts/new?station_id={world.stations['milan']}"
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(Contact))
    response = client.post(url, data=_contact_form(phone="0912"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="0912"' in html
    assert "Enter a valid phone number" in html and "read as a number in Italy" in html
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Contact)) == before


def test_edit_keeps_the_station_country_rule(app, login, world):
    client = english(login("vol_bangkok"))
    contact_id = world.contacts["bangkok"]
    with app.app_context():
        db.session.get(Contact, contact_id).phone = "+6621234567"  # as stored now
        db.session.commit()
    form = client.get(f"/contacts/{contact_id}/edit").get_data(as_text=True)
    assert 'value="+66 2 123 4567"' in form  # shown in international format
    response = client.post(f"/contacts/{contact_id}/edit",
                           data=_contact_form(name="Somchai Jaidee", phone="02 123 4567", country="VN"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Contact, contact_id).phone == "+6621234567"  # Thailand, not Vietnam


def test_station_contact_phone_is_normalised_and_shown_formatted(app, login, world):
    client = english(login("admin"))
    with app.app_context():
        station = db.session.get(Station, world.stations["milan"])
        data = {"name": station.name, "name_zh": station.name_zh or "", "region_id": str(station.region_id),
                "country": "IT", "city": station.city, "host_organisation": station.host_organisation,
                "host_kind": station.host_kind, "contact_phone": "02 1234 5678"}
    response = client.post(f"/stations/{world.stations['milan']}/edit", data=data)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Station, world.stations["milan"]).contact_phone == "+390212345678"
    assert "+39 02 1234 5678" in client.get(f"/stations/{world.stations['milan']}").get_data(as_text=True)
    assert 'value="+39 02 1234 5678"' in client.get(f"/stations/{world.stations['milan']}/edit").get_data(as_text=True)


def test_phone_display_leaves_unreadable_legacy_values_alone():
    assert phone_display("+390212345678") == "+39 02 1234 5678"
    assert phone_display("call the office") == "call the office"
    assert phone_display(None) == ""
