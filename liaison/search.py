"""Free-text search: user input is matched literally and without regard to case or accents, on
SQLite and PostgreSQL alike — and, for leads and contacts, through an index.

How lead and contact search is served (``lead_condition``, ``contact_condition``):

* Every lead and contact carries ``search_text``: its searchable fields, each *folded* by
  ``fold`` (NFKD without combining marks, case-folded, full-width → normal width, whitespace
  collapsed), one field per line so that no match spans two fields. The ORM keeps it up to date
  on every insert and update (``keep_search_text``), so forms, CLI, imports and any later API
  stay in sync; the query is folded the same way, so "nguyen" finds "Nguyễn" and "ＡＢＣ"
  finds "abc". Bulk ``insert()``s bypass the ORM: they must fill ``search_text`` (and
  ``contact_search_keys``) with ``lead_search_text``/``contact_search_text``/``contact_search_keys``.
* Queries of three characters or more use a trigram index over ``search_text``. SQLite: an
  FTS5 table (``leads_fts``, ``contacts_fts``; external content, ``trigram`` tokenizer) kept in
  sync with the base table by triggers, queried with the folded text quoted as one FTS5 phrase, so
  no input is FTS syntax (``"``, ``*``, ``NEAR``, ``OR`` are literal). SQLite 3.40's trigram
  tokenizer cannot fold diacritics itself, hence the folded column. PostgreSQL: a ``pg_trgm`` GIN
  index on ``search_text`` queried with ``LIKE '%…%'`` (LIKE-escaped; both sides are folded
  already, so LIKE needs no ILIKE).
* No trigram index serves a query of one or two characters, yet two-character Chinese names
  (王明) are common. Those queries match *names* through ``contact_search_keys``: one row per
  (contact, key), indexed on the key, whose keys are the folded words of the name columns and the
  organisation — and for words in scripts written without spaces (Chinese, Japanese, Korean)
  every suffix of the word. A prefix match on the keys (an index range, never a scan) then finds
  a word starting with the query ("li" → "Li Wei", "Wei Li") and any run of CJK characters inside
  a name ("王明" and "明华" → 王明华). Chosen over a bigram table of all text: names are what short
  queries are typed for, the table stays small (a few keys per contact), and it works the same on
  both databases. Short queries therefore do not search lead summaries, fields or e-mail
  addresses (two letters of free text match nearly everything anyway).
* A lead matches by its own text, its contact's text (names, organisation, e-mail) or ``#123``,
  its number. Callers still apply the scope (``liaison.scope.scoped``) to the same query.

Other lists (stations, accounts) are small and keep ``contains``, an unindexed ``ILIKE``.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import (ColumnElement, Integer, Select, column, event, false, inspect, literal, or_, select, table, text,
                        union_all)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

# Letters NFKD does not decompose but readers treat as their base letter.
_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i", "ŧ": "t",
                          "æ": "ae", "œ": "oe", "þ": "th"})
_SPACES = re.compile(r"\s+")
_ASCII_CONTROLS = {c: None for c in [*range(0x20), 0x7f] if chr(c) not in " \t\n\r\x0b\x0c"}
# Scripts written without spaces between words: every suffix of such a word is a search key.
_UNSPACED = re.compile("[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                       "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]")
_WORDS = re.compile(r"\w+")

MIN_TRIGRAM = 3  # folded characters; shorter queries take the name-key path
MAX_QUERY = 200  # folded characters kept from a query
KEY_LENGTH = 100

FTS_TABLES = ("leads_fts", "contacts_fts")  # SQLite: FTS5 over leads/contacts.search_text
TRIGRAM_INDEXES = ("ix_leads_search_trgm", "ix_contacts_search_trgm")  # PostgreSQL, GIN


# --- pure functions (the benchmark's bulk inserts call these too) --------------------------------

def fold(text: str | None) -> str:
    """Text as the search indexes store it: compatibility-decomposed (full-width → normal),
    without combining marks, case-folded, whitespace collapsed. "Nguyễn  Văn" → "nguyen van"."""
    if not text:
        return ""
    if text.isascii():  # the common case, ten times faster
        return _SPACES.sub(" ", text.lower().translate(_ASCII_CONTROLS)).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed
                   if not unicodedata.combining(c) and (c.isspace() or unicodedata.category(c) not in ("Cc", "Cf")))
    # NFC recomposes what NFKD split but did not mark (Hangul syllables).
    folded = unicodedata.normalize("NFC", kept.casefold().translate(_LETTERS))
    return _SPACES.sub(" ", folded).strip()


def _join(*parts: str | None) -> str:
    return "\n".join(f for f in (fold(p) for p in parts) if f)


def lead_search_text(summary: str | None, field: str | None) -> str:
    """``TalentLead.search_text``: the lead's own searchable text."""
    return _join(summary, field)


