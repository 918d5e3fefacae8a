"""Spreadsheet import of contacts: bad files, mapping, per-row problems, duplicates, the three
modes, all or nothing, revert and its refusals, round trip with the export, the CLI, scope; and
the migration of contacts' tags and languages into rows (SQLite and PostgreSQL)."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from liaison.imports import services
from liaison.models import Contact, ContactTag, ImportBatch, ImportRow, TalentLead, User, db

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def csv_bytes(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, build=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if build:
        build(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, station_id: int, name: str, data: bytes):
    return client.post(f"/imports/new?station_id={station_id}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def staged(client, station_id: int, name: str, data: bytes) -> int:
    response = upload(client, station_id, name, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/imports/(\d+)/mapping", response.headers["Location"])[1])


def batch_of(app, import_id: int) -> ImportBatch:
    with app.app_context():
        batch = db.session.get(ImportBatch, import_id)
        db.session.expunge(batch)
        return batch


def confirm_mapping(client, app, import_id: int, changes: dict[int, str] | None = None):
    batch = batch_of(app, import_id)
    data = {f"col_{i}": batch.mapping.get(str(i), "") for i in range(len(batch.header))}
    data.update({f"col_{i}": target for i, target in (changes or {}).items()})
    return client.post(f"/imports/{import_id}/mapping", data=data)


def do_import(client, app, station_id, name, data, mode="skip", leave_out_errors=False, changes=None):
    import_id = staged(client, station_id, name, data)
    response = confirm_mapping(client, app, import_id, changes)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    form = {"mode": mode}
    if leave_out_errors:
        form["leave_out_errors"] = "y"
    return import_id, client.post(f"/imports/{import_id}/review", data=form)


def contacts_named(app, *names) -> list[Contact]:
    with app.app_context():
        from sqlalchemy.orm import selectinload

        found = db.session.scalars(select(Contact).where(Contact.name.in_(names)).order_by(Contact.id)
                                   .options(selectinload(Contact.tag_rows), selectinload(Contact.language_rows))).all()
        for contact in found:
            db.session.expunge(contact)
        return list(found)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(model))


# --- bad files ----------------------------------------------------------------------------------

def _broken_xlsx() -> bytes:
    return b"PK\x03\x04" + b"\x00" * 200


BAD_FILES = {
    "empty": ("empty.csv", fixture("empty.csv"), "The file is empty."),
    "blank lines": ("blank.csv", b"\r\n\r\n  \r\n", "The file is empty."),
    "header only": ("header.csv", fixture("header_only.csv"), "a header row but no data rows"),
    "not a spreadsheet": ("cv.csv", fixture("not_a_spreadsheet.csv"), "not a spreadsheet"),
    "old excel": ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel file (.xls)"),
    "broken xlsx": ("broken.xlsx", _broken_xlsx(), "not a valid Excel workbook"),
    "renamed text as xlsx": ("notes.xlsx", b"just some text", "not a valid Excel workbook"),
    "too many columns": ("wide.csv", csv_bytes([[f"c{i}" for i in range(45)], ["x"] * 45]), "45 columns"),
    "row wider than allowed": ("wide-row.csv", csv_bytes([["Name"], ["x"] * 45]), "45 values"),
    "empty workbook": ("nothing.xlsx", xlsx_bytes([]), "The file is empty."),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_file_gets_a_clear_message_and_writes_nothing(app, login, world, case):
    name, data, message = BAD_FILES[case]
    client = login("vol_hanoi")
    response = upload(client, world.stations["hanoi"], name, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(app, ImportBatch) == 0


def test_file_over_the_size_limit(app, login, world):
    app.config["IMPORT_MAX_BYTES"] = 2000
    client = login("vol_hanoi")
    big = csv_bytes([["Name"]] + [[f"Person {i}"] for i in range(400)])
    response = upload(client, world.stations["hanoi"], "big.csv", big)
    assert response.status_code in (400, 413)
    assert "larger than" in response.get_data(as_text=True)
    # Far over the limit: the request itself is refused before it is read, with the same message.
    response = upload(client, world.stations["hanoi"], "huge.csv", big * 100)
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    assert count(app, ImportBatch) == 0


def test_no_file_chosen(app, login, world):
    client = login("vol_hanoi")
    response = client.post(f"/imports/new?station_id={world.stations['hanoi']}", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file" in response.get_data(as_text=True)


def test_more_cells_than_the_header_is_a_notice_of_its_row(app, login, world):
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "extra.csv",
                       csv_bytes([["Name", "E-mail"], ["An Le", "an.le@example.org", "surprise"]]))
    confirm_mapping(client, app, import_id)
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    assert "1 more values than the header has columns" in page


# --- encodings and mapping ------------------------------------------------------------------------

ZH_MAPPING = {"0": "name", "1": "name_zh", "2": "email", "3": "phone", "4": "organisation", "5": "position",
              "6": "field", "7": "country", "8": "city", "9": "messaging", "10": "tags", "11": "notes"}


@pytest.mark.parametrize("name", ["contacts_zh_gbk.csv", "contacts_zh_bom.csv"])
def test_chinese_headers_in_gbk_or_utf8_with_bom(app, login, world, name):
    client = login("europe_admin")
    import_id = staged(client, world.stations["milan"], name, fixture(name))
    assert batch_of(app, import_id).mapping == ZH_MAPPING
    page = client.get(f"/imports/{import_id}/mapping").get_data(as_text=True)
    assert "王小明" in page and "Politecnico di Milano" in page  # the preview
    if "gbk" in name:
        assert "GB18030" in page  # the notice: how the file was read
    response = confirm_mapping(client, app, import_id)
    assert response.status_code == 302
    response = client.post(f"/imports/{import_id}/review", data={"mode": "create"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    wang, li, zhang = contacts_named(app, "Wang Xiaoming", "Li Hua", "Zhang Wei")
    assert (wang.name_zh, wang.email, wang.phone, wang.country, wang.tag_list, wang.notes, wang.position) == (
        "王小明", "wang.xm@example.org", "+393331234567", "IT", ["PhD", "新能源"], "2024年沙龙", "研究员")
    assert li.phone == "+393337654321"  # without "+": read in the station's country (Italy)
    assert li.tag_list == ["PhD", "AI"] and zhang.country == "IT"  # "Italy" by name
    assert wang.station_id == world.stations["milan"] and wang.created_by_id == world.users["europe_admin"]


def test_english_headers_row_problems_and_duplicates_within_the_file(app, login, world):
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "contacts_en.csv", fixture("contacts_en.csv"))
    assert batch_of(app, import_id).mapping == {
        "0": "name", "1": "email", "2": "phone", "3": "organisation", "4": "position", "5": "field",
        "6": "country", "7": "city", "8": "messaging", "9": "languages", "10": "tags", "11": "notes"}
    confirm_mapping(client, app, import_id)
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    problems = {(int(r), c, v): reason for r, c, v, reason in rows}
    assert problems[(3, "E-mail", "not-an-email")] == "Not a valid e-mail address."
    assert problems[(3, "Phone", "12")].startswith("Not a valid phone number")
    assert problems[(3, "Country", "Atlantis")].startswith("Not a country")
    assert problems[(4, "Name", "")] == "A name is required."
    assert "row 2 of this file" in page  # row 5 has row 2's e-mail address (in capitals)
    # Problems: the import is refused as a whole, nothing written.
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip"})
    assert response.status_code == 400 and "2 rows have problems" in response.get_data(as_text=True)
    assert not contacts_named(app, "Marco Bianchi") and batch_of(app, import_id).status == "staged"
    # Leaving them out: the good row goes in; the duplicate row of the file is skipped.
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip", "leave_out_errors": "y"})
    assert response.status_code == 302
    batch = batch_of(app, import_id)
    assert (batch.status, batch.created_count, batch.skipped_count, batch.error_count, batch.mode) == (
        "committed", 1, 3, 2, "skip")
    assert batch.rows is None  # the staged copy is dropped once imported
    (marco,) = contacts_named(app, "Marco Bianchi")
    assert marco.language_list == ["Italian", "English"] and marco.tags == "professor, robotics"
    assert marco.country == "IT" and marco.phone == "+390255551234"


def test_the_last_mapping_of_the_station_is_remembered(app, login, world):
    client = login("vol_hanoi")
    data = csv_bytes([["Full name", "Memo", "Whatever"], ["Tran Thi Mai", "met in Hanoi", "x"]])
    import_id = staged(client, world.stations["hanoi"], "a.csv", data)
    assert batch_of(app, import_id).mapping == {"0": "name", "1": "", "2": ""}
    confirm_mapping(client, app, import_id, {1: "notes", 2: "tags"})
    assert client.post(f"/imports/{import_id}/review", data={"mode": "create"}).status_code == 302
    second = staged(client, world.stations["hanoi"], "b.csv", data)
    assert batch_of(app, second).mapping == {"0": "name", "1": "notes", "2": "tags"}
    # Another station does not inherit it.
    client = login("admin")
    third = staged(client, world.stations["bangkok"], "c.csv", data)
    assert batch_of(app, third).mapping == {"0": "name", "1": "", "2": ""}


def test_bad_mapping_is_refused(app, login, world):
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "contacts_en.csv", fixture("contacts_en.csv"))
    response = confirm_mapping(client, app, import_id, {0: "", 1: "email"})
    assert response.status_code == 400 and "Choose the column that holds the name." in response.get_data(as_text=True)
    response = confirm_mapping(client, app, import_id, {2: "email"})
    assert response.status_code == 400 and "is chosen for more than one column" in response.get_data(as_text=True)
    response = confirm_mapping(client, app, import_id, {2: "no_such_field"})
    assert response.status_code == 400
    assert batch_of(app, import_id).mapping["2"] == "phone"  # unchanged


# --- XLSX: merged cells, dates, formulas ------------------------------------------------------

def test_xlsx_with_merged_cells_dates_and_other_sheets(app, login, world):
    client = login("vol_milan")
    import_id = staged(client, world.stations["milan"], "contacts_merged.xlsx", fixture("contacts_merged.xlsx"))
    batch = batch_of(app, import_id)
    assert batch.rows[0][1:] == ["Chen Jing", "Sapienza University", "393331112233", "PhD", "2024-05-01"]
    assert batch.rows[1][1:3] == ["Liu Yang", "Sapienza University"]  # filled from the merged range
    page = client.get(f"/imports/{import_id}/mapping").get_data(as_text=True)
    assert "Merged cells B2:B3" in page and "Only the first sheet" in page
    response = client.post(f"/imports/{import_id}/review", data={"mode": "create"}) if confirm_mapping(
        client, app, import_id, {4: ""}).status_code == 302 else None
    assert response is not None and response.status_code == 302
    chen, liu = contacts_named(app, "Chen Jing", "Liu Yang")
    assert chen.phone == "+393331112233"  # a number cell: no ".0", read in Italy
    assert liu.organisation == "Sapienza University"


def _with_cached_value(data: bytes, cell: str, value: str) -> bytes:
    """An XLSX whose formula cell ``cell`` carries a computed value (as Excel saves it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text = re.sub(rf'<c r="{cell}"[^>]*>(<f>[^<]*</f>)<v\s*/?>(</v>)?', rf'<c r="{cell}" t="str">\1<v>{value}</v>',
                              text)
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def test_formulas_use_the_computed_value_or_are_refused(app, login, world):
    client = login("vol_milan")
    data = xlsx_bytes([["Name", "Phone"], ["Sara Neri", "=\"+39 02 \"&\"1234 7777\""], ["Ugo Blu", "=A2"]])
    data = _with_cached_value(data, "B2", "+39 02 1234 7777")
    import_id = staged(client, world.stations["milan"], "formulas.xlsx", data)
    batch = batch_of(app, import_id)
    assert batch.rows[0][2] == "+39 02 1234 7777"
    assert [n["code"] for n in batch.notices] == ["formula_no_value"] and batch.notices[0]["row"] == 3
    confirm_mapping(client, app, import_id)
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    assert "A formula without a computed value" in page
    response = client.post(f"/imports/{import_id}/review", data={"mode": "create", "leave_out_errors": "y"})
    assert response.status_code == 302
    assert [c.name for c in contacts_named(app, "Sara Neri", "Ugo Blu")] == ["Sara Neri"]


# --- duplicates and modes ---------------------------------------------------------------------

def _matching_file(**extra) -> bytes:
    # Row 2 matches the Hanoi contact by e-mail (case ignored), row 3 by phone typed locally; row 4 is new.
    return csv_bytes([["Name", "E-mail", "Phone", "Organisation", "Tags"],
                      ["Nguyen Van An", "AN@example.org", "", "VNU Hanoi", "alumni"],
                      ["An Nguyen", "", "024 3825 1234", "", ""],
                      ["Pham Thu", "thu@example.org", "", "FPT", "AI"]])


@pytest.mark.parametrize("mode,created,updated,skipped", [
    ("create", 3, 0, 0), ("skip", 1, 0, 2), ("update", 1, 1, 1),
])
def test_the_three_modes(app, login, world, mode, created, updated, skipped):
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "m.csv", _matching_file())
    confirm_mapping(client, app, import_id)
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    assert page.count(f'href="/contacts/{world.contacts["hanoi"]}"') == 2  # both rows link to the match
    before = count(app, Contact)
    response = client.post(f"/imports/{import_id}/review", data={"mode": mode})
    assert response.status_code == 302
    batch = batch_of(app, import_id)
    assert (batch.created_count, batch.updated_count, batch.skipped_count) == (created, updated, skipped)
    assert count(app, Contact) == before + created
    with app.app_context():
        an = db.session.get(Contact, world.contacts["hanoi"])
        if mode == "update":
            # Only the first matching row updates (row 3 matches the same contact: skipped, ambiguous).
            assert (an.organisation, an.tag_list, an.email) == ("VNU Hanoi", ["alumni"], "AN@example.org")
        else:
            assert (an.organisation, an.tag_list) == ("Hanoi University", [])


