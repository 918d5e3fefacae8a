"""indexes for every list sort and filter, indexed free-text search

Leads and contacts get ``search_text`` (their searchable fields folded: see liaison.search),
searched through an FTS5 trigram table kept by triggers on SQLite and a pg_trgm GIN index on
PostgreSQL; ``contact_search_keys`` serves queries of one or two characters. The list sorts get
indexes ending in ``id`` (the tie-breaker), with NULLs first on PostgreSQL so that a backward
scan gives ``submitted_at DESC NULLS LAST``.

Revision ID: 0003_speed
Revises: 0002_sort_keys
Create Date: 2026-11-26 20:40:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_speed'
down_revision = '0002_sort_keys'
branch_labels = None
depends_on = None


# A copy of liaison.search's folding as it was when this revision was written.
_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i", "ŧ": "t",
                          "æ": "ae", "œ": "oe", "þ": "th"})
_UNSPACED = re.compile("[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                       "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]")


def _fold(text):
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed
                   if not unicodedata.combining(c) and (c.isspace() or unicodedata.category(c) not in ("Cc", "Cf")))
    folded = unicodedata.normalize("NFC", kept.casefold().translate(_LETTERS))
    return re.sub(r"\s+", " ", folded).strip()


def _search_text(*parts):
    return "\n".join(f for f in (_fold(p) for p in parts) if f)


def _keys(*parts):
    keys = {}
    for part in parts:
        for word in re.findall(r"\w+", _fold(part)):
            word = word[:100]
            keys[word] = None
            if _UNSPACED.search(word):
                for start in range(1, len(word)):
                    keys[word[start:]] = None
    return list(keys)


LEAD_FIELDS = ("summary", "field")
CONTACT_FIELDS = ("name", "name_zh", "name_original", "organisation", "email")
NULLS_FIRST = True  # submitted_at NULLS FIRST: PostgreSQL only; SQLite sorts NULLs first anyway
NEW_LEAD_INDEXES = (
    ("ix_leads_submitted", ["submitted_at", "id"], NULLS_FIRST),
    ("ix_leads_updated", ["updated_at", "id"], False),
    ("ix_leads_status_submitted", ["status", "submitted_at", "id"], NULLS_FIRST),
    ("ix_leads_station_submitted", ["station_id", "submitted_at", "id"], NULLS_FIRST),
    ("ix_leads_station_updated", ["station_id", "updated_at", "id"], {}),
    ("ix_leads_priority_submitted", ["priority", "submitted_at", "id"], NULLS_FIRST),
    # covers the HQ report's GROUP BY queries
    ("ix_leads_report", ["status", "station_id", "category", "submitted_at", "landing_kind", "landed_on"], False),
)
NEW_CONTACT_INDEXES = (
    ("ix_contacts_name", ["name", "id"]),
    ("ix_contacts_station_sort_key", ["station_id", "sort_key", "id"]),
)


def _add_search_text(table_name, fields):
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=""))
    table = sa.table(table_name, sa.column("id"), sa.column("search_text"), *(sa.column(f) for f in fields))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, *(table.c[f] for f in fields))).all()
    updates = [{"_id": row[0], "_text": _search_text(*row[1:])} for row in rows]
    for start in range(0, len(updates), 5000):
        connection.execute(table.update().where(table.c.id == sa.bindparam("_id"))
                           .values(search_text=sa.bindparam("_text")), updates[start:start + 5000])
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.alter_column('search_text', existing_type=sa.Text(), server_default=None)


def _sqlite_triggers(base):
    fts = f"{base}_fts"
    delete = f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    return {
        f"{fts}_ai": f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {base} BEGIN {insert} END",
        f"{fts}_ad": f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {base} BEGIN {delete} END",
        f"{fts}_au": f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {base} BEGIN {delete} {insert} END",
    }


def upgrade():
    dialect = op.get_bind().dialect.name
    _add_search_text("leads", LEAD_FIELDS)
    _add_search_text("contacts", CONTACT_FIELDS)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_submitted_at')
        batch_op.drop_index('ix_leads_status_submitted')
        batch_op.drop_index('ix_leads_priority_submitted')
    for name, columns, nulls_first in NEW_LEAD_INDEXES:
        if nulls_first and dialect == "postgresql":
            columns = [sa.text("submitted_at NULLS FIRST") if c == "submitted_at" else c for c in columns]
        op.create_index(name, 'leads', columns, unique=False)
    for name, columns in NEW_CONTACT_INDEXES:
        op.create_index(name, 'contacts', columns, unique=False)

    op.create_table(
        'contact_search_keys',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_search_keys_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('contact_id', 'key', name=op.f('pk_contact_search_keys')),
    )
    op.create_index('ix_contact_search_keys_key', 'contact_search_keys', ['key', 'contact_id'], unique=False,
                    postgresql_ops={"key": "text_pattern_ops"})
    connection = op.get_bind()
    contacts = sa.table("contacts", *(sa.column(c) for c in ("id", "name", "name_zh", "name_original", "organisation")))
    keys = sa.table("contact_search_keys", sa.column("contact_id"), sa.column("key"))
    rows = [{"contact_id": row[0], "key": key}
            for row in connection.execute(sa.select(*contacts.c)).all() for key in _keys(*row[1:])]
    for start in range(0, len(rows), 5000):
        connection.execute(keys.insert(), rows[start:start + 5000])

    if dialect == "sqlite":
        for base in ("leads", "contacts"):
            op.execute(f"CREATE VIRTUAL TABLE {base}_fts USING fts5(search_text, content='{base}', "
                       f"content_rowid='id', tokenize='trigram case_sensitive 1')")
            for ddl in _sqlite_triggers(base).values():
                op.execute(ddl)
            op.execute(f"INSERT INTO {base}_fts({base}_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for base in ("leads", "contacts"):
            op.execute(f"CREATE INDEX ix_{base}_search_trgm ON {base} USING gin (search_text gin_trgm_ops)")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for base in ("leads", "contacts"):
            for name in _sqlite_triggers(base):
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"DROP TABLE IF EXISTS {base}_fts")
    elif dialect == "postgresql":
        for base in ("leads", "contacts"):
            op.execute(f"DROP INDEX IF EXISTS ix_{base}_search_trgm")

    op.drop_index('ix_contact_search_keys_key', table_name='contact_search_keys')
    op.drop_table('contact_search_keys')
    for name, _columns in NEW_CONTACT_INDEXES:
        op.drop_index(name, table_name='contacts')
    for name, _columns, _ops in NEW_LEAD_INDEXES:
        op.drop_index(name, table_name='leads')
    op.create_index('ix_leads_submitted_at', 'leads', ['submitted_at'], unique=False)
    op.create_index('ix_leads_status_submitted', 'leads', ['status', 'submitted_at'], unique=False)
    op.create_index('ix_leads_priority_submitted', 'leads', ['priority', 'submitted_at'], unique=False)
    for table_name in ("contacts", "leads"):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column('search_text')
