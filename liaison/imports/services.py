"""Importing contacts from a station's spreadsheet: stage → map → check → commit → (revert).

* ``stage`` reads the file (``parsing``) and keeps its rows with a new ``ImportBatch`` (server-side,
  status STAGED), with the station's last mapping or recognised headers as the first mapping.
* ``analyse`` checks every row against the mapping: problems as (row, column, value, reason),
  duplicates against the station's contacts (same e-mail or phone — one query for the station)
  and within the file.
* ``commit`` writes the chosen rows in one transaction — all or nothing — in one of three modes
  and records each created or updated contact with its before- and after-image.
* ``revert`` removes the created contacts and restores the updated ones, or refuses (changing
  nothing) when a later change would be lost: a contact edited since, or one that has leads or
  other records now.

Plugins register further importable record types through ``liaison_import_types``
(``types()``); the core's own type is ``contacts``.
"""
from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from .. import plugins
from ..contacts.services import CONTACT_FIELDS, _apply, phone_region
from ..forms import normalise_phone
from ..models import (
    AuditEntry,
    Contact,
    ContactKind,
    ContactLanguage,
    ContactTag,
    ImportBatch,
    ImportRow,
    LeadCategory,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)
from ..models.contact import TAG_MAX_LENGTH, contact_search_keys, split_list
from ..models.imports import ImportMode, ImportStatus
from ..permissions import acts_for_station
from . import mapping as mapping_module
from .parsing import NOTICES, FileRefused, Notice, parse

SNAPSHOT_FIELDS = CONTACT_FIELDS
PREVIEW_ROWS = 5


class ImportRefused(Exception):
    """The commit or revert was refused; nothing was written. ``problems`` lists the reasons."""

    def __init__(self, message, problems: list[str] | None = None):
        super().__init__(str(message))
        self.message = message
        self.problems = problems or []


def consent_available() -> bool:
    """Whether the privacy module that records lawful bases exists (issue 11)."""
    return importlib.util.find_spec("liaison.privacy.consent") is not None


LEADS = "leads"  # the import type whose rows are a contact and a lead about it


def targets(record_type: str = "contacts") -> list[mapping_module.Target]:
    found = [t for t in mapping_module.CONTACT_TARGETS if consent_available() or not t.key.startswith("consent_")]
    if record_type == LEADS:
        found += list(mapping_module.LEAD_TARGETS)
    return found


def required(record_type: str) -> tuple[str, ...]:
    return ("name", "lead_category", "lead_summary") if record_type == LEADS else ("name",)


# What each mode means in an import of leads (the contact part of a row; its lead is always a draft).
LEAD_MODE_LABELS = {
    ImportMode.CREATE.value: _l("Create only: every row becomes a new contact with its lead"),
    ImportMode.UPDATE.value: _l("Update matching: a row that matches a contact updates it and adds the lead to it; "
                                "the others are created"),
    ImportMode.SKIP.value: _l("Use matching contacts as they are: a row that matches a contact adds the lead to it "
                              "and leaves the contact unchanged; the others are created"),
}


def mode_label(record_type: str, mode: str | None):
    if not mode:
        return ""
    if record_type == LEADS:
        return LEAD_MODE_LABELS.get(mode, mode)
    return ImportMode.label_of(mode)


def types() -> dict[str, object]:
    """Importable record types: the core's contacts (a label) and the plugins' ``ImportType``
    entries (``liaison_import_types``), by key."""
    found: dict[str, object] = {"contacts": _l("Contacts"), LEADS: _l("Leads with their contact")}
    for plugin, result in plugins.host().call("liaison_import_types", active=None):
        for item in (result if isinstance(result, (list, tuple)) else [result]):
            key = getattr(item, "key", None)
            if key and key.startswith(f"{plugin}.") and key not in found:
                found[key] = item
    return found