def test_duplicates_are_only_the_stations_own(app, login, world):
    """Milan's contact has the same e-mail as a row imported into Hanoi: no duplicate there."""
    client = login("admin")
    import_id = staged(client, world.stations["hanoi"], "d.csv",
                       csv_bytes([["Name", "E-mail"], ["Marco Rossi", "marco@example.org"]]))
    confirm_mapping(client, app, import_id)
    with app.test_request_context():
        analysis = services.analyse(db.session.get(ImportBatch, import_id))
        assert analysis.rows[0].matches == [] and analysis.duplicate_rows == []


def test_all_or_nothing_a_failure_midway_writes_nothing(app, login, world, monkeypatch):
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "m.csv", _matching_file())
    confirm_mapping(client, app, import_id)
    real_apply = services._apply
    calls = []

    def failing_apply(contact, data, station=None):
        calls.append(data.get("name"))
        if len(calls) == 2:  # the row after the update
            raise RuntimeError("disk full")
        return real_apply(contact, data, station)

    monkeypatch.setattr(services, "_apply", failing_apply)
    before = count(app, Contact)
    response = client.post(f"/imports/{import_id}/review", data={"mode": "update"})
    assert response.status_code == 400
    assert "nothing was written" in response.get_data(as_text=True)
    assert len(calls) == 2 and count(app, Contact) == before and count(app, ImportRow) == 0
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]).organisation == "Hanoi University"
    assert batch_of(app, import_id).status == "staged"