def contact_search_text(name: str | None, name_zh: str | None, name_original: str | None,
                        organisation: str | None, email: str | None) -> str:
    """``Contact.search_text``: the names in every script, the organisation and the e-mail."""
    return _join(name, name_zh, name_original, organisation, email)


def contact_search_keys(name: str | None, name_zh: str | None, name_original: str | None,
                        organisation: str | None) -> list[str]:
    """Rows of ``contact_search_keys`` for one contact (the short-query path): each folded word,
    and every suffix of a word in a script written without spaces."""
    keys: dict[str, None] = {}
    for part in (name, name_zh, name_original, organisation):
        for word in _WORDS.findall(fold(part)):
            word = word[:KEY_LENGTH]
            keys[word] = None
            if _UNSPACED.search(word):
                for start in range(1, len(word)):
                    keys[word[start:]] = None
    for part in (name, name_zh, name_original):
        for key in pinyin_keys(part):
            keys[key] = None
    return list(keys)


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


def pinyin_keys(name: str | None) -> list[str]:
    """Keys for typing a name in Latin letters without spaces (the global search, ``liaison.find``):
    a Chinese name's pinyin joined and its initials (王小明 → "wangxiaoming", "xiaoming", "wxm"),
    and a name of several words joined ("Wang Xiao Ming" → "wangxiaoming", "wxm")."""
    folded = fold(name)
    if not folded:
        return []
    if _HAN.search(folded):
        from pypinyin import lazy_pinyin

        syllables = [w for s in lazy_pinyin(folded) for w in _WORDS.findall(fold(s.replace("v", "u")))]
    else:
        syllables = _WORDS.findall(folded)
    syllables = [s for s in syllables if s.isascii()]
    if len(syllables) < 2:
        return []
    keys = ["".join(syllables[start:])[:KEY_LENGTH] for start in range(len(syllables) - 1)]
    keys.append("".join(s[0] for s in syllables))
    return keys


def fts_phrase(folded: str) -> str:
    """An FTS5 query matching ``folded`` literally: one double-quoted phrase."""
    return '"' + folded.replace('"', '""') + '"'


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _folded_query(q: str | None) -> str:
    return fold(q)[:MAX_QUERY].strip()


# --- query conditions ----------------------------------------------------------------------------

def _dialect() -> str:
    from .models import db

    return db.session.get_bind().dialect.name


def _trigram_ids(model: Any, fts_name: str, folded: str) -> Select:
    """Ids of ``model`` rows whose ``search_text`` contains ``folded`` (three characters or more)."""
    if _dialect() == "sqlite":
        fts = table(fts_name, column("rowid"), column("search_text"))
        return select(fts.c.rowid).where(fts.c.search_text.op("MATCH")(fts_phrase(folded)))
    return select(model.id).where(model.search_text.like(f"%{escape_like(folded)}%", escape="\\"))


def contact_ids_matching(q: str | None) -> Select | None:
    """A select of the ids of contacts matching ``q``; ``None`` when ``q`` has nothing to find."""
    from .models import Contact
    from .models.contact import contact_search_keys as keys

    folded = _folded_query(q)
    if not folded:
        return None
    if len(folded) >= MIN_TRIGRAM:
        return _trigram_ids(Contact, "contacts_fts", folded)
    if _dialect() == "sqlite":
        # A range on the key: SQLite's LIKE is case-insensitive and so cannot use the index.
        condition = keys.c.key.between(folded, folded + "\U0010ffff")
    else:
        condition = keys.c.key.like(escape_like(folded) + "%", escape="\\")  # text_pattern_ops
    return select(keys.c.contact_id).where(condition)


def contact_condition(q: str | None) -> ColumnElement:
    """Contacts whose names (any script), organisation or e-mail contain ``q``."""
    from .models import Contact

    ids = contact_ids_matching(q)
    return false() if ids is None else Contact.id.in_(ids)