def import_records(type_key: str, station: Station, filename: str, data: bytes, actor: User, *,
                   mapping: dict[str, str] | None = None, dry_run: bool = False) -> tuple[ImportBatch | None, list[Problem]]:
    """Import a plugin's record type (``liaison_import_types``): every row through its ``create``,
    in one transaction (any refused row: nothing is written). Returns the committed import (None
    for a dry run or when refused) and the problems by row."""
    kind = types().get(type_key)
    if kind is None or isinstance(kind, str) or not hasattr(kind, "create"):
        raise ImportRefused(_l("Unknown record type %(type)s.", type=type_key))
    if not acts_for_station(actor, station):
        raise ImportRefused(_l("Contacts can be imported only into an active station you act for."))
    limit = limits()
    parsed = parse(filename, data, max_columns=limit["max_columns"], max_rows=10**9)
    known = {}
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            for target in kind.targets:
                known[mapping_module.fold(str(target.label))] = target.key
    for target in kind.targets:
        known[mapping_module.fold(target.key)] = target.key
    columns: dict[int, str] = {}
    for index, text in enumerate(parsed.header):
        key = (mapping or {}).get(text) or known.get(mapping_module.fold(text))
        if key and key not in columns.values():
            columns[index] = key
    specs = {t.key: t for t in kind.targets}
    problems: list[Problem] = []
    missing = [key for key in kind.required if key not in columns.values()]
    if missing:
        raise ImportRefused(_l("The file has no column for: %(fields)s.",
                               fields=", ".join(str(specs[k].label) for k in missing if k in specs)))
    rows = []
    for number, cells in zip(parsed.row_numbers, parsed.rows):
        values = {key: cells[index] for index, key in columns.items() if cells[index]}
        for index, key in columns.items():
            spec = specs[key]
            if spec.max_length and len(cells[index]) > spec.max_length:
                problems.append(Problem(number, parsed.header[index], cells[index],
                                        str(_l("Longer than %(limit)s characters.", limit=spec.max_length))))
        for key in kind.required:
            if not values.get(key):
                problems.append(Problem(number, str(specs[key].label), "", str(_l("A value is required."))))
        rows.append((number, values))
    if problems or dry_run:
        return None, problems
    batch = ImportBatch(station_id=station.id, record_type=type_key, status=ImportStatus.COMMITTED,
                        mode=ImportMode.CREATE.value, filename=(filename or "upload")[-255:],
                        sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_by_id=actor.id,
                        header=parsed.header, mapping={str(i): k for i, k in columns.items()}, notices=[],
                        total_rows=len(rows), committed_at=utcnow())
    try:
        db.session.add(batch)
        db.session.flush()
        for number, values in rows:
            try:
                record_id = kind.create(station, values, actor)
            except ValueError as exc:
                problems.append(Problem(number, "", "", str(exc)))
                continue
            db.session.add(ImportRow(import_id=batch.id, row_number=number, action="created", contact_id=None,
                                     before=None, after={"record_id": record_id}))
        if problems:
            db.session.rollback()
            return None, problems
        batch.created_count = len(rows)
        _audit("import.commit", batch, station, actor, {"created": len(rows), "type": type_key})
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        raise ImportRefused(_l("The import failed and nothing was written: %(error)s", error=type(exc).__name__)) from exc
    return batch, []


# --- staging ----------------------------------------------------------------------------------

def limits() -> dict:
    config = current_app.config
    return {"max_bytes": config["IMPORT_MAX_BYTES"], "max_rows": config["IMPORT_MAX_ROWS"],
            "max_columns": config["IMPORT_MAX_COLUMNS"]}


def last_mapping(station_id: int, record_type: str = "contacts") -> dict[str, str]:
    """The mapping of the station's latest import (of that type) whose columns were mapped, by header text."""
    batch = db.session.scalar(
        select(ImportBatch).where(ImportBatch.station_id == station_id, ImportBatch.record_type == record_type,
                                  ImportBatch.status.in_([ImportStatus.COMMITTED, ImportStatus.REVERTED]))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc()).limit(1))
    if batch is None or not batch.mapping:
        return {}
    return mapping_module.remembered_form(batch.header or [], batch.mapping)


def stage(station: Station, filename: str, data: bytes, actor: User, *, max_rows: int | None = None,
          record_type: str = "contacts") -> ImportBatch:
    """Read the file and keep it as a STAGED import; ``FileRefused`` for a file that cannot be."""
    limit = limits()
    if len(data) > limit["max_bytes"]:
        raise FileRefused(_l("The file is larger than %(limit)s MB.", limit=_megabytes(limit["max_bytes"])))
    parsed = parse(filename, data, max_columns=limit["max_columns"], max_rows=max_rows or limit["max_rows"])
    remembered = last_mapping(station.id, record_type)
    guessed = mapping_module.guess(parsed.header, remembered)
    if record_type not in ("contacts", LEADS):
        raise FileRefused(_l("Choose what the file holds."))
    allowed = {t.key for t in targets(record_type)}
    guessed = {k: (v if v in allowed else mapping_module.IGNORE) for k, v in guessed.items()}
    batch = ImportBatch(
        station_id=station.id, record_type=record_type, status=ImportStatus.STAGED, filename=(filename or "upload")[-255:],
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_by_id=actor.id,
        header=parsed.header, mapping=guessed, notices=[n.as_dict() for n in parsed.notices],
        rows=[[number] + row for number, row in zip(parsed.row_numbers, parsed.rows)], total_rows=len(parsed.rows),
    )
    db.session.add(batch)
    db.session.commit()
    return batch


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def set_mapping(batch: ImportBatch, chosen: dict[str, str]) -> list[str]:
    """Store the mapping (column index -> target); the problems with it, if any (nothing stored)."""
    allowed = {t.key for t in targets(batch.record_type)}
    problems = []
    mapping = {}
    seen: dict[str, int] = {}
    for index in range(len(batch.header)):
        target = chosen.get(str(index), mapping_module.IGNORE) or mapping_module.IGNORE
        if target not in allowed:
            target = mapping_module.IGNORE
        if target and target in seen:
            problems.append(str(_l("“%(target)s” is chosen for more than one column.",
                                   target=mapping_module.TARGETS[target].label)))
        seen[target] = index
        mapping[str(index)] = target
    if "name" not in seen:
        problems.append(str(_l("Choose the column that holds the name.")))
    for key in required(batch.record_type)[1:]:
        if key not in seen:
            problems.append(str(_l("Choose the column that holds “%(target)s”.", target=mapping_module.TARGETS[key].label)))
    if problems:
        return list(dict.fromkeys(problems))
    batch.mapping = mapping
    db.session.commit()
    return []


