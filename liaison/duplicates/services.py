"""The duplicates queue, "not the same person", merging two contacts and undoing a merge.

Who: HQ (reviewers and admins) for every station; a regional admin for the stations of their
regions (both contacts of a pair or a merge must be in scope). Volunteers never (403).

A merge moves every row that references the merged contact to the survivor. The referencing
columns are found *generically*, from the foreign keys to ``contacts.id`` in ``db.metadata`` —
the core's tables, the privacy tables, plugins' tables, any table added later — so nothing is
left behind by a table this module does not know. Where a unique key includes the column (an
association table keyed by ``contact_id``), a row the survivor already has is removed instead of
moved (kept in the merge record). Derived tables (``SKIPPED_TABLES``) are recomputed, not moved.
Plugins needing more implement ``liaison_merge_contacts(survivor, merged)``.

The merge record (``contact_merges``) holds the before-images of both contacts, the survivor's
after-image and every moved or removed reference; ``undo`` restores them all, and refuses with a
reason where later changes would be lost. Candidate pairs are derived: the merged contact's go
with it, and undo finds them again (a "not the same person" answer about the merged contact and a
third contact is not restored).

Leads keep their station: a lead of a Milan contact merged into a Turin contact is still Milan's
lead (its station submitted it), now about the Turin contact.
"""
from __future__ import annotations

import base64
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, Table, UniqueConstraint, and_, delete, func, insert, inspect, select, update
from sqlalchemy.orm import aliased, selectinload

from ..models import Contact, ContactMerge, DuplicatePair, PairStatus, Station, User, db, utcnow
from ..scope import get_or_404, station_filter

# Recomputed from the contacts themselves (ORM events), never moved.
SKIPPED_TABLES = frozenset({"contact_search_keys", "contact_name_keys", "duplicate_pairs"})
NOTES_SEPARATOR = "\n\n"


class MergeRefused(Exception):
    """A merge or an undo that cannot be done; the message says why (in the reader's language)."""


# --- who ----------------------------------------------------------------------------------------

def may_use(user: User) -> bool:
    return user.is_hq or user.is_regional_admin


def require_use(user: User) -> None:
    if not may_use(user):
        abort(403)


# --- the queue -----------------------------------------------------------------------------------

def pairs_query(user: User, status: str = PairStatus.OPEN) -> Select:
    """Pairs whose two contacts are both in the user's scope, best score first."""
    a, b = aliased(Contact), aliased(Contact)
    return (select(DuplicatePair)
            .join(a, DuplicatePair.contact_a_id == a.id)
            .join(b, DuplicatePair.contact_b_id == b.id)
            .where(DuplicatePair.status == status, station_filter(a.station_id, user), station_filter(b.station_id, user))
            .options(selectinload(DuplicatePair.contact_a).selectinload(Contact.station),
                     selectinload(DuplicatePair.contact_b).selectinload(Contact.station))
            .order_by(DuplicatePair.score.desc(), DuplicatePair.id.desc()))


def get_pair_or_404(pair_id: Any, user: User) -> DuplicatePair:
    from ..params import parse_id

    ident = parse_id(pair_id)
    if ident is None:
        abort(404)
    a, b = aliased(Contact), aliased(Contact)
    pair = db.session.scalar(
        select(DuplicatePair).join(a, DuplicatePair.contact_a_id == a.id).join(b, DuplicatePair.contact_b_id == b.id)
        .where(DuplicatePair.id == ident, station_filter(a.station_id, user), station_filter(b.station_id, user)))
    if pair is None:
        abort(404)
    return pair


def dismiss(pair: DuplicatePair, user: User) -> bool:
    """Remember that the pair is not the same person; False if it already was dismissed."""
    if pair.status == PairStatus.DISMISSED:
        return False
    pair.status = PairStatus.DISMISSED
    pair.dismissed_at = utcnow()
    pair.dismissed_by_id = user.id
    db.session.commit()
    return True


# --- merge records in scope ----------------------------------------------------------------------

def merges_query(user: User) -> Select:
    return (select(ContactMerge)
            .where(station_filter(ContactMerge.survivor_station_id, user),
                   station_filter(ContactMerge.merged_station_id, user))
            .options(selectinload(ContactMerge.actor), selectinload(ContactMerge.undone_by),
                     selectinload(ContactMerge.survivor_station), selectinload(ContactMerge.merged_station))
            .order_by(ContactMerge.id.desc()))


