"""Issue 12's import journey in a real Chromium: a volunteer imports a sheet, sees a row's
problem, fixes the file, imports it, finds the contacts, then reverts the import. Every page passes
the checks of ``journey.Journey.check`` (axe-core, one h1, a main landmark, labelled controls)."""
from __future__ import annotations

import csv
import re

import openpyxl
from playwright.sync_api import expect

from .journey import DEMO_PASSWORD
from .test_journeys import MILAN, unique


def upload(v, path) -> None:
    page = v.page
    v.field("Spreadsheet (CSV or Excel .xlsx)").set_input_files(str(path))
    v.follow(page.get_by_role("button", name=v.tx("Upload and map the columns")), "mapping")
    v.expect_heading("Map the columns")


def test_volunteer_imports_a_sheet_fixes_a_row_commits_and_reverts(journey, tmp_path):
    first, second = unique("Giulia Bianchi"), unique("Luca Verdi")
    header = ["姓名", "邮箱", "单位", "Phone"]
    rows = [[first, "giulia@unimi.example", "Università di Milano", "+39 02 5031 1111"],
            [second, "luca-at-polimi", "Politecnico di Milano", ""]]  # row 3: not an e-mail address
    broken = tmp_path / "contacts.csv"
    with broken.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])

    v = journey("volunteer")
    page = v.page
    v.login(MILAN, DEMO_PASSWORD)
    v.nav("Contacts", "contacts")
    v.follow(page.get_by_role("link", name=v.tx("Import")), "imports")
    v.follow(page.get_by_role("link", name=v.tx("Import a spreadsheet")).first, "upload")
    upload(v, broken)
    # The Chinese headers were recognised.
    expect(v.field("姓名")).to_have_value("name")
    expect(v.field("邮箱")).to_have_value("email")
    v.follow(page.get_by_role("button", name=v.tx("Check the rows")), "review")
    v.expect_heading("Check and import")
    problems = page.get_by_role("table").first
    expect(problems).to_contain_text("luca-at-polimi")
    expect(problems).to_contain_text(v.t("Not a valid e-mail address."))
    # Importing anyway is refused (all or nothing), with the reason.
    v.allow_console(r"status of 400")
    v.follow(page.get_by_role("button", name=v.tx("Import")), "refused")
    expect(page.get_by_role("alert").first).to_contain_text(
        v.t("%(count)s rows have problems: correct the file, or choose to leave those rows out.", count=1))

    # The volunteer discards the file, fixes the address in Excel and uploads the workbook.
    v.follow(page.get_by_role("button", name=v.tx("Discard this file")), "discarded")
    rows[1][1] = "luca@polimi.example"
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    fixed = tmp_path / "contacts-fixed.xlsx"
    book.save(fixed)
    v.follow(page.get_by_role("link", name=v.tx("Import a spreadsheet")).first, "upload-again")
    upload(v, fixed)
    v.follow(page.get_by_role("button", name=v.tx("Check the rows")), "review-fixed")
    expect(page.get_by_role("main")).to_contain_text(v.t("Every row can be imported."))
    v.follow(page.get_by_role("button", name=v.tx("Import")), "imported")
    expect(page.get_by_role("main")).to_contain_text("contacts-fixed.xlsx")
    expect(page.get_by_role("main")).to_contain_text(v.t("Imported"))
    import_url = page.url
    assert re.search(r"/imports/\d+$", import_url)

    # The contacts are there.
    v.nav("Contacts", "contacts-after")
    expect(page.get_by_role("link", name=first).first).to_be_visible()
    expect(page.get_by_role("link", name=second).first).to_be_visible()

    # Reverting the import removes them again.
    v.goto(import_url, "import")
    v.follow(page.get_by_role("button", name=v.tx("Revert this import")), "reverted")
    expect(page.get_by_role("main")).to_contain_text(v.t("Reverted"))
    v.nav("Contacts", "contacts-reverted")
    expect(page.get_by_role("link", name=first)).to_have_count(0)
    expect(page.get_by_role("link", name=second)).to_have_count(0)