# --- checking ---------------------------------------------------------------------------------

@dataclass
class Problem:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class CheckedRow:
    index: int
    number: int
    values: dict
    consent: tuple | None = None  # (basis, given_on)
    problems: list[Problem] = field(default_factory=list)
    matches: list[int] = field(default_factory=list)  # ids of the station's contacts it matches
    same_as_row: int | None = None  # an earlier row of the file with the same e-mail or phone
    phone_e164: str | None = None
    # Likely the same person by name across scripts (liaison.duplicates), shown, never acted on.
    possible: list[tuple[int, list[str]]] = field(default_factory=list)
    lead: dict | None = None  # an import of leads: the lead's values (category, summary, …)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Analysis:
    rows: list[CheckedRow]
    contacts: dict[int, str]  # matched contacts' names, for the table

    @property
    def problems(self) -> list[Problem]:
        return [p for row in self.rows for p in row.problems]

    @property
    def error_rows(self) -> int:
        return sum(1 for row in self.rows if not row.ok)

    @property
    def duplicate_rows(self) -> list[CheckedRow]:
        return [row for row in self.rows if row.matches or row.same_as_row or row.possible]

    def planned(self, mode: str, leave_out_errors: bool = True) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "skipped": 0, "linked": 0, "leads": 0, "errors": self.error_rows}
        actions: dict[int, str] = {}
        for row in self.rows:
            action = _action(row, mode, actions) if row.ok else "skipped"
            actions[row.number] = action
            counts[action] += 1
            if row.lead is not None and action != "skipped":
                counts["leads"] += 1
        return counts


def _action(row: CheckedRow, mode: str, earlier: dict[int, str] | None = None) -> str:
    """What the row does to the station's contacts: created, updated, skipped or (a row of
    leads whose person is an earlier row's) linked. ``earlier``: the actions of earlier rows."""
    if row.lead is not None:
        return _lead_action(row, mode, earlier or {})
    if mode == ImportMode.CREATE:
        return "created"
    if mode == ImportMode.SKIP:
        return "skipped" if (row.matches or row.same_as_row) else "created"
    # update
    if len(row.matches) == 1 and not row.same_as_row:
        return "updated"
    if row.matches or row.same_as_row:
        return "skipped"
    return "created"


def _lead_action(row: CheckedRow, mode: str, earlier: dict[int, str]) -> str:
    """A row of leads: its contact is created, updated, the matching one used as it is
    ("skip" mode: "linked"), or an earlier row's (linked); ambiguous rows are skipped."""
    if mode == ImportMode.CREATE:
        return "created"
    if row.same_as_row:
        return "linked" if earlier.get(row.same_as_row, "skipped") != "skipped" else "skipped"
    if len(row.matches) > 1:
        return "skipped"
    if row.matches:
        return "updated" if mode == ImportMode.UPDATE else "linked"
    return "created"


def _priority_names() -> dict[str, int]:
    from ..models import Priority

    names: dict[str, int] = {}
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            for member in Priority:
                names[mapping_module.fold(str(member.label))] = int(member)
    for member in Priority:
        names[mapping_module.fold(member.name)] = int(member)
        names[str(int(member))] = int(member)
    return names


def _country_names() -> dict[str, str]:
    from ..i18n import COUNTRY_CODES, _territories

    names = {}
    for locale in list(current_app.config["LANGUAGES"]) + ["en"]:
        territories = _territories(locale)
        for code in COUNTRY_CODES:
            if code in territories:
                names[mapping_module.fold(territories[code])] = code
    for code in COUNTRY_CODES:
        names[mapping_module.fold(code)] = code
    return names


def _choice_names(enum) -> dict[str, str]:
    names = {}
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            for member in enum:
                names[mapping_module.fold(str(member.label))] = member.value
    for member in enum:
        names[mapping_module.fold(member.value)] = member.value
    return names