def get_merge_or_404(merge_id: Any, user: User) -> ContactMerge:
    from ..params import parse_id

    ident = parse_id(merge_id)
    if ident is None:
        abort(404)
    record = db.session.scalar(merges_query(user).where(ContactMerge.id == ident))
    if record is None:
        abort(404)
    return record


def load_pair_contacts(first_id: Any, second_id: Any, user: User) -> tuple[Contact, Contact]:
    """Both contacts in the user's scope (404 otherwise), stations loaded."""
    options = (selectinload(Contact.station).selectinload(Station.region),)
    first = get_or_404(Contact, first_id, *options, user=user)
    second = get_or_404(Contact, second_id, *options, user=user)
    return first, second


# --- JSON images of rows ------------------------------------------------------------------------

def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def row_image(table: Table, row) -> dict[str, Any]:
    mapping = row._mapping
    return {column.name: _json_value(mapping[column]) for column in table.columns}


def _python_value(column, value: Any) -> Any:
    if value is None:
        return None
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is date and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is time and isinstance(value, str):
        return time.fromisoformat(value)
    if kind is Decimal and isinstance(value, str):
        return Decimal(value)
    if kind is bytes and isinstance(value, str):
        return base64.b64decode(value)
    return value


def from_image(table: Table, image: dict[str, Any]) -> dict[str, Any]:
    """Column values (Python types) of a stored image; columns the table no longer has are dropped."""
    return {column.name: _python_value(column, image[column.name]) for column in table.columns if column.name in image}


def _contact_image(connection, contact_id: int) -> dict[str, Any] | None:
    contacts = Contact.__table__
    row = connection.execute(select(contacts).where(contacts.c.id == contact_id)).one_or_none()
    return row_image(contacts, row) if row is not None else None


# --- which tables reference a contact ------------------------------------------------------------

def referencing_columns(connection=None) -> list[tuple[Table, Any]]:
    """``(table, column)`` for every foreign key to ``contacts.id`` in the metadata (core,
    privacy, plugins), except the derived tables; tables absent from the database are left out."""
    connection = connection if connection is not None else db.session.connection()
    existing = set(inspect(connection).get_table_names())
    contacts_id = Contact.__table__.c.id
    found = []
    for table in db.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES or table.name not in existing:
            continue
        for foreign_key in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            if foreign_key.column is contacts_id:
                found.append((table, foreign_key.parent))
    return found


def _unique_sets(table: Table, column) -> list[list]:
    """Unique keys of ``table`` that include ``column`` (primary key, constraints, indexes)."""
    def has(columns) -> bool:
        return any(c is column for c in columns)

    sets = []
    if column.unique:
        sets.append([column])
    if has(table.primary_key.columns):
        sets.append(list(table.primary_key.columns))
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and has(constraint.columns):
            sets.append(list(constraint.columns))
    for index in table.indexes:
        if index.unique and has(index.columns):
            sets.append(list(index.columns))
    return sets


def _pk_image(table: Table, row) -> dict[str, Any]:
    return {column.name: _json_value(row._mapping[column]) for column in table.primary_key.columns}


def _pk_condition(table: Table, pk: dict[str, Any]):
    return and_(*(column == _python_value(column, pk[column.name]) for column in table.primary_key.columns))


def _move(connection, table: Table, column, from_id: int, to_id: int) -> tuple[list, list]:
    """Point ``table.column`` from ``from_id`` to ``to_id``; a row whose unique key the target
    already has is removed instead. Returns (moved, removed) entries for the merge record."""
    rows = connection.execute(select(table).where(column == from_id)).all()
    if not rows:
        return [], []
    unique_sets = _unique_sets(table, column)
    moved, removed = [], []
    for row in rows:
        conflict = False
        for columns in unique_sets:
            others = [c for c in columns if c is not column]
            condition = and_(column == to_id, *(c == row._mapping[c] for c in others))
            if connection.execute(select(func.count()).select_from(table).where(condition)).scalar():
                conflict = True
                break
        if conflict:
            removed.append({"table": table.name, "row": row_image(table, row)})
            connection.execute(delete(table).where(_pk_condition(table, _pk_image(table, row))))
        else:
            moved.append({"table": table.name, "column": column.name, "pk": _pk_image(table, row)})
    values = {column.name: to_id, **_unchanged(table)}
    if moved and len(moved) == len(rows):
        connection.execute(update(table).where(column == from_id).values(values))
    else:
        for entry in moved:
            connection.execute(update(table).where(_pk_condition(table, entry["pk"])).values(values))
    for entry in moved:  # the key the row has now (when the column is part of its primary key)
        if column.name in entry["pk"]:
            entry["pk"][column.name] = to_id
    return moved, removed


