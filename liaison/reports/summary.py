"""The summary a bureau pastes into its yearly report, in its own words — Chinese and English."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .charts import Table
from .periods import Period
from .services import neutralise

# (key, Chinese phrase with its measure word, English phrase)
KINDS = (
    ("company_registered", "注册企业{n}家", "{n} {companies} registered"),
    ("hired", "引进就业{n}人", "{n} {people} hired"),
    ("project_signed", "签约项目{n}个", "{n} {projects} signed"),
)
OPTIONAL_KINDS = (("service_agreement", "签订服务协议{n}份", "{n} service {agreements} signed"),)


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def chinese(period: Period, summary: dict[str, Any]) -> str:
    kinds = summary.get("landed_by_kind", {})
    parts = [text.format(n=kinds.get(key, 0)) for key, text, _en in KINDS]
    parts += [text.format(n=kinds[key]) for key, text, _en in OPTIONAL_KINDS if kinds.get(key)]
    return (f"{period.chinese_label}：新增联络对象{summary.get('contacts', 0)}名，"
            f"提交人才线索{summary.get('submitted', 0)}条，受理{summary.get('accepted', 0)}条，"
            f"推荐{summary.get('referred', 0)}条，落地{summary.get('landed', 0)}个"
            f"（{'、'.join(parts)}）")


def english(period: Period, summary: dict[str, Any]) -> str:
    kinds = summary.get("landed_by_kind", {})
    words = {
        "companies": lambda n: _plural(n, "company", "companies"),
        "people": lambda n: _plural(n, "person", "people"),
        "projects": lambda n: _plural(n, "project", "projects"),
        "agreements": lambda n: _plural(n, "agreement", "agreements"),
    }

    def phrase(text: str, n: int) -> str:
        return text.format(n=n, **{word: make(n) for word, make in words.items()})

    parts = [phrase(text, kinds.get(key, 0)) for key, _zh, text in KINDS]
    parts += [phrase(text, kinds[key]) for key, _zh, text in OPTIONAL_KINDS if kinds.get(key)]
    contacts, submitted = summary.get("contacts", 0), summary.get("submitted", 0)
    return (f"{period.english_label}: {contacts} new {_plural(contacts, 'contact', 'contacts')}, "
            f"{submitted} talent {_plural(submitted, 'lead', 'leads')} submitted, "
            f"{summary.get('accepted', 0)} accepted, {summary.get('referred', 0)} referred, "
            f"{summary.get('landed', 0)} landed ({', '.join(parts)}).")


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(Chinese, English, number) of every figure of the summary."""
    kinds = summary.get("landed_by_kind", {})
    rows = [("新增联络对象（名）", "New contacts", summary.get("contacts", 0)),
            ("提交人才线索（条）", "Talent leads submitted", summary.get("submitted", 0)),
            ("受理（条）", "Accepted", summary.get("accepted", 0)),
            ("推荐（条）", "Referred", summary.get("referred", 0)),
            ("落地（个）", "Landed", summary.get("landed", 0)),
            ("其中：注册企业（家）", "of which: companies registered", kinds.get("company_registered", 0)),
            ("其中：引进就业（人）", "of which: people hired", kinds.get("hired", 0)),
            ("其中：签约项目（个）", "of which: projects signed", kinds.get("project_signed", 0)),
            ("其中：签订服务协议（份）", "of which: service agreements signed", kinds.get("service_agreement", 0))]
    return rows


def row_count(summary: dict[str, Any], tables: list[Table]) -> int:
    """The rows of figures ``workbook`` holds: the summary's and every table's."""
    return len(summary_rows(summary)) + sum(len(table.rows) for table in tables)


def workbook(period: Period, summary: dict[str, Any], tables: list[Table], scope_note: str) -> bytes:
    """The summary (both languages) and the report's tables — the core's and the plugins'
    sections' (``ReportView.all_tables``) — one sheet each."""
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总 Summary"
    sheet.append([neutralise(chinese(period, summary))])
    sheet.append([neutralise(english(period, summary))])
    sheet.append([neutralise(scope_note)])
    sheet.append([])
    sheet.append(["指标", "Figure", _("Number")])
    for cell in sheet[5]:
        cell.font = Font(bold=True)
    for zh, en, number in summary_rows(summary):
        sheet.append([zh, en, number])
    for row in sheet.iter_rows(min_row=1, max_row=2):
        row[0].alignment = Alignment(wrap_text=False)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 36
    used: set[str] = {sheet.title}
    for table in tables:
        title = _sheet_title(str(table.title), used)
        page = book.create_sheet(title)
        page.append([neutralise(str(c)) for c in table.columns])
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            page.append([c if isinstance(c, (int, float)) else neutralise(str(c)) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(" " if c in "[]:*?/\\" else c for c in title)[:28] or "Sheet"
    candidate, n = clean, 2
    while candidate in used:
        candidate, n = f"{clean[:25]} {n}", n + 1
    used.add(candidate)
    return candidate