def parse_date(text: str) -> date | None:
    """An ISO date, "2024/5/1", "2024年5月1日" or an Excel serial number (days since 1899-12-30)."""
    import re

    text = (text or "").strip()
    if re.fullmatch(r"\d{4,5}(\.0+)?", text):
        serial = int(float(text))
        if 1 <= serial <= 2_958_465:
            return date(1899, 12, 30) + timedelta(days=serial)
        return None
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def analyse(batch: ImportBatch) -> Analysis:
    """Check every staged row against the batch's mapping (no writes)."""
    station = db.session.get(Station, batch.station_id)
    mapping = {int(k): v for k, v in (batch.mapping or {}).items() if v}
    header = batch.header
    countries = _country_names() if "country" in mapping.values() else {}
    kinds = _choice_names(ContactKind) if "kind" in mapping.values() else {}
    bases = {}
    if "consent_basis" in mapping.values():
        from ..models import LawfulBasis

        bases = _choice_names(LawfulBasis)
    is_leads = batch.record_type == LEADS
    categories = priorities = {}
    if is_leads:
        categories, priorities = _choice_names(LeadCategory), _priority_names()
    from email_validator import EmailNotValidError, validate_email

    # The station's contacts by e-mail and phone: one query.
    by_email: dict[str, list[int]] = {}
    by_phone: dict[str, list[int]] = {}
    names: dict[int, str] = {}
    for contact_id, name, email, phone in db.session.execute(
            select(Contact.id, Contact.name, Contact.email_normalized, Contact.phone_e164)
            .where(Contact.station_id == station.id, Contact.erased_at.is_(None))):
        names[contact_id] = name
        if email:
            by_email.setdefault(email, []).append(contact_id)
        if phone:
            by_phone.setdefault(phone, []).append(contact_id)
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    matched_by: dict[int, int] = {}  # contact id -> the first row matching it
    # Formulas without a computed value are refused as cells: a problem of their row when mapped.
    refused_cells = {(n["row"], n["column"]) for n in batch.notices or []
                     if n.get("code") == "formula_no_value" and n.get("column") in mapping}
    checked = []
    for index, raw in enumerate(batch.rows or []):
        number, cells = raw[0], raw[1:]
        row = CheckedRow(index=index, number=number, values={})

        def problem(column: int, reason) -> None:
            row.problems.append(Problem(number, header[column] if column < len(header) else "", cells[column]
                                        if column < len(cells) else "", str(reason)))

        for column, target in mapping.items():
            value = cells[column] if column < len(cells) else ""
            if (number, column) in refused_cells:
                problem(column, NOTICES["formula_no_value"])
                continue
            if not value:
                continue
            spec = mapping_module.TARGETS[target]
            if spec.max_length and len(value) > spec.max_length:
                problem(column, _l("Longer than %(limit)s characters.", limit=spec.max_length))
                continue
            if target == "email":
                try:
                    validate_email(value, check_deliverability=False)
                except EmailNotValidError:
                    problem(column, _l("Not a valid e-mail address."))
                    continue
            elif target == "country":
                code = countries.get(mapping_module.fold(value))
                if code is None:
                    problem(column, _l("Not a country: use its name or its two-letter code (e.g. IT, 意大利)."))
                    continue
                value = code
            elif target == "kind":
                kind = kinds.get(mapping_module.fold(value))
                if kind is None:
                    problem(column, _l("Not a kind of contact: use one of %(kinds)s.",
                                       kinds=", ".join(str(k.label) for k in ContactKind)))
                    continue
                value = kind
            elif target in ("tags", "languages"):
                items = split_list(value)
                if any(len(item) > TAG_MAX_LENGTH for item in items):
                    problem(column, _l("Each item must be at most %(limit)s characters.", limit=TAG_MAX_LENGTH))
                    continue
                value = ", ".join(items)
            elif target == "consent_basis":
                basis = bases.get(mapping_module.fold(value))
                if basis is None:
                    problem(column, _l("Not a lawful basis: use consent, contract, legitimate interest or public task."))
                    continue
                value = basis
            elif target == "consent_given_on":
                given = parse_date(value)
                if given is None:
                    problem(column, _l("Not a date: write it as 2025-03-31."))
                    continue
                if given > date.today():
                    problem(column, _l("The date cannot be in the future."))
                    continue
                value = given
            elif target == "lead_category":
                category = categories.get(mapping_module.fold(value))
                if category is None:
                    problem(column, _l("Not a category of lead: use one of %(categories)s.",
                                       categories=", ".join(str(c.label) for c in LeadCategory)))
                    continue
                value = category
            elif target == "lead_priority":
                priority = priorities.get(mapping_module.fold(value))
                if priority is None:
                    problem(column, _l("Not a priority: use low, normal, high or urgent."))
                    continue
                value = priority
            row.values[target] = value
        name_column = next((c for c, t in mapping.items() if t == "name"), None)
        if not row.values.get("name"):
            row.problems.append(Problem(number, header[name_column] if name_column is not None else "", "",
                                        str(_l("A name is required."))))
        if "phone" in row.values:
            row.phone_e164 = normalise_phone(row.values["phone"], phone_region(station, row.values.get("country")))
            if row.phone_e164 is None:
                problem(next(c for c, t in mapping.items() if t == "phone"),
                        _l("Not a valid phone number; a number without “+” is read as one in the station's country."))
        if is_leads:
            row.lead = {key[5:]: row.values.pop(key) for key in list(row.values) if key.startswith("lead_")}
            for key, label in (("category", _l("A category is required.")), ("summary", _l("A summary is required."))):
                if not row.lead.get(key):
                    column = next((c for c, t in mapping.items() if t == f"lead_{key}"), None)
                    row.problems.append(Problem(number, header[column] if column is not None else "", "", str(label)))
        basis = row.values.pop("consent_basis", None)
        given = row.values.pop("consent_given_on", None)
        if basis:
            row.consent = (basis, given or date.today())
        # Duplicates: the station's contacts, then earlier rows of the file.
        email = (row.values.get("email") or "").lower() or None
        matches = set()
        if email:
            matches.update(by_email.get(email, []))
        if row.phone_e164:
            matches.update(by_phone.get(row.phone_e164, []))
        row.matches = sorted(matches)
        if row.ok:
            earlier = (seen_email.get(email) if email else None) or (seen_phone.get(row.phone_e164) if row.phone_e164 else None)
            # Two rows matching the same contact: the later one is a duplicate of the earlier.
            earlier = earlier or min((matched_by[i] for i in row.matches if i in matched_by), default=None)
            row.same_as_row = earlier
            for contact_id in row.matches:
                matched_by.setdefault(contact_id, number)
            if email:
                seen_email.setdefault(email, number)
            if row.phone_e164:
                seen_phone.setdefault(row.phone_e164, number)
        checked.append(row)
    _possible_duplicates(station, checked)
    return Analysis(rows=checked, contacts={i: names[i] for row in checked for i in [*row.matches, *(
        p[0] for p in row.possible)] if i in names})