# --- revert -----------------------------------------------------------------------------------

def test_revert_removes_created_and_restores_updated(app, login, world):
    with app.test_request_context():
        an = db.session.get(Contact, world.contacts["hanoi"])
        an.tags = "founder, PhD"
        an.languages = "Vietnamese"
        db.session.commit()
    client = login("vol_hanoi")
    import_id, response = do_import(client, app, world.stations["hanoi"], "m.csv", _matching_file(), mode="update")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]).tag_list == ["alumni"]
    assert contacts_named(app, "Pham Thu")
    page = client.get("/imports/").get_data(as_text=True)
    assert "m.csv" in page and f'action="/imports/{import_id}/revert"' in page
    response = client.post(f"/imports/{import_id}/revert")
    assert response.status_code == 302
    assert not contacts_named(app, "Pham Thu")
    with app.app_context():
        an = db.session.get(Contact, world.contacts["hanoi"])
        assert (an.organisation, an.tag_list, an.language_list, an.email) == (
            "Hanoi University", ["founder", "PhD"], ["Vietnamese"], "an@example.org")
        assert db.session.scalar(select(db.func.count()).select_from(ContactTag)
                                 .where(ContactTag.contact_id == an.id)) == 2
    batch = batch_of(app, import_id)
    assert batch.status == "reverted" and batch.reverted_by_id == world.users["vol_hanoi"]
    # A second revert is refused, clearly.
    page = client.post(f"/imports/{import_id}/revert", follow_redirects=True).get_data(as_text=True)
    assert "Only a completed import can be reverted." in page