def _unchanged(table: Table) -> dict[str, Any]:
    """``SET updated_at = updated_at``: moving a reference is no edit of the row (and the undo
    restores it exactly), so columns with an ``onupdate`` keep their value."""
    return {column.name: column for column in table.columns if column.onupdate is not None}


# --- merging -------------------------------------------------------------------------------------

def mergeable_fields() -> list[str]:
    """The contact's own fields a person chooses between (columns of ``contacts``)."""
    from ..contacts.services import CONTACT_FIELDS

    columns = Contact.__table__.c
    return [name for name in CONTACT_FIELDS if name in columns]


# The stored form of a field travels with it.
_COMPANIONS = {"email": ("email_normalized",), "phone": ("phone_e164",)}


def _call_plugins(survivor: Contact, merged: Contact) -> dict[str, Any]:
    """``liaison_merge_contacts`` for every installed plugin (switched on or not: their records
    must follow the person). A failing plugin stops the whole merge."""
    from ..models.audit import plugin_title
    from ..plugins.manager import host

    plugin_host = host()
    data: dict[str, Any] = {}
    for impl in plugin_host.pm.hook.liaison_merge_contacts.get_hookimpls():
        name = impl.plugin_name
        failed, results = plugin_host.call_one("liaison_merge_contacts", name, survivor=survivor, merged=merged)
        if failed:
            raise MergeRefused(_("The plugin “%(plugin)s” could not move its records, so nothing was merged.",
                                 plugin=plugin_title(name)))
        results = [result for result in results if result is not None]
        if results:
            data[name] = results[0]
    db.session.flush()
    return data


def merge(survivor: Contact, merged: Contact, choices: dict[str, str], actor: User) -> ContactMerge:
    """Merge ``merged`` into ``survivor``: ``choices[field]`` is ``"survivor"``, ``"merged"`` or
    (notes) ``"both"``. Commits; raises ``MergeRefused`` (nothing written) when it cannot."""
    if survivor.id == merged.id:
        raise MergeRefused(_("A contact cannot be merged with itself."))
    if survivor.erased_at is not None or merged.erased_at is not None:
        raise MergeRefused(_("The personal data of one of these contacts has been erased: it cannot be merged."))
    connection = db.session.connection()
    survivor_before = _contact_image(connection, survivor.id)
    merged_before = _contact_image(connection, merged.id)
    plugin_data = _call_plugins(survivor, merged)
    connection = db.session.connection()
    moved, removed = [], []
    for table, column in referencing_columns(connection):
        table_moved, table_removed = _move(connection, table, column, merged.id, survivor.id)
        moved += table_moved
        removed += table_removed
    contacts = Contact.__table__
    values = from_image(contacts, merged_before)
    for name in mergeable_fields():
        choice = choices.get(name, "survivor")
        if choice == "merged":
            for column in (name, *_COMPANIONS.get(name, ())):
                setattr(survivor, column, values.get(column))
        elif choice == "both" and name == "notes":
            parts = [part for part in (survivor.notes, values.get("notes")) if part and part.strip()]
            survivor.notes = NOTES_SEPARATOR.join(dict.fromkeys(parts)) or None
    if _changed(survivor):
        survivor.updated_by_id = actor.id
    merged_station_id = merged.station_id
    db.session.expunge(merged)
    connection.execute(delete(contacts).where(contacts.c.id == merged.id))
    db.session.flush()
    record = ContactMerge(actor_id=actor.id, survivor_id=survivor.id, merged_id=merged_before["id"],
                          survivor_station_id=survivor.station_id, merged_station_id=merged_station_id,
                          survivor_before=survivor_before, merged_before=merged_before,
                          survivor_after=_contact_image(db.session.connection(), survivor.id),
                          moved=moved, removed=removed, plugin_data=plugin_data)
    db.session.add(record)
    db.session.commit()
    return record


def _changed(contact: Contact) -> bool:
    state = inspect(contact)
    return any(attr.history.has_changes() for attr in state.attrs)


# --- undoing -------------------------------------------------------------------------------------