NAME_MATCH_MAX_ROWS = 1000  # the name matcher costs a few indexed queries a row: smaller files only


def _possible_duplicates(station: Station, rows: list[CheckedRow]) -> None:
    """Rows without an exact match that the duplicates matcher (names across scripts, pinyin,
    name order) finds likely in the station: shown with its reasons."""
    if len(rows) > NAME_MATCH_MAX_ROWS or importlib.util.find_spec("liaison.duplicates.matching") is None:
        return
    from ..duplicates import matching

    for row in rows:
        if row.matches or not row.ok:
            continue
        probe = matching.probe_from(row.values, phone_region(station, row.values.get("country")), station.id)
        for candidate in matching.find(db.session, probe):
            if candidate.station_id == station.id:
                row.possible.append((candidate.id, matching.describe(candidate.reasons)))


def preview(batch: ImportBatch, count: int = PREVIEW_ROWS) -> list[list[str]]:
    return [raw[1:] for raw in (batch.rows or [])[:count]]


# --- committing -------------------------------------------------------------------------------

def snapshot(contact: Contact) -> dict:
    values = {name: getattr(contact, name) for name in SNAPSHOT_FIELDS}
    return {key: (value or None) for key, value in values.items()}


def _audit(action: str, batch: ImportBatch, station: Station, actor: User | None, details: dict) -> None:
    db.session.add(AuditEntry(actor_id=actor.id if actor else None, action=action, object_type="import",
                              object_id=batch.id, station_id=station.id, region_id=station.region_id,
                              details={"filename": batch.filename, **details}))


