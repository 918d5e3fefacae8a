"""Reading an uploaded spreadsheet (CSV or XLSX) into a header and rows of cell texts.

Every problem with the file as a whole raises ``FileRefused`` with a message for the user (never a
500); problems with single cells (a formula without a computed value) and things done to make the
file readable (merged cells filled, another sheet ignored) come back as ``Notice`` records, stored
with the import and shown on its pages in the viewer's language.

* CSV: the encoding is UTF-8 (with or without BOM) when it decodes as such; otherwise
  ``charset-normalizer`` decides, and GBK/GB2312 are read as GB18030 (their superset, what Chinese
  Excel writes). The delimiter (comma, semicolon, tab) is sniffed.
* XLSX: ``openpyxl`` in read-only mode with the cached values of formulas; a formula whose value
  was never computed is refused as a cell, merged ranges are filled with their first value, cells
  formatted as dates (Excel serial numbers) become ISO dates, whole numbers lose their ".0".
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from xml.etree.ElementTree import iterparse

from flask_babel import lazy_gettext as _l

_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


class FileRefused(Exception):
    """The file cannot be imported at all; ``message`` says why and what to do."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Notice:
    """Something about the file or one cell; ``code`` picks the message (see ``NOTICES``)."""

    code: str
    row: int | None = None  # the spreadsheet's row number (the header is row 1)
    column: int | None = None  # 0-based column index
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "row": self.row, "column": self.column, "params": self.params}


NOTICES = {
    "formula_no_value": _l("A formula without a computed value: open the file in Excel, save it and upload it again."),
    "merged": _l("Merged cells %(ranges)s: each cell of a merged range was given its first value."),
    "other_sheets": _l("Only the first sheet (%(sheet)s) is read; the file has %(count)s sheets."),
    "extra_cells": _l("This row has %(count)s more values than the header has columns: they are left out."),
    "encoding": _l("The file was read as %(encoding)s."),
}


def notice_text(notice: dict) -> str:
    message = NOTICES.get(notice.get("code"), notice.get("code"))
    return str(message) % notice.get("params", {}) if notice.get("params") else str(message)


@dataclass
class ParsedFile:
    header: list[str]
    rows: list[list[str]]  # each row as long as the header
    notices: list[Notice] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)  # the file's row number of each row


def cell_text(value) -> str:
    """A cell as text: whole numbers without ".0" (phone numbers typed as numbers), dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    text = str(value).translate(_CONTROL).strip()
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]  # the apostrophe our exports put before formula-like text (see exports)
    return text


def kind_of(filename: str, data: bytes) -> str:
    """"xlsx" or "csv", from the content first (a renamed file is read for what it is)."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused(_l("This is an old Excel file (.xls): save it as .xlsx or CSV and upload it again."))
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRefused(_l("This file is not a valid Excel workbook: save it again as .xlsx or CSV."))
    return "csv"


def parse(filename: str, data: bytes, *, max_columns: int, max_rows: int) -> ParsedFile:
    if not data or not data.strip():
        raise FileRefused(_l("The file is empty."))
    if kind_of(filename, data) == "xlsx":
        parsed = _parse_xlsx(data, max_columns=max_columns, max_rows=max_rows)
    else:
        parsed = _parse_csv(data, max_columns=max_columns, max_rows=max_rows)
    return parsed


# --- CSV --------------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str | None]:
    """The text of ``data`` and, when it was not UTF-8, the encoding it was read in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise FileRefused(_l("This file is not a spreadsheet: upload a CSV or an Excel (.xlsx) file."))
    # Chinese Excel writes GBK: a file that decodes as GB18030 into Chinese characters is read so
    # even where the detector, on a short file, would guess a Latin code page.
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        wide = [ch for ch in text if ord(ch) > 127]
        if wide and sum(1 for ch in wide if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                        or "\uff00" <= ch <= "\uffef") >= 0.9 * len(wide):
            return text, "GB18030"
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    encoding = (best.encoding if best is not None else "").lower().replace("-", "_")
    if encoding in ("gbk", "gb2312", "gb18030", "hz", "cp936"):
        encoding = "gb18030"
    elif encoding in ("big5", "big5hkscs", "cp950"):
        encoding = "big5hkscs"
    if not encoding:
        raise FileRefused(_l("The file's encoding could not be recognised: save it as “CSV UTF-8” and upload it again."))
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise FileRefused(_l("The file's encoding could not be recognised: save it as “CSV UTF-8” and upload it again.")) from None
    return text, encoding.upper().replace("_", "-")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return False
    odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    return odd > len(sample) * 0.02


def _parse_csv(data: bytes, *, max_columns: int, max_rows: int) -> ParsedFile:
    text, encoding = decode(data)
    if _looks_binary(text):
        raise FileRefused(_l("This file is not a spreadsheet: upload a CSV or an Excel (.xlsx) file."))
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    notices = [Notice("encoding", params={"encoding": encoding})] if encoding else []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw = ((number, [cell_text(c) for c in row]) for number, row in enumerate(reader, start=1))
        return _table(raw, notices, max_columns=max_columns, max_rows=max_rows)
    except csv.Error:
        raise FileRefused(_l("This file is not a spreadsheet: upload a CSV or an Excel (.xlsx) file.")) from None


# --- XLSX -------------------------------------------------------------------------------------

_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The merged ranges of a sheet, from its XML (read-only worksheets do not expose them)."""
    ranges = []
    try:
        with archive.open(path) as stream:
            for _event, element in iterparse(stream):
                if element.tag.endswith("}mergeCell"):
                    ranges.append(element.get("ref") or "")
                element.clear()
    except (KeyError, SyntaxError, zipfile.BadZipFile):
        return []
    return [r for r in ranges if ":" in r]