def test_revert_refused_after_a_later_edit_or_a_lead(app, login, world):
    client = login("vol_hanoi")
    import_id, response = do_import(client, app, world.stations["hanoi"], "m.csv", _matching_file(), mode="update")
    assert response.status_code == 302
    (thu,) = contacts_named(app, "Pham Thu")
    # A later edit of the updated contact.
    with app.test_request_context():
        from liaison.contacts.services import update_contact

        an = db.session.get(Contact, world.contacts["hanoi"])
        update_contact(an, {"position": "Dean"}, db.session.get(User, world.users["vol_hanoi"]))
        lead = TalentLead(contact_id=thu.id, station_id=thu.station_id, submitter_id=world.users["vol_hanoi"],
                          category="employment", summary="Thu's lead", priority=2, status="draft")
        db.session.add(lead)
        db.session.commit()
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "has been edited since the import" in page and "“Pham Thu” has leads now." in page
    response = client.post(f"/imports/{import_id}/revert", follow_redirects=True)
    assert "This import cannot be reverted" in response.get_data(as_text=True)
    assert contacts_named(app, "Pham Thu") and batch_of(app, import_id).status == "committed"
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]).position == "Dean"


# --- round trip with the export ---------------------------------------------------------------

def _exported(client, station_id) -> list[list]:
    response = client.get(f"/exports/contacts.xlsx?station={station_id}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


COMPARED = ("kind", "name", "name_zh", "name_original", "organisation", "position", "field", "country", "city",
            "email", "phone", "languages", "tags")


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_export_then_import_gives_the_same_records(app, login, world, form):
    with app.test_request_context():
        marco = db.session.get(Contact, world.contacts["milan"])
        marco.position, marco.field, marco.city, marco.country = "Professor", "Design", "Milan", "IT"
        marco.tags, marco.languages = "PhD, salon 2024, 设计", "Italian, English"
        marco.phone = marco.phone_e164  # stored as E.164, as the contact form stores it
        other = Contact(station_id=world.stations["milan"], kind="scholar", name="Anna Ferri", name_zh="安娜",
                        name_original="Änna Férri", email="anna@example.org", phone="+390212345679",
                        phone_e164="+390212345679", country="CH", organisation="=cmd|' /C calc'!A0",
                        tags="AI")
        db.session.add(other)
        db.session.commit()
    client = login("vol_milan")
    rows = _exported(client, world.stations["milan"])
    if form == "xlsx":
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        data, name = buffer.getvalue(), "export.xlsx"
    else:
        data, name = csv_bytes([["" if v is None else v for v in row] for row in rows]), "export.csv"
    with app.app_context():
        originals = {c.name: {f: getattr(c, f) for f in COMPARED}
                     for c in db.session.scalars(select(Contact).where(Contact.station_id == world.stations["milan"]))}
    import_id, response = do_import(client, app, world.stations["milan"], name, data, mode="create")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert batch_of(app, import_id).created_count == len(originals) == 2
    with app.app_context():
        copies = db.session.scalars(select(Contact).join(ImportRow, ImportRow.contact_id == Contact.id)
                                    .where(ImportRow.import_id == import_id)).all()
        # (the export neutralises formula-like cells with an apostrophe; the import takes it off)
        assert {c.name: {f: getattr(c, f) for f in COMPARED} for c in copies} == originals


# --- the CLI ----------------------------------------------------------------------------------

def test_cli_dry_run_and_real_run(app, runner, world, tmp_path):
    path = tmp_path / "联系人.csv"
    path.write_bytes(fixture("contacts_zh_gbk.csv"))
    station = str(world.stations["milan"])
    result = runner.invoke(args=["import", "contacts", str(path), "--station", station, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: 3 would be created, 0 updated, 0 left out" in result.output
    assert not contacts_named(app, "Wang Xiaoming")
    result = runner.invoke(args=["import", "contacts", str(path), "--station", station, "--mode", "create",
                                 "--as", world.emails["europe_admin"], "--mapping", json.dumps({"备注": ""})])
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 left out" in result.output
    wang, = contacts_named(app, "Wang Xiaoming")
    assert wang.notes is None and wang.created_by_id == world.users["europe_admin"]
    with app.app_context():
        batch = db.session.scalar(select(ImportBatch).where(ImportBatch.status == "committed"))
        assert (batch.filename, batch.created_by_id, len(batch.sha256)) == ("联系人.csv", world.users["europe_admin"], 64)
    # Again in skip mode: every row is a duplicate now.
    result = runner.invoke(args=["import", "contacts", str(path), "--station", station])
    assert result.exit_code == 0 and "0 created, 0 updated, 3 left out" in result.output


def test_cli_refusals(app, runner, world, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["import", "contacts", str(path), "--station", str(world.stations["milan"])])
    assert result.exit_code != 0 and "The file is empty." in result.output
    good = tmp_path / "c.csv"
    good.write_bytes(fixture("contacts_en.csv"))
    result = runner.invoke(args=["import", "contacts", str(good), "--station", str(world.stations["milan"]),
                                 "--as", world.emails["vol_hanoi"]])
    assert result.exit_code != 0 and "does not act for station" in result.output
    result = runner.invoke(args=["import", "contacts", str(good), "--station", str(world.stations["milan"])])
    assert result.exit_code != 0 and "2 rows have problems" in result.output
    result = runner.invoke(args=["import", "contacts", str(good), "--station", str(world.stations["milan"]),
                                 "--mapping", '{"Nope": "name"}'])
    assert result.exit_code != 0 and "No column 'Nope'" in result.output
    assert count(app, Contact) == 3 and count(app, ImportRow) == 0


# --- scope and permissions --------------------------------------------------------------------

def test_who_may_import(app, login, world):
    data = csv_bytes([["Name"], ["Somebody"]])
    client = login("hq")
    assert client.get("/imports/").status_code == 403
    assert upload(client, world.stations["hanoi"], "a.csv", data).status_code == 403
    client = login("vol_milan")
    assert upload(client, world.stations["hanoi"], "a.csv", data).status_code == 404
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "a.csv", data)
    for key, status in (("vol_milan", 404), ("europe_admin", 404), ("hq", 403), ("asean_admin", 200), ("admin", 200)):
        assert login(key).get(f"/imports/{import_id}/mapping").status_code == status, key
    # The list shows only the imports of the user's stations.
    assert "a.csv" not in login("vol_milan").get("/imports/").get_data(as_text=True)
    assert "a.csv" in login("asean_admin").get("/imports/").get_data(as_text=True)


def test_contact_list_links_to_imports(app, login, world):
    assert 'href="/imports/"' in login("vol_hanoi").get("/contacts/").get_data(as_text=True)
    assert 'href="/imports/"' not in login("hq").get("/contacts/").get_data(as_text=True)


def test_discard_a_staged_import(app, login, world):
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "a.csv", csv_bytes([["Name"], ["Somebody"]]))
    assert client.post(f"/imports/{import_id}/discard").status_code == 302
    batch = batch_of(app, import_id)
    assert batch.status == "discarded" and batch.rows is None
    assert client.get(f"/imports/{import_id}/mapping").status_code == 302  # done with: to its page


# --- tags and languages are rows --------------------------------------------------------------

def test_tag_filter_uses_the_rows(app, login, world):
    with app.test_request_context():
        an = db.session.get(Contact, world.contacts["hanoi"])
        an.tags = "PhD， AI、returnee"
        db.session.commit()
        assert db.session.scalars(select(ContactTag.tag).where(ContactTag.contact_id == an.id)
                                  .order_by(ContactTag.position)).all() == ["PhD", "AI", "returnee"]
    client = login("admin")
    for tag, found in (("ai", True), ("PhD", True), ("Ph", False), ("returnee ", True), ("alumni", False)):
        page = client.get(f"/contacts/?tag={tag}").get_data(as_text=True)
        assert ("Nguyen Van An" in page) is found, tag


def _fill_required(connection, table_name: str, values: dict) -> dict:
    """``values`` plus a value for every other NOT NULL column without a default."""
    import sqlalchemy as sa

    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type.python_type if hasattr(column.type, "python_type") else str
        try:
            kind = column.type.python_type
        except NotImplementedError:
            kind = str
        row[column.name] = {int: 0, bool: False, datetime: datetime(2025, 1, 1)}.get(kind, "x")
    connection.execute(table.insert().values(**row))
    return row


def test_tags_migration_carries_the_lists_over(tmp_path, database_url):
    """0007 → 0008: joined tags and languages become rows in their order, the columns go; and back."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from liaison import create_app

    from .conftest import _scratch_postgres, _test_config

    def run(url):
        app = create_app(_test_config(url))
        with app.app_context():
            upgrade(revision="0007_privacy")
            with db.engine.begin() as connection:
                _fill_required(connection, "regions", {"id": 1, "code": "EU", "name": "Europe"})
                _fill_required(connection, "stations", {"id": 1, "name": "Milan", "region_id": 1, "country": "IT",
                                                        "city": "Milan", "status": "active"})
                for ident, tags, languages in ((1, "PhD, AI, PhD", "Italian, English"), (2, None, "Chinese"),
                                               (3, " salon 2024 ,, returnee", None), (4, None, None)):
                    _fill_required(connection, "contacts", {"id": ident, "station_id": 1, "kind": "scholar",
                                                            "name": f"Person {ident}", "tags": tags,
                                                            "languages": languages, "search_text": f"person {ident}"})
            upgrade(revision="0008_imports")
            with db.engine.connect() as connection:
                columns = {c["name"] for c in sa.inspect(connection).get_columns("contacts")}
                assert "tags" not in columns and "languages" not in columns
                tags = connection.execute(sa.text("SELECT contact_id, tag FROM contact_tags "
                                                  "ORDER BY contact_id, position")).all()
                languages = connection.execute(sa.text("SELECT contact_id, language FROM contact_languages "
                                                       "ORDER BY contact_id, position")).all()
                assert [tuple(r) for r in tags] == [(1, "PhD"), (1, "AI"), (3, "salon 2024"), (3, "returnee")]
                assert [tuple(r) for r in languages] == [(1, "Italian"), (1, "English"), (2, "Chinese")]
                if connection.dialect.name == "sqlite":  # the full-text triggers survived the table copy
                    triggers = {r[0] for r in connection.execute(sa.text(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contacts'"))}
                    assert {"contacts_fts_ai", "contacts_fts_ad", "contacts_fts_au"} <= triggers
            downgrade(revision="0007_privacy")
            with db.engine.connect() as connection:
                rows = connection.execute(sa.text("SELECT id, tags, languages FROM contacts ORDER BY id")).all()
                assert [tuple(r) for r in rows] == [(1, "PhD, AI", "Italian, English"), (2, None, "Chinese"),
                                                    (3, "salon 2024, returnee", None), (4, None, None)]
            db.engine.dispose()

    if database_url.startswith("sqlite"):
        run("sqlite:///" + str(tmp_path / "tags.sqlite"))
    else:
        with _scratch_postgres(database_url) as url:
            run(url)


def test_possible_duplicates_by_name_are_shown_but_not_acted_on(app, login, world):
    """王小明 in the file, "Wang Xiaoming" in the station (no shared e-mail or phone): the duplicates
    matcher's candidate is shown with its reason; skip mode still creates the row."""
    pytest.importorskip("liaison.duplicates.matching")
    with app.test_request_context():
        db.session.add(Contact(station_id=world.stations["milan"], kind="scholar", name="Wang Xiaoming"))
        db.session.commit()
    client = login("vol_milan")
    import_id = staged(client, world.stations["milan"], "w.csv", csv_bytes([["中文名", "姓名"], ["王小明", "王小明"]]))
    confirm_mapping(client, app, import_id)
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    assert "Possibly:" in page and "Wang Xiaoming" in page
    assert client.post(f"/imports/{import_id}/review", data={"mode": "skip"}).status_code == 302
    assert batch_of(app, import_id).created_count == 1


def test_a_mapped_lawful_basis_is_recorded_with_source_import(app, login, world):
    pytest.importorskip("liaison.privacy.consent")
    from datetime import date

    from liaison.models import ContactConsent

    client = login("vol_milan")
    data = xlsx_bytes([["Name", "Lawful basis", "Consent date"],
                       ["Elena Rossa", "consent", date(2024, 5, 1)],
                       ["Paolo Neri", "legitimate interest", "45500"],  # an Excel serial number: 2024-07-27
                       ["Bad Basis", "because", "2024-01-01"]])
    import_id, response = do_import(client, app, world.stations["milan"], "c.xlsx", data, mode="create",
                                    leave_out_errors=True)
    assert response.status_code == 302
    with app.app_context():
        consents = db.session.execute(select(Contact.name, ContactConsent.basis, ContactConsent.source,
                                             ContactConsent.purpose, ContactConsent.given_on)
                                      .join(Contact, Contact.id == ContactConsent.contact_id)
                                      .where(ContactConsent.source == "import").order_by(Contact.name)).all()
        assert [tuple(c) for c in consents] == [
            ("Elena Rossa", "consent", "import", "keep_in_touch", date(2024, 5, 1)),
            ("Paolo Neri", "legitimate_interest", "import", "keep_in_touch", date(2024, 7, 27))]
    assert batch_of(app, import_id).error_count == 1
    # Reverting removes the contacts with the bases the import recorded.
    assert client.post(f"/imports/{import_id}/revert").status_code == 302
    assert batch_of(app, import_id).status == "reverted" and not contacts_named(app, "Elena Rossa")


def test_a_too_long_tag_is_refused_next_to_the_field(app, login, world):
    client = login("vol_hanoi")
    response = client.post(f"/contacts/{world.contacts['hanoi']}/edit",
                           data={"kind": "scholar", "name": "Nguyen Van An", "tags": "PhD, " + "x" * 101})
    assert response.status_code in (200, 400)
    assert "Each item must be at most 100 characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]).tag_list == []


# --- leads with their contact -----------------------------------------------------------------

def staged_leads(client, station_id: int, name: str, data: bytes) -> int:
    response = client.post(f"/imports/new?station_id={station_id}",
                           data={"file": (io.BytesIO(data), name), "record_type": "leads"},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/imports/(\d+)/mapping", response.headers["Location"])[1])


def _leads_file() -> bytes:
    """Chinese headers. Row 2 matches the Hanoi contact by e-mail; rows 3 and 4 are one new person
    with two leads; row 5 has no summary."""
    return csv_bytes([["姓名", "邮箱", "单位", "线索类别", "摘要", "诉求", "优先级"],
                      ["阮文安", "AN@example.org", "", "就业", "An wants to come back", "A post in Wenzhou", "高"],
                      ["Pham Thu", "thu@example.org", "FPT", "employment", "Thu, an AI engineer", "", ""],
                      ["Pham Thu", "thu@example.org", "", "项目合作", "Thu's start-up project", "", "urgent"],
                      ["Le Minh", "minh@example.org", "", "employment", "", "", ""]])


def leads_of(app, *summaries) -> list[TalentLead]:
    with app.app_context():
        found = db.session.scalars(select(TalentLead).where(TalentLead.summary.in_(summaries))
                                   .order_by(TalentLead.id)).all()
        for lead in found:
            db.session.expunge(lead)
        return list(found)


SUMMARIES = ("An wants to come back", "Thu, an AI engineer", "Thu's start-up project")


def test_leads_with_their_contact_matched_or_created_as_drafts(app, login, world):
    client = login("vol_hanoi")
    import_id = staged_leads(client, world.stations["hanoi"], "leads.csv", _leads_file())
    batch = batch_of(app, import_id)
    assert batch.record_type == "leads"
    assert [batch.mapping[str(i)] for i in range(7)] == ["name", "email", "organisation", "lead_category",
                                                         "lead_summary", "lead_wants", "lead_priority"]
    # Summary and category are required columns of a leads file.
    response = confirm_mapping(client, app, import_id, {4: ""})
    assert response.status_code == 400 and "Choose the column that holds" in response.get_data(as_text=True)
    assert confirm_mapping(client, app, import_id).status_code == 302
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    assert "A summary is required." in page and "saved as drafts" in page
    # With the problem row: refused, nothing written.
    before_contacts, before_leads = count(app, Contact), count(app, TalentLead)
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip"})
    assert response.status_code == 400 and count(app, TalentLead) == before_leads
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip", "leave_out_errors": "y"})
    assert response.status_code == 302
    assert count(app, Contact) == before_contacts + 1  # Pham Thu, once; Le Minh's row left out
    (thu,) = contacts_named(app, "Pham Thu")
    an_lead, thu_lead, project = leads_of(app, *SUMMARIES)
    assert an_lead.contact_id == world.contacts["hanoi"]
    assert (an_lead.category, an_lead.priority, an_lead.wants) == ("employment", 3, "A post in Wenzhou")
    assert thu_lead.contact_id == project.contact_id == thu.id
    assert (project.category, project.priority) == ("project", 4)
    for lead in (an_lead, thu_lead, project):
        assert lead.status == "draft" and lead.submitted_at is None and lead.submitter_id == world.users["vol_hanoi"]
    with app.app_context():
        # "Use matching contacts as they are": the matched contact is unchanged.
        assert db.session.get(Contact, world.contacts["hanoi"]).name == "Nguyen Van An"
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Draft leads created" in page and "Revert this import" in page
    # Reverting removes the three leads and Pham Thu; the matched contact stays.
    response = client.post(f"/imports/{import_id}/revert", follow_redirects=True)
    assert "3 leads and 1 contacts removed" in response.get_data(as_text=True)
    assert leads_of(app, *SUMMARIES) == [] and not contacts_named(app, "Pham Thu")
    assert count(app, TalentLead) == before_leads and count(app, Contact) == before_contacts
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]) is not None