def commit(batch: ImportBatch, mode: str, actor: User, *, leave_out_errors: bool = False,
           progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the chosen rows in one transaction; ``ImportRefused`` (nothing written) otherwise."""
    if batch.status != ImportStatus.STAGED:
        raise ImportRefused(_l("This import has already been done or discarded."))
    try:
        mode = ImportMode(mode)
    except ValueError:
        raise ImportRefused(_l("Choose what to do with duplicates.")) from None
    station = db.session.get(Station, batch.station_id)
    if not acts_for_station(actor, station):
        raise ImportRefused(_l("Contacts can be imported only into an active station you act for."))
    analysis = analyse(batch)
    if analysis.error_rows and not leave_out_errors:
        raise ImportRefused(_l("%(count)s rows have problems: correct the file, or choose to leave those rows out.",
                               count=analysis.error_rows))
    counts = {"created": 0, "updated": 0, "skipped": 0, "linked": 0}
    batch_id = batch.id
    try:
        actions: dict[int, str] = {}
        for row in analysis.rows:
            actions[row.number] = _action(row, mode, actions) if row.ok else "skipped"
        to_use = [row for row in analysis.rows if actions[row.number] in ("updated", "linked") and row.matches
                  and not (row.lead is not None and row.same_as_row)]
        existing = {}
        if to_use:
            ids = [row.matches[0] for row in to_use]
            for start in range(0, len(ids), 1000):
                for contact in db.session.scalars(
                        select(Contact).where(Contact.id.in_(ids[start:start + 1000]))
                        .options(selectinload(Contact.tag_rows), selectinload(Contact.language_rows))):
                    existing[contact.id] = contact
        records: list[tuple[CheckedRow, str, Contact, dict | None]] = []
        person: dict[int, Contact] = {}  # row number -> its contact (imports of leads)
        for done, row in enumerate(analysis.rows, start=1):
            action = actions[row.number]
            if action == "linked":
                contact = person.get(row.same_as_row) if row.same_as_row else existing[row.matches[0]]
                person[row.number] = contact
                counts["linked"] = counts.get("linked", 0) + 1
                if progress is not None:
                    progress(1)
                continue
            if action == "created":
                contact = Contact(station_id=station.id, created_by_id=actor.id, updated_by_id=actor.id,
                                  kind=ContactKind.SCHOLAR.value)
                _apply(contact, dict(row.values), station)
                db.session.add(contact)
                records.append((row, action, contact, None))
            elif action == "updated":
                contact = existing[row.matches[0]]
                before = snapshot(contact)
                # Empty cells leave the stored value as it is.
                _apply(contact, {k: v for k, v in row.values.items() if v not in (None, "")}, station)
                contact.updated_by_id = actor.id
                records.append((row, action, contact, before))
            if action != "skipped":
                person[row.number] = contact
            counts[action] += 1
            if progress is not None:
                progress(1)
            if done % 500 == 0:
                db.session.flush()
        db.session.flush()
        for row, action, contact, before in records:
            db.session.add(ImportRow(import_id=batch_id, row_number=row.number, action=action, contact_id=contact.id,
                                     before=before, after=snapshot(contact)))
        leads = _create_leads(analysis, person, station, actor, batch_id) if batch.record_type == LEADS else []
        counts["leads"] = len(leads)
        consents = [(row, contact) for row, _action_, contact, _b in records if row.consent]
        if consents:
            from ..models import ConsentSource, Purpose
            from ..privacy import consent as consent_module

            for row, contact in consents:
                basis, given_on = row.consent
                consent_module.record(contact, Purpose.KEEP_IN_TOUCH, basis, ConsentSource.IMPORT, given_on,
                                      actor=actor, evidence=f"import #{batch_id}, row {row.number}")
        batch.status = ImportStatus.COMMITTED
        batch.mode = mode.value
        batch.committed_at = utcnow()
        batch.created_count, batch.updated_count, batch.skipped_count = counts["created"], counts["updated"], counts["skipped"]
        batch.error_count = analysis.error_rows
        batch.rows = None  # the staged copy of the file is not kept once imported
        _audit("import.commit", batch, station, actor, {**counts, "mode": mode.value, "type": batch.record_type})
        db.session.commit()
    except ImportRefused:
        db.session.rollback()
        raise
    except Exception as exc:
        db.session.rollback()
        current_app.logger.exception("import %s failed", batch_id)
        message = getattr(exc, "message", None) or _l("The import failed and nothing was written: %(error)s",
                                                      error=type(exc).__name__)
        raise ImportRefused(message) from exc
    counts["errors"] = analysis.error_rows
    for lead_id in leads:
        plugins.emit("liaison_event_lead_created", station.id, lead=db.session.get(TalentLead, lead_id), user=actor)
    return counts


def _create_leads(analysis: Analysis, person: dict[int, Contact], station: Station, actor: User,
                  batch_id: int) -> list[int]:
    """A draft lead for every imported row (never submitted: submission goes through the consent
    gate on the lead's page), with its "created" event and an ``ImportRow`` (action "lead")."""
    created: list[tuple[CheckedRow, TalentLead]] = []
    problems: list[str] = []
    for row in analysis.rows:
        contact = person.get(row.number)
        if contact is None or row.lead is None:
            continue
        lead = TalentLead(contact_id=contact.id, station_id=station.id, submitter_id=actor.id,
                          status=LeadStatus.DRAFT, category=row.lead["category"], summary=row.lead["summary"],
                          field=row.lead.get("field") or None, wants=row.lead.get("wants") or None,
                          offer=row.lead.get("offer") or None, priority=row.lead.get("priority") or 2)
        lead.station = station
        db.session.add(lead)
        db.session.add(LeadEvent(lead=lead, actor_id=actor.id, kind=LeadEventKind.CREATED, to_status=LeadStatus.DRAFT))
        for reason in plugins.validate_lead(lead, "save"):
            problems.append(str(_l("Row %(row)s: %(reason)s", row=row.number, reason=reason)))
        created.append((row, lead))
    if problems:
        raise ImportRefused(_l("Some leads were refused; nothing was imported:"), problems[:200])
    db.session.flush()
    for row, lead in created:
        db.session.add(ImportRow(import_id=batch_id, row_number=row.number, action="lead", contact_id=lead.contact_id,
                                 before=None, after={"lead_id": lead.id, "version": lead.version}))
    return [lead.id for _row, lead in created]


def lead_count(batch: ImportBatch) -> int:
    """How many leads the import created (0 for other types)."""
    if batch.record_type != LEADS or batch.status == ImportStatus.STAGED:
        return 0
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(ImportRow)
                             .where(ImportRow.import_id == batch.id, ImportRow.action == "lead")) or 0


def discard(batch: ImportBatch) -> None:
    if batch.status == ImportStatus.STAGED:
        batch.status = ImportStatus.DISCARDED
        batch.rows = None
        db.session.commit()


# --- reverting --------------------------------------------------------------------------------

# Tables whose rows go with a removed contact without any loss: its own derived rows.
_OWN_TABLES = {"contact_tags", "contact_languages", "contact_search_keys", "import_rows"}


def _tables_referring_to(target) -> list:
    """(table, foreign key) pairs of the existing tables that refer to ``target``."""
    from sqlalchemy import inspect

    existing = set(inspect(db.session.connection()).get_table_names())
    return [(table, fk) for table in db.metadata.sorted_tables if table.name in existing
            for fk in table.foreign_keys if fk.column.table is target]


def _references(contact_ids: list[int], own_leads: set[int] | None = None) -> dict[int, list[str]]:
    """For each contact, the tables whose rows refer to it and would be lost or block removing it."""
    found: dict[int, list[str]] = {}
    if not contact_ids:
        return found
    from sqlalchemy import inspect

    contacts_table = Contact.__table__
    existing = set(inspect(db.session.connection()).get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name in _OWN_TABLES or table.name not in existing:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not contacts_table:
                continue
            if (fk.ondelete or "").upper() == "SET NULL":
                continue  # logs: they keep their rows
            column = fk.parent
            stmt = select(column).where(column.in_(contact_ids)).distinct()
            if table.name == "leads" and own_leads:
                # The leads this very import created go with it.
                for contact_id, lead_id in db.session.execute(select(column, table.c.id).where(column.in_(contact_ids))):
                    if lead_id not in own_leads:
                        found.setdefault(contact_id, []).append(table.name)
                continue
            if table.name == "contact_consents":
                stmt = stmt.where(table.c.source != "import")
            elif (fk.ondelete or "").upper() == "CASCADE" and table.name != "contact_consents":
                continue  # reveal grants and the like: nothing a person entered
            for (contact_id,) in db.session.execute(stmt):
                found.setdefault(contact_id, []).append(table.name)
    return found


def revert_problems(batch: ImportBatch) -> list[str]:
    """Why the import cannot be reverted (empty: it can)."""
    if batch.status != ImportStatus.COMMITTED:
        return [str(_l("Only a completed import can be reverted."))]
    if batch.record_type not in ("contacts", LEADS):
        kind = types().get(batch.record_type)
        return [] if getattr(kind, "remove", None) else [str(_l("Imports of this record type cannot be reverted."))]
    rows = db.session.scalars(select(ImportRow).where(ImportRow.import_id == batch.id).order_by(ImportRow.row_number)).all()
    lead_rows = [row for row in rows if row.action == "lead"]
    rows = [row for row in rows if row.action != "lead"]
    problems = _lead_problems(lead_rows)
    own_leads = {row.after.get("lead_id") for row in lead_rows}
    ids = [row.contact_id for row in rows if row.contact_id]
    contacts = {}
    for start in range(0, len(ids), 1000):
        for contact in db.session.scalars(select(Contact).where(Contact.id.in_(ids[start:start + 1000]))
                                          .options(selectinload(Contact.tag_rows), selectinload(Contact.language_rows))):
            contacts[contact.id] = contact
    references = _references([row.contact_id for row in rows if row.action == "created" and row.contact_id], own_leads)
    for row in rows:
        contact = contacts.get(row.contact_id) if row.contact_id else None
        if contact is None:
            if row.action == "updated":
                problems.append(str(_l("Row %(row)s: the contact it updated no longer exists.", row=row.row_number)))
            continue
        if contact.erased_at is not None:
            problems.append(str(_l("Row %(row)s: the person's data has been erased since.", row=row.row_number)))
            continue
        if snapshot(contact) != row.after:
            problems.append(str(_l("Row %(row)s: “%(name)s” has been edited since the import; reverting would lose "
                                   "that change.", row=row.row_number, name=contact.name)))
        for table in references.get(contact.id, []):
            if table == "leads":
                problems.append(str(_l("Row %(row)s: “%(name)s” has leads now.", row=row.row_number, name=contact.name)))
            else:
                problems.append(str(_l("Row %(row)s: “%(name)s” now has other records (%(table)s).",
                                       row=row.row_number, name=contact.name, table=table)))
    return problems


def _imported_leads(lead_rows: list[ImportRow]) -> dict[int, TalentLead]:
    ids = [row.after.get("lead_id") for row in lead_rows if row.after.get("lead_id")]
    leads: dict[int, TalentLead] = {}
    for start in range(0, len(ids), 1000):
        for lead in db.session.scalars(select(TalentLead).where(TalentLead.id.in_(ids[start:start + 1000]))
                                       .options(selectinload(TalentLead.events), selectinload(TalentLead.attachments))):
            leads[lead.id] = lead
    return leads


def _lead_problems(lead_rows: list[ImportRow]) -> list[str]:
    """A lead created by the import goes with its revert only while untouched: still a draft, never
    edited, commented on or given files, nothing else referring to it."""
    if not lead_rows:
        return []
    leads = _imported_leads(lead_rows)
    others: dict[int, list[str]] = {}
    own = {"lead_events", "lead_attachments"}
    ids = list(leads)
    for table, fk in _tables_referring_to(TalentLead.__table__):
        if table.name in own or (fk.ondelete or "").upper() in ("CASCADE", "SET NULL"):
            continue
        for start in range(0, len(ids), 1000):
            for (lead_id,) in db.session.execute(select(fk.parent).where(fk.parent.in_(ids[start:start + 1000])).distinct()):
                others.setdefault(lead_id, []).append(table.name)
    problems = []
    for row in lead_rows:
        lead = leads.get(row.after.get("lead_id"))
        if lead is None:
            continue  # gone already: nothing of it to lose
        if lead.status != LeadStatus.DRAFT:
            problems.append(str(_l("Row %(row)s: its lead has been submitted since.", row=row.row_number)))
        elif lead.version != row.after.get("version") or len(lead.events) > 1:
            problems.append(str(_l("Row %(row)s: its lead has been edited or commented on since.", row=row.row_number)))
        if lead.attachments:
            problems.append(str(_l("Row %(row)s: files have been attached to its lead since.", row=row.row_number)))
        for table in others.get(lead.id, []):
            problems.append(str(_l("Row %(row)s: its lead now has other records (%(table)s).", row=row.row_number,
                                   table=table)))
    return problems


def _remove_leads(lead_ids: list[int]) -> None:
    """Delete the imported (untouched) leads and the rows that go with them."""
    referring = _tables_referring_to(TalentLead.__table__)
    for start in range(0, len(lead_ids), 1000):
        chunk = lead_ids[start:start + 1000]
        for table, fk in referring:
            if (fk.ondelete or "").upper() == "SET NULL":
                db.session.execute(table.update().where(fk.parent.in_(chunk)).values({fk.parent.name: None}))
            else:
                db.session.execute(table.delete().where(fk.parent.in_(chunk)))
        db.session.execute(delete(TalentLead).where(TalentLead.id.in_(chunk)), execution_options={"synchronize_session": False})


def revert(batch: ImportBatch, actor: User) -> dict[str, int]:
    """Undo a committed import, or ``ImportRefused`` with the reasons (nothing changed)."""
    station = db.session.get(Station, batch.station_id)
    if not acts_for_station(actor, station):
        raise ImportRefused(_l("Only someone who acts for the station can revert its imports."))
    if batch.record_type not in ("contacts", LEADS):
        return _revert_records(batch, actor, station)
    problems = revert_problems(batch)
    if problems:
        raise ImportRefused(_l("This import cannot be reverted:"), problems)
    rows = db.session.scalars(select(ImportRow).where(ImportRow.import_id == batch.id)).all()
    created = [row.contact_id for row in rows if row.action == "created" and row.contact_id]
    updated = [row for row in rows if row.action == "updated" and row.contact_id]
    lead_ids = list(_imported_leads([row for row in rows if row.action == "lead"]))
    try:
        _remove_leads(lead_ids)
        contacts = {}
        ids = [row.contact_id for row in updated]
        for start in range(0, len(ids), 1000):
            for contact in db.session.scalars(select(Contact).where(Contact.id.in_(ids[start:start + 1000]))
                                              .options(selectinload(Contact.tag_rows), selectinload(Contact.language_rows))):
                contacts[contact.id] = contact
        for row in updated:
            contact = contacts[row.contact_id]
            _apply(contact, {k: (v if v is not None else "") for k, v in (row.before or {}).items()}, station)
            contact.updated_by_id = actor.id
        db.session.flush()
        from ..models import ContactConsent

        for start in range(0, len(created), 1000):
            chunk = created[start:start + 1000]
            db.session.execute(delete(ContactConsent).where(ContactConsent.contact_id.in_(chunk)))
            db.session.execute(delete(ContactTag).where(ContactTag.contact_id.in_(chunk)))
            db.session.execute(delete(ContactLanguage).where(ContactLanguage.contact_id.in_(chunk)))
            db.session.execute(delete(contact_search_keys).where(contact_search_keys.c.contact_id.in_(chunk)))
            db.session.execute(ImportRow.__table__.update().where(ImportRow.contact_id.in_(chunk)).values(contact_id=None))
            db.session.execute(delete(Contact).where(Contact.id.in_(chunk)), execution_options={"synchronize_session": False})
        batch.status = ImportStatus.REVERTED
        batch.reverted_at = utcnow()
        batch.reverted_by_id = actor.id
        counts = {"removed": len(created), "restored": len(updated), "leads": len(lead_ids)}
        _audit("import.revert", batch, station, actor, counts)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        current_app.logger.exception("reverting import %s failed", batch.id)
        raise ImportRefused(_l("The import could not be reverted; nothing was changed.")) from exc
    db.session.expire_all()
    return counts


def _revert_records(batch: ImportBatch, actor: User, station: Station) -> dict[str, int]:
    kind = types().get(batch.record_type)
    if batch.status != ImportStatus.COMMITTED:
        raise ImportRefused(_l("Only a completed import can be reverted."))
    if kind is None or getattr(kind, "remove", None) is None:
        raise ImportRefused(_l("Imports of this record type cannot be reverted."))
    ids = [row.after.get("record_id") for row in db.session.scalars(
        select(ImportRow).where(ImportRow.import_id == batch.id))]
    try:
        kind.remove([i for i in ids if i is not None])
        batch.status = ImportStatus.REVERTED
        batch.reverted_at = utcnow()
        batch.reverted_by_id = actor.id
        _audit("import.revert", batch, station, actor, {"removed": len(ids)})
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        raise ImportRefused(_l("The import could not be reverted; nothing was changed.")) from exc
    return {"removed": len(ids), "restored": 0}


# --- lists ------------------------------------------------------------------------------------

def importable_stations(user: User) -> list[Station]:
    from ..scope import visible_stations_query

    stations = db.session.scalars(visible_stations_query(user).order_by(Station.name)).all()
    return [station for station in stations if acts_for_station(user, station)]


def visible_imports(user: User, station_id: int | None = None):
    """Imports of the stations the user acts for (HQ reviewers: none; the view answers 403)."""
    from ..scope import scoped

    stmt = scoped(select(ImportBatch), ImportBatch, user).where(ImportBatch.status != ImportStatus.DISCARDED)
    if station_id:
        stmt = stmt.where(ImportBatch.station_id == station_id)
    return stmt


__all__ = ["FileRefused", "ImportRefused", "Notice", "analyse", "commit", "revert", "stage"]