def _group_moved(entries: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for entry in entries:
        groups.setdefault((entry["table"], entry["column"]), []).append(entry["pk"])
    return groups


def _tables_by_name() -> dict[str, Table]:
    return {table.name: table for table in db.metadata.sorted_tables}


def undo_problems(record: ContactMerge) -> list[str]:
    """Why ``record`` cannot be undone now (empty: it can)."""
    from ..models.audit import plugin_title

    if record.undone_at is not None:
        return [_("This merge has already been undone.")]
    connection = db.session.connection()
    problems = []
    if record.plugin_data:
        problems.append(_("The plugin “%(plugin)s” changed records that an undo cannot restore.",
                          plugin=", ".join(plugin_title(name) for name in sorted(record.plugin_data))))
    current = _contact_image(connection, record.survivor_id)
    if current is None:
        problems.append(_("The surviving contact no longer exists (it was merged into another contact or deleted). "
                          "Undo that first."))
    elif {k: v for k, v in current.items() if k in record.survivor_after} != \
            {k: v for k, v in record.survivor_after.items() if k in current}:
        problems.append(_("The surviving contact has been edited since the merge: undoing it would lose those changes."))
    if _contact_image(connection, record.merged_id) is not None:
        problems.append(_("The merged contact's number is in use again."))
    tables = _tables_by_name()
    existing = set(inspect(connection).get_table_names())
    for (table_name, column_name), pks in _group_moved(record.moved or []).items():
        table = tables.get(table_name)
        if table is None or table_name not in existing or column_name not in table.c:
            problems.append(_("The table “%(table)s” is no longer there.", table=table_name))
            continue
        column = table.c[column_name]
        still = 0
        for pk in pks:
            still += connection.execute(select(func.count()).select_from(table)
                                        .where(_pk_condition(table, pk), column == record.survivor_id)).scalar() or 0
        if still != len(pks):
            problems.append(_("Records moved by the merge (%(table)s) have been changed or deleted since.",
                              table=table_name))
    for entry in record.removed or []:
        table = tables.get(entry["table"])
        if table is None or entry["table"] not in existing:
            problems.append(_("The table “%(table)s” is no longer there.", table=entry["table"]))
            continue
        pk = {column.name: entry["row"].get(column.name) for column in table.primary_key.columns}
        if connection.execute(select(func.count()).select_from(table).where(_pk_condition(table, pk))).scalar():
            problems.append(_("A record removed by the merge (%(table)s) exists again.", table=entry["table"]))
    return list(dict.fromkeys(problems))


def undo(record: ContactMerge, actor: User) -> Contact:
    """Restore both contacts and every moved or removed reference; commits. Raises
    ``MergeRefused`` with the first reason when later changes would be lost."""
    problems = undo_problems(record)
    if problems:
        raise MergeRefused(problems[0])
    contacts = Contact.__table__
    # The ORM writes the merged contact back, so its search text and keys, name keys and pairs are rebuilt.
    restored = Contact(**from_image(contacts, record.merged_before))
    db.session.add(restored)
    db.session.flush()
    connection = db.session.connection()
    tables = _tables_by_name()
    for (table_name, column_name), pks in _group_moved(record.moved or []).items():
        table = tables[table_name]
        column = table.c[column_name]
        for pk in pks:
            connection.execute(update(table).where(_pk_condition(table, pk), column == record.survivor_id)
                               .values({column_name: record.merged_id, **_unchanged(table)}))
    for entry in record.removed or []:
        table = tables[entry["table"]]
        connection.execute(insert(table).values(from_image(table, entry["row"])))
    survivor = db.session.get(Contact, record.survivor_id)
    for name, value in from_image(contacts, record.survivor_before).items():
        if name != "id":
            setattr(survivor, name, value)
    record.undone_at = utcnow()
    record.undone_by_id = actor.id
    db.session.flush()
    db.session.commit()
    return restored


def references_of(contact_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many rows of each referencing table point at each contact (the merge page's summary)."""
    counts: dict[int, dict[str, int]] = {contact_id: {} for contact_id in contact_ids}
    connection = db.session.connection()
    for table, column in referencing_columns(connection):
        rows = connection.execute(select(column, func.count()).where(column.in_(contact_ids)).group_by(column)).all()
        for contact_id, number in rows:
            counts[contact_id][table.name] = counts[contact_id].get(table.name, 0) + number
    return counts