def test_leads_update_mode_and_xlsx_english_headers(app, login, world):
    client = login("vol_hanoi")
    data = xlsx_bytes([["Name", "E-mail", "Organisation", "Category", "Summary", "What the person wants"],
                       ["Nguyen Van An", "an@example.org", "VNU Hanoi", "Employment", "An, updated", "A lab"]])
    import_id = staged_leads(client, world.stations["hanoi"], "leads.xlsx", data)
    assert confirm_mapping(client, app, import_id).status_code == 302
    response = client.post(f"/imports/{import_id}/review", data={"mode": "update"})
    assert response.status_code == 302
    (lead,) = leads_of(app, "An, updated")
    assert lead.contact_id == world.contacts["hanoi"] and lead.wants == "A lab"
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]).organisation == "VNU Hanoi"
    assert client.post(f"/imports/{import_id}/revert").status_code == 302
    assert leads_of(app, "An, updated") == []
    with app.app_context():
        assert db.session.get(Contact, world.contacts["hanoi"]).organisation == "Hanoi University"


def test_leads_import_revert_refused_once_a_lead_is_worked_on(app, login, world):
    client = login("vol_hanoi")
    data = csv_bytes([["Name", "Category", "Summary"], ["Tran Hoa", "employment", "Hoa's lead"],
                      ["Vu Lan", "employment", "Lan's lead"]])
    import_id = staged_leads(client, world.stations["hanoi"], "l.csv", data)
    assert confirm_mapping(client, app, import_id).status_code == 302
    assert client.post(f"/imports/{import_id}/review", data={"mode": "skip"}).status_code == 302
    hoa, lan = leads_of(app, "Hoa's lead", "Lan's lead")
    with app.test_request_context():
        from liaison.leads.services import add_comment

        from sqlalchemy.orm import selectinload

        lead = db.session.get(TalentLead, hoa.id, options=[selectinload(TalentLead.station)])
        add_comment(lead, db.session.get(User, world.users["vol_hanoi"]), "Called her")
        db.session.commit()
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Row 2: its lead has been edited or commented on since." in page
    response = client.post(f"/imports/{import_id}/revert", follow_redirects=True)
    assert "This import cannot be reverted" in response.get_data(as_text=True)
    assert len(leads_of(app, "Hoa's lead", "Lan's lead")) == 2 and contacts_named(app, "Tran Hoa", "Vu Lan")
    with app.app_context():
        lead = db.session.get(TalentLead, lan.id)
        lead.status = "submitted"
        db.session.commit()
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Row 3: its lead has been submitted since." in page