def _parse_xlsx(data: bytes, *, max_columns: int, max_rows: int) -> ParsedFile:
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    try:
        values_book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors: all "not readable"
        raise FileRefused(_l("This file is not a valid Excel workbook: save it again as .xlsx or CSV.")) from None
    notices: list[Notice] = []
    try:
        if not values_book.worksheets:
            raise FileRefused(_l("The file is empty."))
        sheet, formulas = values_book.worksheets[0], formula_book.worksheets[0]
        if len(values_book.worksheets) > 1:
            notices.append(Notice("other_sheets", params={"sheet": sheet.title, "count": len(values_book.worksheets)}))
        merged: dict[tuple[int, int], tuple[int, int]] = {}  # (row, col) -> top-left (row, col)
        path = getattr(sheet, "_worksheet_path", None)
        ranges = _merged_ranges(values_book._archive, path) if path else []
        for ref in ranges:
            start, end = ref.split(":", 1)
            a, b = _CELL_REF.match(start), _CELL_REF.match(end)
            if not a or not b:
                continue
            r1, c1, r2, c2 = int(a[2]), _column_index(a[1]), int(b[2]), _column_index(b[1])
            if (r2 - r1 + 1) * (c2 - c1 + 1) > 100_000:
                continue
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        merged[(r, c)] = (r1, c1)
        if ranges:
            notices.append(Notice("merged", params={"ranges": ", ".join(ranges[:10]) + (" …" if len(ranges) > 10 else "")}))
        first_values: dict[tuple[int, int], str] = {}
        wanted = set(merged.values())

        def rows():
            for number, (values, raw) in enumerate(zip(sheet.iter_rows(values_only=True),
                                                       formulas.iter_rows(values_only=True)), start=1):
                texts = []
                for col, value in enumerate(values):
                    formula = raw[col] if col < len(raw) else None
                    is_formula = isinstance(formula, ArrayFormula) or (isinstance(formula, str) and formula.startswith("="))
                    if is_formula and value is None:
                        notices.append(Notice("formula_no_value", row=number, column=col))
                    text = cell_text(value)
                    if (number, col) in wanted:
                        first_values[(number, col)] = text
                    if (number, col) in merged and not text:
                        text = first_values.get(merged[(number, col)], "")
                    texts.append(text)
                # A merged range may reach beyond the row's last stored cell.
                for (r, c), origin in merged.items():
                    if r == number and c >= len(texts) and c < max_columns + 1:
                        texts.extend([""] * (c + 1 - len(texts)))
                        texts[c] = first_values.get(origin, "")
                yield number, texts

        return _table(rows(), notices, max_columns=max_columns, max_rows=max_rows)
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(_l("This file is not a valid Excel workbook: save it again as .xlsx or CSV.")) from None
    finally:
        values_book.close()
        formula_book.close()


# --- both -------------------------------------------------------------------------------------

def _table(raw, notices: list[Notice], *, max_columns: int, max_rows: int) -> ParsedFile:
    """Header and rows from (row number, cell texts) pairs: blank rows skipped, rows cut or padded
    to the header's width (extra values are a notice of their row), limits enforced."""
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, cells in raw:
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if header is None:
            header = cells
            if len(header) > max_columns:
                raise FileRefused(_l("The file has %(count)s columns; at most %(limit)s can be imported. "
                                     "Remove the columns you do not need.", count=len(header), limit=max_columns))
            continue
        if len(cells) > len(header):
            notices.append(Notice("extra_cells", row=number, params={"count": len(cells) - len(header)}))
            if len(cells) > max_columns:
                raise FileRefused(_l("Row %(row)s has %(count)s values; at most %(limit)s columns can be imported.",
                                     row=number, count=len(cells), limit=max_columns))
            cells = cells[:len(header)]
        rows.append(cells + [""] * (len(header) - len(cells)))
        numbers.append(number)
        if len(rows) > max_rows:
            raise FileRefused(_l("The file has more than %(limit)s rows: split it, or import it with the command "
                                 "“flask import contacts”.", limit=max_rows))
    if header is None:
        raise FileRefused(_l("The file is empty."))
    if not any(header):
        raise FileRefused(_l("The first row must name the columns (e.g. Name, E-mail, Phone)."))
    if not rows:
        raise FileRefused(_l("The file has a header row but no data rows."))
    return ParsedFile(header=header, rows=rows, notices=notices, row_numbers=numbers)