def lead_condition(q: str | None, *, narrowed: bool = False) -> ColumnElement:
    """Leads whose summary or field, or whose contact, matches ``q`` — or lead number ``#q``.

    ``narrowed``: the caller's other conditions (a station, region or status) are served by an
    index. SQLite then walks that index and probes the set of matching ids, rather than fetching
    every matching lead by primary key and discarding most: a word found in 20,000 of 100,000
    leads combined with one region and one status reads the few thousand index entries of that
    region and status instead (2× faster). Without it, the matches drive (the search alone)."""
    from .models import TalentLead
    from .params import parse_id

    folded = _folded_query(q)
    conditions = []
    lead_id_column: ColumnElement = TalentLead.id
    if narrowed and _dialect() == "sqlite":
        # SQLite's unary "+": the term no longer constrains an index, the planner drives from the
        # caller's filters. (PostgreSQL's planner weighs a hashed semi-join itself.)
        lead_id_column = UnaryExpression(TalentLead.id, operator=custom_op("+"), type_=Integer)
    if folded and narrowed and _dialect() != "sqlite":
        # PostgreSQL: the same matches as tests on the lead's own row, so that the planner walks
        # the filter's index and checks each row there (a hashed subplan for the contacts) —
        # the IN over the ids would fetch every matching lead by key first (0.5 s for a word in
        # 20 % of 100,000 leads, against 30 ms).
        terms = [TalentLead.contact_id.in_(contact_ids_matching(folded))]
        if len(folded) >= MIN_TRIGRAM:
            terms.insert(0, TalentLead.search_text.like(f"%{escape_like(folded)}%", escape="\\"))
        conditions.append(or_(*terms))
    elif folded:
        by_contact = select(TalentLead.id).where(TalentLead.contact_id.in_(contact_ids_matching(folded)))
        if len(folded) >= MIN_TRIGRAM:
            # One IN over a UNION ALL: each branch is served by an index (the FTS/trigram index,
            # the contact index); IN dedupes by itself, so no sort merges the branches.
            conditions.append(lead_id_column.in_(union_all(_trigram_ids(TalentLead, "leads_fts", folded),
                                                           by_contact)))
        else:
            conditions.append(lead_id_column.in_(by_contact))
    lead_id = parse_id((q or "").strip().lstrip("#"))
    if lead_id:
        conditions.append(TalentLead.id == lead_id)
    return or_(*conditions) if conditions else false()


def contains(text: str, *columns) -> ColumnElement:
    """Any of ``columns`` contains ``text`` (unindexed; for the small lists)."""
    pattern = f"%{escape_like(text)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def has_item(column, item: str) -> ColumnElement:
    """``column`` holds a ", "-separated list (as contacts' tags are stored) with ``item`` in it."""
    return (literal(", ") + column + literal(",")).ilike(f"%, {escape_like(item.strip())},%", escape="\\")


# --- keeping the search columns in sync (ORM events) ---------------------------------------------

def keep_search_text(model, compute) -> None:
    """Set ``model.search_text = compute(record)`` whenever a record is inserted or updated."""

    def _update(_mapper, _connection, target) -> None:
        target.search_text = compute(target)

    event.listen(model, "before_insert", _update)
    event.listen(model, "before_update", _update)


_KEY_FIELDS = ("name", "name_zh", "name_original", "organisation")


def keep_contact_search_keys(model, keys_table) -> None:
    """Rewrite a contact's rows of ``keys_table`` when it is inserted or its names change."""

    def _rows(target) -> list[dict]:
        keys = contact_search_keys(*(getattr(target, f) for f in _KEY_FIELDS))
        return [{"contact_id": target.id, "key": key} for key in keys]

    def _inserted(_mapper, connection, target) -> None:
        rows = _rows(target)
        if rows:
            connection.execute(keys_table.insert(), rows)

    def _updated(_mapper, connection, target) -> None:
        state = inspect(target)
        if not any(state.attrs[f].history.has_changes() for f in _KEY_FIELDS):
            return
        connection.execute(keys_table.delete().where(keys_table.c.contact_id == target.id))
        _inserted(_mapper, connection, target)

    def _deleted(_mapper, connection, target) -> None:
        connection.execute(keys_table.delete().where(keys_table.c.contact_id == target.id))

    event.listen(model, "after_insert", _inserted)
    event.listen(model, "after_update", _updated)
    event.listen(model, "before_delete", _deleted)


# --- schema: SQLite FTS5 tables and triggers, PostgreSQL trigram indexes -------------------------

def _sqlite_triggers(base: str) -> dict[str, str]:
    fts = f"{base}_fts"
    delete = (f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);")
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    return {
        f"{fts}_ai": f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {base} BEGIN {insert} END",
        f"{fts}_ad": f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {base} BEGIN {delete} END",
        f"{fts}_au": f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {base} BEGIN {delete} {insert} END",
    }


def repair_sqlite_search(connection) -> None:
    """Recreate triggers a batch migration dropped with its table copy, and reindex that table.

    Alembic's SQLite batch mode rebuilds a table by copy, drop and rename, which drops the
    table's triggers; ``migrations/env.py`` calls this after every upgrade."""
    existing = {row[0] for row in connection.execute(text(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"))}
    for base in ("leads", "contacts"):
        if f"{base}_fts" not in existing or base not in existing:
            continue
        missing = [ddl for name, ddl in _sqlite_triggers(base).items() if name not in existing]
        for ddl in missing:
            connection.execute(text(ddl))
        if missing:
            connection.execute(text(f"INSERT INTO {base}_fts({base}_fts) VALUES ('rebuild')"))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the search structures made outside the models are no schema drift."""
    if type_ == "table" and name and any(name == t or name.startswith(t + "_") for t in FTS_TABLES):
        return False
    if type_ == "index" and name in TRIGRAM_INDEXES:
        return False
    return True