def test_a_bad_category_or_priority_is_a_row_problem(app, login, world):
    client = login("vol_hanoi")
    data = csv_bytes([["Name", "Category", "Summary", "Priority"], ["Tran Hoa", "astronaut", "x", "2"],
                      ["Vu Lan", "employment", "y", "very"]])
    import_id = staged_leads(client, world.stations["hanoi"], "l.csv", data)
    assert confirm_mapping(client, app, import_id).status_code == 302
    page = client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    assert "Not a category of lead" in page and "Not a priority" in page and "astronaut" in page


# --- large files: the background job ----------------------------------------------------------

def test_a_large_file_is_committed_by_a_background_job(app, login, world, monkeypatch):
    from liaison.models import JobRun

    monkeypatch.setitem(app.config, "IMPORT_JOB_THRESHOLD", 2)
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "big.csv", _matching_file())
    confirm_mapping(client, app, import_id)
    assert "imported in the background" in client.get(f"/imports/{import_id}/review").get_data(as_text=True)
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/{import_id}")
    # Without Redis the job ran inline, right after the request's commit, through the same commit.
    with app.app_context():
        (run,) = db.session.scalars(select(JobRun).where(JobRun.name == "imports.commit")).all()
        assert run.status == "done" and run.kwargs["import_id"] == import_id
    batch = batch_of(app, import_id)
    assert (batch.status, batch.created_count, batch.skipped_count) == ("committed", 1, 2)
    assert contacts_named(app, "Pham Thu")
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Revert this import" in page


def test_background_job_status_and_refusal_are_shown(app, login, world, monkeypatch):
    from liaison.imports import jobs as import_jobs
    from liaison.models import JobRun

    monkeypatch.setitem(app.config, "IMPORT_JOB_THRESHOLD", 2)
    client = login("vol_hanoi")
    import_id = staged(client, world.stations["hanoi"], "big.csv", _matching_file())
    confirm_mapping(client, app, import_id)
    # Rows with problems are refused before any job is asked for.
    bad = staged(client, world.stations["hanoi"], "bad.csv", csv_bytes([["Name", "E-mail"], ["A", "x@"], ["B", ""],
                                                                        ["C", ""]]))
    confirm_mapping(client, app, bad)
    response = client.post(f"/imports/{bad}/review", data={"mode": "skip"})
    assert response.status_code == 400 and "rows have problems" in response.get_data(as_text=True)
    # A job still waiting or running: the page says so and a second commit is not asked for.
    with app.app_context():
        db.session.add(JobRun(key=import_jobs.key_prefix(import_id) + "x", name="imports.commit", status="running",
                              kwargs={"import_id": import_id, "mode": "skip", "actor_id": world.users["vol_hanoi"]}))
        db.session.commit()
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Being imported in the background" in page
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(JobRun)) == 1
        db.session.execute(JobRun.__table__.update().values(status="failed"))
        db.session.commit()

    # The commit refused inside the job (e.g. a plugin objects): kept and shown, nothing written.
    def refuse(*args, **kwargs):
        raise services.ImportRefused("Refused by a plugin", ["Row 2: no"])

    monkeypatch.setattr(services, "commit", refuse)
    response = client.post(f"/imports/{import_id}/review", data={"mode": "skip"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The background import was refused" in page and "Refused by a plugin" in page and "Row 2: no" in page
    assert batch_of(app, import_id).status == "staged" and not contacts_named(app, "Pham Thu")


def test_cli_imports_leads_with_their_contacts(app, runner, world, tmp_path):
    path = tmp_path / "线索.xlsx"
    path.write_bytes(xlsx_bytes([["姓名", "邮箱", "线索类别", "摘要", "优先级"],
                                 ["Marco Rossi", "marco@example.org", "就业", "Marco's lead", "高"],
                                 ["Sara Conti", "sara@example.org", "internship", "Sara's lead", ""]]))
    station = str(world.stations["milan"])
    result = runner.invoke(args=["import", "leads", str(path), "--station", station, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: 1 would be created" in result.output and not leads_of(app, "Marco's lead")
    result = runner.invoke(args=["import", "leads", str(path), "--station", station])
    assert result.exit_code == 0, result.output
    assert "2 draft leads; contacts: 1 created" in result.output
    marco, sara = leads_of(app, "Marco's lead", "Sara's lead")
    assert marco.contact_id == world.contacts["milan"] and marco.status == sara.status == "draft"
    assert (marco.category, marco.priority, sara.category) == ("employment", 3, "internship")
    result = runner.invoke(args=["import", "contacts", str(path), "--station", station, "--mapping",
                                 '{"摘要": "lead_summary"}'])
    assert result.exit_code != 0 and "Unknown field 'lead_summary'" in result.output
